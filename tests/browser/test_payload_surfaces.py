"""The payload corpus through every surface, in JupyterLab + Chromium (issue 9).

A hostile emulator (tests/corpus/routes.py) serves each payload of tests/corpus as the answer,
the thinking, a tool call's arguments, the chunks' model name, an error before and during the
stream, /api/tags and /api/show fields, a sign-in refusal's signin_url (which must never become a
link) and /api/usage's limits (``%ollama usage``, the cloud ModelBrowser's quota panel). One notebook per group of surfaces runs them all, then:

1. live, right after Run All;
2. saved and reopened (JupyterLab trusts the notebook it saved, so outputs render unsanitized);
3. as ``jupyter nbconvert --to html``, opened in Chromium.

In each phase: no payload's script runs (``__pwn`` is exposed in every frame), nothing requests the
beacon server, no ``on*`` attribute and no javascript:/vbscript:/data:text/html URL is in any
output, and clicking every link neither runs script nor navigates the page away (pages opened by a
click are recorded and aborted; Chromium resolves only loopback anyway).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import nbformat
import pytest
from corpus.payloads import CORPUS
from corpus.routes import PayloadRoutes
from playwright.sync_api import Browser, expect

from ollama_nb._format import model_name
from ollama_nb.testing import Emulator

from .hostile import Beacon, Guard, audit, click_every_link, verdict
from .lab import (
    ARTIFACTS,
    LabServer,
    open_notebook,
    run_all,
    screenshot,
    start_lab,
    stop_kernel,
    write_notebook,
)

# OLLAMA_NB_PAYLOADS=3,17 runs only those payloads (while working on one); CI runs them all.
_ONLY = {int(x) for x in os.environ.get("OLLAMA_NB_PAYLOADS", "").split(",") if x.strip()}
PAYLOADS = [p for p in CORPUS if not _ONLY or p.id in _ONLY]
KEYS = [f"p{p.id}" for p in PAYLOADS]
# every class's first payload, every split one, every model name, and a few that broke the old escaper
_STRONG = {2, 23, 68, 73, 92, 120}
SAMPLE = [f"p{p.id}" for p in PAYLOADS
          if p.split or p.cls == "name" or p.id in _STRONG or p is next(q for q in PAYLOADS if q.cls == p.cls)]
# the model names (spaces and invisible characters at their ends): given to the magics as they are
NAMES = [p.text("") for p in PAYLOADS if p.cls == "name"]
LAB_SETTINGS = {
    # the widgets' state is saved in the notebook, so reopened views show the saved transcript
    "@jupyter-widgets/jupyterlab-manager:plugin": {"saveState": True},
    # every output is rendered (JupyterLab's default shows the first 50 of a cell)
    "@jupyterlab/notebook-extension:tracker": {"maxNumberOutputs": 100000},
}


BEACON_URL: list[str] = []  # the running beacon's URL, for the ModelBrowser visit


@pytest.fixture(scope="module")
def beacon() -> Iterator[Beacon]:
    b = Beacon().start()
    BEACON_URL[:] = [b.url]
    yield b
    b.stop()


@pytest.fixture(scope="module")
def hostile(beacon) -> Iterator[Emulator]:
    with Emulator(token_delay=0) as emu:
        PayloadRoutes({f"p{p.id}": p.chunks(beacon.url) for p in PAYLOADS}, tags=True, usage=True).install(emu)
        yield emu


@pytest.fixture(scope="module")
def lab(hostile, tmp_path_factory) -> Iterator[LabServer]:
    server = start_lab(tmp_path_factory.mktemp("payloads"), env={"OLLAMA_HOST": hostile.url,
                       "OLLAMA_NB_MODEL": "payload-content:p1"}, log_name="lab-payloads",
                       overrides=LAB_SETTINGS)
    yield server
    server.stop()


def setup_cell(keys: list[str], sample: list[str]) -> str:
    return "\n".join([
        "%load_ext ollama_nb",
        "from IPython import get_ipython",
        "from IPython.display import display",
        "from ollama_nb import Client, ChatWidget, ModelBrowser, OllamaError",
        "ip = get_ipython()",
        f"KEYS = {json.dumps(keys)}",
        f"SAMPLE = {json.dumps(sample)}",
        f"NAMES = {json.dumps(NAMES)}",
        "import shlex",
        "HI = [{'role': 'user', 'content': 'hi'}]",
        "client = Client()",
        RAISED,
    ])


def canary_cell(beacon: Beacon) -> str:
    """Our own trusted HTML: proves scripts and image loads work in this page (see hostile.py)."""
    html = ("<div class=onb-test-canary><script>__pwn(0); document.body.dataset.canary = Number(document.body.dataset.canary || 0) + 1"
            f"</script><img alt=canary src='{beacon.url}/0'></div>")
    return f"from IPython.display import HTML\ndisplay(HTML({html!r}))"


# Each cell prints "RAISED <what>: <error>" for a call that raised instead of showing its error:
# the test reports those too (every failure path ends in a clear message, not an exception).
RAISED = """
def attempt(what, call, *args, **kwargs):
    try:
        return call(*args, **kwargs)
    except Exception as exc:
        print(f"RAISED {what}: {type(exc).__name__}: {exc}"[:300])
