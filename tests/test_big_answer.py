"""A huge answer interrupted (issue 24): Ctrl-C lands at once whatever the answer's size.

After the interrupt the kernel does what does not depend on the answer's length: the last output
is built from the answer's head (``caps.PLAIN_CHARS`` characters of plain text, the capped HTML),
the log gets only what arrived since its last write, and that on its own thread. Before, a 300 MB
answer's final output took 16-21 s to build and send, with Ctrl-C held until it was sent, and a
15 M-character one 1.1-4.6 s. The latencies and the kernel's peak memory are printed (``-s``);
what is asserted is a ratio between a small and a huge answer in the same run, never the clock.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from typing import Any

import pytest
from kernel_helpers import Execution, Kernel

from ollama_nb._render.caps import PLAIN_CHARS
from ollama_nb.testing import Emulator
from ollama_nb.testing._chunks import answer_chunk
from ollama_nb.testing._wire import Stream

pytestmark = pytest.mark.kernel

# ~66 kB of prose, not pure ASCII (as a real answer seldom is: escaping such text was the slow path).
PIECE = ("An answer that goes on and on — paragraph after paragraph, café après café. " * 8 + "\n\n") * 110


class Endless:
    """The ``big`` model: an answer that goes on until the interrupt; ``sent`` is set once
    ``threshold`` characters have gone out. With ``pause``, it sends nothing more from there on
    (a model that stops to think), so the kernel ends up with exactly what was sent."""

    def __init__(self, emu: Emulator) -> None:
        self.threshold = 0
        self.pause = False
        self.sent = threading.Event()
        self.released = threading.Event()
        original = emu.route("/api/chat", "POST")
        emu.override("/api/chat", "POST", lambda body: self.answer(body) if b'"big"' in body else original(body))

    def answer(self, body: bytes) -> Any:
        def chunks() -> Any:
            total = 0
            while not (total >= self.threshold and self.pause):
                yield answer_chunk("chat", "big", content=PIECE)
                total += len(PIECE)
                if total >= self.threshold:
                    self.sent.set()
            self.released.wait(600)  # (the test's end releases it; the connection is gone by then)

        return Stream(chunks(), "chat", True, "big")


def logged(chars: int) -> None:
    """Wait until the log (the kernel's store, a real SQLite file) holds ``chars`` characters of
    the running answer: the kernel has read them (its writer snapshots a paused answer too)."""
    query = "SELECT max(length(content)) FROM turns WHERE status = 'running' AND model = 'big'"
    deadline = time.monotonic() + 300
    while held(query) < chars:
        assert time.monotonic() < deadline, f"the log never held {chars} characters of the answer"
        time.sleep(0.05)  # polling for a thing to happen (never before a check that nothing did)


def held(query: str) -> int:
    """The query's number, 0 while the kernel has not made its log yet (read only: never made here)."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{os.environ['OLLAMA_NB_STORE']}?mode=ro", uri=True)) as conn:
            return int(conn.execute(query).fetchone()[0] or 0)
    except sqlite3.OperationalError:  # no file, or no table in it yet
        return 0


def interrupted(
    k: Kernel, emu: Emulator, big: Endless, chars: int, *, pause: bool = False
) -> tuple[float | None, float, int, Execution]:
    """Interrupt ``%%ollama -m big`` once ``chars`` characters have been sent (with ``pause``: and
    read by the kernel): the seconds from the interrupt to the emulator seeing the connection
    closed, and to the kernel being idle again; the characters the answer kept; what the front
    end got."""
    big.threshold, big.pause, big.sent = chars, pause, threading.Event()
    stamps: dict[str, float] = {}

    def closed() -> None:  # (a paused answer writes nothing, so its server sees no disconnect)
        if not pause and emu.wait_for_disconnect(timeout=600):
            stamps["closed"] = time.monotonic()

    def interrupt() -> None:
        big.sent.wait(600)
        if pause:
            logged(chars)
        stamps["interrupt"] = time.monotonic()
        k.km.interrupt_kernel()

    watchers = [threading.Thread(target=f, daemon=True) for f in (closed, interrupt)]
    for watcher in watchers:
        watcher.start()
    ex = k.collect(k.send("%%ollama -m big --out answer\nhi"), timeout=600)
    idle = time.monotonic()
    for watcher in watchers:
        watcher.join(timeout=60)
    assert "interrupt" in stamps, "the answer never reached the point of the interrupt"
    assert ex.status == "error" and ex.reply["content"]["ename"] == "KeyboardInterrupt", ex.reply
    kept = k.value("len(answer.content)")
    k.run("del answer; import gc; gc.collect()").check()
    closed = stamps["closed"] - stamps["interrupt"] if "closed" in stamps else None
    return closed, idle - stamps["interrupt"], kept, ex


@pytest.fixture(scope="module")
def setup() -> Any:
    with Emulator() as emu:
        big = Endless(emu)
        with Kernel(env={"OLLAMA_HOST": emu.url}) as k:
            k.run("%load_ext ollama_nb").check()
            yield k, emu, big
        big.released.set()


def test_ctrl_c_in_a_huge_answer_lands_and_the_final_output_stays_bounded(setup: Any) -> None:
    k, emu, big = setup
    # While the answer pours in: the kernel has read some megabytes less than was sent by then.
    closed, idle, kept, ex = interrupted(k, emu, big, 3 * PLAIN_CHARS + 8_000_000)
    rss = k.run("import resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)").check()
    assert closed is not None
    print(f"\nCtrl-C to idle: {idle:.2f} s (connection closed after {closed:.2f} s); "
          f"kernel peak RSS {int(rss.stdout.split()[-1]) / 1024:.0f} MB; answer so far {kept / 1e6:.1f} M characters")
    plain = ex.final()["data"]["text/plain"]
    assert kept > PLAIN_CHARS and len(plain) < PLAIN_CHARS + 1000, (kept, len(plain))
    assert f"{kept - PLAIN_CHARS:,} more characters are not in this text output" in plain
    assert "The whole answer is in `answer.content`." in plain


def test_ctrl_c_brings_the_kernel_back_at_any_answer_size(setup: Any) -> None:
    """Interrupted at 0.5 M and at 20 M characters, the kernel is back and keeps what arrived.
    Its seconds are printed, not bounded: under load they followed other processes (0.04 s vs
    0.54 s); that the work after the interrupt does not grow with the answer is counted, in
    memory allocated, by tests/test_interrupt_work.py."""
    k, emu, big = setup
    # Past what is rendered (caps.ANSWER_CHARS), within what plain text keeps; and 40 times that.
    small_chars, huge_chars = 500_000, 20_000_000
    small = [interrupted(k, emu, big, small_chars, pause=True)]
    huge = [interrupted(k, emu, big, huge_chars, pause=True)]
    for name, runs in (("small", small), ("huge", huge)):
        figures = ", ".join(f"{kept / 1e6:.1f} M characters: idle {i:.2f} s" for _, i, kept, _ in runs)
        print(f"\n{name}: {figures}")
    assert min(kept for *_, kept, _ in huge) >= 10 * max(kept for *_, kept, _ in small)
