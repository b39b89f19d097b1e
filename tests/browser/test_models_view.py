"""The shipped models.js view on its own, in Chromium, with a stand-in anywidget model: untrusted
text stays text, the view talks only through messages, keys stay inside the widget, and the
cleanup that render() returns removes every listener and timer.

No JupyterLab needed: the committed static/models.js is loaded into a blank page and rendered
exactly as anywidget would call it.
"""

from __future__ import annotations

import pytest

from .lab import after_frames, open_bundle_page, screenshot

PAGE = """<!doctype html><html><head><meta charset="utf-8"><link rel="stylesheet" href="/models.css">
</head><body><div id="host" style="width: 1100px"></div><script type="module">
// count live intervals, so the test can see that cleanup stops the countdown
const live = new Set();
const setI = window.setInterval, clearI = window.clearInterval;
window.setInterval = (...a) => { const id = setI(...a); live.add(id); return id; };
window.clearInterval = (id) => { live.delete(id); clearI(id); };
window.liveIntervals = () => live.size;
window.alerted = [];
window.alert = (x) => window.alerted.push(String(x));
window.prompt = window.confirm = () => { window.alerted.push("dialog"); return null; };
window.docKeys = [];
document.addEventListener("keydown", (e) => window.docKeys.push(e.key));

import widget from "/models.js";
import { FakeModel } from "/fake_model.js";
window.model = new FakeModel({ models: [], running: [], selected: "", details: {}, pulls: {}, error: {}, notice: "",
                               busy: "", cloud: false, host: "http://127.0.0.1:11434", chat_available: false });
window.sent = window.model.sent;
window.cleanup = widget.render({ model: window.model, el: document.getElementById("host") });
window.ready = true;
</script></body></html>"""

HOSTILE = '<img src=x onerror="window.pwned=1">'
EVIL_TEMPLATE = '<script>window.pwned=2</script>{{ .Prompt }}<iframe src="javascript:window.pwned=3">'


@pytest.fixture
def view(page):
    return open_bundle_page(page, "models", PAGE)


def set_state(page, **values):
    for key, value in values.items():
        page.evaluate("([k, v]) => window.model.set(k, v)", [key, value])


def sent(page):
    return page.evaluate("window.sent")


def test_untrusted_text_stays_text(view):
    page = view
    set_state(
        page,
        models=[
            {"name": HOSTILE, "size": 1, "parameter_size": "1B", "quantization": HOSTILE, "family": HOSTILE,
             "modified_at": "2024-01-01T00:00:00.123456789Z", "capabilities": [HOSTILE]},
            {"name": "llama3.2:latest", "size": 2019393189, "parameter_size": "3.2B", "quantization": "Q4_K_M",
             "family": "llama", "modified_at": "2024-01-02T00:00:00Z", "capabilities": ["completion"]},
        ],
        running=[{"name": HOSTILE, "size": 10, "size_vram": 5, "context_length": 4096,
                  "expires_at": "2999-01-01T00:00:00Z"}],
        selected=HOSTILE,
        details={"name": HOSTILE, "capabilities": ["completion", HOSTILE], "context_length": 8192,
                 "template": EVIL_TEMPLATE, "license": HOSTILE, "modelfile": EVIL_TEMPLATE, "parameters": HOSTILE,
                 "family": HOSTILE, "architecture": HOSTILE},
        pulls={HOSTILE: {"name": HOSTILE, "state": "failed", "status": HOSTILE, "message": HOSTILE, "hint": HOSTILE,
                         "layers": [{"digest": HOSTILE, "completed": 1, "total": 2}], "completed": 1, "total": 2}},
        error={"message": HOSTILE, "hint": HOSTILE, "action": "pull"},
        notice=HOSTILE,
    )
    host = page.locator("#host")
    for sel in ("details[data-key=template]", "details[data-key=modelfile]", "details[data-key=license]"):
        host.locator(f"{sel} summary").click()
    after_frames(page)
    assert host.locator("img, script, iframe").count() == 0
    assert page.evaluate("window.pwned") is None and page.evaluate("window.alerted") == []
    assert HOSTILE in host.locator(".onb-mb-name-text").all_inner_texts()
    assert host.locator("details[data-key=template] pre").inner_text() == EVIL_TEMPLATE
    assert host.locator(".onb-mb-msg-error strong").inner_text() == HOSTILE
    assert host.locator(".onb-mb-pullerror").inner_text().count(HOSTILE) == 2
    assert host.locator(".onb-mb-expires").inner_text() == "forever"
    screenshot(page, "model-browser-hostile")


