"""A hostile Ollama stand-in on loopback: every failure it sends echoes the request's Authorization
header (and the bare token) back, the way a misconfigured server or proxy does.

Routes (the model name picks the failure):

==================  ==============================================================================
POST /api/chat      ``e401`` / ``e403``: JSON error; ``e500``: plain text (Go's header map);
/api/generate       ``e502``: an HTML error page; ``midstream``: 200, one chunk, then an error line;
                    ``echo``: a normal answer whose text and final ``model`` field carry the token
GET  /api/tags      the models above (``fail_tags = True``: a 401 with the echo)
POST /api/show      500 with the echo
POST /api/pull      200, one progress line, then an error line with the echo
GET  /api/version   ``{"version": "0.0.0-echo"}`` (``redirect_to = URL``: a 302 there)
==================  ==============================================================================

``requests`` lists ``(method, path, authorization)`` of everything received.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODELS = ("e401", "e403", "e500", "e502", "midstream", "echo")


class _Handler(BaseHTTPRequestHandler):
    server: EchoAuthServer  # type: ignore[assignment]
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    # -- helpers ------------------------------------------------------------------------------
    @property
    def auth(self) -> str:
        return self.headers.get("Authorization", "")

    @property
    def token(self) -> str:
        return self.auth.partition(" ")[2]

    def _send(self, status: int, body: str, ctype: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _json(self, status: int, obj: Any) -> None:
        self._send(status, json.dumps(obj), "application/json; charset=utf-8")

    def _ndjson(self, lines: list[dict[str, Any]]) -> None:
        self._send(200, "".join(json.dumps(x) + "\n" for x in lines), "application/x-ndjson")

    def _record(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        with self.server.lock:
            self.server.requests.append((self.command, self.path, self.auth))
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {}
        return body if isinstance(body, dict) else {}

    # -- routes -------------------------------------------------------------------------------
    def do_GET(self) -> None:
        self._record()
        if self.path == "/api/tags":
            if self.server.fail_tags:
                self._json(401, {"error": f"unauthorized: {self.auth} is not a valid key"})
                return
            self._json(200, {"models": [{"name": m, "model": m, "size": 1, "details": {}} for m in MODELS]})
        elif self.path == "/api/ps":
            self._json(200, {"models": []})
        elif self.path == "/api/version" and self.server.redirect_to:
            self.send_response(302)
            self.send_header("Location", self.server.redirect_to)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/api/version":
            self._json(200, {"version": "0.0.0-echo"})
        else:
            self._send(404, "404 page not found", "text/plain")

    def do_POST(self) -> None:
        body = self._record()
        model = str(body.get("model", ""))
        auth, token = self.auth, self.token
        if self.path == "/api/show":
            self._send(500, f"show failed; request was map[Authorization:[{auth}] Accept:[application/json]]", "text/plain")
        elif self.path == "/api/pull":
            self._ndjson([{"status": "pulling manifest"}, {"error": f"registry refused token {token} (header {auth})"}])
        elif self.path in ("/api/chat", "/api/generate"):
            self._generation(model, auth, token, chat=self.path == "/api/chat")
        else:
            self._send(404, "404 page not found", "text/plain")

    def _generation(self, model: str, auth: str, token: str, *, chat: bool) -> None:
        def part(text: str, **extra: Any) -> dict[str, Any]:
            base: dict[str, Any] = {"model": model, "created_at": "2025-01-01T00:00:00Z", "done": False}
            base.update({"message": {"role": "assistant", "content": text}} if chat else {"response": text})
            base.update(extra)
            return base

        if model == "e401":
            self._json(401, {"error": f"unauthorized: Authorization: {auth}"})
        elif model == "e403":
            self._json(403, {"error": f"forbidden for {auth} (token {token})"})
        elif model == "e500":
            self._send(500, f"internal error; headers: map[Authorization:[{auth}]] key={token}", "text/plain; charset=utf-8")
        elif model == "e502":
            page = (
                "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1>"
                f"<pre>Authorization: {auth}</pre><p>upstream rejected {token}</p></body></html>"
            )
            self._send(502, page, "text/html")
        elif model == "midstream":
            self._ndjson([part("Partial answer. "), {"error": f"upstream rejected the key {token} ({auth})"}])
        else:  # "echo": a hostile answer that repeats the token in its text and its model field
            self._ndjson(
                [
                    part(f"Your key is {token}. "),
                    part("That is all.", done=True, done_reason="stop", model=f"echo-{token}", eval_count=2, eval_duration=1000),
                ]
            )


class EchoAuthServer(ThreadingHTTPServer):
    """``with EchoAuthServer() as s: s.url``; serves on 127.0.0.1, port chosen by the OS."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.requests: list[tuple[str, str, str]] = []
        self.fail_tags = False
        #: When set, GET /api/version answers 302 to this URL.
        self.redirect_to = ""
        self._thread = threading.Thread(target=self.serve_forever, name="echo-auth", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> EchoAuthServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.shutdown()
        self.server_close()


def run_forever() -> None:  # pragma: no cover - for trying it by hand: python tests/echo_auth.py
    with EchoAuthServer() as s:
        print(s.url, flush=True)
        threading.Event().wait()


if __name__ == "__main__":  # pragma: no cover
    run_forever()
