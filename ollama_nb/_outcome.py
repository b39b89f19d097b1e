"""How a turn ended, as every view shows it: one object, made once by the turn runner.

The cell magic and the chat widget render an :class:`Outcome` (kept on the
:class:`~ollama_nb.Conversation`'s ``Turn``) instead of each working out the status, the error's
hint, the stats line and the context meter for itself.

Usage::

    outcome = runner.outcome            # after TurnRunner.run()
    outcome.status, outcome.footer()    # "done", "llama3.2 · 128 tokens · … · context 3.4k/4.1k"
    outcome.error_note()                # None, or {"message": ..., "hint": ...}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._context import ContextUse, Lookup, measure
from ._errors import describe
from ._format import stats_text
from ._status import FAILED, INTERRUPTED, STOPPED

if TYPE_CHECKING:
    from ._reply import Reply

__all__ = ["Outcome", "conclude", "context_use"]

#: The endings that leave a partial answer, and the word a footer marks it with.
PARTIAL = (STOPPED, INTERRUPTED, FAILED)


@dataclass(frozen=True)
class Outcome:
    """A turn's ending: ``status`` (done, stopped, interrupted or failed), the error that ended it
    (with its hint), the model that answered, its stats and the context it used (None: unknown)."""

    status: str
    model: str = ""
    stats: dict[str, Any] = field(default_factory=dict)
    done_reason: str | None = None
    error: BaseException | None = None
    context: ContextUse | None = None
    answered: bool = False  # any chunk arrived

    @property
    def partial(self) -> bool:
        """An answer cut short (stopped, interrupted or failed after some text)."""
        return self.status in PARTIAL

    def stats_line(self, *, show_status: bool = True) -> str:
        """``llama3.2 · 128 tokens · 42.1 tok/s · …`` (a view with a status badge leaves the status out)."""
        return stats_text(self.model, self.stats, self.status, self.done_reason, show_status=show_status)

    def footer(self, *, show_status: bool = True) -> str:
        """The stats line, then the context meter when it was measured."""
        line = self.stats_line(show_status=show_status)
        return f"{line} · {self.context.short()}" if self.context is not None else line

    def warning(self) -> str:
        """``partial answer (stopped)`` for a cut answer, else empty."""
        return f"partial answer ({self.status})" if self.partial else ""

    def error_note(self) -> dict[str, str] | None:
        """``{"message", "hint"}`` of the error that ended the turn, or None."""
        if self.error is None:
            return None
        message, hint = describe(self.error)
        return {"message": message, "hint": hint}


def context_use(client: Any, reply: Reply, options: dict[str, Any] | None, lookup: Lookup | None) -> ContextUse | None:
    """The context meter of a finished answer, or None."""
    # The meter is a courtesy: a server that cannot say its window must not fail the turn.
    try:
        return measure(client, reply, options, lookup=lookup)
    except Exception:
        return None


def conclude(reply: Reply, status: str, error: BaseException | None, context: ContextUse | None = None) -> Outcome:
    """The outcome of an ended ``reply`` (``status`` as the runner decided it)."""
    return Outcome(
        status=status,
        model=reply.model or str((reply.request or {}).get("model") or ""),
        stats=reply.stats(),
        done_reason=reply.done_reason,
        error=error,
        context=context,
        answered=bool(reply.chunks),
    )
