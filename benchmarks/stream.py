"""Chunks per second of ``Client.chat(stream=True)`` against the official client and the limits.

All on the same emulator stream (the ``bulk`` model, N chunks), with the emulator in its own
process so it does not share our GIL, measured in one run:

- ours:      ``for part in ollama_nb.Client().chat(..., stream=True)``
- official:  ``for part in ollama.Client().chat(..., stream=True)`` (httpx + pydantic)
- requests:  raw ``requests`` + ``iter_lines`` + ``json.loads`` (what most hand-written clients do)
- transport: bytes read with ``iter_content``, newlines counted, nothing parsed
- parse:     ``json.loads`` alone over the same lines, in memory
- limit:     1 / (1/transport + 1/parse): the best a reader that parses every line can do
- scan:      json's C scanner alone (what our client calls instead of json.loads, which spends as
             much again in Python wrappers); "strict limit" uses it, so the honest bound is shown too

Targets (issue 2): ours >= 1.2x official, ours >= 0.9x limit.

Usage: python benchmarks/stream.py [--chunks 50000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import json.scanner
import time
from statistics import median

import requests
from scratch_store import scratch_store

from ollama_nb import Client
from ollama_nb.testing import Emulator

MESSAGES = [{"role": "user", "content": "Count for me."}]


def body(n: int) -> dict:
    return {"model": "bulk", "messages": MESSAGES, "stream": True, "options": {"num_predict": n}}


def run_ours(url: str, n: int) -> int:
    count = 0
    for _ in Client(url).chat("bulk", messages=MESSAGES, options={"num_predict": n}, stream=True):
        count += 1
    return count


def run_official(url: str, n: int) -> int:
    import ollama

    count = 0
    for _ in ollama.Client(host=url).chat("bulk", messages=MESSAGES, options={"num_predict": n}, stream=True):
        count += 1
    return count


def run_requests(url: str, n: int) -> int:
    count = 0
    with requests.post(url + "/api/chat", json=body(n), stream=True) as resp:
        for line in resp.iter_lines():
            if line:
                json.loads(line)
                count += 1
    return count


def run_transport(url: str, n: int) -> int:
    count = 0
    with requests.post(url + "/api/chat", json=body(n), stream=True) as resp:
        for data in resp.iter_content(chunk_size=None):
            count += data.count(b"\n")
    return count


def capture_lines(url: str, n: int) -> list[bytes]:
    with requests.post(url + "/api/chat", json=body(n), stream=True) as resp:
        return [line for line in resp.content.split(b"\n") if line]


def run_parse(lines: list[bytes]) -> int:
    loads = json.loads
    for line in lines:
        loads(line)
    return len(lines)


def run_scan(lines: list[bytes]) -> int:
    scan = json.scanner.c_make_scanner(json.JSONDecoder())
    for line in lines:
        scan(line.decode(), 0)
    return len(lines)


def measure(cases: dict, repeat: int) -> dict[str, tuple[float, float]]:
    """Chunks/s per case: best and median of ``repeat`` rounds. Each round runs every case once, so a
    burst of load elsewhere on the machine hits all cases alike instead of one of them."""
    rates: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeat):
        for name, (fn, *args) in cases.items():
            t0 = time.perf_counter()
            count = fn(*args)
            rates[name].append(count / (time.perf_counter() - t0))
    return {name: (max(r), median(r)) for name, r in rates.items()}


def main() -> None:
    scratch_store()  # never the user's own log
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--chunks", type=int, default=50_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    n = args.chunks
    with Emulator(process=True, scenarios=True) as emu:
        url = emu.url
        assert run_ours(url, 100) == run_transport(url, 100) == 101  # 100 tokens + the done chunk
        lines = capture_lines(url, n)
        results = measure(
            {
                "transport": (run_transport, url, n),
                "parse": (run_parse, lines),
                "scan": (run_scan, lines),
                "ours": (run_ours, url, n),
                "official": (run_official, url, n),
                "requests": (run_requests, url, n),
            },
            args.repeat,
        )
    t, p = results["transport"][0], results["parse"][0]
    limit = 1 / (1 / t + 1 / p)
    print(f"stream of {n} chunks, best of {args.repeat} (median in brackets), chunks/s:")
    for name, (best, med) in results.items():
        print(f"  {name:<10} {best:>12,.0f}  ({med:,.0f})")
    strict = 1 / (1 / t + 1 / results["scan"][0])
    print(f"  {'limit':<10} {limit:>12,.0f}  = 1/(1/transport + 1/parse)")
    print(f"  {'strict':<10} {strict:>12,.0f}  = 1/(1/transport + 1/scan)")
    ours = results["ours"][0]
    print("ratios:")
    print(f"  ours / official       {ours / results['official'][0]:.2f}x   (target >= 1.2)")
    print(f"  ours / limit          {ours / limit:.2f}x   (target >= 0.9)")
    print(f"  ours / strict limit   {ours / strict:.2f}x   (the same parser without json.loads' wrappers)")
    print(f"  official / limit      {results['official'][0] / limit:.2f}x")
    print(f"  ours / raw requests   {ours / results['requests'][0]:.2f}x")


if __name__ == "__main__":
    main()
