"""What the server sent, merged: :class:`Chunk` (one line), :class:`Reply` (a chat/generate answer)
and :class:`Progress` (a pull/push/create run).

This is the only module that merges chunks. The client feeds it; views only read from it.

Usage::

    stream = client.chat("llama3.2", messages=[{"role": "user", "content": "Hi"}], stream=True)
    for part in stream:
        print(part["message"]["content"], end="")
    stream.reply.content, stream.reply.tokens_per_second
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from ._status import DONE, RUNNING

__all__ = [
    "ChatResponse",
    "Chunk",
    "EmbedResponse",
    "EmbeddingsResponse",
    "GenerateResponse",
    "ListResponse",
    "Message",
    "ProcessResponse",
    "Progress",
    "ProgressResponse",
    "Reply",
    "ShowResponse",
    "StatusResponse",
    "WebFetchResponse",
    "WebSearchResponse",
]

_perf = time.perf_counter
#: Text parts are folded into one string every this many: a 500 000-token answer is then held as
#: ~500 strings of a few kB (about its size in text), not 500 000 small str objects (~60 B each).
_FOLD = 1024


# Every field name of the server's JSON (api/types.go). An absent one of these reads as None through
# attributes, as with ollama-python's models; any other missing name raises AttributeError, so duck
# typing (hasattr(x, "model_dump"), IPython's _repr_ probes) is not fooled.
_FIELDS = frozenset(
    [
        "model",
        "created_at",
        "message",
        "role",
        "content",
        "thinking",
        "images",
        "tool_calls",
        "tool_name",
        "tool_call_id",
        "done",
        "done_reason",
        "total_duration",
        "load_duration",
        "prompt_eval_count",
        "prompt_eval_duration",
        "eval_count",
        "eval_duration",
        "response",
        "context",
        "logprobs",
        "embeddings",
        "embedding",
        "models",
        "name",
        "modified_at",
        "size",
        "digest",
        "details",
        "parent_model",
        "format",
        "family",
        "families",
        "parameter_size",
        "quantization_level",
        "expires_at",
        "size_vram",
        "context_length",
        "embedding_length",
        "license",
        "modelfile",
        "parameters",
        "template",
        "system",
        "model_info",
        "projector_info",
        "tensors",
        "capabilities",
        "messages",
        "renderer",
        "parser",
        "requires",
        "status",
        "total",
        "completed",
        "version",
        "results",
        "title",
        "url",
        "links",
        "remote_model",
        "remote_host",
        "function",
        "arguments",
        "index",
        "id",
        "error",
        "signin_url",
        "token",
        "logprob",
        "bytes",
        "top_logprobs",
        "image",
        "width",
        "height",
        "steps",
    ]
)
_ALIASES = {"modelinfo": "model_info"}  # ollama-python's attribute name for model_info
#: Timestamps ollama-python turns into datetimes. ``created_at`` stays text there, and here.
_DATETIMES = frozenset(("modified_at", "expires_at"))


def _when(text: Any) -> Any:
    """Go's RFC 3339 text (nanoseconds, ``Z``) -> an aware datetime; anything else unchanged."""
    if not isinstance(text, str):
        return text
    head, dot, rest = text.partition(".")
    if dot:  # Python reads at most 6 fraction digits: cut the nanoseconds, keep the offset
        digits = len(rest) - len(rest.lstrip("0123456789"))
        rest = rest[:6] + rest[digits:] if digits > 6 else rest
        text = f"{head}.{rest}"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return text


def _dump(value: Any, mode: str, exclude_none: bool, key: str = "") -> Any:
    """A deep, plain copy for model_dump: dicts, lists, datetimes for timestamps (mode "python")."""
    if isinstance(value, dict):
        return {k: _dump(v, mode, exclude_none, k) for k, v in value.items() if not (exclude_none and v is None)}
    if isinstance(value, (list, tuple)):
        return [_dump(v, mode, exclude_none) for v in value]
    if key in _DATETIMES and mode == "python":
        return _when(value)
    if hasattr(value, "model_dump") and not isinstance(value, type):
        return value.model_dump(mode=mode, exclude_none=exclude_none)
    return value


