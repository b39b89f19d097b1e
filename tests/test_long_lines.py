"""A stream line without an end (issue 24): the client stops at ``_wire.MAX_LINE`` bytes with a
clear MalformedChunk, the partial answer kept, instead of buffering the line whole (a 100 MB line
took the kernel to 330 MB). Peak memory is counted (tracemalloc), never timed."""

from __future__ import annotations

import tracemalloc

import pytest

from ollama_nb import Client
from ollama_nb._errors import MalformedChunk
from ollama_nb._status import FAILED
from ollama_nb._wire import MAX_LINE, stream_objects
from ollama_nb.testing import Emulator
from ollama_nb.testing._chunks import answer_chunk
from ollama_nb.testing._wire import Stream

HUGE = MAX_LINE + 4 * 2**20


def _huge(original, body):
    if b'"huge-line"' not in body:
        return original(body)
    items = [answer_chunk("chat", "huge-line", content=t) for t in ("Hello ", "world. ")]
    items.append(answer_chunk("chat", "huge-line", content="x" * HUGE))  # one line, its end far away
    return Stream(iter(items), "chat", True, "huge-line")


def test_a_line_past_the_limit_stops_the_stream_with_the_partial_answer_kept():
    with Emulator() as emu:
        original = emu.route("/api/chat", "POST")
        emu.override("/api/chat", "POST", lambda body: _huge(original, body))
        with Client(emu.url) as client:
            seen = []
            with pytest.raises(MalformedChunk) as info:
                for part in client.chat("huge-line", messages=[{"role": "user", "content": "hi"}], stream=True):
                    seen.append(part.message.content)
    err = info.value
    assert f"longer than {MAX_LINE // 2**20} MB" in str(err) and "partial answer is kept" in err.hint
    assert seen == ["Hello ", "world. "]
    assert err.reply is not None and err.reply.content == "Hello world. " and err.reply.status == FAILED


def test_the_reader_holds_a_growing_line_once():
    """Blocks of 64 kB without a newline, as a socket hands them over: the reader's peak memory is
    about the limit (the blocks kept once), where joining each block to the rest copied it again."""

    def blocks():
        yield b'{"message": {"content": "'
        for _ in range(HUGE // 65536):
            yield b"x" * 65536

    tracemalloc.start()
    try:
        with pytest.raises(MalformedChunk):
            for _ in stream_objects(blocks()):
                pass
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    print(f"reader's peak memory on an endless line: {peak / 2**20:.1f} MB (limit {MAX_LINE / 2**20:.0f} MB)")
    assert peak < 1.5 * MAX_LINE, f"{peak / 2**20:.0f} MB"


def test_lines_at_every_block_boundary_still_parse():
    lines = b'{"a": 1}\n{"b": "' + b"y" * 50 + b'"}\n\n{"c": 3}\n'
    for cut in range(1, len(lines)):
        blocks = [lines[:cut], lines[cut:]]
        assert [list(o) for o in stream_objects(blocks, max_line=60)] == [["a"], ["b"], ["c"]], cut
    with pytest.raises(MalformedChunk, match="longer than"):
        list(stream_objects([b'{"a": 1}\n{"b": "', b"y" * 2**20, b'"}\n'], max_line=2**20))
    with pytest.raises(MalformedChunk, match="longer than"):
        list(stream_objects([b'{"a": "' + b"z" * (2**20 + 10) + b'"}\n'], max_line=2**20))
