"""Drive a real JupyterLab in headless Chromium (helpers for the browser tests).

A user story in a test reads::

    path = write_notebook(lab.root, "counter.ipynb", ["w = Counter(); w", "print(w.value)"])
    open_notebook(page, lab.url, "counter.ipynb")
    run_all(page)
    cell_output_locator(page, 0).locator("button").click()
    run_cell(page, 1)
    wait_for_output_text(page, 1, "1")

The server is started with ``--expose-app-in-browser``, so the helpers run JupyterLab's own
commands through ``window.jupyterapp`` instead of clicking through menus (faster, and immune to
layout changes). Everything is on 127.0.0.1; Chromium resolves no other host.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import nbformat
from playwright.sync_api import Browser, Page, Playwright, expect
from waiting import wait_until

PROJECT = pathlib.Path(__file__).resolve().parents[2]
ARTIFACTS = PROJECT / "tests" / "artifacts"
CHROMIUM = os.environ.get("OLLAMA_NB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Only loopback is reachable: any other host fails to resolve, so a stray CDN or
    # telemetry request fails fast instead of hanging a test.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
]

# JupyterLab's setting "Kernel Comms over subshells"
# (@jupyterlab/apputils-extension:kernels-settings -> commsOverSubshells). The page applies it
# to window.jupyterapp.serviceManager.kernels.commsOverSubshells.
SUBSHELLS_ON = "perCommTarget"  # JupyterLab's default
SUBSHELLS_OFF = "disabled"

# Overrides of JupyterLab's defaults (an app-settings-dir overrides.json), so the page is clean
# and the same every run: no news or update check, no toasts over the cells, every cell in the
# DOM (no windowing) so cell N is the N-th .jp-Cell.
BASE_OVERRIDES: dict[str, dict[str, Any]] = {
    "@jupyterlab/apputils-extension:notification": {
        "fetchNews": "false",
        "checkForUpdates": False,
        "doNotDisturbMode": True,
    },
    "@jupyterlab/notebook-extension:tracker": {
        "windowingMode": "none",
        "autoStartDefaultKernel": True,
    },
    "@jupyterlab/docmanager-extension:plugin": {"autosave": False},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LabServer:
    """A running JupyterLab: ``url`` (no trailing slash), ``root`` (the notebook directory)."""

    url: str
    root: pathlib.Path
    comms_over_subshells: str
    log_path: pathlib.Path
    proc: subprocess.Popen[bytes]
    home: pathlib.Path
    _log: Any = field(repr=False, default=None)

    def stop(self) -> None:
        if self.proc.poll() is None:
            # SIGTERM: jupyter-server shuts its kernels down on the way out.
            with contextlib.suppress(ProcessLookupError):
                self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self._log:
            self._log.close()
        shutil.rmtree(self.home, ignore_errors=True)


def start_lab(
    root: pathlib.Path | str,
    *,
    comms_over_subshells: str = SUBSHELLS_ON,
    env: dict[str, str] | None = None,
    log_name: str = "lab",
    overrides: dict[str, dict[str, Any]] | None = None,
    app: str = "lab",
    stock: bool = False,
) -> LabServer:
    """Start ``jupyter lab`` (``app="notebook"``: Notebook 7) on a free loopback port, serving
    ``root``; wait for /api/status.

    Settings, workspaces, config and runtime files live in a fresh temp dir, so nothing from
    ~/.jupyter leaks in and no workspace is restored. ``env`` is added to this process's env.
    ``stock``: the installation's own app settings (a user's pip-installed Jupyter), the test's
    settings written as user settings instead.
    """
    root = pathlib.Path(root)
    root.mkdir(parents=True, exist_ok=True)
    home = pathlib.Path(tempfile.mkdtemp(prefix="onb-lab-"))
    app_settings = home / "app-settings"
    app_settings.mkdir()
    merged = {k: dict(v) for k, v in BASE_OVERRIDES.items()}
    merged.setdefault("@jupyterlab/apputils-extension:kernels-settings", {})[
        "commsOverSubshells"
    ] = comms_over_subshells
    for plugin, values in (overrides or {}).items():
        merged.setdefault(plugin, {}).update(values)
    if stock:
        # The installation's own defaults (overrides.d of the packages installed) stay in force:
        # the test's settings are the user's, as if set in Settings.
        for plugin, values in merged.items():
            package, name = plugin.rsplit(":", 1)
            path = home / "user-settings" / package / f"{name}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
    else:
        (app_settings / "overrides.json").write_text(json.dumps(merged, indent=2))

    port = free_port()
    child_env = dict(os.environ)
    child_env.update(
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(home / "user-settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
        IPYTHONDIR=str(home / "ipython"),
        PYTHONUNBUFFERED="1",
        # kernels import this checkout's ollama_nb even when it is not pip-installed
        PYTHONPATH=os.pathsep.join(filter(None, [str(PROJECT), os.environ.get("PYTHONPATH")])),
    )
    child_env.update(env or {})
    cmd = [
        sys.executable,
        "-m",
        "jupyter",
        app,
        "--no-browser",
        "--allow-root",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.token=",
        "--ServerApp.password=",
        "--ServerApp.disable_check_xsrf=True",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.terminals_enabled=False",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.expose_app_in_browser=True",
        "--JupyterNotebookApp.expose_app_in_browser=True",
        *([] if stock else [f"--LabApp.app_settings_dir={app_settings}"]),
        # a kernel left busy by a failed test must not keep the server from stopping
        "--ServerApp.shutdown_no_activity_timeout=0",
    ]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log_path = ARTIFACTS / f"{log_name}.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed by LabServer.stop
    proc = subprocess.Popen(
        cmd, stdout=log, stderr=subprocess.STDOUT, env=child_env, cwd=root, start_new_session=True
    )
    server = LabServer(
        url=f"http://127.0.0.1:{port}",
        root=root,
        comms_over_subshells=comms_over_subshells,
        log_path=log_path,
        proc=proc,
        home=home,
        _log=log,
    )
    def answers() -> bool:
        if proc.poll() is not None:
            server.stop()
            raise RuntimeError(f"jupyter lab exited with {proc.returncode}; see {log_path}")
        try:
            with urllib.request.urlopen(f"{server.url}/api/status", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    try:
        wait_until(answers, f"jupyter lab to answer /api/status (log: {log_path})", interval=0.1)
    except AssertionError:
        server.stop()
        raise
    return server


def launch_chromium(playwright: Playwright, *, headless: bool = True) -> Browser:
    """Debian's Chromium (never a Playwright download), with a fresh temporary profile."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM, headless=headless, args=CHROMIUM_ARGS
    )


