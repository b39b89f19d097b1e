"""The render layer's policy, unit by unit: what survives, what is dropped, what stays readable.

The payload corpus (tests/corpus) runs the same rules through every surface in a browser; these
tests pin the rules themselves on the kernel side.
"""

from __future__ import annotations

import html.parser
import re

import pytest

from ollama_nb.render import POLICY, chrome, model_html
from ollama_nb.render import answer as render_answer


class Walk(html.parser.HTMLParser):
    """Every element and attribute in an HTML fragment, as a browser's parser would see them."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, {k: v or "" for k, v in attrs}))


def assert_within_policy(fragment: str) -> None:
    for tag, attrs in Walk(fragment).elements:
        assert tag in POLICY["tags"], (tag, fragment)
        allowed = set(POLICY["tags"][tag]) | ({"rel", "target"} if tag == "a" else set())
        assert set(attrs) <= allowed, (tag, attrs)
        if "href" in attrs:
            assert re.match(r"(?i)^(https?:|mailto:)", attrs["href"]), attrs
        if tag == "img":
            assert re.match(r"^data:image/(png|jpeg|gif|webp);base64,", attrs.get("src", "data:image/png;base64,")), attrs
        if tag == "a":
            assert attrs.get("rel") == "noopener noreferrer nofollow" and attrs.get("target") == "_blank"


HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<iframe src='https://evil'></iframe>",
    '<a href="javascript:alert(1)">x</a>',
    "<div style='position:fixed' onclick='alert(1)'>cover</div>",
    "<!-- comment --><svg onload=alert(1)>",
    "<math><mi xlink:href='javascript:alert(1)'>x</mi></math>",
    "\\`<img src=x onerror=alert(1)>`",
    "`a\n\n<img src=x onerror=alert(1)>\n\nb`",
    "```\ncode\n```~\n<img src=x onerror=alert(1)>",
    "- ```\n  code\n ```\n<img src=x onerror=alert(1)>",
    "a\rb\r<img src=x onerror=alert(1)>",
    "<video poster=http://127.0.0.1:9/p><audio src=http://127.0.0.1:9/a><input type=image src=http://127.0.0.1:9/i>",
    "<table background=http://127.0.0.1:9/t><tr><td>x</td></tr></table>",
    "<p style=\"background:url(http://127.0.0.1:9/c)\">x</p>",
    "<img srcset='http://127.0.0.1:9/s 2x'>",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_raw_html_is_text(text):
    out = model_html(text)
    assert_within_policy(out)
    assert not any(tag in ("script", "img", "iframe", "svg", "math", "video", "audio", "input") for tag, _ in Walk(out).elements)


@pytest.mark.parametrize(
    "link",
    ["[x](javascript:alert(1))", "[x](JaVaScRiPt:alert(1))", "[x](java&#9;script:alert(1))", "[x](javascript&#58;alert(1))",
     "[x](javascript\\:alert(1))", "[x]( <javascript:alert(1)> )", "![i](data:text/html,<script>)", "<javascript:alert(1)>",
     "[x]: javascript:alert(1)\n\n[x]", "> [x]: javascript:alert(1)\n>\n> [x]", "[x]:\n  javascript:alert(1)\n\n[x]",
     "[x](vbscript:msgbox)", "[x](data:text/html;base64,PHNjcmlwdD4=)", "\\([x](javascript:alert(1))\\)",
     "$[x](javascript:alert(1))$", "\\$[x](javascript:alert(1))$", "[x](/lab/api/x)", "[x](//127.0.0.1:9/p)"],
)
def test_only_http_and_mailto_links_survive(link):
    out = model_html(link)
    assert_within_policy(out)
    for _, attrs in Walk(out).elements:
        assert "script" not in attrs.get("href", "").lower()


def test_links_open_in_a_new_tab_without_referrer():
    (tag, attrs), = Walk(model_html("[docs](https://ollama.com/docs)")).elements[1:]
    assert tag == "a" and attrs == {"href": "https://ollama.com/docs", "target": "_blank", "rel": "noopener noreferrer nofollow"}
    assert Walk(model_html("mail <mailto:a@b.org>")).elements[1][1]["href"] == "mailto:a@b.org"


def test_remote_images_become_links_and_inline_ones_show():
    out = model_html("![a cat](http://127.0.0.1:9/cat.png?q=secret) ![dot](data:image/png;base64,iVBORw0KGgo=)")
    elements = Walk(out).elements
    assert ("img", {"src": "data:image/png;base64,iVBORw0KGgo=", "alt": "dot"}) in elements
    links = [a for t, a in elements if t == "a"]
    assert links and links[0]["href"].startswith("http://127.0.0.1:9/cat.png") and "🖼 a cat" in out
    assert model_html("![svg](data:image/svg+xml;base64,PHN2Zz4=)").count("<img") == 0


def test_markdown_itself_is_kept():
    text = (
        "# Title\n\n| a | b |\n|:--|--:|\n| 1 | $x<y$ |\n\n```python\nprint('<ok>')\n```\n\n"
        "Inline `<b>` code, $$\\frac{a}{b}$$ and \\(a<b\\), a < b, ~~old~~, [link](https://example.com/a_(b)).\n\n"
        "- [x] done\n- [ ] todo\n\n\\[\nE = mc^2\n\\]\n"
    )
    out = model_html(text)
    assert_within_policy(out)
    assert "<h1>Title</h1>" in out and '<th align="left">a</th>' in out and '<td align="right">' in out
    assert '<code class="language-python">' in out and "&lt;ok&gt;" in out and 'class="onb-hl-' in out
    assert "<code>&lt;b&gt;</code>" in out and "a &lt; b" in out and "<s>old</s>" in out
    assert "\\(x&lt;y\\)" in out and "\\[\\frac{a}{b}\\]" in out and "\\(a&lt;b\\)" in out and "\\[E = mc^2\\]" in out
    assert out.count("mathjax_process") == 4
    assert 'href="https://example.com/a_(b)"' in out
    assert "☑ done" in out and "☐ todo" in out


def test_dollars_that_are_not_math_stay_text():
    out = model_html("It costs $5 and $10, and \\$x\\$ too.")
    assert "mathjax_process" not in out and "$5 and $10" in out


def test_tex_commands_that_link_or_style_are_shown_as_text():
    out = model_html("$\\href{javascript:alert(1)}{x}$ $$\\style{color:red}{y}$$ \\(\\require{html}\\)")
    for command in ("href", "style", "require"):
        assert f"\\{command}{{" not in out and f"\\textbackslash {command}" in out


def test_bare_urls_are_linked():
    (_, attrs), = [e for e in Walk(model_html("see https://ollama.com/library")).elements if e[0] == "a"]
    assert attrs["href"] == "https://ollama.com/library"


def test_chrome_escapes_every_value():
    name = '<img src=x onerror=alert(1)>[x](javascript:1)'
    pieces = [chrome.footer(name, warning=name), chrome.heading(name), chrome.note(name), chrome.code(name, name),
              chrome.error_box(name, name, title=name), chrome.table([{"a": name}], ["a", name], code_columns=["a"]),
              chrome.columns([name], [""], [name]), chrome.details(name, ""), chrome.thinking("", summary=name)]
    for piece in pieces:
        assert "<img" not in piece and "<a " not in piece, piece


def test_error_box_formats_code_and_reads_in_both_themes():
    box = chrome.error_bundle("bad <b>", "Run `%ollama pull x`.")
    assert "&lt;b&gt;" in box["text/html"] and "<code>%ollama pull x</code>" in box["text/html"]
    assert box["text/plain"] == "bad <b>\nRun `%ollama pull x`."
    assert "var(--jp-content-font-color1" in chrome.STYLE  # the theme's own text colour, light or dark


def test_an_answer_bundle_carries_html_and_plain_only():
    html_ = render_answer.answer(content="**hi**", thinking="step <1>", model="m", footer="m · 3 tokens")
    assert "<strong>hi</strong>" in html_ and "step &lt;1&gt;" in html_ and "onb-thinking" in html_
    assert set(chrome.bundle("x", html_)) == {"text/html", "text/plain"}


STREAMED = [
    "# Title\n\nA paragraph with **bold**.\n\n- one\n- two\n\n  still two\n\n- three\n\nAfter the list.\n",
    "Intro\n\n```python\ndef f():\n\n    return 1\n```\n\nOutro `x`.",
    "Para\n===\n\n> quote\nlazy line\n\n> another\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nend",
    "Math:\n\n$$\nx = 1\n\ny = 2\n$$\n\nand \\[\na\n\n b\n\\]\n\ndone $z$.",
    "See [the docs][d] and [this].\n\n[d]: https://ollama.com\n\n[this]: https://example.com/x\n\nbye",
    "1. a\n2. b\n\n\n3. c\n\n    indented code\n\ntext\r\nwith CRLF\rand CR\n\n---\n\n* * *\n",
    "<div>\n\nraw html block\n\n</div>\n\n<img src=x onerror=alert(1)>\n\n```\nunclosed fence\n\nstill code",
]


@pytest.mark.parametrize("text", STREAMED)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_streaming_render_equals_a_whole_render_at_every_step(text, seed):
    import random

    from ollama_nb.render.markdown import StreamRenderer

    rng = random.Random(seed)
    renderer, end = StreamRenderer(), 0
    while end < len(text):
        end = min(len(text), end + rng.randint(1, 12))
        assert renderer.render(text[:end]) == model_html(text[:end]), (text[:end],)


def test_streaming_render_of_a_long_answer_parses_each_finished_block_once(monkeypatch):
    from ollama_nb.render import markdown as md

    calls: list[int] = []
    real = md.model_html
    monkeypatch.setattr(md, "model_html", lambda text: calls.append(len(text)) or real(text))
    text = "".join(f"Paragraph {i} with *some* words.\n\n" for i in range(200))
    renderer = md.StreamRenderer()
    for end in range(0, len(text), 40):
        renderer.render(text[:end])
    # Work per update is bounded by the open tail, not by the text so far.
    assert max(calls) < 200 and sum(calls) < 4 * len(text), (max(calls), sum(calls), len(text))
