"""Stop and Cancel reach a real kernel while a cell is blocked in ``chat.ask()`` / ``browser.pull()``.

This test process plays JupyterLab with comms over subshells: it makes a kernel subshell and sends
the view's custom messages with that ``subshell_id``, on the shell channel, while the main shell
runs the blocking cell. ipykernel 7.1 routes them by that id itself; 7.4 would send them to the main
shell, behind the cell, unless ollama_nb._widgets._kernel keeps them where the view sent them.
``./dev test`` runs this file against the newest ipykernel and again in a virtualenv with the oldest
one the project supports (pyproject.toml's floor); each run checks it took the path its version needs.
The browser stories (tests/browser/test_chat.py, test_models.py) check the same through JupyterLab.
"""

from __future__ import annotations

import re

import pytest
from kernel_helpers import Kernel, module_emulator  # noqa: F401 - fixture emu (one per module)
from waiting import wait_until

pytestmark = pytest.mark.kernel


@pytest.fixture(scope="module")
def kernel(emu):
    with Kernel(env={"OLLAMA_HOST": emu.url}) as k:
        k.run("import ipykernel\nfrom ollama_nb import ChatWidget, ModelBrowser\nfrom ollama_nb._widgets import _kernel").check()
        yield k


@pytest.fixture(scope="module")
def subshell(kernel) -> str:
    return kernel.create_subshell()


def expected_routing(kernel: Kernel) -> str:
    """The path ollama_nb must take on the kernel's ipykernel (see _kernel's module docstring)."""
    version = tuple(kernel.value("list(map(int, ipykernel.__version__.split('.')[:2]))"))
    return "kept" if version >= (7, 4) else "by-header"


def comm_of(kernel: Kernel, widget: str) -> tuple[str, str]:
    """The comm id of ``widget`` (a name in the kernel) and how its view messages are routed."""
    comm_id, routing = kernel.run(f"print({widget}.model_id, _kernel.routing({widget}.comm))").check().stdout.split()
    return comm_id, routing


def left(emu, before: int) -> list[tuple[str, str]]:
    """The disconnects after the first ``before``, once there is one. The emulator records a client
    leaving when its next write fails (the slow model's next token), which can come after the cell
    has ended: asserting at once raced that write on a loaded machine."""
    wait_until(lambda: len(emu.disconnects) > before, "the emulator to see the client leave")
    return emu.disconnects[before:]


def is_custom(comm_id: str, kind: str) -> object:
    def match(msg: dict) -> bool:
        content = msg["content"]
        return (msg["header"]["msg_type"] == "comm_msg" and content.get("comm_id") == comm_id
                and content["data"].get("method") == "custom" and content["data"]["content"].get("type") == kind)
    return match


def test_stop_over_the_views_subshell_stops_a_cell_blocked_in_ask(kernel, subshell, emu):
    kernel.run("chat = ChatWidget(model='slow')").check()
    comm_id, routing = comm_of(kernel, "chat")
    assert routing == expected_routing(kernel)
    before = len(emu.disconnects)
    msg_id = kernel.send("reply = chat.ask('Count slowly.')\nprint('status:', reply.status, len(reply.content.split()))")
    kernel.wait_iopub(is_custom(comm_id, "delta"), what="delta of the answer")  # it is streaming
    kernel.comm_send(comm_id, {"type": "stop"}, subshell)
    ex = kernel.collect(msg_id).check()
    # Handled while the cell waited: the stream was closed and the answer ended "stopped", short of
    # the 200 tokens the slow model writes (a Stop queued behind the cell would find it "done").
    match = re.search(r"status: (\w+) (\d+)", ex.stdout)
    assert match and match[1] == "stopped" and 0 < int(match[2]) < 200, ex.stdout
    assert left(emu, before) == [("/api/chat", "slow")]
    assert kernel.value("chat.messages[-1]['status']") == "stopped"


def test_cancel_over_the_views_subshell_stops_a_cell_blocked_in_pull(kernel, subshell, emu):
    kernel.run("browser = ModelBrowser()").check()
    comm_id, routing = comm_of(kernel, "browser")
    assert routing == expected_routing(kernel)
    before = len(emu.disconnects)

    def pulling(msg: dict) -> bool:
        content = msg["content"]
        if msg["header"]["msg_type"] != "comm_msg" or content.get("comm_id") != comm_id:
            return False
        pull = ((content["data"].get("state") or {}).get("pulls") or {}).get("big-model") or {}
        return pull.get("state") == "running" and (pull.get("completed") or 0) > 0

    msg_id = kernel.send("p = browser.pull('big-model')\nprint('pull ended:', p.state)")
    kernel.wait_iopub(pulling, what="progress of the pull")
    kernel.comm_send(comm_id, {"action": "cancel", "name": "big-model"}, subshell)
    ex = kernel.collect(msg_id).check()
    assert "pull ended: stopped" in ex.stdout, ex.stdout
    assert left(emu, before) == [("/api/pull", "big-model")]
    assert not any(name.startswith("big-model") for name in emu.model_names())


def test_without_subshells_stop_waits_for_the_cell_and_the_interrupt_stops_it(kernel, emu):
    """Comms over subshells off: the view's Stop goes to the busy main shell, so it runs once the
    cell has ended (nothing left to stop); the kernel's interrupt stops a blocking ask at once."""
    kernel.run("chat = ChatWidget(model='slow', options={'num_predict': 12})").check()
    comm_id, _ = comm_of(kernel, "chat")
    msg_id = kernel.send("reply = chat.ask('Count slowly.')\nprint('status:', reply.status, len(reply.content.split()))")
    kernel.wait_iopub(is_custom(comm_id, "delta"), what="delta of the answer")
    kernel.comm_send(comm_id, {"type": "stop"})  # no subshell id: the main shell
    ex = kernel.collect(msg_id).check()
    assert "status: done 12" in ex.stdout, ex.stdout

    kernel.run("chat = ChatWidget(model='slow')").check()
    comm_id, _ = comm_of(kernel, "chat")
    before = len(emu.disconnects)
    msg_id = kernel.send("reply = chat.ask('Count slowly.')")
    kernel.wait_iopub(is_custom(comm_id, "delta"), what="delta of the answer")
    kernel.km.interrupt_kernel()
    ex = kernel.collect(msg_id)
    assert ex.status == "error" and ex.errors[0]["content"]["ename"] == "KeyboardInterrupt"
    assert left(emu, before) == [("/api/chat", "slow")]
    assert kernel.value("chat.messages[-1]['status']") == "interrupted"


def test_an_unknown_kernel_routing_warns_once_and_the_widgets_still_work(kernel):
    """The fallback in a real kernel: a (simulated) ipykernel whose routing ollama_nb does not know."""
    kernel.run("_real = _kernel.ipykernel_version\n_kernel.ipykernel_version = lambda: ('8.0.0', (8, 0))").check()
    try:
        first = kernel.run("c1 = ChatWidget(model='llama3.2')\nprint(_kernel.routing(c1.comm))").check()
        second = kernel.run("c2 = ModelBrowser()\nprint(_kernel.routing(c2.comm))").check()
        answer = kernel.run("print(c1.ask('Hi').status)").check()
    finally:
        kernel.run("_kernel.ipykernel_version = _real").check()
    assert first.stdout.split() == ["fallback"] and second.stdout.split() == ["fallback"]
    assert "KernelRoutingWarning" in first.stderr and "ipykernel 8.0.0" in first.stderr, first.stderr
    assert "interrupt button" in first.stderr
    assert "KernelRoutingWarning" not in second.stderr, "warned twice"
    assert answer.stdout.strip() == "done"
