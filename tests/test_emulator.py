"""The Ollama emulator, through a real socket: what a client sees on the wire.

Each test reads like a user story: start the emulator, do what a client does with ``requests`` or
``http.client``, assert the bytes/objects a real Ollama would have sent (ollama-api.md).
"""

from __future__ import annotations

import base64
import http.client
import json
import math
import re
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path
from typing import Any

import pytest
import requests

from ollama_nb.testing import Emulator
from ollama_nb.testing._cloud import SIGNIN_URL

ROOT = Path(__file__).resolve().parents[1]
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")
METRICS = ("total_duration", "load_duration", "prompt_eval_count", "prompt_eval_duration", "eval_count", "eval_duration")


@pytest.fixture(scope="module")
def emu():
    with Emulator() as emulator:
        yield emulator


def lines(response: requests.Response) -> list[dict[str, Any]]:
    data = b"".join(response.iter_content(chunk_size=None))
    return [json.loads(line) for line in data.split(b"\n") if line]


def chat(emu: Emulator, model: str = "llama3.2", content: str = "Why is the sky blue?", **extra: Any) -> requests.Response:
    body = {"model": model, "messages": [{"role": "user", "content": content}], **extra}
    return requests.post(emu.url + "/api/chat", json=body, stream=body.get("stream", True) is not False, timeout=10)


def text_of(chunks: list[dict[str, Any]]) -> str:
    return "".join(c["message"]["content"] for c in chunks if "message" in c)


# --------------------------------------------------------------------------- chat / generate shapes


def test_streaming_chat_chunks_and_final_metrics(emu):
    response = chat(emu, options={"seed": 1})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/x-ndjson"
    assert response.headers["Transfer-Encoding"] == "chunked"
    chunks = lines(response)
    *middle, final = chunks
    assert len(middle) >= 30
    for chunk in middle:
        assert list(chunk) == ["model", "created_at", "message", "done"]
        assert chunk["model"] == "llama3.2" and chunk["done"] is False
        assert chunk["message"]["role"] == "assistant"
        assert RFC3339.match(chunk["created_at"])
    assert all(c["message"]["content"].startswith((" ", "\n")) for c in middle[1:])
    assert final["done"] is True and final["done_reason"] == "stop"
    assert final["message"] == {"role": "assistant", "content": ""}
    for key in METRICS:
        assert isinstance(final[key], int) and final[key] > 0, key
    assert "context" not in final
    assert final["eval_count"] == len(middle)
    # Real wall time: the tokens were paced, so the rate is finite and plausible.
    assert 10 < final["eval_count"] / final["eval_duration"] * 1e9 < 100_000
    assert "Rayleigh scattering" in text_of(chunks)  # an on-topic answer, not filler


def test_generate_stream_and_nonstream_agree(emu):
    body = {"model": "llama3.2", "prompt": "Explain tides", "options": {"seed": 7}}
    streamed = lines(requests.post(emu.url + "/api/generate", json=body, stream=True))
    whole = requests.post(emu.url + "/api/generate", json={**body, "stream": False}).json()
    assert whole["response"] == "".join(c["response"] for c in streamed)
    assert whole["done"] is True and whole["done_reason"] == "stop"
    assert isinstance(whole["context"], list) and whole["context"]
    assert set(METRICS) <= set(whole)
    assert "thinking" not in whole


def test_seed_and_temperature_zero_are_deterministic(emu):
    def answer(**options: Any) -> str:
        return chat(emu, stream=False, options=options).json()["message"]["content"]

    assert answer(seed=3) == answer(seed=3)
    assert answer(temperature=0) == answer(temperature=0)


def test_system_prompt_and_history_are_visible(emu):
    messages = [
        {"role": "system", "content": "Answer like a pirate."},
        {"role": "user", "content": "What is the capital of France?"},
        {"role": "assistant", "content": "Paris."},
        {"role": "user", "content": "What did I ask you earlier?"},
    ]
    reply = requests.post(emu.url + "/api/chat", json={"model": "llama3.2", "messages": messages, "stream": False}).json()
    content = reply["message"]["content"]
    assert content.startswith("Arr, matey") and "pirate" not in content  # followed, not announced
    assert '"What is the capital of France?"' in content


def test_num_predict_and_stop(emu):
    cut = chat(emu, stream=False, options={"num_predict": 5}).json()
    assert cut["done_reason"] == "length" and cut["eval_count"] == 5
    full = chat(emu, stream=False, options={"seed": 2}).json()["message"]["content"]
    stopped = chat(emu, stream=False, options={"seed": 2, "stop": [" Sunlight"]}).json()
    assert stopped["done_reason"] == "stop"
    assert stopped["message"]["content"] == full.split(" Sunlight")[0] == "The sky looks blue because of Rayleigh scattering."