class _Model:
    """ollama-python's pydantic helpers on our plain objects (no pydantic needed)."""

    __slots__ = ()

    def _plain(self) -> dict[str, Any]:
        raise NotImplementedError

    def model_dump(
        self,
        *,
        mode: str = "python",
        exclude_none: bool = False,
        include: Any = None,
        exclude: Any = None,
        **_ignored: Any,  # by_alias, exclude_unset...: our objects hold only what the server sent
    ) -> dict[str, Any]:
        """A plain dict of the fields the server sent (``modified_at``/``expires_at`` as datetimes)."""
        out: dict[str, Any] = _dump(self._plain(), mode, exclude_none)
        if include is not None:
            out = {k: v for k, v in out.items() if k in include}
        if exclude is not None:
            out = {k: v for k, v in out.items() if k not in exclude}
        return out

    def model_dump_json(self, *, indent: int | None = None, exclude_none: bool = False, **kw: Any) -> str:
        """The same as JSON text (timestamps as the server wrote them)."""
        return json.dumps(
            self.model_dump(mode="json", exclude_none=exclude_none, **kw),
            indent=indent,
            ensure_ascii=False,
            default=str,
        )


class Chunk(_Model, dict[str, Any]):
    """One JSON object from the server: a dict that also reads as attributes.

    ``part["message"]["content"]``, ``part.get("done")`` and ``part.message.content`` all work, as in
    ollama-python, and so do ``model_dump()`` / ``model_dump_json()``. A server field left out reads
    as ``None`` through attributes (and raises ``KeyError`` through ``[...]``, like a dict).
    ``modified_at`` / ``expires_at`` read as datetimes through attributes, as ollama-python gives
    them, and stay the server's text through ``[...]`` (so the dict is still plain JSON).
    """

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        name = _ALIASES.get(name, name)
        try:
            value = self[name]
        except KeyError:
            if name in _FIELDS:
                return None
            raise AttributeError(name) from None
        # Wrap nested objects lazily: the hot path only pays for what a user actually reads.
        if type(value) is dict:
            value = self[name] = Chunk(value)
        elif type(value) is list and value and type(value[0]) is dict:
            value = self[name] = [Chunk(v) if type(v) is dict else v for v in value]
        elif name in _DATETIMES:
            return _when(value)
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        # msg.content = "..." as on ollama-python's models: the field, not an attribute.
        self[name] = value

    def _plain(self) -> dict[str, Any]:
        return self

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | {k for k in self if isinstance(k, str)})


class _ResponseType(type):
    """``isinstance(reply, ChatResponse)`` is true for a chat :class:`Reply` too (a Reply is our
    non-streamed ChatResponse/GenerateResponse, but not a dict)."""

    _kind: str | None

    def __instancecheck__(cls, obj: Any) -> bool:
        if type.__instancecheck__(cls, obj):
            return True
        kind = cls.__dict__.get("_kind")
        return kind is not None and isinstance(obj, Reply) and obj.kind == kind


class _Response(Chunk, metaclass=_ResponseType):
    __slots__ = ()
    _kind: str | None = None


# The names ollama-python's answers have. Each is a Chunk (a dict read by key or attribute); the
# client returns them from the matching method, and streams yield them.
class ChatResponse(_Response):
    """A chat answer or a streamed chat chunk (a non-streamed chat returns a :class:`Reply`, which
    also counts as one)."""

    __slots__ = ()
    _kind = "chat"


class GenerateResponse(_Response):
    """A generate answer or a streamed generate chunk (see :class:`ChatResponse`)."""

    __slots__ = ()
    _kind = "generate"


class EmbedResponse(_Response):
    """``embeddings`` from :meth:`Client.embed`."""

    __slots__ = ()


