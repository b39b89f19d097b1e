"""Ollama emulator: a real HTTP server on loopback that speaks Ollama's wire format.

Tests, the CI notebooks and the offline demo run against it; the same code runs unchanged against a
real Ollama. Standard library only.

Usage::

    from ollama_nb.testing import Emulator
    with Emulator() as emu:
        requests.post(emu.url + "/api/chat", json={"model": "llama3.2", "messages": [...]})
        assert emu.last_request.json["model"] == "llama3.2"

or from a shell: ``python -m ollama_nb.testing --port 11434``.

Installed models (each token is its own NDJSON chunk; all honour options.num_predict and
options.stop unless noted). The demo catalogue is the first six; the scenario models after them are
installed only with ``Emulator(scenarios=True)`` / ``--scenarios`` (tests), never in ``./dev lab``:

======================== ===========================================================================
``llama3.2:latest``      completion+tools. Short, plain answers to the questions the teaching notebooks
                         and README ask (``voice/``: ``topics.json`` data): correct facts, computed
                         ones for "is 91 prime?", "what is 2+2?", "what did I ask you?", a robot per
                         seed. Instructions in the system prompt or question are followed ("two
                         sentences", "three bullet points", "for 10-year-olds", "keep answers
                         short", a pirate). Anything else: a short, honest reply saying it comes
                         from the built-in emulator. Deterministic for a seed or temperature 0.
                         With ``tools``: one tool call (best name/description match, arguments
                         valid for the tool's schema, values taken from the prompt); after a
                         ``tool`` message, an answer written from the tool's result. ``format``:
                         JSON valid for the schema, values from the prompt (known lists such as
                         a rainbow's colours) or plausible for the field name.
``qwen3:latest``         the same questions in a structured Markdown voice, with thinking (default
                         on) in whole sentences of real reasoning; think=false none;
                         "low" fewer sentences, "high"/"max" a final check.
``gpt-oss:20b``          longer answers (tables, code), thinking with levels, like qwen3.
``llava:latest``         vision: reads simple PNG drawings (background, the main shape, its colour
                         and place, ``voice/vision.py``) and gives the pixel size; JPEG: the size only.
``nomic-embed-text``     embedding only: 768-dim L2-normalised bag-of-words hashing vectors.
``gpt-oss:120b-cloud``   a cloud model as a signed-in local server lists it (a stub with
                         ``remote_host``/``remote_model``); answers like gpt-oss:20b.
``bulk:latest``          exactly options.num_predict tokens (default 1000) as fast as possible,
                         256 chunks per socket write; done_reason "stop".
``slow:latest``          one token every 50 ms, 200 tokens (num_predict limits: "length").
``stall:latest``         5 tokens, then silence until the client leaves (recorded in
                         ``disconnects``) or 120 s pass; then the body ends without a done chunk.
``dropped:latest``       5 tokens, then the TCP connection closes without the final zero chunk.
``error-midstream``      5 tokens, then ``{"error":"llama runner process has terminated: signal:
                         killed"}`` at status 200, then the end of the body (no done chunk).
``malformed:latest``     5 tokens, then a line that is not JSON, then the end.
``markdown:latest``      heading, table, fenced python, inline and display LaTeX, a list.
``hostile:latest``       readable text around script/img-onerror/javascript:-link/iframe/style/
                         onclick HTML that must never execute.
``loading:latest``       sends nothing at all (not even headers) until the client leaves or 120 s
                         pass, as a model that takes minutes to load; a proxy's read timeout trips.
``essay:latest``         exactly options.num_predict tokens (default 300) at token_delay pace:
                         ``tag-0 tag-1 ...`` with the question's first word as tag, so a load test
                         can check every answer is whole and is the answer to its own question.
``paced:latest``         exactly options.num_predict tokens (default 2000, ~13 kB) of a long Markdown
                         answer (headings, paragraphs, lists, code, tables, math) at the pace the
                         prompt names ("at 100 tokens/s"; else options.tokens_per_second, else 30),
                         as a real model writes: what the live-output tests and benchmarks stream.
                         ``paced-thinking:latest`` is the same, thinking first (unless asked not
                         to): half of its tokens are thinking.
======================== ===========================================================================

Cloud models (``gpt-oss:120b-cloud``, ``qwen3.5:397b-cloud``, ``deepseek-v4-flash:cloud``)
answer through a local emulator only with ``cloud="signed-in"``; with a key (playing ollama.com)
they answer by their bare names. gpt-oss thinks even with ``think: false``; chat drops its oldest
messages to fit ``num_ctx`` (default 4096, cloud models their maximum), and a prompt that still
does not fit with ``shift``/``truncate`` false is 400 ``the prompt is longer than the context length``.

Pullable (not installed at start): ``smollm2:135m`` (~1 s), ``tinyllama:latest`` (~2 s),
``big-model:latest`` (~20 s; abandoning the pull installs nothing), ``slowverify:latest`` (silent for
1.5 s while "verifying sha256 digest"). ``create`` from a model that
is not installed pulls it first, as the real server does.

Error texts, status codes and check order follow ollama/ollama's ``server/routes.go`` (read at
commit fb30760); where that disagrees with ollama-api.md the source wins (e.g. ``show`` of a
missing model says ``model 'x:latest' not found``; images sent to a text model are ignored).
Also served: the OpenAI-compatible ``/v1`` routes and Anthropic-style ``/v1/messages`` over the same
answers (``compat_*.py``); foreign web origins are refused as Ollama refuses them (``origins.py``,
``OLLAMA_ORIGINS``); ``/api/version`` names the emulator (``identity.py``).

Modules: ``server`` (HTTP, routing, recording), ``generation`` and ``management`` (the routes),
``scenarios`` (what the test models say), ``voice`` (what the demo models say: data plus
instruction following, pluggable), ``catalog`` (models and state), ``wire`` (Go-compatible
encodings and response types); docs/architecture.md lists the rest.
"""

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

