"""Memory a client holds for a long answer, ours against the official client, in one run.

The emulator runs in its own process (the ``bulk`` model, N tokens); this process measures its own
Python allocations with ``tracemalloc``, above a baseline taken just before each call:

- non-streamed: ``answer = client.chat(..., stream=False)``; *held* is what stays allocated while
  ``answer`` is kept, *peak* the most allocated during the call.
- consumed stream: ``s = client.chat(..., stream=True); for _ in s: pass``; *held* is what stays
  allocated while ``s`` is kept after the loop (ours keeps the merged Reply in ``s.reply``; the
  official generator keeps nothing).

Both clients warm up first (imports, connection pools), so the figures are the answer's own cost.
Targets (issue 10): non-streamed held no worse than the official client's.

Usage: python benchmarks/memory.py [--chunks 500000]
"""

from __future__ import annotations

import argparse
import gc
import tracemalloc
from collections.abc import Callable
from typing import Any

from scratch_store import scratch_store

from ollama_nb import Client
from ollama_nb.testing import Emulator

MESSAGES = [{"role": "user", "content": "Count for me."}]
MB = 1024 * 1024


def ours_whole(url: str, n: int) -> Any:
    return Client(url).chat("bulk", messages=MESSAGES, options={"num_predict": n})


def official_whole(url: str, n: int) -> Any:
    import ollama

    return ollama.Client(host=url).chat("bulk", messages=MESSAGES, options={"num_predict": n})


def ours_stream(url: str, n: int) -> Any:
    stream = Client(url).chat("bulk", messages=MESSAGES, options={"num_predict": n}, stream=True)
    for _ in stream:
        pass
    return stream


def official_stream(url: str, n: int) -> Any:
    import ollama

    stream = ollama.Client(host=url).chat("bulk", messages=MESSAGES, options={"num_predict": n}, stream=True)
    for _ in stream:
        pass
    return stream


def text_of(result: Any) -> str:
    if hasattr(result, "reply"):
        return result.reply.content
    try:
        return result["message"]["content"] or ""
    except TypeError:  # a spent generator: nothing kept
        return ""


def measure(fn: Callable[[str, int], Any], url: str, n: int) -> tuple[float, float, int]:
    """(held MB, peak MB, characters of text the result still gives)."""
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    result = fn(url, n)
    gc.collect()
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    chars = len(text_of(result))
    del result
    return (held - base) / MB, (peak - base) / MB, chars


def main() -> None:
    scratch_store()  # never the user's own log
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--chunks", type=int, default=500_000)
    args = ap.parse_args()
    n = args.chunks
    with Emulator(process=True, scenarios=True) as emu:
        url = emu.url
        for fn in (ours_whole, official_whole, ours_stream, official_stream):
            fn(url, 100)  # warm up: imports, pools, pydantic's validators
        rows = {
            "non-streamed  ours": measure(ours_whole, url, n),
            "non-streamed  official": measure(official_whole, url, n),
            "stream        ours": measure(ours_stream, url, n),
            "stream        official": measure(official_stream, url, n),
        }
    print(f"answer of {n:,} chunks; MB of Python allocations above the baseline:")
    print(f"  {'case':<24} {'held':>8} {'peak':>8}  text kept")
    for name, (held, peak, chars) in rows.items():
        print(f"  {name:<24} {held:>8.1f} {peak:>8.1f}  {chars:,} chars")
    ours, official = rows["non-streamed  ours"], rows["non-streamed  official"]
    print("ratios (ours / official):")
    print(f"  non-streamed held   {ours[0] / official[0]:.2f}x   (target <= 1.0)")
    print(f"  non-streamed peak   {ours[1] / official[1]:.2f}x")
    s_ours, s_off = rows["stream        ours"], rows["stream        official"]
    print(f"  consumed stream held: ours {s_ours[0]:.1f} MB (the merged Reply, {s_ours[2]:,} chars), official {s_off[0]:.1f} MB")


if __name__ == "__main__":
    main()
