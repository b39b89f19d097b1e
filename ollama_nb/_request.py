"""Request bodies: the caller's arguments normalised into what ollama-python would send.

Only what ollama-python itself refuses before sending (a ``think`` level it does not know, an
image that is neither a file nor base64, no model) is refused here, with a message that says what
to write instead; everything else (a ``keep_alive`` of ``"300"``...) goes to the server, which
answers with its own error. Pure functions, no I/O: the client sends what these return.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from ._errors import InvalidRequest
from ._images import encode_image
from ._reply import Reply
from .tools import tool_schema

__all__ = [
    "THINK_LEVELS",
    "as_tool",
    "check_format",
    "check_seconds",
    "check_think",
    "drop_none",
    "encode_image",
    "generation_fields",
    "keep_alive_from_text",
    "message",
    "plain",
    "think_levels",
]

THINK_LEVELS = ("low", "medium", "high", "max")
_MAX_LEVELS, _MAX_LEVEL_CHARS = 32, 40  # more than a model plausibly lists: the server's answer is odd
_GO_DURATION = re.compile(r"^[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))+$")  # what the server parses


def check_think(think: Any, levels: tuple[str, ...] | None = None) -> Any:
    """``think`` as sent, or InvalidRequest. ``levels``: the named levels the model itself lists
    (``/api/show``'s ``thinking.values``, newer servers), checked instead of the fixed list."""
    if think is None or isinstance(think, bool):
        return think
    if levels is None:
        if think in THINK_LEVELS:
            return think
        raise InvalidRequest(f"think={think!r} is not allowed.", hint='Use True, False, "low", "medium" or "high".')
    if think in levels:
        return think
    named = ", ".join(repr(v) for v in levels)
    raise InvalidRequest(
        f"think={think!r} is not a level this model offers.",
        hint=f"The model lists {named} (and True/False)." if named else "This model takes think=True or False only.",
    )


def think_levels(shown: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The named think levels in an ``/api/show`` answer (untrusted: odd shapes read as unknown)."""
    info = shown.get("thinking")
    values = info.get("values") if isinstance(info, Mapping) else None
    if not isinstance(values, list) or len(values) > _MAX_LEVELS:
        return None
    if not all(isinstance(v, bool) or (isinstance(v, str) and 0 < len(v) <= _MAX_LEVEL_CHARS) for v in values):
        return None
    return tuple(v for v in values if isinstance(v, str))


def check_seconds(value: object, what: str = "timeout") -> float:
    """``value`` as a number of seconds > 0 (a finite float), else ValueError saying what is wrong.

    0, negatives, nan and inf are all refused: requests fails on the first two only when a request
    is sent, and the last two would never time out (or fail in the socket layer).

    >>> check_seconds("30"), check_seconds(2)
    (30.0, 2.0)
    """
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number of seconds, not {value!r}.") from None
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"{what} must be a positive number of seconds (e.g. {what}=300), not {value!r}.")
    return seconds


def keep_alive_from_text(text: str) -> int | float | str:
    """A keep-alive typed as text (``--keep-alive 300``): a bare number means seconds (the server
    refuses the string "300", which has no unit); otherwise a Go duration such as ``"5m"``."""
    value = text.strip()
    try:
        number = float(value)
    except ValueError:
        if _GO_DURATION.match(value):
            return value
        raise InvalidRequest(
            f"keep_alive {text!r} is not a duration.",
            hint="Use seconds (300; 0 unloads at once; -1 keeps it loaded) or a number with a unit "
            '("5m", "30s", "1h").',
        ) from None
    return int(number) if number == int(number) else number


def check_format(fmt: Any) -> Any:
    if fmt is None or fmt == "" or fmt == "json" or isinstance(fmt, dict):
        return fmt or None
    if isinstance(fmt, type) and hasattr(fmt, "model_json_schema"):  # a pydantic model class
        return fmt.model_json_schema()
    raise InvalidRequest(
        f"format={fmt!r} is not allowed.", hint='Use "json", a JSON-schema dict, or a pydantic model class.'
    )


def plain(obj: Any) -> Any:
    """pydantic models (ollama-python's too) and our response objects -> plain dicts for json.dumps."""
    if isinstance(obj, Reply):
        return dict(obj.message)
    if hasattr(obj, "model_dump") and not isinstance(obj, type):
        return obj.model_dump(mode="json", exclude_none=True)
    return obj


def message(msg: Any) -> dict[str, Any]:
    """One chat message as ollama-python sends it: empty fields left out, images as base64.

    Images are encoded from the message's own objects (not from a model_dump), so an official
    ``ollama.Image`` inside an official ``ollama.Message`` is read by duck typing, like ours.
    """
    if isinstance(msg, Reply):
        msg = msg.message
    elif not isinstance(msg, Mapping) and hasattr(msg, "model_dump"):
        images = getattr(msg, "images", None)
        msg = {**msg.model_dump(exclude_none=True, exclude={"images"}), "images": images}
    if not isinstance(msg, Mapping):
        raise InvalidRequest(
            f"A message must be a dict like {{'role': 'user', 'content': '...'}}, not {type(msg).__name__}."
        )
    # ollama-python drops every empty field (content "", images []): the server reads them as absent.
    out = {k: v for k, v in msg.items() if v}
    if "images" in out:
        out["images"] = [encode_image(i) for i in out["images"]]
    if "tool_calls" in out:
        out["tool_calls"] = [plain(c) for c in out["tool_calls"]]
    return out


def drop_none(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


def generation_fields(
    format: Any, options: Any, keep_alive: Any, logprobs: Any, top_logprobs: Any, truncate: Any, shift: Any
) -> dict[str, Any]:
    """The fields generate and chat share, checked, without the ones left unset."""
    return drop_none(
        format=check_format(format),
        options=plain(options) or None,
        keep_alive=keep_alive,
        logprobs=logprobs,
        top_logprobs=top_logprobs,
        truncate=truncate,
        shift=shift,
    )


def as_tool(tool: Any) -> Any:
    """A tool given as a function becomes its schema; dicts and other objects pass through."""
    if callable(tool) and not isinstance(tool, dict):
        return tool_schema(tool)
    if hasattr(tool, "model_dump"):
        tool = tool.model_dump(mode="json", exclude_none=True)
        params = (tool.get("function") or {}).get("parameters")
        if isinstance(params, dict) and "defs" in params:  # ollama-python's field name for $defs
            params["$defs"] = params.pop("defs")
    return tool
