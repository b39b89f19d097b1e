"""Ollama's wire format, read and written without I/O: the sync and async clients share it.

- :func:`request_data`: the bytes of a request body.
- :func:`stream_objects`: the objects of an NDJSON body arriving in blocks of bytes (the hot path).
- :func:`body_objects`: the object(s) of a whole body.

What an ``{"error": ...}`` object among them means is :mod:`ollama_nb._http_errors`' job.

None of them keeps a server's raw bytes in a frame a traceback may show (see
:func:`without_raw_frames`).
"""

from __future__ import annotations

import functools
import json
import json.scanner
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from ._errors import MalformedChunk, OllamaError, ResponseError

__all__ = ["body_objects", "request_data", "stream_objects", "without_raw_frames"]

_SCAN = (json.scanner.c_make_scanner or json.scanner.py_make_scanner)(json.JSONDecoder())  # type: ignore[attr-defined]
_F = TypeVar("_F", bound=Callable[..., Any])


#: The longest NDJSON line read (bytes). Ollama's longest are a final chunk with generate's
#: ``context`` (about 7 bytes a token: 7 MB at a million tokens) or an image; a server that sends
#: more without a newline is not speaking NDJSON, and holding it would only grow the kernel.
MAX_LINE = 32 * 1024 * 1024


def without_raw_frames(fn: _F) -> _F:
    """Re-raise an OllamaError from ``fn`` with ``fn``'s own frame dropped from the traceback.

    IPython's verbose tracebacks (``%xmode Verbose``) print every frame's local variables, and the
    frames that read an error body hold the server's raw text, which may echo the key. The error
    itself is redacted (ollama_nb._redact); this keeps the raw text out of the traceback too.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except OllamaError as err:
            raise err.with_traceback(None)  # noqa: B904 - the same error, only the frame goes

    return wrapper  # type: ignore[return-value]


def request_data(body: Any) -> str | None:
    """The request body as JSON text (None: no body)."""
    return None if body is None else json.dumps(body)


def stream_objects(
    blocks: Iterable[bytes], partial: Any = None, max_line: int = MAX_LINE
) -> Iterator[dict[str, Any]]:
    """Each JSON object of an NDJSON body, as its blocks arrive; blank lines skipped. A line that
    is not a JSON object, or longer than ``max_line`` bytes, raises :class:`MalformedChunk` (with
    ``partial``, the answer so far)."""
    scan = _SCAN
    buf = b""
    pending: list[bytes] = []  # blocks of a line not ended yet, joined once its end arrives
    size = 0
    try:
        for data in blocks:
            if b"\n" not in data:
                pending.append(data)
                size += len(data)
                if size > max_line:
                    raise MalformedChunk(pending[0][:200], reply=partial, limit=max_line)
                continue
            if pending:
                data = b"".join(pending) + data
            lines = data.split(b"\n")
            buf = lines.pop()
            pending, size = ([buf], len(buf)) if buf else ([], 0)
            if size > max_line or any(len(line) > max_line for line in lines):
                raise MalformedChunk(data[:200], reply=partial, limit=max_line)
            for line in lines:
                if not line:
                    continue
                # One C-level parse per line: json's own scanner, without json.loads' Python
                # wrappers (encoding sniffing, a trailing-whitespace regex), which cost as much
                # again as the parse. Anything unusual takes the careful path below.
                try:
                    text = line.decode()
                    obj, end = scan(text, 0)
                    if end != len(text) or type(obj) is not dict:
                        raise ValueError
                except (ValueError, StopIteration):
                    obj = _parse_carefully(line, partial)
                    if obj is None:
                        continue
                yield obj
        buf = b"".join(pending)
        if buf.strip():
            last = _parse_carefully(buf, partial)
            if last is not None:
                yield last
    finally:
        # This frame stays in the traceback of an error it raises, and verbose tracebacks
        # print its locals: leave none of the server's raw bytes in them.
        data = buf = line = b""
        lines, pending, text, obj = [], [], "", {}


def _parse_carefully(line: bytes, partial: Any) -> dict[str, Any] | None:
    """json.loads for lines the fast path refused: None for a blank line, else a dict or
    MalformedChunk."""
    if line.isspace():
        return None
    try:
        obj = json.loads(line)
    except ValueError:
        obj = None
    if type(obj) is not dict:
        raise MalformedChunk(line, reply=partial)
    return obj


@without_raw_frames
def body_objects(data: bytes, status: int, hook: Any = None) -> list[dict[str, Any]]:
    """The JSON object(s) of a whole body: one object (what ``stream: false`` gets), or NDJSON
    lines from a server that streamed anyway. ``hook`` wraps every object (Chunk for small
    answers; a long Reply parses plain dicts). An object that is not one raises ResponseError."""
    try:
        objs = [json.loads(data, object_hook=hook)]
    except ValueError:
        objs = [_line(line, hook) for line in data.split(b"\n") if line.strip()]
    for obj in objs:
        if not isinstance(obj, dict):
            raise ResponseError(
                repr(data[:200]), status, hint="The server did not answer a JSON object: is this an Ollama server?"
            )
    return objs


def _line(line: bytes, hook: Any) -> Any:
    try:
        return json.loads(line, object_hook=hook)
    except ValueError:
        raise MalformedChunk(line) from None
