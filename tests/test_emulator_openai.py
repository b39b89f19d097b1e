"""The emulator's OpenAI- and Anthropic-compatible routes, driven by the real ``openai`` package as
notebooks use it (``OpenAI(base_url=emu.url + "/v1", api_key="ollama")``), issue 23. Shapes follow
ollama/ollama's ``openai/openai.go``, ``openai/responses.go`` and ``anthropic/anthropic.go`` (fb30760)."""

from __future__ import annotations

import base64
import json
from typing import Any

import openai
import pytest
import requests

from ollama_nb.testing import Emulator


@pytest.fixture(scope="module")
def emu():
    with Emulator(scenarios=True) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def client(emu) -> openai.OpenAI:
    return openai.OpenAI(base_url=emu.url + "/v1", api_key="ollama", max_retries=0)


def native_answer(emu: Emulator, question: str, **extra: Any) -> str:
    body = {"model": "llama3.2", "messages": [{"role": "user", "content": question}], "stream": False,
            "options": {"seed": 1, "temperature": 1.0, "top_p": 1.0}, **extra}
    return requests.post(emu.url + "/api/chat", json=body, timeout=10).json()["message"]["content"]


def test_chat_completion_answers_as_the_native_route_does(client, emu):
    done = client.chat.completions.create(model="llama3.2", seed=1,
                                          messages=[{"role": "user", "content": "Is 91 a prime number?"}])
    assert done.object == "chat.completion" and done.id.startswith("chatcmpl-")
    assert done.system_fingerprint == "fp_ollama" and done.model == "llama3.2"
    sent = emu.last_request
    assert sent is not None and sent.path == "/v1/chat/completions" and sent.headers["authorization"] == "Bearer ollama"
    choice = done.choices[0]
    assert choice.message.role == "assistant" and choice.finish_reason == "stop"
    assert choice.message.content == native_answer(emu, "Is 91 a prime number?")
    assert "91 = 7 × 13" in choice.message.content or "7 and 13" in choice.message.content
    assert done.usage.completion_tokens > 0 and done.usage.total_tokens == done.usage.prompt_tokens + done.usage.completion_tokens


def test_streamed_chat_is_sse_with_role_first_and_a_finish_chunk(client, emu):
    stream = client.chat.completions.create(model="llama3.2", seed=1, stream=True,
                                            stream_options={"include_usage": True},
                                            messages=[{"role": "user", "content": "Is 91 a prime number?"}])
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert all(c.choices[0].delta.role is None for c in chunks[1:] if c.choices)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == native_answer(emu, "Is 91 a prime number?")
    finish = [c for c in chunks if c.choices and c.choices[0].finish_reason]
    assert len(finish) == 1 and finish[0].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0  # include_usage
    assert len({c.id for c in chunks}) == 1 and len({c.created for c in chunks}) == 1
    raw = requests.post(emu.url + "/v1/chat/completions", timeout=10, stream=True, json={
        "model": "llama3.2", "stream": True, "messages": [{"role": "user", "content": "hi"}]})
    assert raw.headers["Content-Type"] == "text/event-stream"
    assert raw.text.endswith("data: [DONE]\n\n")


def test_thinking_arrives_as_reasoning_before_the_content(client):
    stream = client.chat.completions.create(model="qwen3", stream=True, reasoning_effort="high",
                                            messages=[{"role": "user", "content": "Is 91 a prime number?"}])
    deltas = [c.choices[0].delta for c in stream if c.choices]
    reasoning = "".join(getattr(d, "reasoning", None) or "" for d in deltas)
    content = "".join(d.content or "" for d in deltas)
    assert "Let me check that once more" in reasoning  # "high": the final check
    assert content and "Let me check" not in content
    off = client.chat.completions.create(model="qwen3", reasoning_effort="none",
                                         messages=[{"role": "user", "content": "Is 91 a prime number?"}])
    assert getattr(off.choices[0].message, "reasoning", None) is None


