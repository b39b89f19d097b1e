"""Request bodies as gin's ``ShouldBindJSON`` reads them, with Go's error texts, so a bad request
fails here with the same status and words as on a real server."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from ._wire import HTTPError, go_b64decode, json_kind, keep_alive_seconds

THINK_LEVELS = ("high", "medium", "low", "max")

# Go types named in "cannot unmarshal" errors, per request field.
_FIELD_TYPES = {
    "model": "string",
    "prompt": "string",
    "suffix": "string",
    "system": "string",
    "template": "string",
    "context": "[]int",
    "stream": "bool",
    "raw": "bool",
    "images": "[]api.ImageData",
    "options": "map[string]interface {}",
    "messages": "[]api.Message",
    "tools": "api.Tools",
    "truncate": "bool",
    "shift": "bool",
    "logprobs": "bool",
    "top_logprobs": "int",
    "input": "",
    "dimensions": "int",
    "verbose": "bool",
}
_KIND_OF = {
    "string": "string",
    "bool": "bool",
    "int": "number",
    "[]int": "array",
    "[]api.ImageData": "array",
    "[]api.Message": "array",
    "api.Tools": "array",
    "map[string]interface {}": "object",
}


def parse_body(body: bytes, struct: str, think_levels: Collection[str] = THINK_LEVELS) -> dict[str, Any]:
    """Decode a request body like gin's ShouldBindJSON, with Go's error texts. ``think_levels``: the
    named levels this server knows (a newer one also knows those its models list in ``/api/show``)."""
    if not body.strip():
        raise HTTPError(400, "missing request body")
    try:
        obj = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise HTTPError(400, go_json_error(body, exc)) from None
    if not isinstance(obj, dict):
        raise HTTPError(400, f"json: cannot unmarshal {json_kind(obj)} into Go value of type api.{struct}")
    for key, gotype in _FIELD_TYPES.items():
        value = obj.get(key)
        if value is None or not gotype:
            continue
        want = _KIND_OF[gotype]
        if json_kind(value) != want:
            raise HTTPError(
                400, f"json: cannot unmarshal {json_kind(value)} into Go struct field {struct}.{key} of type {gotype}"
            )
    top = obj.get("top_logprobs")
    if isinstance(top, (int, float)) and not 0 <= top <= 20:
        raise HTTPError(400, "top_logprobs must be between 0 and 20")
    if obj.get("keep_alive") is not None:
        try:
            obj["keep_alive"] = keep_alive_seconds(obj["keep_alive"])
        except ValueError as exc:
            raise HTTPError(400, str(exc)) from None
    think = obj.get("think")
    if think is not None and not isinstance(think, bool):
        if not isinstance(think, str):
            raise HTTPError(400, 'think must be a boolean or string ("high", "medium", "low", "max", true, or false)')
        if think not in think_levels:  # api.ThinkValue: "true"/"false" strings are rejected too
            raise HTTPError(
                400,
                f'invalid think value: {json.dumps(think)} (must be "high", "medium", "low", "max", true, or false)',
            )
    return obj


_GO_CONTEXT = {  # Python's json message -> the phrase Go's decoder uses at the same spot
    "Expecting property name enclosed in double quotes": "looking for beginning of object key string",
    "Expecting ':' delimiter": "after object key",
    "Extra data": "after top-level value",
}


def go_json_error(body: bytes, exc: Exception) -> str:
    """The message encoding/json gives for the same malformed body (close enough to match on)."""
    text = body.decode("utf-8", "replace")
    pos = getattr(exc, "pos", 0)
    if pos >= len(text.rstrip()):
        return "unexpected EOF"
    message = getattr(exc, "msg", "")
    if message == "Expecting ',' delimiter":
        inside = text[:pos].rstrip()
        where = "after array element" if _innermost(inside) == "[" else "after object key:value pair"
    else:
        where = _GO_CONTEXT.get(message, "looking for beginning of value")
    char = text[pos]
    shown = "'\\''" if char == "'" else f"'{char}'"
    return f"invalid character {shown} {where}"


def _innermost(prefix: str) -> str:
    """The bracket that is open at the end of ``prefix`` (strings skipped)."""
    stack, in_string, escaped = [], False, False
    for char in prefix:
        if in_string:
            escaped = char == "\\" and not escaped
            if char == '"' and not escaped:
                in_string = False
            continue
        if char == '"':
            in_string = True
        elif char in "[{":
            stack.append(char)
        elif char in "]}" and stack:
            stack.pop()
    return stack[-1] if stack else ""


def decode_images(images: list[Any], struct: str) -> list[bytes]:
    out = []
    for image in images:
        if not isinstance(image, str):
            raise HTTPError(
                400, f"json: cannot unmarshal {json_kind(image)} into Go struct field {struct}.images of type []uint8"
            )
        try:
            out.append(go_b64decode(image))
        except ValueError as exc:
            raise HTTPError(400, str(exc)) from None
    return out
