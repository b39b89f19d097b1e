"""The turn runner's hooks into the store: start recording a turn, find the logged answer to an
identical request, and give that answer back as chunks.

The cache key needs the model's digest (the same name pulled again is another model). Digests come
from one ``/api/tags`` per host, asked only when a cached answer is wanted and kept for the life of
the kernel (forgotten when the client pulls, creates, copies or deletes a model:
:mod:`ollama_nb._models_memo`); a turn logged while its
digest is unknown is logged without a key, so it is never given as a cached answer.

Usage::

    rec = prepare(client, body, source="cell", conversation="tutor")   # its id shows at once
    entry = logged_answer(client, body)            # None: ask the model (then rec.begin())
    restored = restore(Conversation.named("tutor"))  # turns the log had, after a restart
"""

from __future__ import annotations

import inspect
import sqlite3
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .._models_memo import ModelMemo
from .._status import FAILED, INTERRUPTED, RUNNING
from . import reader, recorder, where
from .query import Entry, cached, conversation_messages
from .records import Recorder, request_key, stored_request

if TYPE_CHECKING:
    from .._client import Client
    from .._conversation import Conversation

__all__ = ["digest", "logged_answer", "logged_call", "prepare", "replay", "restore"]

# (host, model) -> digest, and (host, None) once the host's list was read
_digests: ModelMemo[tuple[str, str | None], str] = ModelMemo()
_lock = threading.Lock()


def digest(client: Client, model: str, *, ask: bool = False) -> str | None:
    """The digest of ``model`` on the client's host; with ``ask``, read the host's model list once."""
    host = client.host
    with _lock:
        known = _digests.fresh().get((host, model))
        if known is not None or not ask or (host, None) in _digests:
            return known
    try:
        listed = client.list()["models"]
    except Exception:  # no list, no digest: the answer is asked for, never guessed from the log
        return None
    with _lock:
        memo = _digests.fresh()
        memo[(host, None)] = ""
        for m in listed:
            name, value = m.get("model") or m.get("name"), m.get("digest")
            if name and value:
                memo[(host, name)] = value
                if name.endswith(":latest"):
                    memo[(host, name[: -len(":latest")])] = value
        return memo.get((host, model)) or None


def prepare(client: Client, body: dict[str, Any], *, source: str, conversation: str | None) -> Recorder | None:
    """A recorder for the turn ``body``, not begun (its id is known before anything is written);
    None when the store is off."""
    return recorder(
        body, source=source, host=client.host, conversation=conversation, digest=digest(client, body["model"])
    )


class _Logged:
    """A logged answer as :meth:`Conversation.finish` reads a reply."""

    def __init__(self, message: dict[str, Any]) -> None:
        self.message, self.model, self.done, self.status, self.error = message, None, True, "done", None

    def stats(self) -> dict[str, Any]:
        return {}


def restore(conv: Conversation) -> int:
    """Fill an empty named conversation with the turns its newest logged turn in this notebook
    carried (after a kernel restart); returns how many turns came back (0: nothing to restore)."""
    if conv.name is None or conv.turns:
        return 0
    conn = reader()
    if conn is None:
        return 0
    try:
        messages = conversation_messages(conn, conv.name, where()[0])
    except sqlite3.Error:
        return 0
    count = 0
    for message in messages:
        role = message.get("role")
        if role == "system" and not count:
            conv.configure(system=message.get("content") or "")
        elif role == "user":
            turn = conv.begin(message)
            count += 1
        elif count and role == "assistant":
            conv.finish(turn, _Logged(message))
        elif count and role == "tool":
            turn.tools.append(message)
    return count


def logged_answer(client: Client, body: dict[str, Any], rec: Recorder | None = None) -> Entry | None:
    """The newest finished answer to exactly this request from this model, if the log has one.
    ``rec``, the turn's recorder, is keyed with the digest found, so its answer can be found next time."""
    value = digest(client, body["model"], ask=True)
    if rec is not None and value is not None:
        rec.keyed(value)
    conn = reader() if value is not None else None
    if conn is None or value is None:
        return None
    try:
        return cached(conn, request_key(stored_request(body)[0], value))
    except sqlite3.Error:  # a log that cannot be read answers nothing; the model still can
        return None


def replay(entry: Entry) -> Iterator[dict[str, Any]]:
    """``entry``'s answer as chat chunks, line by line, ending in a done chunk with its stats and
    ``from_log`` (its id, for the footer)."""
    if entry.thinking:
        yield {"message": {"role": "assistant", "content": "", "thinking": entry.thinking}, "done": False}
    for line in entry.content.splitlines(keepends=True):
        yield {"message": {"role": "assistant", "content": line}, "done": False}
    last: dict[str, Any] = {"role": "assistant", "content": ""}
    if entry.tool_calls:
        last["tool_calls"] = entry.tool_calls
    yield {**entry.stats, "model": entry.model, "message": last, "done": True, "from_log": entry.id}


def logged_call(client: Client, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``client.chat`` / ``client.generate`` as ``ollama_nb.chat(...)`` calls them on the default
    client, logged as a turn: a whole answer at once, a stream when its reply ends (the writer
    sees it end; the caller's loop is not touched)."""
    method = getattr(client, name)
    try:
        bound = inspect.signature(method).bind(*args, **kwargs)
    except TypeError:
        return method(*args, **kwargs)  # the client's own error says what is wrong
    given = dict(bound.arguments)
    given.update(given.pop("kwargs", None) or {})
    body = {k: v for k, v in given.items() if v is not None and k not in ("stream", "keep_alive")}
    rec = prepare(client, body, source="client", conversation=None)
    if rec is None:
        return method(*args, **kwargs)
    rec.begin()
    try:
        result = method(*args, **kwargs)
    except BaseException as exc:
        rec.end(None, INTERRUPTED if isinstance(exc, KeyboardInterrupt) else FAILED, str(exc))
        raise
    reply = getattr(result, "reply", result)
    rec.reply = reply
    if reply is result or getattr(reply, "status", RUNNING) != RUNNING:
        rec.end(reply, "done" if getattr(reply, "done", True) else reply.status)
    else:
        rec.follow = True
    return result
