"""ollama_nb.map against the emulator: order, inputs, outputs, failures, hosts, resume, progress."""

from __future__ import annotations

import json
import pathlib
import sqlite3
import threading
import uuid
from array import array

import pytest

import ollama_nb
import ollama_nb.log
from ollama_nb import Client
from ollama_nb._errors import InvalidRequest, ServerUnreachable, UsageLimit
from ollama_nb._render.progress import Board
from ollama_nb.testing import Emulator


def prompts(n: int, tag: str = "") -> list[str]:
    """``n`` distinct questions no earlier test asked (the process keeps answers by request)."""
    tag = tag or uuid.uuid4().hex[:8]
    return [f"question {i} of {tag}: what is 2+2?" for i in range(n)]


def chats(emu: Emulator) -> list[dict]:
    return [r.json for r in emu.requests if r.path == "/api/chat"]


def asked(emu: Emulator) -> list[str]:
    return [body["messages"][-1]["content"] for body in chats(emu)]


def test_answers_come_back_in_input_order_and_the_server_is_kept_at_its_level():
    with Emulator(num_parallel=4, scenarios=True) as emu, Client(emu.url) as client:
        items = [f"tag{i} question" for i in range(40)]
        results = client.map(items, model="essay", options={"num_predict": 5}, concurrency=4, progress=False)
        assert [r.split()[0] for r in results] == [f"tag{i}-0" for i in range(40)]
        assert results.errors == [] and results.stats["done"] == 40 and results.stats["tokens"] == 200
        assert emu.peak_queue == 0  # four at a time against four slots: nothing ever queued
        assert len(chats(emu)) == 40


def test_templates_functions_dicts_and_message_lists_make_requests(emu, client):
    tag = uuid.uuid4().hex[:6]
    rows = [{"name": f"ada{tag}", "topic": "maths"}, {"name": f"alan{tag}", "topic": "{json: 1}"}]
    template = "Tell {name} about {topic}; keep {{name}} and {missing}"
    client.map(template, rows, model="llama3.2", progress=False, concurrency=1)
    client.map("Say {item}", [f"hi{tag}"], model="llama3.2", progress=False, system="be brief")
    client.map(lambda n: f"count to {n} {tag}", [3], model="llama3.2", progress=False)
    client.map([{"prompt": f"dict prompt {tag}", "options": {"seed": 7}}], model="llama3.2", progress=False)
    client.map([[{"role": "user", "content": f"a message list {tag}"}]], model="llama3.2", progress=False)
    bodies = chats(emu)
    assert [b["messages"][-1]["content"] for b in bodies] == [
        f"Tell ada{tag} about maths; keep {{{{name}}}} and {{missing}}",
        f"Tell alan{tag} about {{json: 1}}; keep {{{{name}}}} and {{missing}}",
        f"Say hi{tag}",
        f"count to 3 {tag}",
        f"dict prompt {tag}",
        f"a message list {tag}",
    ]
    assert bodies[2]["messages"][0] == {"role": "system", "content": "be brief"}
    assert bodies[4]["options"] == {"seed": 7}


def test_an_item_that_makes_no_request_fails_its_row_with_what_to_do(emu, client):
    tag = uuid.uuid4().hex[:6]
    results = client.map([f"fine {tag}", 42, {"text": "no prompt"}], model="llama3.2", progress=False)
    assert results[0] and results[1] is None and results[2] is None
    assert [e.row for e in results.errors] == [1, 2]
    first = str(results.errors[0])
    assert "cannot make a prompt from a value of type int" in first and "template" in first
    assert "needs 'prompt' or 'messages'" in str(results.errors[1].error)
    with pytest.raises(InvalidRequest, match="template"):
        client.map([f"fine {tag}", 42], model="llama3.2", progress=False, errors="raise")
    with pytest.raises(InvalidRequest, match="model"):
        client.map(["x"], model="", progress=False)


def test_a_dataframe_gives_a_series_on_its_index(emu, client):
    import pandas as pd

    tag = uuid.uuid4().hex[:6]
    df = pd.DataFrame({"text": [f"is 91 prime? {tag}", f"what is 2+2? {tag}"]}, index=["r7", "r3"])
    labels = client.map("{text}", df, model="llama3.2", progress=False)
    assert isinstance(labels, pd.Series) and list(labels.index) == ["r7", "r3"]
    assert "91" in labels["r7"] and "4" in labels["r3"]
    assert labels.attrs["errors"] == [] and labels.attrs["stats"]["done"] == 2
    series = client.map(df["text"], model="llama3.2", progress=False)
    assert list(series.index) == ["r7", "r3"] and list(series) == list(labels)


