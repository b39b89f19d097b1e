"""The store's tables, and the migrations that make an older file current.

Each migration is a function applied once, in order, and named in the ``migrations`` table when it
ran (the idea of simonw/llm's ``migrations.py``): a file made by any earlier version is brought up
to date on open, and a file from a newer version keeps working, because migrations only add. Two
kernels opening a new file at once do not both migrate: the work runs inside ``BEGIN IMMEDIATE``.

Usage::

    >>> import sqlite3
    >>> conn = sqlite3.connect(":memory:", isolation_level=None)
    >>> migrate(conn)
    >>> applied(conn)[0]
    'm001_turns'
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

__all__ = ["MIGRATIONS", "applied", "has_fts", "migrate"]

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[Migration] = []


def _migration(fn: Migration) -> Migration:
    MIGRATIONS.append(fn)
    return fn


def has_fts(conn: sqlite3.Connection) -> bool:
    """Whether this SQLite build has FTS5 (most do; some system builds leave it out)."""
    try:
        conn.execute("CREATE VIRTUAL TABLE temp._fts_probe USING fts5(x)")
    except sqlite3.OperationalError:
        return False
    conn.execute("DROP TABLE temp._fts_probe")
    return True


def applied(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute("SELECT name FROM migrations ORDER BY applied_at, name").fetchall()
    return [r[0] for r in rows]


def migrate(conn: sqlite3.Connection, *, fts: bool | None = None) -> None:
    """Apply the migrations this file lacks. ``fts=False`` makes a file without full-text search
    (as on a build without FTS5), which :mod:`.query` then searches with ``LIKE``."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at REAL)")
        done = {r[0] for r in conn.execute("SELECT name FROM migrations")}
        for fn in MIGRATIONS:
            if fn.__name__ in done:
                continue
            if fn is m003_fts and not (has_fts(conn) if fts is None else fts):
                continue
            fn(conn)
            conn.execute("INSERT INTO migrations VALUES (?, ?)", (fn.__name__, time.time()))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


@_migration
def m001_turns(conn: sqlite3.Connection) -> None:
    # One row per turn, written as it streams. `request` is the JSON body as sent, images replaced
    # by their hash; `prompt` is the last user message's text, kept apart for the table and search.
    conn.execute(
        """CREATE TABLE turns (
            id TEXT NOT NULL UNIQUE,
            started REAL NOT NULL,
            ended REAL,
            source TEXT NOT NULL,
            host TEXT,
            model TEXT,
            conversation TEXT,
            notebook TEXT,
            cell_id TEXT,
            request_key TEXT,
            request TEXT NOT NULL,
            prompt TEXT NOT NULL DEFAULT '',
            content TEXT NOT NULL DEFAULT '',
            thinking TEXT NOT NULL DEFAULT '',
            tool_calls TEXT,
            status TEXT NOT NULL,
            error TEXT,
            stats TEXT
        )"""
    )
    conn.execute("CREATE INDEX turns_started ON turns(started)")
    conn.execute("CREATE INDEX turns_key ON turns(request_key, status)")
    conn.execute("CREATE INDEX turns_conversation ON turns(conversation, notebook, started)")


@_migration
def m002_images(conn: sqlite3.Connection) -> None:
    # A picture sent in many turns is kept once, under the SHA-256 of its base64 text.
    conn.execute("CREATE TABLE images (sha256 TEXT PRIMARY KEY, data TEXT NOT NULL)")


@_migration
def m003_fts(conn: sqlite3.Connection) -> None:
    # An external-content index: the text lives once, in `turns`. A turn is indexed by its prompt
    # when it begins and by its answer once it ends, never on the once-a-second writes while it
    # streams (re-tokenizing a growing answer every second would cost the writer for nothing);
    # the view says exactly that, so 'rebuild' and the triggers index the same values.
    conn.execute(
        "CREATE VIEW turns_text AS SELECT rowid, prompt, "
        "CASE WHEN status = 'running' THEN '' ELSE content END AS content FROM turns"
    )
    conn.execute(
        "CREATE VIRTUAL TABLE turns_fts USING fts5(prompt, content, content='turns_text', content_rowid='rowid')"
    )
    new = "new.rowid, new.prompt, CASE WHEN new.status = 'running' THEN '' ELSE new.content END"
    old = "old.rowid, old.prompt, CASE WHEN old.status = 'running' THEN '' ELSE old.content END"
    conn.execute(
        f"""CREATE TRIGGER turns_ai AFTER INSERT ON turns BEGIN
            INSERT INTO turns_fts(rowid, prompt, content) VALUES ({new});
        END"""
    )
    conn.execute(
        f"""CREATE TRIGGER turns_ad AFTER DELETE ON turns BEGIN
            INSERT INTO turns_fts(turns_fts, rowid, prompt, content) VALUES ('delete', {old});
        END"""
    )
    conn.execute(
        f"""CREATE TRIGGER turns_au AFTER UPDATE OF prompt, content, status ON turns
            WHEN old.status != 'running' OR new.status != 'running' OR old.prompt != new.prompt BEGIN
            INSERT INTO turns_fts(turns_fts, rowid, prompt, content) VALUES ('delete', {old});
            INSERT INTO turns_fts(rowid, prompt, content) VALUES ({new});
        END"""
    )
    # A file first made on a build without FTS5 already has turns: index them.
    conn.execute("INSERT INTO turns_fts(turns_fts) VALUES ('rebuild')")


@_migration
def m004_embeddings(conn: sqlite3.Connection) -> None:
    # One vector per (model, digest, text, options), for `ollama_nb.map(embed=True)` to resume.
    # The vector is little-endian float32 bytes, what Ollama computes and sends: 4 KiB for 1 024
    # dimensions, so 100 000 rows are ~0.4 GiB where JSON text would be five times that.
    conn.execute(
        """CREATE TABLE embeddings (
            request_key TEXT NOT NULL UNIQUE,
            created REAL NOT NULL,
            host TEXT,
            model TEXT,
            dims INTEGER NOT NULL,
            vector BLOB NOT NULL
        )"""
    )
    conn.execute("CREATE INDEX embeddings_created ON embeddings(created)")
