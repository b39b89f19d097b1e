"""The chat view's side of the protocol, in Chromium without JupyterLab: the committed bundle is
rendered with a stand-in model (as anywidget would call it), fed delta/partial messages, and
checked for what it shows, what it asks the kernel, and that its cleanup undoes every listener.
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from .lab import after_frames, open_bundle_page

PAGE = """<!doctype html><html><head><meta charset="utf-8"><link rel="stylesheet" href="/chat.css">
</head><body><div id="host"></div><script type="module">
import widget from "/chat.js";
import { FakeModel } from "/fake_model.js";
window.model = new FakeModel(%s);
window.sent = window.model.sent;
window.kernel = (msg) => window.model.kernel(msg);
window.cleanup = widget.render({ model: window.model, el: document.getElementById("host") });
window.ready = true;
</script></body></html>"""

STATE = {
    "messages": [
        {"role": "user", "content": "Hi <b>there</b>", "turn": "t1"},
        {"role": "assistant", "content": "", "thinking": "", "status": "running", "model": "llama3.2",
         "stats": "", "error": None, "turn": "t1"},
    ],
    "model": "llama3.2",
    "models": ["llama3.2", "qwen3"],
    "system": "",
    "think": True,
    "can_think": False,
    "temperature": None,
    "busy": True,
    "error": {},
    "placeholder": "",
}


@pytest.fixture
def view(page):
    return open_bundle_page(page, "chat", PAGE % json.dumps(STATE))


def shows(page, text: str) -> None:
    """The answer reads ``text`` (the view renders on an animation frame, so wait for it)."""
    expect(page.locator(".onb-msg-assistant .onb-msg-body")).to_have_text(text, timeout=2000)


def sent(page) -> list:
    return page.evaluate("window.sent.filter((m) => m.type)")


def test_a_view_asks_for_the_partial_and_follows_the_deltas(view):
    page = view
    assert sent(page) == [{"type": "sync"}]  # rendered mid-stream: asks for the answer so far
    assert page.locator(".onb-msg-user .onb-msg-bubble").inner_text() == "Hi <b>there</b>"  # text, not HTML
    page.evaluate("kernel({type: 'delta', turn: 't1', seq: 3, content: ' later'})")  # joined late: wait
    after_frames(page)
    shows(page, "")
    page.evaluate("kernel({type: 'partial', turn: 't1', seq: 3, model: 'llama3.2', content: 'One two', thinking: ''})")
    shows(page, "One two")
    page.evaluate("kernel({type: 'delta', turn: 't1', seq: 3, content: ' two'})")  # already in the partial
    page.evaluate("kernel({type: 'delta', turn: 't1', seq: 4, content: ' three'})")
    page.evaluate("kernel({type: 'delta', turn: 't0', seq: 5, content: 'OLD'})")  # a late one of an older turn
    shows(page, "One two three")
    page.evaluate("kernel({type: 'delta', turn: 't1', seq: 9, content: ' nine'})")  # a gap: ask again
    after_frames(page)
    shows(page, "One two three")
    assert sent(page)[-1] == {"type": "sync"}
    assert page.locator(".onb-chat-send").inner_text() == "Stop"

    # The commit replaces the live copy; busy false turns Stop back into Send.
    page.evaluate(
        """() => { const m = structuredClone(model.get('messages'));
                   Object.assign(m[1], {content: 'One two three **four**', status: 'done', stats: 'llama3.2 · 4 tokens'});
                   model.set('messages', m); model.set('busy', false); }"""
    )
    shows(page, "One two three four")
    assert page.locator(".onb-msg-assistant strong").inner_text() == "four"
    assert page.locator(".onb-msg-foot").inner_text() == "4 tokens"
    assert page.locator(".onb-chat-send").inner_text() == "Send"


def test_keys_controls_and_cleanup(view):
    page = view
    page.evaluate("model.set('busy', false)")
    box = page.locator(".onb-chat-input")
    box.click()
    reached_document = page.evaluate(
        """() => { window.leaked = 0; document.addEventListener('keydown', () => window.leaked++); }"""
    )
    assert reached_document is None
    page.keyboard.type("line one")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("line two")
    assert box.input_value() == "line one\nline two"
    page.keyboard.press("Enter")
    assert sent(page)[-1] == {"type": "send", "text": "line one\nline two"}
    assert box.input_value() == ""
    assert page.evaluate("window.leaked") == 0  # no key reached the document (JupyterLab's shortcuts)

    page.select_option(".onb-chat-model", "qwen3")
    page.fill(".onb-chat-temp input", "0.7")
    page.locator(".onb-chat-temp input").blur()
    assert page.evaluate("[model.get('model'), model.get('temperature')]") == ["qwen3", 0.7]
    assert page.locator(".onb-chat-think").is_hidden()
    page.evaluate("model.set('can_think', true)")
    assert page.locator(".onb-chat-think").is_visible()
    page.locator(".onb-chat-clear").click()
    assert sent(page)[-1] == {"type": "clear"}

    left = page.evaluate(
        "() => { cleanup(); return model.listeners(); }"
    )
    assert left == 0, "cleanup must remove every listener it added on the model"
    assert page.locator("#host").inner_html() == ""


def test_the_notice_line_shows_a_busy_wait_as_text_and_hides_when_empty(view):
    page = view
    notice = page.locator(".onb-chat-notice")
    expect(notice).to_be_hidden()
    wait = "server busy, retrying in 4 s (2 of 5). Press Stop to stop waiting."
    page.evaluate("(t) => window.model.set('notice', t)", wait)
    expect(notice).to_have_text(wait)
    # Advice names commands in backticks: they become <code>, the rest stays text.
    page.evaluate("(t) => window.model.set('notice', t)", "Start afresh with `Clear` <img src=x onerror=window.pwned=1>")
    expect(notice.locator("code")).to_have_text("Clear")
    assert page.evaluate("window.pwned") is None and notice.locator("img").count() == 0
    page.evaluate("() => window.model.set('notice', '')")
    expect(notice).to_be_hidden()