def test_a_polars_frame_fills_the_template_from_its_columns(emu, client):
    import polars as pl

    tag = uuid.uuid4().hex[:6]
    df = pl.DataFrame({"text": [f"a {tag}", f"b {tag}"]})
    results = client.map("Say {text}", df, model="llama3.2", progress=False, concurrency=1)
    assert asked(emu) == [f"Say a {tag}", f"Say b {tag}"] and len(results) == 2


def test_schema_rows_are_parsed(emu, client):
    import pydantic

    class Colour(pydantic.BaseModel):
        name: str
        hex: str

    tag = uuid.uuid4().hex[:6]
    rows = client.map([f"a colour {tag}", f"another colour {tag}"], model="llama3.2", format=Colour, progress=False)
    assert all(isinstance(r, Colour) for r in rows)
    assert chats(emu)[0]["format"] == Colour.model_json_schema()
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    plain = client.map([f"a number {tag}"], model="llama3.2", format=schema, progress=False)
    assert isinstance(plain[0], dict) and isinstance(plain[0]["n"], int)


def test_an_answer_that_does_not_parse_keeps_its_text(emu, client):
    results = client.map([f"hi {uuid.uuid4().hex}"], model="bulk", format="json", options={"num_predict": 3},
                         progress=False)  # fmt: skip
    assert results[0] is None
    (error,) = results.errors
    assert isinstance(error.error, json.JSONDecodeError) and error.partial  # the text that did not parse


def test_embeddings_go_in_batches(emu, client):
    texts = [f"text {i} {uuid.uuid4().hex[:4]}" for i in range(130)]
    vectors = client.map(texts, model="nomic-embed-text", embed=True, progress=False)
    batches = [r.json["input"] for r in emu.requests if r.path == "/api/embed"]
    assert sorted(len(b) for b in batches) == [2, 64, 64] and sorted(t for b in batches for t in b) == sorted(texts)
    assert len(vectors) == 130 and len(vectors[0]) == 768
    asked_alone = client.embed("nomic-embed-text", texts[5])["embeddings"][0]
    assert vectors[5] == array("f", asked_alone).tolist()  # the server's float32 values, as the log keeps them
    assert vectors[5] == pytest.approx(asked_alone, rel=1e-6)


def test_embedding_rows_are_logged_compactly_and_a_rerun_asks_only_the_rest(emu, client):
    texts = [f"text {i} {uuid.uuid4().hex[:6]}" for i in range(12)]
    first = client.map(texts[:8], model="nomic-embed-text", embed=True, progress=False)
    again = client.map(texts, model="nomic-embed-text", embed=True, progress=False)
    assert again.stats["cached"] == 8 and list(again[:8]) == list(first)  # the same numbers, from the log
    embedded = [t for r in emu.requests if r.path == "/api/embed" for t in r.json["input"]]
    assert sorted(embedded) == sorted(texts)  # 0-7 once, then only 8-11
    assert client.map(texts, model="nomic-embed-text", embed=True, progress=False, cache=False).stats["cached"] == 0
    assert len([t for r in emu.requests if r.path == "/api/embed" for t in r.json["input"]]) == 24
    other = client.map(texts[:2], model="nomic-embed-text", embed=True, options={"num_ctx": 512}, progress=False)
    assert other.stats["cached"] == 0  # other options, another vector
    conn = sqlite3.connect(ollama_nb.log.path())
    rows = conn.execute("SELECT dims, length(vector), model FROM embeddings WHERE host = ?", (client.host,)).fetchall()
    assert rows and all(r == (768, 768 * 4, "nomic-embed-text") for r in rows)  # 4 bytes a float
    files = [pathlib.Path(f"{ollama_nb.log.path()}{end}") for end in ("", "-wal")]
    raw = b"".join(f.read_bytes() for f in files if f.exists())
    assert texts[0].encode() not in raw  # a text is kept only as part of its key's hash


NAN, INF = array("f", [float("nan")]).tobytes(), array("f", [float("inf")]).tobytes()

#: Logged rows damaged as an edited or cut file leaves them, as (dims, vector) from the row's
#: (dims, vector): each is asked again (never returned, no warning) and the fresh vector replaces it.
DAMAGED_ROWS = {
    "text, not bytes": lambda d, v: (d, "not a vector"),
    "a number": lambda d, v: (d, 1.5),
    "empty": lambda d, v: (d, b""),
    "a cut write": lambda d, v: (d, v[:100]),
    "a byte short": lambda d, v: (d, v[:-1]),
    "more floats than its dims": lambda d, v: (d - 1, v),
    "no dims": lambda d, v: (0, b""),
    "dims as text": lambda d, v: ("many", v),
    "NaN": lambda d, v: (d, NAN + v[4:]),
    "infinity": lambda d, v: (d, v[:8] + INF + v[12:]),
}


