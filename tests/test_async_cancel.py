"""AsyncClient (issue 19): stopping an answer reaches the server, frees the thread, keeps the part
that arrived; many answers stream at once, each whole and its own.

"The server stopped" is the emulator's disconnect record; "no thread left blocked on a socket" is
the client's worker pool shutting down with ``wait=True`` (a worker still reading would hold it).
"""

from __future__ import annotations

import asyncio

import pytest

from ollama_nb import AsyncClient, Reply, Retry
from ollama_nb._async_stream import AsyncStream
from ollama_nb.testing import Emulator
from ollama_nb.testing._scenarios import essay_text

ASK = [{"role": "user", "content": "Why is the sky blue?"}]


def no_worker_blocked(client: AsyncClient) -> None:
    """Returns once every worker thread is idle: a thread stuck on a socket would hold this."""
    pool = client._pool
    assert pool is not None
    pool.shutdown(wait=True)


def test_cancelling_the_task_mid_stream_closes_the_connection_and_keeps_the_partial(emu):
    client = AsyncClient(emu.url)

    async def cancel_after_three() -> tuple[AsyncStream, list[str]]:
        stream = await client.chat("slow", messages=ASK, stream=True)
        seen: list[str] = []
        three = asyncio.Event()

        async def read() -> None:
            async for part in stream:
                seen.append(part["message"]["content"])
                if len(seen) == 3:
                    three.set()

        task = asyncio.create_task(read())
        await three.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return stream, seen

    stream, seen = asyncio.run(cancel_after_three())
    assert emu.wait_for_disconnect() and emu.disconnects == [("/api/chat", "slow")]
    no_worker_blocked(client)
    reply = stream.reply
    assert reply.status == "interrupted" and reply.content.startswith("".join(seen)) and len(seen) >= 3
    assert stream.closed


@pytest.mark.parametrize("how", ["break", "aclose", "async with", "dropped unread", "read once, then dropped"])
def test_leaving_a_stream_early_closes_the_connection(emu, how):
    client = AsyncClient(emu.url)

    async def leave() -> Reply:
        stream = await client.generate("slow", "count", stream=True)
        reply = stream.reply
        if how == "break":
            async for _ in stream:
                break
        elif how == "aclose":
            await stream.__anext__()
            await stream.aclose()
        elif how == "async with":
            async with stream:
                await stream.__anext__()
        elif how == "read once, then dropped":
            await stream.__anext__()  # its reader thread runs on: dropping the stream must end it
            del stream
        else:
            del stream  # never read: its connection must not stay open either
        return reply

    reply = asyncio.run(leave())
    assert emu.wait_for_disconnect() and emu.disconnects == [("/api/generate", "slow")]
    assert reply.status == "stopped" and not reply.done
    no_worker_blocked(client)


@pytest.mark.parametrize(("leaves_by", "status"), [("break", "stopped"), ("error", "failed")])
def test_leaving_async_with_ends_the_answer_by_what_left_the_block(emu, leaves_by, status):
    async def leave() -> Reply:
        stream = await AsyncClient(emu.url).chat("slow", messages=ASK, stream=True)
        try:
            async with stream:
                async for _ in stream:
                    if leaves_by == "break":
                        break
                    raise ValueError("a bug in the loop's body")
        except ValueError:
            pass
        return stream.reply

    reply = asyncio.run(leave())
    assert emu.wait_for_disconnect() and reply.status == status
    assert status == "stopped" or isinstance(reply.error, Exception)


def test_cancelling_a_non_streamed_answer_shuts_its_socket(emu):
    """A non-streamed answer sends nothing until it is complete: the worker waits in recv with no
    response to close; the cancel must still reach the server."""
    client = AsyncClient(emu.url)

    async def give_up() -> None:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(client.chat("loading", messages=ASK), timeout=0.2)

    asyncio.run(give_up())
    assert emu.wait_for_disconnect() and emu.disconnects == [("/api/chat", "loading")]
    no_worker_blocked(client)


def test_cancelling_during_a_retry_wait_sends_nothing_more(emu):
    emu.refuse("busy")
    client = AsyncClient(emu.url, retries=Retry(attempts=3, budget=3600, first=600, longest=600, jitter=0))

    async def cancel_while_waiting() -> None:
        task = asyncio.create_task(client.chat("llama3.2", messages=ASK))
        assert await asyncio.to_thread(emu.wait_for_request, "/api/chat")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_while_waiting())
    no_worker_blocked(client)  # the 600 s wait ended with the cancel
    assert [r.path for r in emu.requests].count("/api/chat") == 1


def test_64_streams_at_once_each_whole_and_its_own():
    with Emulator(token_delay=0.001) as emu:
        client = AsyncClient(emu.url)

        async def one(i: int) -> tuple[str, str]:
            question = f"student{i} writes an essay"
            stream = await client.chat("essay", messages=[{"role": "user", "content": question}], stream=True)
            text = "".join([p["message"]["content"] async for p in stream])
            assert stream.reply.done and stream.reply.content == text
            return question, text

        async def all_of_them() -> list[tuple[str, str]]:
            async with client:
                return await asyncio.gather(*(one(i) for i in range(64)))

        answers = asyncio.run(all_of_them())
    assert len(answers) == 64
    for question, text in answers:
        assert text == essay_text(question, 300)


def test_a_consumer_that_pauses_holds_the_reader_back_and_still_gets_every_chunk(emu):
    """The reader runs ahead of `async for` by AHEAD chunks at most, then waits for room."""
    from ollama_nb import _async_stream

    async def pause_then_read() -> tuple[int, int]:
        client = AsyncClient(emu.url)
        stream = await client.generate("bulk", "go", stream=True, options={"num_predict": 5000})
        count = 1 if await stream.__anext__() else 0
        while stream._feed.room.is_set() and not stream.reply.done:  # until the reader stops for room
            await asyncio.sleep(0.01)
        ahead = len(stream._feed.buf)
        async for _ in stream:
            count += 1
        assert stream.reply.done and stream.reply.eval_count == 5000
        return count, ahead

    count, ahead = asyncio.run(pause_then_read())
    # the first chunk may have been taken from a buffer already full: then one fewer is waiting
    assert _async_stream.AHEAD - 1 <= ahead <= _async_stream.AHEAD and count >= 5000
