"""ChatWidget's message protocol, driven from Python (no browser): what a view would send, and
every comm message the kernel would send back, captured from the widget's ``_send``.

The browser stories (tests/browser/test_chat.py) check the same things end to end.
"""

from __future__ import annotations

import _thread
import itertools
import json
import signal
import threading
import time

import pytest
from kernel_helpers import live_markup, visible_text
from waiting import wait_until

from ollama_nb import Client, Conversation
from ollama_nb._render import chrome
from ollama_nb._widgets._deltas import pace_interval
from ollama_nb._widgets.chat import ChatWidget


class Recorder:
    """Every comm message a widget sends: trait updates and custom messages, with times."""

    def __init__(self, widget: ChatWidget) -> None:
        self.msgs: list[tuple[float, dict]] = []
        self.lock = threading.Lock()
        widget._send = self._send  # type: ignore[method-assign]

    def _send(self, msg, buffers=None):
        with self.lock:
            self.msgs.append((time.monotonic(), json.loads(json.dumps(msg))))

    def custom(self, kind: str | None = None) -> list[dict]:
        with self.lock:
            out = [m["content"] for _, m in self.msgs if m["method"] == "custom"]
        return [m for m in out if kind is None or m["type"] == kind]

    def timed(self, kind: str) -> list[tuple[float, dict]]:
        with self.lock:
            return [(t, m["content"]) for t, m in self.msgs if m["method"] == "custom" and m["content"]["type"] == kind]

    def updates(self, key: str) -> list:
        with self.lock:
            return [m["state"][key] for _, m in self.msgs if m["method"] == "update" and key in m["state"]]

    def transcript(self, start: list[dict] | None = None, rev: int = 0) -> tuple[list[dict], int]:
        """The transcript a page shows after every message so far (as js/chat.js applies them):
        whole updates replace it, patches must start from the page's revision."""
        messages = list(start or [])
        with self.lock:
            msgs = [m for _, m in self.msgs]
        for m in msgs:
            if m["method"] == "update" and "messages" in m["state"]:
                messages, rev = m["state"]["messages"], m["state"].get("_messages_rev", rev)
            elif m["method"] == "custom" and m["content"]["type"] == "messages":
                patch = m["content"]
                assert patch["base"] == rev, f"patch from revision {patch['base']} on a page at {rev}"
                assert patch["start"] <= len(messages)
                messages, rev = messages[: patch["start"]] + patch["items"], patch["rev"]
        return messages, rev


def last_chat(emu):
    """The last chat request (after an answer the widget also reads /api/show and /api/ps)."""
    return [r for r in emu.requests if r.path == "/api/chat"][-1]


def make(client, **kw) -> tuple[ChatWidget, Recorder]:
    w = ChatWidget(client=client, **kw)
    for t in w._tasks.threads():  # model list and capabilities, read in the background
        t.join(10)
    return w, Recorder(w)


def view(w: ChatWidget, **content) -> None:
    """A message from a view, as anywidget delivers it (``model.send`` -> ``on_msg``)."""
    w._handle_custom_msg(content, [])


def wait_idle(w: ChatWidget) -> None:
    wait_until(lambda: not w.busy, "the chat to be idle")


def replay(deltas: list[dict], start: dict | None = None) -> tuple[str, str]:
    """What a view shows after applying ``deltas`` (in seq order) on top of a partial."""
    content = start["content"] if start else ""
    thinking = start["thinking"] if start else ""
    seq = start["seq"] if start else 0
    for d in deltas:
        if d["seq"] <= seq:
            continue
        assert d["seq"] == seq + 1, f"gap: {seq} -> {d['seq']}"
        seq = d["seq"]
        content += d.get("content", "")
        thinking += d.get("thinking", "")
    return content, thinking