from .cloud import CLOUD_STATES, SIGNED_IN, SIGNED_OUT
from .scenarios import Voice
from .server import EmulatorServer, Hold, Recorded
from .voice import DemoVoice

__all__ = ["SIGNED_IN", "SIGNED_OUT", "DemoVoice", "Emulator", "Hold", "Recorded", "Voice"]

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
        ``GET /api/balance`` (see :mod:`ollama_nb.testing.quota`).

    ``refuse(kind, times, retry_after)`` makes the next chat/generate requests fail as a busy or
    rate-limited server does (see :data:`ollama_nb.testing.cloud.REFUSALS`).
    scenarios:
        Also install the scenario models (``slow``, ``stall``, ``hostile``, ...), which tests use to
        reproduce failures. Default: the ``OLLAMA_NB_EMULATOR_SCENARIOS`` environment variable
        ("1" = yes, which tests/conftest.py sets), else no: the demo catalogue a class would see.
    voice:
        What the ordinary models say (``answer(kind, prompt) -> Answer``, see
        :class:`ollama_nb.testing.scenarios.Voice`); default :class:`DemoVoice`, the offline demo.
    topics:
        Topic files (JSON, like ``voice/topics.json``) the demo voice searches first: a course's own
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
        line = _read_line(proc.stdout, timeout=15)
        prefix = "Ollama emulator listening on "
        if not line.startswith(prefix):
            proc.kill()
            _, err = proc.communicate(timeout=5)
            raise RuntimeError(f"emulator subprocess did not start: {line!r} {err.decode(errors='replace')[-2000:]}")
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

    def route(self, path: str, method: str) -> Callable[..., Any] | None:
        """The function answering ``method path`` now (None: the emulator has no such route)."""
        return self._local("route()").routes.get(path, {}).get(method)

    def override(self, path: str, method: str, route: Callable[..., Any]) -> None:
        """Answer ``method path`` with ``route(body, *args)`` from now on: the way to plug in an
        answer source of your own. ``body`` is the request's bytes; ``route`` returns a response of
        :mod:`ollama_nb.testing.wire` (``JSON``, ``Stream`` of chunks, ``Text``, ``Empty``) or raises
        ``wire.HTTPError``. Wrap :meth:`route`'s function to change only some requests (the test
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
