"""A huge answer interrupted (issue 24): Ctrl-C lands at once whatever the answer's size. The final
output after the interrupt carries at most ``caps.PLAIN_CHARS`` characters of plain text (and the
capped HTML), so it no longer grows with the answer: before, a 300 MB answer's final output took
16-21 s to build and send, with Ctrl-C held until it was sent. The latency and the kernel's peak
memory are printed (``-s``), never bounded by the clock."""

from __future__ import annotations

import threading
import time

import pytest
from kernel_helpers import Kernel

from ollama_nb._render.caps import PLAIN_CHARS
from ollama_nb.testing import Emulator
from ollama_nb.testing._chunks import answer_chunk
from ollama_nb.testing._wire import Stream

pytestmark = pytest.mark.kernel

PIECE = ("An answer that goes on and on, paragraph after paragraph. " * 8 + "\n\n") * 140  # ~66 kB
SENT_BEFORE_INTERRUPT = 3 * PLAIN_CHARS  # characters of answer the kernel has been sent by then


def test_ctrl_c_in_a_huge_answer_lands_and_the_final_output_stays_bounded():
    sent = threading.Event()

    def big(original, body):
        if b'"big"' not in body:
            return original(body)

        def chunks():
            total = 0
            while True:  # an answer without end: only the interrupt stops it
                yield answer_chunk("chat", "big", content=PIECE)
                total += len(PIECE)
                if total >= SENT_BEFORE_INTERRUPT:
                    sent.set()

        return Stream(chunks(), "chat", True, "big")

    with Emulator() as emu:
        original = emu.route("/api/chat", "POST")
        emu.override("/api/chat", "POST", lambda body: big(original, body))
        with Kernel(env={"OLLAMA_HOST": emu.url}) as k:
            k.run("%load_ext ollama_nb").check()
            latency: list[float] = []

            def on_message(msg, ex):
                if not latency and sent.is_set():
                    latency.append(time.monotonic())
                    k.km.interrupt_kernel()

            ex = k.collect(k.send("%%ollama -m big --out answer\nhi"), timeout=300, on_message=on_message)
            done = time.monotonic()
            rss = k.run("import resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)").check()
            kept = k.value("len(answer.content)")
    assert latency, "the answer never reached the point of the interrupt"
    print(f"\nCtrl-C to idle: {done - latency[0]:.2f} s; kernel peak RSS {int(rss.stdout.split()[-1]) / 1024:.0f} MB; "
          f"answer so far {kept / 1e6:.1f} M characters")
    assert ex.status == "error" and ex.reply["content"]["ename"] == "KeyboardInterrupt"
    plain = ex.final()["data"]["text/plain"]
    assert kept > PLAIN_CHARS and len(plain) < PLAIN_CHARS + 1000, (kept, len(plain))
    assert f"{kept - PLAIN_CHARS:,} more characters not shown" in plain