def test_deltas_carry_only_new_text_and_add_up_to_the_committed_answer(client):
    w, rec = make(client, model="bulk")
    w.temperature = None
    w.conversation.configure(options={"num_predict": 4000})
    reply = w.ask("Count for me.")
    assert reply.status == "done" and reply.eval_count == 4000
    deltas = rec.custom("delta")
    assert [d["seq"] for d in deltas] == list(range(1, len(deltas) + 1))
    assert {d["turn"] for d in deltas} == {w.messages[-1]["turn"]}
    content, _ = replay(deltas)
    assert reply.content.startswith(content)  # the tail goes with the commit, not a last delta
    # bounded rate: far fewer messages than tokens, and bytes close to the text
    assert len(deltas) <= 2 + reply.elapsed / pace_interval(0) + 1, len(deltas)
    custom_bytes = sum(len(json.dumps(m)) for m in rec.custom() if m["type"] != "messages")  # the commit: below
    assert custom_bytes <= 1.5 * len(reply.content)
    # committed once: one patch with the pending turn, one with the finished answer (never the
    # whole transcript as a trait update again)
    assert rec.updates("messages") == []
    committed = rec.custom("messages")
    assert len(committed) == 2
    assert committed[0]["items"][-1]["status"] == "running" and committed[0]["items"][-1]["content"] == ""
    final = committed[-1]["items"][-1]
    assert final["content"] == reply.content and final["status"] == "done"
    assert "4000 tokens" in final["stats"]
    assert w.messages[-2] == {"role": "user", "content": "Count for me.", "turn": final["turn"]}
    assert rec.updates("busy") == [True, False]
    assert rec.transcript() == (w.messages, w._messages_rev)


def test_each_turn_sends_only_itself_and_the_saved_state_keeps_the_whole_chat(client):
    w, rec = make(client, model="llama3.2")
    sizes = []
    for k in range(12):
        start = len(rec.custom("messages"))
        reply = w.ask(f"Question number {k}: what is a prime number?")
        assert reply is not None and reply.status == "done"
        sizes.append(sum(len(json.dumps(p)) for p in rec.custom("messages")[start:]))
    assert rec.updates("messages") == []
    # A turn's patches hold that turn only: the twelfth costs what the first did, not twelve times.
    assert max(sizes) <= 1.5 * min(sizes), sizes
    patches = rec.custom("messages")
    assert [(p["base"], p["rev"]) for p in patches] == [(i, i + 1) for i in range(len(patches))]
    assert all(p["start"] >= len(w.messages) - 2 for p in patches[-2:])
    # What a page shows after the patches is the transcript, and so is every whole state: the one
    # a new view opens with, the one nbclient saves with the notebook.
    assert rec.transcript() == (w.messages, w._messages_rev)
    state = w.get_state()
    assert state["messages"] == w.messages and len(state["messages"]) == 24
    assert state["_messages_rev"] == len(patches)
    # A page that missed a patch asks for the whole state, and gets it as one trait update.
    view(w, type="state")
    assert rec.updates("messages")[-1] == w.messages and rec.updates("_messages_rev")[-1] == len(patches)
    # Clear is a patch too: nothing left.
    w.clear()
    wait_until(lambda: not w.messages, "the chat to be cleared")
    assert rec.custom("messages")[-1]["start"] == 0 and rec.custom("messages")[-1]["items"] == []
    assert rec.transcript() == ([], w._messages_rev)


def first_token_then_wait(emu, rec: Recorder) -> list[str]:
    """Answer the next chat with its first chunk alone until the widget has sent a delta, then
    the rest: the first delta can then only hold the first token. (Timing it instead failed under
    load: a starved client read several buffered tokens before its pacer ran.) Returns the first
    chunk's text once it is sent."""
    original, first_text = emu.route("/api/chat", "POST"), []

    def gated(body: bytes):
        stream = original(body)
        items = iter(stream.items)

        def first_then_rest():
            for item in items:  # pauses (Sleep items) and then the first chunk with text
                yield item
                text = item.get("message", {}).get("content", "") if isinstance(item, dict) else ""
                if text:
                    first_text.append(text)
                    break
            wait_until(lambda: rec.custom("delta"), "the widget to send its first delta")
            yield from items

        stream.items = first_then_rest()
        return stream

    emu.override("/api/chat", "POST", gated)
    return first_text


def test_first_token_goes_at_once_then_at_most_20_messages_a_second(emu, client):
    w, rec = make(client, model="slow")
    w.conversation.configure(options={"num_predict": 30})  # 30 tokens, 50 ms apart
    first_text = first_token_then_wait(emu, rec)
    reply = w.ask("Go slowly.")
    first = rec.custom("delta")[0]
    # Sent once the first token is in, without waiting for more of the answer (which the
    # emulator holds back until this delta is out: a pacer that waited would hang here).
    assert first_text and first_text[0] and first["content"] == first_text[0], (first, first_text)
    assert len(reply.content) > len(first["content"])
    # Gaps can only grow under load; never shorter than the pace allows.
    times = [t for t, _ in rec.timed("delta")]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps and min(gaps) >= pace_interval(0) * 0.9, gaps


