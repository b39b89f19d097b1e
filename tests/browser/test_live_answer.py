"""A long ``%%ollama`` answer streamed in parts reads as one answer in JupyterLab: while it streams,
once done, once interrupted, and after the saved notebook is opened again (in JupyterLab, Notebook 7
and nbconvert's HTML).

Each streamed cell is checked against a reference cell that shows the reply's own text (as the
conversation recorded it) in one output, through the same render layer: the text must be the same
(no part missing, none twice) and every block must sit at the same place relative to the first (no
seam: the gaps between parts are the gaps between blocks of one output). Screenshots, light and
dark: tests/artifacts/live-answer-light.png, live-answer-dark.png.
"""

from __future__ import annotations

import subprocess
import sys

from playwright.sync_api import Page, expect

from .lab import (
    cell_locator,
    cell_output_locator,
    kernel_idle,
    open_notebook,
    run_cell,
    screenshot,
    set_theme,
    start_lab,
    stop_kernel,
    write_notebook,
)


def _reference(chat: str) -> str:
    return (
        "from ollama_nb import Conversation\nfrom ollama_nb._render import chrome, model_html\n"
        f"_reply = Conversation.named({chat!r}).messages[-1]\n"
        "display({'text/html': chrome.page(model_html(_reply['content']))}, raw=True)"
    )


def _reference_thinking(chat: str) -> str:
    return (
        "from ollama_nb import Conversation\nfrom ollama_nb._render import chrome, model_html\n"
        f"_reply = Conversation.named({chat!r}).messages[-1]\n"
        "display({'text/html': chrome.page(chrome.thinking(model_html(_reply['thinking'])) + model_html(_reply['content']))}, raw=True)"
    )


CELLS = [
    # Lists settle a few items at a time here (paced:latest's are short), so that seams inside a
    # list are looked at too.
    "%load_ext ollama_nb\nfrom ollama_nb._render.markdown import BlockStream\nBlockStream.list_part = 60",
    "%%ollama -m paced -o num_predict=700 --chat live\nat 150 tokens/s",  # 1: streamed, done
    _reference("live"),  # 2
    "%%ollama -m paced -o num_predict=5000 --chat cut\nat 150 tokens/s",  # 3: interrupted
    _reference("cut"),  # 4
    "%%ollama --compare paced,llama3.2 -o num_predict=300 --chat cmp\nat 300 tokens/s",  # 5
    "%%ollama -m paced-thinking -o num_predict=1400 --chat thinks\nat 300 tokens/s",  # 6: thinking, folded
    _reference_thinking("thinks"),  # 7
]

# The answer's blocks (top-level elements of every part, footer left out), where they are relative
# to the first, and the answer's text without the formulas (MathJax replaces them with its own
# markup, typeset when it gets to them) plus how many formulas there are.
READ = """
([index, scope]) => {
  const root = scope === 'lab'
    ? document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')[index]
    : document.querySelectorAll('.jp-Cell')[index];
  const area = root.querySelector('.jp-OutputArea');
  // A list's items count as blocks: a list split between parts must read as one list.
  const blocks = [...area.querySelectorAll('.onb-out > *')].filter((e) => !e.classList.contains('onb-footer'))
    .flatMap((e) => (e.matches('ul, ol') ? [...e.querySelectorAll(':scope > li')] : [e]));
  const top = blocks.length ? blocks[0].getBoundingClientRect().top : 0;
  const skip = 'style, .onb-math, .onb-math-display, mjx-container, .onb-footer';
  const parts = [];
  const walk = (n) => {
    if (n.nodeType === 3) parts.push(n.textContent);
    else if (n.nodeType === 1 && !n.matches(skip)) for (const c of n.childNodes) walk(c);
  };
  for (const b of blocks) { walk(b); parts.push(' '); }
  const outputs = [...area.querySelectorAll(':scope > .jp-OutputArea-child')];
  return {
    layout: blocks.map((b) => [b.tagName, Math.round(b.getBoundingClientRect().top - top), Math.round(b.getBoundingClientRect().height)]),
    text: parts.join('').replace(/\\s+/g, ' ').trim(),
    math: area.querySelectorAll('.onb-math, .onb-math-display').length,
    footers: [...area.querySelectorAll('.onb-footer')].map((f) => f.textContent),
    outputs: outputs.map((o) => Math.round(o.getBoundingClientRect().height)),
  };
}
"""


