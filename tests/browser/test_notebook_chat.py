"""notebooks/06_chat_widget.ipynb as a student sees it: open it in JupyterLab, Run All, and the
chat widgets answer in the page. Then one question typed into the panel, as in class.

The kernel reaches the session emulator through OLLAMA_HOST (tests/conftest.py), or a real Ollama
when OLLAMA_HOST points at one; OLLAMA_NB_MODEL picks the model.
"""

from __future__ import annotations

import pathlib
import shutil

import nbformat
from playwright.sync_api import expect

from .lab import cell_locator, cell_output_locator, open_notebook, run_all, screenshot, stop_kernel

NOTEBOOK = pathlib.Path(__file__).resolve().parents[2] / "notebooks" / "06_chat_widget.ipynb"


def _cell_index(starts_with: str) -> int:
    """Index of the cell (markdown cells count: JupyterLab renders every cell) whose source starts so."""
    cells = nbformat.read(str(NOTEBOOK), as_version=4).cells
    return next(i for i, c in enumerate(cells) if c.cell_type == "code" and c.source.startswith(starts_with))


def test_run_all_and_the_widgets_answer(lab_server, page):
    shutil.copy(NOTEBOOK, lab_server.root / NOTEBOOK.name)
    chat_cell = _cell_index("chat = ChatWidget(")
    tutor_cell = _cell_index('tutor = ChatWidget(conversation="tutor")')

    open_notebook(page, lab_server.url, NOTEBOOK.name)
    try:
        run_all(page, timeout=120_000)

        # Every cell ran, none failed (an assert in a check cell would show as an error output).
        expect(page.locator(".jp-Cell .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")).to_have_count(0)
        expect(page.locator(".jp-Cell .jp-RenderedText[data-mime-type='application/vnd.jupyter.stderr']")).to_have_count(0)
        prompts = page.locator(".jp-Notebook .jp-CodeCell .jp-InputPrompt")
        expect(prompts.filter(has_text="[*]")).to_have_count(0)

        # The first chat: the question sent from code and the widget's finished answer.
        chat = cell_output_locator(page, chat_cell).locator(".onb-chat")
        expect(chat).to_have_count(1, timeout=30_000)
        expect(chat.locator(".onb-msg-user")).to_contain_text(["What is a prime number?"])
        answer = chat.locator(".onb-msg-assistant[data-status='done']")
        expect(answer).to_have_count(1, timeout=30_000)
        assert answer.inner_text().strip(), "the widget shows an empty answer"

        # The shared conversation: the cell's turn, the widget's turn, the next cell's turn.
        tutor = cell_output_locator(page, tutor_cell).locator(".onb-chat")
        expect(tutor.locator(".onb-msg-assistant[data-status='done']")).to_have_count(3, timeout=30_000)
        expect(tutor.locator(".onb-msg-user")).to_contain_text(
            ["What is a prime number?", "Is 1 a prime number?", "What did I ask you just before this?"]
        )

        # As in class: type into the first panel and press Enter.
        cell_locator(page, chat_cell).scroll_into_view_if_needed()
        box = chat.locator("textarea.onb-chat-input")
        box.fill("And what is a composite number?")
        box.press("Enter")
        expect(chat.locator(".onb-msg-user")).to_contain_text(["What is a prime number?", "And what is a composite number?"])
        expect(chat.locator(".onb-msg-assistant[data-status='done']")).to_have_count(2, timeout=30_000)
        screenshot(page, f"notebook-06-chat-{lab_server.comms_over_subshells}")
    finally:
        stop_kernel(page)
