"""Reading the store: search, one turn whole, size, pruning, the cache lookup, a conversation's
messages. Every function takes an open connection (``Writer.reading()``) and returns plain values.

Search uses the FTS5 index when the file has one (words are quoted, so any text a user types is a
phrase, never FTS syntax), else ``LIKE`` on the same columns. Newest first.

Usage::

    with writer.reading() as conn:
        entries = search(conn, "pandas", since=age_seconds("2d"), limit=20)
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Entry", "age_seconds", "cached", "conversation_messages", "find", "has_index", "prune", "search", "stats",
]  # fmt: skip

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}
_COLUMNS = (
    "id, started, ended, source, host, model, conversation, notebook, cell_id, request, prompt, content, "
    "thinking, tool_calls, status, error, stats"
)


@dataclass(frozen=True)
class Entry:
    """One logged turn, as :func:`ollama_nb.log.search` returns it."""

    id: str
    started: dt.datetime
    ended: dt.datetime | None
    source: str
    host: str | None
    model: str | None
    conversation: str | None
    notebook: str | None
    cell_id: str | None
    request: dict[str, Any]
    prompt: str
    content: str
    thinking: str
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    status: str = "done"
    error: str | None = None
    stats: dict[str, Any] = field(default_factory=dict)


def _when(value: float | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromtimestamp(value, dt.timezone.utc).astimezone()


def _entry(row: tuple[Any, ...]) -> Entry:
    (id_, started, ended, source, host, model, conv, notebook, cell, request, prompt, content,
     thinking, calls, status, error, stats) = row  # fmt: skip
    return Entry(
        id=id_, started=_when(started) or dt.datetime.now(), ended=_when(ended), source=source, host=host,
        model=model, conversation=conv, notebook=notebook, cell_id=cell, request=json.loads(request),
        prompt=prompt, content=content, thinking=thinking, tool_calls=json.loads(calls) if calls else [],
        status=status, error=error, stats=json.loads(stats) if stats else {},
    )  # fmt: skip


def age_seconds(text: str) -> float:
    """``"90d"`` / ``"2h"`` / ``"1w"`` / ``"30"`` (days) as seconds; ValueError says the forms."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdwy]?)\s*", text.lower())
    if m is None:
        raise ValueError(f"{text!r} is not an age: write a number and a unit, such as 30m, 2h, 2d, 1w or 90d.")
    return float(m.group(1)) * _UNITS[m.group(2) or "d"]