def test_tools_come_back_as_openai_tool_calls_and_the_result_is_used(client):
    tools = [{"type": "function", "function": {"name": "get_weather", "description": "Current weather in a city",
              "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
    ask = [{"role": "user", "content": "What is the weather in Paris?"}]
    done = client.chat.completions.create(model="llama3.2", messages=ask, tools=tools)
    call = done.choices[0].message.tool_calls[0]
    assert done.choices[0].finish_reason == "tool_calls"
    assert call.type == "function" and call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    followed = [*ask, done.choices[0].message.model_dump(exclude_none=True),
                {"role": "tool", "tool_call_id": call.id, "content": '{"temperature": 18, "sky": "sunny"}'}]
    answer = client.chat.completions.create(model="llama3.2", messages=followed, tools=tools)
    assert "18" in answer.choices[0].message.content and "sunny" in answer.choices[0].message.content
    streamed = list(client.chat.completions.create(model="llama3.2", messages=ask, tools=tools, stream=True))
    assert [c.choices[0].finish_reason for c in streamed if c.choices][-1] == "tool_calls"


def test_response_format_json_schema_gives_valid_json(client):
    schema = {"type": "object", "properties": {"colors": {"type": "array", "items": {"type": "string"}}},
              "required": ["colors"]}
    done = client.chat.completions.create(
        model="llama3.2", messages=[{"role": "user", "content": "List the colours of the rainbow."}],
        response_format={"type": "json_schema", "json_schema": {"name": "rainbow", "schema": schema}})
    colors = json.loads(done.choices[0].message.content)["colors"]
    assert "red" in [c.lower() for c in colors]
    plain = client.chat.completions.create(model="llama3.2", response_format={"type": "json_object"},
                                           messages=[{"role": "user", "content": "Is 91 prime?"}])
    assert isinstance(json.loads(plain.choices[0].message.content), dict)


def test_max_tokens_and_stop_cut_the_answer(client):
    cut = client.chat.completions.create(model="llama3.2", max_tokens=3,
                                         messages=[{"role": "user", "content": "Is 91 a prime number?"}])
    assert cut.choices[0].message.content == "No, 91 is" and cut.choices[0].finish_reason == "length"
    essay = client.chat.completions.create(model="essay", max_tokens=5, messages=[{"role": "user", "content": "one"}])
    assert essay.choices[0].message.content == "one-0 one-1 one-2 one-3 one-4"  # essay: exactly max_tokens
    stopped = client.chat.completions.create(model="llama3.2", stop=" prime",
                                             messages=[{"role": "user", "content": "Is 91 a prime number?"}])
    assert stopped.choices[0].message.content == "No, 91 is not a"


def test_completions_streamed_and_not(client):
    done = client.completions.create(model="essay", prompt="word", max_tokens=4)
    assert done.object == "text_completion" and done.id.startswith("cmpl-")
    assert done.choices[0].text == "word-0 word-1 word-2 word-3" and done.choices[0].finish_reason == "stop"
    assert done.usage.completion_tokens == 4
    chunks = list(client.completions.create(model="essay", prompt="word", max_tokens=4, stream=True))
    assert "".join(c.choices[0].text for c in chunks if c.choices) == "word-0 word-1 word-2 word-3"
    assert [c.choices[0].finish_reason for c in chunks if c.choices] == [None] * 4 + ["stop"]
    cut = client.completions.create(model="llama3.2", prompt="Is 91 a prime number?", max_tokens=3)
    assert cut.choices[0].finish_reason == "length"


def test_embeddings_as_floats_and_as_base64(client, emu):
    native = requests.post(emu.url + "/api/embed", json={"model": "nomic-embed-text", "input": ["a cat", "a dog"]},
                           timeout=10).json()["embeddings"]
    got = client.embeddings.create(model="nomic-embed-text", input=["a cat", "a dog"])  # the package asks base64
    assert emu.last_request is not None and emu.last_request.json["encoding_format"] == "base64"
    assert [d.index for d in got.data] == [0, 1] and got.model == "nomic-embed-text"
    assert got.data[0].embedding == pytest.approx(native[0], rel=1e-6)
    floats = client.embeddings.create(model="nomic-embed-text", input="a cat", encoding_format="float")
    assert floats.data[0].embedding == native[0] and floats.usage.prompt_tokens > 0
    raw = requests.post(emu.url + "/v1/embeddings", timeout=10, json={
        "model": "nomic-embed-text", "input": "a cat", "encoding_format": "base64"}).json()
    assert len(base64.b64decode(raw["data"][0]["embedding"])) == 4 * len(native[0])


def test_models_list_and_retrieve(client, emu):
    listed = client.models.list()
    ids = [m.id for m in listed.data]
    assert ids == emu.model_names()
    assert all(m.object == "model" and m.owned_by == "library" and m.created > 0 for m in listed.data)
    one = client.models.retrieve("llama3.2")
    assert one.id == "llama3.2" and one.owned_by == "library"


@pytest.mark.parametrize("call", [
    lambda c: c.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "hi"}]),
    lambda c: c.completions.create(model="no-such-model", prompt="hi"),
    lambda c: c.embeddings.create(model="no-such-model", input="hi"),
    lambda c: c.models.retrieve("no-such-model"),
])
def test_an_unknown_model_is_the_openai_not_found_error(client, call):
    with pytest.raises(openai.NotFoundError) as caught:
        call(client)
    body = caught.value.body
    assert isinstance(body, dict) and body["type"] == "not_found_error" and "not found" in body["message"]
    assert set(body) == {"message", "type", "param", "code"}


