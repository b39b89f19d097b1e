"""The sync client's HTTP: one ``requests`` session, sending with retries, failures as our errors.

The only module (with :mod:`ollama_nb._stream`, which reads what it opened) that speaks HTTP.
:class:`Transport` is the plumbing under :class:`~ollama_nb.Client`'s routes: the settings come
from :class:`~ollama_nb._policy.Policy`, what an error answer means from
:mod:`ollama_nb._http_errors`, the body's objects from :mod:`ollama_nb._wire`.
"""

from __future__ import annotations

import base64
import builtins
import copy
import functools
import threading
from collections.abc import Mapping
from typing import Any, TypeVar

import requests

from ._errors import InvalidRequest, ModelNotFound, OllamaError, RequestError, ServerUnreachable, StallTimeout
from ._hosts import cloud_model_name
from ._http_errors import line_error, status_error
from ._models_memo import CHANGES_MODELS, ModelMemo, models_changed
from ._policy import ANSWER_TIMEOUT, TRANSFER_TIMEOUT, Policy
from ._redact import remember, secret, secret_headers
from ._reply import Progress, Reply
from ._request import check_think, think_levels
from ._retry import OnRetry, Retry
from ._retry import call as with_retries
from ._session import DirectSession
from ._stream import Stream, is_read_timeout
from ._types import Chunk, ProgressResponse
from ._wire import body_objects, request_data, without_raw_frames

__all__ = ["Transport"]

_C = TypeVar("_C", bound=Chunk)
_T = TypeVar("_T", bound="Transport")


class Transport:
    """A session for one Ollama server, and the ways a route uses it (see :class:`~ollama_nb.Client`)."""

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
        proxy: str | None = None,
        auth: Any = None,
        **_ignored: Any,  # ollama-python's other httpx options (follow_redirects=...) have no meaning here
    ) -> None:
        api_key, headers = secret(api_key), secret_headers(headers)  # masked in this frame's locals too
        self._policy = policy = Policy.of(host, api_key, headers, timeout, web_host)
        self.host, self.web_host, self.timeout = policy.host, policy.web_host, policy.timeout
        self.cloud = policy.cloud
        self.retries = Retry.of(retries)
        self.on_retry = on_retry
        self.cancel_retry: threading.Event | None = None
        # model -> the think levels it lists (None: not said); emptied when the models change
        self._levels: ModelMemo[str, tuple[str, ...] | None] = ModelMemo()
        self._session = DirectSession()  # requests for this machine never go through a proxy
        self._session.verify = verify  # httpx's and requests' meaning alike: False, or a CA bundle path
        self._session.headers.update(policy.headers)
        explicit_key = bool(api_key) or any(k.lower() == "authorization" for k in headers or {})
        _honour_httpx_options(self._session, proxy, auth, has_key=explicit_key)

    @property
    def has_key(self) -> bool:
        """Whether requests carry an Authorization header (the key itself is never shown)."""
        return "Authorization" in self._session.headers

    def hooked(self: _T, *, on_retry: OnRetry | None = None, cancel_retry: threading.Event | None = None) -> _T:
        """This client (one session, host and key) with its own retry hook for every call: a view
        that shares a notebook's client shows its own waits and stops them with its own Stop.
        Closing either closes both."""
        twin = copy.copy(self)
        twin.on_retry, twin.cancel_retry = on_retry, cancel_retry
        return twin

    def __repr__(self) -> str:
        return f"{type(self).__name__}(host={self.host!r}, api_key={'set' if self.has_key else 'not set'})"

    def close(self) -> None:
        self._session.close()

    def __enter__(self: _T) -> _T:
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
        return self._policy.whole(limit)

    def installed(self) -> builtins.list[str]:
        """Installed model names for a "did you mean" hint; [] if the list cannot be read."""
        try:
            models: builtins.list[dict[str, Any]] = self._json("GET", "/api/tags").get("models", [])
            return [str(m.get("model") or m.get("name") or "") for m in models]
        except OllamaError:
            return []

    def _think(self, model: str, think: Any) -> Any:
        """``think`` checked against the model's own levels when the server lists them in
        ``/api/show`` (asked once per model, only for a named level), else the fixed list."""
        if not isinstance(think, str) or not model:
            return check_think(think)
        levels = self._levels.fresh()
        if model not in levels:
            try:
                levels[model] = think_levels(self._json("POST", "/api/show", {"model": model}))
            except OllamaError:
                return check_think(think)  # not remembered: the chat itself will say what is wrong
        return check_think(think, levels[model])

    # -- sending --------------------------------------------------------------------------------
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
        try:
            return with_retries(
                self.retries,
                functools.partial(self._send_once, method, path, body, **kw),
                on_wait=on_retry or self.on_retry,
                cancel=cancel_retry or self.cancel_retry,
            )
        except KeyboardInterrupt:
            # Raised afresh: a traceback of the user's call and our three frames, not 60 lines
            # through requests, urllib3 and socket (the connection is closed by then).
            raise KeyboardInterrupt(f"{method} {path} interrupted: request cancelled, connection closed") from None

    def _send_once(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        stream: bool = False,
        timeout: tuple[float, float | None] | None = None,
        url: str | None = None,
        web: bool = False,
    ) -> requests.Response:
        host = self.host
        timeout = timeout or self.timeout
        try:
            # The body is read here, not inside requests, so that an interrupt while it arrives
            # closes this response's connection (requests would leave it to the GC); an interrupt
            # before the headers has urllib3 close it.
            # auth= is the login for this client's server: never sent to another host (the web tools').
            # The web tools' key is put in at the last moment, never held in a local of a frame a
            # verbose traceback shows (the session's own headers hold the server's key).
            login = None if url is None else _no_login
            resp = self._session.request(
                method,
                url or host + path,
                data=request_data(body),
                stream=True,
                timeout=timeout,
                headers=self._policy.web_headers() if web else None,
                auth=login,
            )
            if not stream:
                _read_whole(resp)
        except requests.exceptions.ConnectTimeout as exc:
            raise ServerUnreachable(host if url is None else url, f"connect timed out: {exc}") from None
        except requests.exceptions.ReadTimeout:
            raise StallTimeout(host, timeout[1] or 0.0) from None
        except requests.exceptions.ConnectionError as exc:
            if is_read_timeout(exc):
                raise StallTimeout(host, timeout[1] or 0.0) from None
            raise ServerUnreachable(host if url is None else url, str(exc)) from None
        if resp.status_code >= 400:
            self._raise_for_status(resp, path, (body or {}).get("model", "") if isinstance(body, dict) else "")
        return resp

    @without_raw_frames
    def _raise_for_status(self, resp: requests.Response, path: str, model: str) -> None:
        try:
            text = resp.text
            resp.close()
        except requests.exceptions.RequestException:
            text = ""
        err = status_error(
            resp.status_code,
            text,
            resp.headers,
            host=self.host,
            path=path,
            model=model,
            reason=resp.reason or "",
            key_withheld=self._policy.key_withheld,
        )
        if isinstance(err, ModelNotFound):
            err.suggest(self.installed())
        raise err

    # -- reading --------------------------------------------------------------------------------
    @without_raw_frames
    def _objects(self, resp: requests.Response, hook: Any = None) -> list[dict[str, Any]]:
        """The object(s) of a whole body; an ``{"error": ...}`` among them is raised."""
        objs = body_objects(resp.content, resp.status_code, hook)
        for obj in objs:
            if "error" in obj:
                raise line_error(obj, status=resp.status_code, in_stream=len(objs) > 1)
        return objs

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
        done = self._json("POST", path, body, timeout=self._whole(TRANSFER_TIMEOUT), as_type=ProgressResponse, **hooks)
        if action in CHANGES_MODELS:
            models_changed()  # a streamed one says so in Stream, when its last line came
        return done


