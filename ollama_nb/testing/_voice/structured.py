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
    [
        "I",
        "A",
        "An",
        "The",
        "What",
        "Who",
        "Where",
        "When",
        "Why",
        "How",
        "Which",
        "Is",
        "Are",
        "Do",
        "Does",
        "Can",
        "Could",
        "Would",
        "Should",
        "Please",
        "Give",
        "Tell",
        "Make",
        "Show",
        "List",
        "Find",
        "Get",
        "Use",
        "Return",
        "Write",
        "Create",
    ]
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
        self.items: list[str] = []

    def number(self) -> float | None:
        return self.numbers.pop(0) if self.numbers else None

    def string(self) -> str | None:
        return self.strings.pop(0) if self.strings else None


def instance(schema: Any, prompt: str = "", *, root: Any = None, items: list[str] | None = None) -> Any:
    """A value valid for ``schema`` (a dict), using values from ``prompt`` where possible.

    ``items``: what a list of strings should hold when the prompt asks for a known list (the
    colours of a rainbow); otherwise plausible values come from the field's name.
    """
    values = PromptValues(prompt)
    values.items = list(items or [])
    return _Builder(root if root is not None else schema, values).build(schema, "value", 0)


class _Builder:
    def __init__(self, root: Any, values: PromptValues) -> None:
        self.root = root
        self.values = values
        self.refs: list[str] = []  # $refs being built: seeing one again means recursion

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

    def build(self, schema: Any, name: str, depth: int, minimal: bool = False) -> Any:
        """``minimal``: inside a recursive $ref (or very deep), build only what is required,
        so a ``Tree`` with ``children: list[Tree]`` ends instead of growing without bound."""
        ref = schema.get("$ref") if isinstance(schema, dict) else None
        if ref is None:
            return self._build(schema, name, depth, minimal or depth > 16)
        minimal = minimal or ref in self.refs
        self.refs.append(ref)
        try:
            return self._build(schema, name, depth, minimal)
        finally:
            self.refs.pop()

    def _build(self, schema: Any, name: str, depth: int, minimal: bool) -> Any:
        if schema is True or schema is None:
            schema = {}
        schema = self.resolve(schema)
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
            return self.build({**merged, **rest}, name, depth + 1, minimal)
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return schema["enum"][0]
        for key in ("anyOf", "oneOf"):
            options = schema.get(key)
            if isinstance(options, list) and options:
                nulls = [o for o in options if self.resolve(o).get("type") == "null"]
                others = [o for o in options if self.resolve(o).get("type") != "null"]
                chosen = (nulls or others)[0] if minimal else (others or nulls)[0]
                return self.build(chosen, name, depth + 1, minimal)
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = "null" if minimal and "null" in kind else next((k for k in kind if k != "null"), "null")
        if kind is None:
            kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
        if kind == "object":
            return self._object(schema, depth, minimal)
        if kind == "array":
            return self._array(schema, name, depth, minimal)
        if kind in ("number", "integer"):
            return self._number(schema, kind == "integer")
        if kind == "boolean":
            return True
        if kind == "null":
            return None
        return self._string(schema, name)

    def _object(self, schema: dict[str, Any], depth: int, minimal: bool) -> Any:
        props = schema.get("properties") or {}
        required = list(schema.get("required") or [])
        keys = [k for k in props if k in required] if minimal else list(props)
        out = {key: self.build(props[key], key, depth + 1, minimal) for key in keys}
        for key in required:
            if key not in out:
                out[key] = self.build(schema.get("additionalProperties", {}), key, depth + 1, minimal)
        if not out and not minimal and isinstance(schema.get("additionalProperties"), dict):
            out["key"] = self.build(schema["additionalProperties"], "key", depth + 1, minimal)
        return out

    def _array(self, schema: dict[str, Any], name: str, depth: int, minimal: bool) -> Any:
        singular = name[:-1] if name.endswith("s") and len(name) > 3 else name
        prefix = schema.get("prefixItems") or []
        out = [self.build(sub, f"{singular} {i + 1}", depth + 1, minimal) for i, sub in enumerate(prefix)]
        low = int(schema.get("minItems", 0))
        high = int(schema.get("maxItems", max(low, 2)))
        count = low if minimal else max(low, min(2, high))
        items = schema.get("items", {})
        if prefix:
            if items is False or len(out) >= count:
                return out[:high]
            count -= len(out)
        item_schema = self.resolve(items) if isinstance(items, dict) else {}
        if self.values.items and item_schema.get("type", "string") == "string" and "enum" not in item_schema:
            cap = int(schema["maxItems"]) if "maxItems" in schema else len(self.values.items)
            known, self.values.items = self.values.items[:cap], []
            if len(known) >= low:
                return out + known
        if count and items is not False:
            if schema.get("uniqueItems") and isinstance(item_schema.get("enum"), list):
                return out + item_schema["enum"][: max(1, min(count, len(item_schema["enum"])))]
            for i in range(count):
                value = self.build(items, f"{singular} {i + 1}", depth + 1, minimal)
                if schema.get("uniqueItems") and value in out:
                    value = _vary(value, i)
                out.append(value)
        return out

    def _string(self, schema: dict[str, Any], name: str) -> Any:
        formats = {
            "date-time": "2025-01-01T12:00:00Z",
            "date": "2025-01-01",
            "time": "12:00:00",
            "email": "user@example.com",
            "uri": "https://example.com/",
            "url": "https://example.com/",
            "uuid": "123e4567-e89b-42d3-a456-426614174000",
            "ipv4": "192.0.2.1",
            "hostname": "example.com",
        }
        fmt = schema.get("format")
        if fmt in formats:
            return formats[fmt]
        value = self.values.string() or _by_name(name)
        low = int(schema.get("minLength", 0))
        high = schema.get("maxLength")
        if high is not None:
            value = value[: int(high)].rstrip() or value[: int(high)]
        if len(value) < low:
            value = value + "x" * (low - len(value))
        return value

    def _number(self, schema: dict[str, Any], integer: bool) -> Any:
        low, high = schema.get("minimum"), schema.get("maximum")
        xlow, xhigh = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
        if xlow is True:  # draft 4: a boolean that makes "minimum" exclusive
            xlow, low = low, None
        if xhigh is True:
            xhigh, high = high, None
        xlow = xlow if isinstance(xlow, (int, float)) and not isinstance(xlow, bool) else None
        xhigh = xhigh if isinstance(xhigh, (int, float)) and not isinstance(xhigh, bool) else None
        # The tightest closed interval [lo, hi] the value must fall in.
        if integer:
            los = [math.ceil(low)] if low is not None else []
            los += [math.floor(xlow) + 1] if xlow is not None else []
            his = [math.floor(high)] if high is not None else []
            his += [math.ceil(xhigh) - 1] if xhigh is not None else []
        else:
            los = [low] if low is not None else []
            los += [math.nextafter(xlow, math.inf)] if xlow is not None else []
            his = [high] if high is not None else []
            his += [math.nextafter(xhigh, -math.inf)] if xhigh is not None else []
        lo, hi = (max(los) if los else None), (min(his) if his else None)
        value = self.values.number()
        if value is None:
            if lo is not None and hi is not None:
                value = (lo + hi) / 2
            elif lo is not None:
                value = lo + 1
            elif hi is not None:
                value = hi - 1
            else:
                value = 3 if integer else 1.5
        if lo is not None:
            value = max(value, lo)
        if hi is not None:
            value = min(value, hi)
        multiple = schema.get("multipleOf")
        if isinstance(multiple, (int, float)) and multiple > 0:
            steps = math.ceil(value / multiple - 1e-9)
            if hi is not None and steps * multiple > hi:
                steps = math.floor(hi / multiple)
            value = steps * multiple if integer else round(steps * multiple, 10)
        return int(value) if integer else float(value)


