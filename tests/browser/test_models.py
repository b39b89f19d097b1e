"""ModelBrowser in a real JupyterLab + Chromium, against an emulator of its own (pulls, copies and
deletes change that emulator's model list, so the session emulator other tests use is left alone).

Each test is a user story: open a notebook with ``ModelBrowser()``, click, type, and check what the
user sees and what the server saw.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from waiting import wait_until

from ollama_nb.testing import Emulator

from .lab import (
    SUBSHELLS_OFF,
    SUBSHELLS_ON,
    LabServer,
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

CELL = "from ollama_nb import ModelBrowser\nbrowser = ModelBrowser()\nbrowser"


@pytest.fixture(scope="module")
def server() -> Iterator[Emulator]:
    with Emulator() as emu:
        yield emu


def _lab(server: Emulator, tmp_path_factory: pytest.TempPathFactory, mode: str) -> Iterator[LabServer]:
    lab = start_lab(tmp_path_factory.mktemp(f"models-{mode}"), comms_over_subshells=mode,
                    env={"OLLAMA_HOST": server.url}, log_name=f"lab-models-{mode}")
    try:
        yield lab
    finally:
        lab.stop()


@pytest.fixture(scope="module")
def lab(server, tmp_path_factory) -> Iterator[LabServer]:
    """JupyterLab's default: comms over subshells."""
    yield from _lab(server, tmp_path_factory, SUBSHELLS_ON)


@pytest.fixture(scope="module")
def lab_no_subshells(server, tmp_path_factory) -> Iterator[LabServer]:
    yield from _lab(server, tmp_path_factory, SUBSHELLS_OFF)


def open_browser(page: Page, lab: LabServer, name: str, extra_cells: list[str] = ()):
    """A notebook whose first cell shows ModelBrowser(); returns the widget's root locator."""
    dialogs: list[str] = []
    page.on("dialog", lambda d: dialogs.append(d.type))
    page.dialogs_ = dialogs  # type: ignore[attr-defined]
    write_notebook(lab.root, name, [CELL, *extra_cells])
    open_notebook(page, lab.url, name)
    run_cell(page, 0)
    root = cell_output_locator(page, 0).locator(".onb-root.onb-models")
    expect(root.locator(".onb-mb-tablewrap tbody tr").first).to_be_visible()
    return root


def table_names(root) -> list[str]:
    return root.locator(".onb-mb-tablewrap tbody .onb-mb-name-text").all_inner_texts()


def row(root, name: str):
    return root.locator(f'.onb-mb-tablewrap tbody tr[data-name="{name}"]')


def watch_percentages(card, until: str) -> list[int]:
    """The overall percentages a pull card shows, sampled until its status reads ``until``."""
    seen: list[int] = []

    def sample() -> bool:
        text = card.locator(".onb-mb-pct").text_content(timeout=5000) or ""
        if text.endswith("%") and (not seen or seen[-1] != int(text[:-1])):
            seen.append(int(text[:-1]))
        return (card.locator(".onb-mb-pullstatus").text_content() or "") == until

    wait_until(sample, f"the pull card to read {until!r}", interval=0.03)
    return seen
    raise AssertionError(f"pull did not reach {until!r}; saw {seen}")


