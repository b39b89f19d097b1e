"""What ``%%ollama`` costs over a bare client loop, and how live it feels at a real model's pace.

In one real IPython kernel, against the emulator in its own process (so it does not share the
kernel's GIL):

**Bulk** (the 20 000-token ``bulk`` stream, as fast as the server can write):

- bare:   ``for _ in client.chat("bulk", ..., stream=True): pass`` in the kernel (prints nothing)
- magic:  ``%%ollama -m bulk -o num_predict=20000`` (live Markdown display, final footer)

Both are timed inside the kernel (``perf_counter`` around each), alternated within one execute
request, ``--repeat`` times; the wall ratio is the median of the per-pair ratios, and (less sensitive
to other load on the machine) the ratio of the fastest runs.

**Paced** (``paced:latest``: a 2 000-token Markdown answer at 30 and 100 tokens/s, the pace of a big
model on a laptop and of a small one on a GPU). Measured from the kernel side: the arrival of every
chunk (when the client merged it) against the display message that first contains it (the display
publisher is wrapped to note, for each message, how many chunks had arrived when it was rendered).

Targets, for every stream:

- updates per second while tokens arrive (display messages between the first and last chunk)  >= 4
  (checked as: no interval between two of them over 250 ms)
- longest wait from a chunk's arrival to the message that first shows it                    <= 300 ms
- IOPub bytes / final text (all display messages' JSON content / the answer's UTF-8 bytes)   <= 3
  (printed with the floor any sender could reach with these messages at that update rate: the
  final outputs once plus an empty update's envelope per update)
- wall ratio magic / bare on bulk                                                             <= 1.1

And in fresh kernels: ``%load_ext ollama_nb`` against ``import requests`` (its heaviest import).

The log (``ollama_nb.log``) is on in a temporary file, as it is by default; ``--store off`` turns
it off, and ``--store both`` measures the bulk pairs with it off and on in the same run and prints
the two wall ratios and magic(on) / magic(off): what logging costs the stream.

Usage: python benchmarks/magic.py [--tokens 20000] [--repeat 7] [--paced-tokens 2000] [--rates 30,100]
       [--store on|off|both]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from kernel_helpers import Kernel
from scratch_store import scratch_store

from ollama_nb.testing import Emulator

TARGETS = {"wall": 1.1, "bytes": 3.0, "rate": 4.0, "gap": 0.3}
DISPLAY = ("display_data", "update_display_data")


def timed(kernel: Kernel, code: str, timeout: float = 300):
    """Run ``code`` in the kernel, timed there; returns (seconds, Execution)."""
    wrapped = (
        "import time as _t\n_t0 = _t.perf_counter()\n"
        f"{code}\n"
        "print('__elapsed__', _t.perf_counter() - _t0)"
    )
    ex = kernel.run(wrapped, timeout=timeout).check()
    line = [x for x in ex.stdout.splitlines() if x.startswith("__elapsed__")][-1]
    return float(line.split()[1]), ex


# Both variants run alternately inside one execute request, timed by the kernel itself: nothing
# differs between them but the loop body, and the harness reads messages the same way for both.
PAIRS = """
import time as _t, json as _j
_msgs = [{{'role': 'user', 'content': 'go'}}]
_times = []
for _i in range({repeat}):
    print('__run__', _i)
    _t0 = _t.perf_counter()
    for _ in _client.chat('bulk', messages=_msgs, options={{'num_predict': {tokens}}}, stream=True):
        pass
    _t1 = _t.perf_counter()
    get_ipython().run_cell_magic('ollama', f'-m bulk -o num_predict={tokens} --chat bench{{_i}}', 'go')
    _t2 = _t.perf_counter()
    _times.append((_t1 - _t0, _t2 - _t1))
