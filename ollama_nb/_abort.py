"""Aborting a request that another thread is waiting on: the socket is shut down, the server sees it.

A non-streamed answer sends no byte until it is complete, so the thread waiting for it sits in
``recv`` inside ``requests`` with no response object anyone could close. :class:`Abort` is a handle
for one such call: while it is :func:`current` on a thread, every HTTP connection that thread
sends a request on is attached to it, and :meth:`Abort.fire` (from any thread: an event loop whose
task was cancelled) shuts that connection's socket down. The blocked read fails at once, the
waiting thread goes back to its pool, and the server records a client that left.

The hook is public API of ``requests`` and ``urllib3``: an ``HTTPAdapter`` subclass whose pool
manager makes connection pools of our connection class (``PoolManager.pool_classes_by_scheme``,
``HTTPConnectionPool.ConnectionCls``), whose ``request`` override notes the connection first.

Usage::

    mount(client._session, pool_size=100)
    abort = Abort()
    with abort.active():                 # on the worker thread
        client.chat(...)                 # abort.fire() from the loop thread ends the wait
"""

from __future__ import annotations

import contextlib
import contextvars
import socket
import threading
from collections.abc import Iterator
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

__all__ = ["Abort", "current", "mount"]

_current: contextvars.ContextVar[Abort | None] = contextvars.ContextVar("ollama_nb_abort", default=None)


def current() -> Abort | None:
    """The abort handle of the call running on this thread, if any."""
    return _current.get()


class Abort:
    """One call's "stop now": the connection it is using, and whether it was fired.

    ``event`` is set when fired, so waits that are not on a socket (a retry's backoff) end too.
    """

    def __init__(self) -> None:
        self.event = threading.Event()
        self._lock = threading.Lock()
        self._conn: HTTPConnection | None = None

    @property
    def fired(self) -> bool:
        return self.event.is_set()

    def attach(self, conn: HTTPConnection) -> None:
        """The call is about to send on ``conn``; a handle fired already shuts it at once."""
        with self._lock:
            self._conn = conn
            fired = self.event.is_set()
        if fired:
            _shutdown(conn)

    def detach(self) -> None:
        """The call is over: its connection may serve someone else now, so firing must not touch it."""
        with self._lock:
            self._conn = None

    def fire(self) -> None:
        """Stop the call: end its retry waits and shut down the socket it is reading, if any."""
        with self._lock:
            self.event.set()
            conn = self._conn
        if conn is not None:
            _shutdown(conn)

    @contextlib.contextmanager
    def active(self) -> Iterator[Abort]:
        """Within this block (on this thread), requests attach their connection to this handle."""
        token = _current.set(self)
        try:
            yield self
        finally:
            _current.reset(token)
            self.detach()


def _shutdown(conn: HTTPConnection) -> None:
    sock = conn.sock
    if sock is None:
        return
    try:
        # shutdown, not close: close would free the descriptor under a thread still reading it,
        # and the number could be reused by another socket; shutdown wakes the reader with EOF.
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:  # closed already, or never connected
        pass


def _note(conn: HTTPConnection) -> None:
    abort = _current.get()
    if abort is not None:
        abort.attach(conn)


class _NotedConnection(HTTPConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        _note(self)
        super().request(*args, **kwargs)


class _NotedTLSConnection(HTTPSConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        _note(self)
        super().request(*args, **kwargs)


class _Pool(HTTPConnectionPool):
    ConnectionCls = _NotedConnection


class _TLSPool(HTTPSConnectionPool):
    ConnectionCls = _NotedTLSConnection


class _AbortableAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        # Connections through a proxy keep urllib3's own classes: an abort then ends retry waits
        # only, and the read ends at its timeout. Ollama is reached directly in every setup we know.
        self.poolmanager.pool_classes_by_scheme = {"http": _Pool, "https": _TLSPool}


def mount(session: requests.Session, pool_size: int) -> None:
    """Make ``session``'s connections abortable, and keep up to ``pool_size`` of them per host
    (requests keeps 10: more concurrent calls would each open and then drop a connection)."""
    for scheme in ("http://", "https://"):
        session.mount(scheme, _AbortableAdapter(pool_connections=10, pool_maxsize=pool_size))
