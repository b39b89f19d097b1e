"""Tools for tool-calling models: a Python function -> the JSON schema the server wants, and
running the calls a model asked for.

Usage::

    def add(a: int, b: int) -> int:
        '''Add two numbers.

        Args:
            a: The first number.
            b: The second number.
        '''
        return a + b

    reply = client.chat("llama3.2", messages=msgs, tools=[add])
    msgs += [reply.message, *run_tool_calls(reply, [add])]
"""

from __future__ import annotations

import inspect
import json
import re
import typing
from typing import Any, Callable, Iterable

__all__ = ["tool_schema", "run_tool_calls"]

_JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean", list: "array", dict: "object"}


def _json_type(annotation: Any) -> dict[str, Any]:
    origin = typing.get_origin(annotation)
    if annotation in _JSON_TYPES:
        return {"type": _JSON_TYPES[annotation]}
    if origin is typing.Literal:
        values = list(typing.get_args(annotation))
        return {"type": _JSON_TYPES.get(type(values[0]), "string"), "enum": values}
    if origin in (list, tuple, set):
        args = typing.get_args(annotation)
        return {"type": "array", **({"items": _json_type(args[0])} if args else {})}
    if origin is dict:
        return {"type": "object"}
    if origin is typing.Union or type(annotation).__name__ == "UnionType":
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return _json_type(args[0])
    return {"type": "string"}


def _arg_docs(doc: str) -> dict[str, str]:
    """Google-style ``Args:`` section -> {name: description}."""
    out: dict[str, str] = {}
    match = re.search(r"^\s*(Args|Arguments|Parameters):\s*$(.*?)(^\s*\w+:\s*$|\Z)", doc, re.M | re.S)
    if not match:
        return out
    current = None
    for line in match.group(2).splitlines():
        m = re.match(r"^\s*(\w+)\s*(\([^)]*\))?\s*:\s*(.*)$", line)
        if m:
            current = m.group(1)
            out[current] = m.group(3).strip()
        elif current and line.strip():
            out[current] += " " + line.strip()
    return out


def tool_schema(func: Callable[..., Any]) -> dict[str, Any]:
    """The ``tools`` entry for a Python function, from its signature, type hints and docstring."""
    doc = inspect.getdoc(func) or ""
    summary = doc.split("\n\n", 1)[0].strip()
    hints = typing.get_type_hints(func)
    arg_docs = _arg_docs(doc)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, param in inspect.signature(func).parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        prop = _json_type(hints.get(name, str))
        if name in arg_docs:
            prop["description"] = arg_docs[name]
        properties[name] = prop
        if param.default is inspect.Parameter.empty:
            required.append(name)
    return {
        "type": "function",
        "function": {
            "name": func.__name__,
            "description": summary,
            "parameters": {"type": "object", "properties": properties, "required": required},
        },
    }


def as_tool(tool: Any) -> Any:
    """A tool given as a function becomes its schema; dicts and other objects pass through."""
    if callable(tool) and not isinstance(tool, dict):
        return tool_schema(tool)
    if hasattr(tool, "model_dump"):
        return tool.model_dump(exclude_none=True)
    return tool


def run_tool_calls(reply: Any, functions: Iterable[Callable[..., Any]]) -> list[dict[str, Any]]:
    """Run each tool call in ``reply`` with the matching function; return the ``role: tool`` messages.

    A call to an unknown function or one that raises becomes a tool message that says so, so the
    model can read what went wrong instead of the notebook stopping.
    """
    table = {f.__name__: f for f in functions}
    out = []
    for call in reply.tool_calls:
        fn = call.get("function", {})
        name = fn.get("name", "")
        args = fn.get("arguments") or {}
        if isinstance(args, str):  # some servers send arguments as JSON text
            args = json.loads(args or "{}")
        if name not in table:
            result: Any = f"error: no tool named {name!r}"
        else:
            try:
                result = table[name](**args)
            except Exception as exc:  # the model reads the failure and may retry
                result = f"error: {type(exc).__name__}: {exc}"
        msg = {"role": "tool", "content": result if isinstance(result, str) else json.dumps(result), "tool_name": name}
        if call.get("id"):
            msg["tool_call_id"] = call["id"]
        out.append(msg)
    return out
