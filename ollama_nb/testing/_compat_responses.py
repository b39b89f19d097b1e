"""The OpenAI Responses route, ``/v1/responses``, as far as ollama/ollama's basics go
(``openai/responses.go`` and ``ResponsesMiddleware``, read at fb30760): text or message input,
``instructions``, function tools and their results, ``reasoning.effort``, ``text.format``
json_schema, ``max_output_tokens``; a ``response`` object, or its event stream when streamed.
The built-in web_search tool and zstd bodies are not emulated.
"""

from __future__ import annotations

import json
import random
import time
from typing import Any

from ._compat_openai import CompatError, OpenAIEncoding, decode_image_url, sse, think_from_effort, translate
from ._compat_openai import tool_calls as openai_tool_calls

_TEXT_PARTS = ("input_text", "output_text")


def native_request(req: dict[str, Any]) -> dict[str, Any]:
    """``FromResponsesRequest``: the native /api/chat body."""
    messages: list[dict[str, Any]] = []
    if req.get("instructions"):
        messages.append({"role": "system", "content": req["instructions"]})
    given = req.get("input")
    if isinstance(given, str) and given:
        messages.append({"role": "user", "content": given})
    elif isinstance(given, list):
        for item in given:
            _add_item(messages, item)
    options: dict[str, Any] = {"temperature": 1.0 if req.get("temperature") is None else req["temperature"]}
    if req.get("top_p") is not None:
        options["top_p"] = req["top_p"]
    if req.get("max_output_tokens") is not None:
        options["num_predict"] = req["max_output_tokens"]
    native: dict[str, Any] = {"model": req.get("model") or "", "messages": messages, "options": options,
                              "stream": req.get("stream") is True}
    think = think_from_effort((req.get("reasoning") or {}).get("effort"))
    if think is not None:
        native["think"] = think
    tools = [_tool(t) for t in req.get("tools") or []]
    if tools:
        native["tools"] = tools
    fmt = (req.get("text") or {}).get("format") or {}
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema" and fmt.get("schema") is not None:
        native["format"] = fmt["schema"]
    return native


def _add_item(messages: list[dict[str, Any]], item: Any) -> None:
    """One input item: a message, a function call (joined to the assistant turn), or its output."""
    if not isinstance(item, dict):
        raise CompatError(400, "input items must be objects")
    kind = item.get("type") or ("message" if "role" in item else "")
    if kind == "message":
        content, images = _content(item.get("content"))
        message: dict[str, Any] = {"role": item.get("role") or "user", "content": content}
        if images:
            message["images"] = images
        messages.append(message)
    elif kind == "function_call":
        try:
            arguments = json.loads(item.get("arguments") or "{}")
        except ValueError as exc:
            raise CompatError(400, f"failed to parse function call arguments: {exc}") from None
        call = {"id": item.get("call_id", ""), "function": {"name": item.get("name", ""), "arguments": arguments}}
        if messages and messages[-1]["role"] == "assistant":
            messages[-1].setdefault("tool_calls", []).append(call)
        else:
            messages.append({"role": "assistant", "tool_calls": [call]})
    elif kind == "function_call_output":
        output = item.get("output")
        text = output if isinstance(output, str) else _content(output)[0]
        messages.append({"role": "tool", "content": text, "tool_call_id": item.get("call_id", "")})
    elif kind == "reasoning":
        messages.append({"role": "assistant", "thinking": str(item.get("encrypted_content") or "")})
    else:
        raise CompatError(400, f"unknown input item type: {json.dumps(kind)}")


def _content(content: Any) -> tuple[str, list[str]]:
    """A message's text and images (``input_text`` / ``output_text`` / ``input_image`` parts)."""
    if isinstance(content, str):
        return content, []
    text, images = "", []
    for part in content or []:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in _TEXT_PARTS:
            text += str(part.get("text") or "")
        elif kind == "input_image" and part.get("image_url"):
            images.append(decode_image_url(str(part["image_url"])))
        elif kind == "input_file":
            raise CompatError(400, "file inputs are not currently supported")
        elif kind != "input_image":
            raise CompatError(400, f"unknown content type: {json.dumps(kind)}")
    return text, images


