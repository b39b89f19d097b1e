"""One turn's row: the request as stored, the cache key, and the recorder the turn runner feeds.

A request is stored as sent, minus what must never be kept: known keys are masked in every string
(``_redact.mask_data``), and each image becomes ``"sha256:<hex>"`` with its data kept once in the
``images`` table. The cache key (:func:`request_key`) is the SHA-256 of what decides an answer:
the model and its digest, the messages (images by hash), system, options (seed among them),
format, tools and ``think``; not ``stream`` or ``keep_alive``. The cell cache and a batch run's
resume (``ollama_nb.map``) both look answers up by it.

Usage::

    body, images = stored_request({"model": "llama3.2", "messages": [...], "options": {"seed": 1}})
    key = request_key(body, digest="sha256:...")
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
import time
from typing import Any

from .._redact import mask_data, mask_keys, redact, unsafe_tail
from .._status import RUNNING
from .db import Writer

__all__ = ["Recorder", "new_id", "prompt_text", "request_key", "stored_request"]

#: What decides an answer, so what the cache key is made of.
KEY_FIELDS = (
    "model", "messages", "prompt", "system", "suffix", "template", "raw", "options", "format", "tools", "think",
)  # fmt: skip


def new_id() -> str:
    """12 hex digits: short enough to type after ``%ollama log show``, unique among millions."""
    return secrets.token_hex(6)


def _image_ref(image: Any, images: list[tuple[str, str]]) -> str:
    from .._images import encode_image

    try:
        data = encode_image(image)
    except Exception:  # not readable as an image: the request failed anyway; keep its text form
        data = str(image)
    sha = hashlib.sha256(data.encode("ascii", "replace")).hexdigest()
    images.append((sha, data))
    return f"sha256:{sha}"


def _plain(value: Any) -> Any:
    """JSON-ready: dicts (also our response objects), lists, scalars; anything else as text."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return _plain(dump())
    return str(value)


def stored_request(body: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """``body`` as it is stored: plain JSON, keys masked, images by hash (returned apart)."""
    images: list[tuple[str, str]] = []
    out = {k: v for k, v in body.items() if k not in ("images", "messages")}
    if body.get("images"):
        out["images"] = [_image_ref(i, images) for i in body["images"]]
    if "messages" in body:
        messages = []
        for message in body["messages"] or []:
            m = dict(message) if isinstance(message, dict) else _plain(message)
            if m.get("images"):
                m["images"] = [_image_ref(i, images) for i in m["images"]]
            messages.append(m)
        out["messages"] = messages
    return mask_data(_plain(out)), images


def request_key(body: dict[str, Any], digest: str | None) -> str:
    """The cache key of a stored request (see :func:`stored_request`) for a model ``digest``."""
    parts = {k: body.get(k) for k in KEY_FIELDS if body.get(k) not in (None, {}, [])}
    parts["digest"] = digest
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def prompt_text(body: dict[str, Any]) -> str:
    """The last user message's text (or a generate request's prompt): the table's and search's."""
    for message in reversed(body.get("messages") or []):
        if isinstance(message, dict) and message.get("role") == "user":
            return str(message.get("content") or "")
    return str(body.get("prompt") or "")


class Recorder:
    """Writes one turn: :meth:`begin`, then the writer snapshots :attr:`reply` (which the turn
    runner sets once the server answers) about once a second, then :meth:`end`. None of them waits
    for the file: each puts a write on the writer's queue."""

    def __init__(
        self,
        writer: Writer,
        body: dict[str, Any],
        *,
        source: str,
        host: str | None = None,
        conversation: str | None = None,
        notebook: str | None = None,
        cell_id: str | None = None,
        digest: str | None = None,
    ) -> None:
        self.writer = writer
        self.id = new_id()
        #: The answer streaming now (a Reply); read by the writer's thread.
        self.reply: Any = None
        #: End the row when :attr:`reply` ends (a stream handed to the caller, whose end no one reports).
        self.follow = False
        #: Ended: the writer stops snapshotting it.
        self.finished = False
        self._seen = 0
        #: Characters of the content and thinking in the row already (read and written by the
        #: writer's thread only).
        self._written = {"content": 0, "thinking": 0}
        self.request, self._images = stored_request(body)
        self.key = request_key(self.request, digest) if digest else None
        self._row: dict[str, Any] = {
            "id": self.id,
            "source": source,
            "host": redact(host) if host else None,
            "model": self.request.get("model"),
            "conversation": conversation,
            "notebook": notebook,
            "cell_id": cell_id,
            "request_key": self.key,
            "prompt": prompt_text(self.request),
        }

    def keyed(self, digest: str) -> None:
        """Give the row its cache key (the model's digest became known before :meth:`begin`)."""
        self.key = self._row["request_key"] = request_key(self.request, digest)

    def begin(self) -> None:
        for sha, data in self._images:
            self.writer.put(("image", sha, data))
        request = json.dumps(self.request, ensure_ascii=False)
        self.writer.put(("insert", {**self._row, "started": time.time(), "request": request, "status": RUNNING}))
        self.writer.watch(self)

    def snapshot(self) -> tuple[Any, ...] | None:
        """The write that brings the row up to the answer so far, or None if nothing new came."""
        reply = self.reply
        chunks = getattr(reply, "chunks", 0)
        if self.follow and getattr(reply, "status", RUNNING) != RUNNING:
            self.finished = True
            return self._last(reply, reply.status, str(reply.error) if reply.error is not None else None)
        if reply is None or chunks == self._seen:
            return None
        self._seen = chunks
        return (_kind(reply), self.id, self._texts(reply, final=False))

    def end(self, reply: Any, status: str, error: str | None = None) -> None:
        """The row's last write, made on the writer's thread (``"later"``): after a Ctrl-C the
        kernel is the user's again at once, while the tail of a long answer is masked and written."""
        self.finished = True
        self.writer.unwatch(self, ("later", lambda: self._last(reply, status, error)))

    def _last(self, reply: Any, status: str, error: str | None) -> tuple[Any, ...]:
        stats = json.dumps(_plain(getattr(reply, "final", {}) or {}), ensure_ascii=False)
        calls = getattr(reply, "tool_calls", None)
        fields = {
            **self._texts(reply, final=True),
            "tool_calls": json.dumps(mask_data(_plain(calls)), ensure_ascii=False) if calls else None,
            "status": status,
            "error": redact(error) if error else None,
        }
        if model := getattr(reply, "model", None):
            fields["model"] = model
        return (_kind(reply), self.id, {**fields, "ended": time.time(), "stats": stats})

    def _texts(self, reply: Any, *, final: bool) -> dict[str, str]:
        """The content and thinking that came since the last write, keys masked, to append to the
        row: each write costs what arrived since the one before, not the answer so far. Until the
        last, an end that could be the start of a known key waits for the next write (so a key is
        never split in two pieces, each of which the mask would let through)."""
        out: dict[str, str] = {}
        if _kind(reply) == "update":  # not a Reply (its texts given whole): written whole
            return {f: mask_keys(str(getattr(reply, f, "") or "")) for f in ("content", "thinking")}
        for field in ("content", "thinking"):
            piece = str(reply.text_from(self._written[field], thinking=field == "thinking")[0])
            if not final:
                piece = piece[: len(piece) - unsafe_tail(piece)]
            self._written[field] += len(piece)
            out[field] = mask_keys(piece)
        return out


def _kind(reply: Any) -> str:
    """How a write of ``reply``'s texts goes: a Reply's only grow, so each write appends what came
    since the last ("append"); any other object's are written whole ("update")."""
    return "append" if callable(getattr(reply, "text_from", None)) else "update"
