"""What a batch run reads: the items, their index, and the request each one becomes.

Items are read lazily, one as a free slot needs it, so a generator of a million prompts is never
held whole. pandas and polars are imported only when the items already are one of theirs (the
module name of the object's type says so before anything is imported).

Usage::

    source = Source.of("Label: {text}", df)          # a template over DataFrame rows
    for row, request in source.requests(): ...       # (0, {"messages": [...]}), ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .._errors import InvalidRequest
from .._magic.prompt import interpolate

__all__ = ["Source", "is_frame"]

Request = dict[str, Any]
#: An item -> its request (chat) or its text (embed).
Make = Callable[[Any, int], Any]


def _module(obj: Any) -> str:
    return type(obj).__module__.split(".", 1)[0]


def is_frame(obj: Any) -> bool:
    """A pandas or polars DataFrame or Series, known without importing either library."""
    return _module(obj) in ("pandas", "polars") and type(obj).__name__ in ("DataFrame", "Series")


def _rows(items: Any) -> Iterator[Any]:
    """The items one by one: a DataFrame's rows as dicts of column -> value, read lazily."""
    kind = (_module(items), type(items).__name__)
    if kind == ("pandas", "DataFrame"):
        columns = [str(c) for c in items.columns]
        return (dict(zip(columns, values, strict=True)) for values in items.itertuples(index=False, name=None))
    if kind == ("polars", "DataFrame"):
        return iter(items.iter_rows(named=True))
    return iter(items)


def _messages(value: Any, row: int) -> list[Any]:
    """A prompt or a message list as chat messages."""
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    if isinstance(value, list) and all(isinstance(m, Mapping) or hasattr(m, "role") for m in value):
        return list(value)
    raise InvalidRequest(
        f"row {row}: cannot make a prompt from a value of type {type(value).__name__}",
        hint="Give prompts (str), message lists or dicts with 'prompt'/'messages', or a template such as "
        "'Label: {text}' to fill from each item.",
    )


def _request(value: Any, row: int) -> Request:
    """What one item (or a function's return) asks: messages, plus any request fields of a dict."""
    if isinstance(value, Mapping):
        fields = dict(value)
        if "messages" in fields:
            fields["messages"] = _messages(fields["messages"], row)
        elif "prompt" in fields:
            fields["messages"] = _messages(str(fields.pop("prompt")), row)
        else:
            raise InvalidRequest(
                f"row {row}: a dict item needs 'prompt' or 'messages' (it has {sorted(map(str, fields))[:5]})",
                hint="Pass a template as the first argument to fill from each dict, e.g. map('Label: {text}', rows).",
            )
        return fields
    return {"messages": _messages(value, row)}


def _fill(template: str, item: Any) -> str:
    """The template with ``{field}`` taken from the item (dict keys) and ``{item}`` as the item."""
    namespace: dict[str, Any] = {str(k): v for k, v in item.items()} if isinstance(item, Mapping) else {}
    namespace.setdefault("item", item)
    return interpolate(template, namespace)


@dataclass
class Source:
    """The items of a run and how each becomes a request."""

    items: Any
    make: Make
    total: int | None
    index: Any = None  # a pandas index to put the results on
    text_only: bool = False  # embed: each item is one text

    @classmethod
    def of(cls, first: Any, items: Any = None, *, embed: bool = False) -> Source:
        """``map(prompts)``, ``map(template, items)`` or ``map(function, items)``."""
        if items is None:
            make: Make = _text if embed else _request
            return cls(first, make, _length(first), _index(first), embed)
        if isinstance(first, str):
            template = first
            if embed:
                return cls(items, lambda item, row: _fill(template, item), _length(items), _index(items), True)
            return cls(items, lambda item, row: _request(_fill(template, item), row), _length(items), _index(items))
        if callable(first):
            fn = first
            make = (lambda item, row: _text(fn(item), row)) if embed else (lambda item, row: _request(fn(item), row))
            return cls(items, make, _length(items), _index(items), embed)
        raise InvalidRequest(
            f"the first argument must be a template (str) or a function, not {type(first).__name__}",
            hint="map(prompts), map('Label: {text}', rows) or map(lambda row: ..., rows).",
        )

    def requests(self) -> Iterator[tuple[int, Any]]:
        """(row, request or the error that made it impossible), in input order, read lazily."""
        for row, item in enumerate(_rows(self.items)):
            try:
                yield row, self.make(item, row)
            except Exception as exc:  # a bad item fails its row, not the run
                yield row, exc


def _text(value: Any, row: int) -> str:
    if isinstance(value, str):
        return value
    raise InvalidRequest(
        f"row {row}: embed=True needs text, not a value of type {type(value).__name__}",
        hint="Give strings, or a template such as '{title}: {body}' to make one from each item.",
    )


def _length(items: Any) -> int | None:
    try:
        return len(items) if not isinstance(items, Iterator) else None
    except TypeError:
        return None


def _index(items: Any) -> Any:
    """The pandas index results go on (DataFrame or Series); None for anything else."""
    if _module(items) == "pandas" and type(items).__name__ in ("DataFrame", "Series"):
        return items.index
    return None
