"""Pace: when the next update of a growing view is due, for the chat widget's deltas and pull
progress in a cell and in the model browser. (The cell's live answer has a schedule of its own in
:mod:`ollama_nb._live`: it bounds the wait from a token's arrival to its display, and watches for
pauses, which an interval alone cannot.)

The first update goes at once; after that, no sooner than an interval that grows with the size
of what the view re-renders (``floor + size * per_unit``, between ``least`` and ``most``
seconds), because a front end redraws that much on every update.

>>> pace = Pace(least=0.25, most=0.25)        # pull progress: four updates a second
>>> pace.due(now=10.0)
True
>>> pace.sent(now=10.0); pace.due(now=10.1), pace.due(now=10.25)
(False, True)
"""

from __future__ import annotations

import time

__all__ = ["Pace"]


class Pace:
    """The schedule of one view's updates (not thread-safe: one updater at a time)."""

    def __init__(self, *, least: float, most: float, per_unit: float = 0.0, floor: float = 0.0) -> None:
        self.least, self.most, self.per_unit, self.floor = least, most, per_unit, floor
        #: monotonic time before which :meth:`due` is False (0: the first update is due at once)
        self.next_at = 0.0
        self.updates = 0

    def interval(self, size: int = 0) -> float:
        """Seconds between two updates once the view shows ``size`` units (characters, bytes)."""
        return min(self.most, max(self.least, self.floor + size * self.per_unit))

    def due(self, now: float | None = None) -> bool:
        return (time.monotonic() if now is None else now) >= self.next_at

    def sent(self, size: int = 0, now: float | None = None) -> None:
        """An update went out; the next is due one :meth:`interval` later."""
        now = time.monotonic() if now is None else now
        self.updates += 1
        self.next_at = now + self.interval(size)

    def wait(self, now: float | None = None) -> float:
        """Seconds until the next update is due (0 when it is)."""
        return max(0.0, self.next_at - (time.monotonic() if now is None else now))
