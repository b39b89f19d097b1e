"""The store: one SQLite file per user logging every turn (see ``docs/architecture.md``).

- :mod:`.schema`: tables and migrations; :mod:`.db`: where the file is, opening it, the writer
  thread; :mod:`.records`: a turn's row, the cache key, the :class:`Recorder` the turn runner
  feeds; :mod:`.query`: search, show, stats, prune, cache lookup, a conversation's messages.

This module holds what the rest of the package calls: :func:`writer` (the writer of the configured
file, or None when the store is off or failed), :func:`recorder`, :func:`reader`, :func:`where`.

Usage::

    rec = recorder({"model": "llama3.2", "messages": msgs}, source="cell", host=client.host)
    if rec is not None:
        rec.begin(); ...; rec.end(reply, "done")
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

from .db import StoreWarning, Writer, configured_path, warn_once
from .records import Recorder

__all__ = ["Recorder", "StoreWarning", "reader", "recorder", "where", "writer"]

_writers: dict[Path, Writer] = {}
_lock = threading.Lock()


def _setting() -> str | None:
    from .._config import settings

    return settings.store


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
