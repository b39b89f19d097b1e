"""How a page applies the kernel's transcript patches (js/chat.js, ``initialize``), in Chromium
without JupyterLab: the committed bundle with a stand-in model and widget manager, as anywidget and
@jupyter-widgets/base would give them.

A patch in order becomes the model's state through ``set_state`` (not ``set``: nothing is sent back
to the kernel), keeping the earlier messages' objects (so views skip them), and a view shows it; a
patch the page already has is ignored; one from another revision, or a page whose manager has no
such model, asks the kernel for the whole state.
"""

from __future__ import annotations

import pytest

from .lab import after_frames, open_bundle_page

PAGE = """<!doctype html><html><head><meta charset="utf-8"><link rel="stylesheet" href="/chat.css">
</head><body><div id="host"></div><script type="module">
import widget from "/chat.js";
import { FakeModel } from "/fake_model.js";
const user = (t, text) => ({ role: "user", content: text, turn: t });
const answer = (t, text, status = "done") => ({ role: "assistant", content: text, thinking: "", status, model: "m",
  stats: "", error: null, turn: t });
window.user = user; window.answer = answer;
// anywidget's model, a proxy of the widget manager's (model.backbone: set_state, state_change)
const model = new FakeModel({ _self_id: "W1", messages: [user("t1", "one"), answer("t1", "first")], _messages_rev: 1,
  model: "m", models: ["m"], system: "", think: true, can_think: false, temperature: null, busy: false, error: {},
  placeholder: "" }, { managerId: "W1" });
window.model = model;
window.backbone = model.backbone;
window.sent = model.sent;
window.kernel = (msg) => model.kernel(msg);
window.state = model.state;
widget.initialize({ model });
widget.render({ model, el: document.getElementById("host") });
window.settled = () => new Promise((r) => setTimeout(r, 0)).then(() => new Promise((r) => setTimeout(r, 0)));
window.ready = true;
</script></body></html>"""


@pytest.fixture
def view(page):
    return open_bundle_page(page, "chat", PAGE)


def test_patches_in_order_become_the_model_state_and_keep_earlier_messages(view):
    page = view
    result = page.evaluate(
        """async () => {
             const first = state.messages[0];
             const row = document.querySelector('.onb-msg-user');
             kernel({ type: "messages", base: 1, rev: 2, start: 2, items: [user("t2", "two"), answer("t2", "", "running")] });
             await settled();
             kernel({ type: "messages", base: 2, rev: 3, start: 3, items: [answer("t2", "second")] });
             kernel({ type: "messages", base: 2, rev: 3, start: 3, items: [answer("t2", "stale")] });  // had it
             await settled();
             return { texts: state.messages.map((m) => m.content), rev: state._messages_rev,
                      firstKept: state.messages[0] === first, rowKept: document.querySelector('.onb-msg-user') === row,
                      setState: model.setStateCalls, set: model.setCalls, sent };
           }"""
    )
    assert result == {
        "texts": ["one", "first", "two", "second"],
        "rev": 3,
        "firstKept": True,
        "rowKept": True,
        "setState": 2,
        "set": 0,  # model.set would send the transcript back with the next save_changes
        "sent": [{"type": "sync"}],  # the view's first-render sync only: no whole state asked for
    }
    after_frames(page)
    assert page.locator(".onb-msg-assistant").last.inner_text().strip().endswith("second")


def test_a_patch_from_another_revision_asks_for_the_whole_state(view):
    page = view
    result = page.evaluate(
        """async () => {
             kernel({ type: "messages", base: 5, rev: 6, start: 2, items: [user("t9", "nine")] });
             await settled();
             return { texts: state.messages.map((m) => m.content), rev: state._messages_rev, sent };
           }"""
    )
    assert result == {"texts": ["one", "first"], "rev": 1, "sent": [{"type": "sync"}, {"type": "state"}]}


def test_without_the_managers_model_every_patch_asks_for_the_whole_state(page):
    page = open_bundle_page(page, "chat", PAGE.replace("window.ready = true;", "window.model.noModel = true; window.ready = true;"))
    result = page.evaluate(
        """async () => {
             window.model.noModel = true;
             kernel({ type: "messages", base: 1, rev: 2, start: 2, items: [user("t2", "two")] });
             await settled();
             return { texts: state.messages.map((m) => m.content), sent };
           }"""
    )
    assert result == {"texts": ["one", "first"], "sent": [{"type": "sync"}, {"type": "state"}]}
