"""The OpenAI-compatible routes: ``/v1/chat/completions``, ``/v1/completions``, ``/v1/embeddings``,
``/v1/models`` and ``/v1/models/{model}``, as ollama/ollama shapes them (``openai/openai.go`` and
``middleware/openai.go``, read at fb30760).

Like the real server, each route turns the request into the native one, runs the native route
(the emulator's own generation, so every model, scenario and failure behaves the same), and turns
the answer back: Server-Sent Events when streamed, one object when not, and the OpenAI error shape
``{"error": {"message", "type", "param", "code"}}`` with the native status.

One choice where the real server is silent: an error in the middle of a stream is sent as one
``data: {"error": {...}}`` event (what OpenAI itself sends), not dropped, so the ``openai`` package
raises it instead of ending the answer quietly.
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
import random
import struct
import time
from collections.abc import Callable
from typing import Any

from ._wire import JSON, Encoding, HTTPError, Stream, dumps

Route = Callable[..., Any]

_ERROR_TYPES = {400: "invalid_request_error", 404: "not_found_error"}
FINGERPRINT = "fp_ollama"
DONE = b"data: [DONE]\n\n"
_EFFORTS = {"none": False, "minimal": "low", "low": "low", "medium": "medium", "high": "high", "max": "max"}
_EFFORTS.update({"xhigh": "max", "ultra": "max"})


def openai_error(status: int, message: str) -> dict[str, Any]:
    """``openai.NewError``: the type from the status, ``param`` and ``code`` null."""
    kind = _ERROR_TYPES.get(status, "api_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


class CompatError(Exception):
    """A request the compatibility layer refuses before the native route runs."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def sse(data: Any, event: str | None = None) -> bytes:
    """One Server-Sent Event (``event:`` line only for the Responses and Anthropic streams)."""
    head = f"event: {event}\n".encode() if event else b""
    return head + b"data: " + dumps(data) + b"\n\n"


def unix(stamp: Any) -> int:
    """Seconds since the epoch of an RFC 3339 time (nanoseconds allowed), or now."""
    if isinstance(stamp, str) and stamp:
        text = stamp.replace("Z", "+00:00")
        head, dot, rest = text.partition(".")
        if dot:
            digits = len(rest) - len(rest.lstrip("0123456789"))
            text = head + "." + rest[: min(digits, 6)] + rest[digits:]
        try:
            return int(_dt.datetime.fromisoformat(text).timestamp())
        except ValueError:
            pass
    return int(time.time())


