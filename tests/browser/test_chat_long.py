"""A long conversation in a real JupyterLab: a new answer touches only its own turn.

A ChatWidget answers a few turns (paced:latest: Markdown with KaTeX math), then streams one more
slowly, delta after delta, and ends it (which refreshes the widget's static copy: JupyterLab renders
the output again). A MutationObserver on the log records every change while that happens. Earlier
turns' rows must see none, stay the very same nodes (their rendered Markdown and math not redone),
and the conversation must still be whole and the panel usable (the copy button, the next turn).
In JupyterLab, then in Notebook 7 (the same output area and widget manager, its own page).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .lab import (
    KernelFrames,
    after_frames,
    cell_output_locator,
    open_notebook,
    run_cell,
    start_lab,
    stop_kernel,
    write_notebook,
)

CELLS = [
    "from ollama_nb import ChatWidget\n"
    "chat = ChatWidget(model='paced:latest', options={'num_predict': 120})\n"
    "chat",
]

WATCH = """() => {
  const log = document.querySelector('.jp-OutputArea .onb-chat-log');
  const earlier = [...log.children];
  window.watched = { log, earlier, math: [...log.querySelectorAll('math')], inside: 0, elsewhere: 0, what: [] };
  const inEarlier = (n) => earlier.some((row) => row === n || row.contains(n));
  // JupyterLab's table of contents numbers every heading in the outputs (a span it puts into each
  // h1-h6 whenever an output changes): its own change, not a render of ours.
  const tocNumber = (r) => [...r.addedNodes, ...r.removedNodes].every((n) => n.classList?.contains('numbering-entry'));
  window.watched.observer = new MutationObserver((records) => {
    for (const r of records) {
      if (r.type === 'childList' && /^H[1-6]$/.test(r.target.nodeName) && tocNumber(r)) continue;
      const moved = [...r.addedNodes, ...r.removedNodes].some((n) => earlier.includes(n));
      if (moved || inEarlier(r.target)) {
        window.watched.inside += 1;
        window.watched.what.push(`${r.type} ${r.attributeName || ""} on ${r.target.nodeName}.${r.target.className || ""}${moved ? " (row moved)" : ""} +${[...r.addedNodes].map((n) => n.nodeName + "." + (n.className || ""))} -${[...r.removedNodes].map((n) => n.nodeName + "." + (n.className || ""))}`);
      }
      else window.watched.elsewhere += 1;
    }
  });
  window.watched.observer.observe(log, { subtree: true, childList: true, characterData: true, attributes: true });
  return earlier.length;
}"""

CHECK = """() => {
  const w = window.watched;
  w.observer.takeRecords().length && (w.inside += 1000);  // records not yet delivered count as changes
  w.observer.disconnect();
  const log = document.querySelector('.jp-OutputArea .onb-chat-log');
  return {
    inside: w.inside,
    what: w.what.slice(0, 10),
    elsewhere: w.elsewhere,
    sameLog: log === w.log,
    rowsKept: w.earlier.every((row, i) => row.isConnected && log.children[i] === row),
    mathKept: w.math.length > 0 && w.math.every((m) => m.isConnected),
    chats: document.querySelectorAll('.jp-OutputArea .onb-chat').length,
  };
}"""


def finish_turn(page, chat, frames: KernelFrames, turn: int) -> None:
    """Wait until answer ``turn`` is done and the static copy it refreshes has been drawn."""
    expect(chat.locator(".onb-msg-assistant[data-status='done']")).to_have_count(turn, timeout=60_000)
    expect(chat.locator(".onb-chat-send")).to_have_text("Send", timeout=30_000)
    while frames.displays < turn:  # one update_display_data per finished turn
        after_frames(page, 1)
    after_frames(page, 2)


def send(chat, text: str) -> None:
    box = chat.locator(".onb-chat-input")
    box.fill(text)
    box.press("Enter")


KERNEL_IDLE = """() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return !!k && k.status === 'idle' && k.connectionStatus === 'connected'; }"""


@pytest.mark.parametrize("front", ["lab", "notebook7"])
def test_a_new_answer_leaves_earlier_turns_untouched(lab, page, front, tmp_path):
    frames = KernelFrames(page)
    server = lab if front == "lab" else start_lab(tmp_path / "nb7", app="notebook", log_name="notebook7-long-chat")
    write_notebook(server.root, "long-chat.ipynb", CELLS)
    if front == "lab":
        open_notebook(page, server.url, "long-chat.ipynb")
    else:
        page.goto(f"{server.url}/notebooks/long-chat.ipynb", wait_until="domcontentloaded")
        page.wait_for_function(KERNEL_IDLE, timeout=120_000)
    try:
        run_cell(page, 0)
        chat = cell_output_locator(page, 0).locator(".onb-chat")
        expect(chat.locator(".onb-chat-input")).to_be_visible()
        for k in range(1, 4):
            send(chat, f"Turn {k}: the long answer at 100000 tokens/s.")
            finish_turn(page, chat, frames, k)
        assert chat.locator(".onb-msg-assistant math").count() >= 3, "the answers should hold KaTeX math"

        assert page.evaluate(WATCH) == 6
        updates = frames.count
        send(chat, "Turn 4: the long answer at 40 tokens/s.")
        finish_turn(page, chat, frames, 4)
        result = page.evaluate(CHECK)

        assert frames.count - updates >= 10, "the fourth answer should have streamed as many deltas"
        assert result["elsewhere"] > 0, "the observer saw the new turn arrive"
        assert result == {
            "inside": 0,
            "what": [],
            "elsewhere": result["elsewhere"],
            "sameLog": True,
            "rowsKept": True,
            "mathKept": True,
            "chats": 1,
        }, f"earlier turns were rendered again: {result}"

        # Still one whole, working conversation: four turns, the fourth complete, its copy button
        # there, and the next question goes through.
        expect(chat.locator(".onb-msg-user")).to_have_count(4)
        expect(chat.locator(".onb-msg-assistant").last.locator(".onb-chat-copy")).to_be_visible()
        expect(chat.locator(".onb-msg-assistant").last.locator(".onb-msg-body")).to_contain_text("Part 1")
        send(chat, "Turn 5: the long answer at 100000 tokens/s.")
        finish_turn(page, chat, frames, 5)
        expect(chat.locator(".onb-msg-user")).to_have_count(5)
    finally:
        stop_kernel(page)
        if server is not lab:
            server.stop()
