"""Stopping a running request from any thread: what the turn runner and the pull runner share.

A stop may come before the stream exists, while a busy server is being waited for, or after the
stream ended. :class:`Stopper` keeps the first status asked for, ends the retry wait at once, and
closes the stream as soon as there is one, so the server stops generating (or downloading).
"""

from __future__ import annotations

import threading
from typing import Protocol

__all__ = ["Stopper"]


class Closable(Protocol):
    def close(self, status: str) -> None: ...


class Stopper:
    """The first stop wins; :attr:`cancel` is the runner's ``cancel_retry`` event."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stream: Closable | None = None
        self.status: str | None = None
        self.cancel = threading.Event()

    def stop(self, status: str) -> None:
        with self._lock:
            if self.status is None:
                self.status = status
            stream = self._stream
        self.cancel.set()
        if stream is not None:
            stream.close(status)

    def attach(self, stream: Closable) -> None:
        """The stream exists now: a stop that came earlier closes it at once."""
        with self._lock:
            self._stream, status = stream, self.status
        if status is not None:
            stream.close(status)

    @property
    def stopping(self) -> bool:
        return self.status is not None
