"""Build a JSON value that validates against a JSON Schema, filled from the prompt.

Used twice: for ``format: <schema>`` (structured outputs) and for tool-call arguments. Values come
from the prompt where it has them (numbers in order, quoted text, then capitalised words), so a
notebook asking "a cat named "Tom" aged 3" gets ``{"name": "Tom", "age": 3}`` back. Handles what
pydantic's ``model_json_schema()`` emits: ``$defs``/``$ref``, ``anyOf`` with null, ``allOf``,
enums, ``const``, nested objects and arrays, and the usual numeric and length bounds.
"""

from __future__ import annotations

import math
import re
from typing import Any

_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.]*[A-Za-z])")
_QUOTED = re.compile(r'"([^"\n]+)"|“([^”\n]+)”')
_WORD = re.compile(r"[A-Za-z][\w'-]*")
_NOT_NAMES = frozenset(
    "I A An The What Who Where When Why How Which Is Are Do Does Can Could Would Should Please "
    "Give Tell Make Show List Find Get Use Return Write Create".split()
)


class PromptValues:
    """Numbers and strings found in a prompt, handed out in order."""

    def __init__(self, prompt: str) -> None:
        self.numbers = [float(n) for n in _NUMBER.findall(prompt)]
        quoted = [a or b for a, b in _QUOTED.findall(prompt)]
        unquoted = _QUOTED.sub(" ", prompt)
        names = []
        for match in _WORD.finditer(unquoted):
            word = match.group()
            before = unquoted[: match.start()].rstrip()
            sentence_start = not before or before[-1] in ".!?:\n"
            if word[0].isupper() and word not in _NOT_NAMES and not sentence_start:
                names.append(word[:-2] if word.endswith("'s") else word)
        self.strings = quoted + names

    def number(self) -> float | None:
        return self.numbers.pop(0) if self.numbers else None

    def string(self) -> str | None:
        return self.strings.pop(0) if self.strings else None


def instance(schema: Any, prompt: str = "", *, root: Any = None) -> Any:
    """A value valid for ``schema`` (a dict), using values from ``prompt`` where possible."""
    return _Builder(root if root is not None else schema, PromptValues(prompt)).build(schema, "value", 0)


