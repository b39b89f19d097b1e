"""A real IPython kernel for tests: run code as a front end would, and collect what it shows.

One kernel per test module (starting one takes ~1 s). :meth:`Kernel.run` sends an
``execute_request`` with the cell's id in its metadata (as JupyterLab and nbclient do) and returns
an :class:`Execution`: every IOPub message of that request, in order, plus the shell reply.

    @pytest.fixture(scope="module")
    def kernel(module_emulator):
        with Kernel(env={"OLLAMA_HOST": module_emulator.url}) as k:
            k.run("%load_ext ollama_nb").check()
            yield k
"""

from __future__ import annotations

import html.parser
import json
import os
import queue
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from jupyter_client.manager import KernelManager

from ollama_nb.testing import Emulator


class _Text(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self._skip += tag in ("style", "script")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("style", "script") and self._skip > 0

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(markup: str) -> str:
    """The text of an HTML fragment as a reader sees it (stylesheets left out)."""
    parser = _Text()
    parser.feed(markup)
    parser.close()
    return "".join(parser.parts)


class _Elements(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.found.append((tag, {k: v or "" for k, v in attrs}))


def live_markup(markup: str) -> list[str]:
    """What in an HTML fragment could run script or load something by itself (empty when inert).

    Read with an HTML parser, so text that merely mentions ``onclick=`` or ``javascript:`` (an
    escaped tag shown to the reader) is not counted."""
    parser = _Elements()
    parser.feed(markup)
    parser.close()
    problems = []
    for tag, attrs in parser.found:
        if tag in ("script", "iframe", "object", "embed", "svg", "math", "video", "audio", "input", "form", "link", "meta", "base"):
            problems.append(f"<{tag}>")
        for name, value in attrs.items():
            squeezed = "".join(value.split()).lower()
            if name.startswith("on") or name in ("srcset", "poster", "background", "formaction", "style"):
                problems.append(f"<{tag} {name}>")
            elif name in ("href", "src") and not (
                squeezed.startswith(("http:", "https:", "mailto:")) if name == "href" else squeezed.startswith("data:image/")
            ):
                problems.append(f"<{tag} {name}={value!r}>")
    return problems


def _display_group(display_id: str) -> str:
    return display_id.rsplit("-", 1)[0] if "-" in display_id else display_id


@dataclass
class Execution:
    """What the front end received for one execute_request."""

    msg_id: str
    iopub: list[dict[str, Any]] = field(default_factory=list)
    reply: dict[str, Any] | None = None
    wall: float = 0.0
    first_update_at: float | None = None  # seconds after sending, of the first display update

    # -- views ------------------------------------------------------------------------------
    def of(self, *types: str) -> list[dict[str, Any]]:
        return [m for m in self.iopub if m["header"]["msg_type"] in types]

    @property
    def displays(self) -> list[dict[str, Any]]:
        return self.of("display_data")

    @property
    def updates(self) -> list[dict[str, Any]]:
        return self.of("update_display_data")

    @property
    def errors(self) -> list[dict[str, Any]]:
        return self.of("error")

    @property
    def status(self) -> str:
        return (self.reply or {}).get("content", {}).get("status", "?")

    @property
    def stdout(self) -> str:
        return "".join(m["content"]["text"] for m in self.of("stream") if m["content"]["name"] == "stdout")

    @property
    def stderr(self) -> str:
        return "".join(m["content"]["text"] for m in self.of("stream") if m["content"]["name"] == "stderr")

    def result(self) -> dict[str, Any] | None:
        results = self.of("execute_result")
        return results[-1]["content"] if results else None

    def outputs(self, display_id: str | None = None) -> list[dict[str, Any]]:
        """The last state of each output of one answer, in order: the outputs whose display ids
        share the prefix of ``display_id`` (default: the first display with an id). A streamed
        answer is shown in several outputs (``<prefix>-0``, ``<prefix>-1``, ...); another display
        is one output."""
        if display_id is None:
            display_id = next(m["content"]["transient"]["display_id"] for m in self.displays if m["content"].get("transient"))
        group = _display_group(display_id)
        states: dict[str, dict[str, Any]] = {}
        for m in self.of("display_data", "update_display_data"):
            shown = m["content"].get("transient", {}).get("display_id")
            if shown and _display_group(shown) == group:
                states[shown] = m["content"]  # a dict keeps the order in which outputs appeared
        return list(states.values())

    def final(self, display_id: str | None = None) -> dict[str, Any]:
        """The last state of a display as one output (by id; default the first display with an
        id): for an answer in several outputs, their HTML joined, and the last one's text/plain
        and metadata (the final output carries the whole answer's)."""
        outputs = self.outputs(display_id)
        while len(outputs) > 1 and outputs[-1]["data"] == {"text/html": ""}:
            outputs.pop()  # emptied outputs left over below the answer (they show nothing)
        last = outputs[-1]
        data = dict(last["data"])
        if any("text/html" in o["data"] for o in outputs):
            data["text/html"] = "".join(o["data"].get("text/html", "") for o in outputs)
        elif len(outputs) > 1:  # plain text in parts (--raw): the parts are the text
            data["text/plain"] = "".join(o["data"].get("text/plain", "") for o in outputs)
        return {**last, "data": data}

    def html(self) -> str:
        """The final HTML of the cell's answer (what JupyterLab renders)."""
        return self.final()["data"].get("text/html", "")

    def text(self) -> str:
        """What a reader sees in the final HTML: its text, without markup or the stylesheet."""
        return visible_text(self.html())

    def all_text(self) -> str:
        """Every output the front end got for this request, as one string (for "never shows X").

        The echo of the code itself (execute_input) is left out: it is what the user typed."""
        return "\n".join(json.dumps(m["content"], ensure_ascii=False) for m in self.iopub
                         if m["header"]["msg_type"] != "execute_input")

    def iopub_bytes(self, *types: str) -> int:
        msgs = self.of(*types) if types else self.iopub
        return sum(len(json.dumps(m["content"], ensure_ascii=False).encode()) for m in msgs)

    def check(self) -> Execution:
        """Raise with the kernel's traceback if the request failed."""
        if self.status != "ok":
            content = (self.reply or {}).get("content", {})
            tb = "\n".join(content.get("traceback", []))
            raise AssertionError(f"execution failed: {content.get('ename')}: {content.get('evalue')}\n{tb}\n{self.stderr}")
        return self


class Kernel:
    """A kernel started with ``env`` added to this process's environment."""

    def __init__(self, env: dict[str, str] | None = None, *, unset: tuple[str, ...] = ("OLLAMA_API_KEY", "OLLAMA_NB_MODEL")) -> None:
        full = {k: v for k, v in os.environ.items() if k not in unset}
        full.update(env or {})
        full.setdefault("PYTHONPATH", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        self.km = KernelManager(kernel_name="python3")
        # The kernel must be this interpreter (the project's venv), whatever kernelspecs are installed.
        self.km.kernel_cmd = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        self.env = full
        self.kc: Any = None

    def start(self) -> Kernel:
        self.km.start_kernel(env=self.env)
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)
        return self

    def stop(self) -> None:
        if self.kc is not None:
            self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)

    def __enter__(self) -> Kernel:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- running code ---------------------------------------------------------------------------
    def send(self, code: str, cell_id: str | None = None) -> str:
        """Send an execute_request (with ``cellId`` metadata, as JupyterLab does); return its msg_id."""
        content = {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                   "allow_stdin": False, "stop_on_error": True}
        msg = self.kc.session.msg("execute_request", content)
        msg["metadata"]["cellId"] = cell_id or uuid.uuid4().hex
        self.kc.shell_channel.send(msg)
        return msg["header"]["msg_id"]

    def collect(self, msg_id: str, *, timeout: float = 60, started: float | None = None, on_message: Any = None) -> Execution:
        """IOPub messages of ``msg_id`` until the kernel is idle again, then the shell reply."""
        ex = Execution(msg_id)
        started = started or time.monotonic()
        deadline = started + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no idle status within {timeout} s; got {[m['header']['msg_type'] for m in ex.iopub]}")
            try:
                msg = self.kc.get_iopub_msg(timeout=remaining)
            except queue.Empty:
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind = msg["header"]["msg_type"]
            if kind == "status":
                if msg["content"]["execution_state"] == "idle":
                    break
                continue
            ex.iopub.append(msg)
            if kind == "update_display_data" and ex.first_update_at is None:
                ex.first_update_at = time.monotonic() - started
            if on_message is not None:
                on_message(msg, ex)
        while True:
            reply = self.kc.get_shell_msg(timeout=max(1.0, deadline - time.monotonic()))
            if reply["parent_header"].get("msg_id") == msg_id:
                ex.reply = reply
                break
        ex.wall = time.monotonic() - started
        return ex

    def run(self, code: str, *, cell_id: str | None = None, timeout: float = 60, on_message: Any = None) -> Execution:
        started = time.monotonic()
        msg_id = self.send(code, cell_id)
        return self.collect(msg_id, timeout=timeout, started=started, on_message=on_message)

    def run_quietly(self, code: str, *, timeout: float = 300) -> Execution:
        """Like :meth:`run`, but read IOPub only after the reply: while the code runs, this process
        uses no CPU (for benchmarks on small machines; ZMQ queues the messages meanwhile)."""
        started = time.monotonic()
        msg_id = self.send(code)
        while True:
            reply = self.kc.get_shell_msg(timeout=timeout)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        ex = Execution(msg_id, reply=reply)
        while True:
            msg = self.kc.get_iopub_msg(timeout=timeout)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["header"]["msg_type"] == "status":
                if msg["content"]["execution_state"] == "idle":
                    break
                continue
            ex.iopub.append(msg)
        ex.wall = time.monotonic() - started
        return ex

    # -- as JupyterLab's comms over subshells do --------------------------------------------------
    def create_subshell(self, timeout: float = 30) -> str:
        """A new kernel subshell (control channel ``create_subshell_request``); its id."""
        msg = self.kc.session.msg("create_subshell_request", {})
        self.kc.control_channel.send(msg)
        deadline = time.monotonic() + timeout
        while True:
            reply = self.kc.get_control_msg(timeout=max(0.1, deadline - time.monotonic()))
            if reply["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
                assert reply["content"].get("status") == "ok", reply["content"]
                return str(reply["content"]["subshell_id"])

    def comm_send(self, comm_id: str, content: dict[str, Any], subshell_id: str | None = None) -> str:
        """What a widget view's ``model.send(content)`` puts on the shell channel (on ``subshell_id``)."""
        msg = self.kc.session.msg("comm_msg", {"comm_id": comm_id, "data": {"method": "custom", "content": content}})
        if subshell_id is not None:
            msg["header"]["subshell_id"] = subshell_id
        self.kc.shell_channel.send(msg)
        return str(msg["header"]["msg_id"])

    def wait_iopub(self, predicate: Any, *, timeout: float = 60, what: str = "the IOPub message") -> dict[str, Any]:
        """Read IOPub (whoever's the parent) until ``predicate(msg)``; that message. Messages read on
        the way are gone: use it before :meth:`collect` only for what comes before the awaited one."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no {what} within {timeout} s")
            try:
                msg = self.kc.get_iopub_msg(timeout=remaining)
            except queue.Empty:
                continue
            if predicate(msg):
                return dict(msg)

    def value(self, expr: str) -> Any:
        """A JSON-able value evaluated in the kernel."""
        ex = self.run(f"import json as _j; print(_j.dumps({expr}))").check()
        return json.loads(ex.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module", name="emu")
def module_emulator():
    """One emulator for a module of kernel tests (a kernel is too slow to start per test)."""
    with Emulator(scenarios=True) as emulator:
        yield emulator


@pytest.fixture(scope="module", name="kernel")
def extension_kernel(emu):
    """A real IPython kernel pointed at the module's emulator, with ``%load_ext ollama_nb`` done."""
    with Kernel(env={"OLLAMA_HOST": emu.url}) as k:
        k.run("%load_ext ollama_nb").check()
        yield k

