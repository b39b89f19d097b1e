"""Main-thread time of the browser while a long answer streams: ChatWidget against ``%%ollama``.

A real JupyterLab in headless Chromium, a real kernel, and the emulator's ``paced`` model (a long
Markdown answer: headings, paragraphs with inline math, lists, code, tables) at ``--rate`` tokens
per second (the prompt names the pace). The same answer is streamed into a ``%%ollama`` cell (the
baseline: the kernel renders, JupyterLab shows the HTML) and into a ChatWidget (our front end
renders), at ``--short`` and ``--tokens`` tokens. For each, the page's main-thread time from
Chrome's own counters (CDP ``Performance.getMetrics``: TaskDuration, ScriptDuration), read before
the cell runs and after the answer is on screen.

Printed: seconds per run, the ChatWidget / ``%%ollama`` ratio at each length (target <= 1.2 at
``--tokens``), and each view's growth from ``--short`` to ``--tokens`` against the length ratio
(linear: about 1.0). ``--before REF`` also measures the chat bundle built from the sources at git
ref REF (e.g. ``main``), served by the same widget class, for a before/after in one run.

Measured (2 shared cores, 300 tokens/s, Chrome thread time; --before e3e6a5e, the bundle that
re-rendered the whole answer per frame): 20 000 tokens, ChatWidget 14.5 s -> 5.4 s against %%ollama's
12.5-15.2 s (ratio 1.16 -> 0.35); 5 000 tokens 3.65 s -> 2.56 s (1.40 -> 0.79); script time 4.9 s -> 1.2 s.

A long conversation (``--turns``, default 100): a ChatWidget is displayed once and answers turn
after turn, typed into its box and sent with Enter as a teacher would. Turn 1 and turn N stream the
same answer (``--turn-tokens`` of paced:latest at ``--rate``); the turns between stream the same
text fast. For the two measured turns: Chrome's main-thread time, the number of comm messages the
page received for the widget (every delta, trait update and partial: one view update each) and
their bytes. Printed: ms per update at turn 1 and at turn N, and their ratio (target <= 1.5: an
update costs the same whatever came before it), the bytes per update, and each measured turn split
into its streaming (deltas, patches, busy) and the output refresh after it (the static copy's
update_display_data, which JupyterLab answers by rendering the widget's output again).

Measured (2 shared cores, 100 turns of 400 tokens, 300 tokens/s; before = b64739a, same script):
before, 12.9 -> 75.6 ms per update (ratio 5.9), 33.7 kB -> 573 kB per turn (the whole transcript,
twice per turn; and one more live view per turn, as JupyterLab never cleaned up the view it
emptied). After: 10.3 -> 27.6 ms (ratio 2.7), 28 kB -> 26 kB per turn; script time flat (96 -> 86 ms
per turn); the streaming part 347 -> 420 ms per turn (x1.2); what still grows is the refresh after
the turn, 4 -> 407 ms (layout 198 ms): JupyterLab re-inserts the whole conversation's DOM, and its
table of contents sanitizes the whole static copy again and renumbers every heading (a profile).

Usage: python benchmarks/widget_browser.py [--tokens 20000] [--short 5000] [--rate 300] [--before REF]
       [--turns 100] [--turn-tokens 400] [--part answer|turns|all]
"""

from __future__ import annotations

import argparse
import os
import pathlib
import subprocess
import sys
import tempfile
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, sync_playwright
from scratch_store import scratch_store

from ollama_nb.testing import Emulator
from tests.browser.lab import (
    KernelFrames,
    after_frames,
    cell_output_locator,
    launch_chromium,
    open_notebook,
    run_cell,
    start_lab,
    write_notebook,
)

TARGET_RATIO = 1.2
TURN_TARGET = 1.5  # ms per update at turn N / at turn 1


def build_bundle(ref: str, out: pathlib.Path) -> pathlib.Path:
    """The chat bundle as the sources at ``ref`` build it (this checkout's node_modules)."""
    src = out / "src"
    src.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "js", "ollama_nb/_render/policy.json"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
    (src / "js" / "node_modules").symlink_to(ROOT / "js" / "node_modules")
    subprocess.run(["node", "build.mjs", "--outdir", str(out / "static")], cwd=src / "js", check=True)
    return out / "static" / "chat.js"


