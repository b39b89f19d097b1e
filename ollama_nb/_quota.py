"""Ollama Cloud quota, as views show it: rows made from ``/api/balance`` and ``/api/usage``.

Both answers are read defensively: a field that is missing, of the wrong type or not a finite
number gives "–" or no row, never a guess. Each row's ``used`` text says plainly what is used and
what is left (legacy plans report the share LEFT, ``remaining_percent``); ``fraction`` is the used
share for the bar, or None when there is nothing to draw.

Usage::

    rows = account_rows(Client("https://ollama.com"))
    # [{"limit": "included credits", "fraction": 0.126, "used": "$0.63 of $5.00 used · $4.37 left",
    #   "resets": "in 21 days"}, {"limit": "purchased credits", ...}, {"limit": "last 7 days", ...}]
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping
from typing import Any

from ._types import parse_time

__all__ = ["ORDER", "account_rows", "quota_rows"]

ORDER = ("session", "weekly", "monthly")  # the plans' windows, shortest first
NONE = "–"


def _number(value: Any) -> float | None:
    """A finite JSON number (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _resets(value: Any, now: _dt.datetime | None = None) -> str:
    if not isinstance(value, str) or not value:
        return ""
    when = parse_time(value)
    if when is None:
        return ""
    if when.tzinfo is None:
        return ""
    seconds = (when - (now or _dt.datetime.now(_dt.timezone.utc))).total_seconds()
    if seconds <= 0:
        return "now"
    if seconds < 3600:
        return f"in {max(1, round(seconds / 60))} min"
    if seconds < 2 * 86400:
        return f"in {round(seconds / 3600)} h"
    return f"in {round(seconds / 86400)} days"


def _row(limit: str, fraction: float | None, used: str, resets: str = "") -> dict[str, Any]:
    return {"limit": limit, "fraction": fraction, "used": used, "resets": resets}


def _windows(
    windows: Mapping[str, Any], *, left_key: str | None, now: _dt.datetime | None = None
) -> list[dict[str, Any]]:
    """One row per window: ``left_key`` names its percent LEFT (balance), else ``usage`` is the
    fraction USED (the older /api/usage shape)."""
    names = [n for n in ORDER if n in windows] + sorted(str(n) for n in windows if n not in ORDER)
    rows = []
    for name in names:
        entry = windows.get(name)
        entry = entry if isinstance(entry, Mapping) else {}
        if left_key is not None:
            left = _number(entry.get(left_key))
            used = None if left is None else (100 - max(0.0, min(100.0, left))) / 100
        else:
            raw = _number(entry.get("usage"))
            used = None if raw is None else max(0.0, min(1.0, raw))
        text = NONE if used is None else f"{used:.1%} used · {1 - used:.1%} left"
        rows.append(_row(str(name), used, text, _resets(entry.get("resets_at"), now)))
    return rows


def _credits(included: Mapping[str, Any], now: _dt.datetime | None = None) -> list[dict[str, Any]]:
    balance, allowance = _number(included.get("balance_usd")), _number(included.get("allowance_usd"))
    period = included.get("period")
    resets = _resets(period.get("until"), now) if isinstance(period, Mapping) else ""
    if balance is None:
        return [_row("included credits", None, NONE, resets)]
    if allowance is None or allowance <= 0:
        return [_row("included credits", None, f"${balance:,.2f} left", resets)]
    used = max(0.0, allowance - balance)
    fraction = max(0.0, min(1.0, used / allowance))
    text = f"${used:,.2f} of ${allowance:,.2f} used · ${balance:,.2f} left"
    return [_row("included credits", fraction, text, resets)]


def balance_rows(balance: Any, *, now: _dt.datetime | None = None) -> list[dict[str, Any]]:
    """Rows of ``GET /api/balance``: included credits (or a legacy plan's windows), then purchased;
    reset times are counted from ``now`` (the wall clock when None)."""
    if not isinstance(balance, Mapping):
        return []
    rows: list[dict[str, Any]] = []
    included = balance.get("included")
    if isinstance(included, Mapping):
        if "balance_usd" in included or "allowance_usd" in included:
            rows += _credits(included, now)
        else:
            windows = {k: v for k, v in included.items() if isinstance(v, Mapping)}
            rows += _windows(windows, left_key="remaining_percent", now=now)
    purchased = balance.get("purchased")
    if isinstance(purchased, Mapping) and "balance_usd" in purchased:
        left = _number(purchased.get("balance_usd"))
        rows.append(_row("purchased credits", None, NONE if left is None else f"${left:,.2f} left"))
    return rows


def usage_rows(usage: Any, *, now: _dt.datetime | None = None) -> list[dict[str, Any]]:
    """Rows of ``GET /api/usage``: the range's totals; an older answer's ``limits`` as used shares."""
    if not isinstance(usage, Mapping):
        return []
    rows = []
    if isinstance(usage.get("limits"), Mapping):
        rows += _windows(usage["limits"], left_key=None, now=now)
    totals = usage.get("totals")
    if isinstance(totals, Mapping):
        count, cost = _number(totals.get("request_count")), _number(totals.get("usage_usd"))
        parts = [f"{count:,.0f} requests" if count is not None else "", f"${cost:,.2f}" if cost is not None else ""]
        span = {"24h": "last 24 hours", "7d": "last 7 days", "30d": "last 30 days"}.get(str(usage.get("range")))
        rows.append(_row(span or "activity", None, " · ".join(p for p in parts if p) or NONE))
    return rows


def quota_rows(balance: Any, usage: Any = None, *, now: _dt.datetime | None = None) -> list[dict[str, Any]]:
    """Every row the views show: the balance's first, then the usage report's; ``now`` is the
    clock reset times are counted from (the wall clock when None; tests pass a fixed one)."""
    return balance_rows(balance, now=now) + usage_rows(usage, now=now)


def account_rows(client: Any) -> list[dict[str, Any]]:
    """Ask ``client`` for both routes; one a server does not have (404) adds no rows."""
    from ._errors import ResponseError

    answers = []
    for ask in (client.balance, client.usage):
        try:
            answers.append(ask())
        except ResponseError as err:
            if err.status_code != 404:
                raise
            answers.append(None)
    return quota_rows(*answers)
