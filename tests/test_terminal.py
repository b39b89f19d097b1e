"""The magics in a real terminal IPython: a child IPython on a pseudo-terminal, bytes read back.

The pull progress line is rewritten in place, so what matters is what a terminal *shows*: a small
screen model replays the bytes (``\\r`` returns to the line start, ``ESC[K`` erases to its end,
``\\n`` moves down) and the test reads the screen's lines, as a user would.
"""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ollama_nb.testing import Emulator

ROOT = Path(__file__).resolve().parents[1]
ANSI_SGR = re.compile(rb"\x1b\[[0-9;]*m")  # colours: no effect on where text lands


def screen(data: bytes) -> list[str]:
    """The lines a terminal shows after ``data`` (enough of VT100 for a progress line)."""
    lines, row, col = [[]], 0, 0
    data = ANSI_SGR.sub(b"", data)
    text = data.decode("utf-8", "replace")
    i = 0
    while i < len(text):
        if text.startswith("\x1b[K", i):
            del lines[row][col:]
            i += 3
            continue
        ch = text[i]
        i += 1
        if ch == "\r":
            col = 0
        elif ch == "\n":
            row += 1
            if row == len(lines):
                lines.append([])
        elif ch == "\x1b":  # another escape (bracketed paste off, ...): skip to its final letter
            while i < len(text) and not text[i].isalpha():
                i += 1
            i += 1
        else:
            line = lines[row]
            line.extend(" " * (col - len(line)))
            if col < len(line):
                line[col] = ch
            else:
                line.append(ch)
            col += 1
    return ["".join(line).rstrip() for line in lines]


class TerminalIPython:
    """``ipython`` on a pty; ``run(code)`` types a line and returns the bytes up to a marker."""

    def __init__(self, host: str, store: Path | None = None) -> None:
        self.master, slave = pty.openpty()
        env = {**os.environ, "OLLAMA_HOST": host, "PYTHONPATH": str(ROOT), "TERM": "xterm", "COLUMNS": "120"}
        if store is not None:
            env["OLLAMA_NB_STORE"] = str(store)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "IPython", "--simple-prompt", "--no-banner", "--colors=NoColor",
             "--HistoryManager.enabled=False"],
            stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
        os.close(slave)
        self.count = 0

    def run(self, line: str, timeout: float = 60) -> bytes:
        self.count += 1
        marker = f"__done_{self.count}__"
        os.write(self.master, f"{line}\nprint('{marker[:6]}' + '{marker[6:]}')\n".encode())
        out = b""
        deadline = time.monotonic() + timeout
        while marker.encode() not in out:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no {marker} after {timeout}s; got {out[-2000:]!r}"
            ready, _, _ = select.select([self.master], [], [], remaining)
            if ready:
                try:
                    out += os.read(self.master, 65536)
                except OSError:
                    break
        return out

    def close(self) -> None:
        try:
            os.write(self.master, b"exit\n")
            self.proc.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait(10)
        finally:
            os.close(self.master)


@pytest.fixture(scope="module")
def term():
    with Emulator() as emu:
        ipython = TerminalIPython(emu.url)
        try:
            ipython.run("%load_ext ollama_nb")
            yield ipython
        finally:
            ipython.close()


def test_pull_progress_is_rewritten_cleanly_in_place(term):
    raw = term.run("%ollama pull smollm2:135m")
    rewrites = raw.count(b"\r") - raw.count(b"\r\n")
    assert rewrites >= 2, raw  # the line really was rewritten while the pull ran
    # Every rewrite erases what a longer, older text left behind.
    assert all(piece.split(b"\r\n")[0].endswith(b"\x1b[K") for piece in raw.split(b"\r")[1:] if b"pull smollm2" in piece[:20])
    shown = [line for line in screen(raw) if line.startswith("pull smollm2")]  # not the typed command
    assert len(shown) == 1, shown  # one line, not a stack of progress lines
    assert re.fullmatch(r"pull smollm2:135m: done 100% [\d.]+ [kMG]?B / [\d.]+ [kMG]?B( · [\d.]+ [kMG]?B/s)?", shown[0]), shown[0]


def test_a_failed_pull_ends_its_line_and_the_error_starts_a_new_one(term):
    lines = screen(term.run("%ollama pull no-such-model"))
    progress = [i for i, line in enumerate(lines) if line.startswith("pull no-such-model")]
    assert len(progress) == 1 and lines[progress[0]] == "pull no-such-model: failed", lines
    error = lines[progress[0] + 1]
    assert error.startswith("pull model manifest: file does not exist"), lines
    assert "no model `no-such-model` in the Ollama library" in error and "status code" not in error, lines
    assert "not found in the Ollama library" in " ".join(lines[progress[0] + 1:])


def test_fix_in_terminal_ipython_sends_what_the_cell_printed():
    with Emulator() as emu:
        ipython = TerminalIPython(emu.url)
        try:
            ipython.run("%load_ext ollama_nb")
            ipython.run("%ollama config model=llama3.2")
            raw = ipython.run("print('rows read: 1288'); import sys; print('warned', file=sys.stderr); 1/0")
            assert b"rows read: 1288" in raw and b"ZeroDivisionError" in raw  # still shown as ever
            ipython.run("%ollama fix")
            question = [r for r in emu.requests if r.path == "/api/chat"][-1].json["messages"][-1]["content"]
            assert "Printed:" in question and "rows read: 1288" in question and "warned" in question
            assert "ZeroDivisionError" in question
            # Each cell wraps the streams afresh and gives them back after: wrappers never pile up.
            after = ipython.run("print(type(sys.stdout).__name__, type(sys.stdout.before).__name__)")
            shown = after.split(b"\n", 1)[1]
            assert b"_TerminalTap " in shown and b"_TerminalTap _TerminalTap" not in shown
        finally:
            ipython.close()


def test_log_and_history_rows_fit_the_terminal_width(tmp_path):
    """A table row wider than the terminal wraps and breaks every column below it: the free-text
    columns (prompt, answer) are cut to fit the 120 columns the pty says it has."""
    with Emulator() as emu:
        ipython = TerminalIPython(emu.url, store=tmp_path / "log.db")
        try:
            ipython.run("%load_ext ollama_nb")
            ipython.run("%ollama config model=llama3.2")
            ipython.run("get_ipython().run_cell_magic('ollama', '', 'Why is the sky blue? ' * 8)")
            for command, head in (("%ollama log", r"id +when +model"), ("%ollama history", r"# +you +answer")):
                lines = screen(ipython.run(command))
                # (typed ahead, a command's first line may follow IPython's "In [n]: " prompt)
                start = next(i for i, line in enumerate(lines) if re.search(head, line))
                table = lines[start:start + 2]
                assert "…" in table[1], lines  # the long prompt was cut
                assert all(len(line) < 120 for line in table), table
            assert "ollama log show ID" in "\n".join(screen(ipython.run("%ollama log")))  # says how to read one
            assert "Conversation 'default'" in "\n".join(screen(ipython.run("%ollama history")))  # quoted, not `marked`
        finally:
            ipython.close()
