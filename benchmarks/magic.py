"""What ``%%ollama`` costs over a bare client loop, and what it sends to the front end.

In one real IPython kernel, against the emulator in its own process (so it does not share the
kernel's GIL), on the 20 000-token ``bulk`` stream (as fast as the server can write):

- bare:   ``for _ in client.chat("bulk", ..., stream=True): pass`` in the kernel (prints nothing)
- magic:  ``%%ollama -m bulk -o num_predict=20000`` (live Markdown display, final footer)

Both are timed inside the kernel (``perf_counter`` around each), alternated within one execute
request, ``--repeat`` times; the wall ratio is the median of the per-pair ratios, and (less sensitive to other load on
the machine) the ratio of the fastest runs. From the magic's IOPub messages, as the front end receives them:

- wall ratio           magic / bare                                   target ≤ 1.2
- IOPub bytes ÷ text   all display messages (JSON) / final text bytes target ≤ 20
- updates per second   update_display_data messages / magic wall     target ≤ 20

And in fresh kernels: ``%load_ext ollama_nb`` against ``import requests`` (its heaviest import).

Usage: python benchmarks/magic.py [--tokens 20000] [--repeat 15]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from kernel_helpers import Kernel  # noqa: E402

from ollama_nb.testing import Emulator  # noqa: E402

TARGETS = {"wall": 1.2, "bytes": 20.0, "rate": 20.0}


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
    _t0 = _t.perf_counter()
    for _ in _client.chat('bulk', messages=_msgs, options={{'num_predict': {tokens}}}, stream=True):
        pass
    _t1 = _t.perf_counter()
    get_ipython().run_cell_magic('ollama', f'-m bulk -o num_predict={tokens} --chat bench{{_i}}', 'go')
    _t2 = _t.perf_counter()
    _times.append((_t1 - _t0, _t2 - _t1))
print('__times__', _j.dumps(_times))
"""


def measure_stream(url: str, tokens: int, repeat: int) -> dict:
    with Kernel(env={"OLLAMA_HOST": url}) as kernel:
        kernel.run("%load_ext ollama_nb").check()
        kernel.run("from ollama_nb.config import default_client\n_client = default_client()").check()
        kernel.run(PAIRS.format(repeat=1, tokens=200)).check()  # warm up: pool, imports, first display
        # IOPub is read after the run, so this process takes no CPU from the kernel meanwhile.
        ex = kernel.run_quietly(PAIRS.format(repeat=repeat, tokens=tokens), timeout=600).check()
        line = [x for x in ex.stdout.splitlines() if x.startswith("__times__")][-1]
        times = json.loads(line.split(" ", 1)[1])
        # Each magic run has its own display id: group its messages.
        runs: dict[str, list] = {}
        for msg in ex.of("display_data", "update_display_data"):
            runs.setdefault(msg["content"]["transient"]["display_id"], []).append(msg)
        bare, magic, ratios, byte_ratios, rates, updates = [], [], [], [], [], []
        for (b, m), displays in zip(times, runs.values()):
            final = displays[-1]["content"]["data"]["text/plain"]
            text = final.rsplit("\n\n", 1)[0]  # without the footer line
            sent = sum(len(json.dumps(msg["content"], ensure_ascii=False).encode()) for msg in displays)
            bare.append(b)
            magic.append(m)
            ratios.append(m / b)
            byte_ratios.append(sent / len(text.encode()))
            updates.append(len([d for d in displays if d["header"]["msg_type"] == "update_display_data"]))
            rates.append(updates[-1] / m)
            print(f"  run {len(bare)}: bare {b * 1000:.0f} ms, magic {m * 1000:.0f} ms, ratio {m / b:.2f}, "
                  f"{updates[-1]} updates, {byte_ratios[-1]:.2f}x bytes", file=sys.stderr)
        return {
            "bare_s": median(bare),
            "magic_s": median(magic),
            "wall_ratio": median(ratios),
            "best_ratio": min(magic) / min(bare),
            "bytes_ratio": median(byte_ratios),
            "updates": median(updates),
            "updates_per_s": median(rates),
            "text_bytes": len(text.encode()),
        }


def measure_load(repeat: int) -> dict:
    requests_s, load_s = [], []
    for _ in range(repeat):
        with Kernel() as kernel:
            requests_s.append(timed(kernel, "import requests")[0])
        with Kernel() as kernel:
            load_s.append(timed(kernel, "get_ipython().run_line_magic('load_ext', 'ollama_nb')")[0])
    return {"import_requests_s": median(requests_s), "load_ext_s": median(load_s)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    with Emulator(process=True, scenarios=True) as emu:
        stream = measure_stream(emu.url, args.tokens, args.repeat)
    load = measure_load(3)

    ok = {
        "wall": stream["wall_ratio"] <= TARGETS["wall"],
        "bytes": stream["bytes_ratio"] <= TARGETS["bytes"],
        "rate": stream["updates_per_s"] <= TARGETS["rate"],
    }
    mark = {True: "ok", False: "MISSED"}
    print(f"{args.tokens}-token bulk stream, median of {args.repeat} (emulator in its own process)")
    print(f"  bare client loop     {stream['bare_s'] * 1000:8.0f} ms")
    print(f"  %%ollama             {stream['magic_s'] * 1000:8.0f} ms   ({stream['updates']:.0f} display updates)")
    print(f"  wall ratio           {stream['wall_ratio']:8.2f} x    target <= {TARGETS['wall']}   {mark[ok['wall']]}"
          f"   (fastest runs: {stream['best_ratio']:.2f} x)")
    print(f"  IOPub bytes / text   {stream['bytes_ratio']:8.2f} x    target <= {TARGETS['bytes']:.0f}    {mark[ok['bytes']]}"
          f"   (final text {stream['text_bytes'] / 1000:.0f} kB)")
    print(f"  updates per second   {stream['updates_per_s']:8.1f}      target <= {TARGETS['rate']:.0f}    {mark[ok['rate']]}")
    print("fresh kernels, median of 3")
    print(f"  import requests      {load['import_requests_s'] * 1000:8.0f} ms")
    print(f"  %load_ext ollama_nb  {load['load_ext_s'] * 1000:8.0f} ms   "
          f"({load['load_ext_s'] / load['import_requests_s']:.1f}x import requests; includes it)")
    return 0 if all(ok.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
