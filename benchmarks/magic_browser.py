"""Browser main-thread time of a streamed ``%%ollama`` answer in JupyterLab, against its length.

A real JupyterLab in headless Chromium (tests/browser/lab.py) runs ``%%ollama -m paced`` at a real
model's pace (``--rate`` tokens/s) for a short and a long answer (``--tokens 5000,20000``). Chrome's
own counters (CDP ``Performance.getMetrics``: ``TaskDuration``, the main thread's busy time, and
its script / layout / style parts) are read before and after each cell. Re-rendering the whole
answer at every update makes that time grow with the square of the length; rendering only the open
end keeps it linear.

    target: main-thread time(long) / main-thread time(short) <= 4.5 for 4x the tokens

``--project DIR`` makes the kernels import ``ollama_nb`` from another checkout (e.g. the commit
before a change, for a before/after figure); the emulator (with ``paced:latest``) always comes from
this one.

Usage: python benchmarks/magic_browser.py [--tokens 5000,20000] [--rate 300] [--project DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright
from scratch_store import scratch_store

from ollama_nb.testing import Emulator
from tests.browser.lab import (
    kernel_idle,
    launch_chromium,
    open_notebook,
    run_cell,
    start_lab,
    write_notebook,
)

TARGET = 4.5
METRICS = ("TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration")


def main() -> int:
    scratch_store()  # never the user's own log
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", default="5000,20000")
    parser.add_argument("--rate", type=float, default=300)
    parser.add_argument("--project", type=Path, default=ROOT, help="checkout whose ollama_nb the kernels import")
    args = parser.parse_args()
    sizes = [int(t) for t in args.tokens.split(",")]

    cells = ["%load_ext ollama_nb"] + [
        f"%%ollama -m paced -o num_predict={n} --chat b{i}\nat {args.rate:g} tokens/s" for i, n in enumerate(sizes)
    ]
    results: dict[int, dict[str, float]] = {}
    with Emulator(process=True, scenarios=True) as emu, tempfile.TemporaryDirectory() as root:
        write_notebook(root, "bench.ipynb", cells)
        env = {"OLLAMA_HOST": emu.url, "PYTHONPATH": str(args.project.resolve())}
        lab = start_lab(root, env=env, log_name="lab-bench")
        try:
            with sync_playwright() as p:
                browser = launch_chromium(p)
                page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
                cdp = page.context.new_cdp_session(page)
                cdp.send("Performance.enable")
                open_notebook(page, lab.url, "bench.ipynb")
                run_cell(page, 0)

                def metrics() -> dict[str, float]:
                    got = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
                    return {k: got.get(k, 0.0) for k in METRICS}

                for i, n in enumerate(sizes, start=1):
                    before = metrics()
                    run_cell(page, i, timeout=(n / args.rate + 120) * 1000)
                    kernel_idle(page)
                    # The last update's rendering (and MathJax's typesetting) may still be queued.
                    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)))")
                    after = metrics()
                    results[n] = {k: after[k] - before[k] for k in METRICS}
                    print(f"  {n} tokens: main thread {results[n]['TaskDuration']:.2f} s "
                          f"(script {results[n]['ScriptDuration']:.2f}, layout {results[n]['LayoutDuration']:.2f}, "
                          f"style {results[n]['RecalcStyleDuration']:.2f})", file=sys.stderr)
                browser.close()
        finally:
            lab.stop()

    short, long = sizes[0], sizes[-1]
    ratio = results[long]["TaskDuration"] / results[short]["TaskDuration"]
    print(f"JupyterLab + Chromium, paced:latest at {args.rate:g} tokens/s, kernels from {args.project}")
    for n in sizes:
        print(f"  {n:6d} tokens   main thread {results[n]['TaskDuration']:6.2f} s   script {results[n]['ScriptDuration']:6.2f} s")
    print(f"  growth {long}/{short} tokens: {ratio:.2f} x   target <= {TARGET}   {'ok' if ratio <= TARGET else 'MISSED'}")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
