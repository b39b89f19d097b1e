"""The client against the emulator on loopback: what it sends, what it makes of the answers."""

from __future__ import annotations

import base64
import json
import socket
import threading

import pytest

from ollama_nb import (
    AuthenticationError,
    Client,
    InsecureKeyError,
    InvalidRequest,
    MalformedChunk,
    ModelNotFound,
    OllamaError,
    Reply,
    RequestError,
    ResponseError,
    ServerStreamError,
    ServerUnreachable,
    StallTimeout,
    StreamCut,
    StreamError,
)
from ollama_nb.testing import Emulator

HI = [{"role": "user", "content": "Why is the sky blue?"}]
PNG_1x1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sent(emu, path):
    return [r for r in emu.requests if r.path == path][-1]


# -- the seed's example, unchanged but for the import -------------------------------------------
def test_seed_example_streams_chat_parts(emu):
    client = Client(host=emu.url)
    text = ""
    for part in client.chat("llama3.2", messages=HI, stream=True):
        text += part["message"]["content"]
    assert len(text.split()) > 10
    body = sent(emu, "/api/chat").json
    assert body["model"] == "llama3.2" and body["messages"] == HI and body["stream"] is True


def test_chunks_read_as_dicts_and_attributes(client):
    parts = list(client.chat("llama3.2", messages=HI, stream=True))
    first, last = parts[0], parts[-1]
    assert first.message.content == first["message"]["content"] == first.get("message")["content"]
    assert first.done is False and last.done is True and last.done_reason == "stop"
    assert first.message.thinking is None  # absent field reads as None, like ollama-python
    with pytest.raises(KeyError):
        first["message"]["thinking"]


def test_stream_reply_merges_content_and_stats(client):
    stream = client.chat("llama3.2", messages=HI, stream=True)
    text = "".join(p.message.content for p in stream)
    reply = stream.reply
    assert reply.content == text and reply.done and reply.status == "done"
    assert reply.eval_count > 0 and reply.eval_duration > 0 and reply.prompt_eval_count > 0
    assert reply.tokens_per_second > 0 and 0 <= reply.ttft <= reply.elapsed
    assert reply.load_duration is not None and reply.total_duration >= reply.eval_duration


def test_non_streaming_chat_is_one_reply_like_the_servers_json(client):
    reply = client.chat("llama3.2", messages=HI)
    assert isinstance(reply, Reply) and reply.done
    assert reply["message"]["content"] == reply.message.content == reply.content != ""
    assert reply["message"]["role"] == "assistant"
    assert reply["done_reason"] == "stop" and reply.get("eval_count") == reply.eval_count


def test_generate_stream_and_reply(client):
    stream = client.generate("llama3.2", "Tell me about rivers.", stream=True)
    text = "".join(part["response"] for part in stream)
    assert stream.reply.content == text and stream.reply["response"] == text
    reply = client.generate("llama3.2", "Tell me about rivers.", system="Answer like a pirate.")
    assert reply.response and reply.done
    assert "context" in reply


def test_thinking_is_merged_apart_from_content(client):
    reply = client.chat("qwen3", messages=HI, think=True)
    assert reply.thinking and reply.content and reply.thinking not in reply.content
    assert reply.message["thinking"] == reply.thinking
    plain = client.chat("qwen3", messages=HI, think=False)
    assert plain.thinking == "" and "thinking" not in plain.message


@pytest.mark.parametrize("level", ["low", "medium", "high"])
def test_think_levels_are_sent(emu, client, level):
    client.chat("gpt-oss:20b", messages=HI, think=level)
    assert sent(emu, "/api/chat").json["think"] == level


def test_exact_json_sent(emu, client):
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    client.chat(
        "llava",
        messages=[{"role": "user", "content": "Give me 4", "images": [PNG_1x1]}],
        format=schema,
        options={"temperature": 0, "seed": 42, "num_ctx": 2048, "stop": ["\n\n"]},
        keep_alive="10m",
    )
    body = sent(emu, "/api/chat").json
    assert body["format"] == schema
    assert body["options"] == {"temperature": 0, "seed": 42, "num_ctx": 2048, "stop": ["\n\n"]}
    assert body["keep_alive"] == "10m"
    assert body["messages"][0]["images"] == [base64.b64encode(PNG_1x1).decode()]
    # What ollama-python sends for the same call: stream as asked, tools always, nothing unasked.
    assert body["stream"] is False and body["tools"] == [] and "think" not in body


