"""The store: one SQLite file per user logging every turn (see ``docs/architecture.md``).

- :mod:`.schema`: tables and migrations; :mod:`.db`: where the file is, opening it, the writer
  thread; :mod:`.records`: a turn's row, the cache key, the :class:`Recorder` the turn runner
  feeds; :mod:`.query`: search, show, stats, prune, cache lookup, a conversation's messages.

This module holds what ``ollama_nb.log`` re-exports (:func:`search`, :func:`show`, :func:`stats`,
:func:`prune`, :func:`path`) and what the rest of the package calls: :func:`writer` (the writer of the configured
file, or None when the store is off or failed), :func:`recorder`, :func:`reader`, :func:`where`.

Usage::

    rec = recorder({"model": "llama3.2", "messages": msgs}, source="cell", host=client.host)
    if rec is not None:
        rec.begin(); ...; rec.end(reply, "done")
"""

from __future__ import annotations

import atexit
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

from . import query as _query
from .db import StoreWarning, Writer, configured_path, warn_once
from .query import Entry, age_seconds
from .records import Recorder

__all__ = [
    "Recorder", "StoreWarning", "path", "prune", "reader", "recorder", "search", "show", "stats", "where", "writer",
]  # fmt: skip

_writers: dict[Path, Writer] = {}
_lock = threading.Lock()


@atexit.register
def _flush_all() -> None:
    # The writer is a daemon thread: a kernel shut down normally writes what is queued first.
    for w in list(_writers.values()):
        w.flush(5)


def _setting() -> str | None:
    """The cell's ``store=`` wins, then ``OLLAMA_NB_STORE`` (read by ``configured_path``), then the
    config file's ``store``."""
    from .._config import settings
    from .._settings_file import file_settings
    from .db import ENV

    if settings.store is not None or os.environ.get(ENV):
        return settings.store
    value = file_settings().values.get("store")
    return value if isinstance(value, str) else None


def writer() -> Writer | None:
    """The writer of the configured file; None when the store is off, or that file failed."""
    path = configured_path(_setting())
    if path is None:
        return None
    with _lock:
        w = _writers.get(path)
        if w is None:
            w = _writers[path] = Writer(path)
    return None if w.failed is not None else w


def reader() -> sqlite3.Connection | None:
    """A connection to read the store with, or None (off, or failed: warned once)."""
    w = writer()
    if w is None:
        return None
    try:
        return w.reader()
    except (sqlite3.Error, OSError) as exc:
        w.failed = exc
        warn_once(w.path, exc)
        return None


def where() -> tuple[str | None, str | None]:
    """(notebook path, cell id) of the code running now, when the front end said them."""
    notebook = os.environ.get("JPY_SESSION_NAME") or None
    cell_id = None
    try:
        from IPython import get_ipython

        shell = get_ipython()
        kernel = getattr(shell, "kernel", None)
        if kernel is not None:
            parent = kernel.get_parent()
            cell_id = (parent.get("metadata") or {}).get("cellId")
        if notebook is None and shell is not None:
            notebook = shell.user_ns.get("__session__") or None
    except Exception:  # outside a kernel, or a kernel without parent headers: nothing to say
        pass
    return notebook, cell_id


def recorder(body: dict[str, Any], *, source: str, host: str | None, conversation: str | None = None,
             digest: str | None = None) -> Recorder | None:  # fmt: skip
    """A recorder for one turn of ``body`` (the request as sent), or None when the store is off."""
    w = writer()
    if w is None:
        return None
    notebook, cell_id = where()
    return Recorder(w, body, source=source, host=host, conversation=conversation, notebook=notebook,
                    cell_id=cell_id, digest=digest)  # fmt: skip


# -- what ollama_nb.log offers (and %ollama log shows) -------------------------------------------


def _age(value: str | float | None) -> float | None:
    return age_seconds(value) if isinstance(value, str) else value


def path() -> Path | None:
    """The log's file now, or None when logging is off."""
    return configured_path(_setting())


def search(
    words: str = "", *, model: str | None = None, since: str | float | None = None, limit: int = 20
) -> list[Entry]:
    """Turns whose prompt or answer holds every one of ``words``, newest first.

    :param model: only this model (``"llama3.2"`` also matches ``"llama3.2:latest"``).
    :param since: an age, ``"2d"``, ``"3h"``, ``"1w"`` or seconds.

    Usage::

        >>> ollama_nb.log.search("dataframe merge", model="llama3.2", since="1w", limit=5)
    """
    conn = reader()
    if conn is None:
        return []
    return _query.search(conn, words, model=model, since=_age(since), limit=limit)


def show(ident: str) -> Entry | None:
    """The turn with this id (or the one id starting with it); None when there is none."""
    conn = reader()
    return None if conn is None else _query.find(conn, ident)


def stats() -> dict[str, Any]:
    """Size in bytes, turns (by status), images, oldest and newest turn, and the search in use."""
    conn = reader()
    return {} if conn is None else {"path": str(path()), **_query.stats(conn)}


def prune(before: str | float) -> tuple[int, int]:
    """Delete turns older than ``before`` (``"90d"`` or seconds) and the images only they used;
    returns how many turns and images went."""
    conn = reader()
    age = _age(before)
    assert age is not None
    return (0, 0) if conn is None else _query.prune(conn, age)
