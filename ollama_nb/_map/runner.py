"""The dispatcher of a batch run: reads rows as slots free up, hands them to the lanes' workers,
takes their outcomes, and is the one writer of results, counts and progress.

It runs on the caller's thread, so a Ctrl-C or a kernel interrupt lands here within one wait
(:data:`TICK`): then every open stream is closed (the servers stop generating), the rows done so
far are already in the cache, and the interrupt goes on up. Memory: rows are read only as a slot
needs one, so what is held per row is its result.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from .._errors import (
    InvalidRequest,
    OllamaError,
    RateLimited,
    ServerBusy,
    ServerUnreachable,
    StreamCut,
    UsageLimit,
)
from .._status import INTERRUPTED
from .cache import Cache
from .lanes import Lane
from .results import RowError, Tally
from .work import Job, Outcome, work

__all__ = ["Run"]

#: Longest wait for an outcome before looking at the clock (progress, pauses) again.
TICK = 0.1
#: Sends of one row before its failure is final (a host that died, a storm of 503s).
TRIES = 4
#: Texts per ``/api/embed`` request.
EMBED_BATCH = 64
MOVE = (ServerUnreachable, StreamCut)  # the host went away: the row goes to another


class Run:
    """One run of many requests over one or more lanes."""

    def __init__(
        self,
        lanes: list[Lane],
        rows: Iterator[tuple[int, Any]],
        cache: Cache,
        *,
        total: int | None,
        finish: Callable[[Any], Any],
        embed: bool = False,
        on_progress: Callable[[Tally, list[Lane], bool], None] | None = None,
    ) -> None:
        self.lanes, self.rows, self.cache, self.finish, self.embed = lanes, rows, cache, finish, embed
        self.tally = Tally(total)
        self.values: list[Any] = []
        self.errors: dict[int, RowError] = {}
        self.again: deque[Job] = deque()  # rows to send again (host down, refused), before new ones
        self.outbox: queue.Queue[Any] = queue.Queue()
        self.stop = threading.Event()
        self.inboxes = {id(lane): queue.Queue[Job | None]() for lane in lanes}
        self.on_progress = on_progress or (lambda tally, lanes, final: None)
        self.exhausted = False
        self.halted = False  # a usage limit: nothing more is sent, rows in flight still count

    def run(self) -> None:
        try:
            self._loop()
        except KeyboardInterrupt:
            self._interrupt()
            raise
        finally:
            self.cache.flush()
            self.tally.ended = time.monotonic()
            for lane in self.lanes:
                for _ in range(lane.workers):
                    self.inboxes[id(lane)].put(None)
            self.on_progress(self.tally, self.lanes, True)

    def _loop(self) -> None:
        while True:
            self._fill()
            if self.tally.running == 0 and (self.halted or (self.exhausted and not self.again)):
                return
            self.on_progress(self.tally, self.lanes, False)
            try:
                item = self.outbox.get(timeout=TICK)
            except queue.Empty:
                continue
            self._take(item)
            while True:  # whatever else finished meanwhile, before sending more
                try:
                    self._take(self.outbox.get_nowait())
                except queue.Empty:
                    break

    def _interrupt(self) -> None:
        self.stop.set()
        self.tally.stopped = "interrupted"
        for lane in self.lanes:
            lane.close_all(INTERRUPTED)

    # -- sending ------------------------------------------------------------------------------
    def _fill(self) -> None:
        now = time.monotonic()
        for lane in sorted(self.lanes, key=lambda lane: -lane.room(now)):
            while lane.room(now) > 0 and not self.halted:
                job = self._next_job()
                if job is None:
                    break
                self._send(lane, job)
        if all(lane.down is not None for lane in self.lanes):
            self._fail_rest(next(lane.down for lane in self.lanes if lane.down is not None))

    def _send(self, lane: Lane, job: Job) -> None:
        if lane.workers < lane.control.limit:
            lane.workers += 1
            args = (lane, self.inboxes[id(lane)], self.outbox, self.stop)
            threading.Thread(target=work, args=args, daemon=True, name=f"ollama-map-{lane.host}").start()
        job.level = lane.control.limit
        lane.running += 1
        self.tally.running += 1
        self.inboxes[id(lane)].put(job)

    def _next_job(self) -> Job | None:
        if self.again:
            return self.again.popleft()
        rows: list[int] = []
        bodies: list[Any] = []
        while not self.exhausted and len(rows) < (EMBED_BATCH if self.embed else 1):
            try:
                row, body = next(self.rows)
            except StopIteration:
                self.exhausted = True
                break
            self._slot(row)
            if isinstance(body, BaseException):
                self._failed(row, body if isinstance(body, OllamaError) else InvalidRequest(str(body)))
                continue
            hit = self.cache.lookup(body)
            if hit is not None:
                self._answered(row, hit, cached=True)
                continue
            rows.append(row)
            bodies.append(body)
        return Job(rows, bodies, self.embed) if rows else None

    def _slot(self, row: int) -> None:
        while len(self.values) <= row:
            self.values.append(None)

    def _fail_rest(self, error: BaseException) -> None:
        while (job := self._next_job()) is not None:
            for row in job.rows:
                self._failed(row, error)

    # -- receiving -----------------------------------------------------------------------------
    def _take(self, item: Any) -> None:
        if isinstance(item, tuple):  # ("busy", lane): a 503 while this lane's row waits to retry
            item[1].control.busy()
            return
        out: Outcome = item
        lane = out.lane
        lane.running -= 1
        self.tally.running -= 1
        if out.error is None:
            lane.done += len(out.job.rows)
            lane.control.finished(out.ttft, out.seconds, out.tokens, out.job.level)
            self.tally.tokens += out.tokens
            self.tally.prompt_tokens += out.prompt_tokens
            for row, body, value in zip(out.job.rows, out.job.bodies, out.values, strict=True):
                self.cache.record(body, value)
                self._answered(row, value)
            return
        self._trouble(out)

    def _trouble(self, out: Outcome) -> None:
        error, lane, job = out.error, out.lane, out.job
        assert error is not None
        if isinstance(error, UsageLimit):
            self.tally.stopped = str(error)
            self.halted = True  # no more rows: the plan's limit is reached until it resets
        elif isinstance(error, MOVE) and job.tries + 1 < TRIES * len(self.lanes):
            if isinstance(error, ServerUnreachable):  # a cut answer alone may be one bad connection
                lane.down = error
            job.tries += 1
            self.again.append(job)
            return
        elif isinstance(error, (ServerBusy, RateLimited)) and job.tries + 1 < TRIES:
            lane.control.busy()
            lane.paused_until = time.monotonic() + float(getattr(error, "retry_after", None) or 1.0)
            job.tries += 1
            self.again.append(job)
            return
        for row in job.rows:
            self._failed(row, error, out.partial)
        if self.halted:
            self._fail_rest(error)

    def _answered(self, row: int, value: Any, cached: bool = False) -> None:
        try:
            self.values[row] = self.finish(value)
        except Exception as exc:  # an answer that does not parse: its text is kept as the partial
            self._failed(row, exc, value if isinstance(value, str) else "")
            return
        self.tally.done += 1
        self.tally.cached += cached

    def _failed(self, row: int, error: BaseException, partial: str = "") -> None:
        self.errors[row] = RowError(row, error, partial)
        self.tally.failed += 1
        self.tally.last_error = str(error)
