"""An Ollama Cloud account as ollama.com reports it: ``GET /api/usage``, ``GET /api/balance`` and
whether ``/api/me`` can answer.

The shapes are the documented ones (docs.ollama.com ``api/cloud-usage`` and ``api/balance``) and no
more: a field the docs do not show is never served, so a client that reads one finds it missing
here as it would there.

Usage::

    account = Account()
    account.set_legacy(session_left=75, weekly_left=40)  # a plan from before the credit plans
    account.balance()  # {"included": {"session": {"remaining_percent": 75, ...}, ...}, ...}
"""

from __future__ import annotations

import datetime as _dt
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from ._wire import HTTPError

#: range -> (bucket width, how the window starts): the docs' three windows.
RANGES = {"24h": ("hour", 24), "7d": ("day", 7), "30d": ("day", 30)}
SCOPES = ("self", "team")
ACCOUNT_UNAVAILABLE = "account unavailable"  # /api/me's 503 while ollama.com cannot load the account
_HOUR = _dt.timedelta(hours=1)
_DAY = _dt.timedelta(days=1)


def _stamp(when: _dt.datetime) -> str:
    return when.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Request:
    """One cloud request on the account's books."""

    at: _dt.datetime
    input_tokens: int
    output_tokens: int
    cached_input_tokens: int = 0
    usage_usd: float = 0.0


class Account:
    """The account behind a key: its plan's balance, its activity, and /api/me's health."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        now = _dt.datetime.now(_dt.timezone.utc)
        self.legacy: dict[str, float] | None = None  # window -> percent left (legacy plans)
        self.balance_usd, self.allowance_usd, self.purchased_usd = 4.37, 5.0, 0.0
        start = now.replace(hour=0, minute=0, second=0, microsecond=0) - 9 * _DAY
        self.period = (start, start + 30 * _DAY)
        self.unavailable = False
        self.activity = [  # a little recent use, so a fresh account's report is not all zeros
            Request(now - 26 * _HOUR, 1200, 300, 0, 0.0021),
            Request(now - 3 * _HOUR, 800, 250, 400, 0.0013),
            Request(now - 40 * 60 * _dt.timedelta(seconds=1), 950, 410, 0, 0.0017),
        ]

    def set_balance(self, balance_usd: float, allowance_usd: float, purchased_usd: float = 0.0) -> None:
        """A credit plan: ``balance_usd`` of ``allowance_usd`` included credits left this period."""
        with self._lock:
            self.legacy = None
            self.balance_usd, self.allowance_usd, self.purchased_usd = balance_usd, allowance_usd, purchased_usd

    def set_legacy(self, session_left: float, weekly_left: float) -> None:
        """A legacy plan: the percent LEFT of its session and weekly windows."""
        with self._lock:
            self.legacy = {"session": session_left, "weekly": weekly_left}

    def record(self, request: Request) -> None:
        with self._lock:
            self.activity.append(request)

    def balance(self) -> dict[str, Any]:
        """``GET /api/balance``."""
        now = _dt.datetime.now(_dt.timezone.utc)
        with self._lock:
            if self.legacy is not None:
                resets = {"session": now + 3 * _HOUR, "weekly": now + 4 * _DAY}
                included: dict[str, Any] = {
                    name: {"remaining_percent": left, "resets_at": _stamp(resets.get(name, now + _DAY))}
                    for name, left in self.legacy.items()
                }
            else:
                period = {"from": _stamp(self.period[0]), "until": _stamp(self.period[1])}
                included = {"balance_usd": self.balance_usd, "allowance_usd": self.allowance_usd, "period": period}
            return {"included": included, "purchased": {"balance_usd": self.purchased_usd}}

    def usage(self, query: str) -> dict[str, Any]:
        """``GET /api/usage?range=...&scope=...``: totals and time buckets, oldest first."""
        params = parse_qs(query, keep_blank_values=True)
        if any(len(values) > 1 for values in params.values()):
            raise HTTPError(400, "repeated query parameter")
        window = params.get("range", ["7d"])[0]
        scope = params.get("scope", ["self"])[0]
        if window not in RANGES or scope not in SCOPES or params.get("group_by", ["model"])[0] != "model":
            raise HTTPError(400, f"invalid usage query: {query}")
        granularity, count = RANGES[window]
        now = _dt.datetime.now(_dt.timezone.utc)
        if granularity == "hour":
            step, start = _HOUR, now.replace(minute=0, second=0, microsecond=0) - count * _HOUR
        else:
            step, start = _DAY, now.replace(hour=0, minute=0, second=0, microsecond=0) - count * _DAY
        with self._lock:
            seen = [r for r in self.activity if start <= r.at < now]
        buckets = []
        edge = start
        while edge < now:
            end = min(edge + step, now)
            bucket = {"from": _stamp(edge), "until": _stamp(end), **_sums(r for r in seen if edge <= r.at < end)}
            if end == now:
                bucket["partial"] = True
            buckets.append(bucket)
            edge = end
        return {"range": window, "scope": scope, "granularity": granularity, "from": _stamp(start),
                "until": _stamp(now), "totals": _sums(seen), "buckets": buckets}


def _sums(requests: Any) -> dict[str, Any]:
    rows = list(requests)
    return {
        "request_count": len(rows),
        "usage_usd": round(sum(r.usage_usd for r in rows), 6),
        "input_tokens": sum(r.input_tokens for r in rows),
        "cached_input_tokens": sum(r.cached_input_tokens for r in rows),
        "output_tokens": sum(r.output_tokens for r in rows),
    }
