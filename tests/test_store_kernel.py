"""The store in real kernels: conversations that outlive a restart, Run All answered from the log,
a killed kernel's partial answer, two kernels writing at once, no key in the file's bytes, a saved
output that names the log entry, and store paths that cannot be used (one warning, no failure)."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from kernel_helpers import Kernel, module_emulator  # noqa: F401  # the module's emulator fixture

from ollama_nb.testing._scenarios import PARTIAL

pytestmark = pytest.mark.kernel


def rows(path: Path, sql: str = "SELECT prompt, content, status FROM turns ORDER BY started", *args: Any) -> list:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def chats(emu) -> list:
    return [r for r in emu.requests if r.path == "/api/chat"]


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "log.db"


def started(emu, store_path: Path, **env: str) -> Kernel:
    k = Kernel(env={"OLLAMA_HOST": emu.url, "OLLAMA_NB_STORE": str(store_path), "JPY_SESSION_NAME": "lesson.ipynb",
                    **env}).start()  # fmt: skip
    k.run("%load_ext ollama_nb").check()
    return k


def test_a_named_conversation_continues_after_a_kernel_restart(emu, store_path):
    k = started(emu, store_path)
    try:
        k.run("%%ollama --chat tutor -m llama3.2\nWhat is a prime?").check()
        k.run("%%ollama --chat tutor -m llama3.2\nAnd a composite number?").check()
        before = chats(emu)[-1].json["messages"]
        k.km.restart_kernel(now=False)  # as the Restart button: a shutdown request, then a new kernel
        k.kc.wait_for_ready(timeout=60)
        k.run("%load_ext ollama_nb").check()
        ex = k.run("%%ollama --chat tutor -m llama3.2\nGive an example of each.").check()
        assert "restored from the log: 2 turns" in ex.all_text()
        sent = chats(emu)[-1].json["messages"]
        assert [m["content"] for m in sent[:-1]][:3] == [m["content"] for m in before[:3]]
        assert [m["role"] for m in sent] == ["user", "assistant", "user", "assistant", "user"]
        assert k.value("len(__import__('ollama_nb').Conversation.named('tutor').turns)") == 3
        fresh = k.run("%%ollama --chat other -m llama3.2 --new\nHi").check()
        assert "restored" not in fresh.all_text()
    finally:
        k.stop()


NOTEBOOK = [
    "%ollama config cache=on",
    "%%ollama -m llama3.2\nName three rivers.",
    "%%ollama -m llama3.2 -o seed=3\nWhich is the longest?",
    "%%ollama --compare llama3.2,qwen3\nOne word for water.",
]


def test_run_all_twice_with_cache_on_asks_the_server_nothing_the_second_time(emu, store_path):
    k = started(emu, store_path)
    ids = [uuid.uuid4().hex for _ in NOTEBOOK]
    try:
        first = [k.run(code, cell_id=cid).check() for code, cid in zip(NOTEBOOK, ids)]
        asked = len(emu.requests)
        assert len(chats(emu)) >= 4
        second = [k.run(code, cell_id=cid).check() for code, cid in zip(NOTEBOOK, ids)]
        assert len(emu.requests) == asked  # not a chat, not a tags, not anything
        sources = rows(store_path, "SELECT source, model FROM turns WHERE source = 'compare' ORDER BY model")
        assert sources == [("compare", "llama3.2"), ("compare", "qwen3")]  # logged once, answered twice
        for a, b in zip(first[1:3], second[1:3]):
            assert a.final()["data"]["text/plain"].split("\n\n")[0] == b.final()["data"]["text/plain"].split("\n\n")[0]
            assert "from the log" in b.text() and "from the log" not in a.text()
        chatted = len(chats(emu))
        again = k.run("%%ollama -m llama3.2 --no-cache\nName three rivers.", cell_id=ids[1]).check()
        assert len(chats(emu)) == chatted + 1 and "from the log" not in again.text()
    finally:
        k.stop()


def test_a_killed_kernel_leaves_its_partial_answer_in_the_log(emu, store_path):
    k = started(emu, store_path)
    try:
        k.send("%%ollama -m stall\nTell me a story.")
        # The stall model sends its partial answer and then nothing: the writer's once-a-second
        # snapshot must bring it to the file without another chunk or an ending.
        def partial_in_file() -> bool:
            try:
                return store_path.exists() and rows(store_path, "SELECT content FROM turns WHERE model = 'stall'") == [(PARTIAL,)]
            except sqlite3.OperationalError:  # the file is being made by the kernel
                return False

        deadline = time.monotonic() + 60
        while not partial_in_file():  # polls for the event; the deadline only bounds a failure
            assert time.monotonic() < deadline, "the partial answer never reached the file"
            time.sleep(0.05)
        os.kill(k.km.provisioner.process.pid, signal.SIGKILL)
        k.km.provisioner.process.wait()
    finally:
        k.kc.stop_channels()
        k.km.cleanup_resources()
    assert rows(store_path, "SELECT content, status FROM turns WHERE model = 'stall'") == [(PARTIAL, "running")]


def test_the_streaming_output_names_the_log_entry_that_keeps_the_answer(emu, store_path):
    """A page closed mid-answer saves what it got last: that output says where the answer is."""
    k = started(emu, store_path)
    try:
        ex = k.run("%%ollama -m slow\nCount slowly.", cell_id="cell-7").check()
        streaming = [m["content"]["data"].get("text/html", "") for m in ex.updates]
        named = [h for h in streaming if "%ollama log show" in h]
        assert named, "no streaming update named the log entry"
        ident = named[0].split("%ollama log show", 1)[1].split("<", 1)[0].strip()
        assert "%ollama log show" not in ex.html()  # the finished answer needs no pointer
        [(content, status, cell, notebook)] = rows(
            store_path, "SELECT content, status, cell_id, notebook FROM turns WHERE id = ?", ident
        )
        assert status == "done" and content and content.split()[0] in ex.text()
        assert (cell, notebook) == ("cell-7", "lesson.ipynb")
        shown = k.run(f"%ollama log show {ident}").check()
        assert "Count slowly." in shown.all_text() and content.split()[-1] in shown.all_text()
    finally:
        k.stop()


def test_log_lists_searches_counts_and_prunes(emu, store_path):
    k = started(emu, store_path)
    try:
        k.run("%%ollama -m llama3.2\nHow do I merge two pandas frames?").check()
        k.run("%%ollama -m qwen3\nWhat is a monad?").check()
        table = k.run("%ollama log pandas").check()
        assert "merge two pandas" in table.all_text() and "monad" not in table.all_text()
        assert "monad" in k.run("%ollama log -m qwen3").check().all_text()
        assert "No logged turn matches" in k.run("%ollama log --since 1s zebra").check().all_text()
        stats = k.run("%ollama log --stats").check().all_text()
        assert "2 done" in stats and str(store_path) in stats
        assert "Deleted 0 turns" in k.run("%ollama log --prune --before 90d").check().all_text()
        bad = k.run("%ollama log --prune")
        assert bad.status == "error" and "--before" in bad.all_text() + str(bad.reply)
        assert "The log is off" in k.run("%ollama config store=off\n%ollama log").check().all_text()
        k.run("%%ollama -m llama3.2\nNot logged").check()
        back = k.run(f"%ollama config store={store_path}\n%ollama log").check().all_text()
        assert "merge two pandas" in back and "Not logged" not in back
    finally:
        k.stop()


def test_two_kernels_write_at_once_and_every_turn_is_there(emu, store_path):
    a, b = started(emu, store_path), started(emu, store_path)
    try:
        sent = []
        for n in range(8):
            for k in (a, b):
                sent.append((k, k.send(f"%%ollama -m llama3.2 -o num_predict=50\nturn {n} from {id(k)}")))
        for k, msg_id in sent:
            assert k.collect(msg_id).check().stderr == ""
    finally:
        a.stop()
        b.stop()
    got = rows(store_path)
    assert len(got) == 16 and {s for _, _, s in got} == {"done"}


def test_no_key_reaches_the_files_bytes(emu, store_path):
    key = "sk-kernel-store-5e8d1c0b9a"
    k = started(emu, store_path, OLLAMA_API_KEY=key)
    try:
        k.run(f"%%ollama -m llama3.2\nRepeat my key {key} please").check()
        k.run("%%ollama -m no-such-model\nHi")
        k.run("from ollama_nb._store import writer; writer().flush()").check()
        for p in store_path.parent.iterdir():
            assert key.encode() not in p.read_bytes(), p.name
        assert any("[redacted]" in r[0] for r in rows(store_path))
    finally:
        k.stop()


@pytest.mark.parametrize("kind", ["read-only place", "not a database", "full disk"])
def test_a_store_that_cannot_be_used_warns_once_and_answers_go_on(emu, tmp_path, kind):
    env: dict[str, str] = {}
    if kind == "read-only place":
        path = Path("/proc/ollama_nb_store/log.db")
    elif kind == "not a database":
        path = tmp_path / "log.db"
        path.write_text("not SQLite\n" * 50)
    else:
        path, env = tmp_path / "log.db", {"OLLAMA_NB_STORE_MAX_MB": "0.05"}
    k = started(emu, path, **env)
    try:
        outs = [k.run(f"%%ollama -m llama3.2 -o num_predict=400\nEssay number {n}").check() for n in range(4)]
        flushed = k.run("import ollama_nb.log as L; L.search('x'); print('searched')").check()
        warned = [o for o in [*outs, flushed] if "cannot use its log" in o.stderr]
        assert len(warned) == 1, [o.stderr for o in outs]
        assert "store=off" in warned[0].stderr
        assert all(o.text().strip() for o in outs)  # every answer shown
        if kind == "not a database":
            assert path.read_text() == "not SQLite\n" * 50
    finally:
        k.stop()