def go_args(arguments: Any) -> str:
    """A tool call's arguments as Go's ``json.Marshal`` writes a map: sorted keys, no spaces."""
    return json.dumps(arguments, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def tool_calls(calls: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """``openai.ToToolCalls``: native calls as OpenAI's (arguments a JSON string)."""
    out = []
    for call in calls or []:
        fn = call.get("function") or {}
        function = {"name": fn.get("name", ""), "arguments": go_args(fn.get("arguments") or {})}
        out.append({"id": call.get("id", ""), "index": fn.get("index", 0), "type": "function", "function": function})
    return out


def usage(answer: dict[str, Any]) -> dict[str, int]:
    prompt, completion = int(answer.get("prompt_eval_count") or 0), int(answer.get("eval_count") or 0)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def think_from_effort(effort: Any) -> Any:
    """``thinkFromReasoningEffort``: OpenAI's effort scale onto Ollama's think values."""
    if not effort:
        return None
    if effort not in _EFFORTS:
        raise CompatError(
            400,
            f'invalid reasoning value: {json.dumps(effort)} (must be "minimal", "low", "medium", "high", '
            '"xhigh", "ultra", "max", or "none")',
        )
    return _EFFORTS[effort]


def decode_image_url(url: str) -> str:
    """``decodeImageURL``: a data URL's base64 (what /api/chat takes), never a remote URL."""
    if url.startswith(("http://", "https://")):
        raise CompatError(400, "image URLs are not currently supported, please use base64 encoded data instead")
    prefixes = ["data:;base64,"] + [f"data:image/{t};base64," for t in ("jpeg", "jpg", "png", "webp")]
    for prefix in prefixes:
        if url.startswith(prefix):
            data = url[len(prefix) :]
            try:
                base64.b64decode(data, validate=True)
            except ValueError:
                raise CompatError(400, "invalid image input") from None
            return data
    raise CompatError(400, "invalid image input")


def bind(body: bytes) -> dict[str, Any]:
    """gin's ShouldBindJSON for a compatibility request: an object, or 400 with the reason."""
    try:
        req = json.loads(body) if body.strip() else None
    except ValueError:
        raise CompatError(400, "invalid character in request body") from None
    if body.strip() == b"":
        raise CompatError(400, "EOF")
    if not isinstance(req, dict):
        raise CompatError(400, "json: cannot unmarshal request body into a request object")
    return req


def sampling(req: dict[str, Any], *, max_key: str = "max_tokens") -> dict[str, Any]:
    """The options every OpenAI route sets: temperature and top_p default to 1, as OpenAI's do."""
    options: dict[str, Any] = {}
    stop = req.get("stop")
    if isinstance(stop, str):
        options["stop"] = [stop]
    elif isinstance(stop, list):
        options["stop"] = [s for s in stop if isinstance(s, str)]
    if req.get(max_key) is not None:
        options["num_predict"] = req[max_key]
    options["temperature"] = 1.0 if req.get("temperature") is None else req["temperature"]
    for key in ("seed", "frequency_penalty", "presence_penalty"):
        if req.get(key) is not None:
            options[key] = req[key]
    options["top_p"] = req.get("top_p") or 1.0
    return options


class OpenAIEncoding(Encoding):
    """Server-Sent Events, and errors in OpenAI's shape (an error mid-stream as one event)."""

    content_type = "text/event-stream"
    native = False

    def error(self, status: int, message: str, extra: dict[str, Any]) -> Any:
        return openai_error(status, message)

    def error_frame(self, message: str) -> bytes:
        return sse(openai_error(500, message))


class ChatEncoding(OpenAIEncoding):
    """``ChatWriter``: chat chunks as ``chat.completion.chunk`` events, or one ``chat.completion``."""

    def __init__(self, include_usage: bool) -> None:
        self.id = f"chatcmpl-{random.randrange(999)}"
        self.include_usage = include_usage
        self.created = int(time.time())  # OpenAI stamps one created value on every chunk
        self.first_sent = False
        self.tool_call_sent = False
        self.model = ""

    def _chunk(self, delta: dict[str, Any], finish: str | None = None, logprobs: Any = None) -> dict[str, Any]:
        choice: dict[str, Any] = {"index": 0, "delta": delta, "finish_reason": finish}
        if logprobs:
            choice["logprobs"] = {"content": logprobs}
        return {"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
                "system_fingerprint": FINGERPRINT, "choices": [choice]}

    def frames(self, chunk: dict[str, Any]) -> list[bytes]:
        self.model = chunk.get("model", "")
        message = chunk.get("message") or {}
        content, thinking = message.get("content", ""), message.get("thinking", "")
        calls = tool_calls(message.get("tool_calls"))
        out = []
        if not (chunk.get("done") and self.first_sent and not (content or thinking or calls or chunk.get("logprobs"))):
            out = [sse(c) for c in self._deltas(content, thinking, calls, chunk.get("logprobs"))]
            self.first_sent = True
        if chunk.get("done"):
            reason = chunk.get("done_reason") or "stop"
            reason = "tool_calls" if reason == "stop" and self.tool_call_sent else reason
            finish = self._chunk({}, reason)
            out.append(sse(finish))
            if self.include_usage:
                out.append(sse({**finish, "choices": [], "usage": usage(chunk)}))
            out.append(DONE)
        return out

    def _deltas(self, content: str, thinking: str, calls: list[Any], logprobs: Any) -> list[dict[str, Any]]:
        """``ToStreamChunks``: thinking and content in one native chunk become two events."""
        role = {} if self.first_sent else {"role": "assistant"}
        self.tool_call_sent = self.tool_call_sent or bool(calls)
        rest: dict[str, Any] = {"content": content}
        if calls:
            rest["tool_calls"] = calls
        if thinking and (content or calls):
            return [self._chunk({**role, "reasoning": thinking}, logprobs=logprobs), self._chunk(rest)]
        return [self._chunk({**role, **rest, **({"reasoning": thinking} if thinking else {})}, logprobs=logprobs)]

    def final(self, answer: dict[str, Any]) -> Any:
        message = answer.get("message") or {}
        calls = tool_calls(message.get("tool_calls"))
        out: dict[str, Any] = {"role": message.get("role", "assistant"), "content": message.get("content", "")}
        if message.get("thinking"):
            out["reasoning"] = message["thinking"]
        if calls:
            out["tool_calls"] = calls
        reason = answer.get("done_reason") or None
        reason = "tool_calls" if reason == "stop" and calls else reason
        choice: dict[str, Any] = {"index": 0, "message": out, "finish_reason": reason}
        if answer.get("logprobs"):
            choice["logprobs"] = {"content": answer["logprobs"]}
        return {"id": self.id, "object": "chat.completion", "created": unix(answer.get("created_at")),
                "model": answer.get("model", ""), "system_fingerprint": FINGERPRINT, "choices": [choice],
                "usage": usage(answer)}


class CompletionEncoding(OpenAIEncoding):
    """``CompleteWriter``: generate chunks as ``text_completion`` events, or one object."""

    def __init__(self, include_usage: bool) -> None:
        self.id = f"cmpl-{random.randrange(999)}"
        self.include_usage = include_usage

    def _object(self, chunk: dict[str, Any], created: int) -> dict[str, Any]:
        choice = {"text": chunk.get("response", ""), "index": 0, "finish_reason": chunk.get("done_reason") or None}
        return {"id": self.id, "object": "text_completion", "created": created, "model": chunk.get("model", ""),
                "system_fingerprint": FINGERPRINT, "choices": [choice]}

    def frames(self, chunk: dict[str, Any]) -> list[bytes]:
        event = self._object(chunk, int(time.time()))
        if self.include_usage:
            event["usage"] = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
        out = [sse(event)]
        if chunk.get("done"):
            if self.include_usage:
                out.append(sse({**event, "choices": [], "usage": usage(chunk)}))
            out.append(DONE)
        return out

    def final(self, answer: dict[str, Any]) -> Any:
        return {**self._object(answer, unix(answer.get("created_at"))), "usage": usage(answer)}


def owned_by(name: str) -> str:
    """``model.ParseName(name).Namespace``: "library" unless the name says otherwise."""
    parts = name.split(":")[0].split("/") if "/" in name else []
    return parts[-2] if len(parts) >= 2 else "library"


def as_openai(route: Route, body: bytes) -> Any:
    """Run a native route; its errors come out in the OpenAI shape."""
    try:
        return route(body)
    except HTTPError as exc:
        return JSON(openai_error(exc.status, exc.message), exc.status, exc.headers)


def translate(
    body: bytes,
    to_native: Callable[[dict[str, Any]], dict[str, Any]],
    route: Route,
    encoding: Callable[[dict[str, Any], dict[str, Any]], Encoding],
    error: Callable[[int, str], Any] = openai_error,
) -> Any:
    """What every compatibility route does: bind the body, make the native request, run the native
    route, and give its stream the other API's ``encoding`` (made from the request and the native
    one); refusals on either side come out in that API's ``error`` shape."""
    try:
        req = bind(body)
        native = to_native(req)
    except CompatError as exc:
        return JSON(error(exc.status, exc.message), exc.status)
    try:
        response = route(dumps(native))
    except HTTPError as exc:
        return JSON(error(exc.status, exc.message), exc.status, exc.headers)
    if isinstance(response, Stream):
        response.encoding = encoding(req, native)
    return response


def _include_usage(req: dict[str, Any]) -> bool:
    options = req.get("stream_options")
    return isinstance(options, dict) and bool(options.get("include_usage"))


def chat_request(req: dict[str, Any]) -> dict[str, Any]:
    """``FromChatRequest``: the native /api/chat body of a chat completion request."""
    if not req.get("messages"):
        raise CompatError(400, "[] is too short - 'messages'")
    messages: list[dict[str, Any]] = []
    for message in req["messages"]:
        messages += chat_messages(message, req["messages"])
    fmt = req.get("response_format") or {}
    kind = str(fmt.get("type") or "").strip().lower() if isinstance(fmt, dict) else ""
    effort = (req.get("reasoning") or {}).get("effort") if req.get("reasoning") else req.get("reasoning_effort")
    native: dict[str, Any] = {"model": req.get("model") or "", "messages": messages, "options": sampling(req),
                              "stream": bool(req.get("stream"))}
    if kind == "json_object":
        native["format"] = "json"
    elif kind == "json_schema" and (fmt.get("json_schema") or {}).get("schema") is not None:
        native["format"] = fmt["json_schema"]["schema"]
    if req.get("tools"):
        native["tools"] = req["tools"]
    think = think_from_effort(effort)
    if think is not None:
        native["think"] = think
    if req.get("logprobs"):
        native.update(logprobs=True, top_logprobs=int(req.get("top_logprobs") or 0))
    return native


def chat_messages(message: Any, history: list[Any]) -> list[dict[str, Any]]:
    """One OpenAI message as native ones (a list of parts becomes one message per part)."""
    if not isinstance(message, dict):
        raise CompatError(400, "invalid message format")
    role, content = message.get("role") or "", message.get("content")
    base: dict[str, Any] = {"role": role}
    if str(role).lower() == "tool":
        base["tool_name"] = message.get("name") or _tool_name(history, message.get("tool_call_id"))
    calls = [_native_call(c) for c in message.get("tool_calls") or []]
    extra = {k: v for k, v in (("tool_calls", calls), ("thinking", message.get("reasoning"))) if v}
    if isinstance(content, str):
        return [{**base, "content": content, **extra}]
    if isinstance(content, list):
        parts = [_part(role, part) for part in content]
        if parts and extra:
            parts[-1].update(extra)
        return parts
    if not calls:
        raise CompatError(400, f"invalid message content type: {json.dumps(content)}")
    return [{**base, **extra}]


def _part(role: str, part: Any) -> dict[str, Any]:
    if not isinstance(part, dict):
        raise CompatError(400, "invalid message format")
    if part.get("type") == "text" and isinstance(part.get("text"), str):
        return {"role": role, "content": part["text"]}
    if part.get("type") == "image_url":
        url = part.get("image_url")
        url = url.get("url") if isinstance(url, dict) else url
        if not isinstance(url, str):
            raise CompatError(400, "invalid message format")
        return {"role": role, "images": [decode_image_url(url)]}
    raise CompatError(400, "invalid message format")


def _native_call(call: Any) -> dict[str, Any]:
    fn = call.get("function") if isinstance(call, dict) else None
    try:
        arguments = json.loads((fn or {}).get("arguments") or "")
    except (TypeError, ValueError):
        raise CompatError(400, "invalid tool call arguments") from None
    return {"id": call.get("id", ""), "function": {"name": (fn or {}).get("name", ""), "arguments": arguments}}


def _tool_name(history: list[Any], call_id: Any) -> str:
    for message in reversed(history):
        for call in (message.get("tool_calls") or []) if isinstance(message, dict) else []:
            if isinstance(call, dict) and call.get("id") == call_id:
                return str((call.get("function") or {}).get("name", ""))
    return ""


def completion_request(req: dict[str, Any]) -> dict[str, Any]:
    """``FromCompleteRequest``: the native /api/generate body."""
    stop = req.get("stop")
    if isinstance(stop, list) and not all(isinstance(s, str) for s in stop):
        bad = next(s for s in stop if not isinstance(s, str))
        raise CompatError(400, f"invalid type for 'stop' field: {type(bad).__name__}")
    options = sampling(req)
    options.setdefault("frequency_penalty", 0.0)
    options.setdefault("presence_penalty", 0.0)
    native: dict[str, Any] = {"model": req.get("model") or "", "prompt": req.get("prompt") or "", "options": options,
                              "stream": bool(req.get("stream"))}
    if req.get("suffix"):
        native["suffix"] = req["suffix"]
    if isinstance(req.get("logprobs"), int) and req["logprobs"] > 0:
        native.update(logprobs=True, top_logprobs=req["logprobs"])
    return native


def embeddings_list(model: str, answer: dict[str, Any], encoding_format: str) -> dict[str, Any]:
    """``ToEmbeddingList``: float lists, or base64 of little-endian float32 when asked."""
    data = []
    for i, vector in enumerate(answer.get("embeddings") or []):
        value: Any = vector
        if encoding_format.lower() == "base64":
            value = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
        data.append({"object": "embedding", "embedding": value, "index": i})
    count = int(answer.get("prompt_eval_count") or 0)
    return {"object": "list", "data": data, "model": model, "usage": {"prompt_tokens": count, "total_tokens": count}}


class OpenAIRoutes:
    """The five OpenAI routes over the native ones (``gen``: Generation, ``mgmt``: Management)."""

    def __init__(self, gen: Any, mgmt: Any) -> None:
        self.gen = gen
        self.mgmt = mgmt

    def chat_completions(self, body: bytes) -> Any:
        return translate(body, chat_request, self.gen.chat, lambda req, _: ChatEncoding(_include_usage(req)))

    def completions(self, body: bytes) -> Any:
        encoding = lambda req, _: CompletionEncoding(_include_usage(req))  # noqa: E731 - named for the line length
        return translate(body, completion_request, self.gen.generate, encoding)

    def embeddings(self, body: bytes) -> Any:
        try:
            req = bind(body)
            fmt, text = str(req.get("encoding_format") or ""), req.get("input")
            if fmt and fmt.lower() not in ("float", "base64"):
                message = f"Invalid value for 'encoding_format' = {fmt}. Supported values: ['float', 'base64']."
                raise CompatError(400, message)
            if text is None or text == []:
                raise CompatError(400, "invalid input")
        except CompatError as exc:
            return JSON(openai_error(exc.status, exc.message), exc.status)
        native: dict[str, Any] = {"model": req.get("model") or "", "input": [""] if text == "" else text}
        if req.get("dimensions"):
            native["dimensions"] = req["dimensions"]
        response = as_openai(self.gen.embed, dumps(native))
        if response.status != 200:
            return response
        return JSON(embeddings_list(native["model"], response.obj, fmt))

    def models(self, body: bytes) -> Any:
        listed = self.mgmt.tags(body).obj.get("models") or []
        data = [
            {"id": m.get("model") or m.get("name"), "object": "model", "created": unix(m.get("modified_at")),
             "owned_by": owned_by(m.get("model") or m.get("name") or "")}
            for m in listed
        ]
        return JSON({"object": "list", "data": data or None})

    def model(self, body: bytes, name: str) -> Any:
        response = as_openai(self.mgmt.show, dumps({"name": name}))
        if response.status != 200:
            return response
        created = unix(response.obj.get("modified_at"))
        return JSON({"id": name, "object": "model", "created": created, "owned_by": owned_by(name)})
