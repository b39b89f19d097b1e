"""The context meter: every %%ollama cell is a turn of one conversation, so the prompt grows; the
footer says how full the runner's context is, and warns (with what to do) before the emulator, like
Ollama, starts dropping the oldest turns."""

from __future__ import annotations

import pytest
from kernel_helpers import Kernel, extension_kernel, module_emulator  # noqa: F401 - fixtures emu, kernel

from ollama_nb import Client
from ollama_nb.context import ContextUse, measure

pytestmark = pytest.mark.kernel

LONG = "Tell me about tea. " + "Please consider every detail of the question carefully. " * 12


def meta(ex):
    return ex.final()["metadata"]["ollama_nb"]


def test_footer_shows_context_and_warns_before_turns_are_dropped(kernel):
    code = "%%ollama -m llama3.2 --chat ctx -o num_ctx=600\n" + LONG
    first = kernel.run(code).check()
    used = meta(first)["context"]
    assert used["window"] == 600 and 0 < used["used"] < 600 and not used["warn"]
    assert f"context {used['used']}/600" in first.final()["data"]["text/plain"]

    warned = None
    for _ in range(8):
        ex = kernel.run(code).check()
        if meta(ex)["context"]["warn"]:
            warned = ex
            break
    assert warned is not None, "the meter never warned although the conversation kept growing"
    text = warned.final()["data"]["text/plain"]
    assert "drops the oldest turns" in text and "%%ollama --new" in text and "-o num_ctx=1200" in text
    assert "<code>%%ollama --new</code>" in warned.final()["data"]["text/html"]
    # Once past it, the server really drops turns: the prompt it counts stays within the window.
    for _ in range(3):
        ex = kernel.run(code).check()
        assert ex.final()["metadata"]["ollama_nb"]["stats"]["prompt_eval_count"] <= 600


def test_without_num_ctx_the_window_is_the_loaded_runners(kernel, emu):
    ex = kernel.run("%%ollama -m llama3.2 --chat ctx-default --new\nhello").check()
    assert meta(ex)["context"]["window"] == 4096  # the emulator's default, read from /api/ps


def test_cloud_models_run_at_their_maximum(emu):
    emu.set_cloud("signed-in")
    try:
        client = Client(emu.url)
        reply = client.chat("gpt-oss:120b-cloud", [{"role": "user", "content": "hi"}])
        use = measure(client, reply, {})
        assert use is not None and use.window == 131072 and use.maximum == 131072
    finally:
        emu.set_cloud("signed-out")


def test_advice_offers_more_room_only_up_to_the_models_maximum():
    assert "-o num_ctx=8192" in ContextUse(3500, 4096, 131072).advice()
    assert "num_ctx" not in ContextUse(4000, 4096, 4096).advice()
    assert ContextUse(4095, 4096, None).advice().count("is full") == 1
    assert ContextUse(100, 4096).short() == "context 100/4.1k"
