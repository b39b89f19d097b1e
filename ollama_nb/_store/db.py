"""Where the store lives, opening it, and the one writer thread per file.

The file is ``jupyter_data_dir()/ollama_nb/log.db`` unless ``OLLAMA_NB_STORE`` or ``%ollama config
store=...`` names another (``off`` turns the store off). Every write goes through :class:`Writer`:
the stream only puts an operation on a queue; a thread writes whatever has queued in one
transaction. Many kernels share a file safely: WAL lets readers run beside one writer, a long
``busy_timeout`` waits out another kernel's transaction, and a batch that still finds the file
locked is kept and tried again, so ``database is locked`` never reaches the user. A file that
cannot be used (read-only place, not a database, disk full) gives one :class:`StoreWarning` and the
notebook goes on without the store.

Usage::

    writer = Writer(Path("/tmp/log.db"))
    writer.put(("insert", {...}))
    writer.flush()
"""

from __future__ import annotations

import contextlib
import os
import queue
import sqlite3
import threading
import time
import warnings
from pathlib import Path
from typing import Any, Protocol

from .schema import migrate

__all__ = ["ENV", "MAX_MB_ENV", "StoreWarning", "Writer", "connect", "default_path", "warn_once"]

ENV = "OLLAMA_NB_STORE"
#: A cap on the file's size in MiB (SQLite's ``max_page_count``); past it the store stops writing.
MAX_MB_ENV = "OLLAMA_NB_STORE_MAX_MB"
OFF = {"off", "none", "no", "false", "0"}
#: How long one statement waits for another kernel's transaction before the batch is retried.
BUSY_MS = 5_000
#: Op kinds: a new row, changed fields of a row ("update"; "append" adds to the texts), an image
#: by hash, SQL, a barrier for flush(), an op made on the writer's thread ("later").
Op = tuple[Any, ...]
#: The fields an "append" adds to instead of setting.
APPENDED = frozenset({"content", "thinking"})


#: Seconds between snapshots of the answers still streaming: a killed kernel loses at most about
#: this much of an answer, also one whose server stalled after its last chunk.
INTERVAL = 1.0


class Watched(Protocol):
    """A turn still streaming: the writer asks it for its state once per :data:`INTERVAL`."""

    finished: bool

    def snapshot(self) -> Op | None: ...


class StoreWarning(UserWarning):
    """The store cannot be used; the notebook keeps working without it."""


_warned: set[str] = set()
_warn_lock = threading.Lock()


def warn_once(path: Path | str, exc: BaseException) -> None:
    """One warning per file per process, saying what failed and what to do."""
    with _warn_lock:
        if str(path) in _warned:
            return
        _warned.add(str(path))
    warnings.warn(
        StoreWarning(
            f"ollama_nb cannot use its log at {path} ({exc}); answers are not being logged. "
            f"Point {ENV} (or %ollama config store=PATH) at a writable file, or store=off to stop this warning."
        ),
        stacklevel=2,
    )


def default_path() -> Path:
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "ollama_nb" / "log.db"


def configured_path(setting: str | None = None) -> Path | None:
    """The store's file: ``setting`` (from ``%ollama config``), else the environment, else the
    default; None when turned off."""
    value = setting if setting is not None else os.environ.get(ENV)
    if value is None or value.strip() == "":
        return default_path()
    if value.strip().lower() in OFF:
        return None
    return Path(value).expanduser()


def connect(path: Path, *, fts: bool | None = None) -> sqlite3.Connection:
    """Open (making it and its folder if needed) and migrate; raises ``sqlite3.Error``/``OSError``.
    ``fts=False`` makes a new file without the full-text index, as a build without FTS5 would.

    Two kernels opening a new file at once can meet SQLite's immediate SQLITE_BUSY (switching to
    WAL, or a lock upgrade it refuses to wait for, to avoid a deadlock): the open is tried again."""
    for attempt in range(OPEN_TRIES):
        try:
            return _open(path, fts)
        except sqlite3.OperationalError as exc:
            if not _locked(exc) or attempt == OPEN_TRIES - 1:
                raise
            time.sleep(min(0.02 * 2**attempt, 0.5))
    raise AssertionError("unreachable")


#: How often an open that met another kernel's lock is tried (about 5 s in all).
OPEN_TRIES = 14


def _open(path: Path, fts: bool | None) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=BUSY_MS / 1000, isolation_level=None, check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout={BUSY_MS}")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        cap = os.environ.get(MAX_MB_ENV)
        if cap:
            page = conn.execute("PRAGMA page_size").fetchone()[0]
            conn.execute(f"PRAGMA max_page_count={max(1, int(float(cap) * 2**20 // page))}")
        migrate(conn, fts=fts)
    except BaseException:
        conn.close()
        raise
    return conn


def _locked(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc))


