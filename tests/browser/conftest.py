"""Fixtures for the browser tests: a real JupyterLab (one per comms-over-subshells mode) and a
headless Chromium (Debian's, never a Playwright download).

    @pytest.mark.browser
    def test_story(lab_server, page):
        write_notebook(lab_server.root, "story.ipynb", ["1 + 1"])
        open_notebook(page, lab_server.url, "story.ipynb")
        run_all(page)
        wait_for_output_text(page, 0, "2")
"""

from __future__ import annotations

import os
import pathlib
import shutil
from collections.abc import Callable, Iterator

import pytest

from .lab import (
    CHROMIUM,
    SUBSHELLS_OFF,
    SUBSHELLS_ON,
    LabServer,
    launch_chromium,
    screenshot,
    start_lab,
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = pathlib.Path(__file__).parent
    for item in items:
        if here in pathlib.Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def ollama_host() -> str | None:
    """OLLAMA_HOST for the kernels the lab starts. Override this fixture (e.g. to start
    ``ollama_nb.testing.Emulator`` for the session) to point the notebooks elsewhere."""
    return os.environ.get("OLLAMA_HOST")


# Package scope, not session: Playwright's sync API keeps an event loop running in this thread, so
# the browser and the labs end with the browser tests, and later tests may call asyncio.run().
@pytest.fixture(scope="package")
def _lab_servers(tmp_path_factory: pytest.TempPathFactory, ollama_host: str | None) -> Iterator[Callable[[str], LabServer]]:
    """At most one JupyterLab per subshell mode for the whole session, started on first use."""
    servers: dict[str, LabServer] = {}

    def get_or_start(mode: str) -> LabServer:
        if mode not in servers:
            root = tmp_path_factory.mktemp(f"lab-{mode}")
            env = {"OLLAMA_HOST": ollama_host} if ollama_host else {}
            servers[mode] = start_lab(root, comms_over_subshells=mode, env=env, log_name=f"lab-{mode}")
        return servers[mode]

    try:
        yield get_or_start
    finally:
        for server in servers.values():
            server.stop()


@pytest.fixture(params=[SUBSHELLS_ON, SUBSHELLS_OFF], ids=["subshells-on", "subshells-off"])
def lab_server(request: pytest.FixtureRequest, _lab_servers) -> LabServer:
    """A JupyterLab serving a fresh temp dir, once with comms over subshells on and once off:
    for stories whose behaviour could depend on how comm messages reach the kernel.

    ``.url``, ``.root``, ``.comms_over_subshells``, ``.log_path``.
    """
    return _lab_servers(request.param)


@pytest.fixture
def lab(_lab_servers) -> LabServer:
    """JupyterLab with its default settings (comms over subshells on), for stories that run once."""
    return _lab_servers(SUBSHELLS_ON)


@pytest.fixture(scope="package")
def browser():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM} (set OLLAMA_NB_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch_chromium(p)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser, request: pytest.FixtureRequest):
    """A fresh browser context and page; on failure, a screenshot lands in tests/artifacts/."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    pg = context.new_page()
    messages: list[str] = []
    pg.on("console", lambda m: messages.append(f"{m.type}: {m.text}"))
    pg.on("pageerror", lambda e: messages.append(f"pageerror: {e}"))
    pg.console_messages_ = messages  # type: ignore[attr-defined]
    try:
        yield pg
    finally:
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.failed:
            try:
                screenshot(pg, f"FAILED-{request.node.name}")
            except Exception:
                pass
            for line in messages[-50:]:
                print(line)
        context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    rep = yield
    setattr(item, f"rep_{rep.when}", rep)
    return rep
