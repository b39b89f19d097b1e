"""What the kernel remembers of a model (its think levels, context length, cache digest) is asked
again once the models changed, whichever way they changed: the ModelBrowser's pull, copy and
delete, ``%ollama pull``, or the client's own routes called from code."""

from __future__ import annotations

import pytest

from ollama_nb import InvalidRequest, ModelBrowser, OllamaError
from ollama_nb._context import model_context_length
from ollama_nb._models_memo import models_version
from ollama_nb._store import turns

HI = [{"role": "user", "content": "Hi"}]


def asked(emu, path: str) -> int:
    return sum(r.path == path for r in emu.requests)


@pytest.fixture
def browser(client):
    b = ModelBrowser(client=client)
    yield b
    b._join(5)
    b.close()


def test_a_level_the_newly_pulled_model_offers_goes_through_after_a_browser_pull(emu, client, browser):
    assert client.chat("qwen3", messages=HI, think="high").done  # its show lists no levels: the fixed list
    emu.publish("qwen3", thinking={"values": ["low", "high", "xhigh"], "default": "high"})
    with pytest.raises(InvalidRequest):
        client.chat("qwen3", messages=HI, think="xhigh")  # not yet: the installed qwen3 has no such level
    shows = asked(emu, "/api/show")
    assert browser.pull("qwen3").state == "done"
    assert client.chat("qwen3", messages=HI, think="xhigh").done
    assert asked(emu, "/api/show") == shows + 1  # asked again once, then remembered
    assert [r.json.get("think") for r in emu.requests if r.path == "/api/chat"] == ["high", "xhigh"]


def test_the_context_length_is_read_again_after_a_pull(emu, client, browser):
    # Keyed by the digest /api/ps gave before the pull: the memo itself was emptied, not just missed.
    assert model_context_length(client, "qwen3", "sha256:before") == 40960
    emu.publish("qwen3", context_length=131072)
    assert model_context_length(client, "qwen3", "sha256:before") == 40960  # remembered, not asked
    shows = asked(emu, "/api/show")
    browser.pull("qwen3")
    assert model_context_length(client, "qwen3", "sha256:before") == 131072
    assert asked(emu, "/api/show") == shows + 1


def test_the_cache_digests_are_read_again_after_a_browser_copy_or_delete(emu, client, browser):
    tags = asked(emu, "/api/tags")  # the browser's own listing
    assert turns.digest(client, "llama3.2", ask=True)
    assert turns.digest(client, "llama3.2", ask=True) and asked(emu, "/api/tags") == tags + 1
    tags = asked(emu, "/api/tags")
    browser.copy("llama3.2", "mine")
    assert turns.digest(client, "mine", ask=True) and asked(emu, "/api/tags") > tags
    tags = asked(emu, "/api/tags")
    browser.delete("mine:latest")
    assert turns.digest(client, "mine", ask=True) is None and asked(emu, "/api/tags") > tags


def test_a_pull_that_installs_nothing_forgets_nothing(emu, client, browser):
    before = models_version()
    with pytest.raises(OllamaError):
        browser.pull("no-such-model")
    assert models_version() == before


def test_plain_client_calls_count_as_changes_too(emu, client):
    before = models_version()
    client.copy("llama3.2", "other")
    client.delete("other")
    assert client.pull("qwen3").status == "success"  # not streamed
    for _ in client.pull("qwen3", stream=True):  # streamed: counted when its last line came
        pass
    client.pull("qwen3", stream=True).close()  # left before the end: installs nothing
    assert models_version() == before + 4
