"""The store on real SQLite files: schema and migrations, the writer thread, search (FTS5 and the
LIKE fallback), the cache key, pruning, images once, secrets never written, many writers, and files
that cannot be used (each a warning once, never an error)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from ollama_nb import _store
from ollama_nb._redact import remember
from ollama_nb._store import db, query, schema
from ollama_nb._store.records import Recorder, request_key, stored_request

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="


def reply(content: str = "", thinking: str = "", **final: Any) -> Any:
    return SimpleNamespace(content=content, thinking=thinking, tool_calls=[], model="llama3.2", final=final)


def body(prompt: str, **extra: Any) -> dict[str, Any]:
    return {"model": "llama3.2", "messages": [{"role": "user", "content": prompt}], **extra}


def log_turn(w: db.Writer, prompt: str, answer: str, *, status: str = "done", **kw: Any) -> Recorder:
    rec = Recorder(w, body(prompt), source="cell", host="http://127.0.0.1:11434", **kw)
    rec.begin()
    rec.end(reply(answer, eval_count=3), status)
    return rec


@pytest.fixture
def writer(tmp_path: Path) -> db.Writer:
    return db.Writer(tmp_path / "log.db")


def test_a_new_file_is_made_with_its_folder_and_every_migration(tmp_path: Path) -> None:
    conn = db.connect(tmp_path / "deep" / "er" / "log.db")
    assert schema.applied(conn) == [fn.__name__ for fn in schema.MIGRATIONS]
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    schema.migrate(conn)  # opening again changes nothing
    assert len(schema.applied(conn)) == len(schema.MIGRATIONS)


def test_a_file_from_before_logged_embeddings_gets_their_table_and_keeps_its_turns(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    w = db.Writer(path)
    log_turn(w, "What is a prime?", "A number with two divisors.")
    w.flush()
    old = db.connect(path)  # made as the build before m004 left it
    old.execute("DROP TABLE embeddings")
    old.execute("DELETE FROM migrations WHERE name = 'm004_embeddings'")
    assert query.stats(old)["embeddings"] is None
    conn = db.connect(path)  # opened by this build
    assert schema.applied(conn)[-1] == "m004_embeddings" and query.stats(conn)["embeddings"] == 0
    assert [e.content for e in query.search(conn, "prime")] == ["A number with two divisors."]


def test_a_file_from_a_build_without_fts_searches_with_like_and_is_indexed_later(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    w = db.Writer(path, fts=False)
    conn = w.reader()
    assert not query.has_index(conn)
    log_turn(w, "How do I merge in pandas?", "Use DataFrame.merge.")
    log_turn(w, "What is a prime?", "A number with two divisors.")
    w.flush()
    assert [e.prompt for e in query.search(conn, "pandas")] == ["How do I merge in pandas?"]
    assert query.stats(conn)["search"].startswith("LIKE")
    schema.migrate(conn)  # now on a build with FTS5: the index is made and filled
    assert query.has_index(conn)
    assert [e.content for e in query.search(conn, "divisors")] == ["A number with two divisors."]


def test_a_turn_is_written_as_it_streams_and_ends_with_its_status_and_stats(writer: db.Writer) -> None:
    rec = Recorder(writer, body("Hi", options={"seed": 1}), source="widget", host="http://h:1", conversation="tutor")
    rec.begin()
    rec.reply = reply("Hel")
    rec.reply.chunks = 1
    conn = writer.reader()
    # The writer snapshots a streaming answer once a second, also when no chunk arrives any more.
    while query.find(conn, rec.id).content != "Hel":
        assert writer.flush(30)
    assert query.find(conn, rec.id).status == "running"
    rec.end(reply("Hello", "hmm", eval_count=5), "stopped", "Stopped by the user")
    entry = query.find(writer.reader(), rec.id[:6])
    assert (entry.content, entry.thinking, entry.status, entry.error) == ("Hello", "hmm", "stopped", "Stopped by the user")
    assert entry.stats == {"eval_count": 5}
    assert (entry.source, entry.conversation, entry.request["options"]) == ("widget", "tutor", {"seed": 1})
    assert entry.ended is not None and entry.ended >= entry.started
    conn = writer.reader()
    assert [e.id for e in query.search(conn, "Hello")] == [rec.id]  # the answer indexed once it ended
    # The index holds what its view of the table says, after writes while streaming and the end.
    conn.execute("INSERT INTO turns_fts(turns_fts, rank) VALUES ('integrity-check', 1)")


def test_search_finds_every_word_newest_first_by_model_and_age(writer: db.Writer) -> None:
    log_turn(writer, "pandas groupby please", "df.groupby('a').sum()")
    log_turn(writer, "numpy arrays", "np.array([1, 2])")
    newest = log_turn(writer, "pandas merge", "pd.merge(a, b)")
    conn = writer.reader()
    assert query.search(conn, "pandas")[0].id == newest.id
    assert [e.prompt for e in query.search(conn, "pandas groupby")] == ["pandas groupby please"]
    assert len(query.search(conn, "", limit=2)) == 2
    assert len(query.search(conn, "pandas", model="llama3.2")) == 2  # the name without :latest
    assert query.search(conn, "pandas", model="qwen3") == []
    conn.execute("UPDATE turns SET started = started - 3 * 86400 WHERE prompt = 'pandas merge'")
    assert [e.prompt for e in query.search(conn, "pandas", since=query.age_seconds("2d"))] == ["pandas groupby please"]


HOSTILE_WORDS = [
    '"', '""', "'", "*", "pan*", "NEAR(a b)", "a AND", "OR", "NOT x", "-pandas", "^start", "col:pandas",
    "(", ")", "{a b}", "%", "_", "\\", "100%", "a_b", "\x00", "ïñ", "🙂", "a\tb", "--", ";DROP TABLE turns;",
    "prompt:x", "+", "a + b", "\u200b",
]  # fmt: skip


@pytest.mark.parametrize("words", HOSTILE_WORDS)
def test_any_typed_words_search_as_text_on_both_paths(writer: db.Writer, words: str) -> None:
    """FTS5 has a query language; what a user types is never read as it: both paths agree."""
    log_turn(writer, f"find {words} here", "answer")
    log_turn(writer, "unrelated", "other")
    conn = writer.reader()
    indexed = [e.prompt for e in query.search(conn, words)]
    scanned = [e.prompt for e in query.search(conn, words, index=False)]
    assert f"find {words} here" in scanned
    assert set(indexed) <= set(scanned)
    assert query.find(conn, words) is None or words == ""


def test_the_cache_key_is_what_decides_an_answer(tmp_path: Path) -> None:
    base = stored_request(body("Hi", options={"seed": 1, "temperature": 0.0}, stream=True, keep_alive="5m"))[0]
    key = request_key(base, "sha256:aa")
    same = stored_request(body("Hi", options={"temperature": 0.0, "seed": 1}))[0]
    assert request_key(same, "sha256:aa") == key  # not stream or keep_alive; option order free
    for other in (
        body("Hi", options={"seed": 2, "temperature": 0.0}),
        body("Hi!", options={"seed": 1, "temperature": 0.0}),
        body("Hi", options={"seed": 1, "temperature": 0.0}, format="json"),
        body("Hi", options={"seed": 1, "temperature": 0.0}, think=True),
    ):
        assert request_key(stored_request(other)[0], "sha256:aa") != key
    assert request_key(base, "sha256:bb") != key  # the same name pulled again is another model


def test_a_logged_answer_is_found_by_its_key_only_when_done(writer: db.Writer) -> None:
    done = log_turn(writer, "Hi", "Hello", digest="sha256:aa")
    log_turn(writer, "Hi", "Hel", status="stopped", digest="sha256:aa")
    conn = writer.reader()
    assert done.key is not None
    assert query.cached(conn, done.key).content == "Hello"
    assert query.cached(conn, request_key(done.request, "sha256:bb")) is None
    assert log_turn(writer, "Hi", "x").key is None  # digest unknown: logged, never a cache answer


def test_images_are_stored_once_by_hash_and_come_back_with_a_conversation(writer: db.Writer) -> None:
    for n in range(3):
        msgs = [{"role": "user", "content": f"what is this {n}", "images": [PNG]}]
        rec = Recorder(writer, {"model": "m", "messages": msgs}, source="cell", conversation="pics")
        rec.begin()
        rec.end(reply(f"a dot {n}"), "done")
    conn = writer.reader()
    assert query.stats(conn)["images"] == 1
    stored = query.find(conn, rec.id).request["messages"][0]["images"][0]
    assert stored.startswith("sha256:") and PNG not in json.dumps(query.find(conn, rec.id).request)
    messages = query.conversation_messages(conn, "pics", None)
    assert messages == [
        {"role": "user", "content": "what is this 2", "images": [PNG]},
        {"role": "assistant", "content": "a dot 2"},
    ]


def test_a_conversation_restores_from_its_newest_turn_and_drops_an_unanswered_question(writer: db.Writer) -> None:
    history = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "one"}]
    first = Recorder(writer, {"model": "m", "messages": history}, source="cell", conversation="c", notebook="a.ipynb")
    first.begin()
    first.end(reply("1"), "done")
    msgs = [*history, {"role": "assistant", "content": "1"}, {"role": "user", "content": "two"}]
    failed = Recorder(writer, {"model": "m", "messages": msgs}, source="cell", conversation="c", notebook="a.ipynb")
    failed.begin()
    failed.end(reply(""), "failed", "server down")
    conn = writer.reader()
    assert query.conversation_messages(conn, "c", "a.ipynb") == [*history, {"role": "assistant", "content": "1"}]
    assert query.conversation_messages(conn, "c", "b.ipynb") == []


def test_prune_deletes_old_turns_and_the_images_only_they_used(writer: db.Writer) -> None:
    old = Recorder(writer, {"model": "m", "messages": [{"role": "user", "content": "x", "images": [PNG]}]}, source="cell")
    old.begin()
    old.end(reply("dot"), "done")
    log_turn(writer, "new", "answer")
    conn = writer.reader()
    conn.execute("UPDATE turns SET started = started - 100 * 86400 WHERE id = ?", (old.id,))
    assert query.prune(conn, query.age_seconds("90d")) == (1, 1)
    assert [e.prompt for e in query.search(conn)] == ["new"]
    assert query.search(conn, "dot") == []  # gone from the index too
    conn.execute("INSERT INTO turns_fts(turns_fts, rank) VALUES ('integrity-check', 1)")


def test_ages_read_as_a_user_types_them() -> None:
    assert query.age_seconds("90d") == 90 * 86400
    assert query.age_seconds("2h") == 7200
    assert query.age_seconds("30") == 30 * 86400
    with pytest.raises(ValueError, match="such as 30m, 2h"):
        query.age_seconds("last tuesday")


def test_no_key_or_header_value_reaches_the_file(tmp_path: Path) -> None:
    key = "sk-store-test-7f3a9c1e5b"
    remember(key)
    path = tmp_path / "log.db"
    w = db.Writer(path)
    rec = Recorder(w, body(f"my key is {key}", options={"seed": 1}), source="cell", host=f"https://u:{key}@h/")
    rec.begin()
    rec.reply = reply(f"You said {key}")
    rec.reply.chunks = 1
    w.put(rec.snapshot())
    rec.end(reply(f"You said {key}", f"thinking about {key}"), "failed", f"401 Authorization: Bearer {key}")
    w.flush()
    files = [p for p in tmp_path.iterdir() if p.name.startswith("log.db")]
    assert {p.name for p in files} >= {"log.db", "log.db-wal", "log.db-shm"}
    for p in files:
        assert key.encode() not in p.read_bytes(), p.name
    entry = query.find(w.reader(), rec.id)
    assert "[redacted]" in entry.content and "[redacted]" in entry.error and "[redacted]" in entry.prompt


def test_a_streaming_reply_is_written_in_pieces_and_a_key_split_between_them_never_lands(tmp_path: Path) -> None:
    """A Reply's texts are appended a piece per write (each write costs what arrived since the last,
    not the answer so far); a known key arriving split across chunks, with a write between every
    two, is never in the file, and the row ends as the whole answer, masked."""
    from ollama_nb._reply import Reply

    key = "sk-split-piece-4c2e9a71d3"
    remember(key)
    w = db.Writer(tmp_path / "log.db")
    rec = Recorder(w, body("go"), source="cell")
    rec.begin()
    rec.reply = answer = Reply("m")
    text = f"First part. The key is {key} and then more text after it. " * 3
    pieces = [text[i : i + 3] for i in range(0, len(text), 3)]
    for n, piece in enumerate(pieces):
        answer.add({"message": {"content": piece, "thinking": piece[::-1]}})
        w.put(rec.snapshot())
        if n % 5 == 0:
            w.flush()
            row = w.reader().execute("SELECT content FROM turns WHERE id = ?", (rec.id,)).fetchone()[0]
            assert text.startswith(row.replace("[redacted]", key)), row
    rec.end(answer, "done")
    w.flush()
    entry = query.find(w.reader(), rec.id)
    assert entry.content == text.replace(key, "[redacted]")
    assert entry.thinking == "".join(p[::-1] for p in pieces)
    for f in tmp_path.iterdir():
        assert key.encode() not in f.read_bytes(), f.name


WRITER_SCRIPT = """
import sys
from types import SimpleNamespace
from pathlib import Path
from ollama_nb._store.db import Writer
from ollama_nb._store.records import Recorder
w = Writer(Path(sys.argv[1]))
for n in range(int(sys.argv[3])):
    rec = Recorder(w, {"model": "m", "messages": [{"role": "user", "content": f"{sys.argv[2]} {n}"}]}, source="map")
    rec.begin()
    for i in range(3):
        rec.reply = SimpleNamespace(content="x" * i, thinking="", tool_calls=[], model="m", final={}, chunks=i + 1)
        w.put(rec.snapshot())
        w.flush()
    rec.end(SimpleNamespace(content="done", thinking="", tool_calls=[], model="m", final={}), "done")