_BY_NAME = {
    "name": ["Luna", "Max", "Ana"],
    "first name": ["Ana", "Ben", "Chloe"],
    "last name": ["Silva", "Okafor", "Berg"],
    "city": ["Paris", "Tokyo", "Nairobi"],
    "country": ["France", "Japan", "Kenya"],
    "capital": ["Paris", "Tokyo"],
    "species": ["cat", "dog", "rabbit"],
    "animal": ["cat", "dog", "rabbit"],
    "colour": ["red", "green", "blue"],
    "color": ["red", "green", "blue"],
    "language": ["English", "French", "Spanish"],
    "fruit": ["apple", "banana"],
    "day": ["Monday", "Tuesday", "Wednesday"],
    "month": ["January", "February", "March"],
    "planet": ["Mars", "Venus", "Jupiter"],
    "food": ["bread", "rice", "soup"],
    "unit": ["celsius"],
    "title": ["A short title"],
    "description": ["A short description."],
    "summary": ["A one-line summary."],
    "answer": ["Yes."],
    "reason": ["It follows from the question."],
}


def _by_name(name: str) -> str:
    """A plausible value for a string field from its name ("city" -> "Paris"); "colour 2" -> "green"."""
    words = re.sub(r"[_\W]+", " ", re.sub(r"([a-z])([A-Z])", r"\1 \2", name)).strip().lower() or "value"
    base, _, number = words.rpartition(" ") if words[-1].isdigit() else (words, "", "")
    index = int(number) - 1 if number else 0
    for key in (base, base.rsplit(" ", 1)[-1], base.rstrip("s")):
        if key in _BY_NAME:
            choices = _BY_NAME[key]
            return choices[index] if index < len(choices) else f"{choices[0]} {index + 1}"
    return f"example {words}"


def _vary(value: Any, index: int) -> Any:
    """Make a duplicate array item distinct (uniqueItems)."""
    if isinstance(value, str):
        return f"{value} {index + 1}"
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + index
    return value
