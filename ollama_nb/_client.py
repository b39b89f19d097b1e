"""The Ollama HTTP client: one method per server route, on a ``requests.Session``.

The only module that speaks HTTP. It sends what the caller asked for, turns every failure into an
:mod:`ollama_nb._errors` class, and hands each streamed line to a :class:`~ollama_nb._reply.Reply`
(or :class:`~ollama_nb._reply.Progress`) to merge.

Usage (the same code as in Ollama's docs, with our import)::

    from ollama_nb import Client
    client = Client()                       # OLLAMA_HOST, else http://127.0.0.1:11434
    for part in client.chat("llama3.2", messages=[{"role": "user", "content": "Hi"}], stream=True):
        print(part["message"]["content"], end="", flush=True)
"""

from __future__ import annotations

import builtins
import copy
import functools
import json
import json.scanner
import os
import platform
import socket
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar, overload

import requests
from urllib3.exceptions import ReadTimeoutError

from ._errors import (
    AuthenticationError,
    InsecureKeyError,
    MalformedChunk,
    ModelNotFound,
    OllamaError,
    RequestError,
    ResponseError,
    ServerStreamError,
    ServerUnreachable,
    StallTimeout,
    StreamCut,
    StreamError,
    _error_text,
    unexpected,
)
from ._hosts import CLOUD_HOST, cloud_model_name, is_cloud, is_loopback, parse_host
from ._redact import remember
from ._refusals import classify
from ._reply import (
    ChatResponse,
    Chunk,
    EmbeddingsResponse,
    EmbedResponse,
    GenerateResponse,
    ListResponse,
    ProcessResponse,
    Progress,
    ProgressResponse,
    Reply,
    ShowResponse,
    StatusResponse,
    WebFetchResponse,
    WebSearchResponse,
)
from ._request import as_tool, check_seconds, check_think, drop_none, encode_image, generation_fields, message, plain
from ._retry import OnRetry, Retry
from ._retry import call as with_retries
from ._session import DirectSession
from ._status import FAILED, INTERRUPTED, STOPPED
from ._version import __version__

__all__ = ["Client", "Stream"]

#: Connect fast-fails a dead host; read bounds the *silence between chunks* (requests applies it to
#: every socket read), and must outlast a big model loading before its first token: the server
#: gives a stalled load 5 minutes (OLLAMA_LOAD_TIMEOUT), so its own error arrives before ours.
DEFAULT_TIMEOUT = (5.0, 330.0)
#: A non-streamed answer sends no byte until it is complete, so its read timeout must cover the
#: whole generation (ollama-python waits forever; we give up after half an hour) ...
ANSWER_TIMEOUT = 1800.0
#: ... and a non-streamed pull/push/create the whole download or upload.
TRANSFER_TIMEOUT = 4 * 3600.0
#: Where web_search / web_fetch go, as with ollama-python (a Client(web_host=...) may point elsewhere).
WEB_HOST = CLOUD_HOST
_SCAN = (json.scanner.c_make_scanner or json.scanner.py_make_scanner)(json.JSONDecoder())  # type: ignore[attr-defined]
_C = TypeVar("_C", bound=Chunk)
_F = TypeVar("_F", bound=Callable[..., Any])


