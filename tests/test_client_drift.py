"""The client where it had drifted from the server and from ollama-python (issue 23): fields a newer
server adds, ``show``'s request fields, httpx's ``proxy=`` / ``auth=``, an unavailable account."""

from __future__ import annotations

import base64
import json

import pytest

from ollama_nb import AccountUnavailable, Client, InvalidRequest, ResponseError, ServerBusy
from ollama_nb._redact import redact
from ollama_nb.testing import Emulator
from tests.loopback_proxy import LoopbackProxy

HI = [{"role": "user", "content": "Hi"}]
FINAL = {
    "model": "llama3.2",
    "created_at": "2026-12-07T04:00:00Z",
    "message": {"role": "assistant", "content": "Hello."},
    "done": True,
    "done_reason": "stop",
    "total_duration": 900,
    "prompt_eval_count": 40,
    "prompt_eval_cached_count": 32,
    "prompt_eval_duration": 100,
    "eval_count": 3,
    "eval_duration": 300,
    "draft_accepted_count": 2,
}


def last(emu, path):
    return [r for r in emu.requests if r.path == path][-1]


# -- stats fields a newer server sends --------------------------------------------------------------
def test_a_stats_field_the_server_adds_reads_as_an_attribute_and_is_kept(emu, client):
    emu.answer_next("/api/chat", json.dumps(FINAL).encode())
    reply = client.chat("llama3.2", messages=HI)
    assert reply.prompt_eval_cached_count == 32 and reply["prompt_eval_cached_count"] == 32
    assert reply.draft_accepted_count == 2
    stats = reply.stats()
    assert stats["prompt_eval_cached_count"] == 32 and stats["draft_accepted_count"] == 2
    assert reply.eval_count == 3 and reply.remote_host is None  # known fields still read None when absent
    with pytest.raises(AttributeError):
        reply.no_such_field  # an unknown name that did not arrive is still an error


def test_a_streamed_answer_keeps_the_added_field_too(emu, client):
    first = {**FINAL, "message": {"role": "assistant", "content": "Hel"}, "done": False}
    for key in ("done_reason", "total_duration", "prompt_eval_cached_count", "draft_accepted_count"):
        first.pop(key)
    emu.answer_next("/api/chat", (json.dumps(first) + "\n" + json.dumps(FINAL) + "\n").encode(), content_type="application/x-ndjson")
    stream = client.chat("llama3.2", messages=HI, stream=True)
    parts = list(stream)
    assert parts[-1].prompt_eval_cached_count == 32
    assert stream.reply.prompt_eval_cached_count == 32 and stream.reply.content == "HelHello."


# -- show(system=, options=) -------------------------------------------------------------------------
def test_show_sends_system_and_options(emu, client):
    shown = client.show("llama3.2", system="You are terse.", options={"temperature": 0.1})
    body = last(emu, "/api/show").json
    assert body == {"model": "llama3.2", "system": "You are terse.", "options": {"temperature": 0.1}}
    assert shown.system == "You are terse."
    client.show("llama3.2")
    assert last(emu, "/api/show").json == {"model": "llama3.2"}


# -- proxy= and auth= ------------------------------------------------------------------------------
def test_proxy_is_used_even_for_this_machine(emu):
    with LoopbackProxy() as proxy, Client(emu.url, proxy=proxy.url) as client:
        assert client.list().models
    assert [(m, p) for m, p, _ in proxy.requests] == [("GET", f"{emu.url}/api/tags")]


def test_without_proxy_nothing_goes_through_one(emu):
    with LoopbackProxy() as proxy, Client(emu.url) as client:
        client.list()
    assert proxy.requests == []


def test_auth_pair_is_sent_as_basic_auth_and_masked(emu):
    with Client(emu.url, auth=("teacher", "s3cret-pw")) as client:
        client.list()
        assert "s3cret-pw" not in repr(client)
    expected = "Basic " + base64.b64encode(b"teacher:s3cret-pw").decode()
    assert last(emu, "/api/tags").headers["authorization"] == expected
    assert "s3cret-pw" not in redact("the proxy said: s3cret-pw") and expected not in redact(expected)


def test_auth_callable_of_requests_is_used(emu):
    def sign(request):
        request.headers["X-Signed"] = "yes"
        return request

    with Client(emu.url, auth=sign) as client:
        client.list()
    assert last(emu, "/api/tags").headers["x-signed"] == "yes"


class FakeHttpxAuth:
    """Stands for an ``httpx.Auth``: what matters is the module it comes from."""


FakeHttpxAuth.__module__ = "httpx._auth"


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"auth": FakeHttpxAuth()}, "requests, not httpx"),
        ({"auth": "user:pw"}, "cannot be used"),
        ({"auth": ("a", "b", "c")}, "cannot be used"),
        ({"auth": ("user", "pw"), "api_key": "k"}, "Pass one of them"),
        ({"proxy": 3128}, "proxy must be a URL"),
    ],
)
def test_httpx_options_we_cannot_honour_are_refused_clearly(emu, kwargs, says):
    with pytest.raises(InvalidRequest) as info:
        Client(emu.url, **kwargs)
    assert says in str(info.value) + info.value.hint
    assert "pw" not in str(info.value)


