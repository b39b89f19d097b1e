"""The context meter: every %%ollama cell is a turn of one conversation, so the prompt grows; the
footer says how full the runner's context is, and warns (with what to do) before the emulator, like
Ollama, starts dropping the oldest turns."""

from __future__ import annotations

import pytest
from kernel_helpers import Kernel, extension_kernel, module_emulator  # noqa: F401 - fixtures emu, kernel

from ollama_nb import Client
from ollama_nb._context import ContextUse, measure
from ollama_nb.testing import Emulator

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


def test_the_models_maximum_is_asked_again_once_its_digest_changes():
    with Emulator(scenarios=True) as own:
        client = Client(own.url)

        def answer_and_measure():
            reply = client.chat("markdown", [{"role": "user", "content": "hi"}])
            return measure(client, reply, {}), sum(r.path == "/api/show" for r in own.requests)

        (first, shows), (second, shows_after) = answer_and_measure(), answer_and_measure()
        assert first.maximum == second.maximum == 8192 and shows == shows_after == 1  # cached
        client.create("markdown", from_="markdown", system="Be brief.")  # the same name, a new digest
        third, shows = answer_and_measure()
        assert third.maximum == 8192 and shows == 2


def test_advice_offers_more_room_only_up_to_the_models_maximum():
    assert "-o num_ctx=8192" in ContextUse(3500, 4096, 131072).advice()
    assert "num_ctx" not in ContextUse(4000, 4096, 4096).advice()
    assert ContextUse(4095, 4096, None).advice().count("is full") == 1
    assert ContextUse(100, 4096).short() == "context 100/4.1k"


# -- the meter's requests: asked while the answer streams, never holding it up --------------------
def paths(emu, path):
    return sum(r.path == path for r in emu.requests)


def test_the_meter_asks_while_the_answer_streams_not_after_its_last_chunk(kernel, emu):
    # A model this kernel has not measured yet: the meter needs both /api/ps and /api/show.
    shows, pss = paths(emu, "/api/show"), paths(emu, "/api/ps")
    last_chunk = emu.hold("/api/chat", at="done")
    msg_id = kernel.send("%%ollama -m qwen3 --no-think --chat ctx-concurrent\nhello")
    try:
        assert last_chunk.reached.wait(60), "the answer never got to its last chunk"
        # The answer's last chunk is still held by the server: had the meter waited for it, its
        # requests could not have arrived yet.
        assert emu.wait_for_request("/api/ps", pss + 1, timeout=60), "/api/ps was not asked while the answer streamed"
        assert emu.wait_for_request("/api/show", shows + 1, timeout=60), "/api/show was not asked while the answer streamed"
    finally:
        last_chunk.release()
    ex = kernel.collect(msg_id).check()
    used = meta(ex)["context"]
    assert used["window"] == 4096 and used["maximum"] == 40960  # /api/ps's runner, /api/show's maximum
    assert f"context {used['used']}/4.1k" in ex.final()["data"]["text/plain"]
    # The model's maximum is asked once per model and digest; the runner's window every answer.
    again = kernel.run("%%ollama -m qwen3 --no-think --chat ctx-concurrent\nand again").check()
    assert meta(again)["context"]["maximum"] == 40960
    assert paths(emu, "/api/show") == shows + 1 and paths(emu, "/api/ps") == pss + 2


def test_a_meter_lookup_the_server_holds_neither_delays_nor_drops_the_answer(kernel, emu):
    held = emu.hold("/api/ps")
    try:
        ex = kernel.run("%%ollama -m llama3.2 --chat ctx-held\nhello").check()
        # The cell is over, and the meter's request was made: the server holds it still.
        assert held.reached.wait(60), "the meter never asked /api/ps"
        final = ex.final()
        assert final["metadata"]["ollama_nb"]["status"] == "done" and "context" not in final["metadata"]["ollama_nb"]
        answer = final["data"]["text/plain"]
        text, footer = answer.rsplit("\n\n", 1)
        assert text.strip() and footer.startswith("llama3.2 · ") and "tokens" in footer and "context" not in footer
        turn = kernel.value("__import__('ollama_nb').Conversation.named('ctx-held').history()")[-1]
        assert turn["status"] == "done" and turn["assistant"] == answer.rsplit("\n\n", 1)[0]
    finally:
        held.release()


def test_a_failed_meter_lookup_leaves_only_the_meter_out(kernel, emu):
    emu.answer_next("/api/ps", b'{"error":"ps is broken"}', status=500)
    emu.answer_next("/api/show", b"<html>not an ollama server</html>", status=502, content_type="text/html")
    ex = kernel.run("%%ollama -m markdown --chat ctx-failed\nhello").check()
    assert not ex.errors and "Traceback" not in ex.all_text()
    final = ex.final()
    assert final["metadata"]["ollama_nb"]["status"] == "done" and "context" not in final["metadata"]["ollama_nb"]
    assert "tokens" in final["data"]["text/plain"].rsplit("\n\n", 1)[-1]
    # The failure is not remembered: the next answer has its meter.
    ex = kernel.run("%%ollama -m markdown --chat ctx-failed\nhello again").check()
    assert meta(ex)["context"]["window"] > 0


# Notes when the magic starts waiting for the meter, so the test interrupts exactly there.
WAIT_PROBE = """
from ollama_nb import _context as _ctx
_ctx_result, _ctx_wait = _ctx.Lookup.result, _ctx.LOOKUP_WAIT
def _probe(self, timeout=None):
    print('__meter_wait__', flush=True)
    return _ctx_result(self, timeout)
_ctx.Lookup.result, _ctx.LOOKUP_WAIT = _probe, 600.0
"""


def test_ctrl_c_while_the_footer_waits_for_the_meter_keeps_the_whole_answer(kernel, emu):
    kernel.run(WAIT_PROBE).check()
    held = emu.hold("/api/ps")
    try:
        def on_message(msg, ex):
            if msg["header"]["msg_type"] == "stream" and "__meter_wait__" in msg["content"]["text"]:
                kernel.km.interrupt_kernel()

        ex = kernel.collect(kernel.send("%%ollama -m llama3.2 --chat ctx-ctrl-c\nhello"), on_message=on_message)
    finally:
        held.release()
        kernel.run("_ctx.Lookup.result, _ctx.LOOKUP_WAIT = _ctx_result, _ctx_wait").check()
    # "Run All" stops here, with one line, not a traceback...
    assert ex.status == "error" and ex.reply["content"]["ename"] == "KeyboardInterrupt"
    assert len(ex.errors) == 1 and "context meter was left out" in ex.errors[0]["content"]["traceback"][0]
    # ...and the answer, which was complete, is shown and recorded whole, only without the meter.
    final = ex.final()
    assert final["metadata"]["ollama_nb"]["status"] == "done" and "context" not in final["metadata"]["ollama_nb"]
    turn = kernel.value("__import__('ollama_nb').Conversation.named('ctx-ctrl-c').history()")[-1]
    assert turn["status"] == "done" and turn["assistant"] == final["data"]["text/plain"].rsplit("\n\n", 1)[0]
