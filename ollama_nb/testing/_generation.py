"""The generation routes: /api/generate, /api/chat, /api/embed, /api/embeddings.

Checks run in the real server's order (bind errors, model name, capabilities, think, options,
format) so the same bad request fails with the same status and text. A successful request becomes
a ``Stream`` whose items are timed by the server; metrics are measured wall time in nanoseconds.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Generator, Iterator
from typing import Any

from . import _scenarios as scenarios
from ._binding import THINK_LEVELS, decode_images, parse_body
from ._catalog import DEFAULT_NUM_CTX, Model, State, name_key, valid_name
from ._chunks import answer_chunk, context_ids, done_only, final_chunk
from ._cloud import Cloud, parse_ref
from ._embeddings import embed, legacy_embedding
from ._prompt import Answer, Prompt, count_tokens
from ._scheduler import QueueFull, Scheduler
from ._voice import DemoVoice
from ._wire import (
    JSON,
    Batch,
    Drop,
    HTTPError,
    Raw,
    Sleep,
    Stall,
    Stream,
    StreamError,
    check_options,
    dumps,
    duration_ns,
    json_kind,
    rfc3339,
)

BATCH = 256  # bulk chunks per socket write
RUNNER_KILLED = "llama runner process has terminated: signal: killed"
TOO_LONG = (
    "the prompt is longer than the context length currently available to the model; shorten the prompt, "
    "adjust the context length in settings, or use a model with a longer context length"
)

class Generation:
    """Route functions for the generation endpoints; one instance per running emulator."""

    def __init__(
        self,
        state: State,
        load_delay: float,
        token_delay: float,
        *,
        scheduler: Scheduler | None = None,
        cloud: Cloud | None = None,
        stopping: threading.Event | None = None,
        voice: scenarios.Voice | None = None,
    ) -> None:
        self.voice = voice or DemoVoice()
        self.state = state
        self.load_delay = load_delay
        self.token_delay = token_delay
        self.scheduler = scheduler or Scheduler()
        self.cloud = cloud or Cloud()
        self.stopping = stopping or threading.Event()

    # ------------------------------------------------------------------ generate / chat

    def generate(self, body: bytes) -> Any:
        req = parse_body(body, "GenerateRequest", self.state.think_levels())
        name = req.get("model") or ""
        if not name.strip():
            raise HTTPError(404, "model '' not found")
        model, name, remote = self._resolve(name, f"model '{name}' not found")
        prompt_text = req.get("prompt") or ""
        if not prompt_text and req.get("keep_alive") == 0 and not remote:
            return self._unload(model, name, "generate")
        if req.get("raw") and (req.get("template") or req.get("system") or req.get("context")):
            raise HTTPError(400, "raw mode does not support template, system, or context")
        images = decode_images(req.get("images") or [], "GenerateRequest")
        think = self._think(model, name, req.get("think"))
        self._check_completion(model, name, "generate", suffix=bool(req.get("suffix")))
        options = self._options(model, req)
        if not prompt_text:
            return self._load(model, name, req, "generate")
        messages = [{"role": "user", "content": prompt_text}]
        system = "" if req.get("raw") else (req.get("system") or model.system)
        prompt = Prompt(messages, system, images, None, req.get("format"), think, options)
        extra = len(req.get("context") or [])
        num_ctx = self._num_ctx(model, req, remote)
        if prompt_tokens(prompt, extra) > num_ctx - 1 and (req.get("shift") is False or req.get("truncate") is False):
            raise HTTPError(400, TOO_LONG)
        items = self._run(model, name, "generate", prompt, req, extra, raw=bool(req.get("raw")), remote=remote)
        return Stream(items, "generate", req.get("stream", True) is not False, name)

    def chat(self, body: bytes) -> Any:
        req = parse_body(body, "ChatRequest", self.state.think_levels())
        name = req.get("model") or ""
        if not name:
            raise HTTPError(400, "model is required")
        messages = []
        for message in req.get("messages") or []:
            if not isinstance(message, dict):
                raise HTTPError(
                    400,
                    f"json: cannot unmarshal {json_kind(message)} into Go struct field "
                    "ChatRequest.messages of type api.Message",
                )
            for key in ("role", "content", "thinking", "tool_name"):
                value = message.get(key)
                if value is not None and not isinstance(value, str):
                    raise HTTPError(
                        400,
                        f"json: cannot unmarshal {json_kind(value)} into Go struct field "
                        f"ChatRequest.messages.{key} of type string",
                    )
            messages.append({**message, "role": (message.get("role") or "").lower()})
        images: list[bytes] = []
        for message in messages:
            decoded = decode_images(message.get("images") or [], "ChatRequest.messages")
            if message["role"] == "user":
                images = decoded or images
        model, name, remote = self._resolve(name, f"model '{name}' not found")
        if not messages and req.get("keep_alive") == 0 and not remote:
            return self._unload(model, name, "chat")
        tools = req.get("tools") or None
        think = self._think(model, name, req.get("think"))
        self._check_completion(model, name, "chat", tools=bool(tools))
        options = self._options(model, req)
        if not messages:
            return self._load(model, name, req, "chat")
        # The Modelfile SYSTEM applies when the conversation does not start with its own.
        systems = [m.get("content") or "" for m in messages if m["role"] == "system"]
        system = "\n".join(systems) if systems else model.system
        history = list(model.messages) + messages
        prompt = Prompt(history, system, images, tools, req.get("format"), think, options)
        prompt = self._fit(prompt, self._num_ctx(model, req, remote), req)
        items = self._run(model, name, "chat", prompt, req, 0, raw=False, remote=remote)
        return Stream(items, "chat", req.get("stream", True) is not False, name)

    def _resolve(self, raw: str, missing: str) -> tuple[Model, str, bool]:
        """(model, name to echo, is it a cloud model) for a request's model name, as
        parseAndValidateModelRef + the cloud proxy decide it."""
        base, source = parse_ref(raw)
        if not valid_name(base):
            raise HTTPError(400, "invalid model name")
        if self.cloud.serving:
            # Being ollama.com (cloud mode): its own models by their bare names, then the local ones.
            found = self.cloud.models.get(name_key(base))
            if found is not None:
                return found, base, True
        elif source == "cloud":
            return self.cloud.find(base), base, True
        return self._find(base, missing), (raw if not source else base), False

    def _num_ctx(self, model: Model, req: dict[str, Any], remote: bool) -> int:
        """The context the runner will have: options.num_ctx, else the default (a runner loaded with
        another num_ctx is reloaded); cloud models run at their maximum."""
        if remote:
            return model.context_length
        return _num_ctx(req) or min(DEFAULT_NUM_CTX, model.context_length)

    def _fit(self, prompt: Prompt, num_ctx: int, req: dict[str, Any]) -> Prompt:
        """chatPrompt: drop the oldest messages (keeping system ones and always the last) until the
        prompt fits; a last message that alone is too long is refused when shifting is off."""
        messages = prompt.messages
        if req.get("truncate") is not False:
            start = 0
            while start < len(messages) - 1 and prompt_tokens(prompt, 0, messages[start:]) > num_ctx:
                start += 1
            if start:
                kept_system = [m for m in messages[:start] if m.get("role") == "system"]
                messages = kept_system + messages[start:]
                prompt = Prompt(
                    messages, prompt.system, prompt.images, prompt.tools, prompt.format, prompt.think, prompt.options
                )
        if prompt_tokens(prompt, 0) > num_ctx - 1 and (req.get("shift") is False or req.get("truncate") is False):
            raise HTTPError(400, TOO_LONG)
        return prompt

    def _find(self, name: str, missing: str) -> Model:
        model = self.state.find(name)
        if model is None:
            raise HTTPError(404, missing)
        return model

    def _check_completion(
        self, model: Model, name: str, route: str, *, suffix: bool = False, tools: bool = False
    ) -> None:
        # Images are not checked: the real server passes them on and a text model ignores them.
        caps = model.capabilities
        if "completion" not in caps:
            raise HTTPError(400, f"{json.dumps(name)} does not support {route}")
        for wanted, needed in (("insert", suffix), ("tools", tools)):
            if needed and wanted not in caps:
                raise HTTPError(400, f"{model.full_name} does not support {wanted}")

    def _think(self, model: Model, name: str, value: Any) -> str | None:
        can_think = "thinking" in model.capabilities
        if value is None:
            return "medium" if can_think else None
        if value is False:
            # gpt-oss's harmony parser has no "off": it reasons anyway (at its default level).
            return "medium" if model.family == "gptoss" else None
        if not can_think:
            raise HTTPError(400, f"{json.dumps(name)} does not support thinking")
        if value is True:
            return "medium"
        if value not in THINK_LEVELS and value not in ((model.thinking or {}).get("values") or []):
            # a level another model lists (and a newer server knows), but not this one
            raise HTTPError(400, f"think value {json.dumps(value)} is not supported for this model")
        return "high" if value == "max" and model.family == "gptoss" else str(value)

    def _options(self, model: Model, req: dict[str, Any]) -> dict[str, Any]:
        options = req.get("options") or {}
        error = check_options(options)
        if error:
            raise HTTPError(500, error)
        return {**model.parameters, **{k: v for k, v in options.items() if v is not None}}

    def _unload(self, model: Model, name: str, route: str) -> JSON:
        """Empty prompt/messages with keep_alive 0: unload (checked before any capability)."""
        self.state.unload(model)
        return JSON(done_only(name, route, "unload"))

    def _load(self, model: Model, name: str, req: dict[str, Any], route: str) -> JSON:
        """Empty prompt/messages: just load the model; a single JSON object even when streaming."""
        # A load is scheduled like an answer (scheduleRunner), so a busy server refuses it too.
        refusal = self.cloud.take_refusal()
        if refusal is not None:
            raise HTTPError(refusal.status, refusal.message, headers=refusal.headers())
        try:
            if not self.scheduler.acquire(model.name, self.stopping):
                raise HTTPError(499, "request canceled")
        except QueueFull as exc:
            raise HTTPError(503, str(exc)) from None
        self.scheduler.release(model.name)
        if not self.state.is_loaded(model) and self.load_delay:
            time.sleep(self.load_delay)
        self.state.touch(model, req.get("keep_alive"), _num_ctx(req))
        return JSON(done_only(name, route, "load"))

    # ------------------------------------------------------------------ the stream

    def _run(
        self,
        model: Model,
        name: str,
        route: str,
        prompt: Prompt,
        req: dict[str, Any],
        extra_prompt_tokens: int,
        *,
        raw: bool,
        remote: bool = False,
    ) -> Iterator[Any]:
        refusal = self.cloud.take_refusal()
        if refusal is not None:
            yield StreamError(refusal.message, refusal.status, refusal.headers())
            return
        slot = name if remote else model.name
        try:
            if not self.scheduler.acquire(slot, self.stopping):
                return
        except QueueFull as exc:
            yield StreamError(str(exc), 503)
            return
        try:
            yield from self._answer(model, name, route, prompt, req, extra_prompt_tokens, raw=raw, remote=remote)
        finally:
            self.scheduler.release(slot)

    def _answer(
        self,
        model: Model,
        name: str,
        route: str,
        prompt: Prompt,
        req: dict[str, Any],
        extra_prompt_tokens: int,
        *,
        raw: bool,
        remote: bool,
    ) -> Iterator[Any]:
        clock = [time.perf_counter()]  # started, loaded, evaluating: the final chunk's metrics
        fmt = req.get("format")
        if fmt not in (None, "", "json") and not isinstance(fmt, dict):
            raw_text = json.dumps(fmt, separators=(",", ":"))
            yield StreamError(f'invalid format: {json.dumps(raw_text)}; expected "json" or a valid JSON Schema object')
            return
        keep_alive = req.get("keep_alive")
        if not remote:
            if not self.state.is_loaded(model) and self.load_delay:
                yield Sleep(self.load_delay)
            self.state.touch(model, None if keep_alive == 0 else keep_alive, _num_ctx(req))
        clock.append(time.perf_counter())
        answer = scenarios.answer(model.kind, prompt, self.voice)  # the "prompt evaluation" we really time
        # Context shift keeps the prompt's tail: what was evaluated is at most num_ctx - 1 tokens.
        ceiling = self._num_ctx(model, req, remote) - 1
        prompt_count = min(prompt_tokens(prompt, extra_prompt_tokens), max(1, ceiling))
        clock.append(time.perf_counter())
        try:
            count = yield from self._tokens(answer, name, route, req)
            ending = _ENDINGS.get(answer.ending)
            if ending is not None:
                yield ending(route, name)
                return
            history = "\n".join(str(m.get("content") or "") for m in prompt.messages)
            context = context_ids(history, answer, prompt_count) if route == "generate" and not raw else None
            yield final_chunk(route, name, answer.truncated, context, clock, prompt_count, count)
        finally:
            # The idle timer restarts after every request; keep_alive 0 unloads now.
            if not remote:
                self.state.touch(model, keep_alive, _num_ctx(req))

    def _tokens(self, answer: Answer, name: str, route: str, req: dict[str, Any]) -> Generator[Any, None, int]:
        """The answer's chunks, thinking first, each after its delay; returns the tokens counted."""
        if answer.bulk:
            yield from self._bulk(name, route, answer.bulk)
            return answer.bulk
        delay = self.token_delay if answer.delay is None else answer.delay
        # logprobs: per generated token, as the real server attaches them to each chunk.
        top = int(req.get("top_logprobs") or 0) if req.get("logprobs") else -1
        parts = [(t, "") for t in answer.thinking] + [("", t) for t in answer.content]  # (thinking, content)
        for thinking, content in parts:
            if delay:
                yield Sleep(delay)
            yield answer_chunk(route, name, content=content, thinking=thinking, top=top)
        if not answer.tool_calls:
            return len(parts)
        if delay:
            yield Sleep(delay)
        yield answer_chunk(route, name, tool_calls=answer.tool_calls)
        return len(parts) + len(json.dumps(answer.tool_calls)) // 4

    def _bulk(self, name: str, route: str, total: int) -> Iterator[Any]:
        """Pre-encoded chunks, BATCH per write, so the client and not the emulator sets the pace."""
        head = b'{"model":' + dumps(name) + b',"created_at":"'
        if route == "chat":
            mid, tail = b'","message":{"role":"assistant","content":', b'},"done":false}\n'
        else:
            mid, tail = b'","response":', b',"done":false}\n'
        words = [dumps(w) for w in scenarios.BULK_WORDS]
        n_words = len(words)
        for start in range(0, total, BATCH):
            stamp = rfc3339().encode()
            encoded = [head + stamp + mid + w + tail for w in words]
            yield Batch([encoded[i % n_words] for i in range(start, min(total, start + BATCH))])

    # ------------------------------------------------------------------ embeddings

    def embed(self, body: bytes) -> JSON:
        started = time.perf_counter()
        req = parse_body(body, "EmbedRequest")
        name = req.get("model") or ""
        if not name:
            raise HTTPError(404, "model '' not found")
        raw_input = req.get("input")
        if raw_input is None or raw_input == "":
            inputs: list[str] = []
        elif isinstance(raw_input, str):
            inputs = [raw_input]
        elif isinstance(raw_input, list) and all(isinstance(i, str) for i in raw_input):
            inputs = list(raw_input)
        else:
            raise HTTPError(400, "invalid input type")
        model = self._find(name, f'model "{name}" not found, try pulling it first')
        error = check_options(req.get("options") or {})
        if error:
            raise HTTPError(500, error)
        loaded = self._load_sync(model, req)
        if not inputs:
            return JSON({"model": name, "embeddings": []})
        counts = [count_tokens(text) for text in inputs]
        if req.get("truncate") is False and max(counts) > model.context_length:
            raise HTTPError(400, "the input length exceeds the context length")
        dims = req.get("dimensions")
        dims = int(dims) if isinstance(dims, (int, float)) and 0 < dims < model.embedding_length else None
        vectors = [embed(text, model.embedding_length, dims) for text in inputs]
        return JSON(
            {
                "model": name,
                "embeddings": vectors,
                "total_duration": duration_ns(time.perf_counter() - started),
                "load_duration": duration_ns(loaded),
                "prompt_eval_count": sum(counts),
            }
        )

    def embeddings(self, body: bytes) -> JSON:
        req = parse_body(body, "EmbeddingRequest")
        name = req.get("model") or ""
        if not name:
            raise HTTPError(400, "model is required")
        model = self._find(name, f'model "{name}" not found, try pulling it first')
        error = check_options(req.get("options") or {})
        if error:
            raise HTTPError(500, error)
        self._load_sync(model, req)
        text = req.get("prompt") or ""
        if not isinstance(text, str):
            raise HTTPError(
                400,
                f"json: cannot unmarshal {json_kind(text)} into Go struct field EmbeddingRequest.prompt of type string",
            )
        return JSON({"embedding": legacy_embedding(text, model.embedding_length) if text else []})

    def _load_sync(self, model: Model, req: dict[str, Any]) -> float:
        """Load (sleeping load_delay the first time); returns the seconds it took."""
        start = time.perf_counter()
        if not self.state.is_loaded(model) and self.load_delay:
            time.sleep(self.load_delay)
        self.state.touch(model, req.get("keep_alive"), _num_ctx(req))
        return time.perf_counter() - start


def prompt_tokens(prompt: Prompt, extra: int = 0, messages: list[dict[str, Any]] | None = None) -> int:
    """The emulator's token count of a rendered prompt (system + every message + per-message framing)."""
    messages = prompt.messages if messages is None else messages
    history = "\n".join(str(m.get("content") or "") for m in messages)
    return count_tokens(prompt.system + "\n" + history) + 4 * len(messages) + extra


def _num_ctx(req: dict[str, Any]) -> int | None:
    value = (req.get("options") or {}).get("num_ctx")
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else None




def _stall(route: str, name: str) -> Stall:
    return Stall(scenarios.STALL_SECONDS)


def _malformed(route: str, name: str) -> Raw:
    key = '"message":{"role":' if route == "chat" else '"response":'
    return Raw(f'{{"model":{json.dumps(name)},{key}\n'.encode())


#: How a scenario's answer ends instead of with its final chunk.
_ENDINGS: dict[str, Any] = {
    "stall": _stall,
    "drop": lambda route, name: Drop(),
    "error": lambda route, name: StreamError(RUNNER_KILLED),
    "malformed": _malformed,
}
