"""Main-thread time of the ChatWidget while a long table, list or code block streams in (issue 24).

In headless Chromium, on a bundle page (no JupyterLab: the chat bundle with a stand-in model, as
tests/browser/test_chat_stream.py uses it): a ``--kinds`` block of ``--sizes`` kB arrives in deltas
of ``--delta`` characters, each delta drawn before the next is sent (one render per delta, the
most a view does). For each: Chrome's main-thread time (CDP ``Performance.getMetrics``
TaskDuration, thread time), the longest task (Long Tasks API: wall time, so a loaded machine
inflates it) and the time per update, for the bundle built from ``--before`` (a git ref) and the
one in this checkout, in the same run; printed with their ratios.

Measured, 500-character deltas. Tables, --before f382c01 (the open table rendered whole at every
update); 2 shared cores, lightly loaded:

    60 kB:  main thread 7.55 s -> 0.59 s (x12.9), longest task 109 ms -> 24 ms
    230 kB: main thread 109.0 s -> 2.41 s (x45), longest task 425 ms -> 41 ms

Load average 18 on the same 2 cores (so only the ratios compare): a 60 kB table 19.8 s -> 2.66 s
(x7.5); a 60 kB tight list, --before 34bfcc8 (before list.js), 14.98 s -> 1.58 s (x9.5), longest
task 1 132 ms -> 113 ms. A 60 kB open Python code block is not incremental (highlight.js has no
public way to resume from a line): 23-25 s on both, about 200 ms per update.

Usage: python benchmarks/widget_tables.py [--sizes 60 230] [--delta 500] [--before f382c01]
"""

from __future__ import annotations

import argparse
import pathlib
import random
import sys
import tempfile
from collections.abc import Callable
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from playwright.sync_api import sync_playwright
from scratch_store import scratch_store

from benchmarks.widget_browser import build_bundle
from tests.browser.lab import launch_chromium, open_bundle_page

PAGE = """<!doctype html><html><head><meta charset="utf-8"><link rel="stylesheet" href="/chat.css">
</head><body><div id="live" style="width: 900px"></div><script type="module">
import widget from "/chat.js";
import { FakeModel } from "/fake_model.js";
window.longest = 0;
new PerformanceObserver((l) => { for (const e of l.getEntries()) window.longest = Math.max(window.longest, e.duration); })
  .observe({ type: "longtask", buffered: true });
window.model = new FakeModel({ model: "m", models: ["m"], system: "", think: false, can_think: false, temperature: null,
  error: {}, placeholder: "", busy: true, messages: [{ role: "user", content: "q", turn: "t1" },
  { role: "assistant", content: "", thinking: "", status: "running", model: "m", stats: "", error: null, turn: "t1" }] });
widget.render({ model, el: document.getElementById("live") });
const body = () => document.querySelector("#live .onb-msg-assistant .onb-msg-body");
let changed = false;
new MutationObserver(() => { changed = true; }).observe(document.getElementById("live"), { childList: true, subtree: true, characterData: true });
// Each delta, then wait (frame by frame) until the view has drawn it: one render per delta.
window.stream = async (chunks) => {
  // Long tasks of loading the page are reported a frame or two late: let them pass first.
  for (let i = 0; i < 3; i++) await new Promise((r) => requestAnimationFrame(r));
  window.longest = 0;
  for (let i = 0; i < chunks.length; i++) {
    changed = false;
    model.kernel({ type: "delta", turn: "t1", seq: i + 1, content: chunks[i] });
    while (!changed) await new Promise((r) => requestAnimationFrame(r));
  }
  await new Promise((r) => requestAnimationFrame(r));
  return { longest: window.longest, chars: body().textContent.length };
};
window.ready = true;
</script></body></html>"""


WORDS = ["alpha", "*beta*", "`gamma`", "10.5", "**bold**", "[link](https://ollama.com)", "δ", "x \\| y"]


def table(kb: int) -> str:
    """A Markdown table of about ``kb`` kB: words, numbers, emphasis, code and links in its cells."""
    rng = random.Random(kb)
    head = "| # | name | value | note |\n|--:|:-----|------:|:----:|\n"
    return head + grow(kb * 1000 - len(head), lambda i: f"| {i} | " + " | ".join(
        " ".join(rng.choice(WORDS) for _ in range(3)) for _ in range(3)) + " |\n")


def items(kb: int) -> str:
    """A bulleted list of about ``kb`` kB, one line of the same words per item."""
    rng = random.Random(kb)
    return grow(kb * 1000, lambda i: f"- {i} " + " ".join(rng.choice(WORDS) for _ in range(9)) + "\n")


def code(kb: int) -> str:
    """A fenced Python block of about ``kb`` kB (highlighted by highlight.js), left open."""
    return "```python\n" + grow(kb * 1000, lambda i: f"def f{i}(x: int) -> str:  # line {i}\n    return 'v' * x + \"{i}\"\n\n")


def grow(size: int, line: Callable[[int], str]) -> str:
    out: list[str] = []
    total, i = 0, 0
    while total < size:
        out.append(line(i))
        total += len(out[-1])
        i += 1
    return "".join(out)


KINDS = {"table": table, "list": items, "code": code}


def measure(browser: Any, script: pathlib.Path | None, text: str, delta: int) -> dict[str, float]:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable", {"timeDomain": "threadTicks"})
    open_bundle_page(page, "chat", PAGE, script=script)
    chunks = [text[i : i + delta] for i in range(0, len(text), delta)]
    before = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    got = page.evaluate("(c) => stream(c)", chunks)
    after = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    page.close()
    task = after["TaskDuration"] - before["TaskDuration"]
    return {"task": task, "longest": got["longest"] / 1000, "per_update": task / len(chunks), "updates": len(chunks),
            "chars": got["chars"]}


def main() -> None:
    scratch_store()  # never the user's own log (nothing here writes one; the rule holds for every benchmark)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[60, 230], help="table sizes in kB")
    ap.add_argument("--kinds", nargs="+", choices=KINDS, default=["table"], help="what streams: a table, a list, a code block")
    ap.add_argument("--delta", type=int, default=500, help="characters per delta")
    ap.add_argument("--before", metavar="REF", default="f382c01", help="git ref of the before bundle")
    args = ap.parse_args()
    before = build_bundle(args.before, pathlib.Path(tempfile.mkdtemp(prefix="onb-bench-")))
    with sync_playwright() as p:
        browser = launch_chromium(p)
        for kind, kb in [(k, kb) for k in args.kinds for kb in args.sizes]:
            text = KINDS[kind](kb)
            runs = {name: measure(browser, script, text, args.delta) for name, script in (("before", before), ("now", None))}
            b, n = runs["before"], runs["now"]
            if b["chars"] != n["chars"]:
                raise SystemExit(f"the two bundles show different text: {b['chars']} and {n['chars']} characters")
            print(f"{len(text) / 1000:.0f} kB {kind}, {n['updates']} deltas of {args.delta}:")
            for name, r in runs.items():
                print(f"  {name:>6}: main thread {r['task']:.2f} s, longest task {r['longest'] * 1000:.0f} ms,"
                      f" {r['per_update'] * 1000:.1f} ms per update")
            print(f"  ratio: main thread x{b['task'] / n['task']:.1f}, longest task x{b['longest'] / max(n['longest'], 1e-3):.1f}",
                  flush=True)
        browser.close()


if __name__ == "__main__":
    main()
