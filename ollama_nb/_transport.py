"""The sync client's HTTP: one ``requests`` session, sending with retries, failures as our errors.

The only module (with :mod:`ollama_nb._stream`, which reads what it opened) that speaks HTTP.
:class:`Transport` is the plumbing under :class:`~ollama_nb.Client`'s routes: the settings come
from :class:`~ollama_nb._policy.Policy`, what an error answer means from
:mod:`ollama_nb._http_errors`, the body's objects from :mod:`ollama_nb._wire`.
"""

from __future__ import annotations

import builtins
import copy
import threading
from collections.abc import Mapping
from typing import Any, TypeVar

import requests

from ._errors import ModelNotFound, OllamaError, RequestError, ServerUnreachable, StallTimeout
from ._hosts import cloud_model_name
from ._http_errors import line_error, status_error
from ._policy import ANSWER_TIMEOUT, TRANSFER_TIMEOUT, Policy
from ._redact import secret, secret_headers
from ._reply import Progress, Reply
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
        **_ignored: Any,  # ollama-python's other httpx options (follow_redirects=...) have no meaning here
    ) -> None:
        api_key, headers = secret(api_key), secret_headers(headers)  # masked in this frame's locals too
        self._policy = policy = Policy.of(host, api_key, headers, timeout, web_host)
        self.host, self.web_host, self.timeout = policy.host, policy.web_host, policy.timeout
        self.cloud = policy.cloud
        self.retries = Retry.of(retries)
        self.on_retry = on_retry
        self.cancel_retry: threading.Event | None = None
        self._session = DirectSession()  # requests for this machine never go through a proxy
        self._session.verify = verify  # httpx's and requests' meaning alike: False, or a CA bundle path
        self._session.headers.update(policy.headers)

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
        web: bool = False,
    ) -> requests.Response:
        host = self.host
        timeout = timeout or self.timeout
        try:
            # The web tools' key is put in at the last moment, never held in a local of a frame a
            # verbose traceback shows (the session's own headers hold the server's key).
            resp = self._session.request(
                method,
                url or host + path,
                data=request_data(body),
                stream=stream,
                timeout=timeout,
                headers=self._policy.web_headers() if web else None,
            )
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
        return self._json(
            "POST", path, body, timeout=self._whole(TRANSFER_TIMEOUT), as_type=ProgressResponse, **hooks
        )