def metrics(cdp: Any) -> dict[str, float]:
    return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}


def measure(page: Page, cdp: Any, cell: int, shown_in: int, done: str, timeout_s: float) -> dict[str, float]:
    """Main-thread seconds (task, script) from running ``cell`` until ``done`` (a selector) shows
    in the output of cell ``shown_in``."""
    before = metrics(cdp)
    run_cell(page, cell, wait=True, timeout=timeout_s * 1000)
    try:
        cell_output_locator(page, shown_in).locator(done).first.wait_for(timeout=timeout_s * 1000)
    except Exception:
        tail = cell_output_locator(page, shown_in).inner_text()[-600:]
        raise SystemExit(f"cell {shown_in} never showed {done!r}; its output ends with:\n{tail}") from None
    after = metrics(cdp)
    return {k: after[k] - before[k] for k in ("TaskDuration", "ScriptDuration")}


def cells(tokens: int, rate: float, bundle: pathlib.Path | None) -> list[str]:
    prompt = f"Write the long answer at {rate:g} tokens/s."
    swap = f"ChatWidget._esm = pathlib.Path({str(bundle)!r}).read_text()\n" if bundle else ""
    return [
        "%load_ext ollama_nb\nimport pathlib\nfrom ollama_nb import ChatWidget",
        f"%%ollama -m paced -o num_predict={tokens}\n{prompt}",
        f"{swap}chat = ChatWidget(model='paced:latest', options={{'num_predict': {tokens}}})\nchat",
        # ask() once the kernelapi rename lands, send() before
        f"(getattr(chat, 'ask', None) or chat.send)({prompt!r})",
    ]