def test_images_from_bytes_path_and_base64_are_the_same(emu, client, tmp_path):
    path = tmp_path / "dot.png"
    path.write_bytes(PNG_1x1)
    b64 = base64.b64encode(PNG_1x1).decode()
    for image in (PNG_1x1, str(path), path, b64):
        reply = client.generate("llava", "What is in this picture?", images=[image])
        assert sent(emu, "/api/generate").json["images"] == [b64]
        assert "1 × 1 pixels" in reply.content


def test_bad_image_text_is_refused_before_sending(client):
    with pytest.raises(InvalidRequest):
        client.generate("llava", "hi", images=["not base64 and not a file!"])


def test_schema_format_answer_parses(client):
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
        "required": ["city", "population"],
    }
    answer = json.loads(client.chat("llama3.2", messages=HI, format=schema).content)
    assert isinstance(answer["city"], str) and isinstance(answer["population"], int)


def test_pydantic_model_as_format(emu, client):
    import pydantic

    class Pet(pydantic.BaseModel):
        name: str
        age: int

    reply = client.chat("llama3.2", messages=[{"role": "user", "content": "A pet, age 3"}], format=Pet)
    assert sent(emu, "/api/chat").json["format"] == Pet.model_json_schema()
    Pet.model_validate_json(reply.content)


def test_python_function_as_tool_and_tool_roundtrip(emu, client):
    from ollama_nb.tools import run_tool_calls

    def add(a: int, b: int) -> int:
        """Add two numbers.

        Args:
            a: The first number.
            b: The second number.
        """
        return a + b

    msgs = [{"role": "user", "content": "What is 3 plus 4?"}]
    reply = client.chat("llama3.2", messages=msgs, tools=[add])
    tool = sent(emu, "/api/chat").json["tools"][0]
    assert tool["function"]["name"] == "add"
    assert tool["function"]["parameters"]["properties"]["a"] == {"type": "integer", "description": "The first number."}
    assert reply.tool_calls and reply.tool_calls[0]["function"]["name"] == "add"
    results = run_tool_calls(reply, [add])
    assert results[0]["role"] == "tool" and results[0]["tool_name"] == "add" and results[0]["content"] == "7"
    final = client.chat("llama3.2", messages=[*msgs, reply.message, *results], tools=[add])
    assert "7" in final.content


def test_embed_and_legacy_embeddings(client):
    out = client.embed("nomic-embed-text", input=["the cat sat", "the cat sat down", "quantum chromodynamics"])
    a, b, c = out.embeddings
    dot = lambda x, y: sum(i * j for i, j in zip(x, y))  # noqa: E731
    assert abs(dot(a, a) - 1) < 1e-6 and dot(a, b) > dot(a, c)
    legacy = client.embeddings("nomic-embed-text", prompt="the cat sat")
    assert len(legacy["embedding"]) == len(a)


def test_model_management_routes(emu, client):
    names = [m.model for m in client.list().models]
    assert "llama3.2:latest" in names
    info = client.show("llama3.2")
    assert "completion" in info.capabilities and info.details.family
    assert client.version()["version"]
    assert client.copy("llama3.2", "my-llama")["status"] == "success"
    assert "my-llama:latest" in [m.model for m in client.list()["models"]]
    assert client.delete("my-llama") == {"status": "success"}
    assert "my-llama:latest" not in [m.model for m in client.list().models]
    assert sent(emu, "/api/delete").method == "DELETE"


def test_ps_load_and_unload(client):
    client.load("llama3.2", keep_alive="5m")
    running = {m.model: m for m in client.ps().models}
    assert "llama3.2:latest" in running and running["llama3.2:latest"].expires_at
    assert client.unload("llama3.2").done_reason == "unload"
    assert "llama3.2:latest" not in [m.model for m in client.ps().models]