class _Builder:
    def __init__(self, root: Any, values: PromptValues) -> None:
        self.root = root
        self.values = values

    def resolve(self, schema: Any) -> dict[str, Any]:
        seen = 0
        while isinstance(schema, dict) and "$ref" in schema and seen < 32:
            ref = schema["$ref"]
            target: Any = self.root
            if ref.startswith("#"):
                for part in [p for p in ref[1:].split("/") if p]:
                    part = part.replace("~1", "/").replace("~0", "~")
                    target = target.get(part, {}) if isinstance(target, dict) else {}
            else:
                target = {}
            merged = dict(target) if isinstance(target, dict) else {}
            merged.update({k: v for k, v in schema.items() if k != "$ref"})
            schema, seen = merged, seen + 1
        return schema if isinstance(schema, dict) else {}

    def build(self, schema: Any, name: str, depth: int) -> Any:
        if schema is True or schema is None:
            schema = {}
        schema = self.resolve(schema)
        if depth > 12:  # a recursive schema: stop where null or an empty container is allowed
            return None
        if "allOf" in schema:
            merged: dict[str, Any] = {}
            for part in schema["allOf"]:
                part = self.resolve(part)
                for key, value in part.items():
                    if key in ("properties", "$defs") and isinstance(merged.get(key), dict):
                        merged[key] = {**merged[key], **value}
                    elif key == "required":
                        merged[key] = list(merged.get(key, [])) + list(value)
                    else:
                        merged[key] = value
            rest = {k: v for k, v in schema.items() if k != "allOf"}
            return self.build({**merged, **rest}, name, depth + 1)
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return schema["enum"][0]
        for key in ("anyOf", "oneOf"):
            options = schema.get(key)
            if isinstance(options, list) and options:
                chosen = next((o for o in options if self.resolve(o).get("type") != "null"), options[0])
                return self.build(chosen, name, depth + 1)
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind is None:
            kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
        return getattr(self, "_" + kind, self._string)(schema, name, depth)

    def _object(self, schema: dict[str, Any], name: str, depth: int) -> Any:
        props = schema.get("properties") or {}
        out = {key: self.build(sub, key, depth + 1) for key, sub in props.items()}
        for key in schema.get("required", []):
            if key not in out:
                out[key] = self.build(schema.get("additionalProperties", {}), key, depth + 1)
        if not out and isinstance(schema.get("additionalProperties"), dict):
            out["key"] = self.build(schema["additionalProperties"], "key", depth + 1)
        return out

    def _array(self, schema: dict[str, Any], name: str, depth: int) -> Any:
        singular = name[:-1] if name.endswith("s") and len(name) > 3 else name
        prefix = schema.get("prefixItems") or []
        out = [self.build(sub, f"{singular} {i + 1}", depth + 1) for i, sub in enumerate(prefix)]
        low = int(schema.get("minItems", 0))
        high = int(schema.get("maxItems", max(low, 2)))
        count = max(low, min(2, high))
        items = schema.get("items", {})
        if not prefix and count:
            item_schema = self.resolve(items) if isinstance(items, dict) else {}
            if schema.get("uniqueItems") and isinstance(item_schema.get("enum"), list):
                return item_schema["enum"][: max(1, min(count, len(item_schema["enum"])))]
            for i in range(count):
                value = self.build(items, f"{singular} {i + 1}", depth + 1)
                if schema.get("uniqueItems") and value in out:
                    value = _vary(value, i)
                out.append(value)
        return out[: high] if prefix else out

    def _string(self, schema: dict[str, Any], name: str, depth: int) -> Any:
        formats = {
            "date-time": "2025-01-01T12:00:00Z",
            "date": "2025-01-01",
            "time": "12:00:00",
            "email": "user@example.com",
            "uri": "https://example.com/",
            "url": "https://example.com/",
            "uuid": "123e4567-e89b-42d3-a456-426614174000",
        }
        fmt = schema.get("format")
        if fmt in formats:
            return formats[fmt]
        value = self.values.string() or "example " + re.sub(r"[_\W]+", " ", name).strip().lower()
        low = int(schema.get("minLength", 0))
        high = schema.get("maxLength")
        if len(value) < low:
            value = value + "x" * (low - len(value))
        if high is not None:
            value = value[: int(high)]
        return value

    def _number(self, schema: dict[str, Any], name: str, depth: int, integer: bool = False) -> Any:
        found = self.values.number()
        value = found if found is not None else 3.0 if integer else 1.5
        low = schema.get("minimum")
        high = schema.get("maximum")
        step = 1 if integer else 1e-6
        if isinstance(schema.get("exclusiveMinimum"), (int, float)):
            low = max(low if low is not None else -math.inf, schema["exclusiveMinimum"] + step)
        if isinstance(schema.get("exclusiveMaximum"), (int, float)):
            high = min(high if high is not None else math.inf, schema["exclusiveMaximum"] - step)
        if low is not None and value < low:
            value = low
        if high is not None and value > high:
            value = high
        multiple = schema.get("multipleOf")
        if isinstance(multiple, (int, float)) and multiple > 0:
            value = math.ceil(value / multiple) * multiple
            if high is not None and value > high:
                value -= multiple
        if integer:
            value = math.ceil(value) if low is not None and value < math.ceil(low) else int(value)
            return int(value)
        return float(value)

    def _integer(self, schema: dict[str, Any], name: str, depth: int) -> Any:
        return self._number(schema, name, depth, integer=True)

    def _boolean(self, schema: dict[str, Any], name: str, depth: int) -> Any:
        return True

    def _null(self, schema: dict[str, Any], name: str, depth: int) -> Any:
        return None


def _vary(value: Any, index: int) -> Any:
    """Make a duplicate array item distinct (uniqueItems)."""
    if isinstance(value, str):
        return f"{value} {index + 1}"
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + index
    return value
