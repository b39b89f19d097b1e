"""Settings: which host, which key, which default model and options, and the one client the
magics and widgets share.

Precedence everywhere: an explicit argument, then what ``%ollama config`` set in this kernel, then the
environment (``OLLAMA_HOST``, ``OLLAMA_API_KEY``, ``OLLAMA_NB_MODEL``, ``OLLAMA_HEADERS``), then the
config file (:mod:`ollama_nb._settings_file`), then the defaults.

Usage::

    from ollama_nb._config import client_for, settings
    settings.model = "llama3.2"
    client_for().chat(settings.resolved_model(), messages=[...])
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Any

from ._client import Client
from ._hosts import parse_host
from ._redact import secret
from ._settings_file import env_headers, file_settings

__all__ = ["Settings", "client_for", "configured_hosts", "default_client", "forget_clients", "settings"]


@dataclass
class Settings:
    """What ``%ollama config`` changes for this kernel. ``None`` means "from the environment"."""

    host: str | None = field(default=None, repr=False)  # may carry user:password@
    model: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    api_key: str | None = field(default=None, repr=False)
    #: Seconds of silence allowed between chunks; None = the client's default (330 s, beyond the
    #: server's 5-minute load timeout).
    timeout: float | None = None
    #: The key came from ``%ollama login`` (else from ``%ollama config api_key=``).
    key_from_login: bool = False
    #: The log's file (``%ollama config store=PATH``, ``off``); None = ``OLLAMA_NB_STORE`` or the default.
    store: str | None = None
    #: Answer an identical request from the log (``%ollama config cache=on``); None = the config
    #: file's ``cache``, else off.
    cache: bool | None = None

    def host_text(self) -> str | None:
        """The host as written where it was set (it may carry ``user:password@``: never shown)."""
        return self.host or os.environ.get("OLLAMA_HOST") or file_settings().values.get("host")

    def resolved_host(self) -> str:
        return parse_host(self.host_text())

    def resolved_model(self) -> str | None:
        return self.model or os.environ.get("OLLAMA_NB_MODEL") or file_settings().values.get("model") or None

    def resolved_options(self) -> dict[str, Any]:
        return {**file_settings().values.get("options", {}), **self.options}

    def resolved_timeout(self) -> float | None:
        return self.timeout or file_settings().values.get("timeout")

    def headers(self) -> dict[str, str]:
        """Headers for every request of the magics, widgets and default client: the file's, then
        ``OLLAMA_HEADERS`` (a problem with either is reported by ``%ollama config``)."""
        return {**file_settings().values.get("headers", {}), **env_headers()[0]}

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
_client_cache: dict[tuple[Any, ...], Client] = {}


def client_for(host: str | None = None) -> Client:
    """The shared :class:`~ollama_nb.Client` for ``host`` (default: the configured host), with the
    configured key and timeout. Clients are cached, and made anew when the settings change, so one
    ``%ollama config host=...`` moves the magic and the widgets together; so does a change of
    ``OLLAMA_API_KEY`` in ``os.environ`` (a client reads it when it is made).
    """
    text = host or settings.host_text()
    headers = settings.headers()
    timeout = settings.resolved_timeout()
    # The keys as Secrets: this frame is in the traceback of a client that cannot be made.
    ambient = secret(os.environ.get("OLLAMA_API_KEY"))
    key = (text, secret(settings.api_key), ambient, timeout, tuple(sorted(headers.items())))
    with _client_lock:
        client = _client_cache.get(key)
        if client is None:
            if len(_client_cache) >= 8:  # settings changed many times: drop the old pools
                for old in _client_cache.values():
                    old.close()
                _client_cache.clear()
            client = Client(text, api_key=settings.api_key, headers=headers, timeout=timeout)
            _client_cache[key] = client
        return client


def forget_clients() -> None:
    """Close and drop every cached client (after ``%ollama logout``: none keeps the old key)."""
    with _client_lock:
        for old in _client_cache.values():
            old.close()
        _client_cache.clear()


def default_client() -> Client:
    """The shared client for the current settings (see :func:`client_for`)."""
    return client_for()


def configured_hosts() -> tuple[list[str], str]:
    """The config file's ``hosts`` (the servers a batch spreads over) and where they came from;
    ``([], "")`` when it lists none. Each may carry ``user:password@``: pass it to :func:`client_for`."""
    files = file_settings()
    hosts = [h for h in files.values.get("hosts", []) if isinstance(h, str) and h.strip()]
    return hosts, f"config file {files.source_of('hosts')}" if hosts else ""
