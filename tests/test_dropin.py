"""ollama_nb as a drop-in for ollama-python (issue 10): code written for the official client, with
only the import changed, sends the same requests and gets answers it can read the same way.

Everything runs against the emulator on loopback; what the client sent is read from the
emulator's request log. Where the official package is installed (it is a test dependency, never
a runtime one) its own objects and its tool conversion are the reference.
"""

# No `from __future__ import annotations`: the official conversion needs the tool functions'
# annotations as real types.
import base64
import json
from datetime import datetime
from typing import Literal

import ollama as official  # the reference (a test dependency, as in test_fidelity.py)
import pytest
from ollama._utils import convert_function_to_tool

import ollama_nb
import ollama_nb as ollama  # how users of the official client write it
from ollama_nb import (
    AuthenticationError,
    ChatResponse,
    Client,
    GenerateResponse,
    Image,
    ListResponse,
    Message,
    ModelNotFound,
    Options,
    ProcessResponse,
    ProgressResponse,
    Reply,
    RequestError,
    ResponseError,
    ServerStreamError,
    ServerUnreachable,
    ShowResponse,
    StatusResponse,
    StreamCut,
    Tool,
)
from ollama_nb.testing import Emulator
from ollama_nb.tools import tool_schema

ASK = [{"role": "user", "content": "Why is the sky blue?"}]
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
PNG_B64 = base64.b64encode(PNG).decode()


def last(emu: Emulator, path: str):
    return [r for r in emu.requests if r.path == path][-1]


# -- the request the caller asked for ------------------------------------------------------------
@pytest.mark.parametrize("stream", [False, True])
def test_chat_body_is_what_ollama_python_sends(emu, client, stream):
    out = client.chat("llama3.2", messages=ASK, stream=stream)
    if stream:
        list(out)
    assert last(emu, "/api/chat").json == {"model": "llama3.2", "messages": ASK, "tools": [], "stream": stream}


@pytest.mark.parametrize("stream", [False, True])
def test_generate_body_is_what_ollama_python_sends(emu, client, stream):
    out = client.generate("llama3.2", "Why?", stream=stream)
    if stream:
        list(out)
    assert last(emu, "/api/generate").json == {"model": "llama3.2", "prompt": "Why?", "stream": stream}


@pytest.mark.parametrize("method", ["pull", "push"])
@pytest.mark.parametrize("stream", [False, True])
def test_pull_and_push_bodies_say_insecure_and_stream(emu, client, method, stream):
    name = "smollm2:135m" if method == "pull" else "llama3.2"
    out = getattr(client, method)(name, stream=stream)
    if stream:
        list(out)
    assert last(emu, f"/api/{method}").json == {"model": name, "insecure": False, "stream": stream}


@pytest.mark.parametrize("stream", [False, True])
def test_create_body_renames_from_and_says_stream(emu, client, stream):
    out = client.create("tutor", from_="llama3.2", system="Be kind.", stream=stream)
    if stream:
        assert [p.status for p in out][-1] == "success"
    else:
        assert isinstance(out, ProgressResponse) and out.status == "success"
    assert last(emu, "/api/create").json == {"model": "tutor", "system": "Be kind.", "from": "llama3.2", "stream": stream}


def test_the_other_routes_send_only_what_was_asked(emu, client):
    client.embed("nomic-embed-text", input=["a", "b"])
    assert last(emu, "/api/embed").json == {"model": "nomic-embed-text", "input": ["a", "b"]}
    client.embeddings("nomic-embed-text", prompt="a")
    assert last(emu, "/api/embeddings").json == {"model": "nomic-embed-text", "prompt": "a"}
    client.show("llama3.2")
    assert last(emu, "/api/show").json == {"model": "llama3.2"}
    assert client.copy("llama3.2", "mine") == {"status": "success"}
    assert last(emu, "/api/copy").json == {"source": "llama3.2", "destination": "mine"}
    assert client.delete("mine") == {"status": "success"}
    assert last(emu, "/api/delete").json == {"model": "mine"}
    client.list()
    client.ps()
    assert last(emu, "/api/tags").method == last(emu, "/api/ps").method == "GET"


def test_options_messages_and_images_as_ollama_python_sends_them(emu, client):
    client.chat(
        "llava",
        messages=[
            {"role": "system", "content": "", "images": []},  # empty fields are left out, as there
            Message(role="user", content="What is this?", images=[Image(value=PNG)]),
        ],
        options=Options(temperature=0, seed=1),
        keep_alive=0,
    )
    body = last(emu, "/api/chat").json
    assert body["messages"] == [{"role": "system"}, {"role": "user", "content": "What is this?", "images": [PNG_B64]}]
    assert body["options"] == {"temperature": 0, "seed": 1} and body["keep_alive"] == 0


