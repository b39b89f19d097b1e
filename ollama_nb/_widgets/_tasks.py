"""What both widgets share around their work: the client they talk to, and their background tasks.

A widget answers its view's messages on the kernel's comm thread, so anything that waits on the
server (a model list, a pull, an answer) runs on a daemon thread of its :class:`Tasks`, which knows
what runs (the label a view shows as busy) and can wait for all of it (tests and scripts).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from .._client import Client

__all__ = ["Tasks", "widget_client"]


def widget_client(client: Client | None, host: str | None, api_key: str | None) -> Client | None:
    """The client a widget was given: ``client`` itself, one for ``host`` / ``api_key``, or None
    for the shared client of the current settings (looked up at each use)."""
    if client is not None:
        if host is not None or api_key is not None:
            raise TypeError("Give a client, or a host (and api_key), not both.")
        return client
    if host is None and api_key is None:
        return None
    return Client(host, api_key=api_key)


class Tasks:
    """Daemon threads of one widget; ``on_busy(label)`` hears the label of the newest task still
    running ("" when none is)."""

    def __init__(self, name: str, on_busy: Callable[[str], None] | None = None) -> None:
        self.name = name
        self._on_busy = on_busy
        self._lock = threading.Lock()
        self._running: dict[int, tuple[threading.Thread, str]] = {}

    def start(self, fn: Callable[..., Any], *args: Any, key: str = "", label: str = "") -> threading.Thread:
        """Run ``fn(*args)`` on a daemon thread; ``label`` says what runs while it does."""

        def run() -> None:
            try:
                fn(*args)
            finally:
                with self._lock:
                    self._running.pop(threading.get_ident(), None)
                self._busy()

        thread = threading.Thread(target=run, name=f"{self.name}-{key or 'task'}", daemon=True)
        with self._lock:
            thread.start()
            self._running[thread.ident or 0] = (thread, label)
        self._busy()
        return thread

    def threads(self) -> list[threading.Thread]:
        with self._lock:
            return [t for t, _ in self._running.values()]

    def join(self, timeout: float = 10.0) -> bool:
        """Wait until no task runs; False when some still did after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while threads := self.threads():
            for t in threads:
                t.join(max(0.0, deadline - time.monotonic()))
            if time.monotonic() >= deadline:
                return not self.threads()
        return True

    def _busy(self) -> None:
        if self._on_busy is None:
            return
        with self._lock:
            labels = [label for _, label in self._running.values() if label]
        self._on_busy(labels[-1] if labels else "")