"""
# Model text (answers, thinking, a Reply, the chat) gets the whole corpus here. The fields our
# chrome escapes (tool arguments, model name, errors, show and tags fields) get every class's
# first payload and every split one here, and the whole corpus in tests/test_render_corpus.py,
# which proves chrome values change only text; this keeps a run at a few minutes on 2 cores.
# (one cell per field: JupyterLab lays out a cell's outputs again for each new one)
MAGIC_ANSWER = [
    f"""for key in KEYS:
    attempt(f"%%ollama {field} {{key}}", ip.run_cell_magic, "ollama", f"-m payload-{field}:{{key}} --chat {field}-{{key}}", "hi")"""
    for field in ("content", "thinking")
]
MAGIC_CHROME = [
    """for field in ("tool", "model", "midstream", "error", "signin"):
    for key in SAMPLE:
        attempt(f"%%ollama {field} {key}", ip.run_cell_magic, "ollama", f"-m payload-{field}:{key} --chat {field}-{key}", "hi")""",
    """for key in SAMPLE:
    attempt(f"--compare {key}", ip.run_cell_magic, "ollama",
            f"--compare payload-content:{key},payload-model:{key},payload-error:{key} --chat c-{key}", "hi")""",
    # a listed model's exact name (shlex-quoted, so every space, tab and new line stays)
    """for i, name in enumerate(NAMES):
    attempt(f"-m {name!r}", ip.run_cell_magic, "ollama", f"-m {shlex.quote(name)} --chat n-{i}", "hi")""",
]
SHOW_REQUEST = [
    # the raw NDJSON of every answer, shown as code: a fence in the answer must not end it
    """for key in KEYS:
    attempt(f"--show-request {key}", ip.run_cell_magic, "ollama", f"--show-request -m payload-content:{key} --chat r-{key}", "hi")""",
]
REPLY = [
    # a displayed Reply (chat and generate), and the line magics' tables
    """for key in KEYS:
    display(attempt(f"chat content {key}", client.chat, model=f"payload-content:{key}", messages=HI))""",
    """for field in ("thinking", "tool", "model"):
    for key in SAMPLE:
        display(attempt(f"chat {field} {key}", client.chat, model=f"payload-{field}:{key}", messages=HI))
for key in SAMPLE:
    display(attempt(f"generate {key}", client.generate, model=f"payload-content:{key}", prompt="hi"))""",
    # /api/balance's windows and /api/usage's limits, named by the payloads (a key only for this call)
    """ip.run_line_magic("ollama", "config api_key=payload-usage-key")
attempt("usage", ip.run_line_magic, "ollama", f"usage --host {client.host}")
ip.run_line_magic("ollama", "config api_key=")""",
    """attempt("list", ip.run_line_magic, "ollama", "list")
attempt("ps", ip.run_line_magic, "ollama", "ps")
for key in SAMPLE:
    attempt(f"show {key}", ip.run_line_magic, "ollama", f"show payload-show:{key}")
for name in NAMES:
    attempt(f"show {name!r}", ip.run_line_magic, "ollama", f"show {shlex.quote(name)}")""",
]
# the fields the chat panels get SAMPLE in (besides every payload as the answer)
CHAT_FIELDS = ("thinking", "tool", "model", "midstream", "error", "signin")
CHAT = [
    # a dozen turns per panel: a panel's view re-lays out its whole transcript on each new turn
    f"CHAT_FIELDS = {CHAT_FIELDS!r}\n"
    + """def converse(field, keys):
    chat = ChatWidget(model=f"payload-{field}:{keys[0]}")
    display(chat)
    for key in keys:
        chat.model = f"payload-{field}:{key}"
        try:
            chat.ask("hi")
        except OllamaError:
            pass  # the error shows in the panel, where the test looks for it
        except Exception as exc:
            print(f"RAISED chat {field} {key}: {type(exc).__name__}: {exc}"[:300])
    return chat
