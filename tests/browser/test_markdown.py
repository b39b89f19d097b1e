"""The shipped bundle's Markdown pipeline, in Chromium, on hostile and ordinary model output.

No JupyterLab needed: the committed static/chat.js is loaded into a blank page and rendered
with a stand-in model, exactly as anywidget would call it.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from .lab import after_frames, open_bundle_page, screenshot

PAGE = """<!doctype html><html><head><meta charset="utf-8"><link rel="stylesheet" href="/chat.css">
</head><body><div id="host"></div><script type="module">
import widget from "/chat.js";
import { FakeModel } from "/fake_model.js";
window.alerted = [];
window.alert = (x) => window.alerted.push(String(x));
window.model = new FakeModel({ placeholder: "" });
window.cleanup = widget.render({ model: window.model, el: document.getElementById("host") });
window.ready = true;
</script></body></html>"""


@pytest.fixture
def md(page):
    open_bundle_page(page, "chat", PAGE)

    def render(text: str):
        page.evaluate("(t) => window.model.set('placeholder', t)", text)
        return page.locator("#host .onb-md")

    return render


def test_hostile_html_is_neutralised(md, page):
    body = md(
        "<script>alert('script')</script>\n\n<img src=x onerror=\"alert('img')\">\n\n"
        "[bad](javascript:alert('link')) [good](https://example.com/a)\n\n"
        '<div style="position:fixed;inset:0" onclick="alert(1)">cover</div>\n\n<form><input name=q></form>'
    )
    # Raw HTML is shown as the text it is, never parsed into elements or attributes.
    assert body.locator("script, img, div, form, input, [onerror], [onclick], [style]").count() == 0
    assert "<img src=x onerror=" in body.inner_text()
    # a link the parser refuses stays the text the model wrote, as in the kernel's render layer
    assert "[bad](javascript:alert('link'))" in body.inner_text() and body.locator("a[href*=javascript]").count() == 0
    good = body.locator("a", has_text="good")
    assert good.get_attribute("href") == "https://example.com/a"
    assert good.get_attribute("target") == "_blank"
    assert good.get_attribute("rel") == "noopener noreferrer nofollow"
    after_frames(page)
    assert page.evaluate("window.alerted") == []


def test_math_renders_as_mathml(md, page):
    body = md(
        "Euler: $e^{i\\pi}+1=0$, and costs $5 and $10.\n\n$$\n\\frac{a}{b}\n$$\n\n"
        "Also \\(x^2\\) and broken $\\frac{1$ here."
    )
    assert body.locator("math").count() == 3
    assert body.locator('math[display="block"]').count() == 1
    text = body.inner_text()
    assert "costs $5 and $10" in text
    assert "\\pi" not in text and "\\frac{a}" not in text  # TeX source stays in <annotation>
    assert body.locator(".onb-math-error").inner_text() == "$\\frac{1$"
    screenshot(page, "markdown-math")


def test_code_is_highlighted_and_copyable(md, page):
    body = md("```python\ndef f(x):\n    return '<script>'  # hi\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |")
    code = body.locator("pre > code")
    assert code.locator(".hljs-keyword").first.inner_text() == "def"
    assert code.inner_text().rstrip("\n") == "def f(x):\n    return '<script>'  # hi"
    assert body.locator("table td").count() == 2
    button = body.locator("pre > button.onb-copy")
    assert button.count() == 1
    # plain http is not a secure context: the copy falls back to execCommand
    button.click(force=True)
    expect(button).to_have_text(re.compile(r"^(Copied|Copy failed)$"))  # the copy settles asynchronously
    screenshot(page, "markdown-code")


def test_cleanup_detaches_listeners(md, page):
    md("hi")
    assert page.evaluate("window.model.handlers['change:placeholder'].length") == 1
    page.evaluate("window.cleanup()")
    assert page.evaluate("window.model.handlers['change:placeholder'].length") == 0
    assert page.locator("#host").inner_html() == ""


def test_renders_literal_text_for_json_like_input(md):
    text = json.dumps({"a": "<b>x</b>"})
    assert "<b>x</b>" in md(f"`{text}`").inner_text()


def test_remote_images_do_not_load(md, page):
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    body = md("Look: ![a cat](http://127.0.0.1:9/beacon.png?chat=secret) and an inline dot "
              "![dot](data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==)")
    after_frames(page)
    link = body.locator("a", has_text="a cat")
    assert link.inner_text() == "🖼 a cat" and link.get_attribute("href").startswith("http://127.0.0.1:9/beacon")
    assert body.locator("img").count() == 1 and body.locator("img").get_attribute("alt") == "dot"
    assert not any("beacon" in url for url in requested)