def has_index(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'turns_fts'").fetchone() is not None


def _escaped(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _like(word: str) -> str:
    return f"%{_escaped(word)}%"


def search(
    conn: sqlite3.Connection,
    words: str = "",
    *,
    model: str | None = None,
    since: float | None = None,
    limit: int = 20,
    index: bool | None = None,
) -> list[Entry]:
    """Turns whose prompt or answer holds every word, newest first. ``since``: an age in seconds;
    ``index=False`` scans with LIKE even where the FTS index exists (the benchmark's baseline)."""
    terms = words.split()
    where, args = [], []  # type: tuple[list[str], list[Any]]
    source = "turns"
    if terms and (has_index(conn) if index is None else index):
        source = "turns JOIN turns_fts ON turns_fts.rowid = turns.rowid"
        where.append("turns_fts MATCH ?")
        # Each word a quoted phrase: FTS5's operators in typed text are words, not syntax. A NUL
        # cannot be in a phrase (SQLite ends the string there), and no one types one to find it.
        args.append(" ".join('"' + t.replace('"', '""').replace("\x00", "") + '"' for t in terms))
    else:
        for t in terms:
            where.append("(turns.prompt LIKE ? ESCAPE '\\' OR turns.content LIKE ? ESCAPE '\\')")
            args += [_like(t), _like(t)]
    if model:
        where.append("(turns.model = ? OR turns.model LIKE ? ESCAPE '\\')")
        args += [model, _escaped(model) + ":%"]
    if since is not None:
        where.append("turns.started >= ?")
        args.append(time.time() - since)
    cols = ", ".join(f"turns.{c.strip()}" for c in _COLUMNS.split(","))
    sql = f"SELECT {cols} FROM {source}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY turns.started DESC LIMIT ?"
    return [_entry(r) for r in conn.execute(sql, [*args, limit])]


def find(conn: sqlite3.Connection, ident: str) -> Entry | None:
    """The turn whose id is ``ident`` or starts with it; LookupError if several do."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM turns WHERE id LIKE ? ESCAPE '\\' LIMIT 2", (_escaped(ident.strip()) + "%",)
    ).fetchall()
    if len(rows) > 1:
        raise LookupError(f"Several logged turns start with {ident!r}: give more of the id.")
    return _entry(rows[0]) if rows else None


def cached(conn: sqlite3.Connection, key: str) -> Entry | None:
    """The newest finished answer to the request with cache key ``key``."""
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM turns WHERE request_key = ? AND status = 'done' ORDER BY started DESC LIMIT 1",
        (key,),
    ).fetchone()
    return _entry(row) if row else None


def stats(conn: sqlite3.Connection) -> dict[str, Any]:
    """Rows, images, oldest and newest turn, turns by status, and the file's pages in bytes."""
    rows, oldest, newest = conn.execute("SELECT count(*), min(started), max(started) FROM turns").fetchone()
    page = conn.execute("PRAGMA page_size").fetchone()[0]
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    return {
        "turns": rows,
        "images": conn.execute("SELECT count(*) FROM images").fetchone()[0],
        "embeddings": _embeddings(conn),
        "oldest": _when(oldest),
        "newest": _when(newest),
        "by_status": dict(conn.execute("SELECT status, count(*) FROM turns GROUP BY status ORDER BY 2 DESC")),
        "bytes": page * pages,
        "search": "full-text (FTS5)" if has_index(conn) else "LIKE (this SQLite has no FTS5)",
    }


def _embeddings(conn: sqlite3.Connection) -> int | None:
    """Vectors logged by ``map(embed=True)``; None for a file a kernel without them opened last."""
    try:
        return int(conn.execute("SELECT count(*) FROM embeddings").fetchone()[0])
    except sqlite3.OperationalError:
        return None


def prune(conn: sqlite3.Connection, before: float) -> tuple[int, int]:
    """Delete turns older than ``before`` seconds, then images no turn refers to any more.
    Returns (turns, images) deleted."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        turns = conn.execute("DELETE FROM turns WHERE started < ?", (time.time() - before,)).rowcount
        if _embeddings(conn) is not None:
            conn.execute("DELETE FROM embeddings WHERE created < ?", (time.time() - before,))
        images = conn.execute(
            "DELETE FROM images WHERE NOT EXISTS "
            "(SELECT 1 FROM turns WHERE instr(turns.request, 'sha256:' || images.sha256) > 0)"
        ).rowcount
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return turns, images


def conversation_messages(conn: sqlite3.Connection, name: str, notebook: str | None) -> list[dict[str, Any]]:
    """The messages of conversation ``name`` in ``notebook`` as its newest turn left them: that
    turn's request as sent (so a re-run cell's replacement and a ``--new`` count) plus its answer.
    Images come back as their data."""
    row = conn.execute(
        "SELECT request, content, thinking, tool_calls FROM turns WHERE conversation = ? AND notebook IS ? "
        "ORDER BY started DESC LIMIT 1",
        (name, notebook),
    ).fetchone()
    if row is None:
        return []
    request, content, thinking, calls = row
    messages = list(json.loads(request).get("messages") or [])
    if content or calls:
        answer: dict[str, Any] = {"role": "assistant", "content": content}
        if thinking:
            answer["thinking"] = thinking
        if calls:
            answer["tool_calls"] = json.loads(calls)
        messages.append(answer)
    elif messages and messages[-1].get("role") == "user":
        messages.pop()  # never answered: the model did not see it, and two user turns in a row confuse it
    for m in messages:
        if m.get("images"):
            m["images"] = [_image(conn, ref) for ref in m["images"]]
    return messages


def _image(conn: sqlite3.Connection, ref: Any) -> Any:
    if isinstance(ref, str) and ref.startswith("sha256:"):
        row = conn.execute("SELECT data FROM images WHERE sha256 = ?", (ref[7:],)).fetchone()
        if row is not None:
            return row[0]
    return ref
