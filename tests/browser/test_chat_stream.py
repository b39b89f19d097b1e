"""The chat view renders a streamed answer incrementally, and the result is always what a whole
render of the text so far would show.

In Chromium without JupyterLab: the committed bundle renders two views, one fed deltas as the
kernel sends them, and one whose placeholder (rendered from scratch on every change) gives the
reference. At every step of random chunkings of a corpus of Markdown texts (lists that blank lines
join, fences, quotes, tables, math, reference links, CRLF), the streamed body's DOM equals the
reference's. Then: finished blocks are not re-rendered, and the thinking is left alone once the
answer has started.
"""

from __future__ import annotations

import json
import random

import pytest

from .lab import open_bundle_page

PAGE = """<!doctype html><html><head><meta charset="utf-8"><link rel="stylesheet" href="/chat.css">
</head><body><div id="live"></div><div id="whole"></div><script type="module">
import widget from "/chat.js";
import { FakeModel } from "/fake_model.js";
const stand_in = (state) => new FakeModel(state);
const base = { model: "m", models: ["m"], system: "", think: true, can_think: true, temperature: null,
               error: {}, placeholder: "" };
window.pending = () => ({ messages: [{ role: "user", content: "q", turn: "t1" },
  { role: "assistant", content: "", thinking: "", status: "running", model: "m", stats: "", error: null, turn: "t1" }],
  busy: true });
window.liveModel = stand_in({ ...base, ...pending() });
window.wholeModel = stand_in({ ...base, messages: [], busy: false });
widget.render({ model: liveModel, el: document.getElementById("live") });
widget.render({ model: wholeModel, el: document.getElementById("whole") });
const frame = () => new Promise((r) => requestAnimationFrame(r));
// From scratch: the placeholder is rendered by setMarkdown on every change.
window.whole = (text) => { wholeModel.set("placeholder", text); return document.querySelector("#whole .onb-chat-empty .onb-md").innerHTML; };
window.body = () => document.querySelector("#live .onb-msg-assistant .onb-msg-body");
window.thinkingBody = () => document.querySelector("#live .onb-msg-assistant .onb-thinking-body");
window.deltas = (msgs) => msgs.forEach((m) => liveModel.kernel(m));
// Send the chunks one delta at a time; after each, wait (frame by frame) for the view to show
// the text so far exactly as a whole render shows it. Returns the first step that never did.
window.seq = 0;
window.stream = async (chunks, field = "content") => {
  let text = "";
  for (let i = 0; i < chunks.length; i++) {
    text += chunks[i];
    deltas([{ type: "delta", turn: "t1", seq: ++window.seq, [field]: chunks[i] }]);
    const want = whole(text);
    const el = field === "content" ? body() : thinkingBody();
    let n = 0;
    while (el.innerHTML !== want) {
      if (++n > 300) return { step: i, text, got: el.innerHTML, want };
      await frame();
    }
  }
  return null;
};
window.ready = true;
</script></body></html>"""

CORPUS = [
    "# Title\n\nA paragraph with **bold**.\n\n- one\n- two\n\n  still two\n\n- three\n\nAfter the list.\n",
    "Steps:\n\n1. a\n2. b\n\n\n3. c\n\n    indented code\n\ntext\n\n---\n\n* * *\n\nPara\n===\n\nlast",
    "Intro\n\n```python\ndef f():\n\n    return 1\n```\n\nOutro `x`.\n\n```js\nlet a = 1;\n```\n\n~~~\nplain\n~~~\n",
    "> quote\nlazy line\n\n> another\n> > nested\n\n| a | b |\n|:--|--:|\n| 1 | 2 |\n| *3* | `4` |\n\nend",
    "Math: $e^{i\\pi}+1=0$ inline.\n\n$$\nx = 1\n\ny = 2\n$$\n\nand \\[\na\n\n b\n\\]\n\ndone $z$ and $5 and $10.\n\n$$\\frac{1}{2}$$\n",
    "See [the docs][d] and [this].\n\n[d]: https://ollama.com\n\n[this]: https://example.com/x\n\nbye",
    "## Steps\n\n- [ ] todo\n- [x] done\n\n1) first\n2) second\n\n```\nunclosed fence\n\nstill code",
    "CRLF\r\nline\r\n\r\n- item\r\n- item two\r\n\r\nend\r\n\r\n<b>raw</b> & <img src=x onerror=alert(1)>\n\n[bad](javascript:alert(1))",
    "Term\n: not a definition list\n\n***bold italic*** and ~~gone~~ and https://ollama.com/library\n\n| x |\n|---|\n| 1 |\n\n> q",
]


