"""The HTTP side: a threaded HTTP/1.1 server, routing, auth, recording and the wire format.

Route functions (_generation.py, _management.py) return a response object from _wire.py; this module
turns it into bytes the way Go's net/http + gin would: JSON with Content-Length, NDJSON as one HTTP
chunk per line, gin's plain-text 404/405, and a quiet, recorded end when the client goes away.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import select
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from .._identity import HEADER, NAME
from ._catalog import State
from ._cloud import SIGNED_OUT, Cloud
from ._compat_anthropic import AnthropicRoutes
from ._compat_openai import OpenAIRoutes
from ._compat_responses import ResponsesRoutes
from ._generation import Generation
from ._management import Management
from ._origins import Origins
from ._scenarios import Voice
from ._scheduler import Scheduler
from ._wire import (
    JSON,
    Batch,
    Drop,
    Empty,
    Encoding,
    HTTPError,
    Raw,
    Sleep,
    Stall,
    Stream,
    StreamError,
    Text,
    aggregate,
    dumps,
)

JSON_TYPE = "application/json; charset=utf-8"
_GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


@dataclass(frozen=True)
class Recorded:
    """One request as the emulator received it (header keys lower-cased)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    json: Any


class Hold:
    """One request held by the emulator (see :meth:`ollama_nb.testing.Emulator.hold`): ``reached``
    is set once a request is waiting there; :meth:`release` lets it go on."""

    def __init__(self, path: str, at: str) -> None:
        self.path = path
        self.at = at
        self.reached = threading.Event()
        self.released = threading.Event()

    def release(self) -> None:
        self.released.set()

    def wait(self, stopping: threading.Event) -> None:
        """On the handler's thread: hold here until released or the emulator stops."""
        self.reached.set()
        while not self.released.wait(0.05) and not stopping.is_set():
            pass


@dataclass(frozen=True)
class Redirect:
    """gin's trailing-slash redirect (301 for GET, 307 otherwise)."""

    location: str
    status: int


class _Disconnected(Exception):
    """The client closed the connection while we were still answering."""


class _Stopping(Exception):
    """The emulator is shutting down; abandon the response without recording anything."""


def build_routes(gen: Generation, mgmt: Management, openai: OpenAIRoutes) -> dict[str, dict[str, Callable[..., Any]]]:
    """Path -> method -> route function, the real server's table (ollama-api.md §2)."""
    web = {"POST": mgmt.web_search}
    responses, anthropic = ResponsesRoutes(gen), AnthropicRoutes(gen)
    fetch = {"POST": mgmt.web_fetch}
    return {
        "/": {"GET": mgmt.health, "HEAD": mgmt.health},
        "/api/version": {"GET": mgmt.version, "HEAD": mgmt.version},
        "/api/status": {"GET": mgmt.status},
        "/api/generate": {"POST": gen.generate},
        "/api/chat": {"POST": gen.chat},
        "/api/embed": {"POST": gen.embed},
        "/api/embeddings": {"POST": gen.embeddings},
        "/api/tags": {"GET": mgmt.tags, "HEAD": mgmt.tags},
        "/api/show": {"POST": mgmt.show},
        "/api/ps": {"GET": mgmt.ps},
        "/api/create": {"POST": mgmt.create},
        "/api/copy": {"POST": mgmt.copy},
        "/api/delete": {"DELETE": mgmt.delete},
        "/api/pull": {"POST": mgmt.pull},
        "/api/push": {"POST": mgmt.push},
        "/api/me": {"POST": mgmt.me},
        "/api/signout": {"POST": mgmt.signout},
        # ollama.com serves these two; a local server has them under /api/experimental/.
        "/api/web_search": web,
        "/api/web_fetch": fetch,
        "/api/experimental/web_search": {"POST": mgmt.experimental_web_search},
        "/api/experimental/web_fetch": {"POST": mgmt.experimental_web_fetch},
        "/api/experimental/model-recommendations": {"GET": mgmt.recommendations},
        # OpenAI- and Anthropic-compatible routes over the same generation (compat_*.py).
        "/v1/chat/completions": {"POST": openai.chat_completions},
        "/v1/completions": {"POST": openai.completions},
        "/v1/embeddings": {"POST": openai.embeddings},
        "/v1/models": {"GET": openai.models},
        "/v1/responses": {"POST": responses.create},
        "/v1/messages": {"POST": anthropic.create},
    }


