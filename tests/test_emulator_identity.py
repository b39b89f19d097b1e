"""The emulator says what it is when asked, so ``%ollama doctor`` names it without scenario models
(issue 23): ``./dev lab``'s emulator installs none, and doctor used to call it "Ready"."""

from __future__ import annotations

import pytest
import requests
from kernel_helpers import Kernel

from ollama_nb._identity import HEADER, NAME, VERSION_FIELD, emulator_name
from ollama_nb.testing import Emulator


def shown(ex) -> str:
    return "\n".join(d["content"]["data"].get("text/plain", "") for d in ex.displays)


def test_version_and_every_answer_name_the_emulator():
    with Emulator(scenarios=False) as emu:
        version = requests.get(emu.url + "/api/version", timeout=10)
        assert version.json()[VERSION_FIELD] == NAME and version.json()["version"]
        assert emulator_name(version.json()) == NAME
        for path in ("/", "/api/tags", "/no/such/route"):
            assert requests.get(emu.url + path, timeout=10).headers[HEADER] == NAME


def test_a_real_servers_version_is_not_the_emulator():
    for answer in ({"version": "0.13.0"}, {}, {"version": "1", VERSION_FIELD: "something else"}, [], "x", None):
        assert emulator_name(answer) == ""


@pytest.mark.kernel
def test_doctor_names_the_emulator_dev_lab_starts():
    # The command line ./dev lab runs: demo catalogue only, no scenario models.
    with Emulator(process=True, scenarios=False, load_delay=1, cloud="signed-in") as emu, \
            Kernel(env={"OLLAMA_HOST": emu.url}) as kernel:
        kernel.run("%load_ext ollama_nb").check()
        assert "stall:latest" not in emu.model_names()
        text = shown(kernel.run("%ollama doctor").check())
    assert "! host reachable:" in text and "is the built-in emulator (ollama_nb.testing), not a real Ollama" in text


@pytest.mark.kernel
def test_doctor_calls_a_server_without_the_field_real_even_with_scenario_models():
    with Emulator(scenarios=True) as emu, Kernel(env={"OLLAMA_HOST": emu.url}) as kernel:
        kernel.run("%load_ext ollama_nb").check()
        emu.answer_next("/api/version", b'{"version":"0.13.0"}')
        text = shown(kernel.run("%ollama doctor").check())
    assert "✓ host reachable:" in text and "built-in emulator" not in text