class EmbeddingsResponse(_Response):
    """``embedding`` from the legacy :meth:`Client.embeddings`."""

    __slots__ = ()


class ListResponse(_Response):
    """``models`` from :meth:`Client.list`."""

    __slots__ = ()


class ShowResponse(_Response):
    """Details of one model from :meth:`Client.show` (``modelinfo`` reads ``model_info``)."""

    __slots__ = ()


class ProcessResponse(_Response):
    """``models`` in memory from :meth:`Client.ps`."""

    __slots__ = ()


class StatusResponse(_Response):
    """``status`` of copy/delete (and the base of progress lines)."""

    __slots__ = ()


class ProgressResponse(StatusResponse):
    """One pull/push/create status line (``status``, ``digest``, ``total``, ``completed``)."""

    __slots__ = ()


class WebSearchResponse(_Response):
    """``results`` (title, url, content) from :meth:`Client.web_search`."""

    __slots__ = ()


class WebFetchResponse(_Response):
    """``title``, ``content``, ``links`` from :meth:`Client.web_fetch`."""

    __slots__ = ()


class Message(Chunk):
    """A chat message: ``Message(role="user", content="Hi", images=[...])``, a dict as the server
    wants it, read by key or attribute (``Message.ToolCall`` and ``Message.ToolCall.Function``
    build the parts of ``tool_calls`` the same way)."""

    __slots__ = ()

    class ToolCall(Chunk):
        """One tool call: ``function`` (``name``, ``arguments``), optional ``id``."""

        __slots__ = ()

        class Function(Chunk):
            """The called function's ``name`` and ``arguments`` (a dict)."""

            __slots__ = ()