# ---------------------------------------------------------------------------- notebooks


def write_notebook(root: pathlib.Path | str, name: str, cells: list[str]) -> pathlib.Path:
    """Write a notebook (nbformat v4, python3 kernel) of code cells; Markdown cells start with
    ``"%% md\\n"``. Returns its path."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for source in cells:
        if source.startswith("%% md\n"):
            nb.cells.append(nbformat.v4.new_markdown_cell(source.removeprefix("%% md\n")))
        else:
            nb.cells.append(nbformat.v4.new_code_cell(source))
    path = pathlib.Path(root) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def _auto_dismiss(page: Page) -> None:
    """Close JupyterLab dialogs (kernel selection, build recommended, ...) whenever one would
    block an action: accept the default choice."""
    if getattr(page, "_onb_dismiss", False):
        return
    page._onb_dismiss = True  # type: ignore[attr-defined]

    def handle(dialog: Any) -> None:
        accept = dialog.locator(".jp-mod-accept")
        if accept.count():
            accept.first.click()
        else:
            page.keyboard.press("Escape")

    page.add_locator_handler(page.locator(".jp-Dialog"), handle)
    page.on("dialog", lambda d: d.dismiss())  # native beforeunload / alert


_CURRENT = """
(name) => {
  const app = window.jupyterapp;
  const w = app && app.shell.currentWidget;
  if (!w || !w.context || !w.sessionContext || w.context.path !== name) return false;
  if (!w.context.isReady || !w.content || w.content.widgets.length === 0) return false;
  const k = w.sessionContext.session && w.sessionContext.session.kernel;
  return !!k && k.status === 'idle' && k.connectionStatus === 'connected';
}
"""


def open_notebook(page: Page, lab_url: str, name: str, *, timeout: float = 60_000) -> None:
    """Open ``name`` (relative to the server root) in a fresh workspace and wait until its
    kernel is connected and idle."""
    _auto_dismiss(page)
    page.goto(f"{lab_url}/lab/tree/{name}?reset", wait_until="domcontentloaded")
    page.wait_for_function(_CURRENT, arg=name, timeout=timeout, polling=100)
    # more room for the cells; nothing in the file browser is needed
    page.evaluate("() => window.jupyterapp.shell.collapseLeft()")
    close_notifications(page)


def close_notifications(page: Page) -> None:
    """Dismiss any toast (they can cover cell outputs in screenshots)."""
    page.evaluate(
        """() => { for (const b of document.querySelectorAll('.Toastify__close-button')) b.click(); }"""
    )


def comms_over_subshells(page: Page) -> str:
    """The comms-over-subshells mode the page's kernel manager actually uses."""
    return page.evaluate("() => window.jupyterapp.serviceManager.kernels.commsOverSubshells")


