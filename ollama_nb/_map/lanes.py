"""One lane per host: how many requests it may have open now, and how ``concurrency="auto"`` finds that.

Ollama answers ``OLLAMA_NUM_PARALLEL`` requests per model at once and queues the rest; a queued
request gets no bytes until a slot frees, so sending more than the server runs only makes answers
wait (and a long wait looks like a stall). The client sees the queue as time to first token: a
request that found a free slot starts in milliseconds, one that queued starts when another ends.
So ``Auto`` raises the level one step per window of finished rows while the first token stays
quick and throughput rises, steps back when the first token waits (or the server says 503), and
probes one step up now and then to follow a server that got more room.

Usage::

    auto = Auto()
    auto.finished(ttft=0.004, seconds=0.3, tokens=100); auto.limit
"""

from __future__ import annotations

import statistics
import threading
import time
from typing import Any

__all__ = ["Auto", "Fixed", "Lane"]

#: The level a run starts at, the highest it may reach, and the hold (in windows) between probes.
START, CEILING, PROBE_EVERY = 2, 64, 8
#: A first token later than the quickest seen by this share of a row's time means it queued.
QUEUED_SHARE, QUEUED_FLOOR = 0.1, 0.01


class Fixed:
    """``concurrency=N``: N at all times."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def finished(self, ttft: float | None, seconds: float, tokens: int) -> None:
        pass

    def busy(self) -> None:
        pass


class Auto:
    """The level at which throughput stops rising, found and followed from what each row shows."""

    def __init__(self, start: int = START, ceiling: int = CEILING) -> None:
        self.limit = start
        self.ceiling = ceiling
        self.full: int | None = None  # the lowest level seen queueing
        self._window: list[tuple[float, float]] = []  # (ttft, seconds) of rows in this window
        self._opened = time.monotonic()
        self._tokens = 0
        self._quickest: float | None = None
        self._last_rate = 0.0
        self._holds = 0

    def finished(self, ttft: float | None, seconds: float, tokens: int) -> None:
        if ttft is None:
            return
        self._window.append((ttft, seconds))
        self._tokens += tokens
        if len(self._window) >= max(self.limit, 4):
            self._decide()

    def busy(self) -> None:
        """A 503: the server's queue is full; this level is too high."""
        self.full = self.limit
        self.limit = max(1, self.limit - 1)
        self._reset()

    def _decide(self) -> None:
        ttft = statistics.median(t for t, _ in self._window)
        seconds = statistics.median(s for _, s in self._window)
        rate = self._tokens / max(time.monotonic() - self._opened, 1e-9)
        quickest = self._quickest = ttft if self._quickest is None else min(self._quickest, ttft)
        if ttft > quickest + max(QUEUED_FLOOR, QUEUED_SHARE * seconds) and self.limit > 1:
            self.full = self.limit
            self.limit -= 1
        elif (self.full is None or self.limit + 1 < self.full) and rate >= self._last_rate * 1.02:
            self.limit = min(self.ceiling, self.limit + 1)
        else:
            self._holds += 1
            if self._holds >= PROBE_EVERY:  # the server may have more room now: try one more
                self._holds, self.full = 0, None
                self.limit = min(self.ceiling, self.limit + 1)
        self._last_rate = rate
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
