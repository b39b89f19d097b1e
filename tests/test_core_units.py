"""Units where a server adds nothing: merging, conversations, formatting, tools, images."""

from __future__ import annotations

import base64
import datetime as dt
import io
import sys
import threading
from typing import Literal

import pytest
from kernel_helpers import live_markup

from ollama_nb import ChatResponse, Chunk, Conversation, InvalidRequest, ListResponse, Message, Progress, Reply
from ollama_nb import _format as fmt
from ollama_nb._images import encode_image
from ollama_nb._render import chrome
from ollama_nb.tools import run_tool_calls, tool_schema


def chat_chunk(content="", thinking=None, done=False, **extra):
    msg = {"role": "assistant", "content": content}
    if thinking is not None:
        msg["thinking"] = thinking
    return {"model": "m", "created_at": "2026-01-01T00:00:00.123456789Z", "message": msg, "done": done, **extra}


def test_reply_merges_chat_deltas_and_final_stats():
    reply = Reply("m")
    for obj in [chat_chunk(thinking="Hmm, "), chat_chunk(thinking="ok."), chat_chunk("Hel"), chat_chunk("lo")]:
        reply.add(obj)
    assert (reply.content, reply.thinking, reply.done, reply.status) == ("Hello", "Hmm, ok.", False, "running")
    assert reply.stats()["tokens_per_second"] is None and reply.ttft is not None
    reply.add(chat_chunk(done=True, done_reason="stop", eval_count=10, eval_duration=2_000_000_000,
                         prompt_eval_count=4, prompt_eval_duration=500_000_000, load_duration=1, total_duration=3))
    assert reply.done and reply.status == "done" and reply.tokens_per_second == 5.0
    assert reply.prompt_tokens_per_second == 8.0 and reply["done_reason"] == "stop"
    assert reply.message == {"role": "assistant", "content": "Hello", "thinking": "Hmm, ok."}
    assert reply.to_dict()["eval_count"] == 10 and "message" in reply


def test_reply_merges_generate_and_tool_calls():
    reply = Reply("m", kind="generate")
    reply.add({"model": "m", "response": "4", "done": False})
    call = {"function": {"name": "add", "arguments": {"a": 1}}}
    reply.add({"model": "m", "response": "2", "done": True, "done_reason": "stop", "tool_calls": [call]})
    assert reply.response == reply["response"] == "42" and reply.tool_calls == [call]


def test_reply_end_marks_partial_but_never_overrides_done():
    reply = Reply("m")
    reply.add(chat_chunk("part"))
    reply.end("interrupted")
    assert reply.partial and reply.status == "interrupted" and "interrupted" in fmt.stats_line(reply)
    done = Reply("m")
    done.add(chat_chunk("x", done=True))
    done.end("stopped")
    assert done.status == "done"


def test_chunk_attributes():
    c = ChatResponse({"model": "m", "message": {"role": "assistant", "content": "hi"}})
    assert c.message.content == "hi" and c.message.thinking is None and c.done_reason is None
    assert isinstance(c.message, Message) and c.message.tool_calls is None
    models = ListResponse({"models": [{"model": "a", "details": {"family": "llama"}}]})
    first = models.models[0]
    assert isinstance(first, ListResponse.Model) and first.model == "a" and first.modified_at is None
    assert first.details.family == "llama" and first.details.parameter_size is None
    # each type has its own fields: another type's field, or any on a plain Chunk, is not one
    for absent in (lambda: models.message, lambda: Chunk({"model": "m"}).done_reason, lambda: first.size_vram):
        with pytest.raises(AttributeError):
            absent()
    with pytest.raises(AttributeError):
        c.model_json_schema  # not a field: duck typing must not be fooled
    with pytest.raises(AttributeError):
        c._repr_html_
    assert "message" in dir(c)


def test_progress_layers_speed_eta():
    p = Progress("x")
    p.add({"status": "pulling manifest"})
    p.add({"status": "pulling aaa", "digest": "sha256:a", "total": 1000})
    p.add({"status": "pulling aaa", "digest": "sha256:a", "total": 1000, "completed": 500})
    p.add({"status": "pulling bbb", "digest": "sha256:b", "total": 1000, "completed": 1000})
    assert (p.completed, p.total, p.fraction) == (1500, 2000, 0.75)
    assert p.statuses == ["pulling manifest", "pulling aaa", "pulling bbb"]
    p.add({"status": "success"})
    assert p.done and p.state == "done" and p.fraction == 1.0 and p.eta is None


