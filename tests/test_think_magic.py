"""``%%ollama --think LEVEL``: a level is the model's to name. One its server lists in ``/api/show``
goes through (a newer download may bring one the fixed four lack); any other is refused before
anything is sent, with the model's own levels in the message."""

from __future__ import annotations

import pytest
from kernel_helpers import Kernel

from ollama_nb.testing import Emulator

pytestmark = pytest.mark.kernel

LEVELS = ["low", "medium", "high", "xhigh"]


@pytest.fixture(scope="module")
def emu():
    with Emulator(scenarios=True) as emulator:
        emulator.publish("deepseek-r1", thinking={"values": LEVELS, "default": "medium"})
        yield emulator


@pytest.fixture(scope="module")
def kernel(emu):
    with Kernel(env={"OLLAMA_HOST": emu.url}) as k:
        k.run("%load_ext ollama_nb").check()
        yield k


def chats(emu) -> list[dict]:
    return [r.json for r in emu.requests if r.path == "/api/chat"]


def test_a_level_the_pulled_model_lists_is_sent(kernel, emu):
    kernel.run("%ollama pull deepseek-r1").check()
    kernel.run("%%ollama -m deepseek-r1 --think XHIGH --chat levels\nWhat is 2 + 2?").check()
    assert chats(emu)[-1]["think"] == "xhigh"


@pytest.mark.parametrize(
    "line, message",
    [
        ("-m gpt-oss:20b --think xhigh", "think='xhigh' is not a level this model offers. The model lists 'low', 'medium', 'high'"),
        ("--compare deepseek-r1,gpt-oss:20b --think xhigh",
         "think='xhigh' is not a level this model offers. The model lists 'low', 'medium', 'high' (and True/False). (model 'gpt-oss:20b')"),
        ("-m llama3.2 --think xhigh", "think='xhigh' is not allowed"),  # lists none: the fixed four
    ],
)
def test_a_level_the_model_does_not_list_is_refused_before_sending(kernel, emu, line, message):
    sent = len(chats(emu))
    ex = kernel.run(f"%%ollama {line}\nhi")
    assert ex.status == "error" and ex.reply["content"]["ename"] == "UsageError"
    assert f"%%ollama: --think: {message}" in ex.stderr
    assert len(chats(emu)) == sent