def _luminance(rgb: str) -> float:
    r, g, b = (float(x) for x in re.findall(r"[\d.]+", rgb)[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_table_sorts_filters_and_shows_details(lab, server, page):
    root = open_browser(page, lab, "browse.ipynb")
    assert table_names(root) == server.model_names()  # newest first, as `ollama list`

    root.locator("button.onb-mb-sort", has_text="Name").click()
    assert table_names(root) == sorted(server.model_names(), key=str.lower)
    root.locator("button.onb-mb-sort", has_text="Name").click()
    assert table_names(root) == sorted(server.model_names(), key=str.lower, reverse=True)
    root.locator("button.onb-mb-sort", has_text="Size").click()  # biggest first
    assert table_names(root)[0] == "gpt-oss:20b"

    # Typing in the widget must not reach JupyterLab's shortcuts ("d d" deletes a cell, "a" adds one).
    cells = page.locator(".jp-Notebook .jp-Cell").count()
    root.locator(".onb-mb-filter").click()
    page.keyboard.type("ddaqwen")
    assert page.locator(".jp-Notebook .jp-Cell").count() == cells
    root.locator(".onb-mb-filter").fill("qwen")
    assert table_names(root) == ["qwen3:latest"]
    root.locator(".onb-mb-filter").fill("vision")  # capabilities match too
    assert table_names(root) == ["llava:latest"]
    root.locator(".onb-mb-filter").fill("zzz")
    expect(root.locator(".onb-mb-empty")).to_have_text("No model matches “zzz”.")
    root.locator(".onb-mb-filter").fill("")

    row(root, "qwen3:latest").click()
    pane = root.locator(".onb-mb-details")
    expect(pane.locator(".onb-mb-details-name")).to_have_text("qwen3:latest")
    expect(pane.locator(".onb-badge")).to_have_text(["completion", "tools", "thinking"])
    expect(pane.locator(".onb-mb-fact", has_text="Context length")).to_contain_text("40,960 tokens")
    expect(row(root, "qwen3:latest")).to_have_class(re.compile("onb-selected"))
    pane.locator("details[data-key=template] summary").click()
    expect(pane.locator("details[data-key=template] pre")).to_contain_text("<|im_start|>{{ .Role }}")

    # arrow keys walk the table, and the pane follows
    row(root, "qwen3:latest").focus()
    page.keyboard.press("ArrowDown")
    expect(pane.locator(".onb-mb-details-name")).not_to_have_text("qwen3:latest")
    run_cell(page, 0)  # re-render: a fresh view of a fresh widget, the Python side answers again
    root = cell_output_locator(page, 0).locator(".onb-root.onb-models")
    row(root, "llava:latest").click()
    expect(root.locator(".onb-mb-details .onb-badge", has_text="vision")).to_be_visible()
    screenshot(page, "model-browser-light")

    set_theme(page, "JupyterLab Dark")
    try:
        page.wait_for_function(
            "(el) => { const m = getComputedStyle(el).backgroundColor.match(/\\d+/g);"
            " return m && (+m[0] + +m[1] + +m[2]) < 200; }",
            arg=root.element_handle(),
        )
        text = root.locator(".onb-mb-name-text").first.evaluate("e => getComputedStyle(e).color")
        assert _luminance(text) > 150, text
        screenshot(page, "model-browser-dark")
    finally:
        set_theme(page, "JupyterLab Light")
    assert page.dialogs_ == []
    stop_kernel(page)


def test_pull_shows_progress_and_the_new_model_appears(lab, server, page):
    root = open_browser(page, lab, "pull.ipynb")
    assert "tinyllama:latest" not in table_names(root)
    root.locator(".onb-mb-pull-name").fill("tinyllama")
    root.locator(".onb-mb-pull-name").press("Enter")
    card = root.locator('.onb-mb-pullcard[data-name="tinyllama"]')
    seen = watch_percentages(card, "pulled")
    moving = [p for p in seen if 0 < p < 100]
    assert len(moving) >= 2 and moving == sorted(moving), seen
    expect(card.locator(".onb-mb-pct")).to_have_text("100%")
    expect(row(root, "tinyllama:latest")).to_be_visible()
    assert "tinyllama:latest" in server.model_names()
    expect(root.locator(".onb-mb-msg-notice")).to_contain_text("Pulled tinyllama.")
    card.locator("button[data-act=dismiss]").click()
    expect(card).to_have_count(0)
    stop_kernel(page)


def _cancel_mid_pull(page: Page, lab: LabServer, server: Emulator, name: str) -> None:
    root = open_browser(page, lab, name, ['p = browser.pull("big-model")\nprint("pull ended:", p.state)'])
    before = len(server.disconnects)
    root.locator(".onb-mb-pull-name").fill("big-model")
    root.locator(".onb-mb-pull-btn").click()
    card = root.locator('.onb-mb-pullcard[data-name="big-model"]')
    expect(card.locator(".onb-mb-pullinfo")).to_contain_text(re.compile(r"[1-9][\d.]* [MG]B of 42\.5 GB · [\d.]+ [MG]B/s · .* left"))
    expect(card.locator(".onb-mb-layer").first).to_be_visible()
    card.scroll_into_view_if_needed()
    screenshot(page, f"model-browser-pulling-{lab.comms_over_subshells}")
    card.locator("button.onb-mb-cancel").click()
    expect(card.locator(".onb-mb-pullstatus")).to_have_text("cancelled", timeout=5000)
    wait_until(lambda: len(server.disconnects) > before, "the emulator to see the stream close")
    assert server.disconnects[before:] == [("/api/pull", "big-model")], "the emulator did not see the stream close"
    expect(root.locator(".onb-mb-msg-notice")).to_contain_text("Pull of big-model cancelled; nothing was installed.")
    assert not any(n.startswith("big-model") for n in server.model_names())
    assert not any(n.startswith("big-model") for n in table_names(root))


def test_cancel_mid_pull_stops_the_stream(lab, server, page):
    _cancel_mid_pull(page, lab, server, "cancel.ipynb")
    # With comms over subshells, Cancel reaches Python even while a cell is blocked in browser.pull().
    root = cell_output_locator(page, 0).locator(".onb-root.onb-models")
    before = len(server.disconnects)
    run_cell(page, 1, wait=False)
    card = root.locator('.onb-mb-pullcard[data-name="big-model"]')
    expect(card.locator(".onb-mb-pullinfo")).to_contain_text(re.compile(r"[1-9][\d.]* [MG]B of 42\.5 GB"))
    card.locator("button.onb-mb-cancel").click()
    kernel_idle(page, timeout=10_000)
    expect(cell_output_locator(page, 1)).to_contain_text("pull ended: stopped")
    assert server.disconnects[before:] == [("/api/pull", "big-model")]
    stop_kernel(page)


def test_cancel_mid_pull_without_subshells(lab_no_subshells, server, page):
    _cancel_mid_pull(page, lab_no_subshells, server, "cancel-nosub.ipynb")
    stop_kernel(page)


def test_copy_delete_load_unload_and_errors_inline(lab, server, page):
    root = open_browser(page, lab, "manage.ipynb")
    pane = root.locator(".onb-mb-details")

    # Copy asks for the new name inline
    row(root, "llama3.2:latest").click()
    # The selection's echo and then its details (read by the kernel) each draw the pane again, and a
    # new pane has a new, unfocused box: open Copy once the details are in (under load they came
    # after the click). The capability badges show only then.
    expect(pane.locator(".onb-mb-details-name")).to_have_text("llama3.2:latest")
    expect(pane.locator(".onb-badge").first).to_be_visible(timeout=30_000)
    pane.locator("button[data-act=ask-copy]").click()
    name_box = pane.locator("input.onb-mb-copy-name")
    expect(name_box).to_be_focused()
    expect(name_box).to_have_value("llama3.2-copy")
    name_box.fill("browser-copy")
    name_box.press("Enter")
    expect(row(root, "browser-copy:latest")).to_be_visible()
    assert "browser-copy:latest" in server.model_names()

    # Delete asks for confirmation inline; "Keep" keeps it
    row(root, "browser-copy:latest").click()
    expect(pane.locator(".onb-mb-details-name")).to_have_text("browser-copy:latest")
    pane.locator("button[data-act=ask-delete]").click()
    expect(pane.locator(".onb-mb-prompt-danger")).to_contain_text("Delete browser-copy:latest from the server?")
    pane.locator("button", has_text="Keep").click()
    expect(pane.locator(".onb-mb-prompt-danger")).to_have_count(0)
    assert "browser-copy:latest" in server.model_names()
    pane.locator("button[data-act=ask-delete]").click()
    pane.locator("button[data-act=do-delete]").click()
    expect(row(root, "browser-copy:latest")).to_have_count(0)
    assert "browser-copy:latest" not in server.model_names()
    expect(pane.locator(".onb-mb-placeholder")).to_be_visible()  # the deleted model was selected

    # Load -> ps shows it with a live countdown; Unload -> gone
    running = root.locator(".onb-mb-running")
    expect(running).to_contain_text("No model is loaded")
    row(root, "qwen3:latest").click()
    pane.locator("button[data-act=load]").click()
    ps_row = running.locator("tbody tr", has_text="qwen3:latest")
    expect(ps_row).to_be_visible()
    assert server.loaded_names() == ["qwen3:latest"]
    expires = ps_row.locator(".onb-mb-expires")
    expect(expires).to_have_text(re.compile(r"in 4 min 5\d s"))
    first = expires.inner_text()
    expect(expires).not_to_have_text(first, timeout=3000)  # counts down each second in the browser
    expect(row(root, "qwen3:latest").locator(".onb-mb-dot")).to_be_visible()
    expect(pane.locator("button[data-act=unload]")).to_be_visible()
    ps_row.locator("button[data-act=unload]").click()
    expect(running).to_contain_text("No model is loaded")
    assert server.loaded_names() == []

    # Errors show inline, with what to do next
    root.locator(".onb-mb-pull-name").fill("no-such-model")
    root.locator(".onb-mb-pull-btn").click()
    alert = root.locator(".onb-mb-msg-error")
    expect(alert).to_contain_text("Cannot pull no-such-model: pull model manifest: file does not exist")
    expect(alert.locator(".onb-mb-hint")).to_contain_text("library")
    card = root.locator('.onb-mb-pullcard[data-name="no-such-model"]')
    expect(card.locator(".onb-mb-pullstatus")).to_have_text("failed")
    alert.locator("button[data-act=clear]").click()
    expect(alert).to_have_count(0)

    row(root, "llava:latest").click()
    # The kernel's echo of the selection closes any open prompt: open Copy once llava's pane shows.
    expect(pane.locator(".onb-mb-details-name")).to_have_text("llava:latest")
    pane.locator("button[data-act=ask-copy]").click()
    pane.locator("input.onb-mb-copy-name").fill("bad name!")
    pane.locator("button[data-act=do-copy]").click()
    expect(alert).to_contain_text('destination "bad name!" is invalid')

    screenshot(page, "model-browser-manage")

    # "Try it" opens a chat on the selected model below the browser
    pane.locator("button[data-act=try]").click()
    chat = cell_locator(page, 0).locator(".onb-root.onb-chat")
    # A kernel round trip and a new widget view: the page's 30 s guard, not expect's 5 s default.
    expect(chat).to_be_visible(timeout=30_000)
    expect(alert).to_have_count(0)
    chat.scroll_into_view_if_needed()
    screenshot(page, "model-browser-try-it")

    assert page.dialogs_ == []  # no window.prompt / confirm / alert anywhere
    stop_kernel(page)