def _read_whole(resp: requests.Response) -> None:
    """Read a non-streamed body now; on any failure (an interrupt too) close its connection."""
    try:
        resp.content  # noqa: B018 - reading it is the point: requests keeps the bytes
    except BaseException:
        resp.close()
        raise


def _honour_httpx_options(session: requests.Session, proxy: Any, auth: Any, *, has_key: bool) -> None:
    """ollama-python hands ``proxy=`` and ``auth=`` to httpx; the same meaning on ``requests``, or a
    refusal that says what to pass instead (never silently ignored)."""
    if proxy is not None:
        if not isinstance(proxy, str):
            raise InvalidRequest(
                f"proxy must be a URL, not a {type(proxy).__name__}.",
                hint='Pass the proxy as text, e.g. Client(proxy="http://proxy.example:3128").',
            )
        session.proxies = {"http": proxy, "https": proxy}
    if auth is None:
        return
    if type(auth).__module__.split(".")[0] == "httpx" or not (_is_pair(auth) or callable(auth)):
        raise InvalidRequest(
            f"auth={type(auth).__name__} cannot be used: this client sends with requests, not httpx.",
            hint="Pass auth=(user, password) for Basic auth, a requests.auth.AuthBase, or api_key= for a Bearer key.",
        )
    if has_key:
        raise InvalidRequest(
            "auth= and api_key= (or an Authorization header) both set the Authorization header.",
            hint="Pass one of them: api_key= for Ollama Cloud, auth= for a login in front of the server.",
        )
    if _is_pair(auth):
        user, password = (a.encode("latin-1") if isinstance(a, str) else a for a in auth)
        remember(password.decode("latin-1"))  # masked wherever a server echoes it, as a key is
        remember("Basic " + base64.b64encode(user + b":" + password).decode("ascii"))
        auth = tuple(auth)
    session.auth = auth  # replaces an OLLAMA_API_KEY from the environment: the caller chose this login


def _is_pair(auth: Any) -> bool:
    return isinstance(auth, (tuple, list)) and len(auth) == 2 and all(isinstance(a, (str, bytes)) for a in auth)


def _no_login(request: Any) -> Any:
    """A request's own ``auth`` that adds nothing: it takes the place of the session's login."""
    return request
