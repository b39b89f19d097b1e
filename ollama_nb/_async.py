"""AsyncClient: ollama-python's async face over the one sync :class:`~ollama_nb._client.Client`.

Every method runs the sync client's method on a worker thread of the client's own bounded pool,
so requests, parsing, errors with their hints, retries, key and host rules and redaction are the
sync client's, not a second copy. ``requests`` is blocking; a thread per call in flight costs
less than the parsing of an answer (``benchmarks/async_streams.py`` measures it against
ollama-python's httpx client), and keeps one HTTP stack.

Cancellation reaches the server: a task cancelled while it awaits a call (``task.cancel()``,
``asyncio.wait_for``, a kernel interrupt, Ctrl-C under ``asyncio.run``) shuts down the socket the
worker is reading (:mod:`ollama_nb._abort`), so the thread is free at once and Ollama stops
generating; a retry's wait ends too. Streams: :mod:`ollama_nb._async_stream`.

Usage (a notebook cell runs ``await`` at top level; a script wraps it in ``asyncio.run``)::

    from ollama_nb import AsyncClient
    async with AsyncClient() as client:
        reply = await client.chat("llama3.2", messages=[{"role": "user", "content": "Hi"}])
        async for part in await client.chat("llama3.2", messages=[...], stream=True):
            print(part["message"]["content"], end="", flush=True)
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Concatenate, Literal, ParamSpec, TypeVar, cast, overload

from ._abort import Abort, mount
from ._async_stream import AsyncStream
from ._client import Client
from ._redact import secret, secret_headers
from ._reply import Reply
from ._retry import OnRetry, Retry
from ._status import INTERRUPTED
from ._stream import Stream
from ._types import ProgressResponse

__all__ = ["AsyncClient"]

#: Calls in flight at once per client, as httpx's default connection limit (ollama-python's
#: AsyncClient): more wait for a free thread. A stream holds one while it is being read.
MAX_IN_FLIGHT = 100

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _run(abort: Abort, client: Client, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """On the worker thread: ``fn(client, ...)``, with its connection attached to ``abort`` and its
    retry waits ending when it fires (unless the caller gave the call a ``cancel_retry`` of its own)."""
    if abort.fired:  # cancelled before a thread was free: never send it
        raise asyncio.CancelledError
    with abort.active():
        return fn(client.hooked(on_retry=client.on_retry, cancel_retry=abort.event), *args, **kwargs)


def _close_late_stream(future: Future[Any]) -> None:
    """A stream that opened after its caller was cancelled has no reader: close it."""
    if not future.cancelled() and future.exception() is None and isinstance(future.result(), Stream):
        future.result().close(INTERRUPTED)


def _mirror(
    method: Callable[Concatenate[Client, _P], _R],
) -> Callable[Concatenate[AsyncClient, _P], Coroutine[Any, Any, _R]]:
    """The async form of a sync ``Client`` method that answers one object: same signature and docs."""

    async def call(self: AsyncClient, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        return cast(_R, await self._call(method, *args, **kwargs))

    functools.update_wrapper(call, method)  # help() and inspect.signature show the sync method's
    return call


class AsyncClient:
    """The async client: ``await client.chat(...)``, ``async for part in await client.chat(..., stream=True)``.

    Takes the same arguments as :class:`~ollama_nb._client.Client` (host, ``api_key``, ``headers``,
    ``timeout``, ``retries``, ``on_retry``, ``web_host``, ``verify``) and answers with the same objects: a
    :class:`~ollama_nb._reply.Reply`, a response dict, or with ``stream=True`` an
    :class:`~ollama_nb._async_stream.AsyncStream` of the same chunks. Errors are the same classes,
    with the partial reply on a stream that failed midway.

    One client may serve many tasks at once (``asyncio.gather``) and several event loops in turn
    (each ``asyncio.run`` in a script); at most ``MAX_IN_FLIGHT`` calls are in flight at once.
    """

    def __init__(
        self,
        host: str | None = None,
        *,
        api_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | tuple[float, float] | None = None,
        web_host: str | None = None,
        retries: Retry | int | bool | None = None,
        on_retry: OnRetry | None = None,
        verify: bool | str = True,
        **ignored: Any,
    ) -> None:
        api_key, headers = secret(api_key), secret_headers(headers)  # masked in this frame's locals
        self._sync = Client(
            host,
            api_key=api_key,
            headers=headers,
            timeout=timeout,
            web_host=web_host,
            retries=retries,
            on_retry=on_retry,
            verify=verify,
            **ignored,
        )
        # The seam into the sync client: its session's connections become abortable, and enough
        # of them are kept for every call in flight (see ollama_nb._abort).
        mount(self._sync._session, MAX_IN_FLIGHT)
        self._pool: ThreadPoolExecutor | None = None

    # -- what the sync client knows ------------------------------------------------------------
    @property
    def host(self) -> str:
        return self._sync.host

    @property
    def web_host(self) -> str:
        return self._sync.web_host

    @property
    def timeout(self) -> tuple[float, float]:
        return self._sync.timeout

    @property
    def retries(self) -> Retry:
        return self._sync.retries

    @property
    def cloud(self) -> bool:
        return self._sync.cloud

    @property
    def has_key(self) -> bool:
        """Whether requests carry an Authorization header (the key itself is never shown)."""
        return self._sync.has_key

    def __repr__(self) -> str:
        return "Async" + repr(self._sync)

    # -- lifetime ------------------------------------------------------------------------------
    async def close(self) -> None:
        """Close idle connections and let the worker threads end (calls in flight finish first)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None
        self._sync.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    def __enter__(self) -> Any:
        raise TypeError(
            "AsyncClient is used with `async with AsyncClient() as client:` (or use Client in a plain `with` block)."
        )

    def __exit__(self, *exc: Any) -> None:  # pragma: no cover - __enter__ never succeeds
        pass

    # -- the one runner --------------------------------------------------------------------------
    def _workers(self) -> ThreadPoolExecutor:
        # Our own pool, not the loop's default executor: asyncio.run shuts that one down at its
        # end, and other code shares it (a blocked call there would starve theirs).
        if self._pool is None:
            self._pool = ThreadPoolExecutor(MAX_IN_FLIGHT, thread_name_prefix="ollama-nb-async")
        return self._pool

    async def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(self._sync, *args, **kwargs)`` on a worker; a Stream comes back as an AsyncStream."""
        pool = self._workers()
        abort = Abort()
        future = pool.submit(_run, abort, self._sync, fn, args, kwargs)
        try:
            result = await asyncio.wrap_future(future)
        except BaseException:  # CancelledError, KeyboardInterrupt, and the call's own errors
            if not future.done():
                abort.fire()
                future.add_done_callback(_close_late_stream)
            raise
        if isinstance(result, Stream):
            return AsyncStream(result, pool)
        return result

    # -- generation -------------------------------------------------------------------------------
    @overload
    async def generate(
        self,
        model: str = ...,
        prompt: str | None = ...,
        suffix: str | None = ...,
        *,
        system: str | None = ...,
        template: str | None = ...,
        context: Sequence[int] | None = ...,
        stream: Literal[False] = ...,
        think: bool | Literal["low", "medium", "high"] | None = ...,
        logprobs: bool | None = ...,
        top_logprobs: int | None = ...,
        raw: bool | None = ...,
        format: Any = ...,
        images: Sequence[Any] | None = ...,
        options: Mapping[str, Any] | None = ...,
        keep_alive: float | str | None = ...,
        truncate: bool | None = ...,
        shift: bool | None = ...,
        width: int | None = ...,
        height: int | None = ...,
        steps: int | None = ...,
        on_retry: OnRetry | None = ...,
    ) -> Reply: ...

    @overload
    async def generate(
        self,
        model: str = ...,
        prompt: str | None = ...,
        suffix: str | None = ...,
        *,
        system: str | None = ...,
        template: str | None = ...,
        context: Sequence[int] | None = ...,
        stream: Literal[True],
        think: bool | Literal["low", "medium", "high"] | None = ...,
        logprobs: bool | None = ...,
        top_logprobs: int | None = ...,
        raw: bool | None = ...,
        format: Any = ...,
        images: Sequence[Any] | None = ...,
        options: Mapping[str, Any] | None = ...,
        keep_alive: float | str | None = ...,
        truncate: bool | None = ...,
        shift: bool | None = ...,
        width: int | None = ...,
        height: int | None = ...,
        steps: int | None = ...,
        on_retry: OnRetry | None = ...,
    ) -> AsyncStream: ...

    async def generate(
        self,
        model: str = "",
        prompt: str | None = None,
        suffix: str | None = None,
        *,
        stream: bool = False,
        think: bool | Literal["low", "medium", "high"] | None = None,
        **fields: Any,
    ) -> Reply | AsyncStream:
        """POST /api/generate, as :meth:`Client.generate <ollama_nb._client.Client.generate>`;
        ``stream=True`` -> an :class:`AsyncStream`."""
        return cast(
            "Reply | AsyncStream",
            await self._call(Client.generate, model, prompt, suffix, stream=stream, think=think, **fields),
        )

    @overload
    async def chat(
        self,
        model: str = ...,
        messages: Sequence[Any] | None = ...,
        *,
        tools: Sequence[Any] | None = ...,
        stream: Literal[False] = ...,
        think: bool | Literal["low", "medium", "high"] | None = ...,
        logprobs: bool | None = ...,
        top_logprobs: int | None = ...,
        format: Any = ...,
        options: Mapping[str, Any] | None = ...,
        keep_alive: float | str | None = ...,
        truncate: bool | None = ...,
        shift: bool | None = ...,
        on_retry: OnRetry | None = ...,
    ) -> Reply: ...

    @overload
    async def chat(
        self,
        model: str = ...,
        messages: Sequence[Any] | None = ...,
        *,
        tools: Sequence[Any] | None = ...,
        stream: Literal[True],
        think: bool | Literal["low", "medium", "high"] | None = ...,
        logprobs: bool | None = ...,
        top_logprobs: int | None = ...,
        format: Any = ...,
        options: Mapping[str, Any] | None = ...,
        keep_alive: float | str | None = ...,
        truncate: bool | None = ...,
        shift: bool | None = ...,
        on_retry: OnRetry | None = ...,
    ) -> AsyncStream: ...

    async def chat(
        self,
        model: str = "",
        messages: Sequence[Any] | None = None,
        *,
        stream: bool = False,
        think: bool | Literal["low", "medium", "high"] | None = None,
        **fields: Any,
    ) -> Reply | AsyncStream:
        """POST /api/chat, as :meth:`Client.chat <ollama_nb._client.Client.chat>`;
        ``stream=True`` -> an :class:`AsyncStream`."""
        return cast(
            "Reply | AsyncStream", await self._call(Client.chat, model, messages, stream=stream, think=think, **fields)
        )

    embed = _mirror(Client.embed)
    embeddings = _mirror(Client.embeddings)
    load = _mirror(Client.load)
    unload = _mirror(Client.unload)

    # -- models -------------------------------------------------------------------------------------
    list = _mirror(Client.list)
    show = _mirror(Client.show)
    ps = _mirror(Client.ps)
    copy = _mirror(Client.copy)
    delete = _mirror(Client.delete)
    create_blob = _mirror(Client.create_blob)
    version = _mirror(Client.version)
    usage = _mirror(Client.usage)
    balance = _mirror(Client.balance)
    web_search = _mirror(Client.web_search)
    web_fetch = _mirror(Client.web_fetch)

    @overload
    async def pull(
        self, model: str, *, insecure: bool = ..., stream: Literal[False] = ..., on_retry: OnRetry | None = ...
    ) -> ProgressResponse: ...
    @overload
    async def pull(
        self, model: str, *, insecure: bool = ..., stream: Literal[True], on_retry: OnRetry | None = ...
    ) -> AsyncStream: ...
    async def pull(
        self, model: str, *, insecure: bool = False, stream: bool = False, on_retry: OnRetry | None = None
    ) -> ProgressResponse | AsyncStream:
        """POST /api/pull: download a model. ``stream=True`` -> progress chunks (``stream.progress``)."""
        return cast(
            "ProgressResponse | AsyncStream",
            await self._call(Client.pull, model, insecure=insecure, stream=stream, on_retry=on_retry),
        )

    @overload
    async def push(
        self, model: str, *, insecure: bool = ..., stream: Literal[False] = ..., on_retry: OnRetry | None = ...
    ) -> ProgressResponse: ...
    @overload
    async def push(
        self, model: str, *, insecure: bool = ..., stream: Literal[True], on_retry: OnRetry | None = ...
    ) -> AsyncStream: ...
    async def push(
        self, model: str, *, insecure: bool = False, stream: bool = False, on_retry: OnRetry | None = None
    ) -> ProgressResponse | AsyncStream:
        """POST /api/push: upload ``namespace/model:tag`` to ollama.com (needs an account key)."""
        return cast(
            "ProgressResponse | AsyncStream",
            await self._call(Client.push, model, insecure=insecure, stream=stream, on_retry=on_retry),
        )

    @overload
    async def create(self, model: str, *args: Any, stream: Literal[False] = ..., **fields: Any) -> ProgressResponse: ...
    @overload
    async def create(self, model: str, *args: Any, stream: Literal[True], **fields: Any) -> AsyncStream: ...
    async def create(
        self, model: str, *args: Any, stream: bool = False, **fields: Any
    ) -> ProgressResponse | AsyncStream:
        """POST /api/create, as :meth:`Client.create <ollama_nb._client.Client.create>` (``from_``,
        ``files``, ``system`` ...)."""
        return cast(
            "ProgressResponse | AsyncStream", await self._call(Client.create, model, *args, stream=stream, **fields)
        )