def test_a_view_that_renders_mid_stream_gets_the_partial_and_continues_from_it():
    from ollama_nb.testing import Emulator

    # 20 ms a token: the answer is still streaming when the second view asks, even on a loaded machine.
    with Emulator(token_delay=0.02) as paced:
        _view_mid_stream(Client(paced.url))


def _view_mid_stream(client):
    w, rec = make(client, model="qwen3")
    w.conversation.configure(options={"num_predict": 200})
    w.ask("Tell me about primes at length.", wait=False)
    wait_until(lambda: len(rec.custom("delta")) >= 3, "3 deltas")
    view(w, type="sync")  # a second view (or a reload) rendered now
    wait_idle(w)
    partials = rec.custom("partial")
    assert len(partials) == 1
    partial = partials[0]
    assert partial["turn"] == w.messages[-1]["turn"]
    before = [d for d in rec.custom("delta") if d["seq"] < partial["seq"]]
    after = [d for d in rec.custom("delta") if d["seq"] > partial["seq"]]
    # everything the other views have, plus what was waiting for the next delta
    seen_content, seen_thinking = replay(before)
    assert partial["content"].startswith(seen_content) and partial["thinking"].startswith(seen_thinking)
    assert len(partial["content"]) + len(partial["thinking"]) > 0
    content, thinking = replay(after, start=partial)
    final = w.messages[-1]
    assert final["content"].startswith(content) and final["thinking"].startswith(thinking)
    assert final["thinking"] and final["content"]
    # nothing streaming: the answer to a sync says so
    view(w, type="sync")
    assert rec.custom("partial")[-1]["turn"] is None


def test_stop_from_the_view_closes_the_stream_and_keeps_the_partial(client, emu):
    """How fast is for benchmarks/widget.py (Stop -> disconnect); here: that it happens, and what stays."""
    w, rec = make(client, model="slow")
    view(w, type="send", text="Count slowly.")
    wait_until(lambda: len(rec.custom("delta")) >= 4, "4 deltas")
    view(w, type="stop")
    assert emu.wait_for_disconnect(30), "the server never saw the client leave"
    wait_idle(w)
    last = w.messages[-1]
    assert last["status"] == "stopped"
    assert last["content"].startswith("lorem ipsum") and len(last["content"].split()) < 200
    assert last["error"] is None
    assert emu.disconnects == [("/api/chat", "slow")]
    assert w.conversation.turns[-1].status == "stopped"
    assert w.conversation.turns[-1].assistant["content"] == last["content"]


@pytest.mark.parametrize(
    ("model", "partial", "words"),
    [
        ("nope", False, ["not found", "%ollama pull nope"]),
        ("dropped", True, ["cut before the answer finished", "partial answer is kept"]),
        ("error-midstream", True, ["llama runner process has terminated", "partial answer is kept"]),
        ("nomic-embed-text", False, ["does not support chat"]),
    ],
)
def test_errors_show_inline_and_the_chat_stays_usable(client, model, partial, words):
    w, _rec = make(client, model=model)
    reply = w.ask("Hello?")
    assert reply.status == "failed" and reply.error is not None
    last = w.messages[-1]
    assert last["status"] == "failed"
    text = last["error"]["message"] + " " + last["error"]["hint"]
    for word in words:
        assert word in text, text
    assert bool(last["content"]) == partial
    assert not w.busy
    w.model = "llama3.2"
    assert w.ask("And now?").status == "done"
    assert w.messages[-1]["error"] is None and w.messages[-1]["content"]


def test_a_server_that_is_down_shows_as_a_banner_and_inline():
    w, _ = make(Client("http://127.0.0.1:9"), model="llama3.2")
    assert "Cannot reach Ollama at http://127.0.0.1:9" in w.error["message"]
    assert "OLLAMA_HOST" in w.error["hint"]
    reply = w.ask("Hello?")
    assert reply.status == "failed"
    assert "Cannot reach Ollama" in w.messages[-1]["error"]["message"]


def test_a_missing_key_shows_which_variable_to_set():
    from ollama_nb.testing import Emulator

    with Emulator(key="right-key") as cloud:
        w, _ = make(Client(cloud.url, api_key="wrong-key"), model="llama3.2")
        assert w.ask("Hi").status == "failed"
    error = w.messages[-1]["error"]
    assert "401" in error["message"] and "OLLAMA_API_KEY" in error["hint"]
    assert "wrong-key" not in json.dumps(w.get_state(), default=str)


