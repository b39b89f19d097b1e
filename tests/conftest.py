"""Shared fixtures: the emulator on loopback, and OLLAMA_HOST for kernels the suite starts.

Kernels started by nbval, nbclient or JupyterLab inherit this process's environment, so the session
emulator is started at configure time and OLLAMA_HOST points at it — unless OLLAMA_HOST is already
set, in which case the notebooks run against that server (a real Ollama) unchanged.

``./dev test`` runs the browser tests and the rest as two pytest sessions at once: each starts its
own emulator and log file here, so one half's models, requests and turns never show in the other's.
"""

from __future__ import annotations

import os
import signal
import tempfile

import pytest

from ollama_nb.testing import Emulator
from ollama_nb.testing._emulator import SCENARIOS_ENV

_session_emulator: Emulator | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _session_emulator
    # A suite started in the background by a non-interactive shell (./dev test's browser half, CI
    # run with `&`) inherits SIGINT ignored: Ctrl-C would not stop it, and the tests that interrupt
    # the main thread as a kernel does would see nothing. Python's own handler, as in a terminal.
    signal.signal(signal.SIGINT, signal.default_int_handler)
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