def _read(page: Page, index: int, scope: str = "lab") -> dict:
    return page.evaluate(READ, [index, scope])


# Every state the cell's output goes through while it streams: its text, read at each change.
WATCH = """
([index, read]) => {
  const cell = document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')[index];
  const fn = eval(read);
  window.__onbSamples = [];
  window.__onbObserver = new MutationObserver(() => window.__onbSamples.push(fn([index, 'lab']).text));
  window.__onbObserver.observe(cell.querySelector('.jp-OutputArea'), {childList: true, subtree: true, characterData: true});
}
"""


def _typeset(page: Page, index: int) -> None:
    """Scroll the cell into view and wait until MathJax has typeset each of its formulas."""
    output = cell_output_locator(page, index)
    output.scroll_into_view_if_needed()
    count = output.locator(".onb-math, .onb-math-display").count()
    expect(output.locator(".onb-math mjx-container, .onb-math-display mjx-container")).to_have_count(count, timeout=30_000)


def _same_answer(page: Page, streamed: int, reference: int) -> dict:
    _typeset(page, streamed)
    _typeset(page, reference)
    got, want = _read(page, streamed), _read(page, reference)
    assert got["text"] == want["text"] and len(want["text"]) > 1000, (got["text"][-300:], want["text"][-300:])
    assert got["math"] == want["math"] > 0
    assert got["layout"] == want["layout"], [(g, w) for g, w in zip(got["layout"], want["layout"]) if g != w][:5]
    return got