def test_two_widgets_streaming_at_once_do_not_mix(client):
    a, rec_a = make(client, model="llama3.2")
    b, rec_b = make(client, model="qwen3")
    a.ask("Tell me about volcanoes.", wait=False)
    b.ask("Tell me about glaciers.", wait=False)
    wait_idle(a)
    wait_idle(b)
    ta, tb = a.messages[-1]["turn"], b.messages[-1]["turn"]
    assert ta != tb
    assert {d["turn"] for d in rec_a.custom("delta")} == {ta}
    assert {d["turn"] for d in rec_b.custom("delta")} == {tb}
    assert "volcanoes" in a.messages[-1]["content"] and "glaciers" not in a.messages[-1]["content"]
    assert "glaciers" in b.messages[-1]["content"] and "volcanoes" not in b.messages[-1]["content"]
    assert b.messages[-1]["thinking"] and not a.messages[-1]["thinking"]
    assert len(a.conversation) == len(b.conversation) == 1


def test_the_static_transcript_shows_the_conversation_with_model_html_inert(client):
    w, _ = make(client, model="hostile")
    w.ask("Say something.")
    data, _ = w._repr_mimebundle_()
    assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == w.model_id
    assert "text/markdown" not in data
    page = data["text/html"].replace(chrome.STYLE, "")
    assert live_markup(page) == [], page
    shown = visible_text(page)
    assert "Readable text survives." in shown and "<script>" in shown  # shown as text
    assert "Say something." in shown and "hostile" in shown
    assert data["text/plain"] == "ChatWidget(model='hostile', turns=1)"


def test_the_transcript_renders_markdown_and_keeps_code_as_written(client):
    w, _ = make(client, model="llama3.2")
    text = "Use `a < b` here <b>bold</b>\n```html\n<div>keep</div>\n```\n\n- one\n- two\n\n[x](javascript:alert(1))"
    w.ask(text)
    page = w.transcript()
    assert "<code>a &lt; b</code>" in page and '<code class="language-html">' in page
    assert "<div>keep</div>" in visible_text(page)  # still code, shown as written
    assert "&lt;b&gt;bold&lt;/b&gt;" in page and live_markup(page.replace(chrome.STYLE, "")) == []
    assert "<li>one</li>" in page  # lists render as lists


def test_the_api_key_never_reaches_widget_state():
    from ollama_nb.testing import Emulator

    with Emulator(key="sekrit-key-123") as cloud:
        c = Client(cloud.url, api_key="sekrit-key-123")
        w, rec = make(c, model="llama3.2")
        w.ask("Hi")
        assert w.messages[-1]["status"] == "done"
        assert cloud.last_request.headers.get("authorization") == "Bearer sekrit-key-123"
    everything = json.dumps(w.get_state(), default=str) + json.dumps([m for _, m in rec.msgs])
    everything += json.dumps(w._repr_mimebundle_()[0])
    assert "sekrit" not in everything


def test_think_toggle_follows_the_model_capabilities(client, emu):
    w, _ = make(client, model="llama3.2")
    assert w.can_think is False
    w.ask("Hi")
    assert "think" not in last_chat(emu).json
    w.model = "qwen3"
    for t in w._tasks.threads():
        t.join(10)
    assert w.can_think is True
    w.think = False
    w.ask("Hi")
    assert last_chat(emu).json["think"] is False
    assert not w.messages[-1]["thinking"]
    w.think = True
    w.ask("Hi")
    assert w.messages[-1]["thinking"]


def test_settings_from_the_view_shape_the_next_request(client, emu):
    w, _ = make(client, model="llama3.2", system="You are terse.", options={"seed": 7})
    w.temperature = 0.3
    w.ask("Hi")
    body = last_chat(emu).json
    assert body["options"] == {"seed": 7, "temperature": 0.3}
    assert body["messages"][0] == {"role": "system", "content": "You are terse."}
    w.system = "You are a pirate."
    w.temperature = None
    w.ask("Again")
    body = last_chat(emu).json
    assert body["options"] == {"seed": 7}
    assert body["messages"][0]["content"] == "You are a pirate."
    assert [m["role"] for m in body["messages"]] == ["system", "user", "assistant", "user"]


