"""AsyncClient where people run it (issue 19): a real notebook kernel (top-level `await` in a cell,
`asyncio.gather` over several prompts, the kernel's interrupt stopping a streaming answer on the
server with the part that arrived kept), terminal IPython's autoawait, and Ctrl-C in a script under
`asyncio.run`."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from typing import Any

import pytest
from kernel_helpers import Kernel

from ollama_nb.testing import Emulator

pytestmark = pytest.mark.kernel

SETUP = """\
from ollama_nb import AsyncClient
client = AsyncClient()
ASK = [{"role": "user", "content": "Why is the sky blue?"}]
"""


@pytest.fixture(scope="module")
def module_emu():
    with Emulator(scenarios=True) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def kernel(module_emu):
    with Kernel(env={"OLLAMA_HOST": module_emu.url}) as k:
        k.run(SETUP).check()
        yield k


def test_a_cell_awaits_answers_at_top_level(kernel):
    ex = kernel.run(
        textwrap.dedent("""\
        reply = await client.chat("llama3.2", messages=ASK)
        parts = [p async for p in await client.chat("llama3.2", messages=ASK, stream=True)]
        import asyncio
        many = await asyncio.gather(*(client.generate("llama3.2", q) for q in ["is 91 prime?", "what is 2+2?"]))
        print(type(reply).__name__, reply.done, len(parts) > 1, parts[-1]["done"])
        print("".join(p["message"]["content"] for p in parts) == reply.content)
        print([r.done for r in many])
        """)
    ).check()
    assert ex.stdout.splitlines() == ["Reply True True True", "True", "[True, True]"]


def test_the_kernel_interrupt_stops_the_answer_on_the_server(kernel, module_emu):
    def interrupt_at_first_token(msg: dict[str, Any], ex: Any) -> None:
        if msg["header"]["msg_type"] == "stream" and not getattr(ex, "_interrupted", False):
            ex._interrupted = True
            kernel.km.interrupt_kernel()

    ex = kernel.run(
        textwrap.dedent("""\
        stream = await client.chat("slow", messages=ASK, stream=True)
        async for part in stream:
            print(part["message"]["content"], end="", flush=True)
        """),
        on_message=interrupt_at_first_token,
    )
    assert ex.status == "error" and ex.errors[0]["content"]["ename"] in ("CancelledError", "KeyboardInterrupt")
    assert module_emu.wait_for_disconnect() and module_emu.disconnects[-1] == ("/api/chat", "slow")
    after = kernel.run(f"print(stream.reply.status, stream.reply.content.startswith({ex.stdout!r}))").check()
    assert after.stdout.split() == ["interrupted", "True"] and ex.stdout
    # The kernel and the client go on: the next cell's answer is whole.
    again = kernel.run('print((await client.chat("llama3.2", messages=ASK)).done)').check()
    assert again.stdout.strip() == "True"


def test_terminal_ipython_autoawait(emu):
    """Terminal IPython runs each `await` cell on its own runner: the same client serves cell after cell."""
    script = textwrap.dedent(f"""\
        from IPython.core.interactiveshell import InteractiveShell
        shell = InteractiveShell.instance()
        assert shell.autoawait
        shell.run_cell({SETUP!r} + "client = AsyncClient({emu.url!r})").raise_error()
        shell.run_cell('first = await client.chat("llama3.2", messages=ASK)').raise_error()
        shell.run_cell('second = [p async for p in await client.generate("llama3.2", "hi", stream=True)]').raise_error()
        print(shell.user_ns["first"].done, shell.user_ns["second"][-1]["done"])
        """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True"]


def test_ctrl_c_in_a_script_under_asyncio_run_stops_the_answer_on_the_server(emu):
    """asyncio.run turns the first Ctrl-C into a cancelled main task: the stream closes, the script
    ends with KeyboardInterrupt, and the partial answer was kept up to then."""
    script = textwrap.dedent(f"""\
        import asyncio
        from ollama_nb import AsyncClient

        async def main():
            stream = await AsyncClient({emu.url!r}).chat("slow", messages=[{{"role": "user", "content": "hi"}}], stream=True)
            try:
                async for part in stream:
                    print("chunk", flush=True)
            finally:
                print(stream.reply.status, bool(stream.reply.content), flush=True)

        asyncio.run(main())
        """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline() == "chunk\n"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert emu.wait_for_disconnect() and emu.disconnects == [("/api/chat", "slow")]
    assert out.splitlines()[-1] == "interrupted True" and "KeyboardInterrupt" in err
