"""What a data person sees of ``ollama_nb.map`` in JupyterLab: one progress output that ends as a
readable summary (counts, speed, the last error, a row per host), in light and dark, and the same
in the saved notebook opened again.

Screenshots land in tests/artifacts/map-light.png, map-dark.png and map-saved.png.
"""

from __future__ import annotations

import json

from playwright.sync_api import expect
from waiting import wait_until

from .lab import cell_output_locator, open_notebook, run_all, screenshot, set_theme, stop_kernel, write_notebook
from .test_answers_look import _contrast

CELLS = [
    "import os, ollama_nb as ollama\nhost = os.environ['OLLAMA_HOST']",
    "items = [f'what is 2+2? map look {i}' for i in range(30)] + [42]\n"
    "r = ollama.map(items, model='llama3.2', hosts=[host, host.replace('127.0.0.1', 'localhost')])",
    "print(r.stats['done'], len(r.errors))",
]


def test_the_progress_reads_well_in_both_themes_and_in_the_saved_notebook(lab, page):
    path = write_notebook(lab.root, "map-look.ipynb", CELLS)
    open_notebook(page, lab.url, "map-look.ipynb")
    try:
        run_all(page, timeout=120_000)
        out = cell_output_locator(page, 1)
        expect(out.locator(".onb-map strong")).to_have_text("finished", timeout=60_000)
        expect(out.locator(".onb-map")).to_contain_text("30 of 31 done · 1 failed")
        expect(out.locator(".onb-footer").last).to_contain_text("cannot make a prompt from a value of type int")
        expect(out.locator("table th").first).to_have_text("host")
        expect(out.locator("table tbody tr")).to_have_count(2)
        expect(cell_output_locator(page, 2)).to_contain_text("30 1")
        out.scroll_into_view_if_needed()
        screenshot(page, "map-light")
        light = (_contrast(page, ".onb-map"), _contrast(page, ".onb-out .onb-footer"))
        set_theme(page, "JupyterLab Dark")
        out.scroll_into_view_if_needed()
        screenshot(page, "map-dark")
        dark = (_contrast(page, ".onb-map"), _contrast(page, ".onb-out .onb-footer"))
        assert min(light + dark) >= 4.5, (light, dark)
        page.evaluate("window.jupyterapp.commands.execute('docmanager:save')")
        saved = {}

        def written() -> bool:
            cells = json.loads(path.read_text())["cells"]
            saved["outputs"] = cells[1]["outputs"]
            return len(saved["outputs"]) == 1

        wait_until(written, "the notebook saved with its one progress output")
        data = saved["outputs"][0]["data"]
        plain = "".join(data["text/plain"]) if isinstance(data["text/plain"], list) else data["text/plain"]
        assert plain.startswith("finished: 30 of 31 done · 1 failed")
        stop_kernel(page)
        page.reload()
        open_notebook(page, lab.url, "map-look.ipynb")
        again = cell_output_locator(page, 1)
        expect(again.locator(".onb-map")).to_contain_text("30 of 31 done · 1 failed")
        again.scroll_into_view_if_needed()
        screenshot(page, "map-saved")
    finally:
        set_theme(page, "JupyterLab Light")
        stop_kernel(page)