def test_the_widget_and_the_magic_share_a_named_conversation(client, emu):
    name = f"tutor-{time.monotonic_ns()}"
    conv = Conversation.named(name)
    # a turn the magic would record (%%ollama --chat NAME)
    turn = conv.begin("What is a prime number?")
    conv.finish(turn, client.chat("llama3.2", messages=conv.messages_for(turn)))
    w, _ = make(client, conversation=name, model="llama3.2")
    assert w.conversation is conv
    assert w.messages[0]["content"] == "What is a prime number?"
    assert w.messages[1]["status"] == "done" and w.messages[1]["stats"]
    w.ask("What did I ask before?")
    assert "What is a prime number?" in w.messages[-1]["content"]
    # and the magic sees the widget's turn
    assert conv.history()[-1]["user"] == "What did I ask before?"
    other = conv.begin("One more from the magic")
    conv.finish(other, client.chat("llama3.2", messages=conv.messages_for(other)))
    assert w.messages[-2]["content"] == "One more from the magic"
    view(w, type="clear")
    wait_until(lambda: not w.messages, "the chat to be cleared")
    assert w.messages == [] and len(conv) == 0


def test_send_refuses_while_answering_and_a_second_view_send_is_ignored(client):
    w, _ = make(client, model="slow")
    w.ask("One", wait=False)
    with pytest.raises(RuntimeError, match="still answering"):
        w.ask("Two")
    view(w, type="send", text="Three")  # a second view's Send racing the first: ignored
    w.stop()
    wait_idle(w)
    assert [m["content"] for m in w.messages if m["role"] == "user"] == ["One"]
    with pytest.raises(ValueError):
        w.ask("   ")


def test_interrupting_a_waiting_send_stops_and_marks_the_answer(client, emu):
    w, _ = make(client, model="slow")
    asked = sum(r.path == "/api/chat" for r in emu.requests)

    def interrupt_once_words_arrived() -> None:
        # On the answer's first words, not after a fixed delay: under load a timer fired too late.
        if not emu.wait_for_request("/api/chat", asked + 1, timeout=60):
            return
        for _ in range(6000):
            live = w._live  # (its messages trait is only synced at the end while ask() waits)
            reply = getattr(live.runner, "reply", None) if live is not None else None
            if reply is not None and reply.content:
                _thread.interrupt_main()
                return
            time.sleep(0.01)

    # A kernel's SIGINT handler, whatever this process inherited (a background job ignores SIGINT).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    threading.Thread(target=interrupt_once_words_arrived, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        w.ask("Count slowly.")
    assert emu.wait_for_disconnect(30)
    wait_idle(w)
    assert w.messages[-1]["status"] == "interrupted"
    assert w.messages[-1]["content"]


def test_close_detaches_from_the_conversation(client):
    conv = Conversation()
    w, _ = make(client, conversation=conv, model="llama3.2")
    w.close()
    conv.begin("after close")
    assert w.messages == []


def test_the_picker_lists_each_chat_model_once_and_no_embedding_models(client):
    w, _ = make(client, model="llama3.2")
    assert w.models.count("llama3.2") == 1 and "llama3.2:latest" not in w.models  # the user's spelling, once
    assert "nomic-embed-text:latest" not in w.models  # embedding-only: it cannot chat
    assert {"qwen3:latest", "gpt-oss:20b", "llava:latest"} <= set(w.models)
    w.model = "qwen3"
    assert "qwen3" in w.models and "qwen3:latest" not in w.models and "llama3.2:latest" in w.models
    w.close()


def test_ask_refuses_what_is_not_text(client):
    from ollama_nb._errors import InvalidRequest

    w, rec = make(client, model="llama3.2")
    for bad in (None, 42, b"hi", {"type": "send", "text": "hi"}):
        with pytest.raises(InvalidRequest, match=r"ChatWidget\.ask\(\) takes the message text \(a str\)"):
            w.ask(bad)
    with pytest.raises(InvalidRequest, match="empty"):
        w.ask("  ")
    assert w.messages == [] and not rec.custom()  # nothing was sent, nothing shown
    w.close()


# -- a busy class server -------------------------------------------------------------------------
def test_busy_server_the_wait_shows_then_the_answer(emu):
    from ollama_nb import Retry

    emu.refuse("busy", retry_after=0.2)
    w, rec = make(Client(emu.url, retries=Retry(first=0.01)), model="llama3.2")
    reply = w.ask("hello")
    assert reply is not None and reply.done
    waits = [n for n in rec.updates("notice") if n]
    assert waits and waits[0].startswith("server busy, retrying in 1 s (1 of 5). Press Stop")
    assert w.notice == ""  # gone once the answer came
    assert "context " in w.messages[-1]["stats"]