print('__times__', _j.dumps(_times))
"""


def measure_stream(url: str, tokens: int, repeat: int, store: str) -> dict:
    with Kernel(env={"OLLAMA_HOST": url, "OLLAMA_NB_STORE": store}) as kernel:
        kernel.run("%load_ext ollama_nb").check()
        kernel.run("from ollama_nb._config import default_client\n_client = default_client()").check()
        kernel.run(PAIRS.format(repeat=1, tokens=200)).check()  # warm up: pool, imports, first display
        # IOPub is read after the run, so this process takes no CPU from the kernel meanwhile.
        ex = kernel.run_quietly(PAIRS.format(repeat=repeat, tokens=tokens), timeout=600).check()
        line = [x for x in ex.stdout.splitlines() if x.startswith("__times__")][-1]
        times = json.loads(line.split(" ", 1)[1])
        runs = _split_runs(ex)
        bare, magic, ratios, byte_ratios, rates, updates = [], [], [], [], [], []
        for (b, m), displays in zip(times, runs):
            text_bytes = _answer_bytes(displays)
            sent = _content_bytes(displays)
            bare.append(b)
            magic.append(m)
            ratios.append(m / b)
            byte_ratios.append(sent / text_bytes)
            updates.append(len(displays))
            rates.append(updates[-1] / m)
            print(f"  run {len(bare)}: bare {b * 1000:.0f} ms, magic {m * 1000:.0f} ms, ratio {m / b:.2f}, "
                  f"{updates[-1]} display messages, {byte_ratios[-1]:.2f}x bytes", file=sys.stderr)
        # One more run, instrumented (the wrappers cost a little per chunk: not in the timed pairs).
        live = measure_live(kernel, f"-m bulk -o num_predict={tokens} --chat benchlive")
        return {
            "bare_s": median(bare),
            "magic_s": median(magic),
            "wall_ratio": median(ratios),
            "best_ratio": min(magic) / min(bare),
            "magic_best_s": min(magic),
            "bytes_ratio": median(byte_ratios),
            "updates": median(updates),
            "updates_per_s": median(rates),
            "text_bytes": text_bytes,
            "live": live,
        }


def min_ratio(on: dict, off: dict) -> float:
    return float(on["magic_best_s"] / off["magic_best_s"])


def _split_runs(ex) -> list[list[dict]]:
    """The display messages of each magic run of one execute request (split at its ``__run__`` marks)."""
    runs: list[list[dict]] = []
    for msg in ex.iopub:
        kind = msg["header"]["msg_type"]
        if kind == "stream" and "__run__" in msg["content"]["text"]:
            runs.append([])
        elif kind in DISPLAY and runs:
            runs[-1].append(msg)
    return runs


def _content_bytes(displays: list[dict]) -> int:
    return sum(len(json.dumps(msg["content"], ensure_ascii=False).encode()) for msg in displays)


def _answer_bytes(displays: list[dict]) -> int:
    """UTF-8 bytes of the answer: the last text/plain any display of the run ended with, without
    its footer line."""
    plain = [m["content"]["data"]["text/plain"] for m in displays if "text/plain" in m["content"]["data"]]
    return len(plain[-1].rsplit("\n\n", 1)[0].encode())


# Installed in the kernel for one run: note when each chunk with answer text arrives and, for each
# display message, how many such chunks its content was rendered from.
PROBE = """
import time as _t, json as _j
from ollama_nb import _reply as _reply_mod
_arrivals, _published = [], []
_orig_add = _reply_mod.Reply.add
def _probe_add(self, obj, _orig=_orig_add):
    n = len(self._content)
    _orig(self, obj)
    if len(self._content) > n:
        _arrivals.append(_t.perf_counter())
_dp = get_ipython().display_pub
_orig_publish = _dp.publish
def _probe_publish(*a, _orig=_orig_publish, **k):
    _published.append((_t.perf_counter(), len(_arrivals)))
    return _orig(*a, **k)
_reply_mod.Reply.add = _probe_add
_dp.publish = _probe_publish
try:
    get_ipython().run_cell_magic('ollama', {line!r}, {prompt!r})
finally:
    _reply_mod.Reply.add = _orig_add
    _dp.publish = _orig_publish
