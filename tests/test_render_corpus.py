"""The whole payload corpus against the render layer's policy, without a browser (issue 9).

- Model text (``model_html``): every element, attribute, URL scheme and image that survives is
  inside ``policy.json``; links carry the fixed rel/target; nothing can load by itself.
- Our chrome (headings, footers, error boxes, tables, code, compare columns, answers, transcripts):
  a payload given as a value changes only text. The markup built around a payload is the markup
  built around a plain word, element for element and attribute for attribute.
"""

from __future__ import annotations

import html.parser
import re
from collections.abc import Callable
from typing import Any

import pytest
from corpus.payloads import CORPUS

from ollama_nb._render import POLICY, chrome, model_html
from ollama_nb._render import answer as render_answer

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
    for end in range(0, 2 * len(text) + 1, 11):
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


@pytest.mark.parametrize("piece", CHROME)
def test_chrome_values_change_only_text(piece):
    build = CHROME[piece]
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
        assert set(bundle) == {"text/html", "text/plain"} and bundle["text/plain"] == text, ident