def test_thinking_model_streams_thinking_then_content(emu):
    chunks = lines(chat(emu, model="qwen3"))
    thinking = [c for c in chunks if c["message"].get("thinking")]
    reasoning = "".join(c["message"]["thinking"] for c in thinking)
    assert len(thinking) > 20 and "Rayleigh" in reasoning and reasoning.endswith(".")  # whole sentences
    assert chunks.index(thinking[-1]) < next(i for i, c in enumerate(chunks) if c["message"]["content"])
    none = lines(chat(emu, model="qwen3", think=False))
    assert not any("thinking" in c["message"] for c in none)
    high = chat(emu, model="gpt-oss:20b", think="high", stream=False).json()
    low = chat(emu, model="gpt-oss:20b", think="low", stream=False).json()
    assert len(high["message"]["thinking"]) > len(low["message"]["thinking"])
    assert high["message"]["thinking"].endswith(".") and low["message"]["thinking"].endswith(".")


def test_tool_call_then_tool_result(emu):
    tools = [
        {"type": "function", "function": {"name": "add", "description": "Add two numbers",
                                          "parameters": {"type": "object", "required": ["a", "b"],
                                                         "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}}}},
        {"type": "function", "function": {"name": "get_weather", "description": "Current weather for a city",
                                          "parameters": {"type": "object", "required": ["city"],
                                                         "properties": {"city": {"type": "string"},
                                                                        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}}}},
    ]
    chunks = lines(chat(emu, content="What is the weather in Tokyo today?", tools=tools))
    calls = [c for c in chunks if c["message"].get("tool_calls")]
    assert len(calls) == 1 and calls[0]["done"] is False and calls[0]["message"]["content"] == ""
    call = calls[0]["message"]["tool_calls"][0]
    assert re.fullmatch(r"call_[a-z0-9]{8}", call["id"])
    assert call["function"] == {"index": 0, "name": "get_weather", "arguments": {"city": "Tokyo", "unit": "celsius"}}
    add = chat(emu, content="Please add 2 and 40", tools=tools, stream=False).json()
    assert add["message"]["tool_calls"][0]["function"]["arguments"] == {"a": 2, "b": 40}

    messages = [{"role": "user", "content": "weather in Tokyo?"},
                {"role": "assistant", "content": "", "tool_calls": [call]},
                {"role": "tool", "tool_name": "get_weather", "content": "18 degrees and sunny"}]
    final = requests.post(emu.url + "/api/chat", json={"model": "llama3.2", "messages": messages, "tools": tools,
                                                      "stream": False}).json()
    assert "18 degrees and sunny" in final["message"]["content"]


def test_structured_output_validates_nested_pydantic_schema(emu):
    from enum import Enum

    import pydantic

    class Colour(str, Enum):
        red = "red"
        blue = "blue"

    class Owner(pydantic.BaseModel):
        name: str
        email: str | None = None

    class Pet(pydantic.BaseModel):
        name: str
        age: int
        weight: float
        colour: Colour
        vaccinated: bool
        toys: list[str]
        owner: Owner
        friends: list[Owner] = []

    schema = Pet.model_json_schema()
    assert "$defs" in schema
    reply = chat(emu, content='A cat called "Tom" aged 3 weighing 4.5 kg', format=schema, stream=False).json()
    pet = Pet.model_validate_json(reply["message"]["content"])
    assert pet.name == "Tom" and pet.age == 3 and pet.weight == 4.5
    as_json = chat(emu, format="json", stream=False).json()["message"]["content"]
    assert isinstance(json.loads(as_json), dict)
    bad = chat(emu, format="yaml")
    assert bad.status_code == 500
    assert bad.json()["error"].startswith("invalid format: ")
    assert bad.json()["error"].endswith('; expected "json" or a valid JSON Schema object')


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\x00" * width * 3 for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_vision_model_describes_images_and_rejects_bad_base64(emu):
    png = _png(7, 5)
    messages = [{"role": "user", "content": "What is this?", "images": [base64.b64encode(png).decode()]}]
    reply = requests.post(emu.url + "/api/chat", json={"model": "llava", "messages": messages, "stream": False}).json()
    assert reply["message"]["content"].startswith("I see a plain black picture.")
    assert "7 × 5 pixels" in reply["message"]["content"]
    bad = requests.post(emu.url + "/api/generate", json={"model": "llava", "prompt": "x", "images": ["data:image/png;base64,AAAA"]})
    assert bad.status_code == 400 and bad.json() == {"error": "illegal base64 data at input byte 4"}


# --------------------------------------------------------------------------- scenario endings


def test_stall_is_recorded_as_disconnect_when_client_leaves(emu):
    response = chat(emu, model="stall")
    received = b""
    for piece in response.iter_content(chunk_size=None):
        received += piece
        if received.count(b"\n") >= 5:
            break
    response.close()
    assert emu.wait_for_disconnect(timeout=5)
    assert ("/api/chat", "stall") in emu.disconnects


def test_dropped_connection_is_a_chunked_encoding_error(emu):
    response = chat(emu, model="dropped")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        for _ in response.iter_content(chunk_size=None):
            pass


def test_error_midstream_is_one_error_line_without_done(emu):
    response = chat(emu, model="error-midstream")
    assert response.status_code == 200
    chunks = lines(response)
    assert len(chunks) == 6
    assert chunks[-1] == {"error": "llama runner process has terminated: signal: killed"}
    assert not any(c.get("done") for c in chunks)
    whole = chat(emu, model="error-midstream", stream=False)
    assert whole.status_code == 500 and "signal: killed" in whole.json()["error"]


def test_malformed_line_ends_the_stream(emu):
    raw = b"".join(chat(emu, model="malformed").iter_content(chunk_size=None)).split(b"\n")
    raw = [line for line in raw if line]
    assert len(raw) == 6
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw[-1])


def test_bulk_model_produces_exactly_n_chunks(emu):
    """How fast is for benchmarks/stream.py; here: exactly how many, and their shape."""
    response = requests.post(emu.url + "/api/generate", json={"model": "bulk", "prompt": "go", "options": {"num_predict": 20000}}, stream=True)
    chunks = lines(response)
    assert len(chunks) == 20001
    assert list(chunks[0]) == ["model", "created_at", "response", "done"]
    assert chunks[-1]["done"] is True and chunks[-1]["eval_count"] == 20000 and chunks[-1]["done_reason"] == "stop"


def test_markdown_and_hostile_models(emu):
    md = chat(emu, model="markdown", stream=False).json()["message"]["content"]
    assert "| Symbol |" in md and "```python" in md and "$e^{i\\pi}+1=0$" in md and "$$\\int_0^1" in md
    response = chat(emu, model="hostile", stream=False)
    assert b"\\u003cscript\\u003e" in response.content  # Go escapes HTML in JSON
    text = response.json()["message"]["content"]
    assert "<script>window.__x=1</script>" in text and text.count("Readable text survives") == 2


# --------------------------------------------------------------------------- errors and routes


def test_unknown_path_and_wrong_method_are_plain_text(emu):
    for path in ("/api/list", "/api/info", "/api/running"):
        response = requests.get(emu.url + path)
        assert response.status_code == 404 and response.text == "404 page not found"
        assert response.headers["Content-Type"] == "text/plain"
    wrong = requests.get(emu.url + "/api/chat")
    assert wrong.status_code == 405 and wrong.text == "405 method not allowed"
    assert requests.get(emu.url + "/").text == "Ollama is running"
    assert requests.head(emu.url + "/api/version").status_code == 200


@pytest.mark.parametrize(
    ("path", "body", "status", "error"),
    [
        ("/api/chat", {"model": "nope", "messages": []}, 404, "model 'nope' not found"),
        ("/api/generate", {"model": "nope", "prompt": "x"}, 404, "model 'nope' not found"),
        ("/api/show", {"model": "nope"}, 404, "model 'nope:latest' not found"),  # real: DisplayShortest
        ("/api/embed", {"model": "nope", "input": "x"}, 404, 'model "nope" not found, try pulling it first'),
        ("/api/embeddings", {"model": "nope", "prompt": "x"}, 404, 'model "nope" not found, try pulling it first'),
        ("/api/chat", {"model": "", "messages": []}, 400, "model is required"),
        ("/api/generate", {"model": "", "prompt": "x"}, 404, "model '' not found"),
        ("/api/chat", {"model": "llama3.2", "think": True, "messages": []}, 400, '"llama3.2" does not support thinking'),
        ("/api/chat", {"model": "qwen3", "think": "very", "messages": []}, 400,
         'invalid think value: "very" (must be "high", "medium", "low", "max", true, or false)'),
        ("/api/chat", {"model": "llava", "tools": [{"type": "function", "function": {"name": "f"}}],
                       "messages": [{"role": "user", "content": "x"}]}, 400,
         "registry.ollama.ai/library/llava:latest does not support tools"),
        ("/api/chat", {"model": "nomic-embed-text", "messages": []}, 400, '"nomic-embed-text" does not support chat'),
        ("/api/generate", {"model": "nomic-embed-text", "prompt": "x"}, 400, '"nomic-embed-text" does not support generate'),
        ("/api/copy", {"source": "nope", "destination": "x"}, 404, 'model "nope" not found'),
        ("/api/generate", {"model": "llama3.2", "prompt": "x", "keep_alive": "300"}, 400, 'time: missing unit in duration "300"'),
        ("/api/generate", {"model": "llama3.2", "prompt": "x", "options": {"temperature": "hot"}}, 500,
         'option "temperature" must be of type float32'),
        ("/api/chat", {"model": "llama3.2", "messages": [], "options": {"stop": "x"}}, 500, 'option "stop" must be of type array'),
        ("/api/embed", {"model": "nomic-embed-text", "input": 3}, 400, "invalid input type"),
    ],
)
def test_error_texts_match_the_real_server(emu, path, body, status, error):
    response = requests.post(emu.url + path, json=body)
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response.json() == {"error": error}


def test_missing_and_bad_bodies(emu):
    conn = http.client.HTTPConnection(emu.url.split("//")[1])
    conn.request("POST", "/api/chat", body=b"")
    response = conn.getresponse()
    assert response.status == 400 and json.loads(response.read()) == {"error": "missing request body"}
    conn.request("POST", "/api/chat", body=b"{not json")  # same keep-alive connection
    response = conn.getresponse()
    assert response.status == 400 and json.loads(response.read())["error"].startswith("invalid character")
    conn.close()


def test_names_default_to_latest_and_match_case_insensitively(emu):
    for name in ("LLAMA3.2", "llama3.2:latest", "registry.ollama.ai/library/llama3.2"):
        assert requests.post(emu.url + "/api/show", json={"model": name}).status_code == 200


def test_cloud_mode_requires_the_bearer_key():
    with Emulator(key="sekret") as emu:
        denied = requests.get(emu.url + "/api/tags")
        assert denied.status_code == 401 and denied.json() == {"error": "unauthorized"}
        assert "sekret" not in denied.text
        wrong = requests.get(emu.url + "/api/tags", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        ok = requests.get(emu.url + "/api/tags", headers={"Authorization": "Bearer sekret"})
        assert ok.status_code == 200 and ok.json()["models"]
        assert requests.get(emu.url + "/").status_code == 200
        assert "sekret" not in repr(emu)


# --------------------------------------------------------------------------- model management


def test_pull_streams_progress_and_installs():
    with Emulator() as emu:
        assert "smollm2:135m" not in emu.model_names()
        chunks = lines(requests.post(emu.url + "/api/pull", json={"model": "smollm2:135m"}, stream=True))
        statuses = [c["status"] for c in chunks]
        assert statuses[0] == "pulling manifest"
        assert statuses[-3:] == ["verifying sha256 digest", "writing manifest", "success"]
        layer = [c for c in chunks if c["status"].startswith("pulling ") and "digest" in c]
        assert re.fullmatch(r"pulling [0-9a-f]{12}", layer[0]["status"])
        assert "completed" not in layer[0] and layer[-1]["completed"] == layer[-1]["total"]
        assert len(layer) > 5
        assert emu.model_names()[0] == "smollm2:135m"
        again = requests.post(emu.url + "/api/pull", json={"model": "smollm2:135m", "stream": False})
        assert again.json() == {"status": "success"}

        missing = lines(requests.post(emu.url + "/api/pull", json={"model": "no-such-model"}, stream=True))
        assert missing[-1] == {"error": "pull model manifest: file does not exist"}
        assert requests.post(emu.url + "/api/pull", json={"model": "no-such-model", "stream": False}).status_code == 500


def test_cancelled_pull_installs_nothing():
    with Emulator() as emu:
        response = requests.post(emu.url + "/api/pull", json={"model": "big-model"}, stream=True)
        seen = 0
        for piece in response.iter_content(chunk_size=None):
            seen += piece.count(b"\n")
            if seen >= 4:
                break
        response.close()
        assert emu.wait_for_disconnect(timeout=5)
        assert emu.disconnects == [("/api/pull", "big-model")]
        assert "big-model:latest" not in emu.model_names()


def test_copy_delete_create_change_tags():
    with Emulator() as emu:
        assert requests.post(emu.url + "/api/copy", json={"source": "llama3.2", "destination": "mine"}).status_code == 200
        tags = requests.get(emu.url + "/api/tags").json()["models"]
        assert tags[0]["name"] == "mine:latest"
        assert set(tags[0]) == {"name", "model", "modified_at", "size", "digest", "details", "capabilities"}
        assert set(tags[0]["details"]) == {"parent_model", "format", "family", "families", "parameter_size", "quantization_level",
                                          "context_length", "embedding_length"}
        assert tags[0]["digest"] == next(t["digest"] for t in tags if t["name"] == "llama3.2:latest")

        deleted = requests.delete(emu.url + "/api/delete", json={"model": "mine"})
        assert deleted.status_code == 200 and deleted.content == b""
        assert "mine:latest" not in emu.model_names()
        assert requests.delete(emu.url + "/api/delete", json={"model": "mine"}).json() == {"error": "model 'mine' not found"}

        created = requests.post(emu.url + "/api/create", json={
            "model": "tutor", "from": "llama3.2", "system": "You are a patient tutor. Keep answers short.",
            "parameters": {"temperature": 0.2}, "stream": False})
        assert created.json() == {"status": "success"}
        show = requests.post(emu.url + "/api/show", json={"model": "tutor"}).json()
        assert show["system"] == "You are a patient tutor. Keep answers short."
        assert re.search(r"^temperature +0.2$", show["parameters"], re.M)
        assert show["model_info"]["general.architecture"] == "llama"
        assert show["model_info"]["llama.context_length"] == 131072
        reply = chat(emu, model="tutor", stream=False).json()["message"]["content"]
        # The Modelfile's SYSTEM is followed: two sentences instead of the usual four.
        assert reply == "The sky looks blue because of Rayleigh scattering. " + reply.split(". ", 1)[1]
        assert reply.count(". ") == 1 and reply.endswith(".")


def test_ps_keep_alive_and_unload():
    with Emulator(load_delay=0.2) as emu:
        first = chat(emu, stream=False, keep_alive="1h").json()
        assert first["load_duration"] >= 0.2e9
        second = chat(emu, stream=False).json()
        assert second["load_duration"] < 0.05e9
        models = requests.get(emu.url + "/api/ps").json()["models"]
        assert [m["name"] for m in models] == ["llama3.2:latest"]
        assert set(models[0]) == {"name", "model", "size", "digest", "details", "expires_at", "size_vram", "context_length"}
        assert models[0]["expires_at"] > time.strftime("%Y-%m-%dT%H:%M", time.gmtime(time.time() + 3500))
        requests.post(emu.url + "/api/generate", json={"model": "qwen3", "keep_alive": -1}).json()
        assert emu.loaded_names()[0] == "qwen3:latest"
        assert requests.get(emu.url + "/api/ps").json()["models"][0]["expires_at"].startswith("23")
        unload = requests.post(emu.url + "/api/generate", json={"model": "qwen3", "keep_alive": 0}).json()
        assert unload["done_reason"] == "unload" and unload["response"] == ""
        assert emu.loaded_names() == ["llama3.2:latest"]
        load = requests.post(emu.url + "/api/chat", json={"model": "llava", "messages": []}).json()
        assert load["done_reason"] == "load" and load["message"] == {"role": "assistant", "content": ""}


# --------------------------------------------------------------------------- embeddings, web


def test_embeddings_are_normalised_and_similar_texts_are_closer(emu):
    texts = ["the cat sat on the mat", "a cat sat on a mat today", "quarterly revenue grew strongly"]
    reply = requests.post(emu.url + "/api/embed", json={"model": "nomic-embed-text", "input": texts}).json()
    vectors = reply["embeddings"]
    assert len(vectors) == 3 and all(len(v) == 768 for v in vectors)
    assert all(abs(math.sqrt(sum(x * x for x in v)) - 1) < 1e-6 for v in vectors)

    def cos(a: list[float], b: list[float]) -> float:
        return sum(x * y for x, y in zip(a, b))

    assert cos(vectors[0], vectors[1]) > cos(vectors[0], vectors[2]) + 0.3
    again = requests.post(emu.url + "/api/embed", json={"model": "nomic-embed-text", "input": texts[0]}).json()
    assert again["embeddings"] == [vectors[0]] and again["prompt_eval_count"] > 0
    small = requests.post(emu.url + "/api/embed", json={"model": "nomic-embed-text", "input": "cat", "dimensions": 64}).json()
    assert len(small["embeddings"][0]) == 64
    assert abs(math.sqrt(sum(x * x for x in small["embeddings"][0])) - 1) < 1e-6  # truncated, renormalised
    legacy = requests.post(emu.url + "/api/embeddings", json={"model": "nomic-embed-text", "prompt": texts[0]}).json()
    assert list(legacy) == ["embedding"] and len(legacy["embedding"]) == 768
    assert abs(math.sqrt(sum(x * x for x in legacy["embedding"])) - 1) > 0.01


def test_web_search_and_fetch(emu):
    found = requests.post(emu.url + "/api/web_search", json={"query": "ollama", "max_results": 3}).json()
    assert len(found["results"]) == 3 and set(found["results"][0]) == {"title", "url", "content"}
    assert all(r["url"].startswith(("https://example.com/", "https://example.org/")) for r in found["results"])
    emu.set_cloud("signed-in")  # a local server fetches with its own ollama.com sign-in
    try:
        page = requests.post(emu.url + "/api/experimental/web_fetch", json={"url": "https://example.com"}).json()
    finally:
        emu.set_cloud("signed-out")
    assert set(page) == {"title", "content", "links"}


def test_a_local_servers_web_search_needs_its_sign_in(emu):
    """routes.go's webExperimentalProxyHandler: ollama.com signed with the server's key, so no
    caller's key is needed when signed in; signed out is 401 with where to sign in, off is 403."""
    search = {"query": "ollama"}
    refused = requests.post(emu.url + "/api/experimental/web_search", json=search, timeout=10)
    assert refused.status_code == 401 and refused.json() == {"error": "unauthorized", "signin_url": SIGNIN_URL}
    try:
        emu.set_cloud("disabled")
        off = requests.post(emu.url + "/api/experimental/web_search", json=search, timeout=10)
        assert off.status_code == 403 and off.json() == {"error": "ollama cloud is disabled: web search is unavailable"}
        emu.set_cloud("signed-in")
        found = requests.post(emu.url + "/api/experimental/web_search", json=search,
                              headers={"Authorization": "Bearer not-sent-on"}, timeout=10)
        assert found.status_code == 200 and found.json()["results"]
    finally:
        emu.set_cloud("signed-out")


def test_requests_are_recorded(emu):
    chat(emu, stream=False, options={"seed": 1})
    last = emu.last_request
    assert last.method == "POST" and last.path == "/api/chat"
    assert last.json["options"] == {"seed": 1}
    assert last.headers["content-type"] == "application/json"


# --------------------------------------------------------------------------- the command line


def test_command_line_prints_url_and_serves():
    proc = subprocess.Popen([sys.executable, "-m", "ollama_nb.testing", "--port", "0"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        match = re.fullmatch(r"Ollama emulator listening on (http://127\.0\.0\.1:\d+)\n", line)
        assert match, line
        assert requests.get(match.group(1) + "/api/version").json() == {"version": "0.32.15", "emulator": "ollama_nb.testing"}
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert "Traceback" not in err


def test_process_mode():
    with Emulator(process=True, key="k") as emu:
        assert "llama3.2:latest" in emu.model_names()
        with pytest.raises(RuntimeError, match="another process"):
            emu.requests


# --------------------------------------------------------------------------- more routes and edges


def test_push_blobs_and_create_from_a_pullable_model():
    with Emulator() as emu:
        pushed = lines(requests.post(emu.url + "/api/push", json={"model": "llama3.2"}, stream=True))
        statuses = [p["status"] for p in pushed]
        assert statuses[0] == "retrieving manifest" and statuses[-2:] == ["pushing manifest", "success"]
        assert any(re.fullmatch(r"pushing [0-9a-f]{12}", s) for s in statuses)
        missing = lines(requests.post(emu.url + "/api/push", json={"model": "nope"}, stream=True))
        assert missing[1] == {"status": "couldn't retrieve manifest"} and "no such file" in missing[-1]["error"]

        data = b"GGUF fake weights"
        digest = "sha256:" + __import__("hashlib").sha256(data).hexdigest()
        assert requests.head(emu.url + "/api/blobs/" + digest).status_code == 404
        assert requests.post(emu.url + "/api/blobs/" + digest, data=data).status_code == 201
        assert requests.head(emu.url + "/api/blobs/" + digest).status_code == 200
        assert requests.post(emu.url + "/api/blobs/" + digest, data=data).status_code == 200
        wrong = requests.post(emu.url + "/api/blobs/sha256:" + "0" * 64, data=data)
        assert wrong.status_code == 400 and wrong.json()["error"].startswith("digest mismatch")
        assert requests.head(emu.url + "/api/blobs/nope").status_code == 400

        # A missing base model is pulled first, as the real server does.
        created = lines(requests.post(emu.url + "/api/create", json={"model": "mini", "from": "smollm2:135m"}, stream=True))
        statuses = [c["status"] for c in created]
        assert statuses[0] == "pulling manifest" and statuses[-2:] == ["writing manifest", "success"]
        assert any(s.startswith("using existing layer sha256:") for s in statuses)
        assert {"mini:latest", "smollm2:135m"} <= set(emu.model_names())
        neither = requests.post(emu.url + "/api/create", json={"model": "x"})
        assert neither.status_code == 400 and neither.json() == {"error": "neither 'from' or 'files' was specified"}
        unknown = lines(requests.post(emu.url + "/api/create", json={"model": "y", "from": "no-such-base"}, stream=True))
        assert unknown[-1] == {"error": "pull model manifest: file does not exist"}


def test_slow_model_is_paced_and_limited(emu):
    started = time.perf_counter()
    reply = chat(emu, model="slow", stream=False, options={"num_predict": 6}).json()
    elapsed = time.perf_counter() - started
    assert reply["done_reason"] == "length" and reply["eval_count"] == 6
    assert elapsed > 0.25 and reply["eval_duration"] > 0.25e9  # paced: at least 6 x 50 ms


def test_text_model_ignores_images_like_the_real_server(emu):
    png = base64.b64encode(_png(2, 2)).decode()
    messages = [{"role": "user", "content": "hi", "images": [png]}]
    response = requests.post(emu.url + "/api/chat", json={"model": "llama3.2", "messages": messages, "stream": False})
    assert response.status_code == 200 and response.json()["message"]["content"]


def test_generate_with_thinking_and_raw(emu):
    body = {"model": "qwen3", "prompt": "Is 91 a prime number?", "stream": False}
    low = requests.post(emu.url + "/api/generate", json={**body, "think": "low"}).json()["thinking"]
    medium = requests.post(emu.url + "/api/generate", json=body).json()["thinking"]
    assert low.endswith(".") and len(low) < len(medium) and "7 times 13 is 91" in medium
    raw = requests.post(emu.url + "/api/generate", json={"model": "llama3.2", "prompt": "hi", "raw": True, "stream": False}).json()
    assert "context" not in raw
    bad = requests.post(emu.url + "/api/generate", json={"model": "llama3.2", "prompt": "hi", "raw": True, "system": "s"})
    assert bad.status_code == 400 and bad.json() == {"error": "raw mode does not support template, system, or context"}


def test_keep_alive_connection_survives_a_stream():
    with Emulator() as emu:
        conn = http.client.HTTPConnection(emu.url.split("//")[1], timeout=5)
        body = json.dumps({"model": "llama3.2", "messages": [{"role": "user", "content": "hi"}]})
        for _ in range(3):
            conn.request("POST", "/api/chat", body=body)
            response = conn.getresponse()
            assert response.getheader("Transfer-Encoding") == "chunked"
            assert json.loads(response.read().splitlines()[-1])["done"] is True
        conn.request("HEAD", "/")
        head = conn.getresponse()
        assert head.status == 200 and head.read() == b"" and head.getheader("Content-Length") == "17"
        conn.close()


def test_stop_ends_a_stall():
    """stop() returns although a handler is stalled mid-answer, and the client sees the end."""
    emu = Emulator().start()
    response = chat(emu, model="stall")
    chunks = response.iter_content(chunk_size=None)
    next(chunks)
    emu.stop()
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        for _ in chunks:
            pass
    response.close()


@pytest.mark.parametrize("prompt", ["", 'Make "Alice" 99 3.5 and Bob in Paris 12345', "0 -5 100000 7 8"])
def test_schema_instances_validate_for_tricky_schemas(prompt):
    from datetime import date
    from typing import Annotated, Literal

    import jsonschema
    import pydantic

    from ollama_nb.testing._voice.structured import instance

    class Tree(pydantic.BaseModel):
        name: str
        children: list[Tree] = []

    class Addr(pydantic.BaseModel):
        street: Annotated[str, pydantic.Field(min_length=5, max_length=8)]
        zip: Annotated[int, pydantic.Field(ge=10000, le=99999)]

    class Everything(pydantic.BaseModel):
        born: date
        score: Annotated[float, pydantic.Field(gt=0, lt=1)]
        n: Annotated[int, pydantic.Field(multiple_of=7, ge=1)]
        tags: Annotated[list[str], pydantic.Field(min_length=3, max_length=5)]
        lit: Literal["x", "y"]
        maybe: Addr | None = None
        union: int | str
        mapping: dict[str, int]
        tree: Tree
        pair: tuple[int, str]
        neg: Annotated[int, pydantic.Field(lt=-3)]

    schema = Everything.model_json_schema()
    value = instance(schema, prompt)
    jsonschema.validate(value, schema)
    Everything.model_validate(value)


DEMO = ["llama3.2:latest", "qwen3:latest", "gpt-oss:20b", "llava:latest", "nomic-embed-text:latest",
        "gpt-oss:120b-cloud"]


def test_the_demo_catalogue_has_only_what_a_class_would_have():
    from ollama_nb.testing._catalog import SCENARIO_MODELS

    with Emulator(scenarios=False) as demo:
        tags = requests.get(demo.url + "/api/tags").json()["models"]
        assert [m["name"] for m in tags] == DEMO
        capabilities = {m["name"]: set(m["capabilities"]) for m in tags}
        assert "embedding" in capabilities["nomic-embed-text:latest"] and "vision" in capabilities["llava:latest"]
        assert "thinking" in capabilities["qwen3:latest"]
        cloud = next(m for m in tags if m["name"] == "gpt-oss:120b-cloud")
        assert cloud["remote_host"] == "https://ollama.com:443" and cloud["remote_model"] == "gpt-oss:120b"
    with Emulator(scenarios=True) as tests:
        names = tests.model_names()
        assert names[: len(DEMO)] == DEMO and [n.split(":")[0] for n in names[len(DEMO):]] == list(SCENARIO_MODELS)


@pytest.mark.parametrize("flag", [[], ["--scenarios"]])
def test_the_command_line_serves_the_demo_catalogue_unless_asked_for_scenarios(flag):
    env = {k: v for k, v in __import__("os").environ.items() if k != "OLLAMA_NB_EMULATOR_SCENARIOS"}
    proc = subprocess.Popen([sys.executable, "-m", "ollama_nb.testing", "--port", "0", *flag], stdout=subprocess.PIPE,
                            text=True, env={**env, "PYTHONPATH": str(ROOT)})
    try:
        url = proc.stdout.readline().split()[-1]
        names = [m["name"] for m in requests.get(url + "/api/tags", timeout=10).json()["models"]]
        assert ("slow:latest" in names) == bool(flag) and ("hostile:latest" in names) == bool(flag)
        assert set(DEMO) <= set(names)
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_newer_download_is_installed_by_a_pull_and_brings_its_think_levels(emu):
    """``Emulator.publish``: the registry's newer qwen3 lists a level the fixed four lack; the server
    takes it only once that download is installed, and only for the model that lists it."""
    def chat(model: str, think: str) -> requests.Response:
        return requests.post(emu.url + "/api/chat", json={"model": model, "think": think, "messages": [], "stream": False})

    def digest(name: str) -> str:
        return next(m["digest"] for m in requests.get(emu.url + "/api/tags").json()["models"] if m["name"] == name)

    before, old_digest = requests.post(emu.url + "/api/show", json={"model": "qwen3"}).json(), digest("qwen3:latest")
    emu.publish("qwen3", thinking={"values": ["low", "high", "xhigh"], "default": "high"})
    assert requests.post(emu.url + "/api/show", json={"model": "qwen3"}).json() == before  # not pulled yet
    assert "invalid think value" in chat("qwen3", "xhigh").json()["error"]
    assert requests.post(emu.url + "/api/pull", json={"model": "qwen3", "stream": False}).json() == {"status": "success"}
    after = requests.post(emu.url + "/api/show", json={"model": "qwen3"}).json()
    assert after["thinking"]["values"] == ["low", "high", "xhigh"]
    assert digest("qwen3:latest") != old_digest  # new weights
    assert chat("qwen3", "xhigh").status_code == 200
    refused = chat("gpt-oss:20b", "xhigh")  # lists low/medium/high only
    assert refused.status_code == 400 and refused.json()["error"] == 'think value "xhigh" is not supported for this model'
    assert chat("qwen3", "ultra").json()["error"].startswith('invalid think value: "ultra"')
    with pytest.raises(KeyError):
        emu.publish("no-such-model", thinking=None)