print('__probe__', _j.dumps({{'arrivals': _arrivals, 'published': _published}}))
"""


def measure_live(kernel: Kernel, line: str, prompt: str = "go", timeout: float = 900) -> dict:
    """One instrumented magic run: update rate while tokens arrive, longest arrival-to-display wait,
    bytes sent per byte of answer."""
    ex = kernel.run_quietly(PROBE.format(line=line, prompt=prompt), timeout=timeout).check()
    probe = json.loads([x for x in ex.stdout.splitlines() if x.startswith("__probe__")][-1].split(" ", 1)[1])
    arrivals, published = probe["arrivals"], probe["published"]
    first, last = arrivals[0], arrivals[-1]
    during = [t for t, _ in published if first <= t <= last]
    waits, j = [], 0
    for t, shown in published:  # published is in time order; each message shows chunks [0, shown)
        while j < shown:
            waits.append(t - arrivals[j])
            j += 1
    gaps = [b - a for a, b in itertools.pairwise(during)]
    displays = ex.of(*DISPLAY)
    return {
        "chunks": len(arrivals),
        "seconds": last - first,
        "messages": len(displays),
        "rate": (len(during) - 1) / (last - first) if len(during) > 1 and last > first else float("inf"),
        "max_wait": max(waits),
        "max_interval": max(gaps, default=0.0),
        "bytes_ratio": _content_bytes(displays) / _answer_bytes(displays),
        "wire_ratio": sum(len(json.dumps(m, default=str).encode()) for m in displays) / _answer_bytes(displays),
        "text_bytes": _answer_bytes(displays),
        "floor": _floor(displays, last - first),
    }


def _floor(displays: list[dict], seconds: float) -> float:
    """The least IOPub bytes / text any sender could reach with these messages: the final outputs'
    content once (the answer as HTML and as text/plain, the footer, the stylesheet) plus, for
    TARGETS["rate"] updates a second while tokens arrive, one update carrying nothing but its
    envelope (a display id, empty data and metadata)."""
    last: dict[str, dict] = {}
    for msg in displays:
        last[msg["content"]["transient"]["display_id"]] = msg["content"]
    final = sum(len(json.dumps(c, ensure_ascii=False).encode()) for c in last.values())
    some_id = next(iter(last), "")
    envelope = len(json.dumps({"data": {"text/html": ""}, "metadata": {}, "transient": {"display_id": some_id}}).encode())
    return (final + TARGETS["rate"] * seconds * envelope) / _answer_bytes(displays)


def measure_paced(url: str, tokens: int, rates: list[float]) -> dict[float, dict]:
    with Kernel(env={"OLLAMA_HOST": url}) as kernel:
        kernel.run("%load_ext ollama_nb").check()
        measure_live(kernel, "-m paced -o num_predict=50 --chat warm", "at 1000 tokens/s")
        return {rate: measure_live(kernel, f"-m paced -o num_predict={tokens} --chat paced{rate:g}", f"at {rate:g} tokens/s")
                for rate in rates}


def measure_load(repeat: int) -> dict:
    requests_s, load_s = [], []
    for _ in range(repeat):
        with Kernel() as kernel:
            requests_s.append(timed(kernel, "import requests")[0])
        with Kernel() as kernel:
            load_s.append(timed(kernel, "get_ipython().run_line_magic('load_ext', 'ollama_nb')")[0])
    return {"import_requests_s": median(requests_s), "load_ext_s": median(load_s)}


def _report(name: str, live: dict, ok: dict[str, bool], mark: dict[bool, str]) -> None:
    print(f"  {name}: {live['chunks']} chunks in {live['seconds']:.1f} s, {live['messages']} display messages, "
          f"final text {live['text_bytes'] / 1000:.1f} kB")
    print(f"    updates/s while tokens arrive {live['rate']:6.1f}    target >= {TARGETS['rate']:.0f}      {mark[ok['rate']]}"
          f"   (longest interval {live['max_interval'] * 1000:.0f} ms)")
    print(f"    longest arrival->display      {live['max_wait'] * 1000:6.0f} ms target <= {TARGETS['gap'] * 1000:.0f}   {mark[ok['gap']]}")
    print(f"    IOPub bytes / text            {live['bytes_ratio']:6.2f} x  target <= {TARGETS['bytes']:.0f}      {mark[ok['bytes']]}"
          f"   (wire, with headers: {live['wire_ratio']:.2f} x; floor at {TARGETS['rate']:.0f} updates/s: {live['floor']:.2f} x)")


def _live_ok(live: dict) -> dict[str, bool]:
    # >= 4 updates a second: no interval between two longer than 1/4 s (a stream shorter than a
    # second has too few intervals for a mean to say it).
    return {"rate": live["max_interval"] <= 1 / TARGETS["rate"], "gap": live["max_wait"] <= TARGETS["gap"],
            "bytes": live["bytes_ratio"] <= TARGETS["bytes"]}


def main() -> int:
    store_on = str(scratch_store())  # never the user's own log; every kernel started here inherits it
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--paced-tokens", type=int, default=2_000)
    parser.add_argument("--rates", default="30,100", help="tokens/s of the paced runs ('' for none)")
    parser.add_argument("--no-load", action="store_true", help="skip the %%load_ext timing")
    parser.add_argument("--store", choices=["on", "off", "both"], default="on", help="the log during the bulk pairs")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",") if r.strip()]

    with Emulator(process=True, scenarios=True) as emu:
        off = measure_stream(emu.url, args.tokens, args.repeat, "off") if args.store != "on" else None
        stream = measure_stream(emu.url, args.tokens, args.repeat, store_on) if args.store != "off" else off
        assert stream is not None
        paced = measure_paced(emu.url, args.paced_tokens, rates) if rates else {}
    load = None if args.no_load else measure_load(3)

    mark = {True: "ok", False: "MISSED"}
    ok = {"wall": stream["wall_ratio"] <= TARGETS["wall"]}
    print(f"{args.tokens}-token bulk stream, median of {args.repeat} (emulator in its own process)")
    print(f"  bare client loop     {stream['bare_s'] * 1000:8.0f} ms")
    print(f"  %%ollama             {stream['magic_s'] * 1000:8.0f} ms   ({stream['updates']:.0f} display messages)")
    print(f"  wall ratio           {stream['wall_ratio']:8.2f} x    target <= {TARGETS['wall']}   {mark[ok['wall']]}"
          f"   (fastest runs: {stream['best_ratio']:.2f} x)")
    print(f"  IOPub bytes / text   {stream['bytes_ratio']:8.2f} x    (final text {stream['text_bytes'] / 1000:.0f} kB)")
    checks = [ok["wall"]]
    if off is not None and off is not stream:
        print(f"  store off: wall ratio {off['wall_ratio']:.2f} x (fastest {off['best_ratio']:.2f} x); store on: "
              f"{stream['wall_ratio']:.2f} x (fastest {stream['best_ratio']:.2f} x); "
              f"magic on / off {stream['magic_s'] / off['magic_s']:.3f} x (fastest {min_ratio(stream, off):.3f} x)")
    live_ok = _live_ok(stream["live"])
    _report("bulk, instrumented run", stream["live"], live_ok, mark)
    checks += live_ok.values()
    for rate, live in paced.items():
        live_ok = _live_ok(live)
        print(f"paced:latest, {args.paced_tokens} tokens at {rate:g} tokens/s")
        _report("magic", live, live_ok, mark)
        checks += live_ok.values()
    if load:
        print("fresh kernels, median of 3")
        print(f"  import requests      {load['import_requests_s'] * 1000:8.0f} ms")
        print(f"  %load_ext ollama_nb  {load['load_ext_s'] * 1000:8.0f} ms   "
              f"({load['load_ext_s'] / load['import_requests_s']:.1f}x import requests; includes it)")
    return 0 if all(checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
