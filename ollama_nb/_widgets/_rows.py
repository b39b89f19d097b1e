"""What the ModelBrowser sends its view about models: rows of ``list`` / ``ps``, a ``show``'s
details and a pull's progress, as plain values.

Numbers go to the view raw (for sorting and bars) and as the text ``_format`` makes of them
(``*_text``): the view shows that text, so units read the same in the widget and everywhere else.
"""

from __future__ import annotations

import time
from typing import Any

from .. import _format as fmt
from .._reply import Progress
from .._status import RUNNING

__all__ = ["STARTING", "details", "model_row", "progress_dict", "pull_info", "running_row"]

#: Long texts from ``show`` are cut to this many characters in the view (the license is an excerpt).
LICENSE_CHARS = 1500
TEXT_CHARS = 20_000
CAPABILITY_ORDER = ("completion", "tools", "thinking", "vision", "embedding", "insert", "image", "audio")


def _cut(text: Any, limit: int) -> str:
    shown: str = text if isinstance(text, str) else ("" if text is None else str(text))
    return shown if len(shown) <= limit else shown[:limit].rstrip() + "\n…"


def _size_text(n: Any) -> str:
    return fmt.size(n) if n else "–"


def model_row(m: dict[str, Any]) -> dict[str, Any]:
    d = m.get("details") or {}
    return {
        "name": m.get("name") or m.get("model") or "",
        "size": m.get("size") or 0,
        "size_text": fmt.model_size(m) if m.get("remote_host") else _size_text(m.get("size")),
        "modified_text": fmt.ago(m.get("modified_at") or ""),
        "parameter_size": d.get("parameter_size") or "",
        "quantization": d.get("quantization_level") or "",
        "family": d.get("family") or "",
        "format": d.get("format") or "",
        "modified_at": m.get("modified_at") or "",
        "digest": (m.get("digest") or "").removeprefix("sha256:")[:12],
        "capabilities": list(m.get("capabilities") or []),
        "remote": bool(m.get("remote_host") or m.get("remote_model")),
    }


def running_row(m: dict[str, Any]) -> dict[str, Any]:
    d = m.get("details") or {}
    return {
        "name": m.get("name") or m.get("model") or "",
        "size": m.get("size") or 0,
        "size_text": _size_text(m.get("size")),
        "size_vram": m.get("size_vram") or 0,
        "context_length": m.get("context_length") or 0,
        "expires_at": m.get("expires_at") or "",
        "parameter_size": d.get("parameter_size") or "",
    }


def details(name: str, show: dict[str, Any]) -> dict[str, Any]:
    d = show.get("details") or {}
    info = show.get("model_info") or {}
    arch = info.get("general.architecture") or d.get("family") or ""
    caps = list(show.get("capabilities") or [])
    caps.sort(key=lambda c: CAPABILITY_ORDER.index(c) if c in CAPABILITY_ORDER else len(CAPABILITY_ORDER))
    return {
        "name": name,
        "capabilities": caps,
        "context_length": info.get(f"{arch}.context_length") or d.get("context_length") or 0,
        "embedding_length": info.get(f"{arch}.embedding_length") or d.get("embedding_length") or 0,
        "parameter_count": info.get("general.parameter_count") or 0,
        "architecture": arch,
        "family": d.get("family") or "",
        "families": list(d.get("families") or []),
        "format": d.get("format") or "",
        "parameter_size": d.get("parameter_size") or "",
        "quantization": d.get("quantization_level") or "",
        "parent_model": d.get("parent_model") or "",
        "modified_at": show.get("modified_at") or "",
        "modified_text": fmt.ago(show.get("modified_at")) if show.get("modified_at") else "",
        "parameters": _cut(show.get("parameters"), TEXT_CHARS),
        "template": _cut(show.get("template"), TEXT_CHARS),
        "system": _cut(show.get("system"), TEXT_CHARS),
        "license": _cut(show.get("license"), LICENSE_CHARS),
        "modelfile": _cut(show.get("modelfile"), TEXT_CHARS),
        "remote_host": show.get("remote_host") or "",
        "remote_model": show.get("remote_model") or "",
    }


def progress_dict(p: Progress, name: str) -> dict[str, Any]:
    return {
        "name": name,
        "status": p.status,
        "layers": [
            {
                "digest": digest.removeprefix("sha256:")[:12],
                "completed": done,
                "total": total,
                "bytes_text": f"{fmt.size(done)} / {fmt.size(total)}",
            }
            for digest, done, total in p.layer_rows()
        ],
        "completed": p.completed,
        "total": p.total,
        "fraction": p.fraction,
        "speed": p.speed,
        "eta": p.eta,
        # "1.2 GB of 4.7 GB · 85.3 MB/s · 42.0 s left", the parts a running pull has
        "info_text": pull_info(p),
        "state": p.state,
        "elapsed": round(time.perf_counter() - p.started, 2),
    }


def pull_info(p: Progress, state: str | None = None) -> str:
    running = (state or p.state) == RUNNING
    bits = [f"{fmt.size(p.completed)} of {fmt.size(p.total)}"] if p.total else []
    if running and p.speed:
        bits.append(fmt.speed(p.speed))
    if running and p.eta is not None:
        bits.append(f"{fmt.duration(p.eta)} left")
    return " · ".join(bits)


STARTING = {
    "status": "starting",
    "layers": [],
    "completed": 0,
    "total": 0,
    "fraction": None,
    "speed": None,
    "eta": None,
    "state": RUNNING,
    "elapsed": 0,
}
