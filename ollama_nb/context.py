"""How full a conversation's context is, and when to say so.

Every ``%%ollama`` cell of a notebook is a turn of one conversation, so each request carries all
earlier turns. Once the prompt outgrows the runner's context (``num_ctx``), Ollama silently drops
the oldest messages. The meter compares what the server counted (``prompt_eval_count`` +
``eval_count`` of the last answer) with the window the runner really has:

1. ``options.num_ctx`` when the request set it;
2. else ``context_length`` of the loaded runner in ``/api/ps`` (the server's own default,
   ``OLLAMA_CONTEXT_LENGTH`` or what its VRAM allows);
3. else the model's maximum from ``/api/show`` (cloud models run at their maximum), capped at 4096
   for a local server, its smallest default.

Usage::

    use = measure(client, reply, options)
    if use and use.warn: print(use.advice())
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import OllamaError

__all__ = ["ContextUse", "measure", "model_context_length"]

WARN_AT = 0.8  # of the window: warn before the server starts dropping turns
LOCAL_DEFAULT = 4096

_lengths: dict[tuple[str, str], int | None] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class ContextUse:
    """Tokens the conversation used (``used``) in a window of ``window``; ``maximum`` is the model's
    own limit (None when unknown)."""

    used: int
    window: int
    maximum: int | None = None
    turn: int = 0  # what one more exchange like the last one adds (its question + its answer)

    @property
    def fraction(self) -> float:
        return self.used / self.window if self.window else 0.0

    @property
    def warn(self) -> bool:
        """Nearly full, or the next exchange like the last one would not fit: Ollama would then
        drop the oldest turns from that request on."""
        return self.fraction >= WARN_AT or self.used + self.turn > self.window

    def short(self) -> str:
        """``context 3.4k/4.1k`` for a footer."""
        return f"context {_k(self.used)}/{_k(self.window)}"

    def advice(self, *, fresh: str = "`%%ollama --new`", room: str = "`-o num_ctx={n}`") -> str:
        """What to do before (or since) Ollama drops the oldest turns; ``fresh`` and ``room`` name
        the view's own ways (a cell's flags, a widget's button and option)."""
        bigger = min(self.window * 2, self.maximum) if self.maximum else self.window * 2
        more = f" or give it room with {room.format(n=bigger)}" if bigger > self.window else ""
        full = (
            "is full: Ollama now drops the oldest turns"
            if self.used >= self.window - 1
            else "is nearly full: past it Ollama drops the oldest turns, starting with the next question or two"
        )
        return (
            f"The conversation uses {self.used:,} of its {self.window:,}-token context "
            f"({self.fraction:.0%}) and {full}. "
            f"Start afresh with {fresh}{more}."
        )

    def as_dict(self) -> dict[str, Any]:
        return {"used": self.used, "window": self.window, "maximum": self.maximum, "warn": self.warn}


def _k(n: int) -> str:
    return f"{n / 1000:.1f}k" if n >= 1000 else str(n)


def model_context_length(client: Any, model: str) -> int | None:
    """The model's maximum context from ``/api/show`` (``<arch>.context_length``), cached per host."""
    key = (client.host, model)
    with _lock:
        if key in _lengths:
            return _lengths[key]
    length: int | None = None
    try:
        info = client.show(model).get("model_info") or {}
        for name, value in info.items():
            if name.endswith(".context_length") and isinstance(value, int):
                length = value
                break
    except OllamaError:
        length = None
    with _lock:
        _lengths[key] = length
    return length


def _runner_window(client: Any, model: str) -> int | None:
    try:
        for entry in client.ps().get("models") or []:
            if model in (entry.get("name"), entry.get("model")) or str(entry.get("name", "")).startswith(model + ":"):
                value = entry.get("context_length")
                return int(value) if isinstance(value, int) and value > 0 else None
    except OllamaError:
        return None
    return None


def measure(client: Any, reply: Any, options: Mapping[str, Any] | None = None) -> ContextUse | None:
    """The context the last answer used, or None when the server did not count it."""
    stats = reply.stats() if hasattr(reply, "stats") else {}
    prompt = stats.get("prompt_eval_count")
    if not isinstance(prompt, int):
        return None
    used = prompt + int(stats.get("eval_count") or 0)
    # The name asked for, not the one echoed: a cloud model answers as "gpt-oss:120b" to a request
    # for "gpt-oss:120b-cloud", and only the latter is known to the local server's /api/show.
    model = str((getattr(reply, "request", None) or {}).get("model") or reply.model or "")
    maximum = model_context_length(client, model) if model else None
    asked = (options or {}).get("num_ctx")
    window: int | None = (
        int(asked) if isinstance(asked, (int, float)) and not isinstance(asked, bool) and asked > 0 else None
    )
    remote = getattr(client, "cloud", False) or model.endswith(("-cloud", ":cloud"))
    if window is None and not remote:
        window = _runner_window(client, model)
    if window is None:
        window = maximum if remote or maximum is None else min(maximum, LOCAL_DEFAULT)
    if not window:
        return None
    return ContextUse(used, window, maximum, turn=int(stats.get("eval_count") or 0) + _question_tokens(reply))


def _question_tokens(reply: Any) -> int:
    """A generous estimate of the last question's tokens (about 4 characters a token)."""
    messages = (getattr(reply, "request", None) or {}).get("messages") or []
    last = messages[-1] if messages else {}
    content = last.get("content") if isinstance(last, dict) else ""
    return len(content) // 4 + 4 if isinstance(content, str) else 0
