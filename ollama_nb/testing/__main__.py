"""``python -m ollama_nb.testing``: run the Ollama emulator in the foreground.

Serves the demo catalogue (the models a class would have); ``--scenarios`` adds the test scenario
models. Prints exactly one line, ``Ollama emulator listening on http://127.0.0.1:PORT``, then serves until
Ctrl-C or SIGTERM. The key may also come from OLLAMA_NB_EMULATOR_KEY (keeps it out of ``ps``).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from ._emulator import DEFAULT_TOKEN_DELAY, KEY_ENV, Emulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ollama_nb.testing", description="Run the Ollama emulator.")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=11434, help="port (default 11434; 0 = any free port)")
    parser.add_argument("--key", default=None, help=f"cloud mode: require this Bearer key (or set {KEY_ENV})")
    parser.add_argument("--load-delay", type=float, default=0.0, help="seconds a first model load takes")
    parser.add_argument("--token-delay", type=float, default=DEFAULT_TOKEN_DELAY, help="seconds between tokens")
    parser.add_argument("--num-parallel", type=int, default=0, help="answers at once per model (0 = no limit)")
    parser.add_argument("--max-queue", type=int, default=512, help="requests that may wait; 503 past that")
    parser.add_argument(
        "--cloud",
        default="signed-out",
        choices=["signed-in", "signed-out", "disabled"],
        help="cloud models through this server (default signed-out)",
    )
    parser.add_argument(
        "--scenarios",
        action="store_true",
        default=None,
        help="also install the test scenario models (slow, stall, hostile, ...)",
    )
    parser.add_argument(
        "--topics",
        action="append",
        default=[],
        metavar="FILE",
        help="a topic file (JSON, like _voice/topics.json) whose questions the demo models also answer",
    )
    args = parser.parse_args(argv)

    key = args.key if args.key is not None else os.environ.get(KEY_ENV) or None
    emulator = Emulator(
        key=key,
        load_delay=args.load_delay,
        host=args.host,
        port=args.port,
        token_delay=args.token_delay,
        num_parallel=args.num_parallel,
        max_queue=args.max_queue,
        cloud=args.cloud,
        scenarios=args.scenarios,
        topics=args.topics,
    )
    try:
        emulator.start()
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"Ollama emulator listening on {emulator.url}", flush=True)

    stop = threading.Event()
    # The handlers only set a flag: the main thread then shuts down cleanly (no traceback).
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
