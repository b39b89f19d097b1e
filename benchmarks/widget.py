"""What ChatWidget sends over its comm while it streams, and how fast Stop stops the server.

In one real IPython kernel (started with jupyter_client; this script plays the front end: it reads
IOPub and sends comm messages on the shell channel, as JupyterLab would), against the emulator
running in this process (so its disconnect log is readable here):

- Stream: ``chat.ask(...)`` on the ``bulk`` model, 20 000 tokens as fast as the emulator writes.
  Every ``comm_msg`` of the widget on IOPub is counted at its size on the wire (header, parent
  header, metadata and content as JSON, + signature and delimiter). Reported: comm bytes ÷ final
  text bytes (target ≤ 3), comm messages per second of streaming (target ≤ 20 for the deltas), and
  for comparison, computed for the same stream with the per-message overhead measured here:
  one message per token, and a string trait re-synced per token (the O(n²) design.md warns about).
- Stop: the ``slow`` model (a token every 50 ms) streams; the "front end" sends the Stop button's
  custom message; the time from sending it to the emulator seeing the connection closed
  (target ≤ 200 ms). Measured with the kernel idle (the Send button's case), and with the main shell
  blocked in ``chat.ask()`` (a cell) with Stop arriving over a kernel subshell (JupyterLab's comms
  over subshells).

Usage: python benchmarks/widget.py [--tokens 20000] [--stops 7]
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import sys
import time
from pathlib import Path
from statistics import median
from typing import Any

from jupyter_client.manager import start_new_kernel

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scratch_store import scratch_store

from ollama_nb.testing import Emulator

TARGETS = {"bytes": 3.0, "rate": 20.0, "stop_ms": 200.0}
SIGNATURE_AND_DELIMITER = 64 + len(b"<IDS|MSG>")  # hmac-sha256 hex digest, the frame delimiter


def wire_size(msg: dict[str, Any]) -> int:
    parts = (msg["header"], msg["parent_header"], msg["metadata"], msg["content"])
    size = sum(len(json.dumps(p, default=str, separators=(",", ":")).encode()) for p in parts)
    return size + SIGNATURE_AND_DELIMITER + sum(len(b) for b in msg.get("buffers") or [])


class Frontend:
    """Just enough of a Jupyter front end: run code, watch IOPub, send comm messages."""

    def __init__(self, env: dict[str, str]) -> None:
        self.km, self.kc = start_new_kernel(kernel_name="python3", env=env, startup_timeout=60)

    def close(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)

    def execute(self, code: str, *, wait: bool = True, timeout: float = 120) -> str:
        msg_id = self.kc.execute(code)
        if wait:
            self.wait(msg_id, timeout)
        return msg_id

    def wait(self, msg_id: str, timeout: float = 120) -> dict[str, Any]:
        reply = self.kc.get_shell_msg(timeout=timeout)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = self.kc.get_shell_msg(timeout=timeout)
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"kernel error: {reply['content']}")
        return reply

    def iopub(self, timeout: float = 0.05) -> dict[str, Any] | None:
        try:
            return self.kc.get_iopub_msg(timeout=timeout)
        except queue.Empty:
            return None

    def drain(self) -> list[dict[str, Any]]:
        out = []
        while (msg := self.iopub(0.2)) is not None:
            out.append(msg)
        return out

    def stdout_of(self, code: str) -> str:
        msg_id = self.execute(code, wait=False)
        text = []
        while True:
            msg = self.kc.get_iopub_msg(timeout=60)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "stream":
                text.append(msg["content"]["text"])
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
        self.wait(msg_id)
        return "".join(text)

    def comm_send(self, comm_id: str, content: dict[str, Any], subshell_id: str | None = None) -> None:
        msg = self.kc.session.msg("comm_msg", {"comm_id": comm_id, "data": {"method": "custom", "content": content}})
        if subshell_id is not None:
            msg["header"]["subshell_id"] = subshell_id
        self.kc.shell_channel.send(msg)

    def create_subshell(self) -> str:
        msg = self.kc.session.msg("create_subshell_request", {})
        self.kc.control_channel.send(msg)
        while True:
            reply = self.kc.get_control_msg(timeout=10)
            if reply["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
                return reply["content"]["subshell_id"]


def measure_stream(fe: Frontend, comm_id: str, tokens: int) -> dict[str, float]:
    fe.drain()
    code = (
        f"chat.model = 'bulk'\nchat.conversation.configure(options={{'num_predict': {tokens}}})\n"
        "reply = chat.ask('Count for me.')\n"
        "print(len(reply.content.encode()), reply.eval_count, reply.elapsed, reply.status)"
    )
    msg_id = fe.execute(code, wait=False)
    comm: list[dict[str, Any]] = []
    text = ""
    while True:
        msg = fe.kc.get_iopub_msg(timeout=120)
        if msg["msg_type"] == "comm_msg" and msg["content"].get("comm_id") == comm_id:
            comm.append(msg)
        elif msg["msg_type"] == "stream" and msg["parent_header"].get("msg_id") == msg_id:
            text += msg["content"]["text"]
        elif (
            msg["msg_type"] == "status"
            and msg["parent_header"].get("msg_id") == msg_id
            and msg["content"]["execution_state"] == "idle"
        ):
            break
    fe.wait(msg_id)
    text_bytes, eval_count, elapsed, status = text.split()
    text_bytes, elapsed = int(text_bytes), float(elapsed)
    assert status == "done" and int(eval_count) == tokens, text
    deltas = [m for m in comm if m["content"]["data"].get("method") == "custom"]
    updates = [m for m in comm if m["content"]["data"].get("method") == "update"]
    comm_bytes = sum(map(wire_size, comm))
    delta_sizes = sorted(wire_size(m) - len(json.dumps(m["content"]["data"]["content"].get("content", ""))) for m in deltas)
    overhead = median(delta_sizes) if delta_sizes else 300.0
    avg_token = text_bytes / tokens
    per_token = text_bytes + tokens * overhead
    resync = tokens * overhead + avg_token * tokens * (tokens + 1) / 2
    return {
        "text_bytes": text_bytes,
        "elapsed": elapsed,
        "comm_msgs": len(comm),
        "delta_msgs": len(deltas),
        "update_msgs": len(updates),
        "comm_bytes": comm_bytes,
        "ratio": comm_bytes / text_bytes,
        "rate": len(comm) / elapsed,
        "delta_rate": len(deltas) / elapsed,
        "overhead": overhead,
        "per_token_ratio": per_token / text_bytes,
        "resync_ratio": resync / text_bytes,
    }


def measure_stop(fe: Frontend, emu: Emulator, comm_id: str, *, blocked: bool, subshell_id: str | None) -> float:
    """Seconds from the Stop message leaving the front end to the server seeing the client leave."""
    before = len(emu.disconnects)
    fe.drain()
    if blocked:
        msg_id = fe.execute("chat.model = 'slow'\nr = chat.ask('Count slowly.')", wait=False)
    else:
        fe.execute("chat.model = 'slow'\nchat.ask('Count slowly.', wait=False)")
        msg_id = None
    # let it stream a few tokens
    deadline = time.monotonic() + 10
    seen = 0
    while seen < 4 and time.monotonic() < deadline:
        msg = fe.iopub(0.05)
        if msg and msg["msg_type"] == "comm_msg" and msg["content"]["data"].get("method") == "custom":
            seen += 1
    sent = time.perf_counter()
    fe.comm_send(comm_id, {"type": "stop"}, subshell_id)
    while len(emu.disconnects) <= before:
        if time.perf_counter() - sent > 5:
            raise RuntimeError("Stop did not close the stream within 5 s")
        time.sleep(0.0005)
    latency = time.perf_counter() - sent
    if msg_id is not None:
        fe.wait(msg_id)
    fe.execute("import time\nwhile chat.busy: time.sleep(0.01)\nassert chat.messages[-1]['status'] == 'stopped'")
    return latency


def main() -> None:
    scratch_store()  # never the user's own log
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tokens", type=int, default=20000)
    ap.add_argument("--stops", type=int, default=7)
    args = ap.parse_args()

    with Emulator(scenarios=True) as emu:
        env = dict(os.environ, OLLAMA_HOST=emu.url, PYTHONPATH=str(ROOT))
        fe = Frontend(env)
        try:
            fe.execute("from ollama_nb import ChatWidget\nchat = ChatWidget(model='bulk')\ncomm_id = chat.model_id")
            comm_id = fe.stdout_of("print(comm_id)").strip()
            stream = measure_stream(fe, comm_id, args.tokens)
            idle = [measure_stop(fe, emu, comm_id, blocked=False, subshell_id=None) for _ in range(args.stops)]
            subshell = fe.create_subshell()
            blocked = [measure_stop(fe, emu, comm_id, blocked=True, subshell_id=subshell) for _ in range(args.stops)]
        finally:
            fe.close()

    s = stream
    print(f"ChatWidget, one kernel, {args.tokens} tokens of the bulk model in {s['elapsed']:.2f} s "
          f"({s['text_bytes']:,} bytes of text)")
    print(f"  comm messages: {s['comm_msgs']} ({s['delta_msgs']} deltas, {s['update_msgs']} trait updates), "
          f"{s['comm_bytes']:,} bytes")
    ok = lambda good: "ok" if good else "MISSED"  # noqa: E731
    print(f"  comm bytes ÷ final text    {s['ratio']:6.2f}   target ≤ {TARGETS['bytes']:g}   {ok(s['ratio'] <= TARGETS['bytes'])}")
    print(f"  comm messages per second   {s['rate']:6.1f}   (deltas {s['delta_rate']:.1f}/s; target ≤ {TARGETS['rate']:g})   "
          f"{ok(s['delta_rate'] <= TARGETS['rate'])}")
    print(f"  baseline, one message per token       ÷ text {s['per_token_ratio']:8.1f}  "
          f"({args.tokens} messages, ~{s['overhead']:.0f} bytes of envelope each)")
    print(f"  baseline, whole text re-synced per token ÷ text {s['resync_ratio']:8.0f}")
    for label, xs in (("kernel idle (Send button)", idle), ("cell blocked in chat.ask(), Stop over a subshell", blocked)):
        ms = sorted(x * 1000 for x in xs)
        print(f"  Stop -> server sees the disconnect, {label}: median {median(ms):.1f} ms, max {ms[-1]:.1f} ms "
              f"(n={len(ms)})   target ≤ {TARGETS['stop_ms']:g} ms   {ok(ms[-1] <= TARGETS['stop_ms'])}")


if __name__ == "__main__":
    main()
