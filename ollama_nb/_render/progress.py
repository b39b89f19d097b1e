"""A batch run's progress as one display output (HTML from escaped values) and as one plain line.

The view (``ollama_nb._map.progress``) hands plain values in a :class:`Board`; this module is the
only place they become HTML. Server text (the last error, host names) is escaped here, and in the
plain line every character that would act on a terminal (carriage return, escape sequences) is
shown as an escape instead.

Usage::

    board = Board(done=120, total=400, failed=2, running=4, waiting=274, ...)
    display(progress_bundle(board), raw=True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from .chrome import Bundle, bar, code_text, esc, page, table

__all__ = ["Board", "HostLine", "plain_line", "progress_bundle", "visible"]

#: Longest last-error text shown; the whole error is in ``results.errors``.
ERROR_CHARS = 160


@dataclass(frozen=True)
class HostLine:
    host: str
    done: int
    running: int
    level: int
    state: str  # "" when serving, else why not ("down: ...", "paused")


@dataclass(frozen=True)
class Board:
    """What the progress shows, all of it already in words and numbers."""

    done: int
    failed: int
    running: int
    waiting: int | None  # None while the number of rows is unknown (a generator)
    total: int | None
    cached: int
    rows_per_s: str
    tokens_per_s: str
    elapsed: str
    eta: str
    last_error: str = ""
    state: str = "running"  # then "done", "interrupted", or why the run stopped
    hosts: Sequence[HostLine] = field(default_factory=tuple)
    hosts_from: str = ""  # "config file PATH" when the servers came from there, else ""


def visible(text: str) -> str:
    """``text`` on one line with every character that prints as nothing shown as an escape."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def _short(text: str) -> str:
    text = visible(text)
    return text if len(text) <= ERROR_CHARS else text[: ERROR_CHARS - 1] + "…"


def _label(state: str) -> str:
    """The word a finished run leads with: "finished", "interrupted", or why it stopped."""
    return "finished" if state == "done" else visible(state)


def _counts(b: Board) -> str:
    of = f" of {b.total}" if b.total is not None else ""
    parts = [f"{b.done}{of} done"]
    if b.cached:
        parts.append(f"{b.cached} from the log")
    parts.append(f"{b.failed} failed")
    if b.state == "running":
        parts.append(f"{b.running} running")
        if b.waiting is not None:
            parts.append(f"{b.waiting} waiting")
    return " · ".join(parts)


def _speed(b: Board) -> str:
    eta = f" · ETA {b.eta}" if b.state == "running" and b.eta else ""
    # Rates once a server has answered a row: before that (or with every row from the log) they
    # read "0.0 rows/s · –", which looks like a stalled server.
    rates = f"{b.rows_per_s} · {b.tokens_per_s} · " if b.done > b.cached else ""
    return f"{rates}{b.elapsed}{eta}"


def _servers(b: Board) -> str:
    """Which servers, when they came from a config file rather than the call: said on every frame."""
    if not b.hosts_from:
        return ""
    return f"on {', '.join(visible(h.host) for h in b.hosts)} ({visible(b.hosts_from)})"


def plain_line(b: Board) -> str:
    """One line for a terminal (rewritten in place) and for ``text/plain``."""
    state = "" if b.state == "running" else f"{_label(b.state)}: "
    error = f" · last error: {_short(b.last_error)}" if b.last_error else ""
    servers = f" · {_servers(b)}" if b.hosts_from else ""
    return f"{state}{_counts(b)} · {_speed(b)}{servers}{error}"


def progress_bundle(b: Board) -> Bundle:
    """The display bundle: a bar, the counts, speed and time, the last error, hosts when several."""
    fraction = (b.done + b.failed) / b.total if b.total else None
    head = f"<strong>{esc(_label(b.state))}</strong> " if b.state != "running" else ""
    pieces = [
        f'<div class="onb-map" role="status">{head}{bar(fraction)} {esc(_counts(b))}</div>',
        f'<div class="onb-footer">{esc(_speed(b))}</div>',
    ]
    if b.hosts_from:
        pieces.append(f'<div class="onb-footer">{esc(_servers(b))}</div>')
    if b.last_error:
        pieces.append(f'<div class="onb-footer">last error: <code>{code_text(_short(b.last_error))[0]}</code></div>')
    if len(b.hosts) > 1:
        rows = [
            {"host": h.host, "done": h.done, "running": h.running, "level": h.level, "state": h.state or "ok"}
            for h in b.hosts
        ]
        pieces.append(table(rows, ("host", "done", "running", "level", "state"), code_columns=("host",)))
    return {"text/html": page(*pieces), "text/plain": plain_line(b)}
