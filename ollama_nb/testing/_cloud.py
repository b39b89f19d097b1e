"""Cloud behaviour: cloud model names through a local server, sign-in state, usage limits, quota.

What the real server does (ollama/ollama, read at v0.33.0-rc2):

- ``internal/modelref``: a name ending in ``:cloud`` or ``-cloud`` (``gpt-oss:120b-cloud``,
  ``x:cloud``) is a cloud model, ``:local`` forces a local one; both at once is 400
  ``use either :local or :cloud, not both: "x:cloud:local"``.
- ``server/cloud_proxy.go``: a local server forwards cloud requests to ollama.com, signed with the
  key of ``ollama signin``. Cloud disabled (``OLLAMA_NO_CLOUD``) is 403 ``ollama cloud is disabled:
  remote model is unavailable``; not signed in is 401 ``{"error": "unauthorized", "signin_url":
  "https://ollama.com/connect?name=HOST&key=..."}``; anything else ollama.com answers (429 usage
  limits, 503 overloaded) is passed through unchanged, status, headers and body.
- ollama.com refuses work with 503 ``Server overloaded, please retry shortly (ref: ...)`` and 429
  usage limits (texts below), and serves the two documented account routes (docs.ollama.com
  ``api/cloud-usage`` and ``api/balance``): ``GET /api/usage?range=24h|7d|30d&scope=self|team``
  (``range, scope, granularity, from, until, totals, buckets``, the last bucket ``partial``) and
  ``GET /api/balance`` (``included.balance_usd / allowance_usd / period``, on legacy plans
  ``included.session / weekly`` with ``remaining_percent`` and ``resets_at``; ``purchased``). Only the
  fields the docs show are served. ``/api/me`` can answer 503 ``account unavailable``.
- Retired on 2026-07-15 (docs/cloud.mdx): ``qwen3-coder:480b`` and ``deepseek-v3.1:671b``; their
  recommended replacements ``qwen3.5:397b`` and ``deepseek-v4-flash`` are served instead.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from typing import Any

from ._catalog import GPT_OSS_120B, TOOLS_THINKING, Model, _model, name_key
from ._quota import Account
from ._scheduler import BUSY
from ._wire import HTTPError

SIGNED_IN, SIGNED_OUT, DISABLED = "signed-in", "signed-out", "disabled"
CLOUD_STATES = (SIGNED_IN, SIGNED_OUT, DISABLED)
SIGNIN_URL = "https://ollama.com/connect?name=emulator&key=c3NoLWVkMjU1MTkgQUFBQUMzTnphQzFsWkRJMU5URTVBQUFBSUVtdWxhdG9y"
DISABLED_TEXT = "ollama cloud is disabled: remote model is unavailable"
ACCOUNT = "emulator"

#: kind -> (status, text). ``{ref}`` and ``{name}`` are filled per answer.
REFUSALS: dict[str, tuple[int, str]] = {
    "busy": (503, BUSY),
    "overloaded": (503, "Server overloaded, please retry shortly (ref: {ref})"),
    "ratelimit": (429, "too many requests"),
    "hourly": (429, "you've reached your hourly usage limit, please wait or upgrade to continue"),
    "session": (
        429,
        "you ({name}) have reached your session usage limit, upgrade for higher limits: https://ollama.com/upgrade",
    ),
    "weekly": (
        429,
        "you ({name}) have reached your weekly usage limit, upgrade for higher limits: https://ollama.com/upgrade",
    ),
}


def parse_ref(raw: str) -> tuple[str, str]:
    """``(base, source)`` with source "cloud", "local" or ""; HTTPError 400 for both suffixes."""
    raw = raw.strip()
    base, source = _suffix(raw)
    if source and _suffix(base)[1]:
        raise HTTPError(400, f'use either :local or :cloud, not both: "{raw}"')
    return base, source


def _suffix(raw: str) -> tuple[str, str]:
    head, colon, tail = raw.rpartition(":")
    if not colon:
        return raw, ""
    low = tail.strip().lower()
    if low in ("cloud", "local"):
        return head, low
    if "/" not in tail and low.endswith("-cloud"):
        return head + ":" + tail.strip()[: -len("-cloud")], "cloud"
    return raw, ""


def cloud_models() -> dict[str, Model]:
    """What ollama.com serves in the emulator (bare names, their maximum context)."""
    models = [
        _model("gpt-oss:120b", "gptoss", **GPT_OSS_120B, size=65_369_818_941),
        _model("qwen3.5:397b", "qwen", "qwen35moe 397.0B FP8", 403_000_000_000, TOOLS_THINKING, 262144, 4096),
        _model("deepseek-v4-flash:latest", "thinking", "deepseek4 284.0B FP8", 290_000_000_000, TOOLS_THINKING,
               1048576, 4096),
    ]
    return {name_key(m.name): m for m in models}


@dataclass
class Refusal:
    status: int
    message: str
    retry_after: float | None

    def headers(self) -> dict[str, str]:
        return {"Retry-After": f"{self.retry_after:g}"} if self.retry_after is not None else {}


class Cloud:
    """Mutable cloud state of one emulator: sign-in switch, queued refusals, quota usage."""

    def __init__(self, state: str = SIGNED_OUT, *, serving: bool = False) -> None:
        self.state = SIGNED_OUT
        self.set_state(state)
        self.serving = serving  # this emulator plays ollama.com itself (cloud mode, a key)
        self.models = cloud_models()
        self.account = Account()
        self._refusals: list[Refusal] = []
        self._lock = threading.Lock()

    def set_state(self, state: str) -> None:
        if state not in CLOUD_STATES:
            raise ValueError(f"cloud must be one of {CLOUD_STATES}, not {state!r}")
        self.state = state

    def refuse(self, kind: str, times: int = 1, retry_after: float | None = None) -> None:
        """The next ``times`` chat/generate requests are refused with ``kind`` (see REFUSALS)."""
        status, text = REFUSALS[kind]
        with self._lock:
            for _ in range(times):
                message = text.format(ref=uuid.uuid4(), name=ACCOUNT)
                self._refusals.append(Refusal(status, message, retry_after))

    def take_refusal(self) -> Refusal | None:
        with self._lock:
            return self._refusals.pop(0) if self._refusals else None

    def clear(self) -> None:
        with self._lock:
            self._refusals.clear()

    def find(self, base: str) -> Model:
        """The cloud model ``base`` a local server would forward to, or the HTTPError it would answer."""
        if self.state == DISABLED:
            raise HTTPError(403, DISABLED_TEXT)
        if self.state == SIGNED_OUT:
            raise HTTPError(401, "unauthorized", signin_url=SIGNIN_URL)
        model = self.models.get(name_key(base))
        if model is None:
            raise HTTPError(404, f"model '{base}' not found")
        return model

    def proxy_allowed(self, operation: str) -> None:
        """``proxyCloudRequestWithPath`` on a local server: 403 when cloud is off, 401 with where to
        sign in when the server is not signed in (the request carries no key of the caller's)."""
        if self.serving:
            return
        if self.state == DISABLED:
            raise HTTPError(403, f"ollama cloud is disabled: {operation}")
        if self.state == SIGNED_OUT:
            raise HTTPError(401, "unauthorized", signin_url=SIGNIN_URL)

    def whoami(self) -> dict[str, Any]:
        """A local server's /api/me: the signed-in account, else 401 with where to sign in."""
        if self.state != SIGNED_IN:
            raise HTTPError(401, "unauthorized", signin_url=SIGNIN_URL)
        return self.whoami_cloud()

    def whoami_cloud(self) -> dict[str, Any]:
        """ollama.com's own /api/me for a valid key."""
        return {
            "id": "00000000-0000-4000-8000-00000000e0e0",
            "email": "user@example.com",
            "name": ACCOUNT,
            "plan": "free",
        }
