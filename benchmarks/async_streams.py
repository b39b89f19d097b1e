"""AsyncClient against ollama-python's AsyncClient (httpx + pydantic), in the same run (issue 19).

The emulator runs in its own process (it does not share our GIL); both clients talk to it over
loopback, one after the other, alternating, and the median of ``--repeat`` rounds is kept:

- streams:   ``--streams`` (64) concurrent ``async for part in await client.chat(..., stream=True)``
             of the ``bulk`` model, ``--chunks`` chunks each: chunks per second over all of them.
             Target: ours >= 1.0x official.
- overhead:  the same number of concurrent one-token streams: wall time per stream, what opening,
             reading and closing a stream costs beyond its chunks.
- calls:     ``--calls`` (1 000) awaited non-streamed ``chat`` calls, ``--concurrency`` (32) at a
             time: wall time. Target: ours no slower.

Usage: python benchmarks/async_streams.py [--streams 64] [--chunks 2000] [--calls 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable
from statistics import median
from typing import Any

from scratch_store import scratch_store

MESSAGES = [{"role": "user", "content": "Count for me."}]


def make_client(which: str, url: str) -> Any:
    if which == "ours":
        from ollama_nb import AsyncClient

        return AsyncClient(url)
    import ollama

    return ollama.AsyncClient(host=url)


async def streams(which: str, url: str, count: int, chunks: int) -> tuple[float, int]:
    """Seconds for ``count`` concurrent streams of ``chunks`` chunks; the chunks received."""
    client = make_client(which, url)

    async def one() -> int:
        got = 0
        async for _ in await client.chat("bulk", messages=MESSAGES, stream=True, options={"num_predict": chunks}):
            got += 1
        return got

    started = time.perf_counter()
    got = sum(await asyncio.gather(*(one() for _ in range(count))))
    return time.perf_counter() - started, got


async def calls(which: str, url: str, count: int, concurrency: int) -> float:
    """Seconds for ``count`` awaited non-streamed calls, ``concurrency`` at a time."""
    client = make_client(which, url)
    gate = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with gate:
            reply = await client.chat("bulk", messages=MESSAGES, options={"num_predict": 5})
            assert reply["done"]

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(count)))
    return time.perf_counter() - started


def rounds(repeat: int, measure: Callable[[str], float]) -> dict[str, float]:
    """The median of ``repeat`` measurements per client, the clients alternating."""
    seen: dict[str, list[float]] = {"ours": [], "official": []}
    for i in range(repeat):
        for which in ("ours", "official") if i % 2 == 0 else ("official", "ours"):
            seen[which].append(measure(which))
    return {which: median(values) for which, values in seen.items()}


def main() -> None:
    scratch_store()  # never the user's own log
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=64)
    parser.add_argument("--chunks", type=int, default=2000)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from ollama_nb.testing import Emulator

    with Emulator(process=True, scenarios=True) as emu:
        url = emu.url
        total = args.streams * (args.chunks + 1)  # each stream's final done chunk too

        def rate(which: str) -> float:
            seconds, got = asyncio.run(streams(which, url, args.streams, args.chunks))
            assert got == total, f"{which}: {got} chunks of {total}"
            return got / seconds

        def overhead(which: str) -> float:
            seconds, _ = asyncio.run(streams(which, url, args.streams, 1))
            return seconds / args.streams

        def wall(which: str) -> float:
            return asyncio.run(calls(which, url, args.calls, args.concurrency))

        for warm in ("ours", "official"):  # imports, the emulator's first answers
            asyncio.run(streams(warm, url, 4, 10))
        per_second = rounds(args.repeat, rate)
        per_stream = rounds(args.repeat, overhead)
        walls = rounds(args.repeat, wall)

    print(f"{args.streams} concurrent streams x {args.chunks} chunks (median of {args.repeat}):")
    for which in ("ours", "official"):
        print(
            f"  {which:9} {per_second[which]:10,.0f} chunks/s   per-stream overhead {per_stream[which] * 1e3:6.2f} ms"
        )
    print(
        f"  ratio     {per_second['ours'] / per_second['official']:.2f}x official chunks/s (target >= 1.0x); "
        f"overhead {per_stream['ours'] / per_stream['official']:.2f}x official"
    )
    print(f"{args.calls} awaited non-streamed calls, {args.concurrency} at a time:")
    for which in ("ours", "official"):
        print(f"  {which:9} {walls[which]:7.2f} s   {args.calls / walls[which]:7,.0f} calls/s")
    print(f"  ratio     {walls['official'] / walls['ours']:.2f}x official's speed (wall official / wall ours)")


if __name__ == "__main__":
    main()
