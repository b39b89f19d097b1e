"""``%ollama log``: the log of every turn, read from a notebook.

Usage::

    %ollama log pandas -m llama3.2 --since 2d -n 20    # matching turns, newest first
    %ollama log show 3f2a9c                           # one turn whole: what was sent, what came back
    %ollama log --stats                               # the file, its size, rows and oldest turn
    %ollama log --prune --before 90d                  # delete turns older than 90 days

Everything shown is model or user text, so it goes through the render layer (tables of escaped
cells, answers through the Markdown sanitizer); the plain copies have control characters shown.
"""

from __future__ import annotations

import argparse
import sqlite3
from typing import Any, NoReturn

from IPython.core.error import UsageError

from .. import _format as fmt_
from .. import _store as store_log
from .._render import answer as render_answer
from .._render import chrome
from .._store.query import Entry, age_seconds
from ._shared import display_html

__all__ = ["cmd_log"]

USAGE = "%ollama log [WORDS] [-m MODEL] [--since 2d] [-n 20] | log show ID | log --stats | log --prune --before 90d"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"%ollama log: {message}. Usage: {USAGE}")


parser = _Parser(prog="%ollama log", add_help=False, allow_abbrev=False)
parser.add_argument("words", nargs="*")
parser.add_argument("-m", "--model")
parser.add_argument("--since", metavar="AGE")
parser.add_argument("-n", type=int, default=20)
parser.add_argument("--stats", action="store_true")
parser.add_argument("--prune", action="store_true")
parser.add_argument("--before", metavar="AGE")


def _shown(text: str, limit: int = 70) -> str:
    """One line of at most ``limit`` characters; characters that print as nothing are escaped."""
    text = " ".join(text.split())
    text = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _age(text: str | None, flag: str) -> float | None:
    try:
        return age_seconds(text) if text is not None else None
    except ValueError as exc:
        raise UsageError(f"%ollama log {flag}: {exc}") from None


def cmd_log(args: list[str]) -> None:
    if args[:1] == ["show"]:
        if len(args) != 2 or not args[1].strip():
            raise UsageError("Usage: %ollama log show ID  (the id is in %ollama log's first column)")
        return _show(args[1])
    opts = parser.parse_args(args)
    path = store_log.path()
    if path is None:
        return _say("The log is off (store=off). Turn it on with `%ollama config store=` (the default file).")
    try:
        if opts.stats:
            return _stats()
        if opts.prune:
            return _prune(opts)
        since = _age(opts.since, "--since")
        entries = store_log.search(" ".join(opts.words), model=opts.model, since=since, limit=opts.n)
    except sqlite3.Error as exc:
        return _say(f"The log at `{path}` cannot be read ({exc}).")
    if not entries:
        return _say("No logged turn matches." if opts.words or opts.model or opts.since else "The log is empty.")
    rows = [_row(e) for e in entries]
    cols = ["id", "when", "model", "source", "status", "prompt", "answer"]
    head = f"{len(rows)} turn{'s' * (len(rows) != 1)}, newest first · `%ollama log show ID` shows one whole"
    plain = head.replace("`", "") + "\n" + _plain(rows, cols, squeeze=("prompt", "answer"))
    display_html(plain, chrome.paragraph(head), chrome.table(rows, cols, code_columns=["id"]))


def _row(e: Entry) -> dict[str, Any]:
    return {
        "id": e.id,
        "when": e.started.strftime("%Y-%m-%d %H:%M"),
        "model": fmt_.model_name(e.model or ""),
        "source": e.source,
        "status": e.status,
        "prompt": _shown(e.prompt),
        "answer": _shown(e.content or e.error or ""),
    }


def _plain(rows: list[dict[str, Any]], cols: list[str], *, squeeze: tuple[str, ...] = ()) -> str:
    from .line import _plain_table  # the line magic's tables, one look for every subcommand

    return _plain_table(rows, cols, squeeze=squeeze)


def _say(sentence: str) -> None:
    display_html(sentence.replace("`", ""), chrome.paragraph(sentence))


def _show(ident: str) -> None:
    try:
        entry = store_log.show(ident)
    except LookupError as exc:
        raise UsageError(f"%ollama log show: {exc}") from None
    if entry is None:
        return _say(f"No logged turn has the id `{_shown(ident, 40)}`. `%ollama log` lists them.")
    stats = fmt_.stats_text(entry.model, entry.stats, entry.status, entry.stats.get("done_reason"))
    head = f"{entry.id} · {entry.started:%Y-%m-%d %H:%M:%S} · {entry.source} · {entry.status}"
    where = " · ".join(x for x in (entry.notebook, entry.conversation and f"conversation {entry.conversation}") if x)
    answer = {"role": "assistant", "content": entry.content, "model": entry.model, "status": entry.status}
    messages = [*entry.request.get("messages", []), answer]
    html = render_answer.transcript(messages, entry.model or "")
    plain_lines = [head, where, "", render_answer.transcript_plain(messages, entry.model or ""), "", stats]
    pieces = [chrome.title(head), chrome.paragraph(where) if where else "", html, chrome.footer(stats)]
    if entry.error:
        pieces.append(chrome.error_box(entry.error))
        plain_lines.append(entry.error)
    display_html("\n".join(_shown(line, 10_000) if i < 2 else line for i, line in enumerate(plain_lines)), *pieces)


def _stats() -> None:
    info = store_log.stats()
    rows = [
        {"setting": "file", "value": info.get("path", "")},
        {"setting": "size", "value": fmt_.size(info.get("bytes", 0))},
        {"setting": "turns", "value": ", ".join(f"{n} {s}" for s, n in info.get("by_status", {}).items()) or "none"},
        {"setting": "images", "value": info.get("images", 0)},
        {"setting": "oldest", "value": f"{info['oldest']:%Y-%m-%d %H:%M}" if info.get("oldest") else "–"},
        {"setting": "search", "value": info.get("search", "")},
    ]
    cols = ["setting", "value"]
    display_html(_plain(rows, cols), chrome.table(rows, cols))


def _prune(opts: argparse.Namespace) -> None:
    before = _age(opts.before, "--before")
    if before is None:
        raise UsageError("%ollama log --prune needs --before AGE (such as --before 90d): nothing was deleted.")
    turns, images = store_log.prune(before)
    _say(f"Deleted {turns} turn{'s' * (turns != 1)} older than {opts.before} and {images} image{'s' * (images != 1)}.")
