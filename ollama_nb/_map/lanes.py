"""One lane per host: how many requests it may have open now, and how ``concurrency="auto"`` finds that.

Ollama answers ``OLLAMA_NUM_PARALLEL`` requests per model at once and queues the rest; a queued
request gets no bytes until a slot frees, so sending more than the server runs only makes answers
wait (and a long wait looks like a stall). The client sees that queue as time to first token: a
request that found a free slot starts at once, one that queued waits for another to end. So
``Auto`` climbs one level per window of finished rows while the first token stays quick, steps
back (and stays) when it starts to wait, when a step up made throughput clearly fall, or on a 503,
and probes one step up now and then to follow a server that got more room. Only rows sent at the
level in force judge it: a row sent before a change saw the old level's queue.

Usage::

    auto = Auto()
    auto.finished(ttft=0.004, seconds=0.3, tokens=100, level=auto.limit); auto.limit
"""

from __future__ import annotations

import statistics
import threading
import time
from typing import Any

__all__ = ["Auto", "Fixed", "Lane"]

#: The level a run starts at, the highest it may reach, and the hold (in windows) between probes:
#: short, because a window one level too high costs nothing (the slots stay busy) while one too low
#: costs a slot, and a loaded machine can make a level look queued when it is not.
START, CEILING, PROBE_EVERY = 2, 64, 2
#: A step up that leaves throughput below this share of the level under it is undone.
FALL = 0.9
#: A first token this much later than the quickest seen (a share of a row's time, at least the
#: floor in seconds) means requests queue at the server: a free slot starts a request at once.
QUEUED_SHARE, QUEUED_FLOOR = 0.15, 0.02


class Fixed:
    """``concurrency=N``: N at all times."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def finished(self, ttft: float | None, seconds: float, tokens: int, level: int) -> None:
        pass

    def busy(self) -> None:
        pass


class Auto:
    """The level at which throughput stops rising, found and followed from what each row shows."""

    def __init__(self, start: int = START, ceiling: int = CEILING) -> None:
        self.limit = start
        self.ceiling = ceiling
        self.rates: dict[int, float] = {}  # throughput last measured at each level
        self.quickest: float | None = None  # the quickest first token of a window so far
        self.settled = False  # a step up brought nothing: hold, probing now and then
        self._rose = False  # the last change was a step up (to be judged by the next window)
        self._window: list[tuple[float, float]] = []  # (ttft, seconds) of rows sent at this level
        self._tokens = 0
        self._opened = time.monotonic()
        self._holds = 0

    def finished(self, ttft: float | None, seconds: float, tokens: int, level: int) -> None:
        if ttft is None or level != self.limit:
            return
        self._window.append((ttft, seconds))
        self._tokens += tokens
        if len(self._window) >= max(2 * self.limit, 8):
            self._decide()

    def busy(self) -> None:
        """A 503: the server's queue is full; this level is too high."""
        self._move(max(1, self.limit - 1), settle=True)

    def _decide(self) -> None:
        ttft = statistics.median(t for t, _ in self._window)
        seconds = statistics.median(s for _, s in self._window)
        done = self._tokens or len(self._window)  # tokens/s for answers, rows/s for embeddings
        rate = self.rates[self.limit] = done / max(time.monotonic() - self._opened, 1e-9)
        below = self.rates.get(self.limit - 1)
        quickest = self.quickest = ttft if self.quickest is None else min(self.quickest, ttft)
        queued = ttft > quickest + max(QUEUED_FLOOR, QUEUED_SHARE * seconds) and self.limit > 1
        if queued or (self._rose and below is not None and rate < below * FALL):  # back a step, and stay
            self._move(self.limit - 1, settle=True)
        elif not self.settled or self._holds + 1 >= PROBE_EVERY:
            self._move(min(self.ceiling, self.limit + 1), settle=self.settled)
        else:
            self._holds += 1
            self._rose = False
            self._reset()

    def _move(self, level: int, *, settle: bool) -> None:
        self._rose = level > self.limit
        self.limit, self.settled, self._holds = level, settle, 0
        self._reset()

    def _reset(self) -> None:
        self._window.clear()
        self._tokens = 0
        self._opened = time.monotonic()


class Lane:
    """A host's share of the run: its client, its level, what it has open, whether it is down."""

    def __init__(self, client: Any, control: Auto | Fixed) -> None:
        self.client = client
        self.control = control
        self.running = 0
        self.done = 0
        self.down: BaseException | None = None
        self.paused_until = 0.0
        self.workers = 0
        self.open: set[Any] = set()  # streams being read, closed at once on an interrupt
        self.lock = threading.Lock()

    @property
    def host(self) -> str:
        return str(self.client.host)

    def room(self, now: float) -> int:
        if self.down is not None or now < self.paused_until:
            return 0
        return max(0, self.control.limit - self.running)

    def close_all(self, status: str) -> None:
        with self.lock:
            streams = list(self.open)
        for stream in streams:
            try:
                stream.close(status)
            except Exception:  # already ended by its reader: nothing left to close
                pass
