"""AsyncClient (issue 19): a notebook user's `await client.chat(...)` gets what the sync client
gets — the same requests on the wire, the same answers and chunks, the same errors with their hints
and partial replies, the same retries, timeouts and key rules — against the emulator on loopback.

Each test runs its coroutine with a plain `asyncio.run`, as a script would: no pytest plugin.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from ollama_nb import (
    AsyncClient,
    AuthenticationError,
    ChatResponse,
    Client,
    EmbeddingsResponse,
    EmbedResponse,
    GenerateResponse,
    InsecureKeyError,
    ListResponse,
    MalformedChunk,
    ModelNotFound,
    ProcessResponse,
    ProgressResponse,
    Reply,
    Retry,
    ServerBusy,
    ServerStreamError,
    ServerUnreachable,
    ShowResponse,
    StallTimeout,
    StatusResponse,
    StreamCut,
    WebFetchResponse,
    WebSearchResponse,
)
from ollama_nb.testing import Emulator

ASK = [{"role": "user", "content": "Why is the sky blue?"}]
QUICK = Retry(attempts=5, budget=30, first=0.01, longest=0.05)
T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def bodies(emu: Emulator, path: str) -> list[Any]:
    return [r.json for r in emu.requests if r.path == path]


# -- answers: the same objects as the sync client ------------------------------------------------
@pytest.mark.parametrize("stream", [False, True])
def test_chat_and_generate_send_the_same_body_and_answer_the_same_as_the_sync_client(emu, stream):
    async def both() -> tuple[Reply, Reply]:
        async with AsyncClient(emu.url) as client:
            chat = await client.chat("llama3.2", messages=ASK, stream=stream, options={"seed": 1})
            gen = await client.generate("llama3.2", "Why is the sky blue?", stream=stream, options={"seed": 1})
            if not stream:
                return chat, gen
            parts = [p async for p in chat] + [p async for p in gen]
            assert [type(p) for p in parts[:1]] == [ChatResponse] and type(parts[-1]) is GenerateResponse
            assert parts[-1]["done"] and parts[-1].done_reason == "stop"
            return chat.reply, gen.reply

    chat, gen = run(both())
    sync = Client(emu.url)
    sync_chat = sync.chat("llama3.2", messages=ASK, stream=stream, options={"seed": 1})
    sync_gen = sync.generate("llama3.2", "Why is the sky blue?", stream=stream, options={"seed": 1})
    if stream:
        assert list(sync_chat) and list(sync_gen)
        sync_chat, sync_gen = sync_chat.reply, sync_gen.reply
    assert isinstance(chat, ChatResponse) and isinstance(gen, GenerateResponse)
    assert chat.content == sync_chat.content and chat["message"]["role"] == "assistant" and chat.done
    assert gen["response"] == sync_gen["response"] and gen.status == "done"
    chats, gens = bodies(emu, "/api/chat"), bodies(emu, "/api/generate")
    assert chats[0] == chats[1] and chats[0]["stream"] is stream and chats[0]["tools"] == []
    assert gens[0] == gens[1]


def test_every_other_method_answers_the_sync_clients_objects(emu, tmp_path):
    blob = tmp_path / "adapter.bin"
    blob.write_bytes(b"weights")

    async def calls() -> dict[str, Any]:
        async with AsyncClient(emu.url, api_key="k", web_host=emu.url) as c:
            return {
                "embed": await c.embed("nomic-embed-text", ["a", "b"]),
                "embeddings": await c.embeddings("nomic-embed-text", "a"),
                "load": await c.load("llama3.2"),
                "list": await c.list(),
                "show": await c.show("llama3.2"),
                "ps": await c.ps(),
                "pull": await c.pull("smollm2:135m"),
                "create": await c.create("mine", from_="llama3.2", system="Be brief."),
                "copy": await c.copy("mine", "mine2"),
                "delete": await c.delete("mine2"),
                "blob": await c.create_blob(blob),
                "version": await c.version(),
                "unload": await c.unload("llama3.2"),
                "web_search": await c.web_search("ollama", max_results=2),
                "web_fetch": await c.web_fetch("https://ollama.com"),
            }

    got = run(calls())
    assert type(got["embed"]) is EmbedResponse and len(got["embed"].embeddings) == 2
    assert type(got["embeddings"]) is EmbeddingsResponse and len(got["embeddings"]["embedding"]) == 768
    assert isinstance(got["load"], Reply) and got["load"].done
    assert type(got["list"]) is ListResponse and "llama3.2:latest" in [m.model for m in got["list"].models]
    assert type(got["show"]) is ShowResponse and "completion" in got["show"].capabilities
    assert type(got["ps"]) is ProcessResponse and got["ps"].models[0].name == "llama3.2:latest"
    assert type(got["pull"]) is ProgressResponse and got["pull"].status == "success"
    assert got["create"].status == "success" and bodies(emu, "/api/create")[0]["from"] == "llama3.2"
    assert type(got["copy"]) is StatusResponse and got["delete"] == {"status": "success"}
    assert got["blob"].startswith("sha256:") and got["version"]["version"]
    assert bodies(emu, "/api/generate")[-1]["keep_alive"] == 0
    assert type(got["web_search"]) is WebSearchResponse and len(got["web_search"].results) == 2
    assert type(got["web_fetch"]) is WebFetchResponse and got["web_fetch"].content
    assert "mine:latest" in [m.model for m in Client(emu.url).list().models]


def test_usage_and_balance_on_ollama_cloud():
    with Emulator(key="cloud-key") as cloud:
        client = AsyncClient(cloud.url, api_key="cloud-key")
        usage, balance = run(client.usage()), run(client.balance())
        sync = Client(cloud.url, api_key="cloud-key")
        expected_usage, expected = sync.usage(), sync.balance()
    assert usage and usage.keys() == expected_usage.keys()  # what the service reports, read as the sync client reads it
    assert dict(balance) == dict(expected) and balance["included"]["allowance_usd"] > 0


def test_progress_streams_merge_as_the_sync_ones(emu):
    async def pull_and_create() -> tuple[list[Any], Any, list[Any]]:
        client = AsyncClient(emu.url)
        pulling = await client.pull("smollm2:135m", stream=True)
        pulled = [p async for p in pulling]
        creating = await client.create("mine", from_="smollm2:135m", stream=True)
        return pulled, pulling.progress, [p async for p in creating]

    pulled, progress, created = run(pull_and_create())
    assert all(type(p) is ProgressResponse for p in pulled) and pulled[-1].status == "success"
    assert progress.done and created[-1]["status"] == "success"


def test_the_signatures_people_read_are_the_sync_ones():
    import inspect

    assert inspect.iscoroutinefunction(AsyncClient.embed) and inspect.iscoroutinefunction(AsyncClient.chat)
    assert inspect.signature(AsyncClient.embed) == inspect.signature(Client.embed)
    think = inspect.signature(Client.chat).parameters["think"].annotation
    assert inspect.signature(AsyncClient.generate).parameters["think"].annotation == think
    assert AsyncClient.show.__doc__ == Client.show.__doc__


# -- errors: the sync client's, with hints and partial replies -----------------------------------
def test_errors_before_a_stream_are_the_sync_clients_with_their_hints(emu):
    client = AsyncClient(emu.url)
    with pytest.raises(ModelNotFound) as missing:
        run(client.chat("llama3.3", messages=ASK, stream=True))
    assert "llama3.2" in str(missing.value)  # "did you mean", from the installed models
    with pytest.raises(ServerUnreachable) as down:
        run(AsyncClient("http://127.0.0.1:9").chat("llama3.2", messages=ASK))
    assert isinstance(down.value, ConnectionError) and "ollama serve" in str(down.value).lower()
    with pytest.raises(InsecureKeyError):
        AsyncClient("http://192.0.2.1:11434", api_key="secret-key")
    assert "secret" not in repr(AsyncClient(emu.url, api_key="secret-key"))


@pytest.mark.parametrize(
    ("model", "error"),
    [("error-midstream", ServerStreamError), ("malformed", MalformedChunk), ("dropped", StreamCut)],
)
def test_errors_during_a_stream_keep_the_partial_reply(emu, model, error):
    async def read() -> tuple[list[str], BaseException]:
        seen: list[str] = []
        stream = await AsyncClient(emu.url).chat(model, messages=ASK, stream=True)
        stream.require_done = True
        try:
            async for part in stream:
                seen.append(part["message"]["content"])
        except Exception as err:
            return seen, err
        raise AssertionError("the stream ended without its error")

    seen, err = run(read())
    assert isinstance(err, error) and len(seen) == 5
    assert err.reply is not None and err.reply.content == "".join(seen) and err.reply.status == "failed"


def test_a_stall_becomes_a_timeout_error_not_a_hang(emu):
    async def read() -> Reply:
        stream = await AsyncClient(emu.url, timeout=0.5).chat("stall", messages=ASK, stream=True)
        async for _ in stream:
            pass
        return stream.reply

    with pytest.raises(StallTimeout) as info:
        run(read())
    assert info.value.reply is not None and info.value.reply.content  # the five tokens before the stall
    with pytest.raises(StallTimeout):
        run(AsyncClient(emu.url, timeout=0.5).chat("loading", messages=ASK))
    assert emu.wait_for_disconnect() and emu.wait_for_disconnect()


def test_keys_and_headers_follow_the_sync_rules_and_a_key_never_shows(monkeypatch):
    key = "sk-async-secret-4c3b2a"
    with Emulator(key="another-key") as emu:
        client = AsyncClient(emu.url, api_key=key, headers={"X-Course": "stats-101", "Content-Type": "text/plain"})
        assert key not in repr(client) and "api_key=set" in repr(client) and client.has_key
        with pytest.raises(AuthenticationError) as info:
            run(client.chat("llama3.2", messages=ASK))
        assert key not in str(info.value) and key not in repr(info.value)
        sent = emu.requests[-1].headers
        assert sent["x-course"] == "stats-101" and sent["content-type"] == "application/json"
        assert sent["authorization"] == f"Bearer {key}"
    monkeypatch.setenv("OLLAMA_API_KEY", key)
    assert not AsyncClient("http://192.0.2.10:11434").has_key  # an ambient key is not sent over plain http


# -- retries ---------------------------------------------------------------------------------------
def test_a_busy_server_is_retried_streamed_or_not(emu):
    emu.refuse("busy", times=2)

    async def ask() -> tuple[Reply, str]:
        client = AsyncClient(emu.url, retries=QUICK)
        reply = await client.chat("llama3.2", messages=ASK)
        emu.refuse("busy")
        stream = await client.chat("llama3.2", messages=ASK, stream=True)
        return reply, "".join([p["message"]["content"] async for p in stream])

    reply, streamed = run(ask())
    assert reply.done and streamed == reply.content and len(bodies(emu, "/api/chat")) == 5
    emu.refuse("busy", times=10)
    with pytest.raises(ServerBusy) as info:
        run(AsyncClient(emu.url, retries=Retry(attempts=2, first=0.01, longest=0.01)).chat("llama3.2", ASK))
    assert info.value.attempts == 2 and "Try again in a minute" in str(info.value)


# -- misuse that would hang or mislead: said plainly, with the fix ---------------------------------
def test_sync_use_of_the_async_faces_says_what_to_write(emu):
    async def misuse() -> None:
        stream = await AsyncClient(emu.url).chat("llama3.2", messages=ASK, stream=True)
        with pytest.raises(TypeError, match="async for part in stream"):
            for _ in stream:  # type: ignore[attr-defined]
                pass
        assert [p async for p in stream]
        with pytest.raises(RuntimeError, match="read only once"):
            stream.__aiter__()

    run(misuse())

    async def read_after_close() -> None:
        async with AsyncClient(emu.url) as client:
            stream = await client.chat("slow", messages=ASK, stream=True)
        with pytest.raises(RuntimeError, match="read it inside `async with"):
            async for _ in stream:
                pass

    run(read_after_close())
    assert emu.wait_for_disconnect()  # and its connection was closed
    with pytest.raises(TypeError, match="async with AsyncClient"), AsyncClient(emu.url):
        pass


def test_one_client_serves_one_loop_after_another(emu):
    client = AsyncClient(emu.url)
    first = run(client.chat("llama3.2", messages=ASK))
    second = run(client.chat("llama3.2", messages=ASK))  # a new loop: asyncio.run again, as a script may
    assert first.content == second.content
    run(client.close())


def test_every_public_method_of_client_has_an_async_twin():
    """A route added to Client without its AsyncClient twin fails here, not in a user's notebook."""
    import inspect

    def routes(cls):
        return {n for n, v in vars(cls).items() if not n.startswith("_") and inspect.isfunction(v)}

    sync_only = {"hooked", "map"}  # a view's shared-client helper; map runs its own workers
    missing = routes(Client) - sync_only - set(dir(AsyncClient))
    assert not missing, f"AsyncClient lacks {sorted(missing)}"