@pytest.mark.parametrize("damage", DAMAGED_ROWS.values(), ids=DAMAGED_ROWS.keys())
def test_a_damaged_logged_vector_is_asked_again_and_replaced(emu, client, damage, recwarn):
    texts = [f"damaged {uuid.uuid4().hex[:8]}" for _ in range(3)]
    first = client.map(texts, model="nomic-embed-text", embed=True, progress=False)
    conn = sqlite3.connect(ollama_nb.log.path())
    rows = conn.execute("SELECT request_key, dims, vector FROM embeddings ORDER BY created DESC LIMIT 3").fetchall()
    key, dims, vector = rows[0]
    with conn:
        conn.execute("UPDATE embeddings SET dims = ?, vector = ? WHERE request_key = ?", (*damage(dims, vector), key))
    sent = len([t for r in emu.requests if r.path == "/api/embed" for t in r.json["input"]])
    again = client.map(texts, model="nomic-embed-text", embed=True, progress=False)
    assert again.stats["cached"] == 2 and list(again) == list(first)  # the damaged row came from the model
    assert len([t for r in emu.requests if r.path == "/api/embed" for t in r.json["input"]]) == sent + 1
    third = client.map(texts, model="nomic-embed-text", embed=True, progress=False)
    assert third.stats["cached"] == 3 and list(third) == list(first)  # the fresh vector replaced it
    assert not [w for w in recwarn if "could not use the log" in str(w.message)]  # damage is no failure of the log


def test_a_503_storm_loses_no_row():
    with Emulator(num_parallel=2, max_queue=1, scenarios=True) as emu, Client(emu.url, retries=1) as client:
        emu.refuse("busy", times=6, retry_after=0)
        items = prompts(12)
        results = client.map(items, model="llama3.2", concurrency=4, progress=False)
        assert results.errors == [] and all(results)
        assert sorted(set(asked(emu))) == sorted(items)  # every row answered, some after a 503


def test_a_usage_limit_stops_the_run_and_names_the_limit(emu):
    with Client(emu.url, retries=0) as client:
        emu.refuse("weekly", times=50)
        results = client.map(prompts(30), model="llama3.2", concurrency=2, progress=False)
    assert results.stats["stopped"] and "weekly usage limit" in results.stats["stopped"]
    assert len(results.errors) == 30 and all(isinstance(e.error, UsageLimit) for e in results.errors)
    assert len(chats(emu)) <= 2  # the rows after the first refusals were never sent


def test_a_host_killed_mid_run_has_its_rows_finished_elsewhere():
    with Emulator(num_parallel=2, scenarios=True) as a, Emulator(num_parallel=2, scenarios=True) as b:
        items = prompts(30)
        seen_by_a: list[str] = []

        def kill_a() -> None:
            a.wait_for_request("/api/chat", 4, timeout=60)
            seen_by_a.extend(asked(a))
            a.stop()

        killed = threading.Thread(target=kill_a)
        killed.start()
        with Client(a.url) as client:
            url_a = a.url
            results = client.map(items, model="slow", options={"num_predict": 3}, hosts=[url_a, b.url],
                                 concurrency=2, progress=False)  # fmt: skip
        killed.join()
        assert results.errors == [] and all(r for r in results)
        assert asked(b) and set(items) - set(asked(b)) <= set(seen_by_a)  # what b did not answer, a did


def test_every_host_down_fails_the_rows_with_the_hosts_error():
    with Emulator() as emu:
        url = emu.url
    with Client(url, retries=0) as client:
        results = client.map(prompts(3), model="llama3.2", progress=False)
    assert [e.row for e in results.errors] == [0, 1, 2]
    assert all(isinstance(e.error, ServerUnreachable) for e in results.errors)


def test_a_rerun_sends_only_the_missing_rows_and_cache_false_sends_all(emu, client):
    items = prompts(10)
    first = client.map(items[:6], model="llama3.2", progress=False)
    again = client.map(items, model="llama3.2", progress=False)
    assert list(again[:6]) == list(first) and again.stats["cached"] == 6
    assert sorted(asked(emu)) == sorted(items)  # rows 0-5 once, then only 6-9
    client.map(items, model="llama3.2", progress=False, cache=False)
    assert sorted(asked(emu)) == sorted(items + items)
    fresh = prompts(3)
    client.map(fresh, model="llama3.2", progress=False, cache=False)  # sent, and still logged
    assert client.map(fresh, model="llama3.2", progress=False).stats["cached"] == 3


