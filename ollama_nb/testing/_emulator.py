"""The ``Emulator`` object: start, stop and steer the server (``ollama_nb.testing`` re-exports it)."""

from __future__ import annotations

import http.client
import ipaddress
import json
import os
import selectors
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ._cloud import CLOUD_STATES, SIGNED_OUT
from ._scenarios import Voice
from ._server import EmulatorServer, Hold, Recorded
from ._voice import DemoVoice

KEY_ENV = "OLLAMA_NB_EMULATOR_KEY"  # how the key reaches a subprocess without showing in `ps`
SCENARIOS_ENV = "OLLAMA_NB_EMULATOR_SCENARIOS"  # "1": emulators include the scenario models (test suites)
DEFAULT_TOKEN_DELAY = 0.003  # seconds between tokens of the ordinary models (~300 tokens/s)


class Emulator:
    """An Ollama server emulator on loopback, as a context manager.

    Parameters
    ----------
    key:
        Cloud mode: every ``/api/...`` route then requires ``Authorization: Bearer <key>``.
    load_delay:
        Seconds the first request to a model that is not loaded waits (reported as load_duration).
    host, port:
        Loopback address to bind; port 0 picks a free one.
    process:
        Run the server in a subprocess (``python -m ollama_nb.testing``), e.g. for benchmarks that
        must not share the GIL. ``requests``/``disconnects`` are then unavailable.
    token_delay:
        Seconds between tokens for the ordinary (non-scenario-timed) models.
    num_parallel, max_queue:
        The scheduler (``OLLAMA_NUM_PARALLEL``, ``OLLAMA_MAX_QUEUE``): at most ``num_parallel``
        chat/generate answers at once per model, ``max_queue`` more waiting, 503 ``server busy``
        past that. ``num_parallel=0`` (default) means no limit.
    cloud:
        Cloud models through this (local) server: "signed-out" (default, as after installing:
        401 with a ``signin_url``), "signed-in" (``gpt-oss:120b-cloud`` answers), "disabled" (403).
        With a ``key`` the emulator plays ollama.com itself and also serves ``GET /api/usage`` and
        ``GET /api/balance`` (see :mod:`ollama_nb.testing._quota`).

    ``refuse(kind, times, retry_after)`` makes the next chat/generate requests fail as a busy or
    rate-limited server does (see :data:`ollama_nb.testing._cloud.REFUSALS`).
    scenarios:
        Also install the scenario models (``slow``, ``stall``, ``hostile``, ...), which tests use to
        reproduce failures. Default: the ``OLLAMA_NB_EMULATOR_SCENARIOS`` environment variable
        ("1" = yes, which tests/conftest.py sets), else no: the demo catalogue a class would see.
    voice:
        What the ordinary models say (``answer(kind, prompt) -> Answer``, see
        :class:`ollama_nb.testing.Voice`); default :class:`DemoVoice`, the offline demo.
    topics:
        Topic files (JSON, like ``_voice/topics.json``) the demo voice searches first: a course's own
        questions and answers, with no change to the emulator's code (``--topics FILE`` in a shell).

    Usage::

        with Emulator(load_delay=0.2) as emu:
            print(emu.url, emu.model_names())
    """

    def __init__(
        self,
        key: str | None = None,
        load_delay: float = 0.0,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        process: bool = False,
        token_delay: float = DEFAULT_TOKEN_DELAY,
        num_parallel: int = 0,
        max_queue: int = 512,
        cloud: str = SIGNED_OUT,
        scenarios: bool | None = None,
        voice: Voice | None = None,
        topics: list[str | Path] | None = None,
    ) -> None:
        if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
            raise ValueError(f"the emulator binds loopback only, not {host!r}")
        self.key = key
        self.load_delay = load_delay
        self.host = host
        self.port = port
        self.process = process
        self.token_delay = token_delay
        self.num_parallel = num_parallel
        self.max_queue = max_queue
        if cloud not in CLOUD_STATES:
            raise ValueError(f"cloud must be one of {CLOUD_STATES}, not {cloud!r}")
        self.cloud = cloud
        self.scenarios = os.environ.get(SCENARIOS_ENV) == "1" if scenarios is None else scenarios
        if voice is not None and topics:
            raise ValueError("give either a voice or topic files for the demo voice, not both")
        if voice is not None and process:
            raise ValueError("Emulator(process=True) cannot take a voice object: give topic files instead")
        self.topics = [str(t) for t in topics or []]
        self.voice = voice or (DemoVoice(self.topics) if self.topics else None)
        self._server: EmulatorServer | None = None
        self._thread: threading.Thread | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._url: str | None = None
        self._consumed = 0  # disconnects already returned by wait_for_disconnect

    def __repr__(self) -> str:  # never shows the key
        mode = "cloud" if self.key else "local"
        return f"<Emulator {self._url or 'stopped'} {mode}{' process' if self.process else ''}>"

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Emulator:
        if self._url:
            return self
        self._consumed = 0  # a restarted emulator has a fresh, empty disconnects list
        if self.process:
            self._start_process()
        else:
            family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            self._server = EmulatorServer(
                (self.host, self.port),
                key=self.key,
                load_delay=self.load_delay,
                token_delay=self.token_delay,
                family=family,
                num_parallel=self.num_parallel,
                max_queue=self.max_queue,
                cloud=self.cloud,
                scenarios=self.scenarios,
                voice=self.voice,
            )
            port = self._server.server_address[1]
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.1},
                name=f"ollama-emulator-{port}",
                daemon=True,
            )
            self._thread.start()
            host = f"[{self.host}]" if ":" in self.host else self.host
            self._url = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            if self._thread is not None:
                self._thread.join(5)
            self._server = self._thread = None
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(5)
            self._proc = None
        self._url = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def _start_process(self) -> None:
        env = dict(os.environ)
        root = str(Path(__file__).resolve().parents[2])  # so the child imports this same checkout
        env["PYTHONPATH"] = root + os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else root
        env.pop(KEY_ENV, None)
        env.pop(SCENARIOS_ENV, None)  # this emulator's own choice wins over the test suite's default
        if self.key is not None:
            env[KEY_ENV] = self.key
        cmd = [
            sys.executable,
            "-m",
            "ollama_nb.testing",
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--load-delay",
            str(self.load_delay),
            "--token-delay",
            str(self.token_delay),
            "--num-parallel",
            str(self.num_parallel),
            "--max-queue",
            str(self.max_queue),
            "--cloud",
            self.cloud,
        ]
        if self.scenarios:
            cmd.append("--scenarios")
        for path in self.topics:
            cmd += ["--topics", path]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        # Generous: a fresh interpreter importing the package took 8-15 s on a loaded two-core machine.
        line = _read_line(proc.stdout, timeout=_START_TIMEOUT)
        prefix = "Ollama emulator listening on "
        if not line.startswith(prefix):
            proc.kill()
            _, err = proc.communicate(timeout=5)
            said = f"it printed {line!r}" if line else f"it printed nothing in {_START_TIMEOUT:.0f} s"
            raise RuntimeError(f"emulator subprocess did not start ({said}): {err.decode(errors='replace')[-2000:]}")
        self._proc = proc
        self._url = line[len(prefix) :].strip()
        # Keep draining its output so a chatty child can never block on a full pipe.
        for stream in (proc.stdout, proc.stderr):
            threading.Thread(target=_drain, args=(stream,), daemon=True).start()

    # ------------------------------------------------------------------ inspection

    @property
    def url(self) -> str:
        if not self._url:
            raise RuntimeError("the emulator is not running; use `with Emulator() as emu:` or call start()")
        return self._url

    def _local(self, what: str) -> EmulatorServer:
        if self.process:
            raise RuntimeError(f"Emulator(process=True) runs in another process: {what} is not available there")
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        return self._server

    @property
    def requests(self) -> list[Recorded]:
        """Every request received, in arrival order (the live list)."""
        return self._local("requests").records

    @property
    def last_request(self) -> Recorded | None:
        records = self.requests
        return records[-1] if records else None

    @property
    def disconnects(self) -> list[tuple[str, str]]:
        """(path, model) of every response the client abandoned before its end (the live list)."""
        return self._local("disconnects").disconnects

    def wait_for_disconnect(self, timeout: float = 30.0) -> bool:
        """Wait for a disconnect that no earlier call has returned.

        Each True consumes one entry of ``disconnects``: the first call is satisfied by the first
        disconnect (even if it happened before the call), the second call by the second, and so on.
        False after ``timeout`` seconds.
        """
        server = self._local("disconnects")
        deadline = time.monotonic() + timeout
        with server.changed:
            while len(server.disconnects) <= self._consumed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                server.changed.wait(remaining)
            self._consumed += 1
            return True

    def wait_for_request(self, path: str, count: int = 1, timeout: float = 30.0) -> bool:
        """Wait until ``count`` requests to ``path`` have arrived in all (held ones included);
        False after ``timeout`` seconds."""
        server = self._local("wait_for_request()")
        deadline = time.monotonic() + timeout
        with server.changed:
            while sum(urlsplit(r.path).path == path for r in server.records) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                server.changed.wait(remaining)
            return True

    # ------------------------------------------------------------------ switches

    def hold(self, path: str, *, at: str = "start") -> Hold:
        """Hold the next request to ``path`` until the returned :class:`Hold` is released (or the
        emulator stops): at "start", once recorded and before it is answered (a server slow to
        answer); at "done", a streamed answer just before its final chunk. ``hold.reached`` is set
        when a request waits there. Calls queue up, one request each."""
        if at not in ("start", "done"):
            raise ValueError(f'at must be "start" or "done", not {at!r}')
        server = self._local("hold()")
        hold = Hold(path, at)
        with server.changed:
            server.holds.setdefault((path, at), []).append(hold)
        return hold

    def answer_next(self, path: str, body: bytes, *, status: int = 200, content_type: str = "application/json") -> None:
        """Answer the next request to ``path`` with exactly these bytes (the request is still
        recorded): for the bodies a real server never sends but other servers and test doubles do
        (a JSON answer without ``done``, NDJSON to a ``stream: false`` request...). Calls queue up."""
        server = self._local("answer_next()")
        with server.changed:
            server.canned.setdefault(path, []).append((status, content_type, body))

    def publish(self, name: str, **changes: Any) -> None:
        """The registry now has a newer download of ``name`` (installed or pullable): the same
        model with ``changes`` to its fields (``thinking={"values": [...]}``, ``context_length=``,
        ``capabilities=``...) and new weights, so a new digest. ``/api/pull`` of ``name`` installs
        it; until then the server keeps the one it has::

            emu.publish("qwen3", thinking={"values": ["low", "high", "xhigh"], "default": "high"})
        """
        self._local("publish()").state.publish(name, changes)

    def route(self, path: str, method: str) -> Callable[..., Any] | None:
        """The function answering ``method path`` now (None: the emulator has no such route)."""
        return self._local("route()").routes.get(path, {}).get(method)

    def override(self, path: str, method: str, route: Callable[..., Any]) -> None:
        """Answer ``method path`` with ``route(body, *args)`` from now on: the way to plug in an
        answer source of your own. ``body`` is the request's bytes; ``route`` returns a response of
        ``ollama_nb.testing`` (``JSON``, ``Stream`` of chunks, ``Text``, ``Empty``) or raises
        ``HTTPError``. Wrap :meth:`route`'s function to change only some requests (the test
        suite's hostile-payload server, ``tests/corpus/routes.py``, does)::

            original = emu.route("/api/chat", "POST")
            emu.override("/api/chat", "POST", lambda body: mine(body) or original(body))
        """
        server = self._local("override()")
        with server.changed:
            server.routes.setdefault(path, {})[method] = route

    def refuse(self, kind: str, times: int = 1, retry_after: float | None = None) -> None:
        """Refuse the next ``times`` chat/generate requests like a busy or limited server.

        ``kind``: "busy" (503 queue full), "overloaded" (ollama.com's 503), "ratelimit" (429),
        "hourly", "session", "weekly" (429 usage limits). ``retry_after`` adds a Retry-After header.
        """
        self._local("refuse()").cloud.refuse(kind, times, retry_after)

    def set_cloud(self, state: str) -> None:
        """Switch cloud models through this server: "signed-in", "signed-out" or "disabled"."""
        self._local("set_cloud()").cloud.set_state(state)
        self.cloud = state

    def set_balance(self, balance_usd: float, allowance_usd: float, purchased_usd: float = 0.0) -> None:
        """What ``GET /api/balance`` reports on a credit plan: included credits left of the allowance."""
        self._local("set_balance()").cloud.account.set_balance(balance_usd, allowance_usd, purchased_usd)

    def set_legacy_quota(self, session_left: float, weekly_left: float) -> None:
        """What ``GET /api/balance`` reports on a legacy plan: the percent LEFT of each window."""
        self._local("set_legacy_quota()").cloud.account.set_legacy(session_left, weekly_left)

    def set_account_unavailable(self, unavailable: bool = True) -> None:
        """``/api/me`` answers 503 ``account unavailable`` (ollama.com cannot load the account)."""
        self._local("set_account_unavailable()").cloud.account.unavailable = unavailable

    def set_scheduler(self, num_parallel: int | None = None, max_queue: int | None = None) -> None:
        """Change OLLAMA_NUM_PARALLEL / OLLAMA_MAX_QUEUE while running."""
        self._local("set_scheduler()").scheduler.configure(num_parallel, max_queue)

    def wait_for_queue(self, count: int, timeout: float = 5.0) -> bool:
        """Wait until ``count`` requests wait in the scheduler's queue; False after ``timeout``."""
        return self._local("wait_for_queue()").scheduler.wait_for_waiting(count, timeout)

    @property
    def peak_queue(self) -> int:
        """The most requests that waited in the queue at once."""
        return self._local("peak_queue").scheduler.peak_waiting

    @property
    def busy_refusals(self) -> int:
        """How many requests the scheduler refused with 503 (queue full)."""
        return self._local("busy_refusals").scheduler.refused

    def model_names(self) -> list[str]:
        """Installed model names, most recently modified first."""
        if self._server is not None:
            return self._server.state.names()
        return [m["name"] for m in self._get("/api/tags")["models"]]

    def loaded_names(self) -> list[str]:
        """Names currently in ``/api/ps``."""
        if self._server is not None:
            return self._server.state.loaded_names()
        return [m["name"] for m in self._get("/api/ps")["models"]]

    def _get(self, path: str) -> Any:
        host, port = self.url.rsplit("//", 1)[1].rsplit(":", 1)
        conn = http.client.HTTPConnection(host.strip("[]"), int(port), timeout=10)
        try:
            headers = {"Authorization": f"Bearer {self.key}"} if self.key else {}
            conn.request("GET", path, headers=headers)
            return json.loads(conn.getresponse().read())
        finally:
            conn.close()


_START_TIMEOUT = 90.0


def _read_line(stream: Any, timeout: float) -> str:
    """First line of a child's stdout, or "" if it does not arrive in time."""
    selector = selectors.DefaultSelector()
    selector.register(stream, selectors.EVENT_READ)
    data = b""
    deadline = time.monotonic() + timeout
    try:
        while not data.endswith(b"\n") and time.monotonic() < deadline:
            if selector.select(deadline - time.monotonic()):
                byte = os.read(stream.fileno(), 1)
                if not byte:
                    break
                data += byte
    finally:
        selector.close()
    return data.decode(errors="replace")


def _drain(stream: Any) -> None:
    try:
        while os.read(stream.fileno(), 65536):
            pass
    except (OSError, ValueError):
        pass
