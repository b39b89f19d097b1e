"""Shared fixtures: the emulator on loopback, and OLLAMA_HOST for kernels the suite starts.

Kernels started by nbval, nbclient or JupyterLab inherit this process's environment, so the session
emulator is started at configure time and OLLAMA_HOST points at it — unless OLLAMA_HOST is already
set, in which case the notebooks run against that server (a real Ollama) unchanged.

Under pytest-xdist (``./dev test`` runs two workers) each worker is a session of its own: its own
emulator and log file, so one worker's models, requests and turns never show in the other's.
"""

from __future__ import annotations

import os
import tempfile

import pytest

from ollama_nb.testing import Emulator
from ollama_nb.testing._emulator import SCENARIOS_ENV

_session_emulator: Emulator | None = None


def _xdist_controller(config: pytest.Config) -> bool:
    """The process that only hands tests to xdist workers (it runs none, so it needs no emulator;
    the workers it starts inherit its environment, which must not name an emulator of its own)."""
    return bool(getattr(config.option, "numprocesses", None)) and not hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    global _session_emulator
    if _xdist_controller(config):
        return
    # Tests reproduce failures with the scenario models (slow, stall, hostile, ...): every emulator
    # this suite starts, in this process or a child, installs them. The demo never does.
    os.environ[SCENARIOS_ENV] = "1"
    # The log goes to a folder of this run, never the user's Jupyter data dir: kernels, nbval and
    # JupyterLab started by the suite inherit the variable. A test that needs its own file sets it.
    os.environ["OLLAMA_NB_STORE"] = os.path.join(tempfile.mkdtemp(prefix="ollama_nb_store_"), "log.db")
    if not os.environ.get("OLLAMA_HOST"):
        _session_emulator = Emulator(scenarios=True)
        _session_emulator.start()
        os.environ["OLLAMA_HOST"] = _session_emulator.url
        os.environ.setdefault("OLLAMA_NB_MODEL", "llama3.2")


@pytest.hookimpl(tryfirst=True)  # before xdist's loadgroup reads the marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """How ./dev test's two xdist workers share the suite (``--dist loadgroup``): every browser
    test in one group, run in order by one worker (one Chromium and the shared JupyterLabs, as in a
    serial run), and every other file a group of its own (its module's kernel started once, a
    notebook's cells in order in one kernel)."""
    browser = config.rootpath / "tests" / "browser"
    for item in items:
        path = item.path
        group = "browser" if browser in path.parents else str(path.relative_to(config.rootpath))
        item.add_marker(pytest.mark.xdist_group(group))


def pytest_report_header(config: pytest.Config) -> str:
    # ./dev test runs the kernel-routing tests on two ipykernels: say which one this run has.
    import ipykernel

    return f"ipykernel {ipykernel.__version__} (the kernels these tests start run it too)"


def pytest_unconfigure(config: pytest.Config) -> None:
    if _session_emulator is not None:
        _session_emulator.stop()


@pytest.fixture
def emu():
    """A fresh emulator for one test: its own model list, request log and disconnect record."""
    with Emulator(scenarios=True) as emulator:
        yield emulator


@pytest.fixture
def client(emu):
    from ollama_nb import Client

    with Client(emu.url) as c:
        yield c