def _without_raw_frames(fn: _F) -> _F:
    """Re-raise an OllamaError from ``fn`` with ``fn``'s own frame dropped from the traceback.

    IPython's verbose tracebacks (``%xmode Verbose``) print every frame's local variables, and the
    frames that read an error body hold the server's raw text, which may echo the key. The error
    itself is redacted (ollama_nb._redact); this keeps the raw text out of the traceback too.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except OllamaError as err:
            raise err.with_traceback(None)  # noqa: B904 - the same error, only the frame goes

    return wrapper  # type: ignore[return-value]


def _is_read_timeout(exc: BaseException) -> bool:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, (ReadTimeoutError, requests.exceptions.ReadTimeout, socket.timeout)):
            return True
        if any(isinstance(a, ReadTimeoutError) for a in getattr(exc, "args", ())):
            return True
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return False


class Stream:
    """An answer arriving line by line. Iterate for :class:`~ollama_nb._reply.Chunk` objects.

    ``reply`` (chat/generate) or ``progress`` (pull/push/create) merges every line as it passes.
    ``close()`` — or breaking out of a ``for`` loop over it, or leaving a ``with`` block — closes the
    HTTP response, which is what makes Ollama stop generating. ``close()`` may be called from another
    thread (a Stop button) while one is iterating: the iteration then ends quietly, status "stopped".
    """

    def __init__(self, client: Client, resp: requests.Response, result: Reply | Progress) -> None:
        self._client = client
        self._resp = resp
        self.result = result
        # What each line becomes: ollama-python's type names (still a Chunk, a dict).
        self._type: type[Chunk] = (
            ProgressResponse
            if isinstance(result, Progress)
            else ChatResponse
            if result.kind == "chat"
            else GenerateResponse
        )
        #: A body that ends cleanly before the final ``done`` chunk: ollama-python just stops
        #: iterating, and so do we by default (the Reply is marked "failed" with a StreamCut in
        #: ``reply.error``). Our views set this to raise the StreamCut instead.
        self.require_done = False
        self._closed = False
        self._started = False
        self._inside = False  # within `with stream:`, whose exit decides how a left loop ended
        self._next_it: Iterator[Chunk] | None = None

    @property
    def reply(self) -> Reply:
        assert isinstance(self.result, Reply), "this stream carries progress, not a reply"
        return self.result

    @property
    def progress(self) -> Progress:
        assert isinstance(self.result, Progress), "this stream carries a reply, not progress"
        return self.result

    @property
    def closed(self) -> bool:
        return self._closed

    def __iter__(self) -> Iterator[Chunk]:
        if self._started:
            raise RuntimeError("A stream can be read only once; keep the parts you need, or use .reply.")
        self._started = True
        # A fresh generator that the Stream does not keep: when a `for` loop over it is left early,
        # the generator is dropped at once and its `finally` closes the connection.
        return self._lines()

    def __next__(self) -> Chunk:
        if self._next_it is None:
            self._next_it = iter(self)
        return next(self._next_it)

    def _lines(self) -> Iterator[Chunk]:
        result = self.result
        add = result.add
        scan = _SCAN
        # Wrapping the top object is one C-level dict copy; nested ones are wrapped lazily on
        # attribute access. (json's object_hook would wrap all of them, at twice the parse cost.)
        chunk = self._type
        buf = b""
        try:
            for data in self._resp.iter_content(chunk_size=None):
                if buf:
                    data = buf + data
                lines = data.split(b"\n")
                buf = lines.pop()
                for line in lines:
                    if not line:
                        continue
                    # One C-level parse per line: json's own scanner, without json.loads' Python
                    # wrappers (encoding sniffing, a trailing-whitespace regex), which cost as much
                    # again as the parse. Anything unusual takes the careful path below.
                    try:
                        text = line.decode()
                        obj, end = scan(text, 0)
                        if end != len(text) or type(obj) is not dict:
                            raise ValueError
                    except (ValueError, StopIteration):
                        obj = self._parse_carefully(line)
                        if obj is None:
                            continue
                    if "error" in obj:
                        raise self._error_line(obj)
                    add(obj)
                    yield chunk(obj)
            if buf.strip():
                obj = self._parse_carefully(buf)
                if obj is not None:
                    if "error" in obj:
                        raise self._error_line(obj)
                    add(obj)
                    yield chunk(obj)
            if not result.done and not self._closed and isinstance(result, Reply):
                cut = StreamCut(self._client.host, "the body ended before the final chunk", reply=result)
                if self.require_done:
                    raise cut
                result.end(FAILED, cut)
        except GeneratorExit:
            # The loop was left early. Inside `with stream:` the exit says why (a Ctrl-C in the
            # loop's body unwinds the loop, dropping this generator, before it reaches the exit).
            if not self._inside:
                result.end(STOPPED)
            raise
        except KeyboardInterrupt:
            result.end(INTERRUPTED)
            raise
        except StreamError as err:
            if self._closed:
                return
            result.end(FAILED, err)
            raise
        except ResponseError as err:
            result.end(FAILED, err)
            raise
        except Exception as exc:
            if self._closed:  # closed from another thread: reads fail in assorted ways; all mean "stopped"
                return
            if _is_read_timeout(exc):
                failure: OllamaError = StallTimeout(self._client.host, self._client.timeout[1], reply=self._partial())
            else:
                failure = StreamCut(self._client.host, f"{type(exc).__name__}: {exc}", reply=self._partial())
            result.end(FAILED, failure)
            raise failure from None
        finally:
            self._resp.close()
            # This frame stays in the traceback of an error it raises, and verbose tracebacks
            # print its locals: leave none of the server's raw bytes in them (see _without_raw_frames).
            data = buf = line = b""
            lines, text, obj = [], "", {}

    def _parse_carefully(self, line: bytes) -> dict[str, Any] | None:
        """json.loads for lines the fast path refused: None for a blank line, else a dict or
        MalformedChunk."""
        if line.isspace():
            return None
        try:
            obj = json.loads(line)
        except ValueError:
            obj = None
        if type(obj) is not dict:
            raise MalformedChunk(line, reply=self._partial())
        return obj

    def _partial(self) -> Reply | None:
        return self.result if isinstance(self.result, Reply) else None

    def _error_line(self, obj: dict[str, Any]) -> OllamaError:
        text = _error_text(obj)
        result = self.result
        if isinstance(result, Progress) and "file does not exist" in text:
            # What a pull of a name that is not in the library looks like (status 200, then this
            # line); -1 as ollama-python reports any error line.
            return ModelNotFound(text, -1, result.model, pulling=True).suggest(self._client._installed())
        return ServerStreamError(text, reply=self._partial())

    def close(self, status: str = STOPPED, error: BaseException | None = None) -> None:
        """Stop reading and close the connection (Ollama stops generating). Safe from any thread.

        ``status`` is how an unfinished answer is marked: "stopped" (a Stop button, a ``break``),
        "interrupted" (a Ctrl-C between two chunks) or "failed" (with ``error``); an answer that
        already ended keeps its ending.
        """
        if self._closed:
            return
        self._closed = True
        self.result.end(status, error)
        try:
            # Wakes a reader blocked in recv on another thread; the server sees the client leave now.
            self._resp.raw.shutdown()
        except (OSError, ValueError, RuntimeError, AttributeError):  # released or closed already; not urllib3's
            pass
        if not self._started or self._next_it is not None:
            self._resp.close()

    def __enter__(self) -> Stream:
        self._inside = True
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        """Leaving ``with stream:`` closes it, ended by what left the block: a Ctrl-C marks the
        answer "interrupted", another exception "failed" (with it), a ``break`` "stopped"."""
        self._inside = False
        if kind is not None and issubclass(kind, KeyboardInterrupt):
            self.close(INTERRUPTED)
        elif exc is not None:
            self.close(FAILED, exc if isinstance(exc, OllamaError) else unexpected(exc))
        else:
            self.close()

    def __del__(self) -> None:
        try:
            if not self._closed and not self._started:
                self._resp.close()
        except Exception:
            pass

    def __repr__(self) -> str:
        return (
            f"<Stream {type(self.result).__name__.lower()} of {self.result.model!r}{' closed' if self._closed else ''}>"
        )


class Client:
    """A client for one Ollama server: local (default) or Ollama Cloud (``host="https://ollama.com"``).

    Parameters
    ----------
    host:
        Base URL or ``OLLAMA_HOST``-style text (see :func:`ollama_nb._hosts.parse_host`). Default:
        ``OLLAMA_HOST``, else ``http://127.0.0.1:11434``.
    api_key:
        Sent as ``Authorization: Bearer ...``. Default: an ``Authorization`` entry in ``headers``, else
        ``OLLAMA_API_KEY``. A key given here or in ``headers`` for a plain-http host that is not this
        machine raises :class:`~ollama_nb._errors.InsecureKeyError`; one from the environment is simply
        not sent there. The key never appears in a repr or an error message.
    headers:
        Extra HTTP headers for every request (``Content-Type`` and ``Accept`` stay
        ``application/json``, as with ollama-python).
    timeout:
        A number, or ``(connect, read)``: the read limit for every request, streamed or not (as
        httpx applies ollama-python's ``timeout``). Default: connect 5 s; a stream may go 330 s
        without a byte (the server itself allows a model load 5 minutes); a non-streamed answer,
        which sends nothing until it is complete, gets 30 minutes (pull/push/create: 4 hours). A
        streamed pull/push/create has no silence limit: verifying a big download sends nothing.
    retries:
        What to do when the server refuses for now (503 busy or overloaded, 429 with
        Retry-After): a :class:`~ollama_nb._retry.Retry`, a number of retries, or ``0`` to fail at
        once. Default ``Retry()``: up to 5 retries within 90 s, jittered exponential backoff,
        Retry-After honoured. Usage-limit 429s are never retried.
    on_retry:
        Called with a :class:`~ollama_nb._retry.RetryWait` as each such wait starts and each second
        it lasts (``print`` shows "server busy, retrying in 4 s (2 of 5)"). ``chat``, ``generate``,
        ``pull``, ``push`` and ``create`` also take ``on_retry=`` for one call, and
        ``cancel_retry=`` (a ``threading.Event``: setting it ends the wait with
        :class:`~ollama_nb._errors.RetryCancelled`); neither is sent to the server.
    web_host:
        Where :meth:`web_search` / :meth:`web_fetch` go. Default: ``OLLAMA_NB_WEB_HOST``, else
        ``https://ollama.com`` as with ollama-python; tests point it at an emulator on loopback.
        The key goes there only over https or to this machine.

    With Ollama Cloud, model names may carry the local server's cloud suffix: ``gpt-oss:120b-cloud``,
    ``gpt-oss:120b:cloud`` and ``gpt-oss:120b`` all mean the cloud model ``gpt-oss:120b`` (the suffix is
    stripped before sending).

    The request body is what ollama-python sends for the same call, ``stream`` as given. Methods
    return a :class:`~ollama_nb._reply.Chunk` (read as a dict or by attribute), a
    :class:`~ollama_nb._reply.Reply` (chat/generate), or, with ``stream=True``, a :class:`Stream`.
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
        **_ignored: Any,  # ollama-python's other httpx options (follow_redirects=...) have no meaning here
    ) -> None:
        self.host = parse_host(host if host is not None else os.environ.get("OLLAMA_HOST"))
        self.web_host = (web_host or os.environ.get("OLLAMA_NB_WEB_HOST") or WEB_HOST).rstrip("/")
        self.retries = Retry.of(retries)
        self.on_retry = on_retry
        self.cancel_retry: threading.Event | None = None
        if timeout is not None and hasattr(timeout, "read") and hasattr(timeout, "connect"):
            # An httpx.Timeout, as ollama-python code passes: its connect/read parts (None = ours).
            given: Any = timeout
            timeout = (
                (given.connect or DEFAULT_TIMEOUT[0], given.read or DEFAULT_TIMEOUT[1])
                if (given.connect or given.read)
                else None
            )
        self._timeout_given = timeout is not None
        if timeout is None:
            self.timeout = DEFAULT_TIMEOUT
        elif isinstance(timeout, (int, float)):
            seconds = check_seconds(timeout)
            self.timeout = (min(DEFAULT_TIMEOUT[0], seconds), seconds)
        else:
            self.timeout = (check_seconds(timeout[0], "connect timeout"), check_seconds(timeout[1], "read timeout"))
        session = DirectSession()  # requests for this machine never go through a proxy
        session.verify = verify  # httpx's and requests' meaning alike: False, or a CA bundle path
        user_headers = {k: v for k, v in (headers or {}).items() if v is not None}
        auth = next((user_headers.pop(k) for k in list(user_headers) if k.lower() == "authorization"), None)
        # The body is always JSON: a caller's Content-Type/Accept must not replace ours (as in
        # ollama-python, which sets them after the caller's headers).
        for k in [k for k in user_headers if k.lower() in ("content-type", "accept")]:
            del user_headers[k]
        session.headers.update(
            {
                "User-Agent": f"ollama-nb/{__version__} ({platform.machine()} {platform.system().lower()}) "
                f"Python/{platform.python_version()}",
                **user_headers,
                "Content-Type": "application/json",
                "Accept": "application/json",
            }
        )
        secure = self.host.startswith("https://") or is_loopback(self.host)
        self._key_withheld = False
        if api_key:
            auth = f"Bearer {api_key}"
        if auth:
            if not secure:
                raise InsecureKeyError(self.host)
        elif os.environ.get("OLLAMA_API_KEY"):
            if secure:
                auth = f"Bearer {os.environ['OLLAMA_API_KEY']}"
            else:
                self._key_withheld = True
        if auth:
            session.headers["Authorization"] = auth
            remember(auth)  # whatever a server echoes back is masked from now on (ollama_nb._redact)
        # The web tools talk to ollama.com (https) even when the server is a plain-http machine
        # that may not see the key: they may use the key the server does not get.
        self._web_auth = auth or (
            f"Bearer {os.environ['OLLAMA_API_KEY']}" if os.environ.get("OLLAMA_API_KEY") else None
        )
        remember(self._web_auth)
        self._session = session
        self.cloud = is_cloud(self.host)

    # -- plumbing -------------------------------------------------------------------------
    @property
    def has_key(self) -> bool:
        """Whether requests carry an Authorization header (the key itself is never shown)."""
        return "Authorization" in self._session.headers

    def hooked(self, *, on_retry: OnRetry | None = None, cancel_retry: threading.Event | None = None) -> Client:
        """This client (one session, host and key) with its own retry hook for every call: a view
        that shares a notebook's client shows its own waits and stops them with its own Stop.
        Closing either closes both."""
        twin = copy.copy(self)
        twin.on_retry, twin.cancel_retry = on_retry, cancel_retry
        return twin

    def __repr__(self) -> str:
        return f"Client(host={self.host!r}, api_key={'set' if self.has_key else 'not set'})"

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _model(self, model: str) -> str:
        if not model:
            raise RequestError(
                "must provide a model", hint="Pass a model name, e.g. 'llama3.2'; `%ollama list` shows yours."
            )
        return cloud_model_name(model) if self.cloud else model

    def _whole(self, limit: float) -> tuple[float, float]:
        """The timeout of a non-streamed answer: the caller's, else one that covers all of it."""
        return self.timeout if self._timeout_given else (self.timeout[0], limit)

    def _send(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        on_retry: OnRetry | None = None,
        cancel_retry: threading.Event | None = None,
        **kw: Any,
    ) -> requests.Response:
        # A refused request (503, 429 + Retry-After) never started: retry.py sends it again later.
        return with_retries(
            self.retries,
            lambda: self._send_once(method, path, body, **kw),
            on_wait=on_retry or self.on_retry,
            cancel=cancel_retry or self.cancel_retry,
        )

    def _send_once(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        stream: bool = False,
        timeout: tuple[float, float | None] | None = None,
        url: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        host = self.host
        timeout = timeout or self.timeout
        try:
            resp = self._session.request(
                method,
                url or host + path,
                data=None if body is None else json.dumps(body),
                stream=stream,
                timeout=timeout,
                headers=headers,
            )
        except requests.exceptions.ConnectTimeout as exc:
            raise ServerUnreachable(host if url is None else url, f"connect timed out: {exc}") from None
        except requests.exceptions.ReadTimeout:
            raise StallTimeout(host, timeout[1] or 0.0) from None
        except requests.exceptions.ConnectionError as exc:
            if _is_read_timeout(exc):
                raise StallTimeout(host, timeout[1] or 0.0) from None
            raise ServerUnreachable(host if url is None else url, str(exc)) from None
        if resp.status_code >= 400:
            self._raise_for_status(resp, path, (body or {}).get("model", "") if isinstance(body, dict) else "")
        return resp

    @_without_raw_frames
    def _raise_for_status(self, resp: requests.Response, path: str, model: str) -> None:
        try:
            text = resp.text
            resp.close()
        except requests.exceptions.RequestException:
            text = ""
        try:
            message = _error_text(json.loads(text))
        except ValueError:
            message = text.strip() or resp.reason or "no message"
        status = resp.status_code
        refusal = classify(status, text, resp.headers, self.host)
        if refusal is not None:
            raise refusal
        if status in (401, 403):
            hint = AuthenticationError.hint
            if self._key_withheld:
                hint = (
                    f"OLLAMA_API_KEY is set but was not sent: {self.host} is plain http and not this machine. "
                    "Use an https:// host."
                )
            elif status == 403 and "disabled" in message:
                hint = (
                    "Cloud models are disabled on this Ollama server (OLLAMA_NO_CLOUD); "
                    "enable them or use a local model."
                )
            raise AuthenticationError(message, status, hint=hint)
        if status == 404 and message.strip() == "404 page not found":
            raise ResponseError(
                message,
                status,
                hint=f"This server has no {path} route: is {self.host} an Ollama server, and recent enough?",
            )
        if (status == 404 and "not found" in message) or (path == "/api/pull" and "file does not exist" in message):
            # A non-streamed pull of a name not in the library answers 500 "file does not exist".
            raise ModelNotFound(message, status, model, pulling=path == "/api/pull").suggest(self._installed())
        hints = {
            400: "The server refused the request as sent: its message above says what to change.",
            405: f"{path} does not take this method (a proxy in the way?).",
            429: "Too many requests: wait a moment and try again (cloud plans have hourly limits).",
            499: "The request was canceled while it waited for the model.",
            500: "The server failed: check the Ollama server log; trying again often helps.",
            502: "The server could not reach Ollama Cloud: check its internet connection.",
            503: "The server is busy: wait a moment and try again.",
        }
        raise ResponseError(message, status, hint=hints.get(status, ""))

    @_without_raw_frames
    def _objects(self, resp: requests.Response, hook: Any = None) -> list[dict[str, Any]]:
        """The JSON object(s) of a whole body: one object (what ``stream: false`` gets), or NDJSON
        lines from a server that streamed anyway. An ``{"error": ...}`` among them is raised.
        ``hook`` wraps every object (Chunk for small answers; a long Reply parses plain dicts)."""
        data = resp.content
        try:
            objs = [json.loads(data, object_hook=hook)]
        except ValueError:
            objs = [self._line(line, hook) for line in data.split(b"\n") if line.strip()]
        for obj in objs:
            if not isinstance(obj, dict):
                raise ResponseError(
                    repr(data[:200]),
                    resp.status_code,
                    hint="The server did not answer a JSON object: is this an Ollama server?",
                )
            if "error" in obj:
                if len(objs) > 1:
                    raise ServerStreamError(_error_text(obj))
                raise ResponseError(_error_text(obj), resp.status_code)
        return objs

    @staticmethod
    def _line(line: bytes, hook: Any = None) -> Any:
        try:
            return json.loads(line, object_hook=hook)
        except ValueError:
            raise MalformedChunk(line) from None

    def _json(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        timeout: tuple[float, float] | None = None,
        as_type: type[_C] = Chunk,  # type: ignore[assignment]  # the default is Chunk itself
        **kw: Any,
    ) -> _C:
        resp = self._send(method, path, body, timeout=timeout, **kw)
        if not resp.content.strip():  # an empty 200 body
            return as_type(status="success")
        return as_type(self._objects(resp, Chunk)[-1])

    def _answer(
        self, path: str, body: dict[str, Any], stream: bool, kind: str, reply: Reply | None, hooks: dict[str, Any]
    ) -> Reply | Stream:
        body["stream"] = bool(stream)
        if reply is None:
            reply = Reply(body["model"], kind=kind, request=dict(body))
        else:
            reply.begin(dict(body), kind)
        if stream:
            return Stream(self, self._send("POST", path, body, stream=True, **hooks), reply)
        resp = self._send("POST", path, body, timeout=self._whole(ANSWER_TIMEOUT), **hooks)
        objs = self._objects(resp)
        del resp  # the body's bytes are not needed once parsed: a long answer is held once, not twice
        for obj in objs:
            reply.add(obj)
        reply.complete(objs[-1])
        return reply

    def _progress(
        self, path: str, body: dict[str, Any], stream: bool, action: str, hooks: dict[str, Any]
    ) -> ProgressResponse | Stream:
        body["stream"] = bool(stream)
        if stream:
            # No silence limit: a pull verifying gigabytes of digests sends nothing for minutes.
            resp = self._send("POST", path, body, stream=True, timeout=(self.timeout[0], None), **hooks)
            return Stream(self, resp, Progress(body.get("model", ""), action=action))
        return self._json(
            "POST", path, body, timeout=self._whole(TRANSFER_TIMEOUT), as_type=ProgressResponse, **hooks
        )

    # -- generation -------------------------------------------------------------------------
    @overload
    def generate(
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
        reply: Reply | None = ...,
        on_retry: OnRetry | None = ...,
        cancel_retry: threading.Event | None = ...,
    ) -> Reply: ...

    @overload
    def generate(
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
        reply: Reply | None = ...,
        on_retry: OnRetry | None = ...,
        cancel_retry: threading.Event | None = ...,
    ) -> Stream: ...

    def generate(
        self,
        model: str = "",
        prompt: str | None = None,
        suffix: str | None = None,
        *,
        system: str | None = None,
        template: str | None = None,
        context: Sequence[int] | None = None,
        stream: bool = False,
        think: bool | Literal["low", "medium", "high"] | None = None,
        logprobs: bool | None = None,
        top_logprobs: int | None = None,
        raw: bool | None = None,
        format: Any = None,
        images: Sequence[Any] | None = None,
        options: Mapping[str, Any] | None = None,
        keep_alive: float | str | None = None,
        truncate: bool | None = None,
        shift: bool | None = None,
        width: int | None = None,
        height: int | None = None,
        steps: int | None = None,
        reply: Reply | None = None,
        on_retry: OnRetry | None = None,
        cancel_retry: threading.Event | None = None,
    ) -> Reply | Stream:
        """POST /api/generate: complete ``prompt``. ``stream=True`` -> a :class:`Stream`, else a :class:`Reply`.

        ``images`` may be bytes, paths, base64 text, ``Image`` objects or PIL images. An empty
        prompt only loads the model (``keep_alive=0`` unloads it). ``width``/``height``/``steps``
        are for image-generation models (sent as given). ``reply``: a :class:`Reply` to fill
        instead of a new one (how a view's turn keeps one Reply from start to end); ``on_retry`` /
        ``cancel_retry``: this call's retry hook (see :class:`Client`). None of the three is sent.
        """
        body = drop_none(
            model=self._model(model),
            prompt=prompt,
            suffix=suffix,
            system=system,
            template=template,
            context=list(context) if context is not None else None,
            think=check_think(think),
            raw=raw,
            images=[encode_image(i) for i in images] if images else None,
            **generation_fields(format, options, keep_alive, logprobs, top_logprobs, truncate, shift),
            width=width,
            height=height,
            steps=steps,
        )
        hooks = {"on_retry": on_retry, "cancel_retry": cancel_retry}
        return self._answer("/api/generate", body, stream, "generate", reply, hooks)

    @overload
    def chat(
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
        reply: Reply | None = ...,
        on_retry: OnRetry | None = ...,
        cancel_retry: threading.Event | None = ...,
    ) -> Reply: ...

    @overload
    def chat(
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
        reply: Reply | None = ...,
        on_retry: OnRetry | None = ...,
        cancel_retry: threading.Event | None = ...,
    ) -> Stream: ...

    def chat(
        self,
        model: str = "",
        messages: Sequence[Any] | None = None,
        *,
        tools: Sequence[Any] | None = None,
        stream: bool = False,
        think: bool | Literal["low", "medium", "high"] | None = None,
        logprobs: bool | None = None,
        top_logprobs: int | None = None,
        format: Any = None,
        options: Mapping[str, Any] | None = None,
        keep_alive: float | str | None = None,
        truncate: bool | None = None,
        shift: bool | None = None,
        reply: Reply | None = None,
        on_retry: OnRetry | None = None,
        cancel_retry: threading.Event | None = None,
    ) -> Reply | Stream:
        """POST /api/chat: answer the last message of ``messages``.

        ``messages`` are dicts or ``Message`` objects (``role``, ``content``, optional ``images``/
        ``thinking``/``tool_calls``/``tool_name``); ``tools`` may be JSON-schema dicts, ``Tool``
        objects or plain Python functions (their signature and Google-style docstring become the
        schema, as ollama-python converts them). ``format`` may be ``"json"``, a schema dict or a
        pydantic model class. ``think`` may be ``True``/``False`` or ``"low"``/``"medium"``/``"high"``.
        ``reply``, ``on_retry``, ``cancel_retry``: as for :meth:`generate`, never sent.
        """
        body = drop_none(
            model=self._model(model),
            messages=[message(m) for m in messages or ()],
            tools=[as_tool(t) for t in tools or ()],
            think=check_think(think),
            **generation_fields(format, options, keep_alive, logprobs, top_logprobs, truncate, shift),
        )
        hooks = {"on_retry": on_retry, "cancel_retry": cancel_retry}
        return self._answer("/api/chat", body, stream, "chat", reply, hooks)

    def embed(
        self,
        model: str = "",
        input: str | Sequence[str] = "",
        truncate: bool | None = None,
        options: Mapping[str, Any] | None = None,
        keep_alive: float | str | None = None,
        dimensions: int | None = None,
    ) -> EmbedResponse:
        """POST /api/embed: ``embeddings`` (L2-normalised) for a string or a list of strings."""
        body = drop_none(
            model=self._model(model),
            input=input,
            truncate=truncate,
            options=plain(options) or None,
            keep_alive=keep_alive,
            dimensions=dimensions,
        )
        return self._json("POST", "/api/embed", body, timeout=self._whole(ANSWER_TIMEOUT), as_type=EmbedResponse)

    def map(
        self,
        first: Any,
        items: Any = None,
        *,
        model: str,
        system: str | None = None,
        format: Any = None,
        options: Mapping[str, Any] | None = None,
        think: bool | Literal["low", "medium", "high"] | None = None,
        keep_alive: float | str | None = None,
        embed: bool = False,
        concurrency: int | Literal["auto"] = "auto",
        hosts: Sequence[Any] | None = None,
        errors: Literal["collect", "raise"] = "collect",
        progress: bool | Callable[..., None] = True,
        cache: bool = True,
    ) -> Any:
        """Many requests at once; answers in input order (see README, "Many prompts at once").

        ``map(prompts)``, ``map("Label: {text}", rows)`` (a template filled from each dict, DataFrame
        row or ``{item}``) or ``map(function, items)``. Returns ``Results`` (a list with ``errors``
        and ``stats``), or a pandas Series on the input's index for a DataFrame or Series.
        ``format``: a JSON schema or pydantic model, rows parsed; ``embed=True``: vectors, batched.
        ``concurrency="auto"`` finds the server's level; ``hosts=[...]`` spreads rows over servers.
        Finished rows are logged as they finish; a rerun sends only the missing (``cache=False``:
        all). A failed row is in ``errors`` unless ``errors="raise"``.

        Usage::

            labels = client.map("Positive or negative? {text}", df, model="llama3.2")
        """
        from ._map import run_map

        return run_map(
            self, first, items, model=model, system=system, format=format,
            options=dict(options) if options else None, think=think, keep_alive=keep_alive, embed=embed,
            concurrency=concurrency, hosts=hosts, errors=errors, progress=progress, cache=cache,
        )  # fmt: skip

    def embeddings(
        self,
        model: str = "",
        prompt: str | None = None,
        options: Mapping[str, Any] | None = None,
        keep_alive: float | str | None = None,
    ) -> EmbeddingsResponse:
        """POST /api/embeddings (legacy): one un-normalised ``embedding``. Prefer :meth:`embed`."""
        body = drop_none(model=self._model(model), prompt=prompt, options=plain(options) or None, keep_alive=keep_alive)
        return self._json(
            "POST", "/api/embeddings", body, timeout=self._whole(ANSWER_TIMEOUT), as_type=EmbeddingsResponse
        )

    def load(self, model: str, keep_alive: float | str | None = None) -> Reply:
        """Load a model into memory without generating (an empty generate)."""
        return self.generate(model, keep_alive=keep_alive)

    def unload(self, model: str) -> Reply:
        """Free a model's memory now (an empty generate with ``keep_alive=0``)."""
        return self.generate(model, keep_alive=0)

    # -- models -----------------------------------------------------------------------------
    def list(self) -> ListResponse:
        """GET /api/tags: installed models (on Ollama Cloud: the models the API offers)."""
        return self._json("GET", "/api/tags", as_type=ListResponse)

    def _installed(self) -> builtins.list[str]:
        """Installed model names for a "did you mean" hint; [] if the list cannot be read."""
        try:
            return [str(m.get("model") or m.get("name") or "") for m in self.list().get("models", [])]
        except OllamaError:
            return []

    def show(self, model: str, verbose: bool | None = None) -> ShowResponse:
        """POST /api/show: details, capabilities, parameters, template, license, model_info."""
        return self._json(
            "POST", "/api/show", drop_none(model=self._model(model), verbose=verbose), as_type=ShowResponse
        )

    def ps(self) -> ProcessResponse:
        """GET /api/ps: models loaded in memory, with ``size_vram`` and ``expires_at``."""
        return self._json("GET", "/api/ps", as_type=ProcessResponse)

    def pull(
        self,
        model: str,
        *,
        insecure: bool = False,
        stream: bool = False,
        on_retry: OnRetry | None = None,
        cancel_retry: threading.Event | None = None,
    ) -> ProgressResponse | Stream:
        """POST /api/pull: download a model. ``stream=True`` -> progress lines (``Stream.progress``)."""
        hooks = {"on_retry": on_retry, "cancel_retry": cancel_retry}
        return self._progress("/api/pull", {"model": model, "insecure": insecure}, stream, "pull", hooks)

    def push(
        self,
        model: str,
        *,
        insecure: bool = False,
        stream: bool = False,
        on_retry: OnRetry | None = None,
        cancel_retry: threading.Event | None = None,
    ) -> ProgressResponse | Stream:
        """POST /api/push: upload ``namespace/model:tag`` to ollama.com (needs an account key)."""
        hooks = {"on_retry": on_retry, "cancel_retry": cancel_retry}
        return self._progress("/api/push", {"model": model, "insecure": insecure}, stream, "push", hooks)

    def create(
        self,
        model: str,
        quantize: str | None = None,
        from_: str | None = None,
        files: Mapping[str, str] | None = None,
        adapters: Mapping[str, str] | None = None,
        template: str | None = None,
        license: str | Sequence[str] | None = None,
        system: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        messages: Sequence[Any] | None = None,
        *,
        stream: bool = False,
        on_retry: OnRetry | None = None,
        cancel_retry: threading.Event | None = None,
    ) -> ProgressResponse | Stream:
        """POST /api/create: a new model ``from_`` an installed one (or from uploaded ``files``)."""
        body = drop_none(
            model=model,
            quantize=quantize,
            files=dict(files) if files is not None else None,
            adapters=dict(adapters) if adapters is not None else None,
            template=template,
            license=license,
            system=system,
            parameters=plain(parameters) if parameters is not None else None,
            messages=[message(m) for m in messages] if messages is not None else None,
        )
        if from_ is not None:
            body["from"] = from_
        hooks = {"on_retry": on_retry, "cancel_retry": cancel_retry}
        return self._progress("/api/create", body, stream, "create", hooks)

    def copy(self, source: str, destination: str) -> StatusResponse:
        """POST /api/copy: another name for the same model. Returns ``{"status": "success"}``."""
        self._send("POST", "/api/copy", {"source": source, "destination": destination})
        return StatusResponse(status="success")

    def delete(self, model: str) -> StatusResponse:
        """DELETE /api/delete: remove a model. Returns ``{"status": "success"}``."""
        self._send("DELETE", "/api/delete", {"model": model})
        return StatusResponse(status="success")

    def create_blob(self, path: str | Path) -> str:
        """Upload a file as a blob (POST /api/blobs/:digest, as ollama-python does); return its ``sha256:`` digest.

        The file is hashed, then streamed from disk: it is never held in memory whole.
        """
        import hashlib

        sha = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                sha.update(block)
        digest = "sha256:" + sha.hexdigest()
        with open(path, "rb") as f:
            try:
                resp = self._session.post(
                    f"{self.host}/api/blobs/{digest}", data=f, timeout=self._whole(TRANSFER_TIMEOUT)
                )
            except requests.exceptions.ConnectionError as exc:
                raise ServerUnreachable(self.host, str(exc)) from None
        if resp.status_code >= 400:
            self._raise_for_status(resp, "/api/blobs", "")
        return digest

    def version(self) -> Chunk:
        """GET /api/version: ``{"version": "x.y.z"}``."""
        return self._json("GET", "/api/version")

    def usage(self) -> Chunk:
        """GET /api/usage (Ollama Cloud): the plan's ``limits``, each with ``usage`` as a fraction
        (``{"limits": {"session": {"usage": 0.025, ...}, "weekly": {"usage": 0.335, ...}}}``)."""
        try:
            return self._json("GET", "/api/usage")
        except ResponseError as err:
            if err.status_code == 404:
                raise ResponseError(
                    err.error,
                    404,
                    hint=(
                        f"{self.host} reports no usage: only Ollama Cloud does. Ask https://ollama.com "
                        "with OLLAMA_API_KEY set (`%ollama usage` does that from a local server)."
                    ),
                ) from None
            raise

    # -- web tools (ollama.com) ---------------------------------------------------------------
    def _web(self, what: str, body: dict[str, Any], kind: type[_C]) -> _C:
        # As ollama-python: straight to ollama.com with the account key, whatever the server is.
        if not (self._web_auth or "").startswith("Bearer "):
            raise ValueError(f"Authorization header with Bearer token is required for web {what}")
        url = f"{self.web_host}/api/web_{what}"
        if not (url.startswith("https://") or is_loopback(self.web_host)):
            raise InsecureKeyError(self.web_host)
        return self._json(
            "POST", f"/api/web_{what}", body, url=url, headers={"Authorization": self._web_auth}, as_type=kind
        )

    def web_search(self, query: str, max_results: int = 3) -> WebSearchResponse:
        """Search the web for a query and return the top results.

        Args:
            query: What to search for.
            max_results: How many results to return (1 to 10, default 3).

        Returns:
            WebSearchResponse: results, each with title, url and content.

        Raises:
            ValueError: without an Ollama account key (OLLAMA_API_KEY or api_key=), as in
            ollama-python. (The text above is also the tool description a model reads when
            this is passed as tools=[ollama_nb.web_search].)
        """
        return self._web("search", {"query": query, "max_results": max_results}, WebSearchResponse)

    def web_fetch(self, url: str) -> WebFetchResponse:
        """Fetch one web page and return its text.

        Args:
            url: The address of the page to fetch.

        Returns:
            WebFetchResponse: the page's title, content and links.

        Raises:
            ValueError: without an Ollama account key, as web_search.
        """
        return self._web("fetch", {"url": url}, WebFetchResponse)