def test_blob_upload_is_one_post_without_head(emu, client, tmp_path):
    blob = tmp_path / "adapter.bin"
    blob.write_bytes(b"weights" * 1000)
    digest = client.create_blob(blob)
    assert digest.startswith("sha256:") and len(digest) == 7 + 64
    sent = [r for r in emu.requests if r.path.startswith("/api/blobs/")]
    assert [r.method for r in sent] == ["POST"] and sent[0].body == b"weights" * 1000


def test_a_callers_content_type_does_not_replace_json(emu):
    with Client(emu.url, headers={"Content-Type": "text/plain", "X-Trace": "42"}) as client:
        client.chat("llama3.2", messages=ASK)
    headers = last(emu, "/api/chat").headers
    assert headers["content-type"] == "application/json" and headers["x-trace"] == "42"


# -- plain JSON and NDJSON bodies ----------------------------------------------------------------
def test_non_streamed_answer_is_one_json_object(emu, client):
    reply = client.chat("llama3.2", messages=ASK)
    assert last(emu, "/api/chat").json["stream"] is False
    assert isinstance(reply, Reply) and reply.done and reply.chunks == 1 and reply.content
    assert reply.status == "done" and reply.eval_count > 0


def test_a_json_answer_without_done_is_read_whole(emu, client):
    # What a test double or another server sends: no done, no metrics.
    emu.answer_next("/api/chat", json.dumps({"model": "m", "message": {"role": "assistant", "content": "Hi."}}).encode())
    reply = client.chat("m", messages=ASK)
    assert reply["message"]["content"] == "Hi." and reply.status == "done"
    assert reply.done is False and reply["done"] is False and reply.eval_count is None


def test_ndjson_to_a_non_streamed_request_is_merged(emu, client):
    lines = [{"model": "m", "response": w, "done": False} for w in ("Be", "cause")]
    lines.append({"model": "m", "response": "", "done": True, "done_reason": "stop", "eval_count": 2})
    emu.answer_next("/api/generate", b"".join(json.dumps(x).encode() + b"\n" for x in lines), content_type="application/x-ndjson")
    reply = client.generate("m", "Why?")
    assert reply.response == "Because" and reply.done and reply.eval_count == 2 and reply.chunks == 3


def test_ndjson_stream_ending_without_done_stops_quietly_and_says_so(emu, client):
    body = b"".join(json.dumps({"model": "m", "response": w}).encode() + b"\n" for w in ("a", "b"))
    emu.answer_next("/api/generate", body, content_type="application/x-ndjson")
    stream = client.generate("m", "x", stream=True)
    assert [p.response for p in stream] == ["a", "b"]  # as ollama-python: no exception
    assert stream.reply.status == "failed" and isinstance(stream.reply.error, StreamCut)
    # Our views ask for the strict reading: the same body is then an error with the partial answer.
    emu.answer_next("/api/generate", body, content_type="application/x-ndjson")
    strict = client.generate("m", "x", stream=True)
    strict.require_done = True
    with pytest.raises(StreamCut) as info:
        list(strict)
    assert info.value.reply.content == "ab"


def test_an_error_object_with_status_200_is_a_response_error(emu, client):
    emu.answer_next("/api/chat", b'{"error": "something broke"}')
    with pytest.raises(ResponseError) as info:
        client.chat("m", messages=ASK)
    assert info.value.error == "something broke" and info.value.status_code == 200


# -- one error model -----------------------------------------------------------------------------
def test_every_server_error_is_a_response_error_with_error_and_status(emu, client):
    cases = [
        (lambda: client.chat("nope", messages=ASK), ModelNotFound, 404, "not found"),
        (lambda: client.generate("nope", "x", stream=True), ModelNotFound, 404, "not found"),
        (lambda: client.chat("llama3.2", messages=ASK, think=True), ResponseError, 400, "does not support thinking"),
        (lambda: client.chat("llama3.2", messages=ASK, keep_alive="300"), ResponseError, 400, "missing unit"),
        (lambda: client.chat("error-midstream", messages=ASK), ResponseError, 500, "llama runner"),
        (lambda: list(client.chat("error-midstream", messages=ASK, stream=True)), ServerStreamError, -1, "llama runner"),
        (lambda: client.pull("no-such-model-anywhere"), ModelNotFound, 500, "file does not exist"),
        (lambda: list(client.pull("no-such-model-anywhere", stream=True)), ModelNotFound, -1, "file does not exist"),
    ]
    for call, kind, status, text in cases:
        with pytest.raises(ResponseError) as info:
            call()
        err = info.value
        assert type(err) is kind, (kind, err)
        assert err.status_code == status and text in err.error, err
        if status == -1 and kind is ModelNotFound:  # a pull's error line says what is missing, not "-1"
            assert str(err).startswith(f"{err.error}: there is no model `no-such-model-anywhere`"), err
            assert "status code" not in str(err)
        else:
            assert str(err).startswith(f"{err.error} (status code: {status})") or kind is ServerStreamError
        assert err.hint  # our subclasses and statuses keep a "what to do next"


