"""What a screen reader and a keyboard user get from both widgets, read from Chromium's accessibility
tree (Playwright's aria snapshot): every field and button named for what it does, a streaming answer
announced once it is whole, no animation for who asked for less motion, and one rule for keys (a key
typed into the widget's own fields, or one it acted on, never reaches the notebook's shortcuts).
"""

from __future__ import annotations

import json

from .lab import open_bundle_page
from .test_chat_view import PAGE as CHAT_PAGE
from .test_chat_view import STATE as CHAT_STATE
from .test_models_view import PAGE as MODELS_PAGE
from .test_models_view import set_state

ANSWER = "See:\n\n```python\nx = 1\n```\n\nand\n\n```\nplain\n```\n"


def chat(page):
    open_bundle_page(page, "chat", CHAT_PAGE % json.dumps(CHAT_STATE))
    page.evaluate("() => { window.docKeys = []; document.addEventListener('keydown', (e) => docKeys.push(e.key)); }")
    return page.locator("#host")


def test_chat_fields_and_buttons_are_named_for_what_they_do(page):
    host = chat(page)
    page.evaluate("(t) => kernel({type: 'partial', turn: 't1', seq: 1, content: t, thinking: ''})", ANSWER)
    page.locator(".onb-chat-system summary").click()
    page.locator(".onb-msg-assistant pre").nth(1).wait_for()
    snap = host.aria_snapshot()
    for line in ['textbox "System prompt"', 'textbox "Message"', 'combobox "Model"', 'spinbutton "Temperature"',
                 'log "Conversation"', 'article "Answer from llama3.2"', 'article "Your message"',
                 'button "Copy the answer from llama3.2"', 'button "Copy code block 1 (python)"',
                 'button "Copy code block 2"']:
        assert f"- {line}" in snap, (line, snap)
    assert 'button "Copy"' not in snap  # no button is just "Copy"


def test_a_streaming_answer_is_busy_and_announced_once_whole(page):
    host = chat(page)
    log = host.locator(".onb-chat-log")
    row = host.locator(".onb-msg-assistant")
    assert log.get_attribute("aria-busy") == "true" and row.get_attribute("aria-busy") == "true"
    assert host.get_by_role("status").inner_text() == ""  # nothing said at first render
    page.evaluate("() => kernel({type: 'partial', turn: 't1', seq: 1, content: 'Half a sen', thinking: ''})")
    page.evaluate(
        """() => { const m = structuredClone(model.get('messages'));
                   Object.assign(m[1], {content: 'Half a sentence, then all of it.', status: 'done'});
                   model.set('messages', m); model.set('busy', false); }"""
    )
    assert log.get_attribute("aria-busy") is None and row.get_attribute("aria-busy") is None
    assert host.get_by_role("status").inner_text() == "Answer from llama3.2 finished."
    assert "- status: Answer from llama3.2 finished." in host.aria_snapshot()
    page.evaluate("() => model.set('busy', true)")
    assert host.get_by_role("status").inner_text() == "llama3.2 is answering."


def test_reduced_motion_stops_the_animations(page):
    host = chat(page)
    dots = host.locator(".onb-typing span").first
    assert dots.evaluate("(e) => getComputedStyle(e).animationName") == "onb-typing"
    page.emulate_media(reduced_motion="reduce")
    assert dots.evaluate("(e) => getComputedStyle(e).animationName") == "none"
    page.emulate_media(reduced_motion="no-preference")
    open_bundle_page(page, "models", MODELS_PAGE)
    set_state(page, busy="Refreshing…")
    spinner = page.locator(".onb-mb-busy")
    assert spinner.evaluate("(e) => getComputedStyle(e, '::before').animationName") != "none"
    page.emulate_media(reduced_motion="reduce")
    assert spinner.evaluate("(e) => getComputedStyle(e, '::before').animationName") == "none"


def test_chat_keeps_only_the_keys_typed_into_it(page):
    host = chat(page)
    page.evaluate("() => model.set('busy', false)")
    host.locator(".onb-chat-input").press_sequentially("dd a")
    host.locator(".onb-chat-model").press("m")
    assert page.evaluate("docKeys") == []
    host.locator(".onb-chat-clear").press("a")  # a button: the notebook's shortcuts still apply
    assert page.evaluate("docKeys") == ["a"]


def test_model_browser_marks_the_selected_row_current_and_names_its_buttons(page):
    open_bundle_page(page, "models", MODELS_PAGE)  # the page records keys that reach the document
    rows = [{"name": n, "size": 1, "size_text": "1 B", "modified_text": "just now", "modified_at": f"2024-01-0{i + 1}T00:00:00Z"}
            for i, n in enumerate(["a:latest", "b:latest"])]
    set_state(page, models=rows, selected="a:latest", details={"name": "a:latest", "capabilities": []},
              notice="Pulled a.", pulls={"x": {"name": "x", "state": "running", "status": "pulling", "layers": [],
                                              "completed": 1, "total": 2, "info_text": "1 B of 2 B"}})
    host = page.locator("#host")
    assert host.locator("[aria-selected]").count() == 0  # a plain table has no selection state
    assert host.locator("tr[aria-current='true']").get_attribute("data-name") == "a:latest"
    assert host.locator("tr[aria-current]").count() == 1
    snap = host.aria_snapshot()
    for line in ['searchbox "Filter models"', 'textbox "Model to pull"', 'button "Close details"', 'button "Dismiss"',
                 'columnheader "Modified"', 'progressbar "Pull of x"']:
        assert f"- {line}" in snap, (line, snap)
    assert "▼" not in snap and 'button "×"' not in snap

    # Keys: typed into its fields or acted on (arrows move the selection) stay; others go on.
    host.locator(".onb-mb-filter").press_sequentially("dd")
    host.locator(".onb-mb-filter").press("Escape")  # clears the filter
    host.locator("tr[data-name='b:latest']").press("ArrowDown")  # newest first: a:latest is below
    assert page.evaluate("docKeys") == []
    assert page.evaluate("window.sent.at(-1)") == {"action": "select", "name": "a:latest"}
    host.locator("tr[data-name='a:latest']").press("a")
    assert page.evaluate("docKeys") == ["a"]
