"""The kernel's render layer and the widgets' Markdown pipeline keep the same things (issue 9).

Each payload of the corpus is rendered twice: by ``ollama_nb._render.model_html`` (markdown-it-py +
nh3) and by the shipped widget bundle in Chromium (marked + DOMPurify, as a ChatWidget shows it).
Both results are read by the same browser parser (the kernel's HTML through an inert
``<template>``) into sets of what survived: ``tag``, ``tag[attribute]`` and
``tag[attribute]=scheme:`` for URLs. Both sets must lie inside ``policy.json`` and be equal.

Formula internals are left out on both sides (the kernel writes TeX for MathJax, the widget writes
KaTeX MathML; the widget's MathML is checked against its own MathML list), and so are the colour
spans inside code blocks (Pygments in the kernel, highlight.js in the widget) and the widget's Copy
button on code blocks.
"""

from __future__ import annotations

import json
import pathlib

import pytest
from corpus.payloads import CORPUS

from .lab import after_frames, open_bundle_page

POLICY = json.loads((pathlib.Path(__file__).resolve().parents[2] / "ollama_nb" / "_render" / "policy.json").read_text())
BEACON = "http://127.0.0.1:9/b"  # never contacted: the stand-in page answers every request itself

PAGE = """<!doctype html><html><head><meta charset="utf-8"></head><body><div id="host"></div>
<script type="module">
import widget from "/chat.js";
import { FakeModel } from "/fake_model.js";
window.model = new FakeModel({ placeholder: "" });
widget.render({ model: window.model, el: document.getElementById("host") });
window.ready = true;
</script></body></html>"""

# What survived, read the same way on both sides. Math wrappers count; what is inside them does not.
EXTRACT = r"""
(root) => {
  const seen = new Set();
  const math = [];
  const urlAttrs = new Set(['href', 'src', 'xlink:href', 'action', 'formaction', 'poster', 'background', 'srcset', 'data']);
  const walk = (el) => {
    for (const child of el.children) {
      const tag = child.localName;
      if (tag === 'button' && child.classList.contains('onb-copy')) continue;  // the widget's Copy
      seen.add(tag);
      for (const a of child.attributes) {
        if (a.name === 'class' && (tag === 'span' || tag === 'div') && /(^|\s)onb-math/.test(a.value)) {
          seen.add(`${tag}[class=onb-math]`);
          continue;
        }
        seen.add(`${tag}[${a.name}]`);
        if (urlAttrs.has(a.name)) {
          const m = /^([a-z][a-z0-9+.-]*):/i.exec(a.value.replace(/[\u0000-\u0020\u007f]+/g, ''));
          const scheme = m ? m[1].toLowerCase() : 'relative';
          const media = scheme === 'data' ? /^data:([^;,]*)/i.exec(a.value)[1].toLowerCase() : '';
          seen.add(`${tag}[${a.name}]=${scheme}:${media}`);
        }
      }
      const isMath = /(^|\s)onb-math(-display)?(\s|$)/.test(child.getAttribute('class') || '');
      const isCode = tag === 'code' && child.parentElement && child.parentElement.localName === 'pre';
      if (isMath) { for (const m of child.querySelectorAll('*')) math.push(m.localName); continue; }
      if (isCode) continue;
      walk(child);
    }
  };
  walk(root);
  return { seen: [...seen].sort(), math: [...new Set(math)].sort() };
}
"""

WIDGET_MATH = {"math", "semantics", "annotation", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msup", "msub",
               "msubsup", "mfrac", "msqrt", "mroot", "mover", "munder", "munderover", "mtable", "mtr", "mtd",
               "mlabeledtr", "mstyle", "mpadded", "mphantom", "menclose", "merror"}


def allowed(item: str) -> bool:
    """Is one extracted item inside policy.json?"""
    tag, _, rest = item.partition("[")
    if tag not in POLICY["tags"]:
        return False
    if not rest:
        return True
    attr, _, value = rest.partition("]")
    if attr == "class=onb-math":
        return tag in ("span", "div")
    if tag == "a" and attr in ("rel", "target"):
        return True  # set by the sanitizer itself, never taken from the text
    if attr not in POLICY["tags"][tag]:
        return False
    if not value:
        return True
    scheme, _, media = value.removeprefix("=").partition(":")
    if tag == "img" and attr == "src":
        return scheme == "data" and media in POLICY["image_data_types"]
    return scheme in POLICY["url_schemes"]


@pytest.fixture(scope="module")
def widget_sets(browser):
    context = browser.new_context()
    page = context.new_page()
    open_bundle_page(page, "chat", PAGE)
    page.evaluate(f"() => {{ window.extract = {EXTRACT}; }}")
    texts = [p.text(BEACON) for p in CORPUS]
    result = page.evaluate(
        """(texts) => texts.map((t) => { window.model.set('placeholder', t);
             return window.extract(document.querySelector('#host .onb-md')); })""",
        texts,
    )
    kernel_html = [render_kernel(t) for t in texts]
    kernel = page.evaluate(
        """(htmls) => htmls.map((h) => { const t = document.createElement('template'); t.innerHTML = h;
             return window.extract(t.content); })""",
        kernel_html,
    )
    context.close()
    return {p.id: (w, k, h) for p, w, k, h in zip(CORPUS, result, kernel, kernel_html)}


def render_kernel(text: str) -> str:
    from ollama_nb._render import model_html  # the lead's render layer (issue 9)

    return model_html(text)