def test_a_long_streamed_answer_reads_as_one_answer_live_done_interrupted_and_reopened(lab, page, tmp_path):
    write_notebook(lab.root, "live.ipynb", CELLS)
    open_notebook(page, lab.url, "live.ipynb")
    try:
        run_cell(page, 0)
        # -- live: sample the answer while it streams; each sample is the start of the final text
        page.evaluate(WATCH, [1, READ])
        run_cell(page, 1, timeout=60_000)
        output = cell_output_locator(page, 1)
        samples = [t for t in page.evaluate("() => { window.__onbObserver.disconnect(); return window.__onbSamples; }") if t]
        run_cell(page, 2)
        done = _same_answer(page, 1, 2)
        assert len(samples) >= 3, len(samples)
        assert len(set(samples)) >= 10  # many states while it streamed
        for sample in samples:
            # The open end may show a construct not closed yet (`**bold` before its `**`); all
            # before it is exactly the start of the answer: nothing missing, nothing twice.
            assert done["text"].startswith(sample[:-40]), (sample[-200:], done["text"][:300])
        assert len(done["footers"]) == 1 and "paced · " in done["footers"][0]
        parts = output.locator(".jp-OutputArea-child")
        assert parts.count() > 4  # it did stream in parts
        assert done["outputs"][0] == 0  # the stylesheet's output takes no room

        # -- interrupted: the partial answer is kept, marked once, and is the reply's text
        run_cell(page, 3, wait=False)
        cut = cell_output_locator(page, 3)
        expect(cut.locator(".onb-part")).not_to_have_count(0, timeout=30_000)
        cut.locator(".onb-part").nth(10).wait_for(timeout=60_000)
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:interrupt-kernel')")
        kernel_idle(page, timeout=60_000)
        expect(cut.locator(".onb-footer")).to_contain_text("partial answer (interrupted)")
        run_cell(page, 4)
        interrupted = _same_answer(page, 3, 4)
        assert len(interrupted["footers"]) == 1

        # -- --compare: streamed stacked, then one table; the emptied parts take no room
        run_cell(page, 5, timeout=120_000)
        table = _read(page, 5)
        compare = cell_output_locator(page, 5)
        expect(compare.locator("table.onb-cols th")).to_have_text(["paced", "llama3.2"])
        assert table["outputs"][:-1] == [0] * (len(table["outputs"]) - 1) and table["outputs"][-1] > 50

        # -- thinking: streamed in an open box, part after part, then folded above the answer
        page.evaluate(WATCH, [6, READ])
        run_cell(page, 6, wait=False)
        thinks = cell_output_locator(page, 6)
        thinks.locator(".onb-think-live").nth(4).wait_for(timeout=60_000)
        # The open box folds once the answer begins, which on a loaded machine can come before any
        # later step: scroll by the cell (which stays), never by a live part (it is then detached).
        cell_locator(page, 6).scroll_into_view_if_needed()
        screenshot(page, "live-answer-thinking-streaming-light")  # the open box, mid-thought (for a reader)
        kernel_idle(page, timeout=60_000)
        thinking_states = page.evaluate("() => { window.__onbObserver.disconnect(); return window.__onbSamples; }")
        run_cell(page, 7)
        thought = _same_answer(page, 6, 7)
        assert thought["text"].startswith("Thinking") and len(thinking_states) > 10
        expect(thinks.locator("details.onb-thinking")).to_have_count(1)
        expect(thinks.locator("details.onb-thinking[open]")).to_have_count(0)
        expect(thinks.locator(".onb-think-live")).to_have_count(0)
        assert any(t.startswith("Thinking…") for t in thinking_states)  # the open box, while it grew

        def shots(theme: str) -> None:
            cell_locator(page, 1).locator(".jp-InputArea").scroll_into_view_if_needed()
            screenshot(page, f"live-answer-{theme}")
            cut.locator(".onb-footer").scroll_into_view_if_needed()
            screenshot(page, f"live-answer-interrupted-{theme}")
            compare.scroll_into_view_if_needed()
            screenshot(page, f"live-answer-compare-{theme}")
            thinks.scroll_into_view_if_needed()
            screenshot(page, f"live-answer-thinking-{theme}")

        shots("light")
        set_theme(page, "JupyterLab Dark")
        shots("dark")
        set_theme(page, "JupyterLab Light")

        # -- the saved notebook, opened again: the same answers, still seamless
        page.evaluate("async () => { await window.jupyterapp.commands.execute('docmanager:save'); }")
        stop_kernel(page)
        open_notebook(page, lab.url, "live.ipynb")
        assert _same_answer(page, 1, 2)["text"] == done["text"]
        assert _same_answer(page, 3, 4)["text"] == interrupted["text"]
        assert _same_answer(page, 6, 7)["text"] == thought["text"]
        expect(cell_locator(page, 3).locator(".onb-footer")).to_have_count(1)
    finally:
        set_theme(page, "JupyterLab Light")
        stop_kernel(page)

    # -- Notebook 7 opens the saved notebook (same output area, its own page around it)
    notebook7 = start_lab(lab.root, app="notebook", log_name="notebook7")
    try:
        page.goto(f"{notebook7.url}/notebooks/live.ipynb")
        expect(page.locator(".jp-Cell").nth(3).locator(".onb-footer")).to_have_count(1, timeout=60_000)
        for streamed, reference in ((1, 2), (3, 4), (6, 7)):
            for index in (streamed, reference):
                area = page.locator(".jp-Cell").nth(index).locator(".jp-OutputArea")
                area.scroll_into_view_if_needed()
                count = area.locator(".onb-math, .onb-math-display").count()
                expect(area.locator(".onb-math mjx-container, .onb-math-display mjx-container")).to_have_count(count, timeout=30_000)
            got, want = _read(page, streamed, "nbconvert"), _read(page, reference, "nbconvert")
            assert got["text"] == want["text"] and got["layout"] == want["layout"], (streamed, got["layout"][:5], want["layout"][:5])
        screenshot(page, "live-answer-notebook7")
    finally:
        notebook7.stop()

    # -- nbconvert's HTML of the saved notebook (no MathJax here: only loopback is reachable)
    out = tmp_path / "html"
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", "--output-dir", str(out),
                    str(lab.root / "live.ipynb")], check=True, capture_output=True, timeout=120)
    page.goto((out / "live.html").as_uri())
    for streamed, reference in ((1, 2), (3, 4), (6, 7)):
        got, want = _read(page, streamed, "nbconvert"), _read(page, reference, "nbconvert")
        assert got["text"] == want["text"] and got["layout"] == want["layout"], (streamed, got["layout"][:5], want["layout"][:5])
        assert len(got["footers"]) == 1
