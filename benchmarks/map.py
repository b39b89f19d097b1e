"""ollama_nb.map against the emulator in its own process: throughput as a share of the server's
capacity and of a hand-written ollama-python AsyncClient + asyncio.gather with a semaphore of 4;
concurrency="auto" against fixed levels; two servers against one; 2 000 rows waiting behind a
short read timeout (no stall); 100 000 tiny rows (peak memory growth, progress cost, interrupt).

Every answer is ``--tokens`` tokens at ``--token-delay`` seconds each (the ``essay`` model), so a
server of ``num_parallel`` slots has a capacity of ``slots / (tokens * token_delay)`` rows/s.
Ratios are measured in the same run.

    .venv/bin/python benchmarks/map.py [--rows 400] [--tokens 100] [--token-delay 0.002] [--tiny 100000]
"""

from __future__ import annotations

import _thread
import argparse
import asyncio
import resource
import threading
import time
import uuid
from typing import Any

from scratch_store import scratch_store

from ollama_nb import Client
from ollama_nb._map import progress as map_progress
from ollama_nb.testing import Emulator


def prompts(n: int) -> list[str]:
    tag = uuid.uuid4().hex[:6]  # never answered before: the log must not answer for the server
    return [f"q{i}{tag} go" for i in range(n)]


def timed_map(url: str | list[str], rows: int, tokens: int, **kw: Any) -> tuple[float, Any]:
    hosts = url if isinstance(url, list) else None
    with Client(hosts[0] if hosts else url) as client:
        started = time.perf_counter()
        out = client.map(prompts(rows), model="essay", options={"num_predict": tokens}, progress=False,
                         hosts=hosts, **kw)  # fmt: skip
        wall = time.perf_counter() - started
    assert not out.errors, out.errors[:3]
    return rows / wall, out


def hand_written(url: str, rows: int, tokens: int) -> float:
    import ollama

    async def main() -> None:
        client = ollama.AsyncClient(host=url)
        gate = asyncio.Semaphore(4)

        async def one(p: str) -> None:
            async with gate:
                await client.chat("essay", [{"role": "user", "content": p}], options={"num_predict": tokens})

        await asyncio.gather(*(one(p) for p in prompts(rows)))

    started = time.perf_counter()
    asyncio.run(main())
    return rows / (time.perf_counter() - started)


def tiny(url: str, rows: int) -> None:
    """Peak memory growth and progress cost over ``rows`` one-token rows; then an interrupt."""
    costs: list[float] = []
    real = map_progress.board

    def counted(*args: Any) -> Any:
        started = time.perf_counter()
        try:
            return real(*args)
        finally:
            costs.append(time.perf_counter() - started)

    map_progress.board = counted
    frames: list[int] = []
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with Client(url) as client:
        started = time.perf_counter()
        gen = (f"t{i} {uuid.uuid4().hex[:4]}" for i in range(rows))  # read lazily, never held whole
        out = client.map(gen, model="bulk", options={"num_predict": 1}, concurrency=8,
                         progress=lambda b, final: frames.append(b.done))  # fmt: skip
        wall = time.perf_counter() - started
        grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        print(f"{rows} tiny rows: {rows / wall:.0f} rows/s, peak RSS growth {grown:.1f} MiB "
              f"({grown * 2**20 / rows:.0f} B/row, results included), {len(frames)} progress frames, "
              f"{sum(costs) * 1000:.1f} ms building them ({sum(costs) / wall * 100:.2f}% of the run), errors {len(out.errors)}")  # fmt: skip
        hit: list[float] = []
        timer = threading.Timer(1.0, lambda: (hit.append(time.perf_counter()), _thread.interrupt_main()))
        timer.start()
        try:
            client.map((f"i{i} {uuid.uuid4().hex[:4]}" for i in range(rows)), model="bulk",
                       options={"num_predict": 1}, concurrency=8, progress=False)  # fmt: skip
            print("interrupt: the run ended before the interrupt")
        except KeyboardInterrupt:
            print(f"interrupt landed after {(time.perf_counter() - hit[0]) * 1000:.1f} ms (target < 500 ms)")
    map_progress.board = real


def main() -> int:
    scratch_store()  # never the user's own log
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=400)
    parser.add_argument("--tokens", type=int, default=100)
    parser.add_argument("--token-delay", type=float, default=0.002)
    parser.add_argument("--tiny", type=int, default=100_000)
    args = parser.parse_args()
    rows, tokens, delay = args.rows, args.tokens, args.token_delay
    capacity = 4 / (tokens * delay)
    with Emulator(process=True, num_parallel=4, token_delay=delay, scenarios=True) as emu:
        print(f"server: 4 slots x {1 / delay:.0f} tok/s, {tokens} tokens a row: capacity {capacity:.1f} rows/s "
              "(nominal: the emulator's own time per token is not counted)")  # fmt: skip
        base = hand_written(emu.url, rows, tokens)
        print(f"ollama-python AsyncClient + gather, semaphore 4: {base:6.1f} rows/s ({base / capacity:.2f}x capacity)")
        fixed = {}
        for level in (2, 4, 6, 16):
            fixed[level], _ = timed_map(emu.url, rows, tokens, concurrency=level)
            print(f"map concurrency={level}: {fixed[level]:6.1f} rows/s ({fixed[level] / capacity:.2f}x capacity, "
                  f"{fixed[level] / base:.2f}x hand-written)")  # fmt: skip
        auto, _ = timed_map(emu.url, rows, tokens)
        best = max(fixed.values())
        # With 12 always waiting the server never idles: what it really delivers, its overhead included.
        print(f"map concurrency=auto: {auto:6.1f} rows/s ({auto / capacity:.2f}x capacity, "
              f"{auto / fixed[16]:.2f}x the saturated server, {auto / base:.2f}x hand-written, "
              f"{auto / best:.2f}x best fixed)")  # fmt: skip
    with (
        Emulator(process=True, num_parallel=4, token_delay=delay, scenarios=True) as emu,
        Client(emu.url, timeout=(5, 2.0)) as client,  # a 2 s read limit: a request queued that long trips it
    ):
        started = time.perf_counter()
        out = client.map(prompts(2000), model="essay", options={"num_predict": 5}, progress=False)
        print(f"2000 rows waiting, auto, 2 s stall limit: {len(out.errors)} errors, "
              f"{2000 / (time.perf_counter() - started):.1f} rows/s")  # fmt: skip
    with (
        Emulator(process=True, num_parallel=2, token_delay=delay, scenarios=True) as a,
        Emulator(process=True, num_parallel=2, token_delay=delay, scenarios=True) as b,
    ):
        one, _ = timed_map(a.url, rows // 2, tokens)
        two, out = timed_map([a.url, b.url], rows // 2, tokens)
        print(f"two servers of 2 slots: {two:6.1f} rows/s vs one {one:6.1f} ({two / one:.2f}x; target >= 1.8x)")
    with Emulator(process=True, token_delay=0.0, scenarios=True) as emu:
        tiny(emu.url, args.tiny)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
