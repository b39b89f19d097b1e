"""Every failure row of the issue, in a real kernel: a short red message that says what to do,
the partial answer kept above it, no traceback; and Ctrl-C (the kernel's interrupt request)."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading

import pytest
from kernel_helpers import Kernel, extension_kernel, module_emulator, visible_text  # noqa: F401 - fixtures emu, kernel

from ollama_nb.testing import Emulator

pytestmark = pytest.mark.kernel

PARTIAL = "Here is the partial answer"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def error_html(ex) -> str:
    """The red message: an HTML output with the error class."""
    blocks = [d["content"]["data"]["text/html"] for d in ex.of("display_data", "update_display_data")
              if 'class="onb-error"' in d["content"]["data"].get("text/html", "")]
    assert blocks, [m["content"] for m in ex.iopub]
    return blocks[-1]


def turn_of(kernel, chat):
    return kernel.value(f"__import__('ollama_nb').Conversation.named({chat!r}).history()")[-1]


def assert_no_traceback(ex):
    assert ex.status == "ok" and not ex.errors and "Traceback" not in ex.all_text()


# -- before any answer: the error takes the answer's place --------------------------------------
def test_server_down(kernel):
    port = closed_port()
    ex = kernel.run(f"%%ollama -m llama3.2 --host 127.0.0.1:{port} --chat down\nhi")
    assert_no_traceback(ex)
    message = error_html(ex)
    assert f"Cannot reach Ollama at http://127.0.0.1:{port}" in message and "ollama serve" in message
    assert ex.final()["data"]["text/plain"].startswith("Cannot reach Ollama")  # in place of the answer
    assert turn_of(kernel, "down")["status"] == "failed"


def test_unknown_model_suggests_pull(kernel):
    ex = kernel.run("%%ollama -m nosuch-model --chat unknown\nhi")
    assert_no_traceback(ex)
    assert "<code>%ollama pull nosuch-model</code>" in error_html(ex)


def test_unauthorized_names_the_variable():
    with Emulator(key="sk-secret-for-401") as keyed, Kernel(env={"OLLAMA_HOST": keyed.url}) as k:
        k.run("%load_ext ollama_nb").check()
        ex = k.run("%%ollama -m llama3.2\nhi")
        assert_no_traceback(ex)
        message = error_html(ex)
        assert "unauthorized" in message and "OLLAMA_API_KEY" in message
        assert "sk-secret-for-401" not in ex.all_text()


# -- mid-stream: the partial answer stays, marked, and the message goes below it --------------
@pytest.mark.parametrize(
    "model, message",
    [
        ("error-midstream", "The server stopped with an error: llama runner process has terminated"),
        ("dropped", "was cut before the answer finished"),
        ("malformed", "a line that is not JSON"),
    ],
)
def test_mid_stream_failure_keeps_the_partial_answer(kernel, model, message):
    ex = kernel.run(f"%%ollama -m {model} --chat {model}\nhi")
    assert_no_traceback(ex)
    answer = ex.final()  # the answer display, final state
    assert visible_text(answer["data"]["text/html"]).startswith(PARTIAL)
    assert "partial answer (failed)" in visible_text(answer["data"]["text/html"])
    assert answer["metadata"]["ollama_nb"]["status"] == "failed"
    assert message in error_html(ex) and "partial answer is kept" in error_html(ex)
    displays = [d for d in ex.displays]
    assert 'class="onb-error"' in displays[-1]["content"]["data"]["text/html"]  # below the answer
    turn = turn_of(kernel, model)
    assert turn["status"] == "failed" and turn["assistant"] == PARTIAL


def test_stall_times_out_with_a_short_timeout(kernel, emu):
    kernel.run("%ollama config timeout=1").check()
    try:
        ex = kernel.run("%%ollama -m stall --chat stall\nhi", timeout=30)  # it never sends a 2nd chunk
    finally:
        kernel.run("%ollama config timeout=").check()
    assert_no_traceback(ex)
    assert "sent nothing for 1 s" in error_html(ex)
    assert visible_text(ex.final()["data"]["text/html"]).startswith(PARTIAL)
    assert emu.wait_for_disconnect(30)  # the stalled connection was closed, not left hanging


# -- interrupt -----------------------------------------------------------------------------------
def interrupt_after_first_update(kernel, code, cell_id):
    def on_message(msg, ex):
        if msg["header"]["msg_type"] == "update_display_data" and not getattr(ex, "_interrupted", False):
            ex._interrupted = True
            threading.Timer(0.3, kernel.km.interrupt_kernel).start()

    msg_id = kernel.send(code, cell_id)
    return kernel.collect(msg_id, timeout=60, on_message=on_message)


def test_interrupt_closes_the_stream_keeps_the_partial_and_stops_run_all(kernel, emu):
    ex = interrupt_after_first_update(kernel, "%%ollama -m slow --chat slow\nhello", "cell-slow")
    assert emu.wait_for_disconnect(30)  # the server saw the client go away
    assert ("/api/chat", "slow") in emu.disconnects
    # The execute reply is an error, so "Run All" stops here...
    assert ex.status == "error" and ex.reply["content"]["ename"] == "KeyboardInterrupt"
    # ...shown as one line, not a traceback wall.
    assert len(ex.errors) == 1 and len(ex.errors[0]["content"]["traceback"]) == 1
    assert "partial answer is kept" in ex.errors[0]["content"]["traceback"][0]
    final = ex.final()
    partial = final["data"]["text/plain"].split("\n\n")[0]
    assert 2 < len(partial.split()) < 200  # some tokens, not the whole 200
    assert "partial answer (interrupted)" in visible_text(final["data"]["text/html"])
    assert final["metadata"]["ollama_nb"]["status"] == "interrupted"
    turn = turn_of(kernel, "slow")
    assert turn["status"] == "interrupted" and turn["assistant"] == partial
    # The conversation stays consistent: the next turn sends the partial answer as history.
    kernel.run("%%ollama -m llama3.2 --chat slow\nWhat did I ask before?").check()
    messages = [r for r in emu.requests if r.path == "/api/chat"][-1].json["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"] and messages[1]["content"] == partial


# -- terminal IPython ----------------------------------------------------------------------------
def test_terminal_ipython_prints_tokens(emu):
    script = "get_ipython().run_line_magic('load_ext', 'ollama_nb')\nget_ipython().run_cell_magic('ollama', '-m llama3.2 -o seed=1', 'Say hello.')"
    proc = subprocess.run(
        [sys.executable, "-m", "IPython", "--no-banner", "--colors=nocolor", "-c", script],
        capture_output=True, text=True, timeout=60, env={**__import__("os").environ, "OLLAMA_HOST": emu.url},
    )
    assert proc.returncode == 0, proc.stderr
    assert "Good question" in proc.stdout or len(proc.stdout.split()) > 10
    assert "llama3.2 ·" in proc.stdout and "tok/s" in proc.stdout  # the footer
    assert "<IPython.core.display" not in proc.stdout and "text/markdown" not in proc.stdout
