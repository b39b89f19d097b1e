"""Values in a prompt, summarised for a model instead of printed: ``{df}`` in ``%%ollama``.

A 10 000-row DataFrame's ``str`` is pandas' truncated print without dtypes; a long list's is
tens of kilobytes that overflow the model's context without a word. Here:

- a pandas or polars DataFrame: shape, each column's dtype and null count, the first rows as a
  Markdown table; a Series: length, dtype, nulls and the first values;
- a numpy array: shape, dtype and numpy's own abbreviated print;
- a long string, list, tuple, dict or anything else: its text trimmed, with a visible marker.

``{df!s}`` and ``{df!r}`` in a prompt still send ``str(df)`` / ``repr(df)`` (see
:mod:`ollama_nb._magic.prompt`). Libraries are recognised by their module name, never imported.

Usage::

    >>> summarise("x" * 5000)[-40:]
    'xxxxxxxxxxxxxxxx… [3,000 characters cut]'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["COLUMNS", "ROWS", "TEXT_LIMIT", "summarise"]

#: Rows of a frame (values of a series) shown.
ROWS = 5
#: A value's text past this many characters is cut.
TEXT_LIMIT = 2000
#: Columns of a frame described (a 500-column frame would fill the context with its schema).
COLUMNS = 30
#: A table cell past this many characters is cut.
CELL_LIMIT = 40


def _library(value: Any) -> str:
    return type(value).__module__.split(".", 1)[0]


def _cut(text: str, limit: int = TEXT_LIMIT) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit:,} characters cut]"


def _cell(value: Any) -> str:
    """One table cell: on one line, pipes escaped (Markdown's table syntax), cut when long."""
    text = " ".join(str(value).split()).replace("|", "\\|")
    return text if len(text) <= CELL_LIMIT else text[: CELL_LIMIT - 1] + "…"


def _table(header: list[Any], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(_cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _more_columns(cols: int) -> str:
    return f"\n… [{cols - COLUMNS:,} more columns]" if cols > COLUMNS else ""


def _pandas_frame(df: Any) -> str:
    rows, cols = df.shape
    more = _more_columns(cols)
    df = df.iloc[:, :COLUMNS]
    nulls = df.isna().sum()
    columns = _table(["column", "dtype", "nulls"], [[c, df.dtypes[c], int(nulls[c])] for c in df.columns])
    head = df.head(ROWS)
    rows_shown = zip(head.index, head.itertuples(index=False), strict=True)
    first = _table(["", *head.columns], [[i, *r] for i, r in rows_shown])
    return f"pandas DataFrame, {rows:,} rows × {cols:,} columns:\n{columns}{more}\n\nFirst {len(head)} rows:\n{first}"


def _pandas_series(s: Any) -> str:
    head = s.head(ROWS)
    first = _table(["", s.name if s.name is not None else "value"], [[i, v] for i, v in head.items()])
    return (
        f"pandas Series {s.name!r}, {len(s):,} values, dtype {s.dtype}, {int(s.isna().sum()):,} nulls.\n"
        f"First {len(head)} values:\n{first}"
    )


def _polars_frame(df: Any) -> str:
    rows, cols = df.shape
    more = _more_columns(cols)
    df = df.select(df.columns[:COLUMNS])
    nulls = df.null_count().row(0)
    schema = zip(df.schema.items(), nulls, strict=True)
    columns = _table(["column", "dtype", "nulls"], [[n, t, z] for (n, t), z in schema])
    head = df.head(ROWS)
    first = _table(list(head.columns), [list(r) for r in head.rows()])
    return f"polars DataFrame, {rows:,} rows × {cols:,} columns:\n{columns}{more}\n\nFirst {head.height} rows:\n{first}"


def _polars_series(s: Any) -> str:
    head = s.head(ROWS)
    first = _table([s.name or "value"], [[v] for v in head.to_list()])
    return (
        f"polars Series {s.name!r}, {s.len():,} values, dtype {s.dtype}, {s.null_count():,} nulls.\n"
        f"First {head.len()} values:\n{first}"
    )


def _numpy_array(a: Any) -> str:
    import numpy

    sample = numpy.array2string(a, threshold=20, edgeitems=3, max_line_width=100)
    return f"numpy array, shape {a.shape}, dtype {a.dtype}:\n{_cut(sample)}"


def _sequence(value: Any) -> str:
    """A list/tuple/set whose text is long: the first items, and how many were left out."""
    if len(value) <= TEXT_LIMIT:  # else its text is surely too long: not worth making it whole
        text = str(value)
        if len(text) <= TEXT_LIMIT:
            return text
    shown, size = [], 0
    for item in value:
        piece = repr(item)
        if size + len(piece) > TEXT_LIMIT:
            break
        shown.append(piece)
        size += len(piece) + 2
    left = len(value) - len(shown)
    return f"{type(value).__name__} of {len(value):,} items: {', '.join(shown)}, … [{left:,} more items]"


_KINDS: dict[tuple[str, str], Callable[[Any], str]] = {
    ("pandas", "DataFrame"): _pandas_frame,
    ("pandas", "Series"): _pandas_series,
    ("polars", "DataFrame"): _polars_frame,
    ("polars", "Series"): _polars_series,
    ("numpy", "ndarray"): _numpy_array,
}


def summarise(value: Any) -> str:
    """What ``{value}`` puts in a prompt (see the module's docstring)."""
    kind = _KINDS.get((_library(value), type(value).__name__))
    if kind is not None:
        try:
            return kind(value)
        except Exception:  # an exotic frame (MultiIndex columns, a lazy frame): its trimmed text
            pass
    if isinstance(value, (list, tuple, set, frozenset)):
        return _sequence(value)
    return _cut(str(value))