def test_auto_concurrency_settles_at_the_servers_slots_without_503s():
    with Emulator(num_parallel=3, max_queue=2, scenarios=True) as emu, Client(emu.url) as client:
        results = client.map(prompts(120), model="essay", options={"num_predict": 20}, progress=False)
        assert results.errors == [] and emu.busy_refusals == 0


def test_progress_frames_are_paced_and_the_last_is_exact(emu, client):
    frames: list[tuple[Board, bool]] = []
    results = client.map(prompts(300), model="llama3.2", progress=lambda b, final: frames.append((b, final)))
    assert frames[-1][1] and sum(final for _, final in frames) == 1
    last = frames[-1][0]
    assert (last.done, last.failed, last.total, last.state) == (300, 0, 300, "done")
    assert 2 <= len(frames) < 300  # paced: far fewer frames than rows
    assert frames[0][0].done == 0 and frames[0][0].running > 0 and len(results) == 300


def test_module_level_map_uses_the_default_client(emu, monkeypatch):
    monkeypatch.setenv("OLLAMA_HOST", emu.url)
    tag = uuid.uuid4().hex[:6]
    assert "map" not in ollama_nb.__all__
    assert ollama_nb.map([f"what is 2+2? {tag}"], model="llama3.2", progress=False) == ["2 + 2 = 4."]


def test_a_429_pauses_the_host_and_the_rows_go_on(emu):
    with Client(emu.url, retries=0) as client:
        emu.refuse("ratelimit", times=3, retry_after=0)
        items = prompts(8)
        results = client.map(items, model="llama3.2", concurrency=2, progress=False)
    assert results.errors == [] and all(results)
    assert sorted(set(asked(emu))) == sorted(items)


def test_an_items_own_braces_are_never_filled_again(emu, client):
    tag = uuid.uuid4().hex[:6]
    rows = [{"text": f"{{item}} {{text}} {{{{text}}}} {{__class__}} {tag}"}, {"text": f"plain {tag}"}]
    client.map("Say {text}", rows, model="llama3.2", progress=False, concurrency=1)
    assert asked(emu) == [f"Say {{item}} {{text}} {{{{text}}}} {{__class__}} {tag}", f"Say plain {tag}"]


def test_the_config_files_hosts_take_the_rows_of_the_shared_client(emu, tmp_path, monkeypatch):
    from ollama_nb._render.progress import plain_line, progress_bundle

    with Emulator(scenarios=True) as other:
        config = tmp_path / "ollama_nb.toml"
        config.write_text(f'hosts = ["{emu.url}", "{other.url}"]\n[headers]\nX-Class = "ml101"\n')
        monkeypatch.setenv("OLLAMA_NB_CONFIG", str(config))
        monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "none"))  # no other config file joins in
        monkeypatch.setenv("OLLAMA_HOST", emu.url)
        frames: list[Board] = []
        items = prompts(40)
        results = ollama_nb.map(items, model="llama3.2", concurrency=2, progress=lambda b, final: frames.append(b))
        assert results.errors == [] and len(results) == 40
        assert chats(emu) and chats(other) and len(chats(emu)) + len(chats(other)) == 40  # both took rows
        assert all(r.headers.get("x-class") == "ml101" for r in other.requests)  # the shared settings too
        said = f"on {emu.url}, {other.url} (config file {config})"
        assert said in plain_line(frames[-1]) and said in progress_bundle(frames[-1])["text/html"]
        with Client(emu.url) as mine:  # a Client made by hand means its own server, and says nothing
            before = len(chats(other))
            mine.map(prompts(5), model="llama3.2", progress=lambda b, final: frames.append(b))
            assert len(chats(other)) == before and "config file" not in plain_line(frames[-1])
        explicit = ollama_nb.map(prompts(3), model="llama3.2", hosts=[other.url], progress=lambda b, f: frames.append(b))
        assert explicit.errors == [] and "config file" not in plain_line(frames[-1])  # hosts= wins


def test_a_bad_host_in_the_config_file_names_the_file(emu, tmp_path, monkeypatch):
    config = tmp_path / "ollama_nb.toml"
    config.write_text(f'hosts = ["{emu.url}", "http://[not a host"]\n')
    monkeypatch.setenv("OLLAMA_NB_CONFIG", str(config))
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "none"))  # no other config file joins in
    monkeypatch.setenv("OLLAMA_HOST", emu.url)
    with pytest.raises(InvalidRequest, match=f"config file {config}: hosts: ") as info:
        ollama_nb.map(prompts(2), model="llama3.2", progress=False)
    assert "Fix that entry of hosts in the file." in info.value.hint
    assert chats(emu) == []
