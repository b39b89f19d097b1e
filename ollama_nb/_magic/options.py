"""``-o key=value`` for ``%%ollama`` and ``%ollama config``: the server's real option names, typed.

The server silently ignores an unknown option (it only logs ``invalid option provided``), so a typo
such as ``temprature=0`` would quietly do nothing. Here it is an error that names the closest real
option. Values are coerced to the type the server checks (ints, floats, bools, ``stop`` as a list
of strings — a bare string there is an HTTP 500 on a real server).

Usage::

    >>> parse_options(["temperature=0", "seed=42", "stop=END"])
    {'temperature': 0.0, 'seed': 42, 'stop': ['END']}
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Iterable
from typing import Any

from IPython.core.error import UsageError

__all__ = ["OPTION_TYPES", "coerce_option", "parse_options"]

#: ollama-api.md §7 (server ``api.Options``): runner options, then per-request options.
OPTION_TYPES: dict[str, type] = {
    "num_ctx": int,
    "num_batch": int,
    "num_gpu": int,
    "main_gpu": int,
    "use_mmap": bool,
    "num_thread": int,
    "draft_num_predict": int,
    "num_keep": int,
    "seed": int,
    "num_predict": int,
    "top_k": int,
    "top_p": float,
    "min_p": float,
    "typical_p": float,
    "repeat_last_n": int,
    "temperature": float,
    "repeat_penalty": float,
    "presence_penalty": float,
    "frequency_penalty": float,
    "stop": list,
}

#: Names older docs and clients still list; the current server ignores them (§7).
DEPRECATED = {
    "numa", "low_vram", "f16_kv", "logits_all", "vocab_only", "use_mlock", "embedding_only",
    "tfs_z", "mirostat", "mirostat_tau", "mirostat_eta", "penalize_newline",
}  # fmt: skip

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}
_ESCAPES = {"\\n": "\n", "\\t": "\t", "\\r": "\r", "\\\\": "\\"}


def _unescape(text: str) -> str:
    """``\\n`` typed in a magic line means a newline (stop sequences are often one)."""
    out, i = [], 0
    while i < len(text):
        pair = text[i : i + 2]
        if pair in _ESCAPES:
            out.append(_ESCAPES[pair])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def unknown_option(key: str) -> UsageError:
    if key in DEPRECATED:
        return UsageError(f"Option {key!r} is no longer used by Ollama (the server ignores it).")
    close = difflib.get_close_matches(key, OPTION_TYPES, n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]!r}?" if close else f" Known options: {', '.join(sorted(OPTION_TYPES))}."
    return UsageError(f"Unknown option {key!r}.{hint}")


def coerce_option(key: str, value: Any) -> Any:
    """``value`` (text from a magic line, or already typed) as the type the server expects."""
    kind = OPTION_TYPES.get(key)
    if kind is None:
        raise unknown_option(key)
    try:
        if kind is list:
            if isinstance(value, (list, tuple)):
                items = list(value)
            elif isinstance(value, str) and value.lstrip().startswith("["):
                items = json.loads(value)
                if not isinstance(items, list):
                    raise ValueError
            else:
                items = [_unescape(str(value))]
            if not all(isinstance(s, str) for s in items):
                raise ValueError
            return items
        if kind is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
            raise ValueError
        if kind is int:
            if isinstance(value, bool):
                raise ValueError
            number = float(value)
            if number != int(number):
                raise ValueError
            return int(number)
        number = float(value)
        if not math.isfinite(number):  # json.dumps would send NaN / Infinity: not JSON at all
            raise ValueError
        return number
    except (ValueError, TypeError, OverflowError):
        shape = {
            int: "a whole number",
            float: "a number",
            bool: "true or false",
            list: 'text, or a JSON list like ["a", "b"]',
        }
        raise UsageError(
            f"Option {key}={value!r} must be {shape[kind]}{' (finite)' if kind is float else ''}."
        ) from None


def parse_options(pairs: Iterable[str]) -> dict[str, Any]:
    """``["key=value", ...]`` -> typed options. A key given twice is an error, not "last wins"."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"Options are written key=value (e.g. -o temperature=0), not {pair!r}.")
        if key in out:
            raise UsageError(f"Option {key!r} is given twice.")
        out[key] = coerce_option(key, value.strip() if OPTION_TYPES.get(key) is not list else value)
    return out