def test_stop_during_the_busy_wait_ends_it_and_sends_nothing_more(emu):
    emu.refuse("busy", retry_after=60)
    w, _rec = make(Client(emu.url), model="llama3.2")
    waiting = threading.Event()
    w.observe(lambda change: waiting.set() if change["new"] else None, names="notice")
    w.ask("hello", wait=False)
    assert waiting.wait(10)
    view(w, type="stop")
    assert w._live is None or w._live.done.wait(10)
    assert sum(1 for r in emu.requests if r.path == "/api/chat") == 1
    last = w.messages[-1]
    assert last["role"] == "assistant" and last["status"] == "stopped" and not last["error"]
    assert w.notice == "" and not w.busy


def test_the_context_meter_warns_in_the_notice_line(emu):
    w, _ = make(Client(emu.url), model="llama3.2", options={"num_ctx": 300})
    long = "Tell me about tea. " + "Please consider every detail of the question carefully. " * 12
    for _ in range(6):
        w.ask(long)
        if w.notice:
            break
    assert "drops the oldest turns" in w.notice and "the Clear button" in w.notice
    assert 'ChatWidget(options={"num_ctx": 600})' in w.notice


def test_a_meter_lookup_the_server_holds_does_not_hold_the_turn(emu):
    held = emu.hold("/api/ps")
    try:
        w, _ = make(Client(emu.url), model="llama3.2")
        reply = w.ask("hello")  # returns once the turn ended, the server still holding /api/ps
        assert held.reached.wait(10), "the meter never asked /api/ps"
        assert reply is not None and reply.done and not w.busy
        last = w.messages[-1]
        assert last["status"] == "done" and last["content"] == reply.content
        assert "tokens" in last["stats"] and "context" not in last["stats"]
    finally:
        held.release()


def test_send_keeps_ipywidgets_meaning_a_custom_message_to_the_views(client):
    """``ask`` asks the model; ``send`` is ipywidgets' (DOMWidget.focus() uses it, so does anywidget)."""
    w, rec = make(client, model="llama3.2")
    w.send({"do": "focus"})
    assert rec.custom() == [{"do": "focus"}]
    assert w.messages == [] and not w.busy  # nothing was asked
    w.close()


def test_both_widgets_take_one_constructor_shape(emu):
    """``ChatWidget(*, client=None, host=None, ...)`` and ``ModelBrowser(*, client=None, host=None,
    ...)``: keywords only, a host makes its own client, and a client with a host is refused."""
    from ollama_nb import ModelBrowser

    for widget_type in (ChatWidget, ModelBrowser):
        with pytest.raises(TypeError):
            widget_type(emu.url)
        with pytest.raises(TypeError, match="not both"):
            widget_type(client=Client(emu.url), host=emu.url)
        widget = widget_type(host=emu.url)
        try:
            assert widget.client.host == Client(emu.url).host
        finally:
            widget.close()


def test_a_cell_turn_shows_its_context_figure_even_without_its_outcome(emu):
    """A ``%%ollama`` turn (the cell's runner, meter on) in a chat widget opened later: the context
    figure is in its stats line, and stays there for a view that has the turn but not its outcome
    (a conversation restored or saved), because it is kept with the turn's stats."""
    from ollama_nb._turn import TurnRunner

    conv = Conversation.named("cell-context")
    conv.clear()
    client = Client(emu.url)
    runner = TurnRunner(client, "llama3.2", conversation=conv, user={"role": "user", "content": "Hi"}, meter=True)
    runner.run()
    assert runner.outcome is not None and runner.outcome.context is not None
    footer = runner.outcome.footer(show_status=False)
    w, _ = make(client, conversation="cell-context")
    assert w.messages[-1]["stats"] == footer and " · context " in footer
    w.close()
    conv.turns[-1].outcome = None  # what a restored conversation has: the turn, not its outcome
    again, _ = make(client, conversation="cell-context")
    assert again.messages[-1]["stats"] == footer
    assert conv.history()[-1]["stats"]["context"] == {"used": runner.outcome.context.used, "window": runner.outcome.context.window}
    again.close()
