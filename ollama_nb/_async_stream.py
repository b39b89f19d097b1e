"""AsyncStream: a :class:`~ollama_nb._client.Stream` read by a worker thread, handed to ``async for``.

The sync stream does all the work (reading, parsing, merging into its Reply, errors with the
partial answer); one pool thread iterates it and appends each chunk to a buffer, and the event loop
is woken only when it is waiting for one (a chunk that arrives while the loop is busy elsewhere
waits in the buffer, so a fast stream costs one wake-up per batch, not one per chunk).

Closing reaches the server from any side: ``break`` out of ``async for`` (the iterator is dropped
at once), ``await stream.aclose()``, leaving ``async with``, or the task being cancelled while it
waits (``task.cancel()``, a kernel interrupt) all shut the socket down, which wakes the reader
thread, and the stream's Reply keeps what had arrived, marked "stopped" or "interrupted".
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from concurrent.futures import Executor, Future
from typing import Any

from ._reply import Progress, Reply
from ._status import INTERRUPTED, STOPPED
from ._stream import Stream
from ._types import Chunk

__all__ = ["AsyncStream"]

#: Chunks the reader may get ahead of a consumer that stopped reading for a while; past this it
#: waits (and the server is slowed by TCP, as a sync reader would slow it) until half are taken.
AHEAD = 1024


class _End:
    """The reader's last entry: the stream ended, cleanly or with ``error``."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


class _Feed:
    """What the reader thread and the event loop share: the buffer, and how each wakes the other.

    The reader holds this, never the AsyncStream, so that dropping an AsyncStream whose reader is
    running (read once, then forgotten) still closes it.
    """

    def __init__(self, stream: Stream) -> None:
        self.stream = stream
        self.buf: deque[Chunk | _End] = deque()
        self.lock = threading.Lock()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.waiter: asyncio.Future[None] | None = None
        self.room = threading.Event()
        self.room.set()

    def read(self) -> None:
        """On a pool thread: every chunk of the sync stream into the buffer, then its end."""
        buf, room = self.buf, self.room
        end = _End()
        try:
            for chunk in self.stream:
                self.push(chunk)
                if len(buf) >= AHEAD:
                    room.clear()
                    if len(buf) >= AHEAD:  # the consumer may have taken some meanwhile
                        room.wait()
        except BaseException as err:  # every failure goes to the consumer, with the partial reply
            end = _End(err)
        self.push(end)

    def push(self, item: Chunk | _End) -> None:
        self.buf.append(item)
        if self.waiter is None:  # the loop is not waiting: it will find the chunk in the buffer
            return
        with self.lock:
            waiter, self.waiter = self.waiter, None
        if waiter is not None and self.loop is not None:
            try:
                self.loop.call_soon_threadsafe(_wake, waiter)
            except RuntimeError:  # the loop was closed meanwhile: nobody is waiting any more
                pass

    async def wait(self) -> None:
        """Until the buffer has an entry (returns at once if it has one now)."""
        loop = asyncio.get_running_loop()
        with self.lock:
            if self.buf:
                return
            self.loop = loop
            waiter = self.waiter = loop.create_future()
        await waiter

    def close(self, status: str, error: BaseException | None = None) -> None:
        self.stream.close(status, error)
        self.room.set()  # a reader waiting for room sees the close and ends


