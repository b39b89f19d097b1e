"""Benchmarks never write into the user's own log: each one's ``main()`` first points
``OLLAMA_NB_STORE`` at a scratch file (``benchmarks/scratch_store.py``), which is gone at exit."""

from __future__ import annotations

import ast
import os
import pathlib
import subprocess
import sys

from ollama_nb.testing import Emulator

ROOT = pathlib.Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"
HELPER = "scratch_store"


def _first_statement_of_main_calls_the_helper(path: pathlib.Path) -> bool:
    """``main()`` begins with ``scratch_store()`` (bare, or its path kept): nothing runs before it."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    main = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "main"), None)
    if main is None or not main.body:
        return False
    first = main.body[0]
    return any(isinstance(n, ast.Call) and getattr(n.func, "id", None) == HELPER for n in ast.walk(first))


def test_every_benchmark_points_the_store_at_a_scratch_file_before_anything_else():
    scripts = sorted(p for p in BENCHMARKS.glob("*.py") if p.stem != HELPER)
    assert len(scripts) >= 10
    late = [p.name for p in scripts if not _first_statement_of_main_calls_the_helper(p)]
    assert late == [], f"{late}: call scratch_store() first in main() (benchmarks/scratch_store.py)"


def test_the_scratch_log_takes_the_rows_and_is_gone_at_exit(tmp_path):
    home = tmp_path / "home"  # where the user's own log would be: nothing may appear there
    code = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "from scratch_store import scratch_store\n"
        "path = scratch_store()\n"
        "import ollama_nb as ollama\n"
        "rows = ollama.map(['a', 'b'], model='llama3.2', progress=False)\n"
        "assert rows.errors == [], rows.errors\n"
        "from ollama_nb import log\n"
        "assert log.path() == path, (log.path(), path)\n"
        "assert log.stats()['turns'] == 2, log.stats()\n"
        "print(path)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OLLAMA_NB_STORE"}
    with Emulator() as emu:
        env.update(OLLAMA_HOST=emu.url, HOME=str(home), JUPYTER_DATA_DIR=str(home / "data"))
        done = subprocess.run(
            [sys.executable, "-c", code, str(BENCHMARKS)], env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr
        assert sum(r.path in ("/api/chat", "/api/generate") for r in emu.requests) == 2
    scratch = pathlib.Path(done.stdout.strip())
    assert scratch.name == "log.db" and not scratch.parent.exists()  # removed at exit
    assert not (home / "data").exists()  # the user's own log was never opened
