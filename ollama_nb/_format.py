"""Human units shared by every view: sizes, durations, speeds, the stats line, relative times.

Pure functions of numbers and replies; no I/O. The magic, the widgets' static transcripts and the
Reply's own Markdown all use these, so a number reads the same everywhere.
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any

from ._suggest import is_ollama_name
from ._terminal import escape_char
from ._types import parse_time

if TYPE_CHECKING:
    from ._reply import Reply


def size(n: float | None) -> str:
    """Bytes in decimal units, as Ollama's CLI shows them: ``4.7 GB``."""
    if n is None:
        return "–"
    n = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" or n >= 100 else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


def model_size(model: dict[str, Any]) -> str:
    """A listed model's size; ``cloud`` for one the server forwards to Ollama Cloud, whose few
    bytes are a manifest, not weights (Ollama's own ``ollama list`` shows no size for it)."""
    return "cloud" if model.get("remote_host") else size(model.get("size"))


def duration(seconds: float | None) -> str:
    """``850 ms``, ``1.2 s``, ``2 min 5 s``, ``1 h 3 min``."""
    if seconds is None:
        return "–"
    if seconds < 0:
        return "forever"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, sec = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {sec} s" if sec else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def ns(value: float | None) -> float | None:
    """Ollama's nanosecond counters -> seconds."""
    return None if value is None else value / 1e9


def rate(tokens_per_second: float | None) -> str:
    return "–" if not tokens_per_second else f"{tokens_per_second:.1f} tok/s"


def speed(bytes_per_second: float | None) -> str:
    return "–" if not bytes_per_second else f"{size(bytes_per_second)}/s"


def stats_line(reply: Reply) -> str:
    """``llama3.2 · 128 tokens · 42.1 tok/s · load 1.2 s · prompt 0.3 s · generate 3.0 s``.

    A reply that did not finish has no server counters: say what we know (~tokens, time) instead.
    """
    return stats_text(reply.model, reply.stats(), "done" if reply.done else reply.status, reply.done_reason)


def context_text(used: int, window: int) -> str:
    """``context 3.4k/4.1k``: the context meter in a stats line."""
    return f"context {_thousands(used)}/{_thousands(window)}"


def _thousands(n: int) -> str:
    return f"{n / 1000:.1f}k" if n >= 1000 else str(n)


def stats_text(
    model: str | None, stats: dict[str, Any], status: str, done_reason: str | None = None, *, show_status: bool = True
) -> str:
    """The stats line from saved stats (``Reply.stats()``, or a conversation turn's ``stats``)."""
    parts = [model] if model else []
    if status == "done":
        if stats.get("eval_count") is not None:
            parts.append(f"{stats['eval_count']} tokens")
        if stats.get("tokens_per_second"):
            parts.append(rate(stats["tokens_per_second"]))
        for key, label in (
            ("load_duration", "load"),
            ("prompt_eval_duration", "prompt"),
            ("eval_duration", "generate"),
        ):
            if stats.get(key) is not None:
                parts.append(f"{label} {duration(ns(stats[key]))}")
        if done_reason == "length":
            parts.append("cut at the token limit")
        if stats.get("from_log"):
            parts.append(f"from the log ({stats['from_log']})")
        context = stats.get("context")
        if isinstance(context, dict) and all(isinstance(context.get(k), int) for k in ("used", "window")):
            parts.append(context_text(context["used"], context["window"]))
    else:
        if stats.get("chunks"):  # Ollama streams about a token a chunk; "chunks" is the wire's word
            parts.append(f"~{stats['chunks']} tokens")
        if stats.get("elapsed") is not None:
            parts.append(duration(stats["elapsed"]))
        if show_status:
            parts.append(status)
    return " · ".join(parts)


def ago(stamp: str | None, now: _dt.datetime | None = None) -> str:
    """``3 days ago`` from an RFC 3339 time."""
    when = parse_time(stamp)
    if when is None:
        return "–"
    now = now or _dt.datetime.now(_dt.timezone.utc)
    secs = (now - when).total_seconds()
    if secs < 60:
        return "just now"
    for unit, length in (
        ("year", 31536000),
        ("month", 2592000),
        ("week", 604800),
        ("day", 86400),
        ("hour", 3600),
        ("minute", 60),
    ):
        if secs >= length:
            n = int(secs // length)
            return f"{n} {unit}{'s' if n > 1 else ''} ago"
    return "just now"


def expires_in(stamp: str | None, now: _dt.datetime | None = None) -> str:
    """``in 4 min`` / ``forever`` from ``expires_at`` (a far-future time means "keep loaded")."""
    when = parse_time(stamp)
    if when is None:
        return "–"
    now = now or _dt.datetime.now(_dt.timezone.utc)
    secs = (when - now).total_seconds()
    if secs > 10 * 365 * 86400:
        return "forever"
    if secs <= 0:
        return "now"
    return f"in {duration(secs)}"


# Model names come from the server and are untrusted: " llama3.2 " and "llama3.2" are two models,
# and HTML (and a <select>'s options) would show both the same. The views show such a name quoted,
# on one line, with a visible mark for every character that prints as nothing; js/names.js does the
# same for the widgets (tests/browser/test_models_view.py holds the two equal). The exact name is
# what every action sends.
VISIBLE_SPACE = "\u2423"  # ␣ OPEN BOX, the usual sign for a space
_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r", '"': '\\"', "\\": "\\\\", " ": VISIBLE_SPACE}


def model_name(name: str) -> str:
    """``name`` as the views show it: unchanged when it reads unambiguously, else quoted.

    Quoted are names that are empty, start or end with a space, hold a run of spaces, start with
    ``"``, or hold a character that prints as nothing (tab, new line, control, zero-width or bidi
    mark, any space but U+0020: ``str.isprintable``). In the quoted form a space is ``␣``; ``\\t``,
    ``\\n``, ``\\r``, ``\\"`` and ``\\\\`` are escaped, and so, as ``\\xHH``, ``\\uHHHH`` or
    ``\\UHHHHHHHH``, is every other character that prints as nothing (and ``␣`` itself).

    >>> model_name("llama3.2:latest"), model_name(" llama3.2 "), model_name("llama3.2\\t")
    ('llama3.2:latest', '"␣llama3.2␣"', '"llama3.2\\\\t"')
    """
    if name and name.isprintable() and not (name[0] in ' "' or name[-1] == " " or "  " in name):
        return name
    return '"' + "".join(_escape(ch) for ch in name) + '"'


#: What IPython reads back as the literal character in a magic's line (it expands {expr} and $x).
_IPYTHON_LITERAL = str.maketrans({"{": "{{", "}": "}}", "$": "$$"})
NOT_OLLAMA = "not an Ollama name"


def listed_name(name: str) -> str:
    """``name`` as the model lists show it: :func:`model_name`, and for a name Ollama's grammar
    forbids (``{...}``, ``$x``, spaces...) a warning, with ``{``, ``}`` and ``$`` doubled, so a
    copy pasted into ``%ollama`` or ``%%ollama -m`` is read as those characters, never run.

    >>> listed_name("llama3.2"), listed_name("x{__import__('os')}")
    ('llama3.2', "x{{__import__('os')}} (not an Ollama name)")
    """
    if is_ollama_name(name):
        return model_name(name)
    return f"{model_name(name).translate(_IPYTHON_LITERAL)} ({NOT_OLLAMA})"


def _escape(ch: str) -> str:
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    if ch.isprintable() and ch != VISIBLE_SPACE:
        return ch
    # The terminal's escapes, so a name reads the same in a table and in the terminal's echo.
    return escape_char(ch)
