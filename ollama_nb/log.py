"""The log of every turn asked from this user's notebooks: search it, read one turn, tidy it.

Every ``%%ollama`` cell, ``--compare`` column, chat-widget turn and call through the default client
is written to one SQLite file (``jupyter_data_dir()/ollama_nb/log.db``; ``OLLAMA_NB_STORE`` or
``%ollama config store=PATH`` moves it, ``store=off`` stops logging). No key or header value is
ever written. In a notebook, ``%ollama log`` shows the same as a table.

Usage::

    import ollama_nb.log
    for entry in ollama_nb.log.search("pandas", since="2d"):
        print(entry.id, entry.model, entry.prompt[:60])
    ollama_nb.log.show(entry.id).content
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import _store
from ._store import query
from ._store.db import StoreWarning, configured_path
from ._store.query import Entry

__all__ = ["Entry", "StoreWarning", "path", "prune", "search", "show", "stats"]


def _age(value: str | float | None) -> float | None:
    return query.age_seconds(value) if isinstance(value, str) else value


def path() -> Path | None:
    """The log's file now, or None when logging is off."""
    return configured_path(_store._setting())


def search(
    words: str = "", *, model: str | None = None, since: str | float | None = None, limit: int = 20
) -> list[Entry]:
    """Turns whose prompt or answer holds every one of ``words``, newest first.

    :param model: only this model (``"llama3.2"`` also matches ``"llama3.2:latest"``).
    :param since: an age, ``"2d"``, ``"3h"``, ``"1w"`` or seconds.

    Usage::

        >>> ollama_nb.log.search("dataframe merge", model="llama3.2", since="1w", limit=5)
    """
    conn = _store.reader()
    if conn is None:
        return []
    return query.search(conn, words, model=model, since=_age(since), limit=limit)


def show(ident: str) -> Entry | None:
    """The turn with this id (or the one id starting with it); None when there is none."""
    conn = _store.reader()
    return None if conn is None else query.find(conn, ident)


def stats() -> dict[str, Any]:
    """Size in bytes, turns (by status), images, oldest and newest turn, and the search in use."""
    conn = _store.reader()
    return {} if conn is None else {"path": str(path()), **query.stats(conn)}


def prune(before: str | float) -> tuple[int, int]:
    """Delete turns older than ``before`` (``"90d"`` or seconds) and the images only they used;
    returns how many turns and images went."""
    conn = _store.reader()
    age = _age(before)
    assert age is not None
    return (0, 0) if conn is None else query.prune(conn, age)
