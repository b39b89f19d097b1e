"""Our own code elements show every character they hold (issue 24): the corpus' "deception" class
(bidi controls, zero-width characters, fillers) through every surface our chrome shows as code.

A model's Markdown code blocks mark what prints as nothing (``_render/invisible.py``); text our
chrome shows as code itself (tool-call arguments, a structured answer, ``--show-request``'s curl
line and response, ``%ollama show``'s Modelfile, template and license, commands quoted in an error
or a hint, code cells of a table, a batch's last error, a formula or nesting shown as source) goes
through the same marks, made in one place (``chrome.code_text``). Each surface is asked with every
payload: no ``<code>`` element keeps an invisible character, each one shows as its ``⟦U+…⟧`` mark,
and a whole code block that held any is flagged.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import pytest
from corpus.payloads import CORPUS

from ollama_nb._render import answer as render_answer
from ollama_nb._render import caps, chrome
from ollama_nb._render.invisible import INVISIBLE
from ollama_nb._render.progress import Board, progress_bundle

DECEPTIONS = [p for p in CORPUS if p.cls == "deception" and INVISIBLE.search(p.text(""))]
FLAG = 'class="onb-flag"'

def unticked(text: str) -> str:
    return text.replace("`", "")


#: Each surface: the HTML it makes of a text, and whether it is a code block (flagged when it hides any).
SURFACES: dict[str, tuple[Callable[[str], str], bool]] = {
    "tool-call arguments": (
        lambda t: render_answer.answer(content="", tool_calls=[{"function": {"name": "run", "arguments": {"cmd": t}}}]),
        True,
    ),
    "structured answer": (lambda t: render_answer.answer(content=t, structured=True), True),
    "code block (--show-request, %ollama show, --insert)": (lambda t: chrome.code(t, "bash"), True),
    # (backticks quote a command in our messages: the payload's own are left out of these two)
    "error and hint quoting a command": (
        lambda t: chrome.error_box(f"failed: `{unticked(t)}`", f"try `{unticked(t)}` again"), False
    ),
    "table code cell": (lambda t: chrome.table([{"command": t}], ["command"], code_columns=["command"]), False),
    "hint cell of a table": (
        lambda t: chrome.table([{"fix": f"run `{unticked(t)}`"}], ["fix"], hint_columns=["fix"]), False
    ),
    "batch's last error": (
        lambda t: progress_bundle(Board(1, 1, 0, 0, 2, 0, "", "", "", "", last_error=t))["text/html"],
        False,
    ),
    "formula shown as source": (lambda t: caps.capped_math(t, True, "is long"), True),
    "inline formula shown as source": (lambda t: caps.capped_math(t, False, "is long"), False),
    "nesting shown as source": (caps.source_block, True),
}


def code_texts(fragment: str) -> list[str]:
    """The text inside every <code> element, marks included, as a browser reads it."""
    return [html.unescape(re.sub(r"<[^>]*>", "", body)) for body in re.findall(r"<code[^>]*>([\s\S]*?)</code>", fragment)]


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize("payload", DECEPTIONS, ids=[f"p{p.id}" for p in DECEPTIONS])
def test_our_code_shows_every_character_it_holds(payload, surface):
    make, block = SURFACES[surface]
    text = payload.text("")
    fragment = make(text)
    codes = code_texts(fragment)
    assert codes, f"{surface}: no code element"
    for code in codes:
        assert not INVISIBLE.search(code), f"{surface} hides {INVISIBLE.findall(code)!r} in {code!r}"
    # Each shows as its mark (a batch's last error is on one line already, with escapes for them).
    assert all(f"⟦U+{ord(ch):04X}⟧" in fragment or ascii(ch)[1:-1] in fragment for ch in INVISIBLE.findall(text)), surface
    assert (FLAG in fragment) == block, f"{surface}: a code block holding invisible characters is flagged"


def test_plain_code_is_not_flagged_or_changed():
    assert chrome.code("print('hi')\n", "python") == '<pre><code class="language-python">print(&#x27;hi&#x27;)\n</code></pre>'
    assert FLAG not in render_answer.answer(content="", tool_calls=[{"function": {"name": "f", "arguments": {"x": 1}}}])
