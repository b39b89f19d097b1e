"""The committed bundles load in a real JupyterLab through anywidget (``_esm``/``_css`` as
Paths) and follow JupyterLab's light and dark themes."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .lab import cell_output_locator, open_notebook, run_all, screenshot, set_theme, stop_kernel, write_notebook

CELL = '''
import anywidget, traitlets
from ollama_nb._widgets._assets import css, esm

class Preview(anywidget.AnyWidget):
    _esm = esm("chat")
    _css = css("chat")
    placeholder = traitlets.Unicode(
        "**Bold**, $x^2$, [link](https://example.com)\\n\\n```python\\nprint('hi')\\n```"
    ).tag(sync=True)

Preview()
'''


def _luminance(rgb: str) -> float:
    r, g, b = (int(float(x)) for x in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@pytest.mark.browser
def test_chat_bundle_follows_the_theme(lab, page):
    lab_server = lab  # theme and asset loading do not depend on subshells: once is enough
    write_notebook(lab_server.root, "assets.ipynb", [CELL])
    open_notebook(page, lab_server.url, "assets.ipynb")
    run_all(page)
    chat = cell_output_locator(page, 0).locator(".onb-root.onb-chat")
    expect(chat.locator("strong")).to_have_text("Bold")
    expect(chat.locator("math")).to_have_count(1)
    expect(chat.locator("pre button.onb-copy")).to_have_count(1)
    bg = lambda: chat.evaluate("e => getComputedStyle(e).backgroundColor")  # noqa: E731
    assert _luminance(bg()) > 200, bg()
    screenshot(page, "assets-light")

    set_theme(page, "JupyterLab Dark")
    page.wait_for_function(
        "(el) => { const m = getComputedStyle(el).backgroundColor.match(/\\d+/g);"
        " return m && (+m[0] + +m[1] + +m[2]) < 200; }",
        arg=chat.element_handle(),
    )
    screenshot(page, "assets-dark")
    set_theme(page, "JupyterLab Light")  # the theme is a user setting: leave the server as found
    stop_kernel(page)
