"""The official ollama-python client's own examples run against our emulator: a check that the
emulator speaks the real wire format (if the official client can read it, so can a real notebook)."""

from __future__ import annotations

import ollama


def test_official_client_examples(emu):
    client = ollama.Client(host=emu.url)
    messages = [{"role": "user", "content": "Why is the sky blue?"}]

    response = client.chat(model="llama3.2", messages=messages)
    assert response.message.content and response["message"]["role"] == "assistant"
    assert response.done and response.eval_count > 0

    text = "".join(part["message"]["content"] for part in client.chat("llama3.2", messages=messages, stream=True))
    assert text

    generated = client.generate(model="llama3.2", prompt="Why is the sky blue?")
    assert generated.response and generated.done_reason == "stop"

    thought = client.chat("qwen3", messages=messages, think=True)
    assert thought.message.thinking and thought.message.content

    embedded = client.embed(model="nomic-embed-text", input=["a", "b"])
    assert len(embedded.embeddings) == 2

    names = [m.model for m in client.list().models]
    assert "llama3.2:latest" in names
    shown = client.show("llama3.2")
    assert shown.capabilities and shown.modelinfo

    statuses = [p.status for p in client.pull("smollm2:135m", stream=True)]
    assert statuses[0] == "pulling manifest" and statuses[-1] == "success"
    assert client.copy("llama3.2", "user/llama3.2").status == "success"
    assert client.delete("user/llama3.2").status == "success"
    assert client.ps().models is not None

    try:
        client.chat("missing-model", messages=messages)
    except ollama.ResponseError as err:
        assert err.status_code == 404 and "not found" in err.error
    else:
        raise AssertionError("the official client should have raised for a missing model")
