"""A class on one server: p50/p95 time to first token and total time per answer, 30 students at
once, straight to the server and through a real nginx: with the README's settings (buffering and
gzip off), with nginx's defaults (buffering on), and with gzip on for JSON (a common setup).

The emulator runs in its own process with a scheduler like Ollama's (``--num-parallel`` answers at
once, ``--max-queue`` waiting, 503 past that, which the students retry with jittered backoff); each
answer is ``--tokens`` tokens at a real model's pace (``--token-delay``). The direct run is the
baseline measured in the same run; the nginx rows are also given as ratios of it. Every answer is
checked token by token (whole, and the student's own).

    .venv/bin/python benchmarks/classroom.py [--students 30] [--tokens 300] [--token-delay 0.02]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from classroom_load import Lesson, lesson
from nginx_helpers import Nginx
from scratch_store import scratch_store

from ollama_nb.testing import Emulator


def row(name: str, result: Lesson, base: Lesson | None) -> str:
    cells = []
    for what in ("ttft", "total"):
        for p in (50, 95):
            value = result.percentile(what, p)
            ratio = f" ({value / base.percentile(what, p):.2f}x)" if base is not None else ""
            cells.append(f"{value:6.2f} s{ratio:9}")
    return f"{name:<22}" + "  ".join(cells) + f"  {result.retries:7d}  {result.wall:6.1f} s"


def main() -> int:
    scratch_store()  # never the user's own log
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--tokens", type=int, default=300)
    parser.add_argument("--token-delay", type=float, default=0.02, help="seconds per token (0.02 = 50 tokens/s)")
    parser.add_argument("--num-parallel", type=int, default=4)
    parser.add_argument("--max-queue", type=int, default=8)
    args = parser.parse_args()

    failed = 0
    scenarios = [("every student at once (the proxy's own cost)", args.students, args.students),
                 ("an overflowing queue (students retry)", args.num_parallel, args.max_queue)]
    print(f"{args.students} students x {args.tokens} tokens at {1 / args.token_delay:.0f} tokens/s")
    for title, parallel, queue in scenarios:
        with Emulator(process=True, token_delay=args.token_delay, num_parallel=parallel, max_queue=queue,
                      scenarios=True) as emu, \
                Nginx(emu.url) as proxy:
            print(f"\n{title}: server runs {parallel} at once, {queue} queued, 503 past that\n")
            print(f"{'':<22}{'TTFT p50':>10}{'':8}{'TTFT p95':>11}{'':8}{'total p50':>12}{'':7}{'total p95':>11}"
                  f"{'':6}retries    wall")
            runs = [("direct (baseline)", emu.url), ("nginx buffering off", proxy.url("live")),
                    ("nginx buffering on", proxy.url("buffered")), ("nginx + gzip", proxy.url("gzip"))]
            base = None
            for name, url in runs:
                result = lesson(url, args.students, args.tokens)
                print(row(name, result, base), flush=True)
                base = base or result
                for line in result.damaged():
                    failed += 1
                    print("   damaged:", line)
    print("\nTTFT counts from asking, so it includes the waits of students the full queue refused.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
