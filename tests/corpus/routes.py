"""Serve given (hostile) texts in chosen fields of a running emulator's responses.

The safety tests need a server that puts a payload exactly where a real, compromised or
prompt-injected server could: the answer text, the thinking, a tool call's arguments, the model
name of the chunks, ``/api/tags`` and ``/api/show`` fields, error messages (before the stream
and in the middle of it), the ``signin_url`` of a sign-in refusal, and ``/api/usage``. This
module wraps an :class:`~ollama_nb.testing.Emulator`'s routes through its public
:meth:`~ollama_nb.testing.Emulator.override` hook; requests for any other model behave as usual.

Usage::

    from ollama_nb.testing import Emulator
    from corpus.routes import PayloadRoutes

    with Emulator() as emu:
        hostile = PayloadRoutes({"p1": ["<im", "g src=x onerror=alert(1)>"]}, tags=True).install(emu)
        name = hostile.model("content", "p1")       # "payload-content:p1"
        # /api/chat with model=name streams the chunks as the answer; the field decides where:
        #   content, thinking, tool (tool-call arguments), model (every chunk's "model"),
        #   error (status 500 + {"error": payload}), midstream (answer, then an error line),
        #   show (/api/show of that name returns the payload in every text field),
        #   signin (401 {"error": "unauthorized", "signin_url": payload}, a cloud model's sign-in),
        #   pull (/api/pull of that name streams the payload as its status, then "success").
        # With tags=True, /api/tags and /api/ps also list one model per payload, named by it; a
        # DELETE of that exact name takes it off the lists (and nothing else off the server).
        # With usage=True, /api/balance reports one legacy window per payload (named by it, with it
        # as "remaining_percent" and "resets_at", where ollama.com sends a number and a time), and
        # /api/usage one older-style limit per payload (its "usage" and "resets_at").
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from ollama_nb.testing._chunks import answer_chunk
from ollama_nb.testing._wire import JSON, Empty, HTTPError, Stream, StreamError, rfc3339

__all__ = ["FIELDS", "PayloadRoutes"]

FIELDS = ("content", "thinking", "tool", "model", "error", "midstream", "show", "signin", "pull")
_NAME = re.compile(r"^payload-(?P<field>[a-z]+):(?P<key>[A-Za-z0-9_.-]+)$")
PARTIAL = "Partial answer before the error. "
_DIGEST = "sha256:" + "0" * 64

Route = Callable[..., Any]


class PayloadRoutes:
    """Route wrappers that answer ``payload-<field>:<key>`` models with ``payloads[key]``.

    Parameters
    ----------
    payloads:
        key -> the chunks of one payload (their concatenation is the whole text). Keys are model
        tags, so letters, digits, ``_ . -`` only.
    tags:
        Also list one model per payload in ``/api/tags`` and ``/api/ps``, with the payload as its
        name, family, parameter size and quantization (and answer ``/api/show`` and ``/api/delete``
        of that exact name: a payload such as ``" llama3.2 "`` is a model of its own, and deleting
        it must not delete ``llama3.2``).
    usage:
        Also report one window per payload in ``GET /api/balance`` and one limit per payload in
        ``GET /api/usage`` (which this adds to an emulator without a key, where ollama.com's
        routes are missing), after the real ones.
    """

    def __init__(self, payloads: Mapping[str, Sequence[str]], *, tags: bool = False, usage: bool = False) -> None:
        self.payloads = {key: list(chunks) for key, chunks in payloads.items()}
        for key, chunks in self.payloads.items():
            if not _NAME.match(f"payload-x:{key}") or not chunks:
                raise ValueError(f"payload key {key!r} must be a model tag and have at least one chunk")
        self.tags = tags
        self.usage = usage
        self._by_text = {"".join(chunks): key for key, chunks in self.payloads.items()}
        self._deleted: set[str] = set()  # listed payload models deleted since install()

    @staticmethod
    def model(field: str, key: str) -> str:
        """The model name that makes the emulator serve payload ``key`` in ``field``."""
        if field not in FIELDS:
            raise ValueError(f"field must be one of {', '.join(FIELDS)}, not {field!r}")
        return f"payload-{field}:{key}"

    def install(self, emulator: Any) -> PayloadRoutes:
        """Wrap ``emulator``'s routes (an in-process Emulator that is running); returns self."""
        wrappers = [
            ("/api/chat", "POST", self._generation("chat")),
            ("/api/generate", "POST", self._generation("generate")),
            ("/api/show", "POST", self._show),
            ("/api/tags", "GET", self._listing("tags")),
            ("/api/ps", "GET", self._listing("ps")),
            ("/api/delete", "DELETE", self._delete),
            ("/api/pull", "POST", self._pull),
        ]
        if self.usage:
            wrappers += [("/api/usage", "GET", self._usage), ("/api/balance", "GET", self._balance)]
        for path, method, wrapper in wrappers:
            emulator.override(path, method, _bind(wrapper, emulator.route(path, method) or _empty))
        return self

    # ------------------------------------------------------------------ routes

    def _lookup(self, body: bytes) -> tuple[dict[str, Any], str, str, list[str]] | None:
        req, name = _request(body)
        match = _NAME.match(name)
        if match and match["key"] in self.payloads and match["field"] in FIELDS:
            return req, match["field"], name, self.payloads[match["key"]]
        if self._listed(name):  # a model listed by tags=True, named by its payload
            return req, "show", name, self.payloads[self._by_text[name]]
        return None

    def _listed(self, name: str) -> bool:
        return name in self._by_text and name not in self._deleted

    def _generation(self, route: str) -> Route:
        def wrapper(original: Route, body: bytes) -> Any:
            found = self._lookup(body)
            if found is None or found[1] == "show":
                return original(body)
            req, field, name, chunks = found
            if field == "error":
                raise HTTPError(500, "".join(chunks))
            if field == "signin":  # as a local server answers for a cloud model while signed out
                raise HTTPError(401, "unauthorized", signin_url="".join(chunks))
            items = _answer(route, field, name, chunks)
            return Stream(items, route, req.get("stream", True) is not False, name)

        return wrapper

    def _show(self, original: Route, body: bytes) -> Any:
        found = self._lookup(body)
        if found is None:
            name = _request(body)[1]
            if name in self._deleted:
                raise HTTPError(404, f"model '{name}' not found")
            return original(body)
        text = "".join(found[3])
        return JSON(
            {
                "license": text,
                "modelfile": f"# {text}\nFROM {text}\nSYSTEM {text}\n",
                "parameters": f"stop {text}",
                "template": text,
                "system": text,
                "details": _details(text),
                "model_info": {"general.architecture": text, "general.basename": text},
                "capabilities": ["completion"],
                "modified_at": rfc3339(),
            }
        )

    def _pull(self, original: Route, body: bytes) -> Any:
        found = self._lookup(body)
        if found is None or found[1] != "pull":
            return original(body)
        items = [{"status": piece} for piece in found[3]] + [{"status": "success"}]
        return Stream(iter(items), "progress", found[0].get("stream", True) is not False, found[2])

    def _listing(self, kind: str) -> Route:
        def wrapper(original: Route, body: bytes) -> Any:
            response = original(body)
            if not self.tags or not isinstance(response, JSON):
                return response
            extra = []
            for text in filter(self._listed, self._by_text):
                entry: dict[str, Any] = {
                    "name": text,
                    "model": text,
                    "size": 1234,
                    "digest": _DIGEST,
                    "details": _details(text),
                }
                if kind == "tags":
                    entry.update(modified_at=rfc3339(), capabilities=["completion"])
                else:
                    entry.update(expires_at=rfc3339(), size_vram=1234, context_length=4096)
                extra.append(entry)
            return JSON({**response.obj, "models": list(response.obj.get("models", [])) + extra}, response.status)

        return wrapper

    def _usage(self, original: Route, body: bytes) -> Any:
        response = original(body)
        report = dict(response.obj) if isinstance(response, JSON) and isinstance(response.obj, dict) else {}
        report["limits"] = {text: {"usage": text, "resets_at": text} for text in self._by_text}
        return JSON(report)

    def _balance(self, original: Route, body: bytes) -> Any:
        windows = {text: {"remaining_percent": text, "resets_at": text} for text in self._by_text}
        return JSON({"included": windows, "purchased": {"balance_usd": 0}})

    def _delete(self, original: Route, body: bytes) -> Any:
        # The exact name, as a real server matches it: " llama3.2 " is not llama3.2:latest (which
        # the emulator's own name rules, trimming first, would delete).
        name = _request(body)[1]
        if not self.tags or name not in self._by_text:
            return original(body)
        if name in self._deleted:
            raise HTTPError(404, f"model '{name}' not found")
        self._deleted.add(name)
        return Empty()


