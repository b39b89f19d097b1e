"""The turn runner logs every turn to the store, and answers an identical request from it with
``cache``: against the emulator on loopback and a real SQLite file per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from ollama_nb import Conversation
from ollama_nb._models_memo import models_changed
from ollama_nb._redact import remember, unsafe_tail
from ollama_nb._store import query as q
from ollama_nb._store import reader
from ollama_nb._turn import TurnRunner


@pytest.fixture(autouse=True)
def log_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "log.db"
    monkeypatch.setenv("OLLAMA_NB_STORE", str(path))
    models_changed()  # digests another test's emulator listed are not this one's
    return path


def user(text: str) -> dict:
    return {"role": "user", "content": text}


def chats(emu) -> int:
    return sum(r.path == "/api/chat" for r in emu.requests)


def test_a_turn_is_logged_with_its_request_answer_and_stats(client, emu):
    conv = Conversation("tutor")
    runner = TurnRunner(client, "llama3.2", conversation=conv, user=user("What is pandas?"), source="cell",
                        request={"options": {"seed": 1}})  # fmt: skip
    reply = runner.run()
    entry = q.find(reader(), runner.recorder.id)
    assert (entry.status, entry.content, entry.source, entry.conversation) == ("done", reply.content, "cell", "tutor")
    assert entry.request["options"] == {"seed": 1} and entry.request["messages"] == [user("What is pandas?")]
    assert entry.stats["eval_count"] == reply.final["eval_count"] and entry.host == emu.url
    assert q.search(reader(), "pandas")[0].id == entry.id


def test_a_failed_and_a_stopped_turn_are_logged_as_they_ended(client, emu):
    failed = TurnRunner(client, "no-such-model", conversation=Conversation(), user=user("Hi"))
    failed.run()
    assert q.find(reader(), failed.recorder.id).status == "failed"
    assert "no-such-model" in q.find(reader(), failed.recorder.id).error

    stopped = TurnRunner(client, "slow", conversation=Conversation(), user=user("Hi"))
    stopped.run(lambda reply, chunk: stopped.stop() if reply.chunks >= 3 else None)
    entry = q.find(reader(), stopped.recorder.id)
    assert entry.status == "stopped" and entry.content == stopped.reply.content and entry.content


@pytest.mark.parametrize("key", [None, "e" + "k" * 40], ids=["no key", "a key starting as the answer ends"])
def test_a_stalled_answer_is_in_the_log_before_it_ends(client, emu, key):
    """What arrived is written within about a second even when no further chunk comes (but an end
    that could start a known key: "Here" waits while a key starting with "e" is known)."""
    remember(key)
    runner = TurnRunner(client, "stall", conversation=Conversation(), user=user("Hi"))
    seen = []
    runner.run(lambda reply, chunk: seen.append(reply.content) if len(seen) < 1 and _logged(runner, reply) else None)
    assert seen  # the partial text was found in the file while the stream was still open


def _logged(runner: TurnRunner, reply) -> bool:
    """Wait until the file holds what the reply holds now, then stop the stalled stream."""
    if runner.recorder is None or not reply.content:
        return False
    # An end that could start a known key (one an earlier test made) waits for the next write.
    text = reply.content[: len(reply.content) - unsafe_tail(reply.content)]
    if not text:
        return False
    while (q.find(reader(), runner.recorder.id).content or "") != text:
        runner.recorder.writer.flush(30)
    runner.stop()
    return True


def test_cache_answers_an_identical_request_from_the_log_without_asking(client, emu):
    body = {"options": {"seed": 7, "temperature": 0.0}}
    first = TurnRunner(client, "llama3.2", messages=[user("Name a prime")], request=body, cache=True)
    answer = first.run().content
    asked = chats(emu)
    seen = []
    again = TurnRunner(client, "llama3.2", messages=[user("Name a prime")], request=body, cache=True)
    reply = again.run(lambda r, chunk: seen.append(chunk))
    assert chats(emu) == asked  # not one more /api/chat
    assert reply.content == answer and reply.done and reply.final["from_log"] == first.recorder.id
    assert len(seen) >= 2 and again.recorder is None  # streamed as chunks; no second row
    other = TurnRunner(client, "llama3.2", messages=[user("Name a prime")], request={"options": {"seed": 8}}, cache=True)
    other.run()
    assert chats(emu) == asked + 1  # another seed is another request
    fresh = TurnRunner(client, "llama3.2", messages=[user("Name a prime")], request=body)
    fresh.run()
    assert chats(emu) == asked + 2  # without cache the model is always asked


def test_cache_keeps_a_conversation_consistent(client, emu):
    conv = Conversation()
    TurnRunner(client, "llama3.2", conversation=conv, user=user("Hi"), cache=True).run()
    conv2 = Conversation()
    TurnRunner(client, "llama3.2", conversation=conv2, user=user("Hi"), cache=True).run()
    assert [t.status for t in conv2.turns] == ["done"]
    assert conv2.turns[0].assistant["content"] == conv.turns[0].assistant["content"]


def test_store_off_logs_nothing_and_streams_as_ever(client, emu, monkeypatch, log_file):
    monkeypatch.setenv("OLLAMA_NB_STORE", "off")
    runner = TurnRunner(client, "llama3.2", conversation=Conversation(), user=user("Hi"), cache=True)
    assert runner.run().done and runner.recorder is None
    assert not log_file.exists()


def test_calls_through_the_default_client_are_logged_whole_and_streamed(emu, monkeypatch):
    import ollama_nb
    from ollama_nb._config import forget_clients

    monkeypatch.setenv("OLLAMA_HOST", emu.url)
    forget_clients()
    whole = ollama_nb.chat("llama3.2", messages=[user("Whole, please")])
    pieces = "".join(c["message"]["content"] for c in ollama_nb.chat("llama3.2", messages=[user("Streamed")], stream=True))
    said = ollama_nb.generate("llama3.2", "Generated")
    with pytest.raises(ollama_nb.ResponseError):
        ollama_nb.chat("no-such-model", messages=[user("Nope")])
    conn = reader()
    # The stream's row ends when its reply does; the writer notices within a second.
    while q.search(conn, "Streamed")[0].status == "running":
        assert conn is not None and reader() is not None
    got = {e.prompt: (e.source, e.status, e.content) for e in q.search(conn, limit=10)}
    assert got["Whole, please"] == ("client", "done", whole.message.content)
    assert got["Streamed"] == ("client", "done", pieces)
    assert got["Generated"] == ("client", "done", said.response)
    assert got["Nope"][:2] == ("client", "failed")
    forget_clients()


def test_a_chat_widget_reopens_a_named_conversation_from_the_log(client, emu):
    """After a restart the kernel has no conversations; the widget of the same name has its turns."""
    from ollama_nb import ChatWidget

    first = ChatWidget(client=client, model="llama3.2", conversation="store-widget")
    first.ask("What is a prime?")
    first.ask("And an odd number?")
    answers = [t.assistant["content"] for t in first.conversation.turns]
    first.close()
    with Conversation._registry_lock:  # what a kernel restart leaves: no conversation in memory
        Conversation._registry.pop("store-widget")
    again = ChatWidget(client=client, model="llama3.2", conversation="store-widget")
    try:
        turns = again.conversation.turns
        assert [t.user["content"] for t in turns] == ["What is a prime?", "And an odd number?"]
        assert [t.assistant["content"] for t in turns] == answers and {t.status for t in turns} == {"done"}
        again.ask("Thanks")
        assert [m["role"] for m in chats_json(emu)[-1]["messages"]] == ["user", "assistant"] * 2 + ["user"]
        assert q.search(reader(), "Thanks")[0].source == "widget"
    finally:
        again.close()


def chats_json(emu) -> list:
    return [r.json for r in emu.requests if r.path == "/api/chat"]