# -- 503 account unavailable -------------------------------------------------------------------------
def test_account_unavailable_is_not_retried_as_busy(emu):
    emu.set_account_unavailable()
    with Client(emu.url) as client, pytest.raises(AccountUnavailable) as info:
        client._json("POST", "/api/me", {})
    err = info.value
    assert isinstance(err, ResponseError) and not isinstance(err, ServerBusy) and err.status_code == 503
    assert "https://ollama.com/settings" in err.hint
    assert sum(r.path == "/api/me" for r in emu.requests) == 1  # asked once, never retried


def test_a_busy_503_is_still_retried(emu):
    emu.refuse("busy", times=1)
    with Client(emu.url) as client:
        assert client.chat("llama3.2", messages=HI).done
    assert sum(r.path == "/api/chat" for r in emu.requests) == 2


# -- think levels the model lists (/api/show's "thinking", newer servers) ---------------------------
def test_think_level_is_checked_against_the_models_own_list(emu, client):
    assert client.chat("gpt-oss:20b", messages=HI, think="low").done
    with pytest.raises(InvalidRequest) as info:
        client.chat("gpt-oss:20b", messages=HI, think="max")  # in the fixed list, not in this model's
    assert "not a level this model offers" in str(info.value) and "'low', 'medium', 'high'" in info.value.hint
    assert [r.path for r in emu.requests].count("/api/show") == 1  # asked once per model
    assert [r.json.get("think") for r in emu.requests if r.path == "/api/chat"] == ["low"]


def test_without_a_list_from_the_server_the_fixed_list_applies(emu, client):
    assert client.chat("qwen3", messages=HI, think="max").done  # its show has no "thinking"
    assert last(emu, "/api/chat").json["think"] == "max"
    with pytest.raises(InvalidRequest, match="is not allowed"):
        client.chat("qwen3", messages=HI, think="xhigh")
    assert client.chat("gpt-oss:20b", messages=HI, think=True).done  # booleans are the server's to judge


@pytest.mark.parametrize(
    "thinking",
    [{"values": "low medium"}, {"values": [1, 2, None]}, ["low"], "high", {"values": ["x" * 500]}, {"values": ["low"] * 1000}],
)
def test_an_odd_thinking_field_reads_as_not_said(emu, client, thinking):
    shown = client.show("qwen3")
    emu.answer_next("/api/show", json.dumps({**shown, "thinking": thinking}).encode())
    assert client.chat("qwen3", messages=HI, think="high").done
    assert last(emu, "/api/chat").json["think"] == "high"


def test_a_boolean_only_model_refuses_a_named_level(emu, client):
    shown = client.show("qwen3")
    emu.answer_next("/api/show", json.dumps({**shown, "thinking": {"values": [True, False]}}).encode())
    with pytest.raises(InvalidRequest) as info:
        client.chat("qwen3", messages=HI, think="high")
    assert "True or False only" in info.value.hint


# -- image generation: what the server does, said ----------------------------------------------------
def test_an_image_model_refusal_says_image_generation_is_gone(emu, client):
    emu.answer_next(
        "/api/generate", b'{"error":"image generation models are not currently supported"}', status=400
    )
    with pytest.raises(ResponseError) as info:
        client.generate("x/z-image-turbo", "a red fox", width=512, height=512, steps=4)
    err = info.value
    assert err.status_code == 400 and "no longer runs image-generation models" in err.hint
    assert {k: last(emu, "/api/generate").json[k] for k in ("width", "height", "steps")} == {
        "width": 512, "height": 512, "steps": 4,
    }  # sent as ollama-python sends them
    assert "do nothing today" in " ".join((Client.generate.__doc__ or "").split())  # and the docs say so


def test_async_client_honours_proxy_and_auth_too(emu):
    import asyncio

    from ollama_nb import AsyncClient

    async def ask(proxy_url: str) -> bool:
        client = AsyncClient(emu.url, proxy=proxy_url, auth=("u", "pw"))
        try:
            return (await client.chat("llama3.2", messages=HI)).done
        finally:
            await client.close()

    with LoopbackProxy() as proxy:
        assert asyncio.run(ask(proxy.url))
    assert [(m, p) for m, p, _ in proxy.requests] == [("POST", f"{emu.url}/api/chat")]
    assert last(emu, "/api/chat").headers["authorization"] == "Basic " + base64.b64encode(b"u:pw").decode()


def test_the_servers_login_never_goes_to_the_web_host(emu, monkeypatch):
    monkeypatch.setenv("OLLAMA_API_KEY", "web-key")
    with Emulator(key="web-key") as web, Client(emu.url, auth=("teacher", "s3cret-pw"), web_host=web.url) as client:
        client.web_search("tides")
        client.list()
        assert last(web, "/api/web_search").headers["authorization"] == "Bearer web-key"
    assert last(emu, "/api/tags").headers["authorization"].startswith("Basic ")
