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

# No `from __future__ import annotations` and no bare imported names: each would be a public name
# of this public module, which tests/test_public.py holds to __all__.
import inspect
import json
import re
import typing
from collections.abc import Callable as _Callable
from collections.abc import Iterable as _Iterable
from typing import Any as _Any

__all__ = ["run_tool_calls", "tool_schema"]

# What pydantic's JSON schema (which ollama-python's conversion reads) calls each Python type.
_JSON_TYPES = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    list: "array",
    tuple: "array",
    set: "array",
    frozenset: "array",
    dict: "object",
    type(None): "null",
    bytes: "string",
}


def _type_names(annotation: _Any) -> list[str]:
    """JSON type names of an annotation, in order: ``int | str | None`` -> integer, string, null."""
    origin = typing.get_origin(annotation)
    if origin is typing.Union or type(annotation).__name__ == "UnionType":
        names: list[str] = []
        for arg in typing.get_args(annotation):
            for name in _type_names(arg):
                if name not in names:
                    names.append(name)
        return names
    if origin is typing.Literal:
        values = typing.get_args(annotation)
        return [_JSON_TYPES.get(type(values[0]), "string")] if values else ["string"]
    if annotation in _JSON_TYPES:
        return [_JSON_TYPES[annotation]]
    base = origin or annotation
    if isinstance(base, type):
        import collections.abc as abc

        if issubclass(base, (abc.Mapping,)):
            return ["object"]
        if issubclass(base, (list, tuple, set, frozenset)) or base in (
            abc.Sequence,
            abc.Set,
            abc.Iterable,
            abc.MutableSequence,
        ):
            return ["array"]
    return ["string"]  # Any, classes, dates...: what the official conversion falls back to


def _docstring_parts(doc: str) -> tuple[str, dict[str, str]]:
    """Google-style docstring -> (description, {argument: description}), read the way
    ollama-python's ``convert_function_to_tool`` reads it, so both give the model the same schema.

    The description is every line before ``Args:`` (and any text outside Args/Returns/Yields/
    Raises); section headers are matched case-insensitively (``args:`` works); an argument line is
    ``name: text`` or ``name (type): text``, and lines without a colon continue the previous one.
    """
    summary: list[str] = []
    arg_lines: list[str] = []
    section = "summary"
    for raw in doc.splitlines():
        head = raw.strip().lower()
        if head.startswith("args:"):
            section = "args"
        elif head.startswith(("returns:", "yields:", "raises:")):
            section = "skip"
        elif section == "summary":
            summary.append(raw.strip())
        elif section == "args":
            arg_lines.append(raw.strip())
    while summary and not summary[0]:
        summary.pop(0)
    while summary and not summary[-1]:
        summary.pop()
    args: dict[str, str] = {}
    current = None
    for line in arg_lines:
        if ":" in line:
            colon = line.index(":")
            paren = re.search(r"\(([^)]*)\)", line)
            if paren and paren.start() < colon:
                # name (type): text -- the text is what follows the next colon, if any
                current = line[: paren.start()].strip()
                rest = line[paren.end() :]
                text = rest.split(":", 1)[1] if ":" in rest else rest
            else:
                current = line[:colon].strip()
                text = line[colon + 1 :]
            args[current] = text.strip()
        elif current and line:
            args[current] += " " + line
    return "\n".join(summary), args


def tool_schema(func: _Callable[..., _Any]) -> dict[str, _Any]:
    """The ``tools`` entry for a Python function, as ollama-python's ``convert_function_to_tool``
    makes it: name, the docstring's description, and per argument its JSON type(s) (a union reads
    ``"integer, string"``) and its ``Args:`` text. Every argument is required unless its type
    admits ``None``. ``Literal`` arguments also carry their ``enum``.
    """
    description, arg_docs = _docstring_parts(inspect.getdoc(func) or "")
    try:
        hints = typing.get_type_hints(func)
    except Exception:  # unresolvable forward references: fall back to the raw annotations
        hints = {}
    properties: dict[str, _Any] = {}
    required: list[str] = []
    for name, param in inspect.signature(func).parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        annotation = hints.get(name, param.annotation)
        if annotation is inspect.Parameter.empty:
            annotation = str
        types = _type_names(annotation)
        if "null" in types:
            types.remove("null")
        else:
            required.append(name)
        prop: dict[str, _Any] = {"description": arg_docs.get(name, ""), "type": ", ".join(types) or "string"}
        literal = [a for a in (annotation, *typing.get_args(annotation)) if typing.get_origin(a) is typing.Literal]
        if literal:
            prop["enum"] = list(typing.get_args(literal[0]))
        properties[name] = prop
    parameters: dict[str, _Any] = {"type": "object", "properties": properties}
    if properties:
        parameters["required"] = required
    return {
        "type": "function",
        "function": {"name": func.__name__, "description": description, "parameters": parameters},
    }


def run_tool_calls(reply: _Any, functions: _Iterable[_Callable[..., _Any]]) -> list[dict[str, _Any]]:
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
            result: _Any = f"error: no tool named {name!r}"
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
