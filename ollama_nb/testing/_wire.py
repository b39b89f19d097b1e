"""Go-compatible encodings and the response shapes the route functions return.

The real server is Go: its JSON escapes ``<``, ``>`` and ``&``, its timestamps are RFC 3339 with
trimmed nanoseconds, durations parse with ``time.ParseDuration`` and option/base64 errors carry Go's
exact wording. Clients are tested against these details, so they live here in one place.
"""

from __future__ import annotations

import base64
import json
import math
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

# --------------------------------------------------------------------------- JSON and time


def dumps(obj: Any) -> bytes:
    """Compact JSON as Go's json.Marshal writes it (UTF-8, HTML characters escaped)."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    # Go escapes these even inside strings; a client must not rely on seeing raw '<'.
    if "<" in text or ">" in text or "&" in text or "\u2028" in text or "\u2029" in text:
        text = (
            text.replace("<", "\\u003c")
            .replace(">", "\\u003e")
            .replace("&", "\\u0026")
            .replace("\u2028", "\\u2028")
            .replace("\u2029", "\\u2029")
        )
    return text.encode("utf-8")


def rfc3339(ns: int | None = None) -> str:
    """UTC timestamp like Go's RFC3339Nano: ``2025-10-17T23:14:07.41Z``."""
    if ns is None:
        ns = time.time_ns()
    sec, frac = divmod(ns, 1_000_000_000)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
    if frac:
        text += "." + f"{frac:09d}".rstrip("0")
    return text + "Z"


# Go's time.Duration(math.MaxInt64): what a negative keep_alive becomes ("forever", year ~2318).
FOREVER_SECONDS = (2**63 - 1) / 1e9

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_NUMBER = re.compile(r"(\d*)(\.(\d*))?")
_UNIT = re.compile(r"[^\d.]*")


def parse_go_duration(text: str) -> float:
    """Seconds from a Go duration string ("5m", "1h30m", "-1s"); ValueError with Go's message."""
    quoted = json.dumps(text, ensure_ascii=False)
    rest = text
    negative = False
    if rest[:1] in ("-", "+"):
        negative = rest[0] == "-"
        rest = rest[1:]
    if rest == "0":
        return 0.0
    if not rest:
        raise ValueError(f"time: invalid duration {quoted}")
    total = 0.0
    while rest:
        number = _NUMBER.match(rest)
        assert number is not None
        if not number.group(1) and not number.group(3):
            raise ValueError(f"time: invalid duration {quoted}")
        rest = rest[number.end() :]
        unit = _UNIT.match(rest).group()  # type: ignore[union-attr]
        if not unit:
            raise ValueError(f"time: missing unit in duration {quoted}")
        if unit not in _UNITS:
            raise ValueError(f"time: unknown unit {json.dumps(unit, ensure_ascii=False)} in duration {quoted}")
        total += float(number.group(0)) * _UNITS[unit]
        rest = rest[len(unit) :]
    return -total if negative else total


def go_type_name(value: Any) -> str:
    """The name Go's reflect prints for a decoded JSON value (used in bind errors)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "[]interface {}"
    if isinstance(value, dict):
        return "map[string]interface {}"
    return "%!s(<nil>)"


def json_kind(value: Any) -> str:
    """The JSON kind Go names in "cannot unmarshal X into ..." errors."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def keep_alive_seconds(value: Any) -> float:
    """api.Duration.UnmarshalJSON: number = seconds, string = Go duration, negative = forever."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"Unsupported type: '{go_type_name(value)}'")
    seconds = float(value) if not isinstance(value, str) else parse_go_duration(value)
    return FOREVER_SECONDS if seconds < 0 else seconds


# api.Options fields by Go kind; anything else is ignored by the server with a warning.
INT_OPTIONS = frozenset(
    [
        "num_ctx",
        "num_batch",
        "num_gpu",
        "main_gpu",
        "num_thread",
        "num_keep",
        "seed",
        "num_predict",
        "top_k",
        "repeat_last_n",
        "draft_num_predict",
    ]
)
FLOAT_OPTIONS = frozenset(
    [
        "top_p",
        "min_p",
        "typical_p",
        "temperature",
        "repeat_penalty",
        "presence_penalty",
        "frequency_penalty",
    ]
)
BOOL_OPTIONS = frozenset(["use_mmap"])


def check_options(options: dict[str, Any]) -> str | None:
    """The error text Options.FromMap would return for this map, or None when it is valid."""
    for key, value in options.items():
        if value is None:
            continue
        is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if key in INT_OPTIONS and not is_number:
            return f'option "{key}" must be of type integer'
        if key in FLOAT_OPTIONS and not is_number:
            return f'option "{key}" must be of type float32'
        if key in BOOL_OPTIONS and not isinstance(value, bool):
            return f'option "{key}" must be of type boolean'
        if key == "stop":
            if not isinstance(value, list):
                return 'option "stop" must be of type array'
            if not all(isinstance(item, str) for item in value):
                return 'option "stop" must be of an array of strings'
    return None


_B64 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


def go_b64decode(text: str) -> bytes:
    """base64.StdEncoding.DecodeString with Go's ``illegal base64 data at input byte N`` errors."""

    def corrupt(index: int) -> ValueError:
        return ValueError(f"illegal base64 data at input byte {index}")

    i, n = 0, len(text)
    clean: list[str] = []
    while True:
        count = 0  # symbols in the current 4-character quantum
        while count < 4:
            if i == n:
                if count == 0:
                    return base64.b64decode("".join(clean))
                raise corrupt(i - count)
            char = text[i]
            i += 1
            if char in _B64:
                clean.append(char)
                count += 1
                continue
            if char in "\r\n":
                continue
            if char != "=" or count < 2:
                raise corrupt(i - 1)
            if count == 2:  # "xx==": a second '=' must follow
                while i < n and text[i] in "\r\n":
                    i += 1
                if i == n:
                    raise corrupt(n)
                if text[i] != "=":
                    raise corrupt(i - 1)
                i += 1
            while i < n and text[i] in "\r\n":
                i += 1
            if i < n:
                raise corrupt(i)
            clean.append("=" * (4 - count))
            return base64.b64decode("".join(clean))