def run(browser: Any, lab_root: pathlib.Path, lab_url: str, tokens: int, rate: float,
        bundle: pathlib.Path | None, name: str) -> dict[str, dict[str, float]]:
    """One fresh page (and kernel) per run, so no run pays for another's leftovers."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable", {"timeDomain": "threadTicks"})
    write_notebook(lab_root, f"{name}.ipynb", cells(tokens, rate, bundle))
    open_notebook(page, lab_url, f"{name}.ipynb")
    timeout = 120 + 5 * tokens / rate
    run_cell(page, 0)
    magic = measure(page, cdp, 1, 1, ".onb-footer:has-text('tok/s')", timeout)  # the final frame's stats
    run_cell(page, 2, timeout=60_000)
    cell_output_locator(page, 2).locator(".onb-chat").wait_for()
    chat = measure(page, cdp, 3, 2, ".onb-msg-assistant[data-status='done']", timeout)
    page.evaluate("() => window.jupyterapp.serviceManager.sessions.shutdownAll()")
    page.close()
    return {"magic": magic, "chat": chat}


def turn_cells(tokens: int, bundle: pathlib.Path | None) -> list[str]:
    swap = f"ChatWidget._esm = pathlib.Path({str(bundle)!r}).read_text()\n" if bundle else ""
    return [
        "%load_ext ollama_nb\nimport pathlib\nfrom ollama_nb import ChatWidget",
        f"{swap}chat = ChatWidget(model='paced:latest', options={{'num_predict': {tokens}}})\nchat",
    ]


def run_turns(browser: Any, lab_root: pathlib.Path, lab_url: str, turns: int, tokens: int, rate: float,
              bundle: pathlib.Path | None, name: str) -> dict[int, dict[str, float]]:
    """Turns 1..``turns`` typed into one ChatWidget; turn 1 and the last one measured."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable", {"timeDomain": "threadTicks"})
    frames = KernelFrames(page)
    write_notebook(lab_root, f"{name}.ipynb", turn_cells(tokens, bundle))
    open_notebook(page, lab_url, f"{name}.ipynb")
    run_cell(page, 0)
    run_cell(page, 1, timeout=60_000)
    out = cell_output_locator(page, 1)
    out.locator(".onb-chat").wait_for()
    box = out.locator(".onb-chat-input")
    done = out.locator(".onb-msg-assistant[data-status='done']")
    timeout = (120 + 5 * tokens / rate) * 1000
    measured: dict[int, dict[str, float]] = {}
    # Waiting polls a few properties every 100 ms (a CSS query per frame, as a locator's wait does,
    # would itself cost main-thread time that grows with the page).
    finished = """(n) => { const log = document.querySelector('.jp-OutputArea .onb-chat-log');
                           const send = document.querySelector('.jp-OutputArea .onb-chat-send');
                           const last = log && log.lastElementChild;
                           return !!last && log.children.length >= 2 * n && last.dataset.status === 'done'
                                  && send.textContent === 'Send'; }"""
    for k in range(1, turns + 1):
        measure_this = k in (1, turns)
        pace = rate if measure_this else 100_000  # the turns between: the same answer, at once
        before, count, size = metrics(cdp), frames.count, frames.bytes
        box.fill(f"Question {k}: write the long answer at {pace:g} tokens/s.")
        box.press("Enter")
        try:
            page.wait_for_function(finished, arg=k, timeout=timeout, polling=100)
        except Exception:
            raise SystemExit(f"turn {k} never finished; {done.count()} answers done") from None
        streamed = metrics(cdp) if measure_this else {}
        # The turn ends with the static copy refreshed (JupyterLab renders the output again): wait
        # for it and the frames that show it, so each turn pays for its own refresh.
        while frames.displays < k:
            after_frames(page, 1)
        after_frames(page, 2)
        if measure_this:
            after = metrics(cdp)
            print(f"    turn {k:>4}: streamed {(streamed['TaskDuration'] - before['TaskDuration']) * 1000:.0f} ms"
                  f" (layout {(streamed['LayoutDuration'] - before['LayoutDuration']) * 1000:.0f}),"
                  f" then the output refreshed {(after['TaskDuration'] - streamed['TaskDuration']) * 1000:.0f} ms"
                  f" (layout {(after['LayoutDuration'] - streamed['LayoutDuration']) * 1000:.0f})", flush=True)
            updates = frames.count - count
            measured[k] = {"task": after["TaskDuration"] - before["TaskDuration"],
                           "script": after["ScriptDuration"] - before["ScriptDuration"],
                           "layout": after["LayoutDuration"] - before["LayoutDuration"],
                           "style": after["RecalcStyleDuration"] - before["RecalcStyleDuration"],
                           "updates": updates, "bytes": frames.bytes - size}
            m = measured[k]
            print(f"    turn {k:>4}: {m['task'] * 1000:.0f} ms main thread (script {m['script'] * 1000:.0f},"
                  f" layout {m['layout'] * 1000:.0f}, style {m['style'] * 1000:.0f}),"
                  f" {updates} updates, {m['bytes'] / 1000:.1f} kB", flush=True)
    page.evaluate("() => window.jupyterapp.serviceManager.sessions.shutdownAll()")
    page.close()
    return measured


def report_turns(label: str, turns: int, m: dict[int, dict[str, float]]) -> None:
    first, last = m[1], m[turns]
    per = {k: m[k]["task"] * 1000 / max(1, m[k]["updates"]) for k in (1, turns)}
    ratio = per[turns] / per[1]
    verdict = "ok" if ratio <= TURN_TARGET else "OVER"
    print(f"  {label:>8}: ms per update: turn 1 {per[1]:.2f}, turn {turns} {per[turns]:.2f},"
          f" ratio {ratio:.2f} (target <= {TURN_TARGET}: {verdict})")
    print(f"  {label:>8}: bytes per update: turn 1 {first['bytes'] / max(1, first['updates']):.0f},"
          f" turn {turns} {last['bytes'] / max(1, last['updates']):.0f}"
          f" (whole turn: {first['bytes'] / 1000:.1f} kB -> {last['bytes'] / 1000:.1f} kB)")


