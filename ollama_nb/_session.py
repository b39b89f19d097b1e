"""DirectSession: a ``requests.Session`` that never sends a request for this machine through a proxy.

requests reads ``http_proxy`` / ``HTTPS_PROXY`` / ``ALL_PROXY`` from the environment and, unless
``NO_PROXY`` lists the host, sends even ``http://127.0.0.1`` through them: the proxy would see every
prompt and answer, and the ``Authorization`` header in clear. This machine never needs a proxy.
A proxy given to the client itself (``Client(proxy=...)``) is the caller's choice and is used
for every host. Other hosts keep the environment's proxies (ollama.com's web tools behind a company proxy), and
everything else requests reads from the environment (CA bundles) is kept too.

Both hooks are public ``requests.Session`` methods: the first request, and every redirect.
"""

from __future__ import annotations

from typing import Any

import requests

from ._hosts import is_loopback

__all__ = ["DirectSession"]


class DirectSession(requests.Session):
    """``requests.Session`` with environment proxies ignored for loopback URLs only."""

    def merge_environment_settings(self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any) -> Any:
        settings: Any = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if is_loopback(str(url or "")):
            # Only a proxy the caller named (Client(proxy=...)) is used for this machine.
            settings["proxies"] = dict(self.proxies)
        return settings

    def rebuild_proxies(self, prepared_request: Any, proxies: Any) -> dict[str, str]:
        new: dict[str, str] = super().rebuild_proxies(prepared_request, proxies)  # type: ignore[no-untyped-call]  # untyped in types-requests
        if is_loopback(str(prepared_request.url or "")):  # redirected to this machine: go direct
            prepared_request.headers.pop("Proxy-Authorization", None)
            return {}
        return new
