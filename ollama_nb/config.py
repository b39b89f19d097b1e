"""Settings: which host, which key, which default model and options.

Precedence everywhere: an explicit argument, then what ``%ollama config`` set in this kernel, then the
environment (``OLLAMA_HOST``, ``OLLAMA_API_KEY``, ``OLLAMA_NB_MODEL``), then the defaults.

Usage::

    from ollama_nb.config import parse_host
    parse_host("ollama.com")   # 'https://ollama.com'
    parse_host("0.0.0.0")      # 'http://127.0.0.1:11434'
"""

from __future__ import annotations

import ipaddress
import math
import os
import threading
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

DEFAULT_HOST = "http://127.0.0.1:11434"
CLOUD_HOST = "https://ollama.com"
DEFAULT_PORT = 11434
_CLOUD_HOSTNAMES = {"ollama.com", "www.ollama.com"}
_SCHEME_PORTS = {"http": 80, "https": 443}


def parse_host(host: str | None) -> str:
    """Turn ``OLLAMA_HOST``-style text into a base URL, the way ollama-python does, minus its traps.

    Like the official client: no scheme means ``http`` on port 11434, a scheme without a port means its
    default port, a path is kept. Unlike it: ``ollama.com`` without a scheme means
    ``https://ollama.com`` (not http on 11434); ``0.0.0.0`` and ``::`` (a server's *bind* address)
    mean this machine; a trailing ``/api`` is dropped, so base URLs written as ``.../api`` work.
    Default ports are left out of the result (``https://ollama.com``, not ``:443``).

    >>> parse_host(None), parse_host(":56789"), parse_host("example.com")
    ('http://127.0.0.1:11434', 'http://127.0.0.1:56789', 'http://example.com:11434')
    >>> parse_host("https://example.com:56789/path/"), parse_host("[::1]:8080")
    ('https://example.com:56789/path', 'http://[::1]:8080')
    """
    text = (host or "").strip()
    if not text:
        return DEFAULT_HOST
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "", text
    scheme = scheme.lower()
    if rest.count(":") > 1 and not rest.startswith("["):
        rest = f"[{rest}]"  # a bare IPv6 address such as "::" (a server's bind address)
    split = urllib.parse.urlsplit(f"//{rest}")
    hostname = (split.hostname or "127.0.0.1").lower()
    try:
        port = split.port
    except ValueError as exc:
        raise ValueError(f"Cannot read the port in host {text!r}: {exc}") from None
    if not scheme:
        scheme = "https" if hostname in _CLOUD_HOSTNAMES and port is None else "http"
        default_port = 443 if scheme == "https" else DEFAULT_PORT
    else:
        if scheme not in _SCHEME_PORTS:
            raise ValueError(f"Host {text!r} has scheme {scheme!r}; use http:// or https://.")
        default_port = _SCHEME_PORTS[scheme]
    port = port or default_port
    if hostname == "0.0.0.0":
        hostname = "127.0.0.1"
    elif hostname == "::":
        hostname = "::1"
    try:
        if ipaddress.ip_address(hostname).version == 6:
            hostname = f"[{hostname}]"
    except ValueError:
        pass
    netloc = hostname if port == _SCHEME_PORTS[scheme] else f"{hostname}:{port}"
    path = split.path.strip("/")
    if path == "api" or path.endswith("/api"):
        path = path[:-3].rstrip("/")
    return f"{scheme}://{netloc}/{path}" if path else f"{scheme}://{netloc}"


def check_seconds(value: object, what: str = "timeout") -> float:
    """``value`` as a number of seconds > 0 (a finite float), else ValueError saying what is wrong.

    0, negatives, nan and inf are all refused: requests fails on the first two only when a request
    is sent, and the last two would never time out (or fail in the socket layer).

    >>> check_seconds("30"), check_seconds(2)
    (30.0, 2.0)
    """
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number of seconds, not {value!r}.") from None
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"{what} must be a positive number of seconds (e.g. {what}=300), not {value!r}.")
    return seconds


def hostname_of(url: str) -> str:
    return (urllib.parse.urlsplit(url).hostname or "").lower()


def is_loopback(url: str) -> bool:
    """True when the base URL points at this machine (where a key cannot be sniffed on the wire)."""
    name = hostname_of(url)
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def is_cloud(url: str) -> bool:
    """True for Ollama Cloud's native API (``https://ollama.com``)."""
    return hostname_of(url) in _CLOUD_HOSTNAMES


def cloud_model_name(model: str) -> str:
    """``gpt-oss:120b-cloud`` / ``gpt-oss:120b:cloud`` / ``gemma4:cloud`` -> the bare cloud name."""
    if model.endswith(":cloud"):
        return model[: -len(":cloud")]
    name, sep, tag = model.rpartition(":")
    if sep and tag.endswith("-cloud"):
        return f"{name}:{tag[: -len('-cloud')]}"
    return model


@dataclass
class Settings:
    """What ``%ollama config`` changes for this kernel. ``None`` means "from the environment"."""

    host: str | None = None
    model: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    api_key: str | None = field(default=None, repr=False)
    #: Seconds of silence allowed between chunks; None = the client's default (330 s, beyond the server's 5-minute load timeout).
    timeout: float | None = None
    #: The key came from ``%ollama login`` (else from ``%ollama config api_key=``).
    key_from_login: bool = False

    def resolved_host(self) -> str:
        return parse_host(self.host or os.environ.get("OLLAMA_HOST"))

    def resolved_model(self) -> str | None:
        return self.model or os.environ.get("OLLAMA_NB_MODEL") or None

    def resolved_key(self) -> str | None:
        return self.api_key or os.environ.get("OLLAMA_API_KEY") or None

    def key_source(self) -> str:
        """Where the key comes from, for display: never the key itself."""
        if self.api_key:
            return "set (by %ollama login)" if self.key_from_login else "set (by %ollama config)"
        if os.environ.get("OLLAMA_API_KEY"):
            return "set (from OLLAMA_API_KEY)"
        return "not set"


settings = Settings()
_client_lock = threading.Lock()
_client_cache: dict[tuple[str, str | None, float | None], Any] = {}


def client_for(host: str | None = None) -> Any:
    """The shared :class:`~ollama_nb.Client` for ``host`` (default: the configured host), with the
    configured key and timeout. Clients are cached, and made anew when the settings change, so one
    ``%ollama config host=...`` moves the magic and the widgets together.
    """
    from .client import Client

    url = parse_host(host) if host else settings.resolved_host()
    key = (url, settings.api_key, settings.timeout)
    with _client_lock:
        client = _client_cache.get(key)
        if client is None:
            if len(_client_cache) >= 8:  # settings changed many times: drop the old pools
                for old in _client_cache.values():
                    old.close()
                _client_cache.clear()
            client = _client_cache[key] = Client(url, api_key=settings.api_key, timeout=settings.timeout)
        return client


def forget_clients() -> None:
    """Close and drop every cached client (after ``%ollama logout``: none keeps the old key)."""
    with _client_lock:
        for old in _client_cache.values():
            old.close()
        _client_cache.clear()


def default_client() -> Any:
    """The shared client for the current settings (see :func:`client_for`)."""
    return client_for()