def inert_links_dropped(seen: list[str]) -> set[str]:
    """An ``<a>`` that lost its target is inert text. The parsers differ on whether a control
    character ends a link destination ("[x](\\x01javascript:...)"): one keeps a link without href,
    the other keeps the text; neither keeps a URL."""
    items = set(seen)
    if not any(i.startswith(("a[href]", "a[title]")) for i in items):
        items -= {"a", "a[rel]", "a[target]"}
    return items


def test_both_sides_stay_inside_the_policy(widget_sets):
    outside = []
    for ident, (widget, kernel, _html) in widget_sets.items():
        outside += [f"payload {ident} widget: {i}" for i in widget["seen"] if not allowed(i)]
        outside += [f"payload {ident} widget math: {t}" for t in widget["math"] if t not in WIDGET_MATH]
        outside += [f"payload {ident} kernel: {i}" for i in kernel["seen"] if not allowed(i)]
        # the kernel writes TeX for MathJax: no element at all inside its math wrappers
        outside += [f"payload {ident} kernel math: {t}" for t in kernel["math"] if t != "span"]
    assert not outside, "\n".join(outside)


def test_both_sides_keep_the_same_things(widget_sets):
    differ = []
    for ident, (widget, kernel, html) in widget_sets.items():
        w, k = inert_links_dropped(widget["seen"]), inert_links_dropped(kernel["seen"])
        if w != k:
            differ.append(f"payload {ident}: widget only {sorted(w - k)}, kernel only {sorted(k - w)}\n    kernel: {html[:300]!r}")
    assert not differ, f"{len(differ)} of {len(widget_sets)} payloads differ:\n" + "\n".join(differ)


def test_the_comparison_sees_what_survives(widget_sets):
    """The extraction is not blind: a good link and an inline PNG survive on both sides."""
    good = next(p for p in CORPUS if "https://example.invalid/ok" in p.source)
    png = next(p for p in CORPUS if p.cls == "scheme" and "![x](data:image/png" in p.source)
    for ident, wanted in ((good.id, "a[href]=https:"), (png.id, "img[src]=data:image/png")):
        widget, kernel, _ = widget_sets[ident]
        assert wanted in widget["seen"] and wanted in kernel["seen"], (ident, widget, kernel)


# Budgets of formulas per answer and per conversation (policy.json's answer_ and transcript_ limits):
# both sides typeset the same formulas and show the same ones as source, with one note.
def _inline(count: int, tex: str = "x_{{{i}}}") -> str:
    return "\n\n".join(" ".join(f"${tex.format(i=i + j)}$" for j in range(5)) for i in range(0, count, 5))


BUDGETED = {
    "300 small inline formulas": _inline(300),
    "200 display formulas": "\n\n".join(f"$$y_{{{i}}}$$" for i in range(200)),
    "40 formulas of 500 characters (past the TeX budget)": _inline(40, "a" + "+a" * 249 + "_{{{i}}}"),
    "one past a per-formula cap among 160": "$" + "{" * 40 + "x" + "}" * 40 + "$\n\n" + _inline(160),
}
COUNT = """(root) => ({ typeset: root.querySelectorAll(".onb-math, .onb-math-display").length,
  source: root.querySelectorAll(".onb-math-source").length,
  notes: [...root.querySelectorAll(".onb-capped")].map((n) => n.textContent) })"""


def _kernel_counts(page, html: str) -> dict:
    return page.evaluate(f"(h) => {{ const t = document.createElement('template'); t.innerHTML = h; return ({COUNT})(t.content); }}", html)


@pytest.fixture
def budget_page(page):
    open_bundle_page(page, "chat", PAGE)
    return page


@pytest.mark.parametrize("name", list(BUDGETED))
def test_an_answers_formula_budget_is_the_same_on_both_sides(budget_page, name):
    text = BUDGETED[name]
    widget = budget_page.evaluate(
        f"(t) => {{ window.model.set('placeholder', t); return ({COUNT})(document.querySelector('#host .onb-md')); }}", text)
    kernel = _kernel_counts(budget_page, render_kernel(text))
    assert widget == kernel
    notes = 2 if name.startswith("one past") else 1  # that formula's own note, then the budget's
    assert widget["source"] > 0 and len(widget["notes"]) == notes, widget


def test_a_conversations_formula_budget_is_the_same_on_both_sides(budget_page):
    from ollama_nb._render.answer import transcript

    messages = []
    for i in range(50):
        messages += [{"role": "user", "content": f"q{i}", "turn": f"t{i}"},
                     {"role": "assistant", "content": _inline(20, f"z_{{{{{i}.{{i}}}}}}"), "thinking": "", "status": "done",
                      "model": "m", "stats": "", "error": None, "turn": f"t{i}"}]
    budget_page.evaluate("(m) => window.model.set('messages', m)", messages)
    after_frames(budget_page)
    widget = budget_page.evaluate(f"() => ({COUNT})(document.querySelector('#host .onb-chat-log'))")
    kernel = _kernel_counts(budget_page, transcript(messages))
    assert widget == kernel
    assert widget["typeset"] == POLICY["limits"]["transcript_formulas"] and len(widget["notes"]) == 1, widget
    # A cleared conversation gives its budget back: the next answer is typeset whole.
    fresh = [dict(m, turn="t99") for m in messages[-2:]]
    budget_page.evaluate("(m) => { window.model.set('messages', []); window.model.set('messages', m); }", fresh)
    after_frames(budget_page)
    again = budget_page.evaluate(f"() => ({COUNT})(document.querySelector('#host .onb-chat-log'))")
    assert again == {"typeset": 20, "source": 0, "notes": []}