def kernel_idle(page: Page, *, timeout: float = 30_000) -> None:
    page.wait_for_function(
        """() => { const w = window.jupyterapp.shell.currentWidget;
                   const k = w && w.sessionContext.session && w.sessionContext.session.kernel;
                   return !!k && k.status === 'idle'; }""",
        timeout=timeout,
        polling=50,
    )


def run_all(page: Page, *, wait: bool = True, timeout: float = 60_000) -> None:
    """Run every cell of the current notebook; with ``wait``, return once all have run."""
    script = "() => window.jupyterapp.commands.execute('notebook:run-all-cells')"
    if wait:
        page.evaluate(f"async () => {{ await ({script})(); }}")
        kernel_idle(page, timeout=timeout)
    else:
        page.evaluate(f"() => {{ ({script})(); }}")


def run_cell(page: Page, index: int, *, wait: bool = True, timeout: float = 60_000) -> None:
    """Run cell ``index`` (0-based) without moving on; with ``wait``, return once it has run."""
    script = """async ([i, wait]) => {
      const app = window.jupyterapp;
      const nb = app.shell.currentWidget.content;
      nb.deselectAll();
      nb.activeCellIndex = i;
      const done = app.commands.execute('notebook:run-cell');
      if (wait) await done;
    }"""
    page.evaluate(script, [index, wait])
    if wait:
        kernel_idle(page, timeout=timeout)


def cell_locator(page: Page, index: int):
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell").nth(index)


def cell_output_locator(page: Page, index: int):
    """The output area of cell ``index`` (0-based)."""
    return cell_locator(page, index).locator(".jp-OutputArea")


def wait_for_output_text(
    page: Page, cell_index: int, text: str | re.Pattern[str], timeout: float = 30_000
) -> None:
    """Wait until cell ``cell_index``'s output contains ``text`` (a string or a regex)."""
    expect(cell_output_locator(page, cell_index)).to_contain_text(text, timeout=timeout)


def after_frames(page: Page, frames: int = 2) -> None:
    """Return once the page has rendered ``frames`` more frames and run the tasks queued before
    them: whatever a message just handed to a view has been drawn (views draw on animation
    frames). An event to wait on, not a delay."""
    page.evaluate(
        """(n) => new Promise((done) => {
             const step = (left) => left ? requestAnimationFrame(() => step(left - 1)) : setTimeout(done, 0);
             step(n);
           })""",
        frames,
    )