class AsyncStream:
    """An answer arriving line by line, for ``async for``: what ``await client.chat(..., stream=True)``
    gives. The chunks are those of the sync :class:`~ollama_nb._stream.Stream`.

    ``reply`` (chat/generate) or ``progress`` (pull/push/create) merges every chunk as it arrives.
    ``await aclose()``, ``break``, leaving ``async with`` or cancelling the task closes the HTTP
    response, which makes Ollama stop generating.

    Usage::

        async with AsyncClient() as client:
            async for part in await client.chat("llama3.2", messages=[...], stream=True):
                print(part["message"]["content"], end="", flush=True)
    """

    def __init__(self, stream: Stream, pool: Executor) -> None:
        self._stream = stream
        self._feed = _Feed(stream)
        self._pool = pool
        self._reader: Future[None] | None = None
        self._iterated = False
        self._ended = False
        self._inside = False  # within `async with stream:`, whose exit decides how a left loop ended

    # -- what the sync stream knows -----------------------------------------------------------
    @property
    def result(self) -> Reply | Progress:
        return self._stream.result

    @property
    def reply(self) -> Reply:
        return self._stream.reply

    @property
    def progress(self) -> Progress:
        return self._stream.progress

    @property
    def closed(self) -> bool:
        return self._stream.closed

    @property
    def require_done(self) -> bool:
        """Raise a StreamCut when the body ends without its final chunk (see ``Stream.require_done``)."""
        return self._stream.require_done

    @require_done.setter
    def require_done(self, value: bool) -> None:
        self._stream.require_done = value

    # -- iteration ----------------------------------------------------------------------------
    def __aiter__(self) -> _Parts:
        if self._iterated:
            raise RuntimeError("A stream can be read only once; keep the parts you need, or use .reply.")
        self._iterated = True
        # A fresh iterator that the stream does not keep: when an `async for` is left early it is
        # dropped at once, and dropping it closes the connection (as the sync Stream's generator).
        return _Parts(self)

    async def __anext__(self) -> Chunk:
        return await self._next()

    def __iter__(self) -> Any:
        raise TypeError(
            "This stream is asynchronous: read it with `async for part in stream:` "
            "(or use the sync Client, whose streams work with a plain `for`)."
        )

    async def _next(self) -> Chunk:
        if self._reader is None:
            self._start()
        feed = self._feed
        buf = feed.buf
        while True:
            try:
                item = buf.popleft()
            except IndexError:
                if self._ended:
                    raise StopAsyncIteration from None
                try:
                    await feed.wait()
                except BaseException:  # CancelledError (task.cancel, a kernel interrupt), KeyboardInterrupt
                    self.close(INTERRUPTED)
                    raise
                continue
            if not feed.room.is_set() and len(buf) <= AHEAD // 2:
                feed.room.set()
            if type(item) is _End:
                self._ended = True
                if item.error is not None:
                    raise item.error
                raise StopAsyncIteration
            return item  # type: ignore[return-value]  # not an _End, so a Chunk

    def _start(self) -> None:
        try:
            self._reader = self._pool.submit(self._feed.read)
        except RuntimeError:  # the pool was shut down: the client was closed before this stream was read
            self.close()
            raise RuntimeError(
                "The AsyncClient was closed before this stream was read: read it inside "
                "`async with AsyncClient() as client:` (or before `await client.close()`)."
            ) from None

    # -- closing ------------------------------------------------------------------------------
    def close(self, status: str = STOPPED, error: BaseException | None = None) -> None:
        """Close the connection now (Ollama stops generating); safe from any thread. ``status`` and
        ``error`` mark an unfinished answer, as :meth:`Stream.close <ollama_nb._stream.Stream.close>`."""
        self._feed.close(status, error)

    async def aclose(self) -> None:
        self.close()

    async def __aenter__(self) -> AsyncStream:
        self._inside = True
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        """Leaving ``async with stream:`` closes it, ended by what left the block, as the sync
        stream's ``with``: a cancelled task (the kernel's interrupt) marks it "interrupted"."""
        self._inside = False
        if kind is not None and issubclass(kind, asyncio.CancelledError):
            self.close(INTERRUPTED)
        else:
            self._stream.__exit__(kind, exc, tb)
        self._feed.room.set()

    def __del__(self) -> None:
        try:
            if not self._ended:
                self.close()
        except Exception:
            pass

    def __repr__(self) -> str:
        return f"<Async{repr(self._stream)[1:]}"


class _Parts:
    """The iterator of one ``async for``: dropping it before the end closes the stream."""

    __slots__ = ("_stream",)

    def __init__(self, stream: AsyncStream) -> None:
        self._stream = stream

    def __aiter__(self) -> _Parts:
        return self

    async def __anext__(self) -> Chunk:
        return await self._stream._next()

    def __del__(self) -> None:
        stream = self._stream
        if not stream._ended and not stream._inside:  # inside `async with`, its exit says why
            stream.close()


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
