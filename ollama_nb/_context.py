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

The server's two figures cost two round trips. A view fetches them while the answer streams
(:class:`Lookup`, on a daemon thread started once the server answered, when the runner is loaded)
and waits for them at the end at most :data:`LOOKUP_WAIT`: the footer never waits on them in
series, and a lookup that fails or hangs only leaves the meter out. ``/api/show`` is asked once
per model and digest (its context length changes only when the model is pulled again).

Usage::

    lookup = Lookup(client, stream.reply)  # once the server has answered
    use = measure(client, reply, options, lookup=lookup)  # once the answer is done
    if use and use.warn: print(use.advice())
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._errors import OllamaError
from ._format import context_text
from ._models_memo import ModelMemo

__all__ = ["LOOKUP_WAIT", "ContextUse", "Figures", "Lookup", "measure", "model_context_length"]

WARN_AT = 0.8  # of the window: warn before the server starts dropping turns
LOCAL_DEFAULT = 4096
#: Seconds the end of an answer waits for a lookup still running (a server that answers /api/ps
#: in milliseconds has long answered; one that hangs costs the footer at most this).
LOOKUP_WAIT = 1.0

#: (host, model, digest) -> the model's maximum context. Only a known digest (or a cloud model,
#: which has none) is cached, and the memo empties itself after a pull, create, copy or delete.
_lengths: ModelMemo[tuple[str, str, str], int | None] = ModelMemo()
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
        return context_text(self.used, self.window)

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


def model_context_length(client: Any, model: str, digest: str | None = None) -> int | None:
    """The model's maximum context from ``/api/show`` (``<arch>.context_length``), cached per host,
    model and ``digest`` (the one ``/api/ps`` or ``/api/tags`` lists). Without a digest a local model
    is asked every time; a cloud model is cached by name."""
    key = (client.host, model, digest or "")
    cacheable = bool(digest) or _remote(client, model)
    if cacheable:
        with _lock:
            if key in _lengths.fresh():
                return _lengths[key]
    try:
        info = client.show(model).get("model_info") or {}
    except OllamaError:
        return None  # not cached: the next answer asks again
    length: int | None = None
    for name, value in info.items():
        if name.endswith(".context_length") and isinstance(value, int):
            length = value
            break
    if cacheable:
        with _lock:
            _lengths.fresh()[key] = length
    return length


def _remote(client: Any, model: str) -> bool:
    return bool(getattr(client, "cloud", False)) or model.endswith(("-cloud", ":cloud"))


def _runner(client: Any, model: str) -> tuple[int | None, str | None]:
    """(``context_length``, ``digest``) of the loaded runner for ``model`` in ``/api/ps``."""
    try:
        for entry in client.ps().get("models") or []:
            if model in (entry.get("name"), entry.get("model")) or str(entry.get("name", "")).startswith(model + ":"):
                value, digest = entry.get("context_length"), entry.get("digest")
                window = int(value) if isinstance(value, int) and value > 0 else None
                return window, digest if isinstance(digest, str) and digest else None
    except OllamaError:
        pass
    return None, None


@dataclass(frozen=True)
class Figures:
    """What the server says: the loaded runner's window (None: not asked or not listed) and the
    model's maximum."""

    runner: int | None
    maximum: int | None


def _figures(client: Any, model: str) -> Figures:
    runner, digest = (None, None) if _remote(client, model) else _runner(client, model)
    return Figures(runner, model_context_length(client, model, digest) if model else None)


def _model_of(reply: Any) -> str:
    # The name asked for, not the one echoed: a cloud model answers as "gpt-oss:120b" to a request
    # for "gpt-oss:120b-cloud", and only the latter is known to the local server's /api/show.
    return str((getattr(reply, "request", None) or {}).get("model") or getattr(reply, "model", "") or "")


class Lookup:
    """The meter's two questions to the server, asked on a daemon thread while the answer streams.

    Start it once the server has answered (the runner is loaded then, so ``/api/ps`` lists the
    window this answer runs in). :meth:`result` waits at most ``timeout`` (a Ctrl-C ends the wait
    on the main thread); any failure in the thread is caught there and only means "no figures"."""

    def __init__(self, client: Any, reply: Any) -> None:
        self.client = client
        self.model = _model_of(reply)
        self._figures: Figures | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ollama-nb-context", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._figures = _figures(self.client, self.model)
        except Exception:  # the meter is a courtesy: whatever went wrong, the answer is unaffected
            self._figures = None
        finally:
            self._done.set()

    def result(self, timeout: float | None = None) -> Figures | None:
        """The figures, or None when the lookup failed or is still running after ``timeout``
        seconds (default :data:`LOOKUP_WAIT`)."""
        if not self._done.wait(LOOKUP_WAIT if timeout is None else timeout):
            return None
        return self._figures


def measure(
    client: Any, reply: Any, options: Mapping[str, Any] | None = None, *, lookup: Lookup | None = None
) -> ContextUse | None:
    """The context the last answer used, or None when the server did not count it (or ``lookup``
    gave no figures in time). Without ``lookup`` the server is asked now."""
    stats = reply.stats() if hasattr(reply, "stats") else {}
    prompt = stats.get("prompt_eval_count")
    if not isinstance(prompt, int):
        return None
    used = prompt + int(stats.get("eval_count") or 0)
    model = _model_of(reply)
    figures = lookup.result() if lookup is not None else _figures(client, model)
    if figures is None:
        return None
    maximum = figures.maximum
    asked = (options or {}).get("num_ctx")
    window: int | None = (
        int(asked) if isinstance(asked, (int, float)) and not isinstance(asked, bool) and asked > 0 else None
    )
    remote = _remote(client, model)
    if window is None and not remote:
        window = figures.runner
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