# --------------------------------------------------------------------------- responses


class HTTPError(Exception):
    """Raised by a route before any byte is written: becomes ``status`` + ``{"error": message}``."""

    def __init__(self, status: int, message: str, *, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}
        self.extra = extra


@dataclass
class JSON:
    """A complete ``application/json; charset=utf-8`` response."""

    obj: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Text:
    """A plain-text response (health check, gin's 404/405)."""

    text: str
    status: int = 200


@dataclass
class Empty:
    """Status only, zero-length body (copy, delete, blob upload)."""

    status: int = 200


@dataclass
class Stream:
    """An NDJSON response produced item by item (see the item classes below).

    ``aggregate`` says how a ``stream: false`` request folds the items into one JSON object:
    "generate"/"chat" concatenate text and keep the last chunk's metadata; "progress" keeps the
    last status object. ``model`` is recorded with a disconnect.
    """

    items: Iterator[Any]
    aggregate: str
    stream: bool = True
    model: str = ""
    encoding: Encoding = field(default_factory=lambda: Encoding())


class Encoding:
    """How a Stream's chunks go on the wire: Ollama's own NDJSON (this class), or another API's
    shape over the same answer (the OpenAI and Anthropic routes subclass it)."""

    content_type = "application/x-ndjson"
    native = True  # chunks are written as they are (bulk batches pre-encoded)

    def frames(self, chunk: dict[str, Any]) -> list[bytes]:
        """The bytes one chunk of the answer becomes (each its own HTTP chunk)."""
        return [dumps(chunk) + b"\n"]

    def final(self, answer: dict[str, Any]) -> Any:
        """The single object a ``stream: false`` request gets, from the folded answer."""
        return answer

    def error(self, status: int, message: str, extra: dict[str, Any]) -> Any:
        """The body of an error answered before any chunk."""
        return {"error": message, **extra}

    def error_frame(self, message: str) -> bytes:
        """An error after chunks were sent (the status is already 200)."""
        return dumps({"error": message}) + b"\n"


# Items a Stream may yield besides plain dicts (one NDJSON line each).


@dataclass
class Sleep:
    """Pause between chunks; the server polls the socket meanwhile to notice a client leaving."""

    seconds: float


@dataclass
class Stall:
    """Send nothing until the client disconnects or ``seconds`` pass."""

    seconds: float


@dataclass
class Drop:
    """Close the TCP connection at once, without the terminating zero-length chunk."""


@dataclass
class Raw:
    """Bytes written as one chunk exactly as given (a malformed line)."""

    data: bytes


@dataclass
class Batch:
    """Already-encoded NDJSON lines (each ending in newline), written many chunks per socket write."""

    lines: list[bytes] = field(default_factory=list)


@dataclass
class StreamError:
    """An error: as the first item it becomes ``status`` + JSON; later, one ``{"error"}`` line."""

    message: str
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # more body fields (signin_url)


def duration_ns(seconds: float) -> int:
    """Nanoseconds for a metric; at least 1 so the omitempty field is never dropped."""
    return max(1, int(seconds * 1e9)) if math.isfinite(seconds) else 1


def aggregate(kind: str, chunks: list[dict[str, Any]]) -> dict[str, Any]:
    """Fold a stream into the single object a ``stream: false`` request gets."""
    if not chunks:
        return {}
    last = chunks[-1]
    if kind == "progress":
        return last
    # The server gathers every chunk's logprobs into the one answer.
    logprobs = [lp for c in chunks for lp in c.get("logprobs") or ()]
    if kind == "chat":
        message: dict[str, Any] = {
            "role": "assistant",
            "content": "".join(c["message"].get("content", "") for c in chunks),
        }
        thinking = "".join(c["message"].get("thinking", "") for c in chunks)
        calls = [call for c in chunks for call in c["message"].get("tool_calls", [])]
        if thinking:
            message["thinking"] = thinking
        if calls:
            message["tool_calls"] = calls
        answer = {**last, "message": message}
        if logprobs:
            answer["logprobs"] = logprobs
        return answer
    out: dict[str, Any] = {
        "model": last["model"],
        "created_at": last["created_at"],
        "response": "".join(c.get("response", "") for c in chunks),
    }
    thinking = "".join(c.get("thinking", "") for c in chunks)
    if thinking:
        out["thinking"] = thinking
    out.update({k: v for k, v in last.items() if k not in out and k != "thinking"})
    if logprobs:
        out["logprobs"] = logprobs
    return out
