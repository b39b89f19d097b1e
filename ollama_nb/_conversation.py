"""Conversation: a message history shared by ``%%ollama`` and :class:`~ollama_nb.ChatWidget`.

A conversation is a list of turns. A turn is one user message, the tool messages that followed it,
and the assistant's answer with how it ended. A turn may carry a key (the magic uses the cell's id),
so re-running a cell replaces that cell's own turn instead of appending a duplicate. A stopped or
failed answer is kept and marked, never dropped, so what the model saw stays what the user saw.

Usage::

    from ollama_nb import Conversation
    conv = Conversation.named("tutor", system="You are a patient tutor.")
    turn = conv.begin({"role": "user", "content": "What is a prime?"})
    reply = client.chat(conv.model or "llama3.2", messages=conv.messages_for(turn))
    conv.finish(turn, reply)
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from ._redact import mask_data, mask_keys, redact
from ._status import DONE, RUNNING

if TYPE_CHECKING:
    from ._outcome import Outcome

__all__ = ["Conversation", "Turn"]


@dataclass
class Turn:
    """One exchange. ``status``: running, done, stopped, interrupted or failed."""

    user: dict[str, Any]
    key: str | None = None
    tools: list[dict[str, Any]] = field(default_factory=list)
    status: str = RUNNING
    model: str | None = None
    stats: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    #: How it ended, as views show it (set by the turn runner; None for a turn recorded by hand).
    outcome: Outcome | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    _assistant: dict[str, Any] | None = field(default=None, repr=False)
    #: The answer whose message :attr:`assistant` is made from on first read (see Conversation.finish).
    _answer: Any = field(default=None, repr=False, compare=False)

    @property
    def assistant(self) -> dict[str, Any] | None:
        """The assistant message (masked); an answer with nothing in it leaves the one before."""
        answer = self._answer
        if answer is not None:
            # Read threads may both get here: each makes the same message from the ended answer.
            message = mask_data(dict(answer.message))
            has = message.get("content") or message.get("tool_calls") or message.get("thinking")
            if has:
                self._assistant = message
            self._answer = None
        return self._assistant

    @assistant.setter
    def assistant(self, message: dict[str, Any] | None) -> None:
        self._answer = None
        self._assistant = message

    def answered(self, reply: Any) -> None:
        """Take ``reply`` (ended) as the answer: its message is made when :attr:`assistant` is read."""
        self._answer = reply

    @property
    def partial(self) -> bool:
        return self.status not in (DONE, RUNNING)

    @property
    def unanswered_failure(self) -> bool:
        """A request that failed before any answer (server down, unknown model): the model never
        saw it, so it is shown in the history but not sent again."""
        return self.status == "failed" and self.assistant is None

    def messages(self) -> list[dict[str, Any]]:
        if self.unanswered_failure:
            return []
        out = [self.user]
        if self.assistant is not None:
            out.append(self.assistant)
        out.extend(self.tools)
        return out


class Conversation:
    """A message history plus the model, system prompt and options it runs with.

    Thread-safe: a widget streams from a background thread while the magic may read the same one.
    ``on_change(callback)`` calls ``callback(conversation)`` after every change.
    """

    _registry: ClassVar[dict[str, Conversation]] = {}
    _registry_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        name: str | None = None,
        *,
        model: str | None = None,
        system: str | None = None,
        options: dict[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.model = model
        self.system = system
        self.options: dict[str, Any] = dict(options or {})
        self.turns: list[Turn] = []
        self._lock = threading.RLock()
        self._listeners: list[Callable[[Conversation], None]] = []

    @classmethod
    def named(cls, name: str, **settings: Any) -> Conversation:
        """The conversation called ``name`` in this kernel, made on first use.

        Settings given here (model, system, options) update it when not None.
        """
        with cls._registry_lock:
            conv = cls._registry.get(name)
            if conv is None:
                conv = cls._registry[name] = cls(name)
        conv.configure(**settings)
        return conv

    @classmethod
    def names(cls) -> list[str]:
        with cls._registry_lock:
            return sorted(cls._registry)

    def configure(
        self, *, model: str | None = None, system: str | None = None, options: dict[str, Any] | None = None
    ) -> None:
        with self._lock:
            if model is not None:
                self.model = model
            if system is not None:
                self.system = system or None
            if options is not None:
                self.options = dict(options)
        self._changed()

    # -- turns --------------------------------------------------------------------------------
    def begin(self, user: dict[str, Any] | str, *, key: str | None = None) -> Turn:
        """Start a turn. With ``key`` of an earlier turn, that turn is replaced in place."""
        if isinstance(user, str):
            user = {"role": "user", "content": user}
        turn = Turn(user=dict(user), key=key)
        with self._lock:
            for i, old in enumerate(self.turns):
                if key is not None and old.key == key:
                    self.turns[i] = turn
                    break
            else:
                self.turns.append(turn)
        self._changed()
        return turn

    def finish(self, turn: Turn, reply: Any, *, status: str | None = None, error: str | None = None) -> None:
        """Record the answer (a Reply, possibly partial) and how the turn ended."""
        with self._lock:
            # The message is made (joined, and a key a server echoed into it masked) when first
            # read, not here: after a Ctrl-C in a 150 M-character answer, joining it here held the
            # kernel 1-2 s, and the next request or a view that shows the turn reads it anyway.
            turn.answered(reply)
            turn.status = status or ("done" if reply.done else reply.status)
            turn.model = mask_keys(reply.model) if reply.model else turn.model
            turn.stats = reply.stats()
            use = turn.outcome.context if turn.outcome is not None else None
            if use is not None:
                # Kept with the stats, so a view that has the turn without its outcome (a widget
                # opened later on a saved or restored conversation) still shows the context figure.
                turn.stats["context"] = {"used": use.used, "window": use.window}
            if error is None and getattr(reply, "error", None) is not None:
                error = str(reply.error)
            turn.error = redact(error) if error is not None else None
        self._changed()

    def fail(self, turn: Turn, error: str) -> None:
        """A turn whose request failed before any answer (server down, unknown model...)."""
        with self._lock:
            turn.status = "failed"
            turn.error = redact(error)
        self._changed()

    def remove(self, turn: Turn) -> None:
        with self._lock:
            if turn in self.turns:
                self.turns.remove(turn)
        self._changed()

    def clear(self) -> None:
        with self._lock:
            self.turns.clear()
        self._changed()

    # -- what the model sees -----------------------------------------------------------------
    def _system(self) -> list[dict[str, Any]]:
        return [{"role": "system", "content": self.system}] if self.system else []

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Every message, system prompt first: what the next request would carry before its prompt."""
        with self._lock:
            out = self._system()
            for turn in self.turns:
                out.extend(turn.messages())
            return out

    def messages_for(self, turn: Turn) -> list[dict[str, Any]]:
        """The history a turn is answered from: system, every earlier turn, then its own user message
        (and any tool results already given for it)."""
        with self._lock:
            out = self._system()
            for earlier in self.turns:
                if earlier is turn:
                    break
                out.extend(earlier.messages())
            out.append(turn.user)
            if turn.assistant is not None and turn.tools:
                out.append(turn.assistant)
                out.extend(turn.tools)
            return out

    def history(self) -> list[dict[str, Any]]:
        """Turns as plain dicts (user, assistant, status, model, stats) for display and saving."""
        with self._lock:
            return [
                {
                    "id": t.id,
                    "key": t.key,
                    "user": t.user.get("content", ""),
                    "assistant": (t.assistant or {}).get("content", ""),
                    "thinking": (t.assistant or {}).get("thinking", ""),
                    "status": t.status,
                    "model": t.model,
                    "stats": dict(t.stats),
                    "error": t.error,
                }
                for t in self.turns
            ]

    def outcomes(self) -> dict[str, Outcome]:
        """Turn id -> how it ended, for the turns the runner recorded."""
        with self._lock:
            return {t.id: t.outcome for t in self.turns if t.outcome is not None}

    def __len__(self) -> int:
        return len(self.turns)

    def __repr__(self) -> str:
        return f"Conversation(name={self.name!r}, model={self.model!r}, turns={len(self.turns)})"

    # -- listeners ---------------------------------------------------------------------------
    def on_change(self, callback: Callable[[Conversation], None], *, remove: bool = False) -> None:
        with self._lock:
            if remove:
                if callback in self._listeners:
                    self._listeners.remove(callback)
            elif callback not in self._listeners:
                self._listeners.append(callback)

    def _changed(self) -> None:
        for callback in list(self._listeners):
            try:
                callback(self)
            except Exception:  # a broken view must not break the conversation
                pass
