"""The render layer's policy, unit by unit: what survives, what is dropped, what stays readable.

The payload corpus (tests/corpus) runs the same rules through every surface in a browser; these
tests pin the rules themselves on the kernel side.
"""

from __future__ import annotations

import html.parser
import re

import pytest
from kernel_helpers import visible_text

from ollama_nb._render import POLICY, chrome, model_html
from ollama_nb._render import answer as render_answer


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


STREAMED += [
    "Steps:\n\n1. first step\n1. second, with `code`\n1. third\n   - nested a\n   - nested b\n1. fourth\n\nDone.",
    "- tight a\n- tight b\n- tight c\n+ another list\n+ of two\n\n* loose a\n\n* loose b\n\n* loose c\n\nend",
    "3. starts at three\n4. four\n5. five\n\n\n6. six after blank lines\n7. seven\n",
]

_SPLIT_LIST = re.compile(r"</(ol|ul)>\n<\1(?: start=\"\d+\")?>\n")
_PARAGRAPHS = re.compile(r"</?p>|\n")


def _as_one(html_: str) -> str:
    """HTML with the lists a stream split between items joined again, paragraphs unmarked: the
    two ways finished parts may differ from a whole render (BlockStream's docstring: a list shown
    tight that turns loose later keeps its shown items tight)."""
    return _PARAGRAPHS.sub("", _SPLIT_LIST.sub("", html_))


@pytest.mark.parametrize("text", STREAMED)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_finished_parts_and_open_end_equal_a_whole_render_at_every_step(text, seed):
    import random

    from ollama_nb._render.markdown import BlockStream

    rng = random.Random(seed)
    blocks, end, shown = BlockStream(), 0, ""
    while end < len(text):
        end = min(len(text), end + rng.randint(1, 12))
        rest = blocks.feed(text[:end])
        assert blocks.html.startswith(shown), "a finished part changed"  # never re-sent
        shown = blocks.html
        whole = model_html(text[:end])
        if "]:" in text:  # a definition after its use: the earlier [x] stays text, brackets and all
            def unref(html_: str) -> str:
                return re.sub(r"\[([^\]]*)\](?:\[[^\]]*\])?", r"\1", visible_text(html_))

            assert unref(blocks.html + rest) == unref(whole)
        else:
            assert _as_one(blocks.html + rest) == _as_one(whole), (text[:end],)
    # Joined again, the lists are the whole render's, numbering included (tightness aside).
    if "]:" not in text:
        assert _as_one(_SPLIT_LIST.sub("", blocks.html + rest)) == _as_one(model_html(text))


def test_a_loose_list_stays_loose_and_numbered_in_every_part():
    from ollama_nb._render.markdown import BlockStream

    text = "Intro\n\n" + "".join(f"{i}. step {i} {'and so on ' * 20}\n\n" for i in (3, 3, 3, 3, 3, 3)) + "Done."
    blocks, parts = BlockStream(), []
    for end in range(1, len(text) + 1):
        rest = blocks.feed(text[:end])
        parts.append(blocks.html)
    assert len(set(parts)) > 3  # settled a few items at a time
    assert _SPLIT_LIST.sub("", blocks.html + rest) == model_html(text)  # <p> in every item, 3..7


def test_a_long_list_settles_item_by_item_numbered_on():
    from ollama_nb._render.markdown import BlockStream

    text = "".join(f"1. item {i} says *something*\n" for i in range(1, 121))
    blocks, sizes = BlockStream(), []
    for end in range(0, len(text), 7):
        sizes.append(len(blocks.feed(text[:end])))
        assert blocks.joins == ("</ol>" in blocks.html)  # the list goes on below its shown items
    # The open end is about list_part of source, not the list so far.
    assert max(sizes) < 1.5 * BlockStream.list_part + 2 * len("<li>item 40 says <em>something</em></li>"), max(sizes)
    starts = [int(n) for n in re.findall(r'<ol start="(\d+)">', blocks.html)]
    assert starts == sorted(starts) and len(starts) >= 5  # numbered on, part after part
    blocks.feed(text)  # the last item is the open end: every item before it is shown, once
    assert visible_text(blocks.html).split() == visible_text(model_html(text[: len(blocks.source)])).split()
    assert text.rindex("1. item 120") - len(blocks.source) < BlockStream.list_part


def test_streaming_parts_parse_each_finished_block_once(monkeypatch):
    from ollama_nb._render import markdown as md

    calls: list[int] = []
    real = md._render
    monkeypatch.setattr(md, "_render", lambda text, *a: calls.append(len(text)) or real(text, *a))
    text = "".join(f"Paragraph {i} with *some* words.\n\n" for i in range(200))
    blocks = md.BlockStream()
    for end in range(0, len(text), 40):
        blocks.feed(text[:end])
    # Work per update is bounded by the open tail, not by the text so far.
    assert max(calls) < 200 and sum(calls) < 4 * len(text), (max(calls), sum(calls), len(text))


