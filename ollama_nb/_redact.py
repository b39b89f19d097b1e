"""The one redactor: API keys and credentials out of every text a server sent us.

A server (or a proxy in front of it) may echo the request's ``Authorization`` header into an error
body, an HTML error page or an ``{"error": ...}`` line in the middle of a stream. Whatever we build
from such text (an exception, a cell output, a widget's synced state, a conversation record) would
then carry the key into the notebook file, IPython's history or a screenshot. Two functions, one
per kind of text:

- :func:`redact` for text a server reports about the request (error messages, status lines,
  exception causes): the known keys, and anything shaped like a credential (``Bearer <token>``,
  ``Authorization: ...`` echoes, ``user:password@`` in URLs, ``?key=`` / ``?token=`` parameters).
- :func:`mask_keys` for long or prose text (model answers, widget state, output bundles): only the
  known keys, so an answer that explains "Bearer tokens" keeps its words. It is cheap enough for
  every display update: one substring search per known key.

Known keys are every key a :class:`~ollama_nb.Client` was given or read (it calls :func:`remember`),
plus ``OLLAMA_API_KEY`` as it is now. A key stays known for the life of the process, also after
``%ollama logout``: text that arrived while it was in use may still be shown later.

Usage::

    >>> from ollama_nb._redact import redact, remember
    >>> remember("sk-test-0123456789")
    >>> redact('401: invalid "Authorization: Bearer sk-test-0123456789"')
    '401: invalid "Authorization: [redacted]"'
    >>> redact("see https://user:pw@example.com/?api_key=abc&x=1")
    'see https://[redacted]@example.com/?api_key=[redacted]&x=1'
"""

from __future__ import annotations

import html
import json
import os
import re
import threading
import urllib.parse
from typing import Any, TypeVar

_T = TypeVar("_T")

__all__ = [
    "MASK",
    "Secret",
    "known_keys",
    "mask_data",
    "mask_keys",
    "redact",
    "remember",
    "secret",
    "secret_headers",
    "unsafe_tail",
]

MASK = "[redacted]"

#: Shorter "keys" are not masked: replacing every "ab" in a text would hide nothing and wreck it.
MIN_KEY_LENGTH = 6

_lock = threading.Lock()
_keys: set[str] = set()
#: Every form a known key may take in text we receive: as is, JSON-, URL- and HTML-escaped.
#: Longest first, so a longer form is masked before a shorter one inside it.
_forms: tuple[str, ...] = ()

# A bearer token (RFC 6750 b64token, generously: anything up to a space, quote, bracket or comma).
_BEARER = r"\bbearer\s+[^\s\"'<>,;\\()\[\]]+"
# A header echoed as "Authorization: <value>" / "authorization=<value>" / '"Authorization": "<value>"'
# (JSON, Go's map printing, HTTP dumps): the value runs to the end of the line or a quote/bracket.
_HEADER = (
    r"\b(?P<hname>(?:proxy-)?authorization|x-api-key|api[_-]?key)"
    r"(?![\"']?\s*[:=]\s*\[?[\"']?\s*\[redacted\])"  # already masked: leave it (redact twice = once)
    r"(?P<hsep>[\"']?\s*[:=]\s*\[?[\"']?)(?P<hval>[^\r\n\"'<>\]]+)"
)
# userinfo in a URL: scheme://user:password@host (or a token as the user name).
_USERINFO = r"(?P<scheme>\b[a-z][a-z0-9+.-]*://)(?P<userinfo>[^/\s@?#\"'<>]+)@"
# A credential in a query string: ?key=..., &api_key=..., &token=..., &access_token=..., &password=...
_QUERY = (
    r"(?P<qname>[?&;](?:api[_-]?key|key|token|access[_-]?token|auth|password|secret|signature))=(?P<qval>[^&#\s\"'<>]+)"
)
_PATTERN = re.compile("|".join(f"(?:{p})" for p in (_HEADER, _BEARER, _USERINFO, _QUERY)), re.IGNORECASE)


