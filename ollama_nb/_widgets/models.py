"""ModelBrowser: see, pull, copy, delete, load and unload Ollama models from a notebook.

An anywidget. Durable state (the model list, what is loaded, the selected model's details, pulls in
flight, the last error) lives in synced traitlets, so a second view of the same widget, or one
re-opened mid-pull, shows everything at once. The view asks for work with custom messages
(``{"action": "pull", "name": ...}``); slow work runs on background threads, so a Cancel reaches
Python while a pull is streaming.

Usage::

    from ollama_nb import ModelBrowser
    browser = ModelBrowser()          # OLLAMA_HOST, else http://127.0.0.1:11434
    browser                           # the table; click a row for details
    browser.pull("smollm2:135m")      # returns when done; progress shows in the widget
    browser.selected                  # the name of the selected model
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable
from typing import Any

import anywidget
import traitlets

from .. import _format as fmt
from .._client import Client
from .._config import default_client
from .._errors import InvalidRequest, ModelNotFound, OllamaError, RetryCancelled, describe
from .._pacing import Pace
from .._pull import PullRunner
from .._quota import account_rows
from .._redact import mask_data
from .._render import chrome
from .._reply import Progress
from .._retry import RetryWait
from ._assets import css, esm
from ._kernel import keep_view_messages_on_their_subshell
from ._masked import KeyMasked
from ._rows import STARTING, details, model_row, progress_dict, pull_info, running_row
from ._tasks import Tasks, widget_client

__all__ = ["ModelBrowser"]

#: Seconds between two progress pushes to the view (all pulls together): at most ~7 per second.
PUSH_INTERVAL = 0.15
#: Seconds the constructor waits for the first model list before it returns (the rest arrives live).
INITIAL_WAIT = 3.0
ACTIONS = (
    "hello",
    "refresh",
    "select",
    "pull",
    "cancel",
    "dismiss",
    "copy",
    "delete",
    "load",
    "unload",
    "try",
    "clear",
)


def _chat_available() -> bool:
    try:
        return importlib.util.find_spec("ollama_nb._widgets.chat") is not None
    except (ImportError, ValueError):
        return False


class ModelBrowser(KeyMasked, anywidget.AnyWidget):
    """Browse the models of an Ollama server: a sortable table, details, pull, copy, delete, load/unload.

    Parameters
    ----------
    client:
        A ready :class:`~ollama_nb.Client` (its ``cloud`` attribute says whether it is Ollama Cloud).
    host:
        The server (``OLLAMA_HOST``-style text, or ``"https://ollama.com"`` for cloud models) instead
        of ``client``. Default: the shared client of the current settings (``%ollama config host=...``,
        else ``OLLAMA_HOST``).
    api_key:
        For a cloud host; default ``OLLAMA_API_KEY``. It stays in the client: never in widget state.

    Usage::

        browser = ModelBrowser()
        browser.pull("smollm2:135m")
        browser.selected = "smollm2:135m"   # the details pane follows
    """

    _esm = esm("models")
    _css = css("models")

    host = traitlets.Unicode("").tag(sync=True)
    #: Saved with the notebook's widget state, so a restored view knows it has no kernel (js/saved.js).
    _self_id = traitlets.Unicode("").tag(sync=True)
    cloud = traitlets.Bool(False).tag(sync=True)
    models = traitlets.List(traitlets.Dict()).tag(sync=True)
    running = traitlets.List(traitlets.Dict()).tag(sync=True)
    selected = traitlets.Unicode("").tag(sync=True)
    details = traitlets.Dict().tag(sync=True)
    pulls = traitlets.Dict().tag(sync=True)
    #: ``{"message", "hint", "action"}`` of the last failure, or ``{}``.
    error = traitlets.Dict().tag(sync=True)
    notice = traitlets.Unicode("").tag(sync=True)
    #: What is running right now ("Refreshing…", "Copying…"), or "" when idle. Pulls are in ``pulls``.
    busy = traitlets.Unicode("").tag(sync=True)
    chat_available = traitlets.Bool(False).tag(sync=True)
    #: Ollama Cloud's plan limits from /api/usage: ``{"limit", "fraction", "used", "resets"}`` rows.
    quota = traitlets.List(traitlets.Dict()).tag(sync=True)

    def __init__(
        self, *, client: Client | None = None, host: str | None = None, api_key: str | None = None, **kwargs: Any
    ) -> None:
        client = widget_client(client, host, api_key) or default_client()
        super().__init__(**kwargs)
        self.set_trait("_self_id", self.model_id or "")
        self._client = client
        self._lock = threading.RLock()
        self._tasks = Tasks("ModelBrowser", on_busy=lambda label: setattr(self, "busy", label))
        self._pulls: dict[str, PullRunner] = {}  # the pulls running, by name
        self._pull_state: dict[str, dict[str, Any]] = {}
        self._push_pace = Pace(least=PUSH_INTERVAL, most=PUSH_INTERVAL)
        self._output: Any = None
        self._chat: Any = None
        self.host = client.host
        self.cloud = bool(client.cloud)
        self._stop_waiting = threading.Event()  # close() ends a busy-server wait of any task
        self._calls = client.hooked(on_retry=self._waiting, cancel_retry=self._stop_waiting)
        self.chat_available = _chat_available()
        self.on_msg(self._on_view_msg)
        # The first list on a thread too (a slow server must not freeze the cell); on a normal
        # one it is there before the cell displays the widget, so the static table has the models.
        first = self._start("refresh", "Loading…", self._refresh, True)
        first.join(INITIAL_WAIT)

    # ------------------------------------------------------------------ Python API

    @property
    def client(self) -> Client:
        return self._client

    def refresh(self) -> None:
        """Reload the model list (and, on a local server, what is loaded). Raises the OllamaError."""
        self._refresh(report=True, raise_=True)

    def pull(self, name: str) -> Progress:
        """Download ``name``; returns when done (progress shows in the widget). Raises the OllamaError.

        A pull cancelled from the widget returns quietly; its ``state`` is ``"stopped"``.
        """
        if not isinstance(name, str) or not name.strip():
            raise InvalidRequest(
                f"ModelBrowser.pull() needs a model name, not {name!r}.",
                hint="For example: browser.pull('smollm2:135m'); https://ollama.com/library lists them.",
            )
        name = name.strip()
        result: dict[str, Any] = {}

        def work() -> None:
            try:
                result["progress"] = self._pull(name, raise_=True)
            except BaseException as exc:
                result["error"] = exc

        # The download runs on a worker thread while this one waits, so KeyboardInterrupt can
        # cancel it; the view's Cancel reaches Python meanwhile over its subshell (see _kernel).
        worker = threading.Thread(target=work, name=f"ModelBrowser-pull:{name}", daemon=True)
        worker.start()
        try:
            while worker.is_alive():
                worker.join(0.1)
        except KeyboardInterrupt:  # the kernel's stop button: stop the download too
            self.cancel(name)
            worker.join(5)
            raise
        if "error" in result:
            raise result["error"]
        progress: Progress | None = result.get("progress")
        if progress is None:
            raise OllamaError(f"{name} is already being pulled.", hint="Wait for it, or cancel it in the widget.")
        return progress

    def copy(self, source: str, destination: str) -> None:
        """Copy ``source`` to a new name ``destination`` (the list refreshes). Raises the OllamaError."""
        for what, value in (("source", source), ("destination", destination)):
            if not isinstance(value, str) or not value.strip():
                raise InvalidRequest(
                    f"ModelBrowser.copy() needs a {what} name, not {value!r}.",
                    hint="For example: browser.copy('llama3.2', 'my-copy').",
                )
        self._copy(self._listed(source), destination.strip(), raise_=True)

    def delete(self, name: str) -> None:
        """Delete ``name`` from the server (the list refreshes). Raises the OllamaError."""
        if not isinstance(name, str) or not name.strip():
            raise InvalidRequest(
                f"ModelBrowser.delete() needs a model name, not {name!r}.",
                hint="For example: browser.delete('my-copy:latest').",
            )
        self._delete(self._listed(name), raise_=True)

    def _listed(self, name: str) -> str:
        """A name the server listed, exactly (it may have spaces at its ends); else ``name`` trimmed
        (a typing slip)."""
        return name if any(m.get("name") == name for m in self.models) else name.strip()

    def close(self) -> None:
        """Close the widget; pulls still running are cancelled (a closed view cannot cancel them)."""
        if hasattr(self, "_pulls"):  # not a widget whose __init__ was refused
            self._stop_waiting.set()
            with self._lock:
                pulls = list(self._pulls.values())
            for runner in pulls:
                runner.stop()
        super().close()

    def __repr__(self) -> str:
        sel = f", selected={self.selected!r}" if self.selected else ""
        return f"ModelBrowser(host={self.host!r}, {len(self.models)} models{sel})"

    # ------------------------------------------------------------------ display

    def _table_html(self) -> str:
        rows = [
            {
                "name": fmt.model_name(m["name"]),
                "size": fmt.size(m["size"]) if m["size"] else "–",
                "parameters": m["parameter_size"] or "–",
                "quantization": m["quantization"] or "–",
                "family": m["family"] or "–",
                "modified": fmt.ago(m["modified_at"]),
            }
            for m in self.models
        ]
        title = chrome.title(f"Ollama models at {self.host}", f" ({len(rows)})")
        if not rows:
            return chrome.page(title, chrome.note("No models."))
        return chrome.page(
            title, chrome.table(rows, ["name", "size", "parameters", "quantization", "family", "modified"])
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        # The widget view where a widget manager runs; a static table where none does (GitHub,
        # nbviewer, a notebook saved without widget state).
        bundle = super()._repr_mimebundle_(**kwargs)
        data, meta = bundle if isinstance(bundle, tuple) else (bundle, {})
        data = {**(data or {}), "text/html": self._table_html(), "text/plain": repr(self)}
        return mask_data(data), dict(meta or {})

    def _ipython_display_(self) -> None:
        # The browser, then an (empty) output area where "Try it" opens a ChatWidget.
        from IPython.display import display

        data, meta = self._repr_mimebundle_()
        display(data, metadata=meta, raw=True)
        if self.chat_available:
            # Empty until "Try it"; no "Output()" text where widgets do not render (GitHub).
            area = self._tryout_area()._repr_mimebundle_()
            display({**area, "text/plain": ""}, raw=True)

    def _tryout_area(self) -> Any:
        if self._output is None:
            import ipywidgets

            self._output = ipywidgets.Output()
        return self._output

    # ------------------------------------------------------------------ messages from the view

    @traitlets.observe("comm")
    def _keep_views_on_their_subshell(self, change: dict[str, Any]) -> None:
        # Cancel must reach Python while a cell waits in browser.pull() (see _kernel).
        keep_view_messages_on_their_subshell(change["new"])

    def _on_view_msg(self, _widget: Any, content: Any, _buffers: Any = None) -> None:
        if not isinstance(content, dict):
            return
        action = content.get("action")
        # A name the view sends back is one the server listed (a row's data-name): used exactly, as
        # " llama3.2 " and "llama3.2" are two models. Only what the user types (a pull, a copy's new
        # name) is trimmed.
        name = str(content.get("name") or "")
        if action not in ACTIONS:
            return
        if action == "select":
            self.selected = name
        elif action == "dismiss":
            with self._lock:
                self._pull_state.pop(name, None)
            self._push_pulls(force=True)
        elif action == "clear":
            self.error, self.notice = {}, ""
        elif action == "cancel":
            self.cancel(name)
        elif action == "refresh":
            self._start("refresh", "Refreshing…", self._refresh, True)
        elif action == "pull":
            if name.strip():
                self._start(f"pull:{name.strip()}", "", self._pull, name.strip())
        elif action == "copy":
            src, dst = str(content.get("src") or ""), str(content.get("dst") or "").strip()
            self._start("copy", f"Copying {fmt.model_name(src)}…", self._copy, src, dst)
        elif action == "delete":
            self._start("delete", f"Deleting {fmt.model_name(name)}…", self._delete, name)
        elif action == "load":
            self._start("load", f"Loading {fmt.model_name(name)}…", self._load, name)
        elif action == "unload":
            self._start("unload", f"Unloading {fmt.model_name(name)}…", self._unload, name)
        elif action == "try":
            self._try(name)

    def cancel(self, name: str) -> None:
        """Stop the pull of ``name`` (closes its stream; nothing is installed)."""
        with self._lock:
            runner = self._pulls.get(name)
        if runner is not None:
            runner.stop()

    # ------------------------------------------------------------------ background work

    def _start(self, key: str, label: str, fn: Callable[..., Any], *args: Any) -> threading.Thread:
        """Run ``fn(*args)`` on a daemon thread; ``busy`` says what runs while it does; a failure
        shows in the panel."""

        def guarded() -> None:
            try:
                fn(*args)
            except RetryCancelled:
                self.notice = ""
            except Exception as exc:
                self._report(exc, key.split(":")[0])

        return self._tasks.start(guarded, key=key, label=label)

    def _waiting(self, wait: RetryWait) -> None:
        self.notice = f"{wait}."

    def _join(self, timeout: float = 10.0) -> bool:
        """Wait until no background work runs (for tests and scripts). False on timeout."""
        return self._tasks.join(timeout)

    def _report(self, exc: BaseException, action: str, hint: str | None = None) -> None:
        message, default_hint = describe(exc)
        self.error = {"message": message, "hint": default_hint if hint is None else hint, "action": action}

    def _call(self, action: str, fn: Callable[[], Any], raise_: bool) -> bool:
        self.error, self.notice = {}, ""
        try:
            fn()
            return True
        except OllamaError as err:
            self._report(err, action)
            if raise_:
                raise
            return False

    # ------------------------------------------------------------------ the actions

    def _refresh(self, report: bool = True, raise_: bool = False) -> None:
        client = self._calls
        try:
            tags = client.list()
            models = [model_row(m) for m in tags.get("models") or []]
            running: list[dict[str, Any]] = []
            if not self.cloud:
                running = [running_row(m) for m in client.ps().get("models") or []]
        except OllamaError as err:
            if report:
                self._report(err, "refresh")
            if raise_:
                raise
            return
        if self.error.get("action") == "refresh":
            self.error = {}
        self.models = models
        self.running = running
        if self.cloud:
            self._refresh_quota()
        if self.selected and self.selected not in {m["name"] for m in models}:
            self.selected = ""

    def _refresh_quota(self) -> None:
        # The panel is extra: an account or server without /api/usage just shows none.
        try:
            self.quota = account_rows(self._calls)
        except OllamaError:
            self.quota = []

    def _refresh_running(self) -> None:
        self.running = [running_row(m) for m in self._calls.ps().get("models") or []]

    @traitlets.observe("selected")
    def _on_selected(self, change: dict[str, Any]) -> None:
        name = change["new"]
        if not name:
            self.details = {}
            return
        if self.details.get("name") != name:
            self.details = {"name": name, "loading": True}
        self._start("show", "", self._show, name)

    def _show(self, name: str) -> None:
        try:
            show = dict(self._calls.show(name))
        except OllamaError as err:
            if self.selected == name:
                self.details = {"name": name, "failed": True}
                self._report(err, "select")
            return
        if self.selected == name:  # the user may have clicked another row meanwhile
            self.details = details(name, show)

    def _pull(self, name: str, raise_: bool = False) -> Progress | None:
        if not name:
            return None
        self.error, self.notice = {}, ""
        if self.cloud:
            err = OllamaError(
                "Ollama Cloud has no pull.", hint="Cloud models run without a download; pull on a local server."
            )
            return self._pull_failed(name, err, raise_)
        runner = PullRunner(self._client, name)
        with self._lock:
            if name in self._pulls:
                self.notice = f"{name} is already being pulled."
                return None
            self._pulls[name] = runner
            self._pull_state[name] = {**STARTING, "name": name}
        self._push_pulls(force=True)
        try:
            progress = runner.run(lambda p: self._set_pull(name, progress_dict(p, name)), on_wait=self._waiting)
        finally:
            with self._lock:
                self._pulls.pop(name, None)
        if runner.error is not None:
            return self._pull_failed(name, runner.error, raise_, progress)
        self._pull_ended(name, runner)
        return progress

    def _pull_ended(self, name: str, runner: PullRunner) -> None:
        progress = runner.progress
        if runner.status == "done" and progress is not None:
            self._set_pull(name, progress_dict(progress, name), force=True)
            self._refresh(report=True)
            self.notice = f"Pulled {name}."
            return
        state = progress_dict(progress, name) if progress is not None else dict(self._pull_state.get(name, {}))
        state.update(state="stopped", status="cancelled")
        if progress is not None:
            state["info_text"] = pull_info(progress, "stopped")
            self.notice = f"Pull of {name} cancelled; nothing was installed."
        else:
            self.notice = f"Pull of {name} cancelled while the server was busy; nothing was installed."
        self._set_pull(name, state, force=True)

    def _pull_failed(
        self, name: str, err: OllamaError, raise_: bool, progress: Progress | None = None
    ) -> Progress | None:
        hint = err.hint  # a ModelNotFound from a pull already says: not in the library, check the spelling
        message, _ = describe(err)
        if isinstance(err, ModelNotFound):
            message = f"Cannot pull {name}: {err.error}"
        state = (
            progress_dict(progress, name)
            if progress is not None
            else {"name": name, "layers": [], "completed": 0, "total": 0}
        )
        state.update(state="failed", status="failed", message=message, hint=hint)
        if progress is not None:
            state["info_text"] = pull_info(progress, "failed")
        self._set_pull(name, state, force=True)
        self.error = {"message": message, "hint": hint, "action": "pull"}
        if raise_:
            raise err
        return progress

    def _set_pull(self, name: str, state: dict[str, Any], force: bool = False) -> None:
        with self._lock:
            self._pull_state[name] = state
        self._push_pulls(force)

    def _push_pulls(self, force: bool = False) -> None:
        # One traitlet update for all pulls at a bounded rate; the final state of each is always sent.
        with self._lock:
            if not force and not self._push_pace.due():
                return
            self._push_pace.sent()
            snapshot = {k: dict(v) for k, v in self._pull_state.items()}
        self.pulls = snapshot

    def _copy(self, source: str, destination: str, raise_: bool = False) -> None:
        if not source or not destination:
            self._report(OllamaError("Copy needs a source and a new name."), "copy")
            return
        if self._call("copy", lambda: self._calls.copy(source, destination), raise_):
            self._refresh()
            self.notice = f"Copied {fmt.model_name(source)} to {fmt.model_name(destination)}."

    def _delete(self, name: str, raise_: bool = False) -> None:
        if self._call("delete", lambda: self._calls.delete(name), raise_):
            if self.selected == name:
                self.selected = ""
            self._refresh()
            self.notice = f"Deleted {fmt.model_name(name)}."

    def _load(self, name: str) -> None:
        if self._call("load", lambda: self._calls.load(name), False):
            self._refresh_running()
            self.notice = f"Loaded {fmt.model_name(name)}."

    def _unload(self, name: str) -> None:
        if self._call("unload", lambda: self._calls.unload(name), False):
            self._refresh_running()
            self.notice = f"Unloaded {fmt.model_name(name)}."

    def _try(self, name: str) -> None:
        """Open a ChatWidget on ``name`` in the output area below the browser."""
        if not name:
            return
        self.error, self.notice = {}, ""
        try:
            from .chat import ChatWidget
        except ImportError as exc:
            self._report(exc, "try", "The chat widget is not available in this version of ollama_nb.")
            return
        try:
            try:
                chat = ChatWidget(model=name, client=self._client)
            except TypeError:  # a ChatWidget of another version
                chat = ChatWidget(model=name)
        except Exception as exc:
            self._report(exc, "try")
            return
        out = self._tryout_area()
        previous, self._chat = self._chat, chat
        data, meta = chat._repr_mimebundle_()  # its bundle, not its _ipython_display_ (that targets the cell)
        out.outputs = ({"output_type": "display_data", "data": data, "metadata": meta},)
        if previous is not None:
            previous.close()
        self.notice = f"Chat with {fmt.model_name(name)} opened below."
