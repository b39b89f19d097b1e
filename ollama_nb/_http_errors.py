"""The one error mapping: what an HTTP error answer, or an ``{"error": ...}`` line, means.

:func:`status_error` turns a status, the server's text and the headers into the error class that
says what to do (busy servers, rate and usage limits, sign-in, proxy pages, keys, missing models
and routes); :func:`line_error` does the same for an error line inside a 200 body. The server's
text is kept as the error's ``error``; an HTML page from a proxy is never kept whole: only its
``<title>`` (parsed with the standard library's HTML parser, and escaped later by the views like
any server text) names it. No I/O here: the sync and async clients share it.

Usage::

    err = status_error(503, '{"error":"server busy, please try again.  maximum pending requests exceeded"}',
                       {"Retry-After": "2"}, host="http://127.0.0.1:11434")
    assert isinstance(err, ServerBusy) and err.retry_after == 2
"""

from __future__ import annotations

import email.utils
import html.parser
import json
import math
import re
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._errors import (
    AccountUnavailable,
    AuthenticationError,
    CloudDisabled,
    HostRefused,
    ModelNotFound,
    ProxyError,
    RateLimited,
    ResponseError,
    ServerBusy,
    ServerStreamError,
    SigninRequired,
    UsageLimit,
    error_text,
)

if TYPE_CHECKING:
    from ._reply import Reply

__all__ = ["line_error", "page_title", "retry_after", "status_error"]

_LIMIT = re.compile(r"\b(hourly|session|weekly|daily|monthly)\s+usage\s+limit", re.IGNORECASE)
_TITLE_MAX = 120


_HINTS = {
    400: "The server refused the request as sent: its message above says what to change.",
    405: "{path} does not take this method (a proxy in the way?).",
    429: "Too many requests: wait a moment and try again (cloud plans have hourly limits).",
    499: "The request was canceled while it waited for the model.",
    500: "The server failed: check the Ollama server log; trying again often helps.",
    502: "The server could not reach Ollama Cloud: check its internet connection.",
    503: "The server is busy: wait a moment and try again.",
}


_NO_IMAGE_MODELS = (
    "Ollama no longer runs image-generation models (width/height/steps have no effect): use a text "
    "model, or a vision model to read pictures (images=[...])."
)


def status_error(
    status: int,
    text: str,
    headers: Mapping[str, str],
    *,
    host: str,
    path: str = "",
    model: str = "",
    reason: str = "",
    key_withheld: bool = False,
) -> ResponseError:
    """The error for an HTTP error answer: ``text`` is its body, ``path`` the route asked,
    ``model`` the model named in the request, ``reason`` the status line's words,
    ``key_withheld`` whether OLLAMA_API_KEY was kept from this host (plain http, not this machine)."""
    body = _json(text)
    message = error_text(body) if body is not None else text.strip()
    refusal = _refusal(status, text, body, message, headers, host)
    if refusal is not None:
        return refusal
    message = message or text.strip() or reason or "no message"
    if status in (401, 403):
        return AuthenticationError(message, status, hint=_auth_hint(status, message, host, key_withheld))
    if status == 404 and message.strip() == "404 page not found":
        hint = f"This server has no {path} route: is {host} an Ollama server, and recent enough?"
        return ResponseError(message, status, hint=hint)
    pulling = path == "/api/pull"
    if (status == 404 and "not found" in message) or (pulling and "file does not exist" in message):
        # A non-streamed pull of a name not in the library answers 500 "file does not exist".
        return ModelNotFound(message, status, model, pulling=pulling)
    if status == 400 and "image generation models are not" in message:
        return ResponseError(message, status, hint=_NO_IMAGE_MODELS)
    return ResponseError(message, status, hint=_HINTS.get(status, "").format(path=path))


def line_error(
    obj: Mapping[str, Any], *, status: int = -1, in_stream: bool = True, pulling: str = "", reply: Reply | None = None
) -> ResponseError:
    """The error for an ``{"error": ...}`` object in a 200 body: in a stream (or among several
    lines) a :class:`ServerStreamError` keeping ``reply``; the only object of a body a
    :class:`ResponseError` with ``status``. ``pulling``: the model a pull's progress is for."""
    text = error_text(obj) or json.dumps(obj)
    if pulling and "file does not exist" in text:
        # What a pull of a name that is not in the library looks like (status 200, then this
        # line); -1 as ollama-python reports any error line.
        return ModelNotFound(text, -1, pulling, pulling=True)
    if in_stream:
        return ServerStreamError(text, reply=reply)
    return ResponseError(text, status)


def _refusal(
    status: int, text: str, body: Any, message: str, headers: Mapping[str, str], host: str
) -> ResponseError | None:
    """Busy servers, limits, sign-in, cloud switched off, the host guard and proxy pages."""
    if body is None and status in (502, 503, 504) and _looks_like_html(text, headers):
        title = page_title(text) or f"{status} {_REASONS.get(status, 'Error')}"
        proxy = ProxyError(title, status, host)
        proxy.retry_after = retry_after(headers)
        return proxy
    if status == 401 and isinstance(body, dict) and isinstance(body.get("signin_url"), str):
        return SigninRequired(message or "unauthorized", status, body["signin_url"])
    if status == 403 and "cloud is disabled" in message:
        return CloudDisabled(message, status)
    if status == 403 and not text.strip():
        # Ollama's host guard: bound to loopback, it refuses a Host header it does not know.
        return HostRefused(host)
    after = retry_after(headers)
    if status == 503 and "account unavailable" in message.lower():
        return AccountUnavailable(message, status)
    if status == 503:
        return ServerBusy(message or "service unavailable", status, retry_after=after)
    if status == 429:
        match = _LIMIT.search(message)
        if match or "usage limit" in message.lower():
            return UsageLimit(message, status, limit=match.group(1).lower() if match else "")
        return RateLimited(message or "too many requests", status, retry_after=after)
    return None


def _auth_hint(status: int, message: str, host: str, key_withheld: bool) -> str:
    if key_withheld:
        return (
            f"OLLAMA_API_KEY is set but was not sent: {host} is plain http and not this machine. "
            "Use an https:// host."
        )
    if status == 403 and "disabled" in message:
        return "Cloud models are disabled on this Ollama server (OLLAMA_NO_CLOUD); enable them or use a local model."
    return AuthenticationError.hint


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date), None when absent or odd."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    if math.isnan(seconds):
        return None
    return max(0.0, seconds)  # a date in the past means: now


class _TitleParser(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._in_title = False
        self.done = False

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag == "title" and not self.done:
            self._in_title = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self._in_title:
            self._in_title = False
            self.done = True

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.parts.append(data)


def page_title(text: str) -> str:
    """The text of an HTML page's first ``<title>`` (whitespace collapsed, at most 120 characters)."""
    parser = _TitleParser()
    try:
        parser.feed(text[:65536])
        parser.close()
    except (ValueError, AssertionError):  # a page too broken to parse has no title worth showing
        return ""
    title = " ".join("".join(parser.parts).split())
    return title if len(title) <= _TITLE_MAX else title[: _TITLE_MAX - 1] + "…"


def _looks_like_html(text: str, headers: Mapping[str, str]) -> bool:
    ctype = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    return "html" in ctype.lower() or text.lstrip()[:1] == "<"


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


_REASONS = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}