def _stream_split(live, steps, **fields):
    """Feed a LiveAnswer growing thinking then content; returns each split."""
    out = []
    for thinking, content in steps:
        out.append(live.split(thinking=thinking, content=content, thinking_open=not content, **fields))
    return out


def test_thinking_streams_in_parts_then_folds_away_above_the_answer():
    from ollama_nb._render.answer import LiveAnswer

    thought = "".join(f"Thought {i}: *maybe* this.\n\n" for i in range(30))
    steps = [(thought[:n], "") for n in range(0, len(thought), 25)] + [(thought, "The answer."), (thought, "The answer.\n\nMore.")]
    splits = _stream_split(LiveAnswer(), steps)
    growing = [s for s in splits if not s.fold]
    # While it grows: finished thoughts are parts of their own, each sent once; the rest is small.
    parts = [p.html for s in splits[: len(steps) - 2] for p in s.settled]
    assert len(parts) > 10 and all("onb-think-live" in p for p in parts)
    assert sum("Thinking…" in p for p in parts) == 1
    assert max(len(s.rest) for s in growing) < 200
    # Once the answer starts: one fold, whose first part is the whole thinking, folded.
    folds = [s for s in splits if s.fold]
    assert len(folds) == 1 and folds[0].settled[0].html == chrome.thinking(model_html(thought))
    assert "onb-think-live" not in splits[-1].rest and "More." in splits[-1].rest


def test_compare_columns_end_their_thinking_box_instead_of_folding():
    from ollama_nb._render.answer import LiveAnswer

    thought = "".join(f"Thought {i}.\n\n" for i in range(10))
    splits = _stream_split(LiveAnswer(fold_thinking=False), [(thought[:40], ""), (thought, ""), (thought, "Answer.")])
    assert not any(s.fold for s in splits)
    shown = "".join(p.html for s in splits for p in s.settled)
    assert visible_text(shown) == "Thinking…" + visible_text(model_html(thought))  # each thought once, none folded
    assert "<details" not in shown


def test_thinking_that_grows_after_the_answer_began_is_folded_again_whole():
    from ollama_nb._render.answer import LiveAnswer

    live = LiveAnswer()
    first = "First thought.\n\nSecond thought.\n\n"
    live.split(thinking=first, content="", thinking_open=True)
    begun = live.split(thinking=first, content="One.\n\nTwo", thinking_open=False)
    assert begun.fold and begun.settled[0].html == chrome.thinking(model_html(first))
    more = live.split(thinking=first + "A late thought.", content="One.\n\nTwo.\n\nThree", thinking_open=False)
    # Shown again from the top: the whole thinking folded, then the answer so far; nothing twice.
    assert more.fold and more.settled[0].html == chrome.thinking(model_html(first + "A late thought."))
    shown = "".join(p.html for p in more.settled[1:]) + more.rest
    assert visible_text(shown).split() == ["One.", "Two.", "Three"]


def test_a_transcript_labels_its_speakers_without_headings():
    # A 100-turn chat must not put 200 entries into the notebook's table of contents; a model's
    # own headings stay headings.
    html_ = render_answer.transcript(
        [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "## Title\n\nhello", "model": "m"}]
    )
    assert re.findall(r"<h\d>[^<]*</h\d>", html_) == ["<h2>Title</h2>"]
    assert [m for m in re.findall(r'<div class="onb-who"><kbd>([^<]*)</kbd></div>', html_)] == ["You", "m"]


def test_a_long_table_streams_at_the_cost_of_its_new_rows(monkeypatch):
    # A 60 kB table, 500 characters an update: the open table's rows are kept, so the parser reads
    # each character a few times in all (before: every update parsed the whole table again, 131x
    # the cost of one whole render, 52.6 s against 0.4 s; now 1.8x).
    from markdown_it import MarkdownIt

    from ollama_nb._render.markdown import BlockStream

    text = "Intro.\n\n| n | code | note |\n|--:|:----:|------|\n" + "".join(
        f"| {i} | `x{i}` | *{i}* [l](https://example.com/{i}) |\n" for i in range(1200)
    ) + "\nAfter the table.\n"
    parsed = []
    real_parse = MarkdownIt.parse
    monkeypatch.setattr(MarkdownIt, "parse", lambda self, src, env=None: parsed.append(len(src)) or real_parse(self, src, env))
    stream = BlockStream()
    for end in range(500, len(text) + 500, 500):
        rest = stream.feed(text[:end])
    assert stream.html + rest == model_html(text)  # the same HTML as one render of the whole text
    assert sum(parsed) < 12 * len(text), (sum(parsed), len(text))


def test_a_table_that_stops_being_one_is_parsed_whole_again():
    from ollama_nb._render.markdown import BlockStream

    table = "| a | b |\n|---|---|\n" + "| 1 | 2 |\n" * 400
    for after in ("\nnext paragraph", "# heading\n", "> quote", "```\ncode\n```", "not a row"):
        stream = BlockStream()
        text = table + after
        for end in range(1, len(text) + 1, 97):
            stream.feed(text[:end])
        rest = stream.feed(text)
        assert stream.html + rest == model_html(text), after