def test_conversation_rerun_replaces_its_own_turn_and_keeps_order():
    conv = Conversation("t", system="Be brief.")
    first = conv.begin("one", key="cell-1")
    conv.finish(first, _reply("ONE"))
    second = conv.begin("two", key="cell-2")
    conv.finish(second, _reply("TWO"))
    again = conv.begin("one, again", key="cell-1")
    assert len(conv) == 2 and conv.turns[0] is again
    assert conv.messages_for(again) == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "one, again"}]
    conv.finish(again, _reply("ONE'"))
    assert [m["content"] for m in conv.messages] == ["Be brief.", "one, again", "ONE'", "two", "TWO"]


def test_conversation_keeps_a_partial_answer_marked():
    conv = Conversation()
    turn = conv.begin("tell me")
    reply = _reply("half an ans", done=False)
    reply.end("stopped")
    conv.finish(turn, reply)
    assert turn.status == "stopped" and turn.partial and conv.messages[-1]["content"] == "half an ans"
    assert conv.history()[0]["status"] == "stopped"


def test_named_conversations_are_shared_and_notify():
    seen = []
    a = Conversation.named("shared-test", model="m1")
    a.on_change(lambda c: seen.append(len(c)))
    b = Conversation.named("shared-test")
    assert a is b and b.model == "m1"
    t = b.begin("hi")
    threading.Thread(target=lambda: b.finish(t, _reply("yo"))).start()
    b.clear()
    assert seen and "shared-test" in Conversation.names()


def _reply(text, done=True):
    r = Reply("m")
    r.add(chat_chunk(text, done=done))
    return r


@pytest.mark.parametrize("n,text", [(None, "–"), (999, "999 B"), (4_700_000_000, "4.7 GB"), (123_456_789, "123 MB")])
def test_size(n, text):
    assert fmt.size(n) == text


def test_a_stopped_answer_counts_tokens_roughly_not_the_wires_chunks():
    assert fmt.stats_text("gpt-oss:20b", {"chunks": 17, "elapsed": 2.6}, "stopped") == "gpt-oss:20b · ~17 tokens · 2.6 s · stopped"


@pytest.mark.parametrize("s,text", [(0.25, "250 ms"), (1.24, "1.2 s"), (125, "2 min 5 s"), (3780, "1 h 3 min"), (-1, "forever")])
def test_duration(s, text):
    assert fmt.duration(s) == text


def test_times():
    now = dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc)
    assert fmt.ago("2025-12-31T23:00:00.123456789Z", now) == "1 day ago"
    assert fmt.expires_in("2026-01-02T00:04:00Z", now) == "in 4 min"
    assert fmt.expires_in("2318-01-01T00:00:00Z", now) == "forever"


def test_a_displayed_reply_is_sanitized_html_and_plain_text():
    reply = Reply("m")
    reply.add(chat_chunk("Answer <img src=x onerror=alert(1)> [x](javascript:alert(2))",
                         thinking="<script>x</script> [y](javascript:alert(3))", done=True, eval_count=3, eval_duration=10**9))
    bundle = reply._repr_mimebundle_()  # what a Reply shows as a cell's last line
    assert set(bundle) == {"text/html", "text/plain"}
    page = bundle["text/html"].replace(chrome.STYLE, "")
    assert live_markup(page) == [] and "&lt;script&gt;" in page and "3 tokens" in page
    assert bundle["text/plain"].startswith("[thinking]\n<script>x</script>")


def test_tool_schema_from_a_function():
    def weather(city: str, unit: Literal["C", "F"] = "C", days: list[int] | None = None) -> str:
        """Get the weather.

        Args:
            city: Where.
            unit: Which scale.
        """
        return f"sunny in {city}"

    fn = tool_schema(weather)["function"]
    assert fn["name"] == "weather" and fn["description"] == "Get the weather."
    # As ollama-python converts it: required unless the type admits None (a default does not count).
    assert fn["parameters"]["required"] == ["city", "unit"]
    assert fn["parameters"]["properties"]["unit"] == {"type": "string", "enum": ["C", "F"], "description": "Which scale."}
    assert fn["parameters"]["properties"]["days"] == {"type": "array", "description": ""}


def test_run_tool_calls_reports_failures_to_the_model():
    reply = Reply("m")
    reply.tool_calls = [
        {"id": "call_1", "function": {"name": "div", "arguments": {"a": 1, "b": 0}}},
        {"function": {"name": "nope", "arguments": {}}},
    ]
    out = run_tool_calls(reply, [lambda a, b: a / b])
    assert "no tool named 'div'" in out[0]["content"]

    def div(a: float, b: float) -> float:
        return a / b

    out = run_tool_calls(reply, [div])
    assert out[0]["content"].startswith("error: ZeroDivisionError") and out[0]["tool_call_id"] == "call_1"
    assert "no tool named 'nope'" in out[1]["content"]