class EmulatorServer(ThreadingHTTPServer):
    """Holds the state shared by all handler threads, and what tests inspect afterwards."""

    daemon_threads = True
    request_queue_size = 128  # benchmarks open many connections at once; the default backlog is 5

    def __init__(
        self,
        address: tuple[str, int],
        *,
        key: str | None,
        load_delay: float,
        token_delay: float,
        family: int = socket.AF_INET,
        num_parallel: int = 0,
        max_queue: int = 512,
        cloud: str = SIGNED_OUT,
        scenarios: bool = False,
        voice: Voice | None = None,
    ) -> None:
        self.address_family = family
        super().__init__(address, Handler)
        self.key = key
        self.state = State(scenarios)
        self.origins = Origins.from_env()  # read once at start, as ollama reads OLLAMA_ORIGINS
        self.stopping = threading.Event()
        self.scheduler = Scheduler(num_parallel, max_queue)
        self.cloud = Cloud(cloud, serving=key is not None)
        self.management = Management(self.state, self.cloud)
        generation = Generation(
            self.state,
            load_delay,
            token_delay,
            scheduler=self.scheduler,
            cloud=self.cloud,
            stopping=self.stopping,
            voice=voice,
        )
        self.openai = OpenAIRoutes(generation, self.management)
        self.routes = build_routes(generation, self.management, self.openai)
        if key is not None:  # ollama.com's own routes
            self.routes["/api/usage"] = {"GET": self.management.usage}
            self.routes["/api/balance"] = {"GET": self.management.balance}
        self.records: list[Recorded] = []
        #: path -> canned (status, content type, body) answers, each used once, in order
        self.canned: dict[str, list[tuple[int, str, bytes]]] = {}
        self.disconnects: list[tuple[str, str]] = []
        #: (path, "start" | "done") -> holds for the next requests there, in order
        self.holds: dict[tuple[str, str], list[Hold]] = {}
        self.changed = threading.Condition()
        self._connections: set[socket.socket] = set()
        self._conn_lock = threading.Lock()

    def record(self, item: Recorded) -> None:
        with self.changed:
            self.records.append(item)
            self.changed.notify_all()

    def take_hold(self, path: str, at: str) -> Hold | None:
        with self.changed:
            queue = self.holds.get((path, at))
            return queue.pop(0) if queue else None

    def record_disconnect(self, path: str, model: str) -> None:
        with self.changed:
            self.disconnects.append((path, model))
            self.changed.notify_all()

    def finish_request(self, request: Any, client_address: Any) -> None:
        with self._conn_lock:
            self._connections.add(request)
        try:
            super().finish_request(request, client_address)
        finally:
            with self._conn_lock:
                self._connections.discard(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that vanished is normal here; anything else is a bug worth a traceback.
        if isinstance(sys.exc_info()[1], (*_GONE, socket.timeout)):
            return
        super().handle_error(request, client_address)

    def stop(self) -> None:
        """Stop accepting, end stalls and idle keep-alive connections, free the port."""
        self.stopping.set()
        self.shutdown()
        with self._conn_lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.server_close()


class Handler(BaseHTTPRequestHandler):
    """One connection; keep-alive loops over requests until the client closes it."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # each NDJSON chunk leaves at once, like Go's Flush()
    server: EmulatorServer
    _done_hold: Hold | None = None  # this request's hold before its final chunk (Emulator.hold)
    _started = False  # the streamed answer's headers are out
    _cors: tuple[tuple[str, str], ...] = ()  # this request's CORS headers, sent with every answer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # tests and notebooks want a quiet server

    def send_response(self, code: int, message: str | None = None) -> None:
        # Go's net/http sends Date but no Server header.
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())
        self.send_header(HEADER, NAME)
        for key, value in self._cors:
            self.send_header(key, value)

    def do_GET(self) -> None:
        self._dispatch()

    do_HEAD = do_POST = do_DELETE = do_PUT = do_PATCH = do_OPTIONS = do_GET

    # ------------------------------------------------------------------ request

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self) -> None:
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            return
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.server.record(Recorded(self.command, self.path, headers, body, parsed))
        # gin-contrib/cors runs before any route: a foreign page gets a bare 403, nothing done.
        origin, host = self.headers.get("Origin"), self.headers.get("Host", "")
        refused, self._cors = self.server.origins.check(origin, host, self.command)
        path = urlsplit(self.path).path
        # What this request gets is settled as it arrives (a canned answer queued later is for a
        # later request, even when this one is held past that).
        with self.server.changed:
            queue = self.server.canned.get(path) if refused is None else None
            canned = queue.pop(0) if queue else None
        if refused is None:
            hold = self.server.take_hold(path, "start")
            if hold is not None:
                hold.wait(self.server.stopping)
            self._done_hold = self.server.take_hold(path, "done")
        try:
            if refused is not None:
                self._send_bytes(refused, None, b"")
            elif canned is not None:
                self._send_bytes(*canned)
            else:
                self._send(self._answer(path, body))
        except _GONE:
            self.close_connection = True

    def _route(self, path: str) -> tuple[dict[str, Any] | None, tuple[str, ...]]:
        """The methods of ``path`` and the arguments its route takes from the URL."""
        mgmt, routes = self.server.management, self.server.routes
        if path == "/api/usage":
            return routes.get(path), (urlsplit(self.path).query,)
        if path in routes or path.endswith("/"):
            return routes.get(path), ()
        parts = path.split("/")
        if path.startswith("/api/blobs/") and len(parts) == 4:
            return {"HEAD": mgmt.blob_head, "POST": mgmt.blob_post}, (parts[3],)
        if path.startswith("/v1/models/") and len(parts) == 4:
            return {"GET": self.server.openai.model}, (unquote(parts[3]),)
        if path.startswith("/api/user/keys/") and len(parts) == 5:
            return {"DELETE": mgmt.signout}, ()  # deprecated alias of signout
        return None, ()

    def _answer(self, path: str, body: bytes) -> Any:
        """gin's order: route, method, host check, then (ollama.com) the key, then the route itself."""
        methods, args = self._route(path)
        try:
            if methods is None and path.endswith("/") and path.rstrip("/") in self.server.routes:
                return Redirect(path.rstrip("/"), 301 if self.command == "GET" else 307)
            if methods is None:
                return Text("404 page not found", 404)
            if self.command not in methods:
                return Text("405 method not allowed", 405)
            if not _allowed_host(self.headers.get("Host", "")):
                return Empty(403)  # allowedHostsMiddleware: a bare 403, no body
            if self.server.key is not None and path.startswith(("/api/", "/v1/")) and not self._authorized():
                return JSON({"error": "unauthorized"}, 401)
            return methods[self.command](body, *args)
        except HTTPError as exc:
            return JSON({"error": exc.message, **exc.extra}, exc.status, exc.headers)
        except Exception as exc:  # a bug in the emulator: say so, keep serving
            traceback.print_exc()
            return JSON({"error": f"emulator bug: {type(exc).__name__}: {exc}"}, 500)

    def _authorized(self) -> bool:
        given = self.headers.get("Authorization", "")
        expected = f"Bearer {self.server.key}"
        return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8", "replace"))

    # ------------------------------------------------------------------ responses

    def _send(self, response: Any) -> None:
        if isinstance(response, Stream):
            if response.stream:
                self._stream(response)
            else:
                self._collect(response)
        elif isinstance(response, JSON):
            self._send_bytes(response.status, JSON_TYPE, dumps(response.obj), response.headers)
        elif isinstance(response, Text):
            # gin: c.String for the health check, plain "text/plain" for its own 404/405 bodies.
            ctype = "text/plain" if response.status in (404, 405) else "text/plain; charset=utf-8"
            self._send_bytes(response.status, ctype, response.text.encode())
        elif isinstance(response, Empty):
            self._send_bytes(response.status, None, b"")
        elif isinstance(response, Redirect):
            # gin's RedirectTrailingSlash, through Go's http.Redirect
            query = urlsplit(self.path).query
            self.send_response(response.status)
            self.send_header("Location", response.location + ("?" + query if query else ""))
            body = f'<a href="{response.location}">{self.responses[response.status][0]}</a>.\n\n'.encode()
            if self.command in ("GET", "HEAD"):
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command == "GET":
                    self.wfile.write(body)
            else:
                self.send_header("Content-Length", "0")
                self.end_headers()
        else:
            raise TypeError(f"route returned {response!r}")

    def _send_bytes(self, status: int, ctype: str | None, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def _begin_stream(self, encoding: Encoding) -> None:
        self.send_response(200)
        self.send_header("Content-Type", encoding.content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _chunks(self, frames: list[bytes]) -> None:
        """Each frame its own HTTP chunk, in one socket write (empty frames would end the body)."""
        self.wfile.write(b"".join(b"%x\r\n%b\r\n" % (len(f), f) for f in frames if f))

    @contextlib.contextmanager
    def _answering(self, response: Stream) -> Iterator[None]:
        """How an answer's body ends, streamed or whole: a client that left is recorded, a server
        stopping just closes, and the route's generator is closed either way (its cleanup runs; a
        cancelled pull stops before installing)."""
        try:
            yield
        except (_Disconnected, *_GONE):
            self.server.record_disconnect(urlsplit(self.path).path, response.model)
            self.close_connection = True
        except _Stopping:
            self.close_connection = True
        finally:
            if isinstance(response.items, Generator):
                response.items.close()

    def _stream(self, response: Stream) -> None:
        items, encoding = response.items, response.encoding
        self._started = False
        hold, self._done_hold = self._done_hold, None
        with self._answering(response):
            for item in items:
                if isinstance(item, dict) and hold is not None and item.get("done"):
                    hold.wait(self.server.stopping)  # the answer so far is out; its last chunk waits
                    hold = None
                if not self._stream_item(item, encoding):
                    break
            else:
                if not self._started:
                    self._begin_stream(encoding)
                self.wfile.write(b"0\r\n\r\n")

    def _stream_item(self, item: Any, encoding: Encoding) -> bool:
        """Write one item of a streamed answer; False when the body has ended (or must not end)."""
        if isinstance(item, (Sleep, Stall)):
            if self._client_left(item.seconds):
                raise _Disconnected
            return True
        if isinstance(item, Drop):
            self._drop()
            return False
        if isinstance(item, StreamError) and not self._started:
            # Nothing written yet: the real status with a JSON body (gin sets plain application/json).
            body = dumps(encoding.error(item.status, item.message, item.extra))
            self._send_bytes(item.status, "application/json", body, item.headers)
            return False
        if not self._started:
            self._begin_stream(encoding)
            self._started = True
        if isinstance(item, dict):
            self._chunks(encoding.frames(item))
        elif isinstance(item, Batch):
            lines = item.lines
            self._chunks(lines if encoding.native else [f for li in lines for f in encoding.frames(json.loads(li))])
        elif isinstance(item, Raw):
            self._chunks([item.data])
        elif isinstance(item, StreamError):
            self._chunks([encoding.error_frame(item.message)])
            self.wfile.write(b"0\r\n\r\n")
            return False
        return True

    def _collect(self, response: Stream) -> None:
        """stream:false: run the same items, answer with one object (waitForStream in Go)."""
        chunks: list[dict[str, Any]] = []
        items, encoding = response.items, response.encoding
        # waitForStream (pull/push/create) sets plain application/json; c.JSON adds the charset.
        ctype = "application/json" if response.aggregate == "progress" or not encoding.native else JSON_TYPE
        with self._answering(response):
            for item in items:
                if isinstance(item, dict):
                    chunks.append(item)
                elif isinstance(item, Batch):
                    chunks.extend(json.loads(line) for line in item.lines)
                elif isinstance(item, (Sleep, Stall)):
                    if self._client_left(item.seconds):
                        raise _Disconnected
                elif isinstance(item, Drop):
                    self._drop()
                    return
                elif isinstance(item, Raw):
                    body = dumps(encoding.error(500, "unexpected end of JSON input", {}))
                    self._send_bytes(500, JSON_TYPE, body)
                    return
                elif isinstance(item, StreamError):
                    body = dumps(encoding.error(item.status, item.message, item.extra))
                    self._send_bytes(item.status, ctype, body, item.headers)
                    return
            self._send_bytes(200, ctype, dumps(encoding.final(aggregate(response.aggregate, chunks))))

    def _drop(self) -> None:
        """End the TCP connection with a FIN mid-body: the client sees a truncated chunked body."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _client_left(self, seconds: float) -> bool:
        """Wait ``seconds``, polling the socket for EOF; True as soon as the client has gone."""
        deadline = time.monotonic() + seconds
        sock = self.connection
        while True:
            if self.server.stopping.is_set():
                raise _Stopping
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            readable, _, _ = select.select([sock], [], [], min(remaining, 0.2))
            if not readable:
                continue
            try:
                if not sock.recv(1, socket.MSG_PEEK):
                    return True
            except OSError:
                return True
            time.sleep(min(remaining, 0.02))  # pipelined bytes, client still there: don't spin


def _allowed_host(header: str) -> bool:
    """allowedHostsMiddleware of a server bound to loopback (the emulator always is): loopback and
    private IPs, ``localhost``, ``*.localhost``/``*.local``/``*.internal`` and this machine's name
    pass; any other Host header (DNS rebinding, or a proxy forwarding its public name) is refused."""
    import ipaddress

    host = header.strip().lower()
    if host.startswith("["):
        host = host[1:].split("]", 1)[0]
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    if host in ("", "localhost", socket.gethostname().lower()):
        return True
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return host.endswith((".localhost", ".local", ".internal"))
    return addr.is_loopback or addr.is_private or addr.is_unspecified
