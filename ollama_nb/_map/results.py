"""What a batch run gives back: answers in input order, the rows that failed, and totals.

Usage::

    results = ollama_nb.map(prompts, model="llama3.2")
    results[0], results.errors, results.stats["tokens_per_s"]
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Results", "RowError", "Tally"]


@dataclass(frozen=True)
class RowError:
    """One row that failed: its position, the error (one of ours), and the answer it got so far."""

    row: int
    error: BaseException
    partial: str = ""

    def __str__(self) -> str:
        return f"row {self.row}: {self.error}"


class Results(list[Any]):
    """The answers in input order (``None`` where a row failed), with :attr:`errors` and :attr:`stats`."""

    errors: list[RowError]
    stats: dict[str, Any]

    def __init__(self, values: list[Any], errors: list[RowError], stats: dict[str, Any]) -> None:
        super().__init__(values)
        self.errors = errors
        self.stats = stats

    def __repr__(self) -> str:
        shown = list.__repr__(self[:5])[:-1] + (", ...]" if len(self) > 5 else "]")
        return f"Results({shown}, rows={len(self)}, errors={len(self.errors)})"


@dataclass
class Tally:
    """Running totals of a run, read by the progress view; only the dispatcher writes them."""

    total: int | None
    started: float = field(default_factory=time.monotonic)
    done: int = 0
    cached: int = 0
    failed: int = 0
    running: int = 0
    tokens: int = 0
    prompt_tokens: int = 0
    last_error: str = ""
    ended: float | None = None
    stopped: str = ""  # why the run stopped early (a usage limit, an interrupt)

    def elapsed(self) -> float:
        return (self.ended or time.monotonic()) - self.started

    def sent_done(self) -> int:
        """Rows answered by a server in this run (not from the log)."""
        return self.done - self.cached

    def stats(self) -> dict[str, Any]:
        seconds = max(self.elapsed(), 1e-9)
        return {
            "rows": self.done + self.failed,
            "done": self.done,
            "failed": self.failed,
            "cached": self.cached,
            "tokens": self.tokens,
            "prompt_tokens": self.prompt_tokens,
            "seconds": seconds,
            "rows_per_s": self.sent_done() / seconds,
            "tokens_per_s": self.tokens / seconds,
            "stopped": self.stopped or None,
        }