def test_images_from_pil_and_arrays():
    import numpy as np
    from PIL import Image

    img = Image.new("RGB", (3, 2), "red")
    decoded = Image.open(io.BytesIO(base64.b64decode(encode_image(img))))
    assert decoded.size == (3, 2)
    arr = np.zeros((4, 5, 3))
    assert Image.open(io.BytesIO(base64.b64decode(encode_image(arr)))).size == (5, 4)
    with pytest.raises(InvalidRequest):
        encode_image(3.14)
    with pytest.raises(InvalidRequest):
        encode_image("missing-file.png")


def test_a_turn_that_failed_before_any_answer_is_not_sent_again():
    conv = Conversation()
    lost = conv.begin("first try")
    conv.fail(lost, "Cannot reach Ollama")
    turn = conv.begin("second try")
    assert conv.messages_for(turn) == [{"role": "user", "content": "second try"}]
    assert [h["status"] for h in conv.history()] == ["failed", "running"]


def test_reply_content_read_while_another_thread_appends():
    reply = Reply("m")
    stop = threading.Event()

    def writer():
        for _ in range(20000):
            reply.add(chat_chunk("x"))
        stop.set()

    t = threading.Thread(target=writer)
    t.start()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible, to hit the race
    try:
        while not stop.is_set():
            reply.content
            chunks, text = reply._text_cache
            # The cache never claims more than its text holds (it may hold a part more: the count
            # is read before the parts are copied).
            assert len(text) >= chunks
    finally:
        sys.setswitchinterval(0.005)
    t.join()
    assert reply.content == "x" * 20000


def test_keep_alive_text_is_read_in_the_request_layer():
    from ollama_nb._request import keep_alive_from_text

    assert keep_alive_from_text("300") == 300 and keep_alive_from_text("1.5") == 1.5
    assert keep_alive_from_text(" 5m ") == "5m" and keep_alive_from_text("-1") == -1
    with pytest.raises(InvalidRequest, match="not a duration"):
        keep_alive_from_text("10x")


def test_one_pace_for_every_live_view():
    from ollama_nb._pacing import Pace
    from ollama_nb._widgets._deltas import delta_pace, pace_interval

    pace = Pace(least=0.05, most=1.5, per_unit=1 / 4000)
    assert pace.due(now=0.0)  # the first update at once
    pace.sent(400, now=5.0)
    assert not pace.due(now=5.09) and pace.due(now=5.1) and pace.wait(now=5.0) == pytest.approx(0.1)
    assert pace.interval(10) == 0.05 and pace.interval(10**9) == 1.5
    assert pace_interval(0) == 0.05 and pace_interval(10_000) == pytest.approx(0.15) and pace_interval(10**8) == 1.0
    assert delta_pace().updates == 0


def test_one_reader_for_the_servers_timestamps():
    """Listing ages, "expires in", quota resets and ``modified_at`` datetimes all read time here."""
    from ollama_nb._types import parse_time

    utc = dt.timezone.utc
    assert parse_time("2024-06-01T12:30:45.123456789-07:00") == dt.datetime(2024, 6, 1, 19, 30, 45, 123456, tzinfo=utc)
    assert parse_time("2024-06-01T12:30:45") == parse_time("2024-06-01T12:30:45Z") == dt.datetime(
        2024, 6, 1, 12, 30, 45, tzinfo=utc
    )
    for odd in ("yesterday", "", None, 42, "2024-13-01T00:00:00Z", "2024-06-01 12:30:45Z"):
        assert parse_time(odd) is None
    listed = ListResponse({"models": [{"modified_at": "2024-06-01T12:30:45.5Z"}, {"modified_at": "soon"}]})
    assert listed.models[0].modified_at == dt.datetime(2024, 6, 1, 12, 30, 45, 500000, tzinfo=utc)
    assert listed.models[1].modified_at == "soon"  # not a time: the server's text, as it came


def test_a_reply_is_shown_through_the_view_layers_hook_not_an_upward_import():
    import ast
    import pathlib

    import ollama_nb._reply as merging
    from ollama_nb._reply_view import reply_bundle

    tree = ast.parse(pathlib.Path(merging.__file__).read_text("utf-8"))
    imported = {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not {m for m in imported if m.startswith(("_render", "_format", "_reply_view", "_widgets", "_magic"))}
    reply = Reply("m")
    reply.add({"message": {"content": "**hi** <script>x()</script>"}, "done": True})
    bundle = reply._repr_mimebundle_()
    assert bundle == reply_bundle(reply) and "<strong>hi</strong>" in bundle["text/html"]
    assert "<script" not in bundle["text/html"] and bundle["text/plain"].startswith("**hi**")
