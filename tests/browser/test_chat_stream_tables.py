"""A long table at the open end of a streamed answer grows row by row, and still equals a whole
render of the text so far (issue 24: a 230 kB table was parsed and rendered again, whole, at
every delta).

In Chromium without JupyterLab, on the page of test_chat_stream.py: one view fed deltas, one whose
placeholder is rendered from scratch as the reference. Random chunkings of long tables (rows that
end the table, blank lines, blocks before and after, hostile cells, math, a table inside a list)
equal the reference at every step; and the rows the view renders, counted by a MutationObserver,
are the rows that arrived plus one per update, not the table again per update.
"""

from __future__ import annotations

import json
import pathlib
import random

import jupyterlab
import pytest

from .lab import open_bundle_page, screenshot
from .test_answers_look import _contrast
from .test_chat_stream import PAGE, chunkings, reset

ROOT = pathlib.Path(jupyterlab.__file__).parent  # JupyterLab's themes, for the screenshots


def rows(n: int, cells: int = 3, seed: int = 0) -> str:
    rng = random.Random(seed)
    words = ["alpha", "*beta*", "`gamma`", "δ", "10.5", "x \\| y", "**bold**", "[link](https://ollama.com)", ""]
    return "".join("| " + " | ".join(f"{i} {rng.choice(words)}" for _ in range(cells)) + " |\n" for i in range(n))


HEAD = "| name | value | note |\n|:-----|------:|:----:|\n"
TABLES = [
    HEAD + rows(80),
    "Intro paragraph.\n\n" + HEAD + rows(60, seed=1) + "\nAfter the table.\n\n- a\n- b\n",
    "# Heading\n" + HEAD + rows(50, seed=2) + "#not a heading, a row\n# a heading\n\nend",
    HEAD + rows(40, seed=3) + "| <img src=x onerror=alert(1)> | [bad](javascript:alert(1)) | $x^2$ and $5 |\n"
    + rows(30, seed=4) + "   \n" + rows(3, seed=5) + "\n```python\nprint('after')\n```\n",
    HEAD + rows(45, cells=5, seed=6) + "| short |\n" + rows(20, cells=1, seed=7) + "> quote ends it\n",
    "- item\n\n  " + HEAD.replace("\n", "\n  ") + rows(50, seed=8).replace("\n", "\n  ") + "\nout\n",
    "| a |\n|---|\n" + "| \u202e zero\u200bwidth `co\u200bde` |\n" * 120 + "-\n- a list\n",
]


@pytest.fixture
def view(page):
    return open_bundle_page(page, "chat", PAGE)


def big_chunkings(text: str, seed: int, sizes: tuple[int, ...] = (1, 7, 40, 120, 333, 500)) -> list[str]:
    rng = random.Random(seed)
    out, at = [], 0
    while at < len(text):
        n = rng.choice(sizes)
        out.append(text[at : at + n])
        at += n
    return out


@pytest.mark.parametrize("index", range(len(TABLES)))
def test_every_step_of_a_streamed_long_table_equals_a_whole_render(view, index):
    page = view
    text = TABLES[index]
    assert len(text) > 2000  # past the size where rows are kept
    runs = [(index, big_chunkings(text, index)), (f"mixed{index}", big_chunkings(text, index + 20, (1, 2, 5, 13, 60, 150)))]
    if index == 1:  # every kind of cut, a few characters at a time, once (a whole render per step is slow)
        runs.append((f"small{index}", chunkings(text, index + 50)))
    for seed, chunks in runs:
        reset(page)
        failed = page.evaluate("(c) => stream(c)", chunks)
        assert failed is None, f"chunking {seed}, step {failed and failed['step']}: {json.dumps(failed, indent=1)[:3000]}"
        assert page.evaluate("() => body().querySelectorAll('img, [onerror], a[href^=javascript]').length") == 0
        commit(page, text)  # ends the live answer, so the next chunking starts a new one
        assert page.evaluate("(t) => body().innerHTML === whole(t)", text)


def commit(page, text: str) -> None:
    page.evaluate(
        """(t) => { const m = structuredClone(liveModel.get('messages'));
                    Object.assign(m[1], {content: t, status: 'done'}); liveModel.set('messages', m); }""",
        text,
    )


# Streams the chunks, waiting for each render to equal a whole one, and counts the `tag` elements
# added to the DOM on the way: what an incremental render saves.
COUNT = """async ([chunks, tag]) => {
  let added = 0;
  const count = (n) => n.nodeType === 1 ? (n.localName === tag) + n.querySelectorAll(tag).length : 0;
  const obs = new MutationObserver((records) => { for (const r of records) for (const n of r.addedNodes) added += count(n); });
  obs.observe(body(), { childList: true, subtree: true });
  let text = "";
  for (const c of chunks) {
    text += c;
    deltas([{ type: "delta", turn: "t1", seq: ++seq, content: c }]);
    const want = whole(text);
    while (body().innerHTML !== want) await new Promise((r) => requestAnimationFrame(r));
  }
  obs.disconnect();
  return { added, shown: body().querySelectorAll(tag).length, updates: chunks.length };
}"""


def test_a_long_table_renders_each_row_about_once(view):
    page = view
    text = HEAD + rows(750, seed=9)  # about 30 kB
    after = "\n" + "".join(f"Paragraph {i} after the table.\n\n" for i in range(20))
    chunks = [text[i : i + 500] for i in range(0, len(text), 500)] + [after[i : i + 50] for i in range(0, len(after), 50)]
    got = page.evaluate(COUNT, [chunks, "tr"])
    assert got["shown"] == 751
    # Each row is rendered once, plus the row still being written and the header at each update
    # (and a few whole renders while the table is short). Rendering the open table again at each
    # delta, as before, added about rows x updates / 2 = 23 000.
    assert got["added"] <= got["shown"] + 3 * got["updates"] + 200, got


THEMES = {theme: ROOT / f"themes/@jupyterlab/theme-{theme}-extension/index.css" for theme in ("light", "dark")}


@pytest.mark.parametrize("theme", THEMES)
def test_a_streamed_long_table_in_light_and_dark(view, theme):
    """For a reviewer: a long table mid-stream (its last row still being written) under JupyterLab's
    own theme variables, in tests/artifacts/chat-stream-table-<theme>.png; its cells readable."""
    page = view
    page.add_style_tag(content=THEMES[theme].read_text(encoding="utf-8"))
    page.add_style_tag(content="body { background: var(--jp-layout-color1); margin: 8px; } #whole { display: none; }")
    text = HEAD + rows(120, seed=10)
    last = text.rindex("\n", 0, len(text) - 1) + 1
    cut = text.index("|", last + 1) + 1  # the last row's first cell: the open row shows too
    chunks = [text[i : min(i + 500, cut)] for i in range(0, cut, 500)]
    assert page.evaluate("(c) => stream(c)", chunks) is None
    assert page.evaluate("() => body().querySelectorAll('tbody tr').length") == 120
    page.evaluate("() => body().querySelector('tbody tr:last-child').scrollIntoView({ block: 'end' })")
    screenshot(page, f"chat-stream-table-{theme}")
    assert _contrast(page, "#live .onb-msg-body tbody tr:last-child td") >= 4.5
    assert _contrast(page, "#live .onb-msg-body thead th") >= 4.5