w.flush()
print("ok" if w.failed is None else f"failed: {w.failed}")
"""


def test_two_processes_write_at_once_and_every_turn_is_there(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    count = 150
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER_SCRIPT, str(path), name, str(count)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("alpha", "beta")
    ]
    for p in procs:
        out, err = p.communicate()
        assert (out.strip(), "locked" in err) == ("ok", False), err
    conn = db.connect(path)
    rows = conn.execute("SELECT prompt, status, content FROM turns").fetchall()
    assert sorted(r[0] for r in rows) == sorted(f"{name} {n}" for name in ("alpha", "beta") for n in range(count))
    assert {(r[1], r[2]) for r in rows} == {("done", "done")}


def _warned(fn: Any) -> list[warnings.WarningMessage]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return [w for w in caught if issubclass(w.category, db.StoreWarning)]


def _use(path: Path) -> db.Writer:
    w = db.Writer(path)
    for n in range(3):
        log_turn(w, f"turn {n}", "answer " * 200)
        w.flush()
    return w


def test_a_read_only_folder_warns_once_and_nothing_fails(tmp_path: Path) -> None:
    # root writes into a folder without w permission: it gets a read-only file system instead.
    folder = Path("/proc/ollama_nb_store") if os.geteuid() == 0 else tmp_path / "ro"
    if folder.parent == tmp_path:
        folder.mkdir()
        folder.chmod(0o500)
    try:
        caught = _warned(lambda: _use(folder / "log.db"))
    finally:
        if folder.parent == tmp_path:
            folder.chmod(0o700)
    assert len(caught) == 1
    assert "answers are not being logged" in str(caught[0].message) and "store=off" in str(caught[0].message)


def test_a_file_that_is_not_a_database_warns_once_and_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("my own notes, not SQLite\n" * 100)
    caught = _warned(lambda: _use(path))
    assert len(caught) == 1 and "not a database" in str(caught[0].message)
    assert path.read_text() == "my own notes, not SQLite\n" * 100


def test_a_full_disk_warns_once_and_the_writer_stops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(db.MAX_MB_ENV, "0.1")  # ~25 pages: a few long answers fill it
    holder: list[db.Writer] = []

    def fill() -> None:
        w = db.Writer(tmp_path / "log.db")
        holder.append(w)
        for n in range(50):
            log_turn(w, f"turn {n}", "answer " * 2000)
            w.flush()

    caught = _warned(fill)
    assert len(caught) == 1 and "full" in str(caught[0].message)
    assert holder[0].failed is not None
    holder[0].put(("insert", {}))  # after failing, a write is dropped, never raised


def test_the_suite_never_writes_to_the_users_jupyter_data_dir() -> None:
    path = db.configured_path(None)
    assert path is not None
    assert not str(path).startswith(str(db.default_path().parent))
    assert _store.writer() is None or _store.writer().path == path


def test_store_off_turns_the_writer_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(db.ENV, "off")
    assert _store.writer() is None
    assert _store.recorder(body("x"), source="cell", host=None) is None


def test_the_log_table_and_one_turn_keep_every_hostile_payload_inside_the_policy(
    writer: db.Writer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Prompts, answers, model names and errors from the payload corpus, shown by ``%ollama log``
    and ``%ollama log show``: only the policy's markup, and no control character in the plain text."""
    from corpus.payloads import CORPUS
    from test_render_corpus import outside_policy

    from ollama_nb._magic import log as log_magic

    monkeypatch.setenv(db.ENV, str(writer.path))
    plain_turn = Recorder(writer, body("word"), source="cell")
    plain_turn.begin()
    plain_turn.end(reply("word", "word"), "failed", "word")
    ids = []
    for p in CORPUS:
        text = p.text("http://127.0.0.1:9/b")
        rec = Recorder(writer, {"model": text[:40], "messages": [{"role": "user", "content": text}]}, source="cell")
        rec.begin()
        rec.end(SimpleNamespace(content=text, thinking=text, tool_calls=[], model=text[:40], final={}), "failed", text)
        ids.append(rec.id)
    writer.flush()  # the magic reads through its own writer of the same file: this one's rows are in
    shown: list[tuple[str, tuple[str, ...]]] = []
    monkeypatch.setattr(log_magic, "display_html", lambda plain, *pieces, **kw: shown.append((plain, pieces)))
    log_magic.cmd_log(["show", plain_turn.id])
    # Our own chrome (a table's class, a footer) is outside the model-text policy by design: a
    # payload may add nothing to what a plain word's view already has.
    ours = set(outside_policy("".join(shown.pop()[1])))
    log_magic.cmd_log(["-n", str(len(CORPUS) + 1)])
    for ident in ids:
        log_magic.cmd_log(["show", ident])
    assert len(shown) == 1 + len(ids)
    assert all(ident in shown[0][0] for ident in ids)
    for _plain, pieces in shown:
        assert set(outside_policy("".join(pieces))) <= ours | {"<table class>"}
    table_plain = shown[0][0]
    assert not [c for c in table_plain if not c.isprintable() and c != "\n"]