def test_authentication_is_a_response_error_too():
    with Emulator(key="right") as emu, Client(emu.url, api_key="wrong") as client, pytest.raises(ResponseError) as info:
        client.list()
    assert isinstance(info.value, AuthenticationError) and info.value.status_code == 401
    assert "OLLAMA_API_KEY" in str(info.value) and "wrong" not in str(info.value)


def test_response_error_reads_like_the_official_one():
    err = ResponseError('{"error": "model is required"}', 400)
    assert err.error == "model is required" and err.status_code == 400
    assert str(err) == "model is required (status code: 400)"
    assert ResponseError("plain").status_code == -1


def test_client_side_errors_are_the_official_kinds():
    offline = Client("127.0.0.1:1")
    with pytest.raises(RequestError) as info:
        offline.generate("", "x")
    assert isinstance(info.value, ValueError) and info.value.error == "must provide a model"
    with pytest.raises(ValueError):
        offline.chat("m", messages=ASK, think="extreme")
    with pytest.raises(ValueError):
        offline.generate("m", "x", images=[Image(value="not base64 at all!")])
    with pytest.raises(ConnectionError) as down:  # what ollama-python raises when nothing answers
        offline.chat("m", messages=ASK)
    assert isinstance(down.value, ServerUnreachable)


# -- logprobs ------------------------------------------------------------------------------------
def test_logprobs_per_chunk_and_merged_in_the_reply(emu, client):
    stream = client.chat("llama3.2", messages=ASK, logprobs=True, top_logprobs=3, stream=True)
    parts = list(stream)
    per_chunk = [lp for p in parts for lp in (p.logprobs or [])]
    tokens = [p.message.content for p in parts if p.message.content]
    assert [lp["token"] for lp in per_chunk] == tokens
    first = parts[0].logprobs[0]
    assert first.logprob <= 0 and bytes(first.bytes).decode() == first.token
    assert len(first.top_logprobs) == 3 and first.top_logprobs[0].token == first.token
    assert stream.reply.logprobs == per_chunk and stream.reply["logprobs"] == per_chunk
    # stream:false: the server gathers every token's into the one answer.
    whole = client.chat("llama3.2", messages=ASK, logprobs=True, top_logprobs=3)
    assert "".join(lp.token for lp in whole.logprobs) == whole.content
    assert len(whole.logprobs) == whole.eval_count and all(len(lp.top_logprobs) == 3 for lp in whole.logprobs)


def test_no_logprobs_unless_asked(client):
    reply = client.generate("llama3.2", "Why?")
    assert reply.logprobs == [] and "logprobs" not in reply
    plain = client.generate("llama3.2", "Why?", logprobs=True)
    assert plain.logprobs and all("top_logprobs" not in lp for lp in plain.logprobs)


# -- response objects ----------------------------------------------------------------------------
def test_timestamps_are_datetimes_by_attribute_and_text_by_key(client):
    client.load("llama3.2", keep_alive="5m")
    model = client.list().models[0]
    assert isinstance(model.modified_at, datetime) and model.modified_at.tzinfo is not None
    assert isinstance(model["modified_at"], str)  # the dict stays the server's JSON
    running = client.ps().models[0]
    assert isinstance(running.expires_at, datetime) and running.expires_at > datetime.now(running.expires_at.tzinfo)
    assert isinstance(client.show("llama3.2").modified_at, datetime)


def test_model_dump_and_json_of_replies_and_chunks(client):
    reply = client.generate("llama3.2", "Why?")
    dumped = reply.model_dump()
    assert dumped["response"] == reply.response and dumped["done"] is True and dumped["context"] == reply.context
    assert json.loads(reply.model_dump_json()) == dumped
    models = client.list()
    assert isinstance(models.model_dump()["models"][0]["modified_at"], datetime)
    assert json.loads(models.model_dump_json()) == dict(models)
    part = next(iter(client.chat("llama3.2", messages=ASK, stream=True)))
    assert part.model_dump(exclude_none=True)["message"]["role"] == "assistant"