def _tool(tool: Any) -> dict[str, Any]:
    if not isinstance(tool, dict) or tool.get("type") != "function":
        kind = tool.get("type") if isinstance(tool, dict) else None
        raise CompatError(400, f"unsupported tool type: {json.dumps(kind)}")
    function = {"name": tool.get("name", ""), "description": tool.get("description") or ""}
    function["parameters"] = tool.get("parameters") or {"type": "object", "properties": {}}
    return {"type": "function", "function": function}


def _text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def _usage(answer: dict[str, Any]) -> dict[str, Any]:
    given, made = int(answer.get("prompt_eval_count") or 0), int(answer.get("eval_count") or 0)
    return {"input_tokens": given, "output_tokens": made, "total_tokens": given + made,
            "input_tokens_details": {"cached_tokens": 0}, "output_tokens_details": {"reasoning_tokens": 0}}


class ResponsesEncoding(OpenAIEncoding):
    """``ResponsesWriter`` and ``ResponsesStreamConverter``: the answer as a ``response``."""

    def __init__(self, req: dict[str, Any]) -> None:
        self.req = req
        self.id = f"resp_{random.randrange(999999)}"
        self.item_id = f"msg_{random.randrange(999999)}"
        self.sequence = 0
        self.started = False
        self.index = 0
        self.items: list[dict[str, Any]] = []  # finished output items, in order
        self.thinking: str | None = None  # the open reasoning item's text
        self.text: str | None = None  # the open message item's text
        self.tools_sent = False

    def response(self, status: str, output: list[Any], usage: Any) -> dict[str, Any]:
        """``buildResponseObject``: the request's settings echoed back."""
        req = self.req
        fmt = (req.get("text") or {}).get("format") or {"type": "text"}
        reasoning = req.get("reasoning") or {}
        shown = {"effort": reasoning.get("effort"), "summary": reasoning.get("summary")} if reasoning else None
        return {
            "id": self.id, "object": "response", "created_at": int(time.time()), "completed_at": None,
            "status": status, "incomplete_details": None, "model": req.get("model") or "",
            "previous_response_id": None, "instructions": req.get("instructions") or None, "output": output,
            "error": None, "tools": req.get("tools") or [], "tool_choice": "auto",
            "truncation": req.get("truncation") or "disabled", "parallel_tool_calls": True, "text": {"format": fmt},
            "top_p": 1.0 if req.get("top_p") is None else req["top_p"], "presence_penalty": 0, "frequency_penalty": 0,
            "top_logprobs": 0, "temperature": 1.0 if req.get("temperature") is None else req["temperature"],
            "reasoning": shown, "usage": usage, "max_output_tokens": req.get("max_output_tokens"),
            "max_tool_calls": None, "store": False, "background": bool(req.get("background")),
            "service_tier": "default", "metadata": {}, "safety_identifier": None, "prompt_cache_key": None,
        }

    def _event(self, kind: str, **data: Any) -> bytes:
        data.update(type=kind, sequence_number=self.sequence)
        self.sequence += 1
        return sse(data, kind)

    def frames(self, chunk: dict[str, Any]) -> list[bytes]:
        message = chunk.get("message") or {}
        out = []
        if not self.started:
            self.started = True
            out += [self._event(kind, response=self.response("in_progress", [], None))
                    for kind in ("response.created", "response.in_progress")]
        if message.get("thinking"):
            out += self._think(message["thinking"])
        if message.get("tool_calls"):
            out += self._finish_thinking() + self._calls(message["tool_calls"])
            self.tools_sent = True
        elif message.get("content") and not self.tools_sent:
            out += self._write(message["content"])
        if chunk.get("done"):
            out += self._finish_thinking() + self._finish_text()
            final = self.response("completed", list(self.items), _usage(chunk))
            final["completed_at"] = int(time.time())
            out.append(self._event("response.completed", response=final))
        return out

    def _think(self, text: str) -> list[bytes]:
        out = []
        if self.thinking is None:
            self.thinking, self.reasoning_id = "", f"rs_{random.randrange(999999)}"
            item = {"id": self.reasoning_id, "type": "reasoning", "summary": []}
            out.append(self._event("response.output_item.added", output_index=self.index, item=item))
        self.thinking += text
        out.append(self._event("response.reasoning_summary_text.delta", item_id=self.reasoning_id,
                               output_index=self.index, summary_index=0, delta=text))
        return out

    def _finish_thinking(self) -> list[bytes]:
        if self.thinking is None:
            return []
        text, self.thinking = self.thinking, None
        item = {"id": self.reasoning_id, "type": "reasoning", "summary": [{"type": "summary_text", "text": text}],
                "encrypted_content": text}
        self.items.append(item)
        self.index += 1
        return [self._event("response.reasoning_summary_text.done", item_id=item["id"], output_index=self.index - 1,
                            summary_index=0, text=text),
                self._event("response.output_item.done", output_index=self.index - 1, item=item)]

    def _write(self, text: str) -> list[bytes]:
        out = self._finish_thinking()
        where = {"item_id": self.item_id, "output_index": self.index, "content_index": 0}
        if self.text is None:
            self.text = ""
            item = {"id": self.item_id, "type": "message", "status": "in_progress", "role": "assistant", "content": []}
            out.append(self._event("response.output_item.added", output_index=self.index, item=item))
            out.append(self._event("response.content_part.added", **where, part=_text_part("")))
        self.text += text
        out.append(self._event("response.output_text.delta", **where, delta=text, logprobs=[]))
        return out

    def _finish_text(self) -> list[bytes]:
        if self.text is None:
            return []
        text, self.text = self.text, None
        where = {"item_id": self.item_id, "output_index": self.index, "content_index": 0}
        item = {"id": self.item_id, "type": "message", "status": "completed", "role": "assistant",
                "content": [_text_part(text)]}
        self.items.append(item)
        self.index += 1
        return [self._event("response.output_text.done", **where, text=text, logprobs=[]),
                self._event("response.content_part.done", **where, part=_text_part(text)),
                self._event("response.output_item.done", output_index=self.index - 1, item=item)]

    def _calls(self, calls: list[dict[str, Any]]) -> list[bytes]:
        out = []
        for i, call in enumerate(openai_tool_calls(calls)):
            fn, item_id = call["function"], f"fc_{random.randrange(999999)}_{i}"
            item = {"id": item_id, "type": "function_call", "status": "completed", "call_id": call["id"],
                    "name": fn["name"], "arguments": fn["arguments"]}
            self.items.append(item)
            where = {"item_id": item_id, "output_index": self.index}
            out += [
                self._event("response.output_item.added", output_index=self.index,
                            item={**item, "status": "in_progress", "arguments": ""}),
                self._event("response.function_call_arguments.delta", **where, delta=fn["arguments"]),
                self._event("response.function_call_arguments.done", **where, arguments=fn["arguments"]),
                self._event("response.output_item.done", output_index=self.index, item=item),
            ]
            self.index += 1
        return out

    def final(self, answer: dict[str, Any]) -> Any:
        """``ToResponse``: reasoning, then the function calls or the message."""
        message = answer.get("message") or {}
        output: list[dict[str, Any]] = []
        if message.get("thinking"):
            summary = [{"type": "summary_text", "text": message["thinking"]}]
            output.append({"id": f"rs_{self.id}", "type": "reasoning", "summary": summary,
                           "encrypted_content": message["thinking"]})
        calls = openai_tool_calls(message.get("tool_calls"))
        for i, call in enumerate(calls):
            output.append({"id": f"fc_{self.id}_{i}", "type": "function_call", "status": "completed",
                           "call_id": call["id"], "name": call["function"]["name"],
                           "arguments": call["function"]["arguments"]})
        if not calls:
            output.append({"id": self.item_id, "type": "message", "status": "completed", "role": "assistant",
                           "content": [_text_part(message.get("content", ""))]})
        done = self.response("completed", output, _usage(answer))
        done["completed_at"] = int(time.time())
        return done


class ResponsesRoutes:
    """``POST /v1/responses`` over the emulator's native chat."""

    def __init__(self, gen: Any) -> None:
        self.gen = gen

    def create(self, body: bytes) -> Any:
        return translate(body, native_request, self.gen.chat, lambda req, _: ResponsesEncoding(req))
