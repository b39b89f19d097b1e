"""The answer in a terminal (IPython without a front end): tokens printed as they arrive, thinking
dimmed before them, the footer after. Control characters in model text are shown, not obeyed."""

from __future__ import annotations

import sys
from typing import Any

from .._terminal import terminal_text as visible

__all__ = ["TerminalEcho", "visible"]

_DIM, _BOLD, _RESET = "\x1b[2m", "\x1b[1m", "\x1b[0m"


class TerminalEcho:
    """Prints an answer's chunks to ``out`` (default ``sys.stdout``, read late so capture works)."""

    def __init__(self, out: Any = None) -> None:
        self.out = out
        self._thinking = False
        self._started = False

    def write(self, text: str) -> None:
        out = self.out or sys.stdout
        out.write(text)
        out.flush()

    def chunk(self, chunk: Any) -> None:
        if not chunk:
            return
        msg = chunk.get("message")
        if msg is not None:
            content, thinking = msg.get("content"), msg.get("thinking")
        else:
            content, thinking = chunk.get("response"), chunk.get("thinking")
        if thinking:
            if not self._thinking:
                # Thinking in dim text before the answer, named: a terminal may not dim it.
                self.write(f"{_DIM}Thinking: ")
                self._thinking = True
            self.write(visible(thinking))
        if content:
            if self._thinking:
                self.write(f"{_RESET}\n\n")
                self._thinking = False
            self._started = True
            self.write(visible(content))

    def _end_line(self, text: str) -> None:
        if self._started or self._thinking:
            self.write(text)
        self._started = self._thinking = False

    def finish(self, footer: str) -> None:
        """The answer is over: end its line, then the footer, dimmed."""
        self._end_line(f"{_RESET}\n" if self._thinking else "\n")
        if footer:
            self.write(f"{_DIM}{visible(footer)}{_RESET}\n")

    def note(self, text: str, *, bold: bool = False) -> None:
        """A line of its own (a header, a stats line)."""
        self._end_line(f"{_RESET}\n")
        self.write(f"{_BOLD if bold else _DIM}{visible(text)}{_RESET}\n")