def _request(body: bytes) -> tuple[dict[str, Any], str]:
    """The JSON request (``{}`` when it is none) and the model it names."""
    try:
        req = json.loads(body) if body else {}
    except ValueError:
        return {}, ""
    if not isinstance(req, dict):
        return {}, ""
    return req, str(req.get("model") or req.get("name") or "")


def _empty(body: bytes, *args: Any) -> JSON:
    """What a route the emulator lacks answers before a wrapper adds to it."""
    return JSON({})


def _bind(wrapper: Callable[[Route, bytes], Any], original: Route) -> Route:
    def route(body: bytes, *args: Any) -> Any:
        # args (the query of /api/usage) go to the original; the wrapper sees the body only.
        return wrapper(lambda b: original(b, *args), body)

    return route


def _details(text: str) -> dict[str, Any]:
    return {
        "parent_model": text,
        "format": text,
        "family": text,
        "families": [text],
        "parameter_size": text,
        "quantization_level": text,
    }


def _chunk(route: str, model: str, *, done: bool = False, **fields: Any) -> dict[str, Any]:
    """One chunk of an answer, as the emulator's own answers are made (done only on the last)."""
    out = answer_chunk(route, model, **fields)
    out["done"] = done
    return out


def _answer(route: str, field: str, name: str, chunks: list[str]) -> Iterator[Any]:
    """The chunks of one answer carrying the payload in ``field``."""
    text = "".join(chunks)
    model = text if field == "model" else name
    if field in ("content", "midstream"):
        for piece in ([PARTIAL] if field == "midstream" else []) + chunks:
            yield _chunk(route, model, content=piece)
    elif field == "thinking":
        for piece in chunks:
            yield _chunk(route, model, thinking=piece)
        yield _chunk(route, model, content="The answer after the thinking.")
    elif field == "tool":
        call = {"id": "call_payload", "function": {"index": 0, "name": "lookup", "arguments": {"query": text}}}
        yield _chunk(route, model, tool_calls=[call])
    else:  # model: an ordinary answer whose every chunk names the payload as its model
        for piece in ("An ordinary", " answer."):
            yield _chunk(route, model, content=piece)
    if field == "midstream":
        yield StreamError(text)
        return
    final = _chunk(route, model, done=True)
    final.update(
        done_reason="stop",
        total_duration=1_000_000,
        load_duration=1000,
        prompt_eval_count=3,
        prompt_eval_duration=1000,
        eval_count=max(1, len(chunks)),
        eval_duration=900_000,
    )
    yield final
