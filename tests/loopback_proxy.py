"""A forwarding HTTP proxy on loopback that records what it is asked, for "no request goes through
the proxy" tests. It really forwards (absolute-URI requests to loopback targets only), so a client
that wrongly uses it still gets its answer, and the record is written before that answer leaves:
once a client has its answer, ``requests`` already lists every request that went this way.
"""

from __future__ import annotations

import http.client
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class _Handler(BaseHTTPRequestHandler):
    server: LoopbackProxy  # type: ignore[assignment]
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def _forward(self) -> None:
        with self.server.lock:
            self.server.requests.append((self.command, self.path, self.headers.get("Authorization", "")))
        target = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        if target.hostname not in _LOOPBACK:  # tests talk to loopback only, also through a proxy
            self.send_error(403, "this test proxy forwards to loopback only")
            return
        conn = http.client.HTTPConnection(target.hostname, target.port or 80, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("proxy-connection", "connection")}
        path = target.path + (f"?{target.query}" if target.query else "")
        conn.request(self.command, path or "/", body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        conn.close()

    do_GET = do_POST = do_DELETE = do_HEAD = _forward

    def do_CONNECT(self) -> None:
        with self.server.lock:
            self.server.requests.append(("CONNECT", self.path, self.headers.get("Authorization", "")))
        self.send_error(405, "no tunnels here")


class LoopbackProxy(ThreadingHTTPServer):
    """``with LoopbackProxy() as p: p.url`` (``http://127.0.0.1:PORT``); ``p.requests`` is the log."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.requests: list[tuple[str, str, str]] = []
        self._thread = threading.Thread(target=self.serve_forever, name="loopback-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def env(self) -> dict[str, str]:
        """Every variable requests reads for a proxy, pointed here (and NO_PROXY empty)."""
        names = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")
        return {**{n: self.url for n in names}, "no_proxy": "", "NO_PROXY": ""}

    def __enter__(self) -> LoopbackProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.shutdown()
        self.server_close()
