"""What the server sent, merged: :class:`Reply` (a chat/generate answer) and :class:`Progress`
(a pull/push/create run); each line itself is a wire type of :mod:`ollama_nb._types`.

This is the only module that merges chunks. The client feeds it; views only read from it.

Usage::

    stream = client.chat("llama3.2", messages=[{"role": "user", "content": "Hi"}], stream=True)
    for part in stream:
        print(part["message"]["content"], end="")
    stream.reply.content, stream.reply.tokens_per_second
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from ._display import mimebundle
from ._redact import mask_keys
from ._status import DONE, RUNNING
from ._terminal import terminal_text
from ._types import ChatResponse, Chunk, GenerateResponse, Message, ModelDump

__all__ = ["Progress", "Reply"]

_perf = time.perf_counter
#: Text parts are folded into one string every this many: a 500 000-token answer is then held as
#: ~500 strings of a few kB (about its size in text), not 500 000 small str objects (~60 B each).
_FOLD = 1024
#: What a Reply reads as ollama-python's answer types: either one's fields (None when absent).
_ANSWER_FIELDS = frozenset(ChatResponse.FIELDS) | frozenset(GenerateResponse.FIELDS)


def _is_counter(key: str, value: Any) -> bool:
    """A stats field a server may add (``prompt_eval_cached_count``...): kept with the others."""
    return key.endswith(("_count", "_duration")) and type(value) in (int, float)


class Reply(ModelDump):
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

    IS_REPLY = True  # what ChatResponse / GenerateResponse's isinstance check looks for
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

    def begin(self, request: dict[str, Any], kind: str = "chat") -> None:
        """Called by the client as it sends ``request``: a Reply made before (by the turn runner,
        which hands the same object to every view) then reads the answer, its clock started now."""
        self.model = request.get("model") or self.model
        self.kind = kind
        self._text_key = "content" if kind == "chat" else "response"
        self.request = request
        self.started = _perf()

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

        The one place an ending is written, and the first ending wins: whoever asks later (the
        stream closing after a Ctrl-C was recorded, a Stop after the last chunk) changes nothing.
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

    def head(self, limit: int, *, thinking: bool = False) -> tuple[str, int]:
        """The first ``limit`` characters of the content (or the thinking) and its whole length.

        Only the parts the head needs are joined: a view that shows the start of a 100 M-character
        answer copies what it shows, not the answer (which :attr:`content` joins whole)."""
        return _span(self._thinking if thinking else self._content, 0, limit)

    def text_from(self, start: int, *, thinking: bool = False) -> tuple[str, int]:
        """The content (or the thinking) from character ``start`` on, and its whole length: what a
        reader that keeps the text so far (the log) still needs."""
        return _span(self._thinking if thinking else self._content, start, None)

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
        out.update({k: v for k, v in self.final.items() if _is_counter(k, v) and k not in out})
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
        # remote_model, a counter a newer server adds...), None when a known one is absent.
        final = self.__dict__.get("final") or {}
        if name.startswith("_") or (name not in _ANSWER_FIELDS and name not in final):
            raise AttributeError(name)
        return GenerateResponse(final).__getattr__(name)

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
        text, length = self.head(60)  # (not the whole answer joined, to show 57 characters of it)
        shown = text if length <= 60 else text[:57] + "..."
        # A repr lands in outputs and tracebacks: a key a server echoed into the answer is masked.
        return mask_keys(
            f"Reply(model={self.model!r}, status={self.status!r}, content={shown!r}, chunks={self.chunks})"
        )

    def __str__(self) -> str:
        """The answer's text, as ``print(reply)`` shows it: control characters written as visible
        escapes (``\\x1b``), so a terminal prints an answer's escape sequences instead of obeying
        them (ollama-python's pydantic answers print a field listing, whose ``repr`` escapes them
        too), and a key a server echoed masked. ``reply.content`` and ``reply["message"]["content"]``
        stay the text as sent."""
        return terminal_text(mask_keys(self.content))

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        """What a notebook shows for a Reply: the view layer's bundle (ollama_nb._reply_view)."""
        return mimebundle(self) or {"text/plain": repr(self)}


def _fold(parts: list[str]) -> int:
    """Join the parts after the folded blocks into one block, in place; return the next length
    at which to fold. Blocks are every _FOLD parts, so each character is copied once more in all."""
    blocks = len(parts) - _FOLD
    parts[blocks:] = ["".join(parts[blocks:])]  # one atomic slice assignment
    return blocks + 1 + _FOLD


def _span(parts: list[str], start: int, stop: int | None) -> tuple[str, int]:
    """Characters ``start:stop`` of the text held in ``parts``, and the text's length. The list is
    copied in one step first (a fold on the stream's thread replaces parts in one assignment)."""
    pieces: list[str] = []
    at = 0
    for part in parts[:]:
        end = at + len(part)
        if end > start and (stop is None or at < stop):
            pieces.append(part[max(0, start - at) : None if stop is None else max(0, stop - at)])
        at = end
    return "".join(pieces), at


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
