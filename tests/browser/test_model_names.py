"""Model names that differ from an ordinary one only by spaces or invisible characters (the
corpus' "name" class), in a real JupyterLab + Chromium: a click on such a row selects that model
and no other (the server is asked for the exact name, whose own answer shows), the name is shown
quoted with visible marks and stays on one line, and "Try it" opens a chat on the exact name.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from corpus.payloads import CORPUS
from corpus.routes import PayloadRoutes
from playwright.sync_api import expect

from ollama_nb._format import model_name
from ollama_nb.testing import Emulator

from .lab import LabServer, cell_output_locator, open_notebook, run_cell, screenshot, start_lab, write_notebook

NAMED = [p for p in CORPUS if p.cls == "name"]
NAMES = [p.text("") for p in NAMED]
CELL = "from ollama_nb import ModelBrowser\nbrowser = ModelBrowser()\nbrowser"


@pytest.fixture(scope="module")
def server() -> Iterator[Emulator]:
    with Emulator() as emu:
        PayloadRoutes({f"p{p.id}": p.chunks("") for p in NAMED}, tags=True).install(emu)
        yield emu


@pytest.fixture(scope="module")
def lab(server, tmp_path_factory) -> Iterator[LabServer]:
    lab = start_lab(tmp_path_factory.mktemp("model-names"), env={"OLLAMA_HOST": server.url}, log_name="lab-model-names")
    yield lab
    lab.stop()


# The row whose data-name is exactly ``name`` (a CSS attribute selector cannot hold every name).
ROW_INDEX = """(root, name) => [...root.querySelectorAll('.onb-mb-tablewrap tbody tr')]
                                    .findIndex((tr) => tr.dataset.name === name)"""


def test_a_click_selects_the_exact_name_and_shows_it_unambiguously(lab, server, page):
    write_notebook(lab.root, "names.ipynb", [CELL])
    open_notebook(page, lab.url, "names.ipynb")
    run_cell(page, 0)
    root = cell_output_locator(page, 0).locator(".onb-root.onb-models")
    rows = root.locator(".onb-mb-tablewrap tbody tr")
    expect(rows.first).to_be_visible()
    plain = rows.nth(root.evaluate(ROW_INDEX, "llama3.2:latest")).bounding_box()
    pane = root.locator(".onb-mb-details")
    for name in NAMES:
        index = root.evaluate(ROW_INDEX, name)
        assert index >= 0, f"{name!r} is not a row of the table"
        row = rows.nth(index)
        cell = row.locator(".onb-mb-name-text")
        assert cell.text_content() == model_name(name) and "onb-name-quoted" in (cell.get_attribute("class") or "")
        box = row.bounding_box()
        assert plain and box and box["height"] == plain["height"], f"the row of {name!r} is not one line high"
        row.click()
        expect(pane).to_have_attribute("data-name", name)
        # the payload's own show answer: its license is the name, so the server was asked for this one
        expect(pane.locator("details[data-key=license] pre")).to_have_count(1)
        assert pane.locator("details[data-key=license] pre").text_content() == name
        assert pane.locator(".onb-mb-details-name").text_content() == model_name(name)
        assert root.locator(".onb-mb-msg-error").count() == 0
    assert set(NAMES) <= {r.json.get("model") for r in server.requests if r.path == "/api/show"}
    screenshot(page, "model-browser-white-space-names")

    # Try it: a chat on the exact name; its picker tells the look-alikes apart
    index = root.evaluate(ROW_INDEX, NAMES[0])
    rows.nth(index).click()
    expect(pane).to_have_attribute("data-name", NAMES[0])
    pane.locator("button[data-act=try]").click()
    picker = page.locator(".onb-chat select.onb-chat-model")
    expect(picker).to_have_count(1)
    expect(picker.locator("option", has_text="llama3.2:latest").first).to_be_attached()
    assert picker.evaluate("(s) => s.value") == NAMES[0]
    options = picker.evaluate("(s) => [...s.options].map((o) => [o.value, o.textContent])")
    shown = {value: text for value, text in options}
    assert all(shown.get(name) == model_name(name) for name in NAMES), options
    assert len(set(shown.values())) == len(shown), "two options read the same"
    screenshot(page, "chat-picker-white-space-names")
