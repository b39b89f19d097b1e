"""Ctrl-C (the kernel's interrupt) during a non-streamed ``client.chat()`` (issue 23): one clean
KeyboardInterrupt from our own frames, not 60 lines through requests, urllib3 and socket, and the
connection it was waiting on closed. A raw socket server stands in for a model slow to answer, so
the test sees the client's end of the connection (EOF) as an event."""

from __future__ import annotations

import socket
import threading

import pytest
from kernel_helpers import Kernel

pytestmark = pytest.mark.kernel


class SilentServer:
    """Accepts one connection, reads a request, answers nothing; ``closed`` is set at the client's EOF."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.asked = threading.Event()
        self.closed = threading.Event()
        self.received = b""
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        with conn:
            while b"\r\n\r\n" not in self.received:
                self.received += conn.recv(65536)
            self.asked.set()
            while conn.recv(65536):  # the request body, then nothing until the client hangs up
                pass
            self.closed.set()


def test_interrupting_a_non_streamed_chat_is_one_clean_line_and_closes_the_connection():
    server = SilentServer()
    with Kernel() as kernel:
        kernel.run("from ollama_nb import Client").check()
        msg_id = kernel.send(
            f"Client({server.url!r}).chat('llama3.2', messages=[{{'role': 'user', 'content': 'Hi'}}])"
        )
        assert server.asked.wait(60), "the kernel never sent the request"
        kernel.km.interrupt_kernel()
        ex = kernel.collect(msg_id)
        assert server.closed.wait(60), "the interrupted request's connection was left open"
        error = ex.errors[0]["content"]
        assert error["ename"] == "KeyboardInterrupt"
        assert "POST /api/chat interrupted" in error["evalue"] and "connection closed" in error["evalue"]
        trace = "\n".join(error["traceback"])
        frames = [line for line in trace.splitlines() if "File " in line]
        assert len(frames) <= 3 and all("ollama_nb/" in f for f in frames), frames
        for noise in ("urllib3/", "socket.py", "requests/", "http/client.py", "During handling"):
            assert noise not in trace, noise
        # The next call on the same kernel works (nothing half-read is left in a pool).
        assert kernel.run("print(1 + 1)").check().stdout.strip() == "2"
