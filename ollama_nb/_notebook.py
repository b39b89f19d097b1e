"""The notebook as context: the cells run so far, the last error, and how they read in a prompt.

IPython's ``pre_run_cell`` / ``post_run_cell`` hooks hand every cell to :data:`log` (see
:func:`ollama_nb._magic.register`). What it keeps is text a model can read: the cell's source, what
it printed, its result as plain text, and, when it raised, the traceback as plain text with
IPython's and our own frames left out and long lines trimmed. Images and other rich outputs are
never kept. What a cell prints is read through ipykernel's ``OutStream.echo`` (the stream a kernel
copies each write to), chained to whatever echo was there; in terminal IPython, which has no such
stream, ``sys.stdout`` / ``sys.stderr`` are wrapped while a cell runs and given back after it.

Usage::

    from ollama_nb._notebook import log
    record = log.last_error()          # the last cell that raised, or None
    print(record.as_prompt())          # its source and traceback, fenced for a model
"""

from __future__ import annotations

import collections
import contextlib
import os
import re
import sys
import threading
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._summary import summarise

__all__ = ["CellRecord", "ErrorFields", "NotebookLog", "fence", "log", "trim_lines", "trim_text"]

#: Cells remembered (for ``--context N`` and ``{Err[n]}``); older ones are forgotten.
KEEP = 100
#: One line of a traceback or output longer than this is cut (a 30 kB repr in a KeyError).
LINE_LIMIT = 400
#: A cell's source, output or traceback longer than this keeps its start and end.
TEXT_LIMIT = 4000

# ANSI colour codes from a library's own error text: a model should not read them.
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
# Frames of the machinery that ran the cell: IPython, ipykernel, and this package.
_MACHINERY = (os.sep + "IPython" + os.sep, os.sep + "ipykernel" + os.sep, _PACKAGE_DIR + os.sep)


def trim_text(text: str, limit: int = TEXT_LIMIT) -> str:
    """``text`` with its middle cut out past ``limit`` characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    head, tail = text[: limit * 2 // 3], text[-(limit // 3) :]
    return f"{head}\n… [{len(text) - len(head) - len(tail):,} characters cut] …\n{tail}"


def trim_lines(text: str, limit: int = LINE_LIMIT) -> str:
    """Every line of ``text`` cut at ``limit`` characters, with a visible marker."""
    lines = []
    for line in text.splitlines():
        if len(line) > limit:
            line = f"{line[:limit]}… [{len(line) - limit:,} more characters]"
        lines.append(line)
    return "\n".join(lines)


def fence(text: str, info: str = "") -> str:
    """``text`` in a Markdown code fence longer than any run of backticks inside it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{info}\n{text}\n{ticks}"


def _is_machinery(frame: traceback.FrameSummary) -> bool:
    return any(part in frame.filename for part in _MACHINERY)


def _strip_frames(te: traceback.TracebackException) -> None:
    """Leave out the frames of IPython and of ollama_nb, in ``te`` and the exceptions it chains."""
    seen: set[int] = set()
    todo: list[traceback.TracebackException | None] = [te]
    while todo:
        item = todo.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        item.stack = traceback.StackSummary.from_list([f for f in item.stack if not _is_machinery(f)])
        todo += [item.__cause__, item.__context__]


def traceback_text(exc: BaseException) -> str:
    """The traceback of ``exc`` as plain text: no ANSI codes, no machinery frames, lines trimmed."""
    te = traceback.TracebackException.from_exception(exc)
    _strip_frames(te)
    text = "".join(te.format())
    return trim_text(trim_lines(_ANSI.sub("", text)))


class _Tap:
    """A kernel stream's echo while a cell runs: keeps the first ``limit`` characters printed and
    passes every write on to the echo that was there before."""

    def __init__(self, before: Any, limit: int) -> None:
        self.before, self.limit = before, limit
        self.parts: list[str] = []
        self.size = 0

    def write(self, text: str) -> int:
        if self.size < self.limit:
            self.parts.append(text[: self.limit - self.size])
            self.size += len(self.parts[-1])
        if self.before is not None:
            self.before.write(text)
        return len(text)

    def flush(self) -> None:
        if self.before is not None:
            self.before.flush()


class _TerminalTap(_Tap):
    """Terminal IPython's ``sys.stdout`` / ``sys.stderr`` while a cell runs (it has no kernel stream
    to echo): each write goes on to the stream unchanged, and everything else is the stream's."""

    def __getattr__(self, name: str) -> Any:
        return getattr(self.before, name)


def _streams() -> list[Any]:
    """The kernel's stdout and stderr (ipykernel's OutStream has ``echo``); none in a terminal."""
    return [s for s in (sys.stdout, sys.stderr) if hasattr(s, "echo")]


@dataclass(frozen=True)
class CellRecord:
    """One executed cell as a model may read it."""

    number: int | None
    source: str
    #: The cell's result (IPython's ``Out`` holds it too); made text only when a prompt asks for
    #: it, so a cell ending in a large value costs nothing more than before.
    result: Any = field(default=None, repr=False, compare=False)
    error: str = ""
    printed: str = ""

    @property
    def output(self) -> str:
        printed = trim_text(trim_lines(_ANSI.sub("", self.printed))).rstrip("\n")
        return "\n".join(t for t in (printed, _result_text(self.result)) if t)

    def as_prompt(self, *, with_output: bool = True) -> str:
        """Source, then output or traceback, fenced (their text is never read as Markdown)."""
        name = f"Cell [{self.number}]" if self.number is not None else "Cell"
        parts = [f"{name}:", fence(trim_text(self.source), "python")]
        if self.error:
            if with_output and self.printed.strip():
                parts += ["Printed:", fence(trim_text(trim_lines(_ANSI.sub("", self.printed))))]
            parts += ["It raised:", fence(self.error)]
        elif with_output and (output := self.output):
            parts += ["Output:", fence(output)]
        return "\n".join(parts)