def _replace(match: re.Match[str]) -> str:
    if match.group("hname"):
        return f"{match.group('hname')}{match.group('hsep')}{MASK}"
    if match.group("scheme"):
        return f"{match.group('scheme')}{MASK}@"
    if match.group("qname"):
        return f"{match.group('qname')}={MASK}"
    return MASK  # "Bearer <token>" as a whole: neither the scheme word nor the token is left


class Secret(str):
    """A key or header value that is still a ``str`` (requests, urllib3 and http.client send it
    as one) but whose ``repr`` is masked: IPython's verbose tracebacks (``%xmode Verbose``) print
    every frame's locals with ``repr``, down into requests and urllib3, where the headers wait for
    the answer, so the value itself has to refuse to be shown."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"'{MASK}'"


def secret(value: str | None) -> Secret | None:
    """``value`` as a :class:`Secret` (None and "" stay as they are)."""
    return Secret(value) if value else None


def secret_headers(headers: Any) -> dict[str, Any] | None:
    """A copy of ``headers`` with every value a :class:`Secret` (any header may hold a credential)."""
    if headers is None:
        return None
    return {k: Secret(v) if isinstance(v, str) else v for k, v in dict(headers).items()}


def remember(key: str | None) -> None:
    """Add ``key`` (an API key, or a whole ``Authorization`` header value) to the known keys."""
    if not key:
        return
    key = key.strip()
    scheme, _, token = key.partition(" ")
    candidates = {key}
    if scheme.lower() in ("bearer", "basic", "token") and token.strip():
        candidates.add(token.strip())
    candidates = {c for c in candidates if len(c) >= MIN_KEY_LENGTH}
    global _forms
    with _lock:
        if candidates <= _keys:
            return
        _keys.update(candidates)
        forms: set[str] = set()
        for k in _keys:
            forms.update(
                (k, json.dumps(k)[1:-1], urllib.parse.quote(k, safe=""), urllib.parse.quote_plus(k), html.escape(k))
            )
        _forms = tuple(sorted((f for f in forms if len(f) >= MIN_KEY_LENGTH), key=len, reverse=True))


def known_keys() -> int:
    """How many keys are known (for tests and doctor; never the keys)."""
    _sync_env()
    return len(_keys)


def _sync_env() -> None:
    env = os.environ.get("OLLAMA_API_KEY")
    if env and env.strip() not in _keys:
        remember(env)


def mask_keys(text: str) -> str:
    """``text`` with every known key (in any escaping) replaced by ``[redacted]``; nothing else changes."""
    _sync_env()
    for form in _forms:
        if form in text:
            text = text.replace(form, MASK)
    return text


def unsafe_tail(text: str) -> int:
    """How many characters at the end of ``text`` could be the start of a known key.

    For text sent in pieces (a widget's deltas): hold those back until more text arrives, so a key
    is never split across two pieces, each of which :func:`mask_keys` would let through.
    """
    _sync_env()
    longest = 0
    for form in _forms:
        for k in range(min(len(form) - 1, len(text)), longest, -1):
            if text.endswith(form[:k]):
                longest = k
                break
    return longest


def redact(text: Any) -> str:
    """Server-reported text made safe to show: known keys and credential-shaped strings masked."""
    if not isinstance(text, str):
        text = str(text)
    # Shapes first (they mask a header as a whole), then any known key left elsewhere.
    return mask_keys(_PATTERN.sub(_replace, text))


def mask_data(value: _T) -> _T:
    """:func:`mask_keys` applied to every string inside ``value`` (dicts, lists, tuples), keys too.

    For structures about to leave the kernel (a widget's state, an output's metadata). Returns the
    same object when nothing needed masking, so the common case copies nothing.
    """
    _sync_env()
    if not _forms:
        return value
    masked: _T = _mask(value)  # the same shape: dicts, lists and tuples rebuilt as themselves
    return masked


def _mask(value: Any) -> Any:
    if isinstance(value, str):
        return mask_keys(value)
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        changed = False
        for k, v in value.items():
            mk, mv = _mask(k), _mask(v)
            changed = changed or mk is not k or mv is not v
            out[mk] = mv
        return out if changed else value
    if isinstance(value, (list, tuple)):
        items = [_mask(v) for v in value]
        if all(a is b for a, b in zip(items, value, strict=True)):
            return value
        return items if isinstance(value, list) else tuple(items)
    return value