class Reply(_Model):
    """A chat or generate answer, merged from its stream (or from one non-streamed object).

    Text: ``content``, ``thinking``, ``tool_calls``; ``message`` is the assistant message to append
    to a history. State: ``status`` is ``"running"``, ``"done"``, ``"stopped"`` (closed early on
    purpose), ``"interrupted"`` (KeyboardInterrupt) or ``"failed"`` (``error`` says why); ``done``
    is true only when the server sent its final chunk. Stats (``None`` until done): the server's
    nanosecond counters (``eval_count``, ``eval_duration``, ``load_duration``, ...) and, measured here,
    ``ttft`` (seconds to the first token) and ``elapsed``.

    A Reply also reads like the server's non-streamed JSON, as ollama-python's ChatResponse /
    GenerateResponse do: ``reply["message"]["content"]`` (chat) or ``reply["response"]``
    (generate), ``reply.get("eval_count")``, ``reply.context``, ``reply.logprobs`` (merged from
    every chunk), ``model_dump()``; any other server field reads as None when absent.
    """

    STAT_KEYS = (
        "total_duration",
        "load_duration",
        "prompt_eval_count",
        "prompt_eval_duration",
        "eval_count",
        "eval_duration",
        "from_log",  # answered from the log (--cache): the logged turn's id
    )

    def __init__(self, model: str = "", *, kind: str = "chat", request: dict[str, Any] | None = None) -> None:
        self.model = model
        self.kind = kind  # "chat" or "generate": which field carries the text
        self._text_key = "content" if kind == "chat" else "response"
        self.request = request or {}
        self.status = RUNNING
        self.error: BaseException | None = None
        self.done = False
        self.done_reason: str | None = None
        self.created_at: str | None = None
        self.tool_calls: list[dict[str, Any]] = []
        self._logprobs: list[dict[str, Any]] = []
        self.chunks = 0
        self.final: dict[str, Any] = {}
        self.started = _perf()
        self.first_token_at: float | None = None
        self.finished_at: float | None = None
        # Text so far: folded blocks first, then the latest parts (see _fold). Readers on another
        # thread copy the list in one step (atomic under the GIL), so they never see half a fold.
        self._content: list[str] = []
        self._content_fold = _FOLD  # fold when the list reaches this length
        self._thinking: list[str] = []
        self._thinking_fold = _FOLD
        self._text_cache: tuple[int, str] = (-1, "")

    # -- merging (hot path: called once per chunk) -------------------------------------------
    def add(self, obj: dict[str, Any]) -> None:
        """Merge one chunk. Cheap on purpose: appends, no joins, no copies of the text so far."""
        msg = obj.get("message")
        src = obj if msg is None else msg  # generate: text at the top level; chat: in message
        content = src.get(self._text_key)
        if content:
            if self.first_token_at is None:
                self.first_token_at = _perf()
            parts = self._content
            parts.append(content)
            if len(parts) >= self._content_fold:
                self._content_fold = _fold(parts)
        if "thinking" in src:
            self._add_thinking(src["thinking"])
        if "tool_calls" in src or "tool_calls" in obj:
            self._add_tool_calls(src.get("tool_calls") or obj.get("tool_calls"))
        if "logprobs" in obj:
            self._logprobs.extend(obj["logprobs"] or ())
        if obj.get("done"):
            self._finish(obj)
        # Counted last: a reader that sees n chunks sees at least their text (see content).
        self.chunks += 1

    def _add_thinking(self, thinking: str | None) -> None:
        if thinking:
            if self.first_token_at is None:
                self.first_token_at = _perf()
            parts = self._thinking
            parts.append(thinking)
            if len(parts) >= self._thinking_fold:
                self._thinking_fold = _fold(parts)

    def _add_tool_calls(self, calls: list[dict[str, Any]] | None) -> None:
        if calls:
            if self.first_token_at is None:
                self.first_token_at = _perf()
            self.tool_calls.extend(calls)

    def _finish(self, obj: dict[str, Any]) -> None:
        self.done = True
        self.status = DONE
        self.finished_at = _perf()
        self.done_reason = obj.get("done_reason")
        self.created_at = obj.get("created_at")
        self.model = obj.get("model") or self.model
        self.final = {k: v for k, v in obj.items() if k not in ("message", "response", "thinking", "logprobs")}

    def complete(self, last: dict[str, Any] | None = None) -> None:
        """Mark a non-streamed answer as finished: its one object is the whole answer, even when a
        server (or a test double) leaves ``done`` out. ``done`` still says what the server said."""
        if self.status == RUNNING:
            if last is not None:
                self.final = {k: v for k, v in last.items() if k not in ("message", "response", "thinking", "logprobs")}
                self.created_at = last.get("created_at")
                self.model = last.get("model") or self.model
            self.status = "done"
            self.finished_at = _perf()

    def end(self, status: str, error: BaseException | None = None) -> None:
        """Mark an answer that ended without ``done``: stopped, interrupted or failed.

        The first ending wins: closing the stream after a Ctrl-C keeps "interrupted".
        """
        if self.status != RUNNING:
            return
        self.status = status
        self.error = error
        if self.finished_at is None:
            self.finished_at = _perf()

    # -- text --------------------------------------------------------------------------------
    @property
    def content(self) -> str:
        # The chunk count is read before the parts are copied, and add() counts a chunk after
        # appending its text: the cached text never holds less than the count it is filed under.
        n = self.chunks
        cached, text = self._text_cache
        if cached != n:
            text = "".join(self._content[:])
            self._text_cache = (n, text)
        return text

    @property
    def thinking(self) -> str:
        return "".join(self._thinking[:])

    @property
    def text_length(self) -> int:
        """Characters of content + thinking so far, without joining (views use it to pace updates)."""
        return sum(map(len, self._content)) + sum(map(len, self._thinking))

    @property
    def message(self) -> Message:
        """The assistant message, ready to append to ``messages`` for the next turn."""
        msg = Message(role="assistant", content=self.content)
        if self._thinking:
            msg["thinking"] = self.thinking
        if self.tool_calls:
            msg["tool_calls"] = list(self.tool_calls)
        return msg

    @property
    def logprobs(self) -> list[Chunk]:
        """Per-token log-probabilities (``token``, ``logprob``, ``bytes``, ``top_logprobs``) from
        every chunk, in order, when the request asked for ``logprobs`` (else empty)."""
        items = self._logprobs
        for i, item in enumerate(items):  # wrapped on first read, not on the hot path
            if type(item) is dict:
                items[i] = Chunk(item)
        return [item if isinstance(item, Chunk) else Chunk(item) for item in items]

    @property
    def partial(self) -> bool:
        return not self.done

    # -- stats -------------------------------------------------------------------------------
    def _stat(self, key: str) -> Any:
        return self.final.get(key)

    eval_count = property(lambda self: self._stat("eval_count"))
    eval_duration = property(lambda self: self._stat("eval_duration"))
    prompt_eval_count = property(lambda self: self._stat("prompt_eval_count"))
    prompt_eval_duration = property(lambda self: self._stat("prompt_eval_duration"))
    load_duration = property(lambda self: self._stat("load_duration"))
    total_duration = property(lambda self: self._stat("total_duration"))

    @property
    def tokens_per_second(self) -> float | None:
        """Generation speed as the server measured it (``eval_count / eval_duration``)."""
        count, ns = self.eval_count, self.eval_duration
        return count / ns * 1e9 if count and ns else None

    @property
    def prompt_tokens_per_second(self) -> float | None:
        count, ns = self.prompt_eval_count, self.prompt_eval_duration
        return count / ns * 1e9 if count and ns else None

    @property
    def ttft(self) -> float | None:
        """Seconds from sending the request to the first token, measured on our side."""
        return None if self.first_token_at is None else self.first_token_at - self.started

    @property
    def elapsed(self) -> float:
        """Seconds from sending the request to the end (or to now, while streaming)."""
        return (self.finished_at or _perf()) - self.started

    def stats(self) -> dict[str, Any]:
        """Every number worth saving with an answer (in output metadata, transcripts)."""
        out: dict[str, Any] = {k: self.final[k] for k in self.STAT_KEYS if k in self.final}
        out["tokens_per_second"] = self.tokens_per_second
        out["ttft"] = self.ttft
        out["elapsed"] = self.elapsed
        out["chunks"] = self.chunks
        return out

    # -- reads like the server's JSON ---------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The answer shaped as the server's non-streamed JSON."""
        out: dict[str, Any] = {"model": self.model}
        if self.created_at:
            out["created_at"] = self.created_at
        if self.kind == "chat":
            out["message"] = dict(self.message)
        else:
            out["response"] = self.content
            if self._thinking:
                out["thinking"] = self.thinking
            if self.tool_calls:
                out["tool_calls"] = list(self.tool_calls)
        if self._logprobs:
            out["logprobs"] = self.logprobs
        out.update({k: v for k, v in self.final.items() if k not in out})
        out["done"] = self.done
        if self.done_reason is not None:
            out["done_reason"] = self.done_reason
        return out

    def _plain(self) -> dict[str, Any]:
        return self.to_dict()

    def __getattr__(self, name: str) -> Any:
        # Only for names not set on the Reply: the final chunk's other fields (context, image,
        # remote_model...), None when absent, as with ollama-python's models.
        if name.startswith("_") or name not in _FIELDS:
            raise AttributeError(name)
        return Chunk(self.__dict__.get("final") or {}).__getattr__(name)

    def __getitem__(self, key: str) -> Any:
        if key == "message":
            return self.message
        return Chunk(self.to_dict())[key]

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key: object) -> bool:
        return key in self.to_dict()

    def keys(self) -> Any:
        return self.to_dict().keys()

    @property
    def response(self) -> str:
        """Generate's name for the text (``reply.response``), same as ``content``."""
        return self.content

    def __repr__(self) -> str:
        text = self.content
        shown = text if len(text) <= 60 else text[:57] + "..."
        from ._redact import mask_keys

        # A repr lands in outputs and tracebacks: a key a server echoed into the answer is masked.
        return mask_keys(
            f"Reply(model={self.model!r}, status={self.status!r}, content={shown!r}, chunks={self.chunks})"
        )

    def __str__(self) -> str:
        return self.content

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        """What a notebook shows for a Reply: sanitized HTML and the plain answer (never Markdown,
        which a trusted output would render raw)."""
        from ._format import stats_line
        from ._redact import mask_data
        from ._render import answer, chrome

        footer = stats_line(self)
        content, thinking, calls = self.content, self.thinking, self.tool_calls
        bundle: dict[str, str] = {
            "text/html": chrome.page(
                answer.answer(content=content, thinking=thinking, tool_calls=calls, model=self.model, footer=footer)
            ),
            "text/plain": answer.answer_plain(content=content, thinking=thinking, tool_calls=calls, footer=footer),
        }
        return mask_data(bundle)  # a key a server echoed into the answer is not shown


