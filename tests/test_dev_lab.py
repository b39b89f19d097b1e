"""``./dev lab`` as a newcomer runs it: the summary (Lab URL, which server) comes last, once Lab answers.

The shared virtualenv is reused through a stand-in ``OLLAMA_NB_VENV`` (its python, an install stamp
newer than pyproject.toml), so the script installs nothing; Jupyter's runtime files go to a temporary
directory; OLLAMA_HOST points at a closed loopback port, so the built-in emulator is used.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import selectors
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from waiting import wait_until

ROOT = Path(__file__).resolve().parents[1]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_dev_lab_prints_its_summary_last_once_jupyterlab_answers(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    wrapper = venv / "bin" / "python"  # the shared venv's python (a symlink would lose its site-packages)
    wrapper.write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    wrapper.chmod(0o755)
    (venv / ".ollama_nb-lab").touch()
    os.utime(venv / ".ollama_nb-lab", (time.time() + 3600,) * 2)  # newer than pyproject.toml: no install
    env = {**os.environ, "OLLAMA_NB_VENV": str(venv), "OLLAMA_HOST": f"http://127.0.0.1:{closed_port()}",
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "PYTHONPATH": str(ROOT), "HOME": str(tmp_path)}
    port = closed_port()
    proc = subprocess.Popen([str(ROOT / "dev"), "lab", "--no-browser", f"--ServerApp.port={port}"], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    lines: list[str] = []
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    buffer = b""
    try:
        def ready() -> bool:
            nonlocal buffer
            assert proc.poll() is None, "\n".join(lines)
            if selector.select(1):
                buffer += os.read(proc.stdout.fileno(), 65536)
                *done, buffer = buffer.split(b"\n")
                lines.extend(re.sub(r"\x1b\[[0-9;]*m", "", d.decode(errors="replace")) for d in done)
            return any("Ctrl-C stops JupyterLab" in line for line in lines)

        wait_until(ready, "./dev lab to say JupyterLab is ready", interval=0)
        ready = next(i for i, line in enumerate(lines) if "JupyterLab is ready:" in line)
        url = lines[ready].split("JupyterLab is ready: ", 1)[1].strip()
        assert url.startswith(f"http://127.0.0.1:{port}/lab?token=") or url.startswith(f"http://localhost:{port}/lab?token=")
        with urllib.request.urlopen(url, timeout=10) as page:  # printed only once it works
            assert page.status == 200
        # JupyterLab serves the working copies, so running a notebook leaves notebooks/ clean.
        base, token = url.split("/lab?token=")
        with urllib.request.urlopen(f"{base}/api/contents?token={token}", timeout=10) as listing:
            served = {item["name"] for item in json.load(listing)["content"]}
        tracked = {p.name for p in (ROOT / "notebooks").glob("*.ipynb")}
        assert tracked <= served
        for name in tracked:
            assert (ROOT / ".lab" / "notebooks" / name).read_bytes() == (ROOT / "notebooks" / name).read_bytes()
        server = lines[ready + 1]
        assert "using the BUILT-IN EMULATOR at http://127.0.0.1:" in server
        emulator = re.search(r"(http://127\.0\.0\.1:\d+)", server).group(1)
        with urllib.request.urlopen(emulator + "/api/version", timeout=10) as version:
            assert b"version" in version.read()
        assert lines[ready + 2].endswith("Ctrl-C stops JupyterLab and the emulator.")
        # Jupyter's own start-up lines (if any) came before the summary, not after it.
        assert not any("http://" in line and "token=" in line for line in lines[ready + 3:])
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # the terminal's Ctrl-C: to the whole group we started
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def _sync_module():
    spec = importlib.util.spec_from_file_location("sync_notebooks", ROOT / "devtools" / "sync_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_working_copies_follow_the_tracked_notebooks_unless_edited(tmp_path):
    sync = _sync_module().sync
    src, dst = tmp_path / "notebooks", tmp_path / "work"
    src.mkdir()
    (src / "a.ipynb").write_text("a1")
    (src / "b.ipynb").write_text("b1")
    assert sync(src, dst) == []
    assert (dst / "a.ipynb").read_text() == "a1" and (dst / "b.ipynb").read_text() == "b1"
    # The user runs b (outputs saved into the copy); then a `git pull` changes both.
    (dst / "b.ipynb").write_text("b1 with outputs")
    (src / "a.ipynb").write_text("a2")
    (src / "b.ipynb").write_text("b2")
    (src / "c.ipynb").write_text("c1")
    kept = sync(src, dst)
    assert (dst / "a.ipynb").read_text() == "a2"  # untouched copy: follows
    assert (dst / "b.ipynb").read_text() == "b1 with outputs"  # edited: kept, and said so
    assert kept == [f"kept your edited {dst / 'b.ipynb'}; the updated one is {src / 'b.ipynb'}"]
    assert (dst / "c.ipynb").read_text() == "c1"
    # An edit of a copy whose tracked file did not change is simply kept, silently; the kept b is
    # said again at each start, until its copy is removed.
    (dst / "a.ipynb").write_text("a2 edited")
    assert sync(src, dst) == kept and (dst / "a.ipynb").read_text() == "a2 edited"
    (dst / "b.ipynb").unlink()
    assert sync(src, dst) == [] and (dst / "b.ipynb").read_text() == "b2"
    assert (src / "a.ipynb").read_text() == "a2" and (src / "b.ipynb").read_text() == "b2"