def test_absent_fields_read_as_none_and_types_are_the_official_names(client):
    reply = client.chat("llama3.2", messages=ASK)
    assert reply.context is None and reply.message.thinking is None and reply.message.tool_calls is None
    assert isinstance(reply, ChatResponse) and not isinstance(reply, GenerateResponse)
    assert isinstance(client.generate("llama3.2", "x"), GenerateResponse)
    parts = list(client.chat("llama3.2", messages=ASK, stream=True))
    assert all(isinstance(p, ChatResponse) for p in parts)
    assert isinstance(client.list(), ListResponse) and isinstance(client.ps(), ProcessResponse)
    assert isinstance(client.show("llama3.2"), ShowResponse) and client.show("llama3.2").modelinfo
    assert isinstance(client.copy("llama3.2", "x"), StatusResponse)
    with pytest.raises(AttributeError):
        reply.not_a_field


# -- module-level functions ----------------------------------------------------------------------
def test_module_functions_use_a_lazily_made_default_client(emu, monkeypatch):
    monkeypatch.setenv("OLLAMA_HOST", emu.url)  # set after import: still honoured
    before = len(emu.requests)
    response = ollama.chat(model="llama3.2", messages=[{"role": "user", "content": "Hi"}])
    assert response["message"]["content"] and len(emu.requests) == before + 1
    assert "".join(p["response"] for p in ollama.generate("llama3.2", "Hi", stream=True))
    assert "llama3.2:latest" in [m.model for m in ollama.list().models]
    assert ollama.show("llama3.2").capabilities and ollama.ps().models is not None
    assert ollama.copy("llama3.2", "again").status == "success" and ollama.delete("again").status == "success"
    assert len(ollama.embed("nomic-embed-text", input="x").embeddings) == 1
    assert ollama.pull("smollm2:135m").status == "success"
    assert {r.path for r in emu.requests[before:]} >= {"/api/chat", "/api/generate", "/api/tags", "/api/pull"}


def test_module_functions_have_the_methods_signatures_and_stay_out_of_star_imports():
    import inspect

    for name in ("generate", "chat", "embed", "embeddings", "pull", "push", "create", "delete", "list",
                 "copy", "show", "ps", "web_search", "web_fetch"):
        fn = getattr(ollama_nb, name)
        params = list(inspect.signature(fn).parameters)
        assert "self" not in params and params == list(inspect.signature(getattr(Client, name)).parameters)[1:]
        assert fn.__doc__ == getattr(Client, name).__doc__
        assert name not in ollama_nb.__all__  # `from ollama_nb import *` must not shadow list()


# -- tool schemas --------------------------------------------------------------------------------
def weather(city: str, unit: Literal["C", "F"], days: int | None = None) -> str:
    """Tell the weather.

    Args:
        city (string): The city,
            spelled out.
        unit: Celsius or Fahrenheit.
        days: How many days ahead.

    Returns:
        str: a sentence.
    """
    return city


def lowercase_args(x: int, y: int | str | None) -> int:
    """Mix two things.
    args:
        x: the first
        y (number or text): the second
    """
    return x


def summary_then_args(a, b: float = 1.0):
    """Scale a value.
    Args:
        a: The value: any text.
        b(number) : The factor.
    Raises:
        ValueError: never.
    """


def no_doc(q: list[str], r: dict[str, int], s: bool): ...


@pytest.mark.parametrize("func", [weather, lowercase_args, summary_then_args, no_doc])
def test_tool_schemas_equal_the_official_conversion(func):
    reference = convert_function_to_tool(func).model_dump(exclude_none=True)
    ours = tool_schema(func)
    for schema in (reference, ours):  # the official conversion orders union types as a set does
        for prop in schema["function"]["parameters"].get("properties", {}).values():
            prop["type"] = sorted(t.strip() for t in prop["type"].split(","))
            prop.pop("enum", None)  # ours keeps a Literal's values; the official one drops them
    assert ours == reference


