"""A long tight list at the open end of a streamed answer grows item by item, and still equals a
whole render of the text so far (issue 24: a long open block was parsed again, whole, at every
delta).

On the page of test_chat_stream.py: random chunkings of long lists (ordered and bulleted, nested
items, task items, a blank line that makes a list loose, another marker that starts a new list,
code inside an item, paragraphs and blocks after) equal the reference at every step; and the
items the view renders, counted by a MutationObserver, are the items that arrived plus one per
update, not the list again per update.
"""

from __future__ import annotations

import json
import random

import pytest

from .lab import open_bundle_page
from .test_chat_stream import PAGE, reset
from .test_chat_stream_tables import COUNT, big_chunkings, commit


def items(n: int, marker: str = "-", seed: int = 0) -> str:
    rng = random.Random(seed)
    words = ["alpha", "*beta*", "`gamma`", "δ $x^2$", "[link](https://ollama.com)", "**bold**", "<b>raw</b>", ""]
    out = []
    for i in range(n):
        m = f"{i + 1}{marker}" if marker in ".)" else marker
        out.append(f"{m} {i} " + " ".join(rng.choice(words) for _ in range(4)) + "\n")
        if rng.random() < 0.15:
            out.append("  - nested " + rng.choice(words) + "\n")
        if rng.random() < 0.1:
            out.append("lazy continuation " + rng.choice(words) + "\n")
    return "".join(out)


LISTS = [
    items(90),
    "Intro paragraph.\n\n" + items(80, ".", seed=1) + "\nAfter the list.\n\n# Heading\n",
    items(60, "*", seed=2) + "- [ ] todo\n- [x] done\n" + items(30, "*", seed=3) + "\nend",
    items(50, seed=4) + "\n" + items(20, seed=5) + "\nloose now\n",  # a blank line between items
    items(40, ")", seed=6) + items(40, ".", seed=7) + "text\n",  # another delimiter: a new list
    items(50, seed=8) + "- code:\n\n  ```python\n  print(1)\n  ```\n" + items(20, seed=9) + "\n```js\nx\n```\n",
    "# Title\n" + items(70, "+", seed=10) + "+\n+ empty item above\n" + "- \u202e zero\u200bwidth `co\u200bde`\n" * 60,
]


@pytest.fixture
def view(page):
    return open_bundle_page(page, "chat", PAGE)


@pytest.mark.parametrize("index", range(len(LISTS)))
def test_every_step_of_a_streamed_long_list_equals_a_whole_render(view, index):
    page = view
    text = LISTS[index]
    assert len(text) > 2000  # past the size where items are kept
    for seed, chunks in [(index, big_chunkings(text, index)), (f"mixed{index}", big_chunkings(text, index + 20, (1, 2, 5, 13, 60, 150)))]:
        reset(page)
        failed = page.evaluate("(c) => stream(c)", chunks)
        assert failed is None, f"chunking {seed}, step {failed and failed['step']}: {json.dumps(failed, indent=1)[:3000]}"
        commit(page, text)
        assert page.evaluate("(t) => body().innerHTML === whole(t)", text)


def test_a_long_list_renders_each_item_about_once(view):
    page = view
    text = "".join(f"- item {i} with *some* words and `code` in it\n" for i in range(700))  # about 30 kB
    after = "\n" + "".join(f"Paragraph {i} after the list.\n\n" for i in range(20))
    chunks = [text[i : i + 500] for i in range(0, len(text), 500)] + [after[i : i + 50] for i in range(0, len(after), 50)]
    got = page.evaluate(COUNT, [chunks, "li"])
    assert got["shown"] == 700
    # Each item once, plus the item still being written at each update, a few whole renders while
    # the list is short, and the whole list once more when the paragraph after it settles it.
    # Rendering the open list again at each delta added about items x updates / 2 = 21 000.
    assert got["added"] <= 2 * got["shown"] + 3 * got["updates"] + 200, got