def msg_type(payload: str | bytes) -> str:
    """The header's msg_type of one kernel websocket frame: JSON text, or JupyterLab's binary
    v1.kernel.websocket.jupyter.org framing (offsets, then channel, header, parent header, ...)."""
    try:
        if isinstance(payload, str):
            return str(json.loads(payload)["header"]["msg_type"])
        count = int.from_bytes(payload[:8], "little")
        offsets = [int.from_bytes(payload[8 * (i + 1) : 8 * (i + 2)], "little") for i in range(count)]
        return str(json.loads(payload[offsets[1] : offsets[2]])["msg_type"])
    except (ValueError, KeyError, IndexError, TypeError):
        return ""


class KernelFrames:
    """Counts what the page receives on its kernel websockets: ``comm_msg`` frames (each one update
    a widget view handles: a delta, a patch, a trait update) and their bytes, and
    ``update_display_data`` frames (an output refreshed, e.g. a widget's static copy)."""

    def __init__(self, page: Page) -> None:
        self.count = 0
        self.bytes = 0
        self.displays = 0
        page.on("websocket", lambda ws: ws.on("framereceived", self._frame))

    def _frame(self, payload: str | bytes) -> None:
        kind = msg_type(payload)
        if kind == "comm_msg":
            self.count += 1
            self.bytes += len(payload)
        elif kind == "update_display_data":
            self.displays += 1


def screenshot(page: Page, name: str, *, full_page: bool = False) -> pathlib.Path:
    """Save a PNG of the page as tests/artifacts/<name>.png and return its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^\w.-]+", "_", name)
    path = ARTIFACTS / f"{safe}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def stop_kernel(page: Page) -> None:
    """Shut down the current notebook's kernel (so a session server does not pile them up)."""
    page.evaluate(
        """async () => { const w = window.jupyterapp.shell.currentWidget;
             if (w && w.sessionContext) await w.sessionContext.shutdown(); }"""
    )


def set_theme(page: Page, theme: str = "JupyterLab Dark", *, timeout: float = 30_000) -> None:
    """Switch JupyterLab's theme ("JupyterLab Light" / "JupyterLab Dark") and wait until the
    new theme is applied and its splash screen is gone."""
    light = "true" if "Light" in theme else "false"
    page.evaluate("(t) => window.jupyterapp.commands.execute('apputils:change-theme', {theme: t})", theme)
    page.wait_for_function(f"() => document.body.dataset.jpThemeLight === '{light}'", timeout=timeout)
    page.locator("#jupyterlab-splash").wait_for(state="detached", timeout=timeout)


#: A made-up origin for pages that load a widget bundle without JupyterLab; never contacted,
#: since page.route answers every request.
BUNDLE_ORIGIN = "http://127.0.0.1:9"
#: The one stand-in for anywidget's model in pages that drive a bundle outside a kernel.
FAKE_MODEL = pathlib.Path(__file__).with_name("fake_model.js")


def open_bundle_page(page: Page, name: str, html: str, *, script: pathlib.Path | None = None) -> Page:
    """Serve ``html`` with the committed ``static/<name>.js|css`` at a made-up origin, open it, and
    wait for ``window.ready``: a widget view rendered with a stand-in model, as anywidget would
    (``/fake_model.js``'s ``FakeModel``, the one every such page uses). ``script``: another build
    of ``<name>.js`` instead (a benchmark's before)."""
    from ollama_nb._widgets._assets import css, esm

    files = {
        "/": (html.encode(), "text/html"),
        "/fake_model.js": (FAKE_MODEL.read_bytes(), "text/javascript"),
        f"/{name}.js": ((script or esm(name)).read_bytes(), "text/javascript"),
        f"/{name}.css": (css(name).read_bytes(), "text/css"),
    }

    def handle(route: Any) -> None:
        path = route.request.url.removeprefix(BUNDLE_ORIGIN) or "/"
        body, ctype = files.get(path, (b"", "text/plain"))
        route.fulfill(status=200 if path in files else 404, body=body, content_type=ctype)

    page.route("**/*", handle)
    page.goto(BUNDLE_ORIGIN + "/")
    page.wait_for_function("window.ready === true")
    return page