class Writer:
    """The one thread that writes to ``path``; ``put`` never blocks and never raises."""

    def __init__(self, path: Path, *, fts: bool | None = None) -> None:
        self.path = path
        self.fts = fts
        self.failed: BaseException | None = None
        self.written = 0  # operations committed (tests and benchmarks wait on it)
        self._queue: queue.SimpleQueue[Op] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._reader: sqlite3.Connection | None = None
        self._read_lock = threading.Lock()
        self._watched: set[Watched] = set()
        self._watch_lock = threading.Lock()

    def watch(self, turn: Watched) -> None:
        with self._watch_lock:
            self._watched.add(turn)

    def unwatch(self, turn: Watched, last: Op) -> None:
        """Stop snapshotting ``turn`` and put its ``last`` write: no snapshot can follow it."""
        with self._watch_lock:
            self._watched.discard(turn)
            self.put(last)

    def _snapshots(self) -> list[Op]:
        # The stream's thread never waits for this: it only reads the reply, which is safe from
        # another thread (a reader sees at least the text of the chunks it counts).
        with self._watch_lock:
            ops = [op for op in (t.snapshot() for t in list(self._watched)) if op is not None]
            self._watched = {t for t in self._watched if not t.finished}
            return ops

    def put(self, op: Op | None) -> None:
        if self.failed is not None or op is None:
            return
        self._queue.put(op)
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="ollama_nb store", daemon=True)
                    self._thread.start()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything put so far is written (or the store failed)."""
        done = threading.Event()
        self.put(("barrier", done))
        return self.failed is not None or done.wait(timeout)

    def reader(self) -> sqlite3.Connection:
        """A connection for reads, after what was put so far is written. Raises ``sqlite3.Error``."""
        self.flush()
        with self._read_lock:
            if self._reader is None:
                self._reader = connect(self.path, fts=self.fts)
            return self._reader

    def _run(self) -> None:
        try:
            conn = connect(self.path, fts=self.fts)
        except (sqlite3.Error, OSError, ValueError) as exc:
            self._fail(exc)
            return
        pending: list[Op] = []
        snap_at = time.monotonic() + INTERVAL
        while True:
            # Wake at least once per INTERVAL while answers stream (to snapshot them) or a batch
            # waits because another kernel held the file; else sleep until something is put.
            idle = not pending and not self._watched
            with contextlib.suppress(queue.Empty):
                pending.append(self._queue.get(timeout=None if idle else max(0.0, snap_at - time.monotonic())))
            with contextlib.suppress(queue.Empty):
                while True:
                    pending.append(self._queue.get_nowait())
            if time.monotonic() >= snap_at:
                pending += self._snapshots()
                snap_at = time.monotonic() + INTERVAL
            pending = self._write(conn, pending)
            if self.failed is not None:
                conn.close()
                return

    def _write(self, conn: sqlite3.Connection, ops: list[Op]) -> list[Op]:
        """Write ``ops`` in one transaction; returns what is left to try again (the file was locked)."""
        barriers = [op[1] for op in ops if op[0] == "barrier"]
        # A "later" op is made here, on this thread, the first time it is tried (then kept made).
        work = [op[1]() if op[0] == "later" else op for op in ops if op[0] != "barrier"]
        for attempt in range(20):
            try:
                conn.execute("BEGIN IMMEDIATE")
                for op in work:
                    _apply(conn, op)
                conn.execute("COMMIT")
                break
            except Exception as exc:  # any failure ends the store, never the writer silently
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                if not (isinstance(exc, sqlite3.Error) and _locked(exc)):
                    self._fail(exc)
                    break
                time.sleep(min(0.05 * 2**attempt, 1.0))  # another kernel holds the file: wait it out
        else:
            return work + [("barrier", b) for b in barriers]  # still locked: keep it all for later
        if self.failed is None:
            self.written += len(work)
        for done in barriers:
            done.set()
        return []

    def _fail(self, exc: BaseException) -> None:
        self.failed = exc
        # Anyone waiting in flush() is released first: the store is off from here on.
        with contextlib.suppress(queue.Empty):
            while True:
                op = self._queue.get_nowait()
                if op[0] == "barrier":
                    op[1].set()
        with contextlib.suppress(Exception):  # warnings turned into errors must not kill this thread
            warn_once(self.path, exc)


def _apply(conn: sqlite3.Connection, op: Op) -> None:
    kind = op[0]
    if kind == "insert":
        row: dict[str, Any] = op[1]
        cols = ", ".join(row)
        conn.execute(f"INSERT OR REPLACE INTO turns ({cols}) VALUES ({', '.join('?' * len(row))})", list(row.values()))
    elif kind == "update":
        fields: dict[str, Any] = op[2]
        sets = ", ".join(f"{k} = ?" for k in fields)
        conn.execute(f"UPDATE turns SET {sets} WHERE id = ?", [*fields.values(), op[1]])
    elif kind == "append":  # the texts go on (SQLite copies them, not Python), the rest is set
        fields = op[2]
        sets = ", ".join(f"{k} = {k} || ?" if k in APPENDED else f"{k} = ?" for k in fields)
        conn.execute(f"UPDATE turns SET {sets} WHERE id = ?", [*fields.values(), op[1]])
    elif kind == "image":
        conn.execute("INSERT OR IGNORE INTO images VALUES (?, ?)", (op[1], op[2]))
    elif kind == "sql":
        conn.execute(op[1], op[2])
