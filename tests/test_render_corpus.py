"""The whole payload corpus against the render layer's policy, without a browser (issue 9).

- Model text (``model_html``): every element, attribute, URL scheme and image that survives is
  inside ``policy.json``; links carry the fixed rel/target; nothing can load by itself.
- Our chrome (headings, footers, error boxes, tables, code, compare columns, answers, transcripts):
  a payload given as a value changes only text. The markup built around a payload is the markup
  built around a plain word, element for element and attribute for attribute.
"""

from __future__ import annotations

import html
import html.parser
import re
from collections.abc import Callable
from typing import Any

import pytest
from corpus.payloads import CORPUS

from ollama_nb._render import POLICY, chrome, model_html
from ollama_nb._render import answer as render_answer
from ollama_nb._terminal import terminal_text

BEACON = "http://127.0.0.1:9/b"
TEXTS = {p.id: p.text(BEACON) for p in CORPUS}
IDS = [f"p{p.id}-{p.cls}" for p in CORPUS]
LINK = re.compile(r"(?i)^({}):".format("|".join(POLICY["url_schemes"])))
IMAGE = re.compile(r"(?i)^data:({});base64,".format("|".join(re.escape(t) for t in POLICY["image_data_types"])))
CLASS = re.compile(POLICY["class_pattern"])


