"""Hosts: ``OLLAMA_HOST``-style text parsed as the official client does, and what a base URL is
(this machine, Ollama Cloud).

Usage::

    from ollama_nb._hosts import parse_host
    parse_host("ollama.com")   # 'https://ollama.com'
    parse_host("0.0.0.0")      # 'http://127.0.0.1:11434'
"""

from __future__ import annotations

import ipaddress
import urllib.parse

__all__ = [
    "CLOUD_HOST",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "cloud_model_name",
    "hostname_of",
    "is_cloud",
    "is_loopback",
    "parse_host",
    "split_userinfo",
]

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
    text, _credentials = split_userinfo(host)
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


def split_userinfo(host: str | None) -> tuple[str, tuple[str, str] | None]:
    """``user:password@`` taken out of host text: (the text without it, (user, password) or None).

    Done before anything else reads the text, so no message about the host can show the password.

    >>> split_userinfo("https://ann:s3cret@class.example.org")
    ('https://class.example.org', ('ann', 's3cret'))
    """
    text = (host or "").strip()
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "", text
    authority, slash, path = rest.partition("/")
    userinfo, at, hostport = authority.rpartition("@")
    if not at:
        return text, None
    user, _, password = userinfo.partition(":")
    bare = f"{scheme}{sep}{hostport}{slash}{path}"
    return bare, (urllib.parse.unquote(user), urllib.parse.unquote(password))


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
