"""Ollama Cloud quota, as views show it: the session and weekly limits from ``GET /api/usage``.

Usage::

    rows = quota_rows(Client("https://ollama.com").usage())
    # [{"limit": "session", "used": "2.5%", "fraction": 0.025, "resets": "in 3 h"}, ...]
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any

from ._types import parse_time

__all__ = ["ORDER", "quota_rows"]

ORDER = ("session", "weekly")  # the plan's windows, shortest first


def _resets(value: Any, now: _dt.datetime | None = None) -> str:
    if not isinstance(value, str) or not value:
        return ""
    when = parse_time(value)
    if when is None:
        return ""
    now = now or _dt.datetime.now(_dt.timezone.utc)
    seconds = (when - now).total_seconds()
    if seconds <= 0:
        return "now"
    if seconds < 3600:
        return f"in {max(1, round(seconds / 60))} min"
    if seconds < 2 * 86400:
        return f"in {round(seconds / 3600)} h"
    return f"in {round(seconds / 86400)} days"


def quota_rows(usage: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per limit (session, weekly first, then any other), the fraction clamped to 0..1."""
    limits = usage.get("limits") if isinstance(usage, Mapping) else None
    if not isinstance(limits, Mapping):
        return []
    names = [n for n in ORDER if n in limits] + sorted(n for n in limits if n not in ORDER)
    rows = []
    for name in names:
        entry = limits[name] if isinstance(limits[name], Mapping) else {}
        raw = entry.get("usage")
        fraction = (
            max(0.0, min(1.0, float(raw))) if isinstance(raw, (int, float)) and not isinstance(raw, bool) else None
        )
        rows.append(
            {
                "limit": str(name),
                "fraction": fraction,
                "used": "–" if fraction is None else f"{fraction:.1%}",
                "resets": _resets(entry.get("resets_at")),
            }
        )
    return rows