def test_the_view_speaks_only_through_messages_and_keeps_keys(view):
    page = view
    assert sent(page) == [{"action": "hello"}]
    set_state(page, models=[
        {"name": "a:latest", "size": 3, "parameter_size": "1B", "quantization": "Q4_0", "family": "x",
         "modified_at": "2024-01-01T00:00:00Z", "capabilities": []},
        {"name": "b:latest", "size": 1, "parameter_size": "7B", "quantization": "Q8_0", "family": "y",
         "modified_at": "2024-02-01T00:00:00Z", "capabilities": []},
    ])
    host = page.locator("#host")
    def names() -> list[str]:
        return host.locator(".onb-mb-name-text").all_inner_texts()

    assert names() == ["b:latest", "a:latest"]  # newest first
    host.locator("button.onb-mb-sort", has_text="Params").click()
    assert names() == ["b:latest", "a:latest"]  # biggest first
    host.locator("button.onb-mb-sort", has_text="Params").click()
    assert names() == ["a:latest", "b:latest"]
    host.locator('tr[data-name="a:latest"]').click()
    set_state(page, selected="a:latest", details={"name": "a:latest", "capabilities": ["completion"]})

    # Copy asks inline; Escape closes the prompt; keys never reach the document (JupyterLab)
    host.locator("button[data-act=ask-copy]").click()
    box = host.locator("input.onb-mb-copy-name")
    assert box.input_value() == "a-copy"
    box.press("Escape")
    assert box.count() == 0
    host.locator("button[data-act=ask-copy]").click()
    box.fill("")
    page.keyboard.type("mine dd")
    box.press("Enter")
    # Delete needs the inline confirmation
    host.locator("button[data-act=ask-delete]").click()
    host.locator("button[data-act=do-delete]").click()
    host.locator(".onb-mb-pull-name").fill("smollm2:135m")
    host.locator(".onb-mb-pull-name").press("Enter")
    host.locator(".onb-mb-refresh").click()
    assert page.evaluate("window.docKeys") == []
    assert sent(page)[1:] == [
        {"action": "select", "name": "a:latest"},
        {"action": "copy", "src": "a:latest", "dst": "mine dd"},
        {"action": "delete", "name": "a:latest"},
        {"action": "pull", "name": "smollm2:135m"},
        {"action": "refresh"},
    ]
    assert page.evaluate("window.alerted") == []  # no window.prompt / confirm


def test_cleanup_removes_every_listener_and_timer(view):
    page = view
    set_state(page, running=[{"name": "m", "size": 1, "size_vram": 1, "context_length": 1,
                              "expires_at": "2999-01-01T00:00:00Z"}])
    assert page.evaluate("window.liveIntervals()") == 1
    assert page.evaluate("window.model.listeners()") > 0
    page.evaluate("window.cleanup()")
    assert page.evaluate("window.model.listeners()") == 0
    assert page.evaluate("window.liveIntervals()") == 0
    assert page.locator("#host *").count() == 0


def test_unreachable_server_is_one_error_with_commands_as_code_and_no_empty_list_claim(view):
    set_state(view, error={"message": "Cannot reach Ollama at http://127.0.0.1:9.",
                           "hint": "Start Ollama (`ollama serve`, or open the Ollama app), or point OLLAMA_HOST at it.",
                           "action": "refresh"})
    alert = view.locator(".onb-mb-msg-error")
    assert alert.locator("code").all_inner_texts() == ["ollama serve"]
    assert "`" not in alert.inner_text()
    text = view.locator("#host").inner_text()
    assert "No models installed yet" not in text and "could not be read" in text  # unknown, not empty
    screenshot(view, "model-browser-unreachable")
    set_state(view, error={})
    assert "No models installed yet" in view.locator("#host").inner_text()  # reachable and empty: say so