def test_tool_schema_details_per_docstring_style():
    w = tool_schema(weather)["function"]
    assert w["description"] == "Tell the weather."
    assert w["parameters"]["properties"]["city"] == {"description": "The city, spelled out.", "type": "string"}
    assert w["parameters"]["properties"]["unit"]["enum"] == ["C", "F"]
    assert w["parameters"]["required"] == ["city", "unit"]  # days admits None
    m = tool_schema(lowercase_args)["function"]
    assert m["description"] == "Mix two things."  # `args:` right under the summary is a section
    assert m["parameters"]["properties"]["y"] == {"description": "the second", "type": "integer, string"}
    assert m["parameters"]["required"] == ["x"]
    s = tool_schema(summary_then_args)["function"]["parameters"]["properties"]
    assert s["a"] == {"description": "The value: any text.", "type": "string"} and s["b"]["description"] == "The factor."


def test_functions_tool_objects_and_dicts_are_sent_as_schemas(emu, client):
    as_dict = {"type": "function", "function": {"name": "noop", "description": "", "parameters": {"type": "object", "properties": {}}}}
    tool = Tool(function=Tool.Function(name="noop2", description="d", parameters=Tool.Function.Parameters(properties={})))
    client.chat("llama3.2", messages=ASK, tools=[weather, as_dict, tool])
    sent = last(emu, "/api/chat").json["tools"]
    assert sent == [tool_schema(weather), as_dict, {"type": "function", "function": {"name": "noop2", "description": "d", "parameters": {"type": "object", "properties": {}}}}]


# -- official objects by duck typing ---------------------------------------------------------------
def test_official_image_and_message_objects_are_accepted(emu, client, tmp_path):
    path = tmp_path / "dot.png"
    path.write_bytes(PNG)
    msg = official.Message(role="user", content="What is this?", images=[official.Image(value=str(path))])
    client.chat("llava", messages=[msg])
    assert last(emu, "/api/chat").json["messages"] == [{"role": "user", "content": "What is this?", "images": [PNG_B64]}]
    client.generate("llava", "And this?", images=[official.Image(value=PNG), Image(value=path)])
    assert last(emu, "/api/generate").json["images"] == [PNG_B64, PNG_B64]
    client.chat("llama3.2", messages=ASK, options=official.Options(temperature=0.5))
    assert last(emu, "/api/chat").json["options"] == {"temperature": 0.5}


# -- web tools -----------------------------------------------------------------------------------
def test_web_tools_keep_the_key_off_plain_http_to_another_machine(monkeypatch):
    monkeypatch.delenv("OLLAMA_API_KEY", raising=False)
    client = Client("127.0.0.1:1", api_key="k", web_host="http://192.0.2.1")
    with pytest.raises(ValueError, match="plain http"):
        client.web_search("x")


def test_module_web_tools_follow_the_web_host_setting_and_work_as_tools(emu, monkeypatch):
    monkeypatch.setenv("OLLAMA_HOST", emu.url)
    monkeypatch.setenv("OLLAMA_API_KEY", "acct-key")
    monkeypatch.setenv("OLLAMA_NB_WEB_HOST", emu.url)
    results = ollama.web_search("notebooks", max_results=1).results
    assert len(results) == 1 and last(emu, "/api/web_search").headers["authorization"] == "Bearer acct-key"
    # Passed as tools, as ollama-python's web-search example does: real JSON types, Args texts.
    schema = tool_schema(ollama.web_search)["function"]
    assert schema["name"] == "web_search" and schema["description"].startswith("Search the web")
    assert schema["parameters"]["properties"]["max_results"]["type"] == "integer"
    assert schema["parameters"]["properties"]["query"]["description"] == "What to search for."


def test_httpx_style_client_options_are_understood(emu):
    import httpx

    assert Client(emu.url, timeout=httpx.Timeout(10.0)).timeout == (10.0, 10.0)
    assert Client(emu.url, timeout=httpx.Timeout(2.0, read=600.0)).timeout == (2.0, 600.0)
    with Client(emu.url, verify=False, follow_redirects=True) as client:
        assert client._session.verify is False and client.list().models


def test_non_streamed_read_timeout_covers_the_whole_answer(emu):
    from ollama_nb._client import ANSWER_TIMEOUT
    from ollama_nb._errors import StallTimeout
    from ollama_nb.testing._scenarios import SLOW_DELAY

    # By default a non-streamed answer may take half an hour (nothing arrives until it is done) ...
    assert Client(emu.url)._whole(ANSWER_TIMEOUT)[1] == ANSWER_TIMEOUT
    # ... and a timeout the caller gives applies to it whole, as httpx applies ollama-python's: an
    # answer that needs 40 token delays cannot arrive within 4.
    with Client(emu.url, timeout=(5.0, 4 * SLOW_DELAY)) as client, pytest.raises(StallTimeout):
        client.chat("slow", messages=ASK, options={"num_predict": 40})
    assert emu.wait_for_disconnect(30)