class Walk(html.parser.HTMLParser):
    """Start tags and their attributes, as listed in a fragment (references decoded)."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str]]]] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, [(k, v or "") for k, v in attrs]))

    handle_startendtag = handle_starttag


def outside_policy(fragment: str) -> list[str]:
    problems = []
    for tag, attrs in Walk(fragment).elements:
        if tag not in POLICY["tags"]:
            problems.append(f"<{tag}>")
            continue
        allowed = set(POLICY["tags"][tag]) | ({"rel", "target"} if tag == "a" else set())
        for name, value in attrs:
            if name not in allowed:
                problems.append(f"<{tag} {name}>")
            elif name == "href" and not LINK.match(value):
                problems.append(f"<{tag} href={value!r}>")
            elif name == "src" and not IMAGE.match(value):
                problems.append(f"<{tag} src={value!r}>")
            elif name == "class" and not all(CLASS.match(c) for c in value.split()):
                problems.append(f"<{tag} class={value!r}>")
        if tag == "a":
            got = dict(attrs)
            if got.get("rel") != POLICY["link_rel"] or got.get("target") != POLICY["link_target"]:
                problems.append(f"<a> without the fixed rel/target: {attrs}")
    return problems


@pytest.mark.parametrize("ident", TEXTS, ids=IDS)
def test_model_text_streamed_in_parts_stays_inside_the_policy(ident, monkeypatch):
    # The streaming path: thinking in parts then folded, the answer's blocks and list items handed
    # out one by one (list_part 1), every part and every open end checked as it is sent.
    from ollama_nb._render.markdown import BlockStream

    monkeypatch.setattr(BlockStream, "list_part", 1)
    payload = TEXTS[ident]
    text = f"{payload}\n\n1. {payload}\n1. {payload}\n\n- {payload}\n- x\n\n{payload}\n"
    live = render_answer.LiveAnswer()
    sent = []
    # 11 characters a step, or a few hundred steps for the long shape payloads (their open block is
    # parsed again at every step: the policy, not the cost, is what this test checks)
    for end in range(0, 2 * len(text) + 1, max(11, len(text) // 150)):
        thinking, content = text[: min(end, len(text))], text[: max(0, end - len(text))]
        split = live.split(thinking=thinking, content=content, thinking_open=not content, model="m")
        sent += [p.html for p in split.settled] + [split.rest]
    final = live.split(thinking=text, content=text, model="m", footer="m · 1 token")
    sent += [p.html for p in final.settled] + [final.rest]
    # Our own wrappers (chrome.thinking, thinking_part, footer) are not model text: left out, by
    # their exact start tags, so that whatever the model's text made is checked.
    ours = re.compile(r'<details class="onb-thinking"( open)?>|<div class="onb-(think-live|think-head|footer)">')
    for fragment in sent:
        assert not outside_policy(ours.sub("", fragment)), (payload, fragment)
        assert BEACON not in "".join(v for _, attrs in Walk(fragment).elements for n, v in attrs if n == "src")


@pytest.mark.parametrize("ident", TEXTS, ids=IDS)
def test_model_text_stays_inside_the_policy(ident):
    fragment = model_html(TEXTS[ident])
    assert not outside_policy(fragment), (TEXTS[ident], fragment)
    assert BEACON not in "".join(v for _, attrs in Walk(fragment).elements for n, v in attrs if n == "src")


def test_the_policy_check_can_fail():
    """The checker above rejects what the policy forbids (so a pass means something)."""
    assert outside_policy('<img src="http://h/x.png">') == ["<img src='http://h/x.png'>"]
    assert outside_policy('<a href="javascript:x" rel="noopener noreferrer nofollow" target="_blank">x</a>')
    assert outside_policy("<svg onload=x></svg>") == ["<svg>"]
    assert outside_policy('<span class="jp-Dialog">x</span>')
    assert not outside_policy('<img src="data:image/png;base64,iVBORw0KGgo=" alt="dot">')


def test_images_follow_the_image_rule():
    remote = model_html("![cat](http://127.0.0.1:9/b/1?q=chat)")
    assert "<img" not in remote and 'href="http://127.0.0.1:9/b/1?q=chat"' in remote and "cat" in remote
    inline = model_html("![dot](data:image/png;base64,iVBORw0KGgo=)")
    assert '<img src="data:image/png;base64,iVBORw0KGgo="' in inline
    for src in ("data:image/svg+xml;base64,PHN2Zz4=", "data:text/html;base64,PHNjcmlwdD4=", "javascript:x", "/files/x.png"):
        assert "<img" not in model_html(f"![x]({src})"), src


@pytest.mark.parametrize("scheme", ["http://example.invalid/", "https://example.invalid/", "mailto:a@example.invalid"])
def test_allowed_link_schemes_survive(scheme):
    assert f'href="{scheme}"' in model_html(f"[x]({scheme})")


@pytest.mark.parametrize("target", ["javascript:x", "JaVaScRiPt:x", "vbscript:x", "data:text/html,x", "file:///etc/passwd",
                                    "ftp://example.invalid/", "/api/kernels", "../secret", "#top", "//example.invalid/x"])
def test_other_link_targets_do_not(target):
    fragment = model_html(f"[x]({target}) <{target}>")
    assert "href" not in fragment, fragment


def _shape(fragment: str) -> list[tuple[str, tuple[str, ...]]]:
    """The markup of a fragment without its text: each element with its attribute names."""
    return [(tag, tuple(sorted(n for n, _ in attrs))) for tag, attrs in Walk(fragment).elements]


CHROME: dict[str, Callable[[str], str]] = {
    "heading": lambda v: chrome.heading(v),
    "speaker": lambda v: chrome.speaker(v),
    "footer": lambda v: chrome.footer(v, warning=v),
    "note": lambda v: chrome.note(v),
    "code": lambda v: chrome.code(v, "python"),
    "error_box": lambda v: chrome.error_box(v, v, title=v),
    "table": lambda v: chrome.table([{"name": v, "size": v, "hint": v}], ["name", "size", "hint"],
                                    code_columns=["size"], hint_columns=["hint"]),
    "columns": lambda v: chrome.columns([v, v], ["<p>a</p>", "<p>b</p>"], [v, v]),
    "answer": lambda v: render_answer.answer(content="plain", model=v, footer=v, warning=v,
                                             tool_calls=[{"function": {"name": v, "arguments": {"q": v}}}]),
    "transcript": lambda v: render_answer.transcript(
        [{"role": "user", "content": "hi"},
         {"role": "assistant", "content": "plain", "model": v, "status": v, "stats": v, "error": {"message": v, "hint": v}}], v),
    "empty_transcript": lambda v: render_answer.transcript([], v, empty=v),
}


MARKS = re.compile(r'<span class="onb-invisible">⟦U\+[0-9A-F]{4,6}⟧</span>|<div class="onb-flag">[^<]*</div>\n')


@pytest.mark.parametrize("piece", CHROME)
def test_chrome_values_change_only_text(piece):
    """Markup of our own around the values only: a value adds none (but the marks and the flag
    that show its invisible characters in code, which are ours)."""
    build = lambda v: MARKS.sub("", CHROME[piece](v))  # noqa: E731
    # "x" with a backtick pair, so inline_code's <code> spans are part of the plain shape too
    plain = _shape(build("plain `x` text"))
    changed = {}
    for ident, text in TEXTS.items():
        value = text.replace("`", "'") + " `x` "  # keep the backtick pairing of the plain value
        got = _shape(build(value))
        if got != plain:
            changed[ident] = got
    assert not changed, {k: v for k, v in list(changed.items())[:5]}


def test_answer_bundles_carry_html_and_plain_only():
    for ident, text in list(TEXTS.items())[:20]:
        bundle: dict[str, Any] = chrome.bundle(text, model_html(text))
        # text/plain is the text with control characters shown (a terminal writes it as is).
        assert set(bundle) == {"text/html", "text/plain"} and bundle["text/plain"] == terminal_text(text), ident


# ---------------------------------------------------------------- shapes and deception (issue 24)

SHAPES = [p for p in CORPUS if p.cls == "shape"]
DECEPTIONS = [p for p in CORPUS if p.cls == "deception"]
MATHJAX_INPUT = re.compile(r'class="onb-math(?:-display)? mathjax_process tex2jax_process">\\[(\[]([\s\S]*?)\\[)\]]</')


def nesting(fragment: str) -> int:
    """How deep lists and quotes nest in a fragment, as a browser would lay them out."""
    depth = deepest = 0
    for slash in re.findall(r"<(/?)(?:ul|ol|blockquote)\b", fragment):
        depth += -1 if slash else 1
        deepest = max(deepest, depth)
    return deepest


@pytest.mark.parametrize("payload", SHAPES, ids=[f"p{p.id}" for p in SHAPES])
def test_a_shape_past_a_cap_reaches_no_typesetter_and_says_so(payload):
    from ollama_nb._render import caps

    fragment = model_html(payload.text(BEACON))
    typeset = [html.unescape(m) for m in MATHJAX_INPUT.findall(fragment)]
    assert all(caps.tex_over(tex) is None for tex in typeset), typeset
    assert nesting(fragment) <= caps.BLOCK_DEPTH
    assert 'class="onb-capped"' in fragment  # said so, next to the source shown as code


def test_the_caps_let_ordinary_math_and_lists_through():
    fragment = model_html(
        "$$\\begin{pmatrix} a & b \\\\ c & d \\end{pmatrix}$$\n\n$\\frac{1}{1+\\frac{1}{1+\\frac{1}{x}}}$ and "
        "$\\raisebox{0.5em}{x}\\hspace{2em}y$\n\n- a\n  - b\n    > c\n    > - d"
    )
    assert "onb-capped" not in fragment and len(MATHJAX_INPUT.findall(fragment)) == 3
    assert nesting(fragment) == 4


def test_large_answers_render_their_head_and_say_the_rest_is_plain_text():
    from corpus.payloads import LARGE

    from ollama_nb._render import caps

    text = LARGE["huge answer"]
    assert len(text) > caps.ANSWER_CHARS
    fragment = model_html(text)
    assert f"goes on for {len(text) - caps.ANSWER_CHARS:,} more characters" in fragment
    assert len(fragment) < 1.2 * caps.ANSWER_CHARS
    for name in ("huge line", "huge table"):
        assert "onb-capped" not in model_html(LARGE[name])  # under the cap: rendered whole


def formula_answer(count: int, tex: str = "x_{{{i}}}") -> str:
    """An answer of ``count`` small inline formulas inside the per-formula caps, a few per paragraph."""
    return "\n\n".join(" ".join(f"${tex.format(i=i + j)}$" for j in range(5)) for i in range(0, count, 5))


def test_an_answer_typesets_its_first_formulas_and_shows_the_rest_as_source_said_once():
    from ollama_nb._render import caps
    from ollama_nb._render.markdown import BlockStream

    text = formula_answer(300)
    fragment = model_html(text)
    assert len(MATHJAX_INPUT.findall(fragment)) == caps.ANSWER_FORMULAS
    assert fragment.count('class="onb-math-source"') == 300 - caps.ANSWER_FORMULAS
    assert fragment.count("onb-capped") == 1
    assert f"after the first {caps.ANSWER_FORMULAS} formulas" in fragment
    # streamed in pieces (the open end rendered again on each), the same formulas are typeset
    stream = BlockStream()
    for end in range(7, len(text), 97):
        stream.feed(text[:end])
    assert stream.html + stream.feed(text) == fragment
    # the TeX of the formulas counts too: long ones stop sooner
    long = formula_answer(40, "x_{{{i}}}" + "+y" * 400)
    assert len(MATHJAX_INPUT.findall(model_html(long))) == caps.ANSWER_TEX_CHARS // len("x_{10}" + "+y" * 400)


def test_a_long_transcript_of_formula_answers_typesets_its_first_formulas():
    from ollama_nb._render import caps

    turns = []
    for turn in range(50):
        turns += [{"role": "user", "content": f"Question {turn}"},
                  {"role": "assistant", "content": formula_answer(20), "status": "done", "model": "m"}]
    page = render_answer.transcript(turns, "m")
    assert len(MATHJAX_INPUT.findall(page)) == caps.TRANSCRIPT_FORMULAS < 50 * 20
    assert page.count("onb-capped") == 1 and "of this conversation" in page


def code_texts(fragment: str) -> list[str]:
    """The text inside every <code> element, marks included, as a browser reads it."""
    return [html.unescape(re.sub(r"<[^>]*>", "", body)) for body in re.findall(r"<code[^>]*>([\s\S]*?)</code>", fragment)]


@pytest.mark.parametrize("payload", DECEPTIONS, ids=[f"p{p.id}" for p in DECEPTIONS])
def test_code_shows_every_character_it_holds(payload):
    from ollama_nb._render.invisible import INVISIBLE

    text = payload.text(BEACON)
    fragment = model_html(text)
    for code in code_texts(fragment):
        assert not INVISIBLE.search(code), repr(code)
    hidden = [m.group() for block in re.findall(r"```[^\n]*\n([\s\S]*?)```", text) for m in INVISIBLE.finditer(block)]
    if hidden:  # a fenced block that held any is flagged, and each one shows as its U+ mark
        assert fragment.count('class="onb-flag"') == len(re.findall(r"```[^\n]*\n[^`]*?[" + INVISIBLE.pattern[1:-1] + "]", text))
        assert all(f"⟦U+{ord(ch):04X}⟧" in fragment for ch in hidden)


def test_a_forged_speaker_label_does_not_look_like_ours():
    forged = next(p for p in DECEPTIONS if "**You**" in p.source).text(BEACON)
    html_ = render_answer.transcript([{"role": "user", "content": "hi"}, {"role": "assistant", "content": forged, "model": "m"}])
    labels = re.findall(r'<div class="onb-who"><kbd>([^<]*)</kbd></div>', html_)
    assert labels == ["You", "m"]
    assert "<strong>You</strong>" in html_  # the answer's own "You" stays bold text, not a label
    assert "<kbd>" not in model_html(forged)
