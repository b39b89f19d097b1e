"""The harness itself: a tiny anywidget in a real JupyterLab, clicked in Chromium, seen by Python.

Runs once with JupyterLab's comms over subshells on and once with it off.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .lab import (
    SUBSHELLS_OFF,
    cell_output_locator,
    comms_over_subshells,
    open_notebook,
    run_all,
    run_cell,
    screenshot,
    stop_kernel,
    wait_for_output_text,
    write_notebook,
)

COUNTER = '''
import threading
import anywidget, traitlets

class Counter(anywidget.AnyWidget):
    _esm = """
    export default {
      render({ model, el }) {
        const b = document.createElement("button");
        b.className = "counter";
        const show = () => { b.textContent = `count is ${model.get("value")}`; };
        const click = () => { model.set("value", model.get("value") + 1); model.save_changes(); };
        show();
        b.addEventListener("click", click);
        model.on("change:value", show);
        el.append(b);
        return () => { model.off("change:value", show); b.removeEventListener("click", click); };
      },
    };
    """
    value = traitlets.Int(0).tag(sync=True)
    seen_on = traitlets.Unicode("")

    @traitlets.observe("value")
    def _seen(self, change):
        # which kernel thread handled the comm message: a subshell thread, or the main one
        self.seen_on = threading.current_thread().name

counter = Counter()
counter
'''


@pytest.mark.browser
def test_click_reaches_python(lab_server, page):
    name = f"harness-{lab_server.comms_over_subshells}.ipynb"
    write_notebook(
        lab_server.root,
        name,
        [
            COUNTER,
            'print(f"value={counter.value} main={counter.seen_on == threading.main_thread().name}")',
            "counter.value = 10",
        ],
    )
    open_notebook(page, lab_server.url, name)
    assert comms_over_subshells(page) == lab_server.comms_over_subshells

    run_all(page)
    button = cell_output_locator(page, 0).locator("button.counter")
    expect(button).to_have_text("count is 10")  # the last cell's change, Python -> view

    for _ in range(3):
        button.click()
    expect(button).to_have_text("count is 13")

    # With subshells the comm messages run on another thread than the execute request, so they
    # may land a moment after it: run the print cell again until Python has seen all three.
    for _ in range(50):
        run_cell(page, 1)
        text = cell_output_locator(page, 1).inner_text()
        if "value=13" in text:
            break
    wait_for_output_text(page, 1, "value=13", timeout=5_000)
    main = lab_server.comms_over_subshells == SUBSHELLS_OFF
    wait_for_output_text(page, 1, re.compile(rf"main={main}"), timeout=5_000)

    screenshot(page, f"harness-{lab_server.comms_over_subshells}")
    stop_kernel(page)