def main() -> None:
    scratch_store()  # never the user's own log
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tokens", type=int, default=20_000)
    ap.add_argument("--short", type=int, default=5_000)
    ap.add_argument("--rate", type=float, default=300.0, help="tokens per second")
    ap.add_argument("--before", metavar="REF", help="also measure the chat bundle built from git ref REF")
    ap.add_argument("--turns", type=int, default=100, help="turns of the long conversation")
    ap.add_argument("--turn-tokens", type=int, default=400, help="tokens of each turn's answer")
    ap.add_argument("--part", choices=("answer", "turns", "all"), default="all")
    args = ap.parse_args()

    tmp = pathlib.Path(tempfile.mkdtemp(prefix="onb-bench-"))
    bundles: dict[str, pathlib.Path | None] = {"now": None}
    if args.before:
        bundles = {f"{args.before}": build_bundle(args.before, tmp / "before"), "now": None}

    results: dict[tuple[str, int], dict[str, dict[str, float]]] = {}
    turn_results: dict[str, dict[int, dict[str, float]]] = {}
    with Emulator(scenarios=True) as emu:
        # Every output shown: %%ollama streams an answer as one output per finished block, and past
        # JupyterLab's default of 50 the rest would sit unrendered behind "Show more outputs" (0,
        # "no limit" in the settings' description, trims everything in JupyterLab 4.x's OutputArea).
        lab = start_lab(tmp / "lab", env={"OLLAMA_HOST": emu.url, "PYTHONPATH": str(ROOT)}, log_name="bench-lab",
                        overrides={"@jupyterlab/notebook-extension:tracker": {"maxNumberOutputs": 10**9}})
        try:
            with sync_playwright() as pw:
                browser = launch_chromium(pw)
                for label, bundle in bundles.items():
                    if args.part == "answer":
                        break
                    print(f"{label:>8}: {args.turns} turns of {args.turn_tokens} tokens", flush=True)
                    turn_results[label] = run_turns(browser, lab.root, lab.url, args.turns, args.turn_tokens,
                                                    args.rate, bundle, f"turns-{label.replace('/', '-')}")
                for label, bundle in bundles.items():
                    if args.part == "turns":
                        break
                    for tokens in (args.short, args.tokens):
                        name = f"bench-{label.replace('/', '-')}-{tokens}"
                        results[(label, tokens)] = run(browser, lab.root, lab.url, tokens, args.rate, bundle, name)
                        r = results[(label, tokens)]
                        print(f"{label:>8} {tokens:>6} tokens: %%ollama {r['magic']['TaskDuration']:.2f} s "
                              f"(script {r['magic']['ScriptDuration']:.2f}), ChatWidget {r['chat']['TaskDuration']:.2f} s "
                              f"(script {r['chat']['ScriptDuration']:.2f})", flush=True)
                browser.close()
        finally:
            lab.stop()

    if turn_results:
        print()
        print(f"main-thread time per view update, turn 1 vs turn {args.turns} (same answer, same pace)")
        for label, m in turn_results.items():
            report_turns(label, args.turns, m)
    if not results:
        return
    print()
    print(f"main-thread time while {args.tokens} tokens stream at {args.rate:.0f} tokens/s (Chrome TaskDuration)")
    growth_target = args.tokens / args.short
    for label in bundles:
        short, long = results[(label, args.short)], results[(label, args.tokens)]
        ratio = long["chat"]["TaskDuration"] / long["magic"]["TaskDuration"]
        ratio_short = short["chat"]["TaskDuration"] / short["magic"]["TaskDuration"]
        grow_chat = long["chat"]["TaskDuration"] / short["chat"]["TaskDuration"]
        grow_magic = long["magic"]["TaskDuration"] / short["magic"]["TaskDuration"]
        verdict = "ok" if ratio <= TARGET_RATIO else "OVER"
        print(f"  {label:>8}: ChatWidget / %%ollama = {ratio:.2f} at {args.tokens} (target <= {TARGET_RATIO}: {verdict}),"
              f" {ratio_short:.2f} at {args.short}")
        print(f"  {label:>8}: growth {args.short} -> {args.tokens}: ChatWidget x{grow_chat:.2f}, %%ollama x{grow_magic:.2f}"
              f" (linear: x{growth_target:.1f}; ChatWidget per length x{grow_chat / growth_target:.2f})")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