def _fold(parts: list[str]) -> int:
    """Join the parts after the folded blocks into one block, in place; return the next length
    at which to fold. Blocks are every _FOLD parts, so each character is copied once more in all."""
    blocks = len(parts) - _FOLD
    parts[blocks:] = ["".join(parts[blocks:])]  # one atomic slice assignment
    return blocks + 1 + _FOLD


class Progress:
    """A pull/push/create run merged from its status lines: layers, bytes, speed, ETA.

    Each line is ``{"status": ...}`` with, for a layer, ``digest``/``total``/``completed``.
    ``layers`` maps digest -> ``[completed, total]`` in arrival order.
    """

    def __init__(self, model: str = "", *, action: str = "pull") -> None:
        self.model = model
        self.action = action
        self.status = ""
        self.statuses: list[str] = []
        self.layers: dict[str, list[int]] = {}
        self.done = False
        self.error: BaseException | None = None
        self.state = RUNNING  # then one of ENDINGS (ollama_nb._status)
        self.started = _perf()
        self._samples: list[tuple[float, int]] = []

    def add(self, obj: dict[str, Any]) -> None:
        status = obj.get("status") or ""
        if status and status != self.status:
            self.status = status
            self.statuses.append(status)
        digest = obj.get("digest")
        if digest and obj.get("total") is not None:
            self.layers[digest] = [int(obj.get("completed") or 0), int(obj["total"])]
            now = _perf()
            self._samples.append((now, self.completed))
            # Keep ~5 s of samples: the speed shown is recent, not the average since the start.
            while len(self._samples) > 2 and now - self._samples[0][0] > 5:
                self._samples.pop(0)
        if status == "success":
            self.done = True
            self.state = DONE

    def end(self, state: str, error: BaseException | None = None) -> None:
        """Mark a run that ended without success; the first ending wins, as for a Reply."""
        if self.state == RUNNING:
            self.state = state
            self.error = error

    @property
    def completed(self) -> int:
        return sum(c for c, _ in self.layers.values())

    @property
    def total(self) -> int:
        return sum(t for _, t in self.layers.values())

    @property
    def fraction(self) -> float | None:
        total = self.total
        if self.done:
            return 1.0
        return self.completed / total if total else None

    @property
    def speed(self) -> float | None:
        """Bytes per second over the last few seconds."""
        if len(self._samples) < 2:
            return None
        (t0, b0), (t1, b1) = self._samples[0], self._samples[-1]
        return (b1 - b0) / (t1 - t0) if t1 > t0 and b1 >= b0 else None

    @property
    def eta(self) -> float | None:
        """Seconds left at the current speed."""
        speed = self.speed
        if not speed or self.done:
            return None
        return max(self.total - self.completed, 0) / speed

    def layer_rows(self) -> Iterator[tuple[str, int, int]]:
        for digest, (done, total) in self.layers.items():
            yield digest, done, total
