"""What a Ctrl-C costs, counted in memory rather than seconds (issue 24): from the interrupt to the
cell's last output being built, the kernel's main thread copies what it shows, never the answer.

The real parts of a ``%%ollama`` cell run in this process: the client streams from an emulator on
loopback, the turn runner records the turn in a conversation, the cell's view builds its last
output. The Ctrl-C is the KeyboardInterrupt a SIGINT raises between two chunks. Memory is traced
from that moment only, so what is measured is the work done because of it; an answer 15 times
longer must not make it grow. Joining the answer for the conversation's record (the copy that held
the kernel 1-2 s after a Ctrl-C in a 150 M-character answer) made it grow by the answer's size.
The log is off here: it writes on its own thread, what arrived since its last write (tests/test_store.py).
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest

from ollama_nb import Client, Conversation
from ollama_nb._magic.answer_view import AnswerView
from ollama_nb._reply import Reply
from ollama_nb._turn import TurnRunner
from ollama_nb.testing import Emulator, Stream

# ~66 kB of prose, not pure ASCII: two bytes a character, as most real answers are stored.
PIECE = ("An answer that goes on and on — paragraph after paragraph, café après café. " * 8 + "\n\n") * 110


def endless(body: bytes) -> Stream:
    """The ``big`` model: an answer that goes on until the client hangs up."""

    def chunks() -> Iterator[dict[str, Any]]:
        while True:
            yield {"model": "big", "message": {"role": "assistant", "content": PIECE}, "done": False}

    return Stream(chunks(), "chat", True, "big")


@pytest.fixture(scope="module")
def big() -> Iterator[Client]:
    with Emulator() as emu:
        emu.override("/api/chat", "POST", endless)
        with Client(emu.url) as client:
            yield client


def interrupted_at(client: Client, chars: int) -> tuple[int, Conversation, Reply]:
    """Interrupt the answer once ``chars`` characters have arrived; the peak of memory allocated
    from the interrupt until the last output is built, the conversation and the Reply."""
    conv = Conversation()
    runner = TurnRunner(client, "big", conversation=conv, user={"role": "user", "content": "hi"})
    view = AnswerView(runner.reply, options={}, raw=False, structured=False, extra={})

    def on_chunk(reply: Reply, chunk: Any) -> None:
        if reply.text_length >= chars:
            tracemalloc.start()
            raise KeyboardInterrupt  # where a SIGINT lands: between two chunks

    try:
        with pytest.raises(KeyboardInterrupt):
            runner.run(on_chunk)
        view.render(final=True)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak, conv, runner.reply


def test_the_work_after_ctrl_c_copies_what_is_shown_not_the_answer(big: Client, monkeypatch: Any) -> None:
    monkeypatch.setenv("OLLAMA_NB_STORE", "off")
    small, _, small_reply = interrupted_at(big, 2_000_000)
    huge, conv, reply = interrupted_at(big, 32_000_000)
    answer_bytes = 2 * reply.text_length  # (the answer's text, two bytes a character)
    print(
        f"\nallocated after Ctrl-C: {small / 1e6:.1f} MB at {small_reply.text_length / 1e6:.1f} M characters, "
        f"{huge / 1e6:.1f} MB at {reply.text_length / 1e6:.1f} M ({answer_bytes / 1e6:.0f} MB of text)"
    )
    assert reply.text_length >= 15 * small_reply.text_length
    assert huge < answer_bytes / 4, "the work after a Ctrl-C copied the whole answer"
    assert huge < 1.5 * small, (small, huge)
    # Nothing is lost for it: the conversation's record is the whole answer when read.
    turn = conv.turns[0]
    assert turn.status == "interrupted" and turn.assistant is not None
    assert turn.assistant["content"] == reply.content and len(reply.content) == reply.text_length