def test_pull_streams_progress_then_installs(client):
    stream = client.pull("smollm2:135m", stream=True)
    statuses = [p.status for p in stream]
    progress = stream.progress
    assert statuses[0] == "pulling manifest" and statuses[-1] == "success"
    assert progress.done and progress.total > 0 and progress.completed == progress.total
    assert "smollm2:135m" in [m.model for m in client.list().models]


def test_pull_without_stream_returns_the_last_status(client):
    assert client.pull("smollm2:135m")["status"] == "success"


def test_pull_of_unknown_model_is_model_not_found(client):
    with pytest.raises(ModelNotFound) as info:
        client.pull("no-such-model-anywhere")
    assert "pull" in str(info.value)


def test_create_and_push(client):
    assert client.create("tutor", from_="llama3.2", system="You are a tutor.")["status"] == "success"
    assert "You are a tutor." in client.show("tutor").system
    statuses = [p.status for p in client.push("tutor", stream=True)]
    assert statuses[-1] == "success"


def test_web_search_and_fetch_go_to_the_web_host_with_the_key(emu, monkeypatch):
    monkeypatch.delenv("OLLAMA_API_KEY", raising=False)
    # As ollama-python: ollama.com's /api/web_*, whatever the server; here web_host is the emulator.
    client = Client("127.0.0.1:1", api_key="web-key", web_host=emu.url)
    results = client.web_search("ollama notebooks", max_results=2).results
    assert len(results) == 2 and results[0].url
    got = sent(emu, "/api/web_search")
    assert got.json == {"query": "ollama notebooks", "max_results": 2}
    assert got.headers["authorization"] == "Bearer web-key"
    page = client.web_fetch("https://example.com")
    assert page.title and isinstance(page.links, list)
    assert sent(emu, "/api/web_fetch").json == {"url": "https://example.com"}


def test_web_tools_without_a_key_ask_the_server_and_say_both_ways_out(emu, monkeypatch):
    """No key, and a server not signed in: ollama-python's ValueError, saying what to do; nothing
    went to the web host (ollama.com), and no Authorization header anywhere."""
    monkeypatch.delenv("OLLAMA_API_KEY", raising=False)
    client = Client(emu.url, web_host=emu.url)
    with pytest.raises(ValueError, match=r"Bearer token is required for web search.*ollama signin"):
        client.web_search("x")
    with pytest.raises(ValueError, match="Bearer token is required for web fetch"):
        client.web_fetch("https://example.com")
    assert [r.path for r in emu.requests[-2:]] == ["/api/experimental/web_search", "/api/experimental/web_fetch"]
    assert not [r for r in emu.requests if r.path.startswith("/api/web_")]
    assert all("authorization" not in r.headers for r in emu.requests)
    assert Client().web_host == "https://ollama.com"


def test_a_signed_in_server_searches_without_a_key(emu, monkeypatch):
    monkeypatch.delenv("OLLAMA_API_KEY", raising=False)
    emu.set_cloud("signed-in")
    client = Client(emu.url, web_host="https://ollama.com")  # never reached: no key to send there
    results = client.web_search("tides", max_results=2).results
    assert len(results) == 2 and "tides" in results[0].title
    assert client.web_fetch("https://example.com").title == "Example Domain"
    asked = [r for r in emu.requests if r.path.startswith("/api/experimental/")]
    assert [r.json for r in asked] == [{"query": "tides", "max_results": 2}, {"url": "https://example.com"}]
    assert all("authorization" not in r.headers for r in asked)
    emu.set_cloud("disabled")  # the server's own refusal comes through as itself
    with pytest.raises(ResponseError, match="ollama cloud is disabled"):
        client.web_search("tides")


