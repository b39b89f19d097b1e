"""README's examples work as pasted: each Python block runs in a fresh interpreter against the emulator.

The cloud example runs with a key in ``OLLAMA_API_KEY`` against an emulator playing ollama.com (its
host swapped for the emulator's, so traffic stays on loopback); every other block runs with no key at
all, as a newcomer without an Ollama Cloud account would paste it.
"""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import pytest

from ollama_nb import Client
from ollama_nb.testing import Emulator

README = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)
CLOUD = "https://ollama.com"


# A block written for a notebook cell may `await` at top level, as IPython allows: run it so.
CELL = """
import ast, asyncio, sys, types
code = compile(sys.argv[1], "<README>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
result = eval(code, {"__name__": "__main__"})
if isinstance(result, types.CoroutineType):
    asyncio.run(result)
"""


def run_block(source: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k != "OLLAMA_API_KEY"}
    return subprocess.run([sys.executable, "-c", CELL, source], capture_output=True, text=True, env={**clean, **env}, timeout=120)


def test_readme_has_its_examples():
    assert len(BLOCKS) >= 4 and sum(CLOUD in b for b in BLOCKS) == 1


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_each_example_runs_as_pasted(index):
    source = BLOCKS[index]
    cloud = CLOUD in source
    key = "sk-readme-example-key"
    with Emulator(key=key if cloud else None) as emu:  # with a key, it plays ollama.com
        env = {"OLLAMA_HOST": emu.url}
        if cloud:
            source = source.replace(CLOUD, emu.url)
            env["OLLAMA_API_KEY"] = key
        done = run_block(source, env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr


def test_the_stated_timeouts_are_the_clients():
    connect, silence = Client().timeout
    assert f"Timeouts: {connect:g} s to connect; {silence:g} s of silence between chunks" in README
    assert f"({connect:g} s connect, {silence:g} s between chunks," in README


def test_the_documented_strip_command_removes_saved_widget_code(tmp_path):
    """README's "Saved notebooks and security": the command it gives leaves no widget state (and so
    no anywidget ``_esm`` script) in the notebook, and keeps the cells."""
    import json

    import nbformat

    command = re.search(r"`(jupyter nbconvert --to notebook --ClearMetadataPreprocessor[^`]*)`", README).group(1)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("chat")])
    state = {"m1": {"model_name": "AnyModel", "model_module": "anywidget", "state": {"_esm": "fetch('/api/contents')"}}}
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": state, "version_major": 2, "version_minor": 0}}
    nbformat.write(nb, tmp_path / "downloaded.ipynb")
    args = command.split()[1:]
    done = subprocess.run([sys.executable, "-m", "jupyter", *args], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    clean = json.loads((tmp_path / "clean.ipynb").read_text())
    assert "widgets" not in clean["metadata"] and "_esm" not in json.dumps(clean)
    assert "".join(clean["cells"][0]["source"]) == "chat"