def _is_ours(source: str) -> bool:
    """A cell that talks to the model itself: its question is already in the conversation."""
    return source.lstrip().startswith(("%%ollama", "%ollama"))


def _result_text(value: Any) -> str:
    if value is None:
        return ""
    try:
        text = summarise(value)  # a frame as its summary, a long list cut: as in {braces}
    except Exception as exc:  # a value whose text raises must not break the cell that asks
        text = f"<{type(value).__name__}: its text failed: {type(exc).__name__}>"
    return trim_text(trim_lines(_ANSI.sub("", text)))


class NotebookLog:
    """The last :data:`KEEP` cells that ran, oldest first."""

    def __init__(self, keep: int = KEEP) -> None:
        self._cells: collections.deque[CellRecord] = collections.deque(maxlen=keep)
        self._lock = threading.Lock()
        self._taps: list[tuple[Any, _Tap]] = []

    def start(self, info: Any = None) -> None:
        """``pre_run_cell`` hook: listen to what the cell prints (a kernel's streams through their
        ``echo``; in terminal IPython, ``sys.stdout`` and ``sys.stderr`` themselves)."""
        self._untap()
        streams = _streams()
        for stream in streams:
            tap = _Tap(stream.echo, TEXT_LIMIT * 2)
            stream.echo = tap
            self._taps.append((stream, tap))
        if not streams:
            for name in ("stdout", "stderr"):
                terminal = _TerminalTap(getattr(sys, name), TEXT_LIMIT * 2)
                setattr(sys, name, terminal)
                self._taps.append((name, terminal))

    def _untap(self) -> str:
        """Give each stream its echo (a terminal its own stream) back; returns what the cell printed."""
        printed = []
        for stream, tap in self._taps:
            with contextlib.suppress(Exception):
                (tap if isinstance(stream, str) else stream).flush()  # what is buffered goes through the tap first
            if isinstance(stream, str):
                if getattr(sys, stream) is tap:  # replaced again meanwhile: theirs to give back
                    setattr(sys, stream, tap.before)
            elif stream.echo is tap:
                stream.echo = tap.before
            printed.append("".join(tap.parts))
        self._taps = []
        return "".join(printed)

    def record(self, result: Any) -> None:
        """``post_run_cell`` hook: keep the finished cell (not ``%ollama`` cells, not silent ones).

        Cells run without history (nbval runs every cell so) are kept too, without a number."""
        info = getattr(result, "info", None)
        source = getattr(info, "raw_cell", "") or ""
        printed = self._untap()
        if getattr(info, "silent", False) or not source.strip():
            return
        if _is_ours(source):
            return
        error = getattr(result, "error_in_exec", None) or getattr(result, "error_before_exec", None)
        record = CellRecord(
            number=getattr(result, "execution_count", None),
            source=source.strip("\n"),
            result=None if error else getattr(result, "result", None),
            error=traceback_text(error) if isinstance(error, BaseException) else "",
            printed=printed,
        )
        with self._lock:
            self._cells.append(record)

    def recent(self, count: int) -> list[CellRecord]:
        with self._lock:
            cells = list(self._cells)
        return cells[-count:] if count > 0 else []

    def last_error(self) -> CellRecord | None:
        with self._lock:
            return next((c for c in reversed(self._cells) if c.error), None)

    def error_of(self, number: int) -> CellRecord | None:
        with self._lock:
            return next((c for c in reversed(self._cells) if c.number == number and c.error), None)

    def errors(self) -> list[int]:
        with self._lock:
            return [c.number for c in self._cells if c.error and c.number is not None]

    def clear(self) -> None:
        with self._lock:
            self._cells.clear()


log = NotebookLog()


class ErrorFields:
    """``{Err}`` (the last error) and ``{Err[n]}`` (the error of cell ``n``) in a prompt."""

    def __init__(self, source: NotebookLog) -> None:
        self._log = source

    def __str__(self) -> str:
        record = self._log.last_error()
        return record.as_prompt() if record else ""

    def __getitem__(self, number: int) -> str:
        record = self._log.error_of(int(number))
        if record is None:
            raise KeyError(number)
        return record.as_prompt()


# Only in the user's own prompt text, to name an {Err[n]} that cannot be filled.
_ERR_FIELD = re.compile(r"(?<!\{)\{Err(?:\[(-?\d+)\])?\}(?!\})")


def missing_errors(text: str, namespace: Mapping[str, Any]) -> str | None:
    """What is wrong with the ``{Err}`` fields of a prompt, or None when all can be filled."""
    if "Err" in namespace or "{Err" not in text:
        return None  # the user's own variable named Err wins
    for match in _ERR_FIELD.finditer(text):
        number = match.group(1)
        if number is None and log.last_error() is None:
            return "{Err}: no cell has raised an error yet in this kernel."
        if number is not None and log.error_of(int(number)) is None:
            raised = ", ".join(map(str, log.errors())) or "none yet"
            return f"{{Err[{number}]}}: cell [{number}] raised no error (cells that raised: {raised})."
    return None


def with_errors(namespace: Mapping[str, Any]) -> Mapping[str, Any]:
    """The user's namespace plus ``Err`` (unless they defined their own)."""
    if "Err" in namespace:
        return namespace
    return collections.ChainMap({"Err": ErrorFields(log)}, dict(namespace))