# -- errors --------------------------------------------------------------------------------
def test_server_down_names_the_host_and_what_to_do():
    port = free_port()
    client = Client(f"127.0.0.1:{port}")
    for call in (lambda: client.list(), lambda: client.chat("llama3.2", messages=HI, stream=True)):
        with pytest.raises(ServerUnreachable) as info:
            call()
        assert isinstance(info.value, ConnectionError)
        assert f"http://127.0.0.1:{port}" in str(info.value) and "OLLAMA_HOST" in str(info.value)


def test_unknown_model_suggests_pull(client):
    for call in (
        lambda: client.chat("nope", messages=HI),
        lambda: client.generate("nope", "hi", stream=True),
        lambda: client.show("nope"),
        lambda: client.embed("nope", input="x"),
    ):
        with pytest.raises(ModelNotFound) as info:
            call()
        err = info.value
        assert err.status_code == 404 and "not found" in err.error and "pull nope" in str(err)


def test_wrong_route_has_plain_text_404(client):
    with pytest.raises(ResponseError) as info:
        client._json("GET", "/api/list")  # the seed's route that the real server does not have
    assert info.value.status_code == 404 and info.value.error == "404 page not found"
    assert not isinstance(info.value, ModelNotFound)


def test_server_validation_error_keeps_status_and_text(client):
    with pytest.raises(ResponseError) as info:
        client.chat("llama3.2", messages=HI, think=True)  # llama3.2 cannot think
    assert info.value.status_code == 400 and "does not support thinking" in info.value.error


def test_client_side_validation_only_where_ollama_python_has_it(client):
    offline = Client("127.0.0.1:1")
    with pytest.raises(InvalidRequest) as info:  # a ValueError, like pydantic's ValidationError
        offline.chat("m", messages=HI, think="extreme")
    assert isinstance(info.value, ValueError)
    with pytest.raises(RequestError) as no_model:
        offline.chat("", messages=HI)
    assert no_model.value.error == "must provide a model" and isinstance(no_model.value, ValueError)
    # Anything else goes to the server, which answers with its own error.
    with pytest.raises(ResponseError) as info:
        client.chat("llama3.2", messages=HI, keep_alive="300")
    assert info.value.status_code == 400 and "time: missing unit" in info.value.error


@pytest.mark.parametrize("model,error", [
    ("error-midstream", ServerStreamError),
    ("dropped", StreamCut),
    ("malformed", MalformedChunk),
])
def test_mid_stream_failures_keep_the_partial_reply(client, model, error):
    seen = []
    with pytest.raises(error) as info:
        for part in client.chat(model, messages=HI, stream=True):
            seen.append(part.message.content)
    reply = info.value.reply
    assert seen and reply.content == "".join(seen) and reply.status == "failed" and not reply.done
    assert reply.error is info.value and info.value.hint


def test_failure_without_stream_flag_is_the_servers_status(emu, client):
    # stream:false -> the server answers one JSON object: the error with its real status, no partial.
    with pytest.raises(ResponseError) as info:
        client.chat("error-midstream", messages=HI)
    assert info.value.status_code == 500 and "llama runner" in info.value.error
    assert not isinstance(info.value, StreamError)
    assert sent(emu, "/api/chat").json["stream"] is False


def test_error_line_in_a_stream_is_a_response_error_with_status_minus_one(client):
    with pytest.raises(ResponseError) as info:
        list(client.chat("error-midstream", messages=HI, stream=True))
    err = info.value
    assert isinstance(err, ServerStreamError) and err.status_code == -1 and "llama runner" in err.error
    assert err.reply.content  # and our hint and the partial answer on top


def test_stall_becomes_a_timeout_with_the_partial_reply(emu):
    client = Client(emu.url, timeout=0.5)
    with pytest.raises(StallTimeout) as info:  # the stall model never sends its second chunk
        list(client.chat("stall", messages=HI, stream=True))
    assert isinstance(info.value, TimeoutError) and info.value.reply.content
    assert emu.wait_for_disconnect(30)


def test_breaking_out_of_the_loop_closes_the_connection(emu, client):
    for _part in client.chat("slow", messages=HI, stream=True):
        break
    assert emu.wait_for_disconnect(30)


