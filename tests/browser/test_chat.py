"""ChatWidget in a real JupyterLab + Chromium, against the session's Ollama emulator, with JupyterLab's
comms over subshells on and off.

Each story is what a user does: type and press Enter, watch tokens arrive, press Stop, switch
model, reload mid-answer, run two chats at once. Screenshots land in tests/artifacts/.
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Locator, Page, expect
from waiting import wait_until

from .lab import (
    ARTIFACTS,
    SUBSHELLS_ON,
    after_frames,
    cell_output_locator,
    close_notifications,
    kernel_idle,
    open_notebook,
    run_all,
    run_cell,
    screenshot,
    set_theme,
    stop_kernel,
    wait_for_output_text,
    write_notebook,
)


@pytest.fixture
def emulator(request: pytest.FixtureRequest):
    """The session emulator tests/conftest.py started (the kernels' OLLAMA_HOST points at it)."""
    for plugin in request.config.pluginmanager.get_plugins():
        emu = getattr(plugin, "_session_emulator", None)
        if emu is not None:
            return emu
    pytest.fail("these stories need the session emulator: unset OLLAMA_HOST so tests/conftest.py starts one")


def chat_in(page: Page, cell: int) -> Locator:
    chat = cell_output_locator(page, cell).locator(".onb-chat").first
    expect(chat.locator(".onb-chat-input")).to_be_visible()
    return chat


def ask(chat: Locator, text: str) -> None:
    box = chat.locator(".onb-chat-input")
    box.click()
    box.fill(text)
    box.press("Enter")


def last_answer(chat: Locator) -> Locator:
    return chat.locator(".onb-msg-assistant").last


def wait_for_disconnect(emu, before: int, start: float | None = None) -> float:
    """Seconds from ``start`` (default: now) until the emulator saw one more client leave mid-answer
    (printed, never bounded here: benchmarks/widget.py measures it)."""
    start = time.monotonic() if start is None else start
    wait_until(lambda: len(emu.disconnects) > before, "the emulator to see the client leave", interval=0.005)
    return time.monotonic() - start


def cell_count(page: Page) -> int:
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell").count()


STORY = [
    (
        "from ollama_nb import ChatWidget\n"
        "chat = ChatWidget(model='llama3.2', system='You are a patient tutor.')\n"
        "chat"
    ),
    "other = ChatWidget(model='qwen3')\nother",
    "chat",  # a second view of the first chat
    "other.model = 'nope'",  # a model that is not installed (the picker lists only installed ones)
]


def test_a_conversation(lab_server, page, emulator):
    mode = lab_server.comms_over_subshells
    write_notebook(lab_server.root, "chat_story.ipynb", STORY)
    open_notebook(page, lab_server.url, "chat_story.ipynb")
    run_cell(page, 0)
    run_cell(page, 1)
    chat = chat_in(page, 0)
    cells = cell_count(page)

    # Type: the notebook's command-mode keys (a, b, d d, m, y) stay in the box; Shift+Enter is a
    # new line; Enter sends.
    box = chat.locator(".onb-chat-input")
    box.click()
    page.keyboard.type("a b dd m y? What is a prime number")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("Explain briefly.")
    expect(box).to_have_value("a b dd m y? What is a prime number\nExplain briefly.")
    assert cell_count(page) == cells
    page.keyboard.press("Enter")
    expect(box).to_have_value("")
    answer = last_answer(chat)
    expect(answer).to_have_attribute("data-status", "done")
    expect(answer.locator(".onb-msg-body")).to_contain_text("prime")
    expect(answer.locator(".onb-msg-foot")).to_contain_text(re.compile(r"\d+ tokens · [\d.]+ tok/s"))
    expect(chat.locator(".onb-msg-user .onb-msg-bubble").last).to_have_text(
        "a b dd m y? What is a prime number\nExplain briefly."
    )
    assert cell_count(page) == cells
    assert page.locator(".jp-Notebook .jp-MarkdownCell").count() == 0

    # Switch model to the slow one: tokens arrive in the DOM while it streams; Stop keeps them.
    chat.locator(".onb-chat-model").select_option("slow:latest")
    ask(chat, "Count slowly.")
    answer = last_answer(chat)
    body = answer.locator(".onb-msg-body")
    expect(answer).to_have_attribute("data-status", "running")
    expect(chat.locator(".onb-chat-send")).to_have_text("Stop")
    seen = set()

    def grew() -> bool:
        if words := len(body.inner_text().split()):
            seen.add(words)
        return len(seen) >= 3

    wait_until(grew, "the answer to grow while streaming", interval=0.1)
    assert answer.get_attribute("data-status") == "running"

    # A second view of the same chat, rendered mid-stream, shows the same answer.
    run_cell(page, 2)
    twin = chat_in(page, 2)
    expect(last_answer(twin).locator(".onb-msg-body")).to_contain_text("lorem ipsum")

    before = len(emulator.disconnects)
    clicked = time.monotonic()
    chat.locator(".onb-chat-send").click()
    latency = wait_for_disconnect(emulator, before, start=clicked)
    expect(answer).to_have_attribute("data-status", "stopped")
    expect(answer.locator(".onb-badge")).to_have_text("stopped")
    kept = body.inner_text()
    assert kept.startswith("lorem ipsum") and len(kept.split()) < 200
    expect(last_answer(twin)).to_have_attribute("data-status", "stopped")
    assert last_answer(twin).locator(".onb-msg-body").inner_text() == kept
    expect(chat.locator(".onb-chat-send")).to_have_text("Send")
    print(f"[{mode}] Stop click (Playwright) -> server saw the disconnect: {latency * 1000:.0f} ms")

    # Two chats streaming at once: each gets its own answer.
    other = chat_in(page, 1)
    chat.locator(".onb-chat-model").select_option("llama3.2:latest")
    ask(chat, "Tell me about volcanoes.")
    ask(other, "Tell me about glaciers.")
    mine, theirs = last_answer(chat), last_answer(other)
    expect(mine).to_have_attribute("data-status", "done")
    expect(theirs).to_have_attribute("data-status", "done")
    assert "volcanoes" in mine.inner_text() and "glaciers" not in mine.inner_text()
    assert "glaciers" in theirs.inner_text() and "volcanoes" not in theirs.inner_text()
    expect(theirs.locator(".onb-thinking")).to_be_visible()  # qwen3 thinks, folded above the answer
    expect(other.locator(".onb-chat-think")).to_be_visible()
    expect(chat.locator(".onb-chat-think")).to_be_hidden()  # llama3.2 cannot

    # Errors show inline with what to do, and the chat stays usable.
    other.locator(".onb-chat-model").select_option("dropped:latest")
    ask(other, "Hello?")
    failed = last_answer(other)
    expect(failed).to_have_attribute("data-status", "failed")
    expect(failed.locator(".onb-msg-body")).to_have_text("Here is the partial answer")
    expect(failed.locator(".onb-error-box")).to_contain_text("cut before the answer finished")
    expect(failed.locator(".onb-error-hint")).to_contain_text("partial answer is kept")
    page.evaluate("() => { window.__x = undefined; }")
    other.locator(".onb-chat-model").select_option("hostile:latest")
    ask(other, "Say something.")
    hostile = last_answer(other)
    expect(hostile).to_have_attribute("data-status", "done")
    expect(hostile.locator(".onb-msg-body")).to_contain_text("Readable text survives.")
    expect(hostile.locator(".onb-msg-body")).to_contain_text("Readable text survives after it too.")
    after_frames(page)
    assert page.evaluate("() => window.__x") is None
    for bad in ("script", "iframe", "style", "[onerror]", "[onclick]", "a[href^='javascript']"):
        assert other.locator(f".onb-msg-body {bad}").count() == 0, bad

    run_cell(page, 3)
    ask(other, "Anyone there?")
    missing = last_answer(other)
    expect(missing).to_have_attribute("data-status", "failed")
    expect(missing.locator(".onb-error-message")).to_contain_text("not found")
    expect(missing.locator(".onb-error-hint code")).to_have_text(["%ollama pull nope", "ollama pull nope", "%ollama list"])
    expect(other.locator(".onb-chat-send")).to_have_text("Send")

    # For a reviewer: the whole page, and each chat after its conversation, light and dark.
    close_notifications(page)
    chat.scroll_into_view_if_needed()
    screenshot(page, f"chat-{mode}")
    if mode == SUBSHELLS_ON:
        for theme in ("light", "dark"):
            if theme == "dark":
                set_theme(page, "JupyterLab Dark")
            chat.screenshot(path=str(ARTIFACTS / f"chat-tutor-{theme}.png"))
            other.screenshot(path=str(ARTIFACTS / f"chat-errors-{theme}.png"))
        set_theme(page, "JupyterLab Light")
    stop_kernel(page)


def test_reloading_mid_answer_restores_the_partial(lab_server, page, emulator):
    write_notebook(
        lab_server.root,
        "chat_reload.ipynb",
        ["from ollama_nb import ChatWidget\nchat = ChatWidget(model='stall')\nchat"],
    )
    open_notebook(page, lab_server.url, "chat_reload.ipynb")
    run_all(page)
    chat = chat_in(page, 0)
    ask(chat, "Start, then go quiet.")
    expect(last_answer(chat).locator(".onb-msg-body")).to_have_text("Here is the partial answer")
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_function(
        "() => !window.jupyterapp.shell.currentWidget.context.model.dirty", polling=50
    )

    open_notebook(page, lab_server.url, "chat_reload.ipynb")  # a fresh page, same kernel
    chat = chat_in(page, 0)
    answer = last_answer(chat)
    expect(answer).to_have_attribute("data-status", "running")
    expect(answer.locator(".onb-msg-body")).to_have_text("Here is the partial answer")
    expect(chat.locator(".onb-chat-send")).to_have_text("Stop")
    before = len(emulator.disconnects)
    chat.locator(".onb-chat-send").click()
    wait_for_disconnect(emulator, before)
    expect(answer).to_have_attribute("data-status", "stopped")
    expect(answer.locator(".onb-msg-body")).to_have_text("Here is the partial answer")
    stop_kernel(page)


def test_send_from_a_cell_streams_while_the_cell_runs(lab_server, page, emulator):
    """``chat.ask(...)`` blocks its cell; the answer still streams into the panel meanwhile.
    The panel's Stop reaches the kernel during the cell only with comms over subshells."""
    subshells = lab_server.comms_over_subshells == SUBSHELLS_ON
    write_notebook(
        lab_server.root,
        "chat_blocking.ipynb",
        [
            "from ollama_nb import ChatWidget\nchat = ChatWidget(model='slow', options={'num_predict': 60})\nchat",
            "reply = chat.ask('Count slowly.')\nprint('status:', reply.status, len(reply.content.split()))",
        ],
    )
    open_notebook(page, lab_server.url, "chat_blocking.ipynb")
    run_cell(page, 0)
    chat = chat_in(page, 0)
    run_cell(page, 1, wait=False)
    body = last_answer(chat).locator(".onb-msg-body")
    expect(body).to_contain_text(re.compile(r"(\w+\s+){5}"))
    busy = page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status")
    assert busy == "busy"
    assert last_answer(chat).get_attribute("data-status") == "running"
    if subshells:
        before = len(emulator.disconnects)
        chat.locator(".onb-chat-send").click()
        wait_for_disconnect(emulator, before)
        wait_for_output_text(page, 1, re.compile(r"status: stopped \d+"))
        expect(last_answer(chat)).to_have_attribute("data-status", "stopped")
    else:
        wait_for_output_text(page, 1, "status: done 60")
        expect(last_answer(chat)).to_have_attribute("data-status", "done")
    kernel_idle(page)
    stop_kernel(page)
