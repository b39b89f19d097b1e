"""The emulator refuses work the way a real Ollama (and ollama.com) does: a busy scheduler, usage
limits, cloud models through a local server, names, context length. Each case was read in
ollama/ollama's source (server/sched.go, server/routes.go, server/cloud_proxy.go, internal/modelref,
server/prompt.go, llm/llama_server.go at v0.33.0-rc2)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import requests

from ollama_nb.testing import Emulator
from ollama_nb.testing._cloud import SIGNIN_URL
from ollama_nb.testing._scenarios import essay_text


def post(emu: Emulator, path: str, body: Any, **kw: Any) -> requests.Response:
    return requests.post(emu.url + path, json=body, timeout=10, **kw)


def chat_body(model: str = "llama3.2", content: str = "hello", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": content}], "stream": False, **extra}


@pytest.fixture()
def emu():
    with Emulator() as emulator:
        yield emulator


# --------------------------------------------------------------------------- the scheduler


def test_queue_full_answers_503_server_busy_while_the_admitted_ones_finish():
    with Emulator(num_parallel=1, max_queue=1) as emu:
        first = requests.post(emu.url + "/api/chat", json=chat_body("slow", stream=True), stream=True, timeout=10)
        assert first.status_code == 200  # holds the only slot for 10 s of slow tokens
        waiting: list[requests.Response] = []
        queued = chat_body("slow", options={"num_predict": 3})
        thread = threading.Thread(target=lambda: waiting.append(post(emu, "/api/chat", queued)))
        thread.start()
        assert emu.wait_for_queue(1)  # the second one is parked in the queue
        refused = post(emu, "/api/chat", chat_body("slow"))
        assert refused.status_code == 503
        assert refused.json() == {"error": "server busy, please try again.  maximum pending requests exceeded"}
        assert emu.busy_refusals == 1
        first.close()  # the first student leaves -> the queued one gets the slot
        assert emu.wait_for_disconnect()
        thread.join(15)
        assert waiting and waiting[0].status_code == 200 and waiting[0].json()["eval_count"] == 3


def test_parallel_slots_serve_as_many_answers_at_once_and_every_answer_is_whole():
    with Emulator(num_parallel=2, max_queue=8, token_delay=0.002) as emu:
        # Two students hold both slots (their answers have started), then four more ask.
        holders = [requests.post(emu.url + "/api/chat", json={**chat_body("essay", f"student{i} question"),
                                                               "stream": True, "options": {"num_predict": 100_000}},
                                 stream=True, timeout=10) for i in range(2)]
        lines = [h.iter_lines() for h in holders]
        for it in lines:
            assert next(it)  # the answer is streaming: the slot is taken
        results: dict[int, str] = {}

        def student(i: int) -> None:
            r = post(emu, "/api/chat", chat_body("essay", f"student{i} question", options={"num_predict": 40}))
            results[i] = r.json()["message"]["content"]

        threads = [threading.Thread(target=student, args=(i,)) for i in range(2, 6)]
        for t in threads:
            t.start()
        assert emu.wait_for_queue(4)  # both slots busy: all four wait
        for h in holders:  # the two leave: their slots go to the first two in the queue
            h.close()
        for t in threads:
            t.join(30)
        assert {i: results.get(i) for i in range(2, 6)} == {i: essay_text(f"student{i}", 40) for i in range(2, 6)}
        assert emu.wait_for_disconnect() and emu.wait_for_disconnect()
        assert emu.busy_refusals == 0 and emu.peak_queue == 4


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("kind", "status", "text"),
    [
        ("busy", 503, "server busy, please try again.  maximum pending requests exceeded"),
        ("overloaded", 503, "Server overloaded, please retry shortly (ref: "),
        ("hourly", 429, "you've reached your hourly usage limit, please wait or upgrade to continue"),
        ("session", 429, "you (emulator) have reached your session usage limit, upgrade for higher limits: https://ollama.com/upgrade"),
        ("weekly", 429, "you (emulator) have reached your weekly usage limit, upgrade for higher limits: https://ollama.com/upgrade"),
    ],
)
def test_refusals_have_the_real_status_and_text_then_service_resumes(emu, kind, status, text):
    emu.refuse(kind, retry_after=3 if status == 503 else None)
    refused = post(emu, "/api/chat", {**chat_body(), "stream": True})
    assert refused.status_code == status
    assert refused.json()["error"].startswith(text)
    assert refused.headers.get("Retry-After") == ("3" if status == 503 else None)
    assert post(emu, "/api/chat", chat_body()).status_code == 200


# --------------------------------------------------------------------------- cloud through a local server


def test_cloud_model_signed_out_401_with_signin_url_then_signed_in_answers_then_disabled_403(emu):
    for name in ("gpt-oss:120b-cloud", "gpt-oss:120b:cloud"):
        r = post(emu, "/api/chat", chat_body(name))
        assert r.status_code == 401 and r.json() == {"error": "unauthorized", "signin_url": SIGNIN_URL}
    me = post(emu, "/api/me", {})
    assert me.status_code == 401 and me.json()["signin_url"] == SIGNIN_URL

    emu.set_cloud("signed-in")
    r = post(emu, "/api/chat", chat_body("gpt-oss:120b-cloud"))
    assert r.status_code == 200 and r.json()["model"] == "gpt-oss:120b" and r.json()["message"]["content"]
    assert "gpt-oss:120b" not in " ".join(emu.loaded_names())  # cloud models never show in /api/ps
    shown = post(emu, "/api/show", {"model": "gpt-oss:120b-cloud"}).json()
    assert shown["model_info"]["gptoss.context_length"] == 131072
    assert post(emu, "/api/me", {}).json()["name"] == "emulator"

    emu.set_cloud("disabled")
    r = post(emu, "/api/generate", {"model": "gpt-oss:120b-cloud", "prompt": "hi"})
    assert r.status_code == 403 and r.json() == {"error": "ollama cloud is disabled: remote model is unavailable"}
    assert requests.get(emu.url + "/api/status", timeout=5).json()["cloud"]["disabled"] is True


def test_both_suffixes_and_bad_names_are_400(emu):
    r = post(emu, "/api/chat", chat_body("x:cloud:local"))
    assert r.status_code == 400 and r.json() == {"error": 'use either :local or :cloud, not both: "x:cloud:local"'}
    for route, body in (("/api/chat", chat_body("bad name!")), ("/api/generate", {"model": "bad name!", "prompt": "x"})):
        r = post(emu, route, body)
        assert r.status_code == 400 and r.json() == {"error": "invalid model name"}
    assert post(emu, "/api/chat", chat_body("llama3.2:local")).status_code == 200


def test_usage_in_cloud_mode_only():
    with Emulator(key="k") as cloud:
        r = requests.get(cloud.url + "/api/usage", headers={"Authorization": "Bearer k"}, timeout=5)
        assert set(r.json()) == {"range", "scope", "granularity", "from", "until", "totals", "buckets"}
        assert requests.get(cloud.url + "/api/usage", timeout=5).status_code == 401
        assert requests.get(cloud.url + "/api/balance", timeout=5).status_code == 401
        answer = requests.post(cloud.url + "/api/chat", json=chat_body("gpt-oss:120b"), timeout=10,
                               headers={"Authorization": "Bearer k"})
        assert answer.status_code == 200 and answer.json()["model"] == "gpt-oss:120b"
    with Emulator() as local:
        assert requests.get(local.url + "/api/usage", timeout=5).text == "404 page not found"
        assert requests.get(local.url + "/api/balance", timeout=5).text == "404 page not found"


# --------------------------------------------------------------------------- model management details


def test_delete_without_a_model_is_400_model_is_required(emu):
    r = requests.delete(emu.url + "/api/delete", json={}, timeout=5)
    assert r.status_code == 400 and r.json() == {"error": "model is required"}


def test_show_always_has_tensors_verbose_fills_arrays_and_parameters_exclude_request_options(emu):
    plain = post(emu, "/api/show", {"model": "llama3.2", "options": {"num_ctx": 9999}}).json()
    assert plain["tensors"] and {"name", "type", "shape"} <= set(plain["tensors"][0])
    assert plain["model_info"]["tokenizer.ggml.tokens"] == []
    assert "num_ctx" not in plain["parameters"]
    assert "PARAMETER num_ctx 9999" in plain["modelfile"]
    verbose = post(emu, "/api/show", {"model": "llama3.2", "verbose": True}).json()
    assert len(verbose["model_info"]["tokenizer.ggml.tokens"]) > 5


def test_tags_details_carry_context_and_embedding_length(emu):
    tags = {m["name"]: m for m in requests.get(emu.url + "/api/tags", timeout=5).json()["models"]}
    assert tags["llama3.2:latest"]["details"]["context_length"] == 131072
    assert tags["nomic-embed-text:latest"]["details"]["embedding_length"] == 768


def test_version_is_a_current_release(emu):
    major, minor, _ = (int(p) for p in requests.get(emu.url + "/api/version", timeout=5).json()["version"].split("."))
    assert (major, minor) >= (0, 32)


# --------------------------------------------------------------------------- generation details


def test_gpt_oss_thinks_even_with_think_false(emu):
    message = post(emu, "/api/chat", chat_body("gpt-oss:20b", think=False)).json()["message"]
    assert message["thinking"] and message["content"]
    assert "thinking" not in post(emu, "/api/chat", chat_body("qwen3", think=False)).json()["message"]


def long_history(turns: int, words: int = 60) -> list[dict[str, str]]:
    messages = []
    for i in range(turns):
        messages.append({"role": "user", "content": f"question {i}: " + "word " * words})
        messages.append({"role": "assistant", "content": "answer " * words})
    return messages


def test_chat_drops_the_oldest_turns_to_fit_num_ctx(emu):
    messages = [{"role": "system", "content": "You are a pirate."}, *long_history(20),
                {"role": "user", "content": "what did I ask earlier"}]
    whole = post(emu, "/api/chat", {"model": "llama3.2", "messages": messages, "stream": False,
                                    "options": {"num_ctx": 100_000}}).json()
    cut = post(emu, "/api/chat", {"model": "llama3.2", "messages": messages, "stream": False,
                                  "options": {"num_ctx": 1024}}).json()
    assert whole["prompt_eval_count"] > 1024 >= cut["prompt_eval_count"]
    # The model no longer sees the first question, so it cannot quote it; it still sees the system prompt.
    assert cut["message"]["content"].startswith("Arr, matey")  # the pirate system prompt is still followed
    assert whole["prompt_eval_count"] > cut["prompt_eval_count"] > 0


def test_a_prompt_longer_than_the_context_without_shift_is_400(emu):
    body = {"model": "llama3.2", "prompt": "word " * 500, "stream": False, "options": {"num_ctx": 256}}
    r = post(emu, "/api/generate", {**body, "shift": False})
    assert r.status_code == 400 and r.json()["error"].startswith("the prompt is longer than the context length")
    shifted = post(emu, "/api/generate", body).json()
    assert shifted["done"] and shifted["prompt_eval_count"] <= 255


def test_keep_alive_zero_unloads_after_the_answer(emu):
    post(emu, "/api/chat", chat_body())
    assert "llama3.2:latest" in emu.loaded_names()
    post(emu, "/api/chat", chat_body(keep_alive=0))
    assert "llama3.2:latest" not in emu.loaded_names()


def test_retry_after_and_signin_url_reach_the_official_client(emu):
    import ollama

    client = ollama.Client(host=emu.url)
    with pytest.raises(ollama.ResponseError) as info:
        client.chat("gpt-oss:120b-cloud", messages=[{"role": "user", "content": "hi"}])
    assert info.value.status_code == 401
    emu.refuse("busy")
    with pytest.raises(ollama.ResponseError) as info:
        client.chat("llama3.2", messages=[{"role": "user", "content": "hi"}])
    assert info.value.status_code == 503 and "server busy" in info.value.error


def test_signout_signs_the_server_out_and_a_second_one_is_401(emu):
    assert post(emu, "/api/signout", {}).status_code == 401
    emu.set_cloud("signed-in")
    r = post(emu, "/api/signout", {})
    assert r.status_code == 200 and r.text == "null"
    again = post(emu, "/api/signout", {})
    assert again.status_code == 401 and again.json() == {"error": "you are not currently signed in"}
    assert post(emu, "/api/chat", chat_body("gpt-oss:120b-cloud")).status_code == 401
