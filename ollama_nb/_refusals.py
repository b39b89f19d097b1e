"""What a refusal means: busy servers, rate and usage limits, sign-in, proxy error pages.

:func:`classify` turns an HTTP error answer into the error class that says what to do, or None for
the ordinary cases the client handles itself. The server's text is kept as the error's ``error``;
an HTML page from a proxy is never kept whole: only its ``<title>`` (parsed with the standard
library's HTML parser, and escaped later by the views like any server text) names it.

Usage::

    err = classify(503, '{"error":"server busy, please try again.  maximum pending requests exceeded"}',
                   {"Retry-After": "2"}, "http://127.0.0.1:11434")
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
from typing import Any

from ._errors import (
    CloudDisabled,
    HostRefused,
    ProxyError,
    RateLimited,
    ResponseError,
    ServerBusy,
    SigninRequired,
    UsageLimit,
)

__all__ = ["classify", "page_title", "retry_after"]

_LIMIT = re.compile(r"\b(hourly|session|weekly|daily|monthly)\s+usage\s+limit", re.IGNORECASE)
_TITLE_MAX = 120


def classify(status: int, text: str, headers: Mapping[str, str], host: str) -> ResponseError | None:
    """The error for a refusal, or None when it is not one of the cases handled here."""
    body = _json(text)
    message = _message(body) if body is not None else text.strip()
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
    if status == 503:
        return ServerBusy(message or "service unavailable", status, retry_after=after)
    if status == 429:
        match = _LIMIT.search(message)
        if match or "usage limit" in message.lower():
            return UsageLimit(message, status, limit=match.group(1).lower() if match else "")
        return RateLimited(message or "too many requests", status, retry_after=after)
    return None


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


def _message(body: Any) -> str:
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):
            err = err.get("message", "")
        return str(err) if err else ""
    return str(body)


_REASONS = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}