def test_bad_requests_are_the_openai_bad_request_error(client, emu):
    with pytest.raises(openai.BadRequestError, match=r"\[\] is too short - 'messages'"):
        client.chat.completions.create(model="llama3.2", messages=[])
    with pytest.raises(openai.BadRequestError, match="invalid reasoning value"):
        client.chat.completions.create(model="llama3.2", reasoning_effort="huge",  # type: ignore[arg-type]
                                       messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.BadRequestError, match="image URLs are not currently supported"):
        client.chat.completions.create(model="llava", messages=[{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]}])
    bad = requests.post(emu.url + "/v1/embeddings", json={"model": "nomic-embed-text", "input": "x",
                                                          "encoding_format": "int8"}, timeout=10)
    assert bad.status_code == 400 and "Supported values: ['float', 'base64']" in bad.json()["error"]["message"]


def test_failures_mid_stream_and_busy_servers_reach_the_openai_client(client, emu):
    stream = client.chat.completions.create(model="error-midstream", stream=True,
                                            messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.APIError, match="llama runner process has terminated"):
        for _ in stream:
            pass
    emu.refuse("busy")
    with pytest.raises(openai.InternalServerError) as caught:
        client.chat.completions.create(model="llama3.2", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.status_code == 503 and "server busy" in caught.value.message


def test_responses_text_streamed_and_not(client, emu):
    done = client.responses.create(model="llama3.2", input="Is 91 a prime number?", instructions="Be brief.")
    assert done.object == "response" and done.status == "completed" and done.id.startswith("resp_")
    assert done.output_text and "91" in done.output_text and done.instructions == "Be brief."
    assert done.usage.output_tokens > 0
    events = list(client.responses.create(model="qwen3", input="Is 91 a prime number?", stream=True))
    kinds = [e.type for e in events]
    assert kinds[:2] == ["response.created", "response.in_progress"] and kinds[-1] == "response.completed"
    assert "response.reasoning_summary_text.delta" in kinds
    assert kinds.index("response.reasoning_summary_text.done") < kinds.index("response.output_text.delta")
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == events[-1].response.output_text
    assert [e.sequence_number for e in events] == list(range(len(events)))


def test_responses_function_calls(client):
    tools = [{"type": "function", "name": "get_weather", "description": "Current weather in a city",
              "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}]
    done = client.responses.create(model="llama3.2", input="What is the weather in Paris?", tools=tools)
    call = done.output[0]
    assert call.type == "function_call" and call.name == "get_weather" and json.loads(call.arguments) == {"city": "Paris"}
    after = client.responses.create(model="llama3.2", tools=tools, input=[
        {"role": "user", "content": "What is the weather in Paris?"},
        {"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments},
        {"type": "function_call_output", "call_id": call.call_id, "output": '{"temperature": 18}'}])
    assert "18" in after.output_text
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model="no-such-model", input="hi")


def anthropic_post(emu: Emulator, body: dict[str, Any], **kw: Any) -> requests.Response:
    return requests.post(emu.url + "/v1/messages", json=body, timeout=10,
                         headers={"x-api-key": "ollama", "anthropic-version": "2023-06-01"}, **kw)


def test_anthropic_messages_streamed_and_not(emu):
    question = {"role": "user", "content": "Is 91 a prime number?"}
    done = anthropic_post(emu, {"model": "llama3.2", "max_tokens": 200, "messages": [question]}).json()
    assert done["type"] == "message" and done["id"].startswith("msg_") and done["stop_reason"] == "end_turn"
    assert done["content"][0]["type"] == "text" and "91" in done["content"][0]["text"]
    assert done["usage"]["output_tokens"] > 0
    raw = anthropic_post(emu, {"model": "qwen3", "max_tokens": 400, "stream": True, "messages": [question],
                               "thinking": {"type": "enabled", "budget_tokens": 100}}, stream=True)
    assert raw.headers["Content-Type"] == "text/event-stream"
    events = [json.loads(line[6:]) for line in raw.iter_lines(decode_unicode=True) if line.startswith("data: ")]
    kinds = [e["type"] for e in events]
    assert kinds[0] == "message_start" and kinds[-2:] == ["message_delta", "message_stop"]
    blocks = [e["content_block"]["type"] for e in events if e["type"] == "content_block_start"]
    assert blocks == ["thinking", "text"]
    assert kinds.count("content_block_stop") == 2
    text = "".join(e["delta"].get("text", "") for e in events if e["type"] == "content_block_delta")
    assert "91" in text


def test_anthropic_errors_have_the_anthropic_shape(emu):
    missing = anthropic_post(emu, {"model": "no-such-model", "max_tokens": 10,
                                   "messages": [{"role": "user", "content": "hi"}]})
    assert missing.status_code == 404
    body = missing.json()
    assert body["type"] == "error" and body["error"]["type"] == "not_found_error" and body["request_id"].startswith("req_")
    no_max = anthropic_post(emu, {"model": "llama3.2", "messages": [{"role": "user", "content": "hi"}]})
    assert no_max.status_code == 400 and no_max.json()["error"]["message"] == "max_tokens is required and must be positive"
