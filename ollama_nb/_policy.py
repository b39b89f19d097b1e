"""What a client sends and how long it waits: host, headers, key, timeouts. No I/O.

:class:`Policy` is resolved once from a client's arguments and the environment; the sync
:class:`~ollama_nb.Client` (and any other face over the same core) reads it, so the rules for
keys and timeouts live in one place:

- A key given (``api_key=``, or an ``Authorization`` header) for a plain-http host that is not
  this machine raises :class:`~ollama_nb._errors.InsecureKeyError`; ``OLLAMA_API_KEY`` is then
  simply not sent there (``key_withheld``), and an error that needed it says so.
- The web tools go to ollama.com over https, so they may use the key the server does not get.
- ``Content-Type`` and ``Accept`` stay ``application/json`` whatever the caller's headers say.
"""

from __future__ import annotations

import base64
import os
import platform
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._errors import InsecureKeyError
from ._hosts import CLOUD_HOST, is_cloud, is_loopback, parse_host, split_userinfo
from ._redact import Secret, remember, secret, secret_headers
from ._request import check_seconds
from ._version import __version__

__all__ = ["ANSWER_TIMEOUT", "DEFAULT_TIMEOUT", "TRANSFER_TIMEOUT", "WEB_HOST", "Policy"]

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


@dataclass(frozen=True)
class Policy:
    """A client's resolved settings (see :class:`~ollama_nb.Client` for each argument)."""

    host: str
    web_host: str
    timeout: tuple[float, float]
    timeout_given: bool
    headers: dict[str, str]
    key_withheld: bool
    web_auth: str | None

    @classmethod
    def of(
        cls,
        host: str | None,
        api_key: str | None,
        headers: Mapping[str, str] | None,
        timeout: Any,
        web_host: str | None,
    ) -> Policy:
        """Resolve the arguments (None: from the environment, else the defaults)."""
        # Every key and header value is a Secret from here on: a verbose traceback of any frame
        # below (this one, requests', urllib3's) shows "[redacted]" for it.
        api_key, headers = secret(api_key), secret_headers(headers)
        text = host if host is not None else os.environ.get("OLLAMA_HOST")
        url = parse_host(text)
        sent, auth = _headers(headers)
        auth = auth or _basic(split_userinfo(text)[1])
        if api_key:
            auth = Secret(f"Bearer {api_key}")
        auth, withheld = _authorization(url, auth)
        if auth:
            sent["Authorization"] = auth
        ambient = secret(os.environ.get("OLLAMA_API_KEY"))
        web_auth = auth or (Secret(f"Bearer {ambient}") if ambient else None)
        for value in (auth, web_auth):
            remember(value)  # whatever a server echoes back is masked from now on (ollama_nb._redact)
        limits = _timeouts(timeout)
        return cls(
            host=url,
            web_host=(web_host or os.environ.get("OLLAMA_NB_WEB_HOST") or WEB_HOST).rstrip("/"),
            timeout=limits or DEFAULT_TIMEOUT,
            timeout_given=limits is not None,
            headers=sent,
            key_withheld=withheld,
            web_auth=web_auth,
        )

    def web_headers(self) -> dict[str, Secret]:
        """The headers of a web_search / web_fetch request (the account key, masked in any repr)."""
        return {"Authorization": Secret(self.web_auth)} if self.web_auth else {}

    @property
    def cloud(self) -> bool:
        return is_cloud(self.host)

    def whole(self, limit: float) -> tuple[float, float]:
        """The timeout of a non-streamed answer: the caller's, else one that covers all of it."""
        return self.timeout if self.timeout_given else (self.timeout[0], limit)


def _headers(given: Mapping[str, str] | None) -> tuple[dict[str, str], str | None]:
    """Every request's headers, and an ``Authorization`` the caller put among them (apart)."""
    user = {k: v for k, v in (given or {}).items() if v is not None}
    auth = next((user.pop(k) for k in list(user) if k.lower() == "authorization"), None)
    # The body is always JSON: a caller's Content-Type/Accept must not replace ours (as in
    # ollama-python, which sets them after the caller's headers).
    for k in [k for k in user if k.lower() in ("content-type", "accept")]:
        del user[k]
    agent = (
        f"ollama-nb/{__version__} ({platform.machine()} {platform.system().lower()}) "
        f"Python/{platform.python_version()}"
    )
    return {"User-Agent": agent, **user, "Content-Type": "application/json", "Accept": "application/json"}, auth


def _basic(credentials: tuple[str, str] | None) -> str | None:
    """``user:password@`` of a host (a class server behind nginx) as a Basic Authorization."""
    if credentials is None:
        return None
    token = base64.b64encode(":".join(credentials).encode("utf-8")).decode("ascii")
    remember(credentials[1])  # a server that echoes the password gets it masked, like a key
    return f"Basic {token}"


def _authorization(host: str, given: str | None) -> tuple[str | None, bool]:
    """The Authorization header for ``host``, and whether OLLAMA_API_KEY was kept from it."""
    secure = host.startswith("https://") or is_loopback(host)
    if given:
        if not secure:
            raise InsecureKeyError(host)
        return given, False
    ambient = secret(os.environ.get("OLLAMA_API_KEY"))
    if not ambient:
        return None, False
    return (Secret(f"Bearer {ambient}"), False) if secure else (None, True)


def _timeouts(timeout: Any) -> tuple[float, float] | None:
    """``(connect, read)`` from a number, a pair or an httpx.Timeout; None for the defaults."""
    if timeout is not None and hasattr(timeout, "read") and hasattr(timeout, "connect"):
        # An httpx.Timeout, as ollama-python code passes: its connect/read parts (None = ours).
        if not (timeout.connect or timeout.read):
            return None
        return (timeout.connect or DEFAULT_TIMEOUT[0], timeout.read or DEFAULT_TIMEOUT[1])
    if timeout is None:
        return None
    if isinstance(timeout, (int, float)):
        seconds = check_seconds(timeout)
        return (min(DEFAULT_TIMEOUT[0], seconds), seconds)
    return (check_seconds(timeout[0], "connect timeout"), check_seconds(timeout[1], "read timeout"))
