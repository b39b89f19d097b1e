"""The log at 100 000 turns: how fast ``%ollama log pandas`` answers, against a full scan.

Fills a fresh log file (a temporary folder, never the user's) with ``--turns`` turns of prose
answers, one in a hundred about pandas and one in 5 000 about polars, through the store's own
schema; then times the search ``%ollama log pandas -n 20`` runs (FTS5, newest first) against the
same search as a ``LIKE`` scan, in the same run, median of ``--repeat``. A common word lets the scan
stop early (newest first, 20 found); the rare one makes it read every row: both are printed.

Target: the indexed search under 0.2 s at 100 000 turns.

Usage: python benchmarks/store.py [--turns 100000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path
from statistics import median

from scratch_store import scratch_store

from ollama_nb._store import db, query

TARGET_S = 0.2
WORDS = ["the", "model", "answer", "explains", "how", "a", "function", "returns", "values", "from", "lists", "and", "dictionaries", "while", "loops", "iterate", "over", "data", "frames", "arrays", "strings", "numbers", "files", "errors", "tests", "classes", "methods", "modules", "imports", "notebooks", "kernels", "cells"]


def fill(path: Path, turns: int) -> None:
    conn = db.connect(path)
    rng = random.Random(21)
    now = time.time()
    conn.execute("BEGIN")
    batch = []
    for n in range(turns):
        topic = "polars" if n % 5000 == 0 else "pandas" if n % 100 == 1 else rng.choice(WORDS)
        prompt = f"How do I use {topic} for {rng.choice(WORDS)} {rng.choice(WORDS)}?"
        answer = " ".join(rng.choice(WORDS) for _ in range(120))
        request = json.dumps({"model": "llama3.2", "messages": [{"role": "user", "content": prompt}]})
        batch.append((f"{n:012x}", now - (turns - n) * 60, "cell", "llama3.2", request, prompt, answer, "done"))
        if len(batch) == 5000:
            conn.executemany(
                "INSERT INTO turns (id, started, source, model, request, prompt, content, status) VALUES (?,?,?,?,?,?,?,?)",
                batch,
            )
            batch.clear()
    if batch:
        conn.executemany(
            "INSERT INTO turns (id, started, source, model, request, prompt, content, status) VALUES (?,?,?,?,?,?,?,?)",
            batch,
        )
    conn.execute("COMMIT")
    conn.close()


def timed(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return median(times), result


def main() -> int:
    path = scratch_store()  # never the user's own log (removed at exit)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    t0 = time.perf_counter()
    fill(path, args.turns)
    filled = time.perf_counter() - t0
    conn = db.connect(path)
    print(f"{args.turns} turns ({path.stat().st_size / 2**20:.0f} MiB, filled in {filled:.1f} s), "
          f"median of {args.repeat}")
    ok = True
    for word in ("pandas", "polars"):
        indexed, found = timed(lambda w=word: query.search(conn, w, limit=20), args.repeat)
        scanned, same = timed(lambda w=word: query.search(conn, w, limit=20, index=False), args.repeat)
        assert [e.id for e in found] == [e.id for e in same] and found  # type: ignore[attr-defined]
        ok = ok and indexed < TARGET_S
        print(f"  %ollama log {word} -n 20 (FTS5)   {indexed * 1000:8.1f} ms   target < {TARGET_S * 1000:.0f} ms   "
              f"{'ok' if indexed < TARGET_S else 'MISSED'}")
        print(f"    the same as a LIKE scan       {scanned * 1000:8.1f} ms   ({scanned / indexed:.1f}x the indexed search)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