def chunkings(text: str, seed: int) -> list[str]:
    rng = random.Random(seed)
    out, at = [], 0
    while at < len(text):
        n = rng.choice([1, 1, 2, 3, 5, 8, 13, 30])
        out.append(text[at : at + n])
        at += n
    return out


@pytest.fixture
def view(page):
    return open_bundle_page(page, "chat", PAGE)


def reset(page) -> None:
    page.evaluate("() => { liveModel.set('messages', []); liveModel.set('messages', pending().messages); seq = 0; }")


@pytest.mark.parametrize("index", range(len(CORPUS)))
def test_every_step_of_a_streamed_answer_equals_a_whole_render(view, index):
    page = view
    text = CORPUS[index]
    # a random chunking, and one character at a time (every prefix is a step)
    for seed, chunks in ((index, chunkings(text, index)), ("chars", list(text))):
        reset(page)
        failed = page.evaluate("(c) => stream(c)", chunks)
        assert failed is None, f"chunking {seed}, step {failed and failed['step']}: {json.dumps(failed, indent=1)}"
        # The commit (status done) keeps what was streamed and still equals a whole render.
        page.evaluate(
            """(t) => { const m = structuredClone(liveModel.get('messages'));
                        Object.assign(m[1], {content: t, status: 'done'}); liveModel.set('messages', m); }""",
            text,
        )
        assert page.evaluate("(t) => body().innerHTML === whole(t)", text)


def test_the_thinking_is_streamed_the_same_way_and_then_left_alone(view):
    page = view
    thinking = CORPUS[0] + "\n\n" + CORPUS[4]
    failed = page.evaluate("(c) => stream(c, 'thinking')", chunkings(thinking, 7))
    assert failed is None, json.dumps(failed, indent=1)
    # Once the answer starts, nothing under the thinking block changes any more.
    changes = page.evaluate(
        """async (chunks) => {
             const seen = [];
             new MutationObserver((r) => seen.push(...r)).observe(thinkingBody(),
               { subtree: true, childList: true, characterData: true, attributes: true });
             const failed = await stream(chunks);
             await new Promise((r) => setTimeout(r, 0));  // let the observer's records arrive
             return { failed, seen: seen.length }; }""",
        chunkings(CORPUS[2], 3),
    )
    assert changes == {"failed": None, "seen": 0}


def test_finished_blocks_keep_their_nodes_while_the_answer_grows(view):
    page = view
    paragraphs = [f"Paragraph {i} with *some* words and `code`.\n\n" for i in range(60)]
    result = page.evaluate(
        """async (paragraphs) => {
             const removed = [];
             let text = "";
             const obs = new MutationObserver((records) => {
               for (const r of records) for (const n of r.removedNodes) if (n.nodeType === 1) removed.push(n.textContent);
             });
             obs.observe(body(), { childList: true });
             for (let i = 0; i < paragraphs.length; i++) {
               text += paragraphs[i];
               deltas([{ type: "delta", turn: "t1", seq: ++seq, content: paragraphs[i] }]);
               const want = whole(text);
               while (body().innerHTML !== want) await new Promise((r) => requestAnimationFrame(r));
             }
             obs.disconnect();
             return { removed, shown: body().querySelectorAll("p").length };
           }""",
        paragraphs,
    )
    assert result["shown"] == 60
    # Each paragraph is re-rendered only while it is one of the last two blocks (a few times at
    # most), never again once finished: removals are bounded by the open end, not the text so far.
    counts = {t: result["removed"].count(t) for t in set(result["removed"])}
    assert max(counts.values()) <= 3, counts
    assert "Paragraph 0 with some words and code." not in counts or counts["Paragraph 0 with some words and code."] <= 3
