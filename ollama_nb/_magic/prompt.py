"""Safe prompt interpolation for ``%%ollama``: ``{name}`` fields of defined names, nothing else.

A prompt is prose, code and JSON mixed; ``str.format`` would choke on the first ``{"a": 1}`` and
an f-string would run arbitrary expressions. So only a small grammar is recognised:

- ``{name}``, ``{name.attr}``, ``{name[key]}`` and chains of them (``{cfg.layers[0].units}``),
- ``{In[n]}`` and ``{Out[n]}`` (IPython's input and output history; ``n`` may be negative),
- any of these ending in ``!s`` or ``!r`` (``{df!r}``): ``str`` / ``repr`` of the value, whatever
  ``convert`` would make of it (the magic summarises DataFrames and long values, :mod:`ollama_nb._summary`),

and only when ``name`` exists in the user namespace and every step of the lookup succeeds.
Everything else stays exactly as written: JSON, code, ``{}``, ``{x + 1}``, ``{undefined}``,
``{obj._private}``. A field wrapped in double braces (``{{name}}``) is not substituted either, so
an f-string or a template pasted into a prompt keeps its meaning.

Usage::

    >>> interpolate("Explain {topic} to {who.name}; keep {json: 1}", {"topic": "NDJSON"})
    'Explain NDJSON to {who.name}; keep {json: 1}'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["fields", "interpolate", "unresolved", "unresolved_note"]

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
# Attributes may not start with "_": a prompt must not be a way to walk into __class__.__mro__.
_ATTR = r"\.[A-Za-z][A-Za-z0-9_]*"
_KEY = r"\[(?:-?\d+|'[^'\[\]\n]*'|\"[^\"\[\]\n]*\"|" + _NAME + r")\]"
_FIELD = re.compile(r"\{(" + _NAME + r")((?:" + _ATTR + "|" + _KEY + r")*)(![rs])?\}")
_STEP = re.compile(_ATTR + "|" + _KEY)
_MISSING = object()


def _lookup(namespace: Mapping[str, Any], name: str, path: str) -> Any:
    """The value of ``name`` + ``path`` in ``namespace``, or ``_MISSING`` if any step fails."""
    if name not in namespace:
        return _MISSING
    value = namespace[name]
    for step in _STEP.findall(path):
        try:
            if step[0] == ".":
                value = getattr(value, step[1:])
                continue
            key: Any = step[1:-1]
            if key[:1] in "'\"":
                value = value[key[1:-1]]
            elif key.lstrip("-").isdigit():
                # Like str.format: a number indexes a list; for a dict, try the int then the text.
                try:
                    value = value[int(key)]
                except (KeyError, TypeError):
                    value = value[key]
            else:
                value = value[key]
        except Exception:  # AttributeError, KeyError, IndexError, TypeError, a property that raised...
            return _MISSING
    return value


def _escaped(text: str, match: re.Match[str]) -> bool:
    """``{{name}}``: doubled on both sides, as in a pasted f-string or template. ``{"k": {x}}`` is not."""
    start, end = match.span()
    return text[start - 1 : start] == "{" and text[end : end + 1] == "}"


def interpolate(text: str, namespace: Mapping[str, Any], *, convert: Callable[[Any], str] = str) -> str:
    """``text`` with every recognised ``{field}`` of a defined name replaced by ``convert(value)``;
    ``{field!s}`` / ``{field!r}`` by ``str(value)`` / ``repr(value)``, as in ``str.format``."""
    if "{" not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        if _escaped(text, match):
            return match.group(0)
        value = _lookup(namespace, match.group(1), match.group(2))
        if value is _MISSING:
            return match.group(0)
        if match.group(3):
            return repr(value) if match.group(3) == "!r" else str(value)
        return convert(value)

    return _FIELD.sub(replace, text)


def fields(text: str, namespace: Mapping[str, Any]) -> list[str]:
    """The fields that :func:`interpolate` would substitute (for ``--show-request``)."""
    return [
        m.group(0)
        for m in _FIELD.finditer(text)
        if not _escaped(text, m) and _lookup(namespace, m.group(1), m.group(2)) is not _MISSING
    ]


def unresolved(text: str, namespace: Mapping[str, Any]) -> list[str]:
    """The fields :func:`interpolate` recognised but left as written (no such name, or a step of
    the lookup failed), each once, in order: ``{topic}`` in a README example run before ``topic``
    was defined is sent literally, and the cell says so."""
    seen: dict[str, None] = {}
    for m in _FIELD.finditer(text):
        # An undefined {x!r} is most likely a pasted f-string's field, not one meant for us.
        if not _escaped(text, m) and not m.group(3) and _lookup(namespace, m.group(1), m.group(2)) is _MISSING:
            seen.setdefault(m.group(0), None)
    return list(seen)


_NOTE_FIELDS = 5  # more are counted, not listed: the note stays one line


def unresolved_note(missing: list[str]) -> str:
    """One line saying which fields were sent as written and what to do (empty when none)."""
    if not missing:
        return ""
    shown = ", ".join(missing[:_NOTE_FIELDS]) + (
        f" and {len(missing) - _NOTE_FIELDS} more" if len(missing) > _NOTE_FIELDS else ""
    )
    return (
        f"Sent as written, not filled in: {shown} (no such variable or field in the notebook). "
        "Define it and run the cell again; write {{name}} or use --no-interpolate to send braces without this note."
    )