def test_the_quota_panel_draws_one_bar_per_limit(view):
    from playwright.sync_api import expect

    page = view
    section = page.locator(".onb-mb-quota")
    expect(section).to_be_hidden()
    set_state(page, cloud=True, quota=[
        {"limit": "session", "fraction": 0.25, "used": "25.0%", "resets": "in 3 h"},
        {"limit": HOSTILE, "fraction": 0.95, "used": "95.0%", "resets": ""},
    ])
    expect(section).to_be_visible()
    rows = section.locator(".onb-mb-quota-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator(".onb-mb-quota-used")).to_have_text("25.0%")
    assert rows.nth(0).locator(".onb-mb-bar-fill").evaluate("e => e.style.width") == "25%"
    expect(rows.nth(1).locator(".onb-mb-quota-name")).to_have_text(HOSTILE)  # a name is text, never markup
    assert rows.nth(1).locator(".onb-mb-bar-failed").count() == 1 and page.evaluate("window.pwned") is None
    set_state(page, quota=[])
    expect(section).to_be_hidden()


# Names a server could list that differ from an ordinary one only by what prints as nothing; the
# view must show each as ollama_nb._format.model_name does and send back exactly the name listed.
TRICKY_NAMES = [" llama3.2 ", "llama3.2\t", "llama3.2\n", "\nllama3.2:latest", "llama3.2:latest\r\n", "  llama3.2  ",
                "\u00a0llama3.2", "llama3.2:latest\u200b", "llama3.2\u202e:latest", "a\u2028b", "x\U000e0001",
                "\x00nul\x7f", '"quoted"', "back\\slash ", "\u2423x", "plain b:latest", "llama3.2:latest", ""]


def test_names_show_as_the_kernel_shows_them_and_go_back_exactly(view):
    from ollama_nb._format import model_name

    page = view
    models = [{"name": n, "size": 1, "parameter_size": "1B", "quantization": "Q4_0", "family": "x",
               "modified_at": f"2024-01-{i + 1:02d}T00:00:00Z", "capabilities": []} for i, n in enumerate(TRICKY_NAMES)]
    set_state(page, models=models)
    rows = page.locator("#host .onb-mb-tablewrap tbody tr")
    got = rows.evaluate_all("(trs) => trs.map((tr) => [tr.dataset.name, tr.querySelector('.onb-mb-name-text').textContent])")
    assert sorted(got) == sorted([n, model_name(n)] for n in TRICKY_NAMES)
    heights = {round(box["height"]) for box in (rows.nth(i).bounding_box() for i in range(rows.count())) if box}
    assert len(heights) == 1, f"rows of different heights: {heights}"  # every name on one line
    for i in range(rows.count()):
        rows.nth(i).click()
    assert [m for m in sent(page) if m["action"] == "select"] == [{"action": "select", "name": n} for n, _ in got if n]


def test_a_cancelled_pull_stops_looking_busy(view):
    """A running pull's bars are the accent colour; once cancelled they turn muted, so a card with
    "cancelled" beside its name does not look like a download still going."""
    from playwright.sync_api import expect

    page = view
    pull = {"name": "big-model", "state": "running", "status": "pulling cdb2", "total": 100, "completed": 14,
            "info_text": "14 B of 100 B", "layers": [{"digest": "cdb2", "total": 100, "completed": 14, "bytes_text": "14 B"}]}
    set_state(page, pulls={"big-model": pull})
    card = page.locator(".onb-mb-pullcard")
    expect(card.locator(".onb-mb-pullstatus")).to_have_text("pulling cdb2")

    def fills():
        return card.locator(".onb-mb-bar-fill").evaluate_all("els => els.map(e => getComputedStyle(e).backgroundColor)")

    running = fills()
    set_state(page, pulls={"big-model": {**pull, "state": "stopped"}})
    expect(card.locator(".onb-mb-pullstatus")).to_have_text("cancelled")
    stopped = fills()
    muted = card.locator(".onb-mb-pullstatus").evaluate("e => getComputedStyle(e).color")
    assert len(stopped) == 2 and all(c not in running for c in stopped) and set(stopped) == {muted}, (running, stopped, muted)
