"""A model of Ollama's scheduler: a few requests at once per model, a bounded queue, 503 past it.

The real server (``server/sched.go``) runs ``OLLAMA_NUM_PARALLEL`` requests at once per loaded model
and parks the others in one pending channel of ``OLLAMA_MAX_QUEUE`` slots (default 512); a request
that finds the channel full gets 503 ``server busy, please try again.  maximum pending requests
exceeded`` at once. Here: a slot count per model, one FIFO of waiters shared by every model, and the
same refusal. ``num_parallel=0`` (the emulator's default) means no limit, so ordinary tests never
wait on each other; the real default is 1.
"""

from __future__ import annotations

import collections
import threading
from dataclasses import dataclass, field

BUSY = "server busy, please try again.  maximum pending requests exceeded"


class QueueFull(Exception):
    """No room in the pending queue: the route answers 503 :data:`BUSY`."""


@dataclass
class _Waiter:
    model: str
    granted: threading.Event = field(default_factory=threading.Event)


class Scheduler:
    """Admission control for generate/chat. Thread-safe; one per running emulator.

    Usage::

        sched = Scheduler(num_parallel=2, max_queue=4)
        sched.acquire("llama3.2:latest", stopping)   # may wait; QueueFull when 4 already wait
        try: ...stream the answer...
        finally: sched.release("llama3.2:latest")
    """

    def __init__(self, num_parallel: int = 0, max_queue: int = 512) -> None:
        self.num_parallel = num_parallel
        self.max_queue = max_queue
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._running: dict[str, int] = collections.defaultdict(int)
        self._waiting: collections.deque[_Waiter] = collections.deque()
        self.refused = 0  # 503s answered, for tests and benchmarks
        self.peak_waiting = 0

    def configure(self, num_parallel: int | None = None, max_queue: int | None = None) -> None:
        with self._lock:
            if num_parallel is not None:
                self.num_parallel = num_parallel
            if max_queue is not None:
                self.max_queue = max_queue
            self._grant_locked()

    def acquire(self, model: str, stopping: threading.Event) -> bool:
        """Take a slot for ``model``, waiting in the queue if needed.

        Returns False when the emulator stops while waiting. Raises :class:`QueueFull` at once when
        the queue already holds ``max_queue`` waiters (as the real server's buffered channel does).
        """
        with self._lock:
            if not self.num_parallel or (self._running[model] < self.num_parallel and not self._waiting):
                self._running[model] += 1
                return True
            if len(self._waiting) >= self.max_queue:
                self.refused += 1
                raise QueueFull(BUSY)
            waiter = _Waiter(model)
            self._waiting.append(waiter)
            self.peak_waiting = max(self.peak_waiting, len(self._waiting))
            self._changed.notify_all()
        while not waiter.granted.wait(0.1):
            if stopping.is_set():
                with self._lock:
                    if waiter.granted.is_set():
                        self._release_locked(model)
                    elif waiter in self._waiting:
                        self._waiting.remove(waiter)
                return False
        return True

    def release(self, model: str) -> None:
        with self._lock:
            self._release_locked(model)

    def _release_locked(self, model: str) -> None:
        self._running[model] = max(0, self._running[model] - 1)
        self._grant_locked()

    def _grant_locked(self) -> None:
        # FIFO across models, but a waiter for a model whose slots are full does not block one for
        # another model (the real scheduler loads a second model while the first is busy).
        for waiter in list(self._waiting):
            if not self.num_parallel or self._running[waiter.model] < self.num_parallel:
                self._waiting.remove(waiter)
                self._running[waiter.model] += 1
                waiter.granted.set()

    def wait_for_waiting(self, count: int, timeout: float) -> bool:
        """Block until at least ``count`` requests wait in the queue (tests); False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self._waiting) >= count, timeout)

    @property
    def waiting(self) -> int:
        with self._lock:
            return len(self._waiting)
