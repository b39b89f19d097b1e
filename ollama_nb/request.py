"""Request bodies: the caller's arguments checked and normalised before anything is sent.

What the server would reject with a 400 (a ``keep_alive`` of ``"300"``, ``think="extreme"``, an
image that is neither a file nor base64) is caught here with a message that says what to write
instead. Pure functions, no I/O: the client sends what these return.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from .errors import InvalidRequest
from .images import encode_image
from .reply import Reply
from .tools import as_tool

__all__ = ["check_keep_alive", "check_think", "check_format", "plain", "message", "drop_none", "generation_fields", "encode_image", "as_tool"]

_THINK_LEVELS = ("low", "medium", "high", "max")
_GO_DURATION = re.compile(r"^[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))+$|^[-+]?0$")


def check_keep_alive(keep_alive: Any) -> Any:
    if keep_alive is None or isinstance(keep_alive, (int, float)) and not isinstance(keep_alive, bool):
        return keep_alive
    if isinstance(keep_alive, str) and _GO_DURATION.match(keep_alive.strip()):
        return keep_alive.strip()
    raise InvalidRequest(
        f"keep_alive={keep_alive!r} is not a duration.",
        hint='Use seconds as a number (300, 0 to unload now, -1 forever) or text with a unit ("5m", "30s", "1h").',
    )


def check_think(think: Any) -> Any:
    if think is None or isinstance(think, bool) or think in _THINK_LEVELS:
        return think
    raise InvalidRequest(f"think={think!r} is not allowed.", hint='Use True, False, "low", "medium" or "high".')


def check_format(fmt: Any) -> Any:
    if fmt is None or fmt == "" or fmt == "json" or isinstance(fmt, dict):
        return fmt or None
    if isinstance(fmt, type) and hasattr(fmt, "model_json_schema"):  # a pydantic model class
        return fmt.model_json_schema()
    raise InvalidRequest(f"format={fmt!r} is not allowed.", hint='Use "json", a JSON-schema dict, or a pydantic model class.')


def plain(obj: Any) -> Any:
    """pydantic models and Chunks -> plain dicts (what json.dumps can send)."""
    if hasattr(obj, "model_dump"):
        return obj.model_dump(exclude_none=True)
    if isinstance(obj, Reply):
        return dict(obj.message)
    return obj


def message(msg: Any) -> dict[str, Any]:
    msg = plain(msg)
    if not isinstance(msg, Mapping):
        raise InvalidRequest(
            f"A message must be a dict like {{'role': 'user', 'content': '...'}}, not {type(msg).__name__}."
        )
    out = {k: v for k, v in msg.items() if v is not None}
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
        keep_alive=check_keep_alive(keep_alive),
        logprobs=logprobs,
        top_logprobs=top_logprobs,
        truncate=truncate,
        shift=shift,
    )

