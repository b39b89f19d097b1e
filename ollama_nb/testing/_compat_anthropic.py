"""The Anthropic-style route, ``/v1/messages``, as far as ollama/ollama's basics go
(``anthropic/anthropic.go`` and ``middleware/anthropic.go``, read at fb30760): system text, text,
image, tool_use and tool_result blocks, tools, ``thinking``, ``max_tokens``, stop sequences; a
``message``, or its event stream (message_start, content blocks, message_delta, message_stop).
The built-in web_search tool is not emulated.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from ._compat_openai import CompatError, sse, translate
from ._wire import Encoding

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    503: "overloaded_error",
    529: "overloaded_error",
}


def new_id(prefix: str) -> str:
    """``generateID``: the prefix and 12 random bytes in hex."""
    return f"{prefix}_{secrets.token_hex(12)}"


def anthropic_error(status: int, message: str) -> dict[str, Any]:
    kind = _ERROR_TYPES.get(status, "api_error")
    return {"type": "error", "error": {"type": kind, "message": message}, "request_id": new_id("req")}


def stop_reason(reason: str, tools: bool) -> str:
    """``mapStopReason``."""
    if tools:
        return "tool_use"
    return {"stop": "end_turn", "length": "max_tokens"}.get(reason, "stop_sequence" if reason else "")


def native_request(req: dict[str, Any]) -> dict[str, Any]:
    """``FromMessagesRequest``: the native /api/chat body."""
    if not req.get("model"):
        raise CompatError(400, "model is required")
    if not isinstance(req.get("max_tokens"), int) or req["max_tokens"] <= 0:
        raise CompatError(400, "max_tokens is required and must be positive")
    if not req.get("messages"):
        raise CompatError(400, "messages is required")
    messages: list[dict[str, Any]] = []
    system = req.get("system")
    if isinstance(system, list):
        system = "".join(b.get("text", "") for b in system if isinstance(b, dict) and b.get("type") == "text")
    if isinstance(system, str) and system:
        messages.append({"role": "system", "content": system})
    for message in req["messages"]:
        messages += _messages(message)
    options: dict[str, Any] = {"num_predict": req["max_tokens"]}
    for key, option in (("temperature", "temperature"), ("top_p", "top_p"), ("top_k", "top_k")):
        if req.get(key) is not None:
            options[option] = req[key]
    if req.get("stop_sequences"):
        options["stop"] = req["stop_sequences"]
    native: dict[str, Any] = {"model": req["model"], "messages": messages, "options": options,
                              "stream": bool(req.get("stream"))}
    tools = [_tool(t) for t in req.get("tools") or []]
    if tools:
        native["tools"] = tools
    thinking = (req.get("thinking") or {}).get("type")
    if thinking in ("enabled", "disabled"):
        native["think"] = thinking == "enabled"
    return native


def _messages(message: Any) -> list[dict[str, Any]]:
    """``convertMessage``: one Anthropic message as native ones (tool results each their own)."""
    if not isinstance(message, dict):
        raise CompatError(400, "invalid message")
    role, content = str(message.get("role") or "").lower(), message.get("content")
    blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content or []
    text, images, calls, results = "", [], [], []
    for block in blocks:
        if not isinstance(block, dict):
            raise CompatError(400, "invalid content block")
        kind = block.get("type")
        if kind == "text":
            text += str(block.get("text") or "")
        elif kind == "image":
            images.append(_image(block.get("source")))
        elif kind == "tool_use":
            calls.append(_tool_use(block))
        elif kind == "tool_result":
            results.append({"role": "tool", "content": _result_text(block.get("content")),
                            "tool_call_id": block.get("tool_use_id", "")})
        elif kind != "thinking":
            raise CompatError(400, f"unsupported content block type: {json.dumps(kind)}")
    out = list(results)
    if text or images or calls or not results:
        native: dict[str, Any] = {"role": role, "content": text}
        native.update({k: v for k, v in (("images", images), ("tool_calls", calls)) if v})
        out.append(native)
    return out


def _image(source: Any) -> str:
    if not isinstance(source, dict) or source.get("type") != "base64" or not isinstance(source.get("data"), str):
        raise CompatError(400, "invalid image source")
    return str(source["data"])


def _tool_use(block: dict[str, Any]) -> dict[str, Any]:
    for field in ("id", "name"):
        if not block.get(field):
            raise CompatError(400, f"tool_use block missing required '{field}' field")
    return {"id": block["id"], "function": {"name": block["name"], "arguments": block.get("input") or {}}}


def _result_text(content: Any) -> str:
    if isinstance(content, list):
        return "".join(str(b.get("text") or "") for b in content if isinstance(b, dict) and b.get("type") == "text")
    return "" if content is None else str(content)


def _tool(tool: Any) -> dict[str, Any]:
    if not isinstance(tool, dict) or not tool.get("name"):
        raise CompatError(400, "tool name is required")
    schema = tool.get("input_schema") or {"type": "object", "properties": {}}
    function = {"name": tool["name"], "description": tool.get("description") or "", "parameters": schema}
    return {"type": "function", "function": function}


class MessagesEncoding(Encoding):
    """``AnthropicWriter`` and its ``StreamConverter``: the answer as an Anthropic ``message``."""

    content_type = "text/event-stream"
    native = False

    def __init__(self, model: str, estimated_input: int) -> None:
        self.id = new_id("msg")
        self.model = model
        self.estimated_input = estimated_input
        self.started = False
        self.index = 0
        self.open: str | None = None  # the open block's type ("thinking" or "text")
        self.thinking_done = False
        self.tools_sent = False

    def error(self, status: int, message: str, extra: dict[str, Any]) -> Any:
        return anthropic_error(status, message)

    def error_frame(self, message: str) -> bytes:
        error = anthropic_error(500, message)
        return sse({"type": "error", "error": error["error"]}, "error")

    def _event(self, kind: str, **data: Any) -> bytes:
        return sse({"type": kind, **data}, kind)

    def _close(self) -> list[bytes]:
        if self.open is None:
            return []
        self.open = None
        self.index += 1
        return [self._event("content_block_stop", index=self.index - 1)]

    def _block(self, kind: str, delta: dict[str, Any]) -> list[bytes]:
        out = []
        if self.open != kind:
            out += self._close()
            self.open = kind
            start = {"type": kind, kind: ""}
            out.append(self._event("content_block_start", index=self.index, content_block=start))
        out.append(self._event("content_block_delta", index=self.index, delta=delta))
        return out

    def frames(self, chunk: dict[str, Any]) -> list[bytes]:
        message, out = chunk.get("message") or {}, []
        if not self.started:
            self.started = True
            usage = {"input_tokens": int(chunk.get("prompt_eval_count") or self.estimated_input), "output_tokens": 0}
            start = {"id": self.id, "type": "message", "role": "assistant", "model": self.model, "content": [],
                     "usage": usage}
            out.append(self._event("message_start", message=start))
        if message.get("thinking") and not self.thinking_done:
            out += self._block("thinking", {"type": "thinking_delta", "thinking": message["thinking"]})
        if message.get("content"):
            self.thinking_done = self.thinking_done or self.open == "thinking"
            out += self._block("text", {"type": "text_delta", "text": message["content"]})
        for call in message.get("tool_calls") or []:
            out += self._tool_use(call)
        if chunk.get("done"):
            out += self._close()
            usage = {"input_tokens": int(chunk.get("prompt_eval_count") or 0),
                     "output_tokens": int(chunk.get("eval_count") or 0)}
            delta = {"stop_reason": stop_reason(chunk.get("done_reason") or "", self.tools_sent)}
            out += [self._event("message_delta", delta=delta, usage=usage), self._event("message_stop")]
        return out

    def _tool_use(self, call: dict[str, Any]) -> list[bytes]:
        self.thinking_done = self.thinking_done or self.open == "thinking"
        fn = call.get("function") or {}
        out = self._close()
        block = {"type": "tool_use", "id": call.get("id", ""), "name": fn.get("name", ""), "input": {}}
        arguments = json.dumps(fn.get("arguments") or {}, separators=(",", ":"), sort_keys=True)
        out += [self._event("content_block_start", index=self.index, content_block=block),
                self._event("content_block_delta", index=self.index,
                            delta={"type": "input_json_delta", "partial_json": arguments}),
                self._event("content_block_stop", index=self.index)]
        self.index += 1
        self.tools_sent = True
        return out

    def final(self, answer: dict[str, Any]) -> Any:
        """``ToMessagesResponse``."""
        message = answer.get("message") or {}
        content: list[dict[str, Any]] = []
        if message.get("thinking"):
            content.append({"type": "thinking", "thinking": message["thinking"]})
        if message.get("content"):
            content.append({"type": "text", "text": message["content"]})
        for call in message.get("tool_calls") or []:
            fn = call.get("function") or {}
            content.append({"type": "tool_use", "id": call.get("id", ""), "name": fn.get("name", ""),
                            "input": fn.get("arguments") or {}})
        usage = {"input_tokens": int(answer.get("prompt_eval_count") or 0),
                 "output_tokens": int(answer.get("eval_count") or 0)}
        out = {"id": self.id, "type": "message", "role": "assistant", "model": answer.get("model", self.model),
               "content": content}
        reason = stop_reason(answer.get("done_reason") or "", bool(message.get("tool_calls")))
        if reason:
            out["stop_reason"] = reason
        out["usage"] = usage
        return out


class AnthropicRoutes:
    """``POST /v1/messages`` over the emulator's native chat."""

    def __init__(self, gen: Any) -> None:
        self.gen = gen

    def create(self, body: bytes) -> Any:
        return translate(body, native_request, self.gen.chat, _encoding, anthropic_error)


def _encoding(req: dict[str, Any], native: dict[str, Any]) -> MessagesEncoding:
    """The stream's encoding; message_start's input tokens estimated as the real server does."""
    estimate = sum(len(str(m.get("content") or "")) for m in native["messages"]) // 4
    return MessagesEncoding(native["model"], estimate)