def dozens(keys):
    return [keys[i:i + 12] for i in range(0, len(keys), 12)]
chats = [converse("content", keys) for keys in dozens(KEYS)]
chats += [converse(field, keys) for field in CHAT_FIELDS for keys in dozens(SAMPLE)]
answers = sum(1 for chat in chats for m in chat.messages if m["role"] == "assistant")
assert answers == len(KEYS) + len(CHAT_FIELDS) * len(SAMPLE), f'only {answers} answers in the panels'""",
]
MODELS = ["browser = ModelBrowser()\nbrowser",
          # as a cloud account sees it: the quota panel, one bar per /api/balance window and /api/usage limit
          'cloud_client = Client(api_key="payload-usage-key")\ncloud_client.cloud = True  # the emulator plays ollama.com\n'
          'cloud_browser = ModelBrowser(client=cloud_client)\ncloud_browser']
# What a saved notebook shows where no widget manager runs (GitHub, nbviewer, an nbconvert without
# the widget state): each widget's own bundle without its widget view.
STATIC_VIEWS = ["""for widget in [*chats, browser, cloud_browser]:
    data, _ = widget._repr_mimebundle_()
    data.pop("application/vnd.jupyter.widget-view+json", None)
    display(data, raw=True)"""]
# Three notebooks: each costs a page load, a reload and an nbconvert, so they hold many cells.
NOTEBOOKS = {"magic": MAGIC_ANSWER + MAGIC_CHROME, "request-reply": SHOW_REQUEST + REPLY, "widgets": CHAT + MODELS + STATIC_VIEWS}


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def _serve(directory) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _check_phase(name, page, guard, lab_url, problems, *, models_root=None) -> int:
    started = time.monotonic()
    guard.barrier(page)
    rendered = time.monotonic()
    if models_root is not None:
        _visit_every_model(page, models_root)
    found = audit(page)
    assert found["roots"] > 0, f"{name}: no output areas in the page"
    audited = time.monotonic()
    clicked = click_every_link(page, guard)
    found_after = audit(page)  # clicks must not have changed what the outputs hold
    for key in ("on", "urls", "tags", "remote", "styles"):
        found[key] = sorted(set(found[key]) | set(found_after[key]))
    problems += verdict(name, guard, found, lab_url=lab_url)
    problems.append(f"# {name}: {found['roots']} outputs, {found['links']} links, {clicked} distinct targets clicked, "
                    f"{len(guard.link_navigations)} pages opened, {len(guard.blocked)} off-loopback requests blocked; seconds: render {rendered - started:.1f}, "
                    f"audit {audited - rendered:.1f}, clicks {time.monotonic() - audited:.1f}")
    screenshot(page, f"payloads-{name}", full_page=False)
    guard.reset()
    return int(found["roots"])


def _saved_outputs(path) -> tuple[int, list[str]]:
    """How many rich outputs the saved notebook holds, and what its cells reported as RAISED."""
    nb = nbformat.read(str(path), as_version=4)
    rich, raised = 0, []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.output_type in ("display_data", "execute_result"):
                rich += 1
            elif out.output_type == "stream":
                raised += [line for line in out.text.splitlines() if line.startswith("RAISED ")]
            elif out.output_type == "error":
                raised.append(f"RAISED cell: {out.ename}: {out.evalue[:200]}")
    return rich, raised


def _fresh_page(guard: Guard, page):
    """A new page for the next phase (closing the old one without JupyterLab's "leave?" prompt)."""
    page.close(run_before_unload=False)
    guard.reset()
    guard.main = None  # the new page is the test's, not a popup
    return guard.watch(guard.context.new_page())


def _visit_every_model(page, root) -> None:
    """Select the SAMPLE's payload models in the ModelBrowser, so their show fields are rendered
    (every payload is a row of the table; a selection costs a round trip to the kernel)."""
    texts = {p.text(BEACON_URL[0]) for p in PAYLOADS if f"p{p.id}" in SAMPLE}
    rows = root.locator(".onb-mb-tablewrap tbody tr")
    visited = 0
    for i in range(rows.count()):
        raw = rows.nth(i).get_attribute("data-name") or ""
        if raw not in texts:
            continue
        rows.nth(i).click()
        # the exact name is selected (a name is untrusted, and " x " is not "x"), shown as the kernel shows it
        expect(root.locator(".onb-mb-details")).to_have_attribute("data-name", raw)
        assert root.locator(".onb-mb-details-name").text_content() == model_name(raw)
        visited += 1
    assert visited >= len(texts) // 2, f"only {visited} of {len(texts)} payload models found in the table"


@pytest.mark.timeout(900)
@pytest.mark.parametrize("group", list(NOTEBOOKS))
def test_corpus_through_every_surface(group, lab, beacon, hostile, browser: Browser):
    name = f"payloads-{group}.ipynb"
    write_notebook(lab.root, name, [setup_cell(KEYS, SAMPLE), *NOTEBOOKS[group], canary_cell(beacon)])
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    guard = Guard(context, beacon)
    problems: list[str] = []
    try:
        page = guard.watch(context.new_page())
        open_notebook(page, lab.url, name)
        started = time.monotonic()
        run_all(page, timeout=240_000)
        problems.append(f"# {group}: Run All took {time.monotonic() - started:.1f} s")
        models_root = page.locator(".onb-root.onb-models").first if MODELS[0] in NOTEBOOKS[group] else None
        # saved first, so clicks do not meet JupyterLab's "unsaved changes" prompt
        page.evaluate("async () => { await window.jupyterapp.commands.execute('docmanager:save'); }")
        shown = _check_phase(f"{group}-live", page, guard, lab.url, problems, models_root=models_root)
        if CHAT[0] in NOTEBOOKS[group]:  # every turn is in a panel (the cell asserts they happened)
            in_panels = page.locator(".onb-chat .onb-msg-assistant").count()
            assert in_panels >= len(KEYS) + len(CHAT_FIELDS) * len(SAMPLE), f"only {in_panels} answers shown in the panels"
        # every payload named a window of /api/balance and a limit of /api/usage (plus the purchased
        # credits row): in the quota panel, and in %ollama usage's table
        limits = 2 * len({p.text(beacon.url) for p in PAYLOADS}) + 1
        if MODELS[1] in NOTEBOOKS[group]:
            assert page.locator(".onb-mb-quota-row").count() == limits, "the quota panel lacks payload limits"
        if REPLY[0] in NOTEBOOKS[group]:
            assert page.locator("table.onb-usage tbody tr").count() == limits, "%ollama usage lacks payload limits"
        stop_kernel(page)
        rich, raised = _saved_outputs(lab.root / name)
        problems += [f"{group}: {line}" for line in raised]
        # every output was in the page (none trimmed or windowed away), so every one was checked
        assert shown >= rich, f"{group}: only {shown} of {rich} outputs were rendered"
        page = _fresh_page(guard, page)
        page.goto(f"{lab.url}/lab/tree/{name}?reset", wait_until="domcontentloaded")
        page.wait_for_function("() => !!window.jupyterapp && !!document.querySelector('.jp-OutputArea-output')",
                               timeout=60_000)
        _check_phase(f"{group}-reopened", page, guard, lab.url, problems)

        out = ARTIFACTS / "nbconvert"
        subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", "--output-dir", str(out),
                        str(lab.root / name)], check=True, capture_output=True, timeout=120)
        static = _serve(out)
        try:
            url = f"http://127.0.0.1:{static.server_address[1]}/{name.replace('.ipynb', '.html')}"
            page = _fresh_page(guard, page)
            page.goto(url, wait_until="domcontentloaded")
            _check_phase(f"{group}-nbconvert", page, guard, url, problems)
        finally:
            static.shutdown()
            static.server_close()
    except Exception:
        problems.append(f"# at the failure: links followed {guard.link_navigations}, main page {guard.main_navigations}, "
                        f"blocked {guard.blocked[:10]}")
        for pg in context.pages:
            screenshot(pg, f"FAILED-payloads-{group}")
        raise
    finally:
        (ARTIFACTS / f"payloads-{group}.txt").write_text("\n".join(problems) + "\n")
        context.close()
    failures = [p for p in problems if not p.startswith("#")]
    assert not failures, f"{len(failures)} problems (all in tests/artifacts/payloads-{group}.txt):\n" + "\n".join(failures[:60])
