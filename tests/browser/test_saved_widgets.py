"""Saved notebooks keep their widgets: run, save, reopen without a kernel / in a fresh kernel, in
JupyterLab and Notebook 7; and nbconvert's HTML shows every chat's whole conversation.

How it works (see README, "Saved notebooks"): JupyterLab's widget manager writes every widget's state
into the notebook's metadata when "Save Widget State Automatically" is on: the package turns it on
by default, through the overrides.d folder JupyterLab and Notebook 7 merge into their defaults, so
these servers run with the installation's own settings (nothing here or in ./dev lab sets it). anywidget keeps its ES module in that state, so a reopened notebook
renders each widget from it, kernel or not, and the widget's own ``_self_id`` lets the view see that
no kernel owns it and say it is a saved copy. Where no widget state is saved (nbconvert --execute,
VS Code, the default JupyterLab setting), the output's text/html fallback, rendered by
``ollama_nb._render`` and refreshed at each turn's end, is what shows.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil

import nbformat
import pytest
from playwright.sync_api import Page, expect

from .lab import (
    LabServer,
    open_notebook,
    run_all,
    screenshot,
    set_theme,
    start_lab,
    stop_kernel,
    write_notebook,
)

PROJECT = pathlib.Path(__file__).resolve().parents[2]
SAVE_STATE = "@jupyter-widgets/jupyterlab-manager:plugin"
SECRET = "sk-saved-notebook-secret-4242"  # in the kernels' environment; must never reach the file
MODELS_CELLS = [
    "from ollama_nb import ModelBrowser\nbrowser = ModelBrowser()\nbrowser",
    "browser.selected = 'llama3.2:latest'",
]
# What each widget's last turn in notebook 06 says (the demo models' answers).
CHAT_LAST = "A prime number is a whole number greater than 1"
TUTOR_LAST = 'You asked me: "Is 1 a prime number?"'
NOT_FOUND = "model not found"


@pytest.fixture(scope="module")
def servers(tmp_path_factory, ollama_host):
    root = tmp_path_factory.mktemp("saved")
    env = {"OLLAMA_API_KEY": SECRET, **({"OLLAMA_HOST": ollama_host} if ollama_host else {})}
    started: dict[str, LabServer] = {}
    try:
        started["lab"] = start_lab(root, env=env, log_name="lab-saved", stock=True)
        started["nb7"] = start_lab(root, env=env, log_name="nb7-saved", stock=True, app="notebook")
        yield started
    finally:
        for server in started.values():
            server.stop()


def test_widget_state_saving_is_the_installations_default(servers):
    """Only the package's overrides.d file turns saveState on: no user or app-level setting does."""
    import sys
    import urllib.request

    app_settings = pathlib.Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings"
    shipped = json.loads((app_settings / "overrides.d" / "ollama_nb.json").read_text())
    assert shipped[SAVE_STATE] == {"saveState": True}
    user_overrides = app_settings / "overrides.json"
    assert not user_overrides.exists() or SAVE_STATE not in user_overrides.read_text()
    for server in servers.values():
        with urllib.request.urlopen(f"{server.url}/lab/api/settings/{SAVE_STATE}") as r:
            setting = json.load(r)
        # JupyterLab folds overrides into the schema's default; the user set nothing
        assert setting["schema"]["properties"]["saveState"]["default"] is True
        assert "saveState" not in setting["raw"] and "saveState" not in setting["settings"]


def chats(page: Page):
    return page.locator(".jp-OutputArea .onb-chat")


def check_restored_chats(page: Page, label: str) -> None:
    # Without a kernel the widget manager restores only after the kernel choice settles ("No Kernel").
    expect(chats(page)).to_have_count(2, timeout=120_000)
    for chat, last in zip((chats(page).nth(0), chats(page).nth(1)), (CHAT_LAST, TUTOR_LAST)):
        answer = chat.locator(".onb-msg-assistant").last
        expect(answer).to_contain_text(last, timeout=90_000)
        answer.scroll_into_view_if_needed()
        expect(answer).to_be_in_viewport()
        expect(chat.locator(".onb-saved-copy")).to_be_visible()
        expect(chat.locator(".onb-saved-copy")).to_contain_text("Run its cell again to continue")
    expect(chats(page).nth(1).locator(".onb-msg-user")).to_have_count(3)  # the tutor's three turns
    assert NOT_FOUND not in page.locator(".jp-Notebook").inner_text()
    chats(page).nth(1).scroll_into_view_if_needed()
    screenshot(page, f"saved-06-{label}")


def check_restored_browser(page: Page, label: str) -> None:
    root = page.locator(".jp-OutputArea .onb-models")
    expect(root).to_have_count(1, timeout=120_000)
    expect(root.locator(".onb-mb-row.onb-selected")).to_contain_text("llama3.2:latest")
    expect(root.locator(".onb-saved-copy")).to_be_visible()
    expect(root.locator(".onb-mb-running")).to_be_hidden()  # no stale "unloads in 3 min" countdown
    assert NOT_FOUND not in page.locator(".jp-Notebook").inner_text()
    screenshot(page, f"saved-models-{label}")