def test_close_from_another_thread_stops_quietly(emu, client):
    stream = client.chat("stall", messages=HI, stream=True)
    threading.Timer(0.3, stream.close).start()
    parts = list(stream)  # blocked in recv on a silent server: close() must wake it
    assert parts and stream.reply.status == "stopped" and stream.reply.content
    assert emu.wait_for_disconnect(30)


def test_stream_as_context_manager_closes(emu, client):
    with client.generate("slow", "hi", stream=True) as stream:
        next(stream)
    assert stream.closed and emu.wait_for_disconnect(30)


# -- keys ------------------------------------------------------------------------------------
def test_cloud_mode_needs_the_key_and_names_the_variable(monkeypatch):
    monkeypatch.delenv("OLLAMA_API_KEY", raising=False)
    with Emulator(key="sk-test-123") as emu:
        with pytest.raises(AuthenticationError) as info:
            Client(emu.url).list()
        assert info.value.status_code == 401 and "OLLAMA_API_KEY" in str(info.value)
        assert Client(emu.url, api_key="sk-test-123").list().models
        assert Client(emu.url, headers={"Authorization": "Bearer sk-test-123"}).list().models
        monkeypatch.setenv("OLLAMA_API_KEY", "sk-test-123")
        assert Client(emu.url).list().models
        assert emu.last_request.headers["authorization"] == "Bearer sk-test-123"


def test_key_never_shows_in_repr_errors_or_chunks(monkeypatch):
    key = "sk-very-secret-key-9f8e7d"
    with Emulator(key="another-key") as emu:
        client = Client(emu.url, api_key=key)
        assert key not in repr(client) and "api_key=set" in repr(client)
        with pytest.raises(OllamaError) as info:
            client.chat("llama3.2", messages=HI)
        assert key not in str(info.value) and key not in repr(info.value)
        with pytest.raises(OllamaError) as info:
            Client(f"127.0.0.1:{free_port()}", api_key=key).list()
        assert key not in str(info.value)
    with Emulator(key=key) as emu:
        stream = Client(emu.url, api_key=key).chat("llama3.2", messages=HI, stream=True)
        for part in stream:
            assert key not in json.dumps(part)
        assert key not in repr(stream) and key not in repr(stream.reply)


def test_key_is_never_sent_over_plain_http_to_another_machine(monkeypatch):
    with pytest.raises(InsecureKeyError) as info:
        Client("http://192.0.2.10:11434", api_key="sk-x")
    assert "sk-x" not in str(info.value) and "https" in str(info.value)
    with pytest.raises(InsecureKeyError):
        Client("http://192.0.2.10:11434", headers={"Authorization": "Bearer sk-x"})
    monkeypatch.setenv("OLLAMA_API_KEY", "sk-x")
    assert not Client("http://192.0.2.10:11434").has_key  # ambient key: simply not sent there
    assert Client("https://ollama.com").has_key and Client("http://localhost:11434").has_key


def test_cloud_model_suffix_is_stripped_only_for_ollama_com():
    cloud, local = Client("https://ollama.com"), Client("127.0.0.1:11434")
    for name in ("gpt-oss:120b-cloud", "gpt-oss:120b:cloud", "gpt-oss:120b"):
        assert cloud._model(name) == "gpt-oss:120b"
    assert local._model("gpt-oss:120b-cloud") == "gpt-oss:120b-cloud"


def test_host_from_environment(monkeypatch, emu):
    monkeypatch.setenv("OLLAMA_HOST", emu.url.replace("http://", ""))
    assert Client().host == emu.url and Client().list().models


def test_close_marks_how_the_answer_ended_and_the_first_ending_wins(emu, client):
    stream = client.chat("slow", messages=HI, stream=True)
    for _ in stream:
        stream.close("interrupted")  # what the magic does on a Ctrl-C between two chunks
    assert stream.reply.status == "interrupted" and stream.reply.content
    assert emu.wait_for_disconnect(30)
    stream.close()  # closing again (or the generator's own cleanup) does not overwrite it
    assert stream.reply.status == "interrupted"
