"""Where a run finds rows already answered and leaves each row as it finishes: the store.

The runner needs two calls, :meth:`Cache.lookup` (the answer to exactly this request, or None)
and :meth:`Cache.record`; :func:`cache_for` picks the project's SQLite log (``ollama_nb._store``,
keyed by the exact request and the model's digest) when this build has it, else a log kept for
the life of the process, so a rerun in the same kernel still sends only the missing rows.

Usage::

    cache = cache_for(client)
    if (answer := cache.lookup(body)) is None: ...; cache.record(body, answer)
"""

from __future__ import annotations

import importlib
import json
import threading
import warnings
from typing import Any, Protocol

__all__ = ["Cache", "Fresh", "MemoryCache", "StoreCache", "cache_for"]


#: Longest wait at a run's end for the log to be written; a disk that slow keeps writing after.
FLUSH_SECONDS = 5.0


class Cache(Protocol):
    def lookup(self, body: dict[str, Any]) -> Any | None: ...

    def record(self, body: dict[str, Any], answer: Any) -> None: ...

    def flush(self) -> None:
        """Everything recorded is where the next run's lookups (in any kernel) will find it."""


class Fresh:
    """``cache=False``: every row is sent again, and each answer still written to the log."""

    def __init__(self, inner: Cache) -> None:
        self.inner = inner

    def lookup(self, body: dict[str, Any]) -> Any | None:
        return None

    def record(self, body: dict[str, Any], answer: Any) -> None:
        self.inner.record(body, answer)

    def flush(self) -> None:
        self.inner.flush()


def _key(body: dict[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, default=str, ensure_ascii=False)


class MemoryCache:
    """Answers by exact request for this process (the stand-in when the SQLite log is absent)."""

    def __init__(self) -> None:
        self._answers: dict[str, Any] = {}
        self._lock = threading.Lock()

    def lookup(self, body: dict[str, Any]) -> Any | None:
        with self._lock:
            return self._answers.get(_key(body))

    def record(self, body: dict[str, Any], answer: Any) -> None:
        with self._lock:
            self._answers[_key(body)] = answer

    def flush(self) -> None:
        pass


class StoreCache:
    """The project's SQLite log: one turn row per answered request, found again by its cache key
    (``ollama_nb._store.turns``: ``logged_answer`` and ``prepare``). A log that fails never fails
    the run: the row's answer is still the result, and one warning says the log missed it."""

    def __init__(self, turns: Any, client: Any) -> None:
        self._turns, self._client = turns, client
        self._vectors = importlib.import_module("ollama_nb._store.vectors")
        self._warned = False

    def lookup(self, body: dict[str, Any]) -> Any | None:
        try:
            if "input" in body:  # a text to embed: its vector, compactly (ollama_nb._store.vectors)
                return self._vectors.logged_vector(self._client, body)
            entry = self._turns.logged_answer(self._client, body)
        except Exception as exc:  # a log that cannot answer: the model still can
            self._warn(exc)
            return None
        return None if entry is None else entry.content

    def record(self, body: dict[str, Any], answer: Any) -> None:
        if "input" in body and isinstance(answer, list):
            try:
                self._vectors.log_vector(self._client, body, answer)
            except Exception as exc:  # the vector is the result either way; only its log entry is missing
                self._warn(exc)
            return
        if "messages" not in body or not isinstance(answer, str):
            return
        try:
            rec = self._turns.prepare(self._client, body, source="map", conversation=None)
            if rec is not None:
                rec.begin()
                rec.end(_Answered(answer, body["model"]), "done")
        except Exception as exc:  # the answer is the result either way; only its log entry is missing
            self._warn(exc)

    def flush(self) -> None:
        """The log's writer thread has written every row of this run (a rerun right after finds them)."""
        try:
            log = importlib.import_module("ollama_nb._store").writer()
            if log is not None:
                log.flush(timeout=FLUSH_SECONDS)
        except Exception as exc:  # the rows are answered either way
            self._warn(exc)

    def _warn(self, exc: Exception) -> None:
        if not self._warned:
            self._warned = True
            warnings.warn(
                f"ollama_nb.map could not use the log ({exc!r}): rows are answered but a rerun will ask "
                "them again. `%ollama doctor` checks the log.",
                stacklevel=2,
            )


class _Answered:
    """The shape of a finished reply the store's recorder reads (content, model)."""

    def __init__(self, content: str, model: str) -> None:
        self.content, self.model, self.thinking, self.tool_calls = content, model, "", None
        self.final: dict[str, Any] = {}


_memory = MemoryCache()


def cache_for(client: Any, enabled: bool = True) -> Cache:
    """The log a run reads (``enabled``) and always writes."""
    try:
        turns = importlib.import_module("ollama_nb._store.turns")
    except ImportError:  # a build without the SQLite log: keep answers for this process
        log: Cache = _memory
    else:
        log = StoreCache(turns, client)
    return log if enabled else Fresh(log)
