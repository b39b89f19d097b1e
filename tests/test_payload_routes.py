"""The emulator serves a given payload in the field a test names (tests/corpus/routes.py)."""

from __future__ import annotations

import pytest
from corpus.routes import PayloadRoutes

from ollama_nb import Client, ModelBrowser, OllamaError, SigninRequired
from ollama_nb._errors import describe
from ollama_nb._quota import quota_rows
from ollama_nb._render import chrome
from ollama_nb.testing import Emulator

CHUNKS = ["<im", "g src=x onerror=__pwn(1)>"]
TEXT = "".join(CHUNKS)
HI = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def hostile():
    with Emulator() as emu:
        routes = PayloadRoutes({"p1": CHUNKS}, tags=True, usage=True).install(emu)
        with Client(emu.url) as client:
            yield routes, client, emu


def test_answer_streams_the_chunks_as_given(hostile):
    routes, client, _ = hostile
    pieces = [c.message.content for c in client.chat(model=routes.model("content", "p1"), messages=HI, stream=True)]
    assert pieces[:2] == CHUNKS and "".join(pieces) == TEXT
    assert client.generate(model=routes.model("content", "p1"), prompt="hi").response == TEXT


def test_thinking_tool_arguments_and_model_name(hostile):
    routes, client, _ = hostile
    assert client.chat(model=routes.model("thinking", "p1"), messages=HI).message.thinking == TEXT
    call = client.chat(model=routes.model("tool", "p1"), messages=HI).message.tool_calls[0]
    assert call.function.arguments == {"query": TEXT}
    chunks = list(client.chat(model=routes.model("model", "p1"), messages=HI, stream=True))
    assert {c.model for c in chunks} == {TEXT} and chunks[-1].done


def test_errors_before_and_during_the_stream(hostile):
    routes, client, _ = hostile
    with pytest.raises(OllamaError, match="onerror"):
        client.chat(model=routes.model("error", "p1"), messages=HI)
    seen = []
    with pytest.raises(OllamaError, match="onerror"):
        for chunk in client.chat(model=routes.model("midstream", "p1"), messages=HI, stream=True):
            seen.append(chunk.message.content)
    assert "".join(seen).startswith("Partial answer")


def test_tags_ps_and_show_carry_the_payload(hostile):
    routes, client, _ = hostile
    listed = client.list().models
    assert listed[-1].model == TEXT and listed[-1].details.family == TEXT
    assert any(m.model == "llama3.2:latest" for m in listed)  # the ordinary models stay
    assert client.ps().models[-1].model == TEXT
    for name in (TEXT, routes.model("show", "p1")):
        shown = client.show(name)
        assert shown.license == TEXT and shown.template == TEXT and TEXT in shown.modelfile


def test_a_signin_refusal_carries_the_payload_as_its_signin_url_and_no_view_links_it():
    for url in (TEXT, "javascript:__pwn(1)", "data:text/html,<script>__pwn(1)</script>"):
        with Emulator() as emu, Client(emu.url) as other:
            PayloadRoutes({"s1": [url]}).install(emu)
            with pytest.raises(SigninRequired) as info:
                other.chat(model="payload-signin:s1", messages=HI)
        assert info.value.status_code == 401 and info.value.signin_url == url  # kept for code that wants it
        message, hint = describe(info.value)
        shown = chrome.error_box(message, hint)
        # the views say what to run; the server's URL is neither text nor a link there
        assert "ollama signin" in hint and url not in message + hint and "href" not in shown and "<a" not in shown


def test_usage_reports_a_limit_per_payload_and_the_views_keep_it_text(hostile):
    _, client, emu = hostile
    limits = client.usage()["limits"]
    assert limits[TEXT] == {"usage": TEXT, "resets_at": TEXT}
    balance = client.balance()
    assert balance["included"][TEXT] == {"remaining_percent": TEXT, "resets_at": TEXT}
    rows = quota_rows(balance, client.usage())
    blank = {"limit": TEXT, "fraction": None, "used": "–", "resets": ""}  # no number, no time: none shown
    assert rows == [blank, {"limit": "purchased credits", "fraction": None, "used": "$0.00 left", "resets": ""}, blank]
    table = chrome.usage_table(rows)
    assert "<img" not in table and "&lt;img src=x onerror=__pwn(1)&gt;" in table
    client = Client(emu.url, api_key="payload-usage-key")
    client.cloud = True  # the emulator plays ollama.com here
    browser = ModelBrowser(client=client)
    try:
        assert browser.quota == rows
    finally:
        browser.close()


def test_other_models_are_untouched(hostile):
    routes, client, _ = hostile
    assert "<" not in client.chat(model="llama3.2", messages=HI, options={"seed": 1}).message.content
    with pytest.raises(OllamaError, match="not found"):
        client.chat(model="payload-content:unknown", messages=HI)
    with pytest.raises(ValueError):
        routes.model("nowhere", "p1")


def test_names_that_differ_only_by_white_space_are_models_of_their_own():
    spaced = {"n1": [" llama3.2 "], "n2": ["llama3.2:latest\n"]}
    with Emulator() as emu, Client(emu.url) as client:
        PayloadRoutes(spaced, tags=True).install(emu)
        assert {" llama3.2 ", "llama3.2:latest\n"} <= {m.model for m in client.list().models}
        assert client.show(" llama3.2 ").license == " llama3.2 "  # not llama3.2's own answer
        assert client.show("llama3.2").license != " llama3.2 "
        client.delete("llama3.2:latest\n")  # the exact name only: llama3.2:latest stays
        listed = {m.model for m in client.list().models}
        assert "llama3.2:latest\n" not in listed and {" llama3.2 ", "llama3.2:latest"} <= listed
        assert "llama3.2:latest\n" not in {m.model for m in client.ps().models}
        for call in (client.show, client.delete):
            with pytest.raises(OllamaError, match="not found"):
                call("llama3.2:latest\n")
