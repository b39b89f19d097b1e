"""A student presses Run while the class server is full: in JupyterLab the cell shows the wait
counting down where the answer will appear, then the answer replaces it. Screenshot of the wait in
tests/artifacts/busy-wait.png."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .lab import cell_output_locator, open_notebook, run_all, screenshot, write_notebook

CELLS = [
    "%load_ext ollama_nb",
    "from ollama_nb.testing import Emulator\n"
    "busy = Emulator().start()  # a full class server: the next request is refused with 503\n"
    "busy.refuse('busy', retry_after=3)",
    "%%ollama -m llama3.2 --host {busy.url} --chat busy\nSay hello to the class.",
    "busy.stop()",
]


def test_the_busy_wait_counts_down_in_place_then_the_answer_replaces_it(lab, page):
    write_notebook(lab.root, "busy.ipynb", CELLS)
    open_notebook(page, lab.url, "busy.ipynb")
    run_all(page, wait=False)
    out = cell_output_locator(page, 2)
    notice = out.locator(".onb-notice")
    expect(notice).to_contain_text(re.compile(r"server busy, retrying in 3 s \(1 of 5\)"), timeout=60_000)
    screenshot(page, "busy-wait")
    expect(notice).to_contain_text(re.compile(r"retrying in [12] s \(1 of 5\)"), timeout=10_000)  # it counts down
    expect(out.locator(".onb-footer")).to_contain_text("llama3.2 ·", timeout=30_000)
    expect(notice).to_have_count(0)