def fresh(page: Page) -> Page:
    """A new tab: the old one may hold a notebook the closed kernel marked unsaved, whose
    "leave page?" prompt would stop the next navigation."""
    tab = page.context.new_page()
    page.close()
    return tab


def saved_state(path: pathlib.Path) -> dict:
    nb = json.loads(path.read_text())
    return nb["metadata"].get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}).get("state", {})


def test_saved_notebooks_reopen_with_every_widget_as_it_was(servers, page):
    lab = servers["lab"]
    shutil.copy(PROJECT / "notebooks" / "06_chat_widget.ipynb", lab.root / "06.ipynb")
    write_notebook(lab.root, "models.ipynb", MODELS_CELLS)

    for name in ("06.ipynb", "models.ipynb"):
        page = fresh(page)
        open_notebook(page, lab.url, name)
        run_all(page, timeout=120_000)
        if name == "06.ipynb":
            # The tutor's panel shows the first turn the text points at, not only the last one.
            tutor = chats(page).nth(1)
            expect(tutor.locator(".onb-msg-assistant")).to_have_count(3, timeout=90_000)
            tutor.scroll_into_view_if_needed()
            expect(tutor.locator(".onb-msg-user").first).to_be_in_viewport()
            screenshot(page, "saved-06-live")
        page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
        page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=90_000)
        stop_kernel(page)
        text = (lab.root / name).read_text()
        assert SECRET not in text  # key redaction: nowhere in the saved file, state included
        state = saved_state(lab.root / name)
        assert any("_esm" in m["state"] for m in state.values()), "the widget state was not saved"

    # Reopened: (b) in a fresh kernel (JupyterLab starts one on opening), then (a) with that kernel
    # shut down; in JupyterLab, then in Notebook 7. (A server with no kernel at all leaves JupyterLab
    # "Initializing" and its widget manager never restores: not something a widget can change.)
    nb7 = servers["nb7"]
    for front, server in (("lab", lab), ("notebook7", nb7)):
        for name, check in (("06.ipynb", check_restored_chats), ("models.ipynb", check_restored_browser)):
            page = fresh(page)
            if front == "lab":
                open_notebook(page, server.url, name)
            else:
                page.goto(f"{server.url}/notebooks/{name}", wait_until="domcontentloaded")
                page.wait_for_function(
                    "() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
                    " const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;"
                    " return !!k && k.status === 'idle'; }", timeout=120_000)
            check(page, f"{front}-fresh-kernel-light")
            if front == "lab" and name == "06.ipynb":
                set_theme(page, "JupyterLab Dark")
                check(page, f"{front}-fresh-kernel-dark")
                set_theme(page, "JupyterLab Light")
            stop_kernel(page)
            check(page, f"{front}-kernel-shut-down")


def test_nbconvert_html_shows_each_chat_whole_and_rendered(tmp_path, page):
    """Without widget state (JupyterLab's default setting, VS Code, nbclient with
    store_widget_state=False) nbconvert shows each widget's static copy, which must hold every turn,
    rendered. (With widget state, nbconvert's page loads the widget manager from a CDN instead and
    renders the widget itself from the saved state; this test has no internet.)"""
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    nb = nbformat.read(PROJECT / "notebooks" / "06_chat_widget.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell('_ = chat.ask("Explain rainbows to a ten-year-old in three bullet points.")'))
    env_key = os.environ.get("OLLAMA_API_KEY")
    os.environ["OLLAMA_API_KEY"] = SECRET
    try:
        NotebookClient(nb, timeout=120, kernel_name="python3", store_widget_state=False,
                       resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        if env_key is None:
            os.environ.pop("OLLAMA_API_KEY", None)
        else:
            os.environ["OLLAMA_API_KEY"] = env_key
    saved = tmp_path / "06.ipynb"
    nbformat.write(nb, saved)
    assert SECRET not in saved.read_text()
    for theme in ("light", "dark"):
        html, _ = HTMLExporter(theme=theme).from_filename(str(saved))
        out = tmp_path / f"06-{theme}.html"
        out.write_text(html)
        page.goto(out.as_uri())
        assert "Empty chat" not in page.locator("body").inner_text()
        # The two widgets' static copies: every turn, model text rendered (a list as a list).
        copies = page.locator(".jp-OutputArea-output", has=page.locator(".onb-who", has_text="You"))
        expect(copies).to_have_count(2)
        chat, tutor = copies.nth(0).inner_text(), copies.nth(1).inner_text()
        for turn in ("What is a prime number?", CHAT_LAST, "Explain rainbows to a ten-year-old"):
            assert turn in chat, turn
        for turn in ("What is a prime number?", "Is 1 a prime number?", "What did I ask you just before this?",
                     TUTOR_LAST):
            assert turn in tutor, turn
        rainbow = copies.nth(0).locator("li", has_text="Each raindrop works like a little prism")
        expect(rainbow).to_have_count(1)  # a list, not "- " lines
        assert "- A rainbow" not in chat
        rainbow.scroll_into_view_if_needed()
        screenshot(page, f"saved-06-nbconvert-{theme}")
