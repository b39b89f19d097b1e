"""When the live output sends its next update: a schedule on an injected clock.

- the first visible token is sent at once (the user sees the model is alive);
- then an update every :attr:`Schedule.interval` while chunks arrive, or sooner, so that at the
  pace the stream keeps no update comes later than :attr:`Schedule.max_gap` after the previous one
  (no chunk waits longer to be shown: a slow model's tokens show as they come);
- updates that take long to make space the next ones out (a moving average of their cost, so one
  slow update does not), and so does an open block too big to re-send often
  (:attr:`Schedule.resend_per_second`).
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["Schedule"]


class Schedule:
    """``next_at``: the clock's time before which a chunk only gets noted (``-inf``: every chunk
    is shown, as in a terminal)."""

    #: Seconds between updates while tokens arrive (<= 5 a second)...
    interval = 0.2
    #: ...and at most this many while the stream keeps its pace (>= 4 a second, with 30 ms to
    #: spare), which is also the longest a chunk waits for the update that shows it.
    max_gap = 0.22
    #: Making an update may take at most this share of the time between updates...
    work_share = 0.1
    #: ...as a moving average, each update's time weighing this much.
    cost_weight = 0.25
    #: Characters a second the growing output may re-send: far above what an open block of a real
    #: answer needs; a block of thousands of words without a break is updated less often instead,
    #: so the bytes sent stay a small multiple of the answer.
    resend_per_second = 100_000.0

    def __init__(self, clock: Callable[[], float] = time.monotonic, *, every_chunk: bool = False) -> None:
        self.clock = clock
        self.next_at = float("-inf") if every_chunk else 0.0
        self.updates = 0
        self._sent_at = 0.0  # when the latest update was sent...
        self._chunks_at = 0  # ...and how many chunks the reply had then
        self._cost = 0.0  # seconds an update takes to make, smoothed
        self._pace_unknown = False  # the first token's update went out; the next chunk sets the pace

    def due(self) -> bool:
        return self.clock() >= self.next_at

    def hold(self, now: float, chunks: int) -> bool:
        """The update after the first token's: True (and ``next_at`` moved on) when the pace the
        stream keeps says it is not due yet."""
        if not self._pace_unknown:
            return False
        # The chunk after the first token's update tells the stream's pace. A fast server's whole
        # answer may end before the update it makes due: it is then shown whole by the final one.
        self._pace_unknown = False
        gap = (now - self._sent_at) / max(1, chunks - self._chunks_at)
        due = self._sent_at + min(self.interval, self.max_gap - gap)
        if due > now:
            self.next_at = due
            return True
        return False

    def anytime(self) -> None:
        """The next update goes now, whatever the pace (a second model starts in --compare)."""
        self._pace_unknown = False

    def sent(self, began: float, chunks: int, growing: int, *, final: bool = False) -> None:
        """An update that began at ``began`` was sent with ``chunks`` chunks in it; ``growing``
        characters of it will be sent again by the next one."""
        self.updates += 1
        now = self.clock()
        # The next update is sent by the first chunk at or after next_at. With chunks coming every
        # `gap` (as they did since the last update), that chunk comes at most a gap later: so aim
        # a gap before max_gap (no earlier than now: at a slow pace every chunk is shown as it
        # comes).
        first = self.updates == 1 and not final
        gap = (now - self._sent_at) / (chunks - self._chunks_at) if chunks > self._chunks_at > 0 else 0.0
        self._sent_at, self._chunks_at = now, chunks
        # Smoothed: one slow update (the first code block loads a Pygments lexer) must not hold
        # the next ones back; updates slow to make one after another do.
        self._cost += self.cost_weight * (now - began - self._cost)
        work = self._cost / self.work_share
        self.next_at = now + max(min(self.interval, self.max_gap - gap), work, growing / self.resend_per_second, 0.0)
        if first:  # after the first token the pace is not known yet: the next chunk tells it
            self._pace_unknown, self.next_at = True, now

    def unshown(self, chunks: int, step: float) -> bool:
        """A chunk came after the last update, and a check ``step`` from now would be too late for it."""
        return chunks > self._chunks_at and self.clock() >= max(self.next_at, self._sent_at + self.max_gap - step)
