"""``%%ollama --map ITEMS [--out NAME]``: the cell's prompt as a template over the iterable
``ITEMS``, run by :func:`ollama_nb._map.run_map` with the same progress and results as
``ollama_nb.map``. The cell is the template as written: its ``{field}`` come from each item (dict
keys, DataFrame columns, ``{item}``), not from the notebook's names.

Usage::

    %%ollama --map reviews -m llama3.2 --out labels
    Is this review positive or negative? Answer with one word. {text}
"""

from __future__ import annotations

import argparse
from typing import Any

from IPython.core.error import UsageError

from .._config import client_for, settings
from .._errors import OllamaError
from .options import parse_options
from .sources import options_in_force

__all__ = ["run_map_magic"]


def _lookup(ns: dict[str, Any], name: str, flag: str) -> Any:
    if name not in ns:
        raise UsageError(f"%%ollama: {flag} {name}: no such variable; define it in a cell above first.")
    return ns[name]


def _format(value: str | None, ns: dict[str, Any]) -> Any:
    """``--format json`` or the name of a schema (a dict or a pydantic model) in the notebook."""
    return value if value in (None, "json") else _lookup(ns, value, "--format")


def run_map_magic(shell: Any, args: argparse.Namespace, cell: str) -> Any:
    """Run the map; the results go to ``--out NAME`` (then nothing is shown but the progress) or
    become the cell's value."""
    ns = shell.user_ns
    items = _lookup(ns, args.map, "--map")
    template = cell.strip("\n").rstrip()
    model = args.model or settings.resolved_model()
    if not template or not model:
        raise UsageError("%%ollama --map: write the prompt template in the cell, and give -m MODEL.")
    if args.out is not None and not args.out.isidentifier():
        raise UsageError(f"%%ollama: --out {args.out}: not a valid variable name.")
    think = False if args.no_think else args.think
    try:
        fmt = _format(args.format, ns)
        results = client_for(args.host).map(
            template, items, model=model, system=args.system, format=fmt, think=think,
            options=options_in_force(parse_options(args.option)) or None,
        )  # fmt: skip
    except OllamaError as exc:
        raise UsageError(f"%%ollama --map: {exc}") from None
    if args.out is None:
        return results
    ns[args.out] = results
    return None
