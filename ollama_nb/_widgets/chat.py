"""ChatWidget: a chat with an Ollama model in a notebook cell (an anywidget).

Usage::

    from ollama_nb import ChatWidget
    chat = ChatWidget(model="llama3.2", system="You are a patient tutor.")
    chat                                   # the panel: type, Enter sends, Stop stops
    chat.ask("What is a prime number?")    # like a typed message; returns the Reply when done
    chat.messages                          # the transcript, a list of dicts
    ChatWidget(conversation="tutor")       # continues what `%%ollama --chat tutor` says, and back

How it streams (design.md, "Streaming into a widget"): the answer is generated in a background
thread, so the kernel stays free for the Stop button's message, which closes the HTTP stream at once.
New text reaches the views as ``delta`` custom messages paced by
:class:`~ollama_nb._widgets._deltas.DeltaStream`; the finished answer is committed once into the
synced ``messages`` trait. A view that renders mid-stream asks for the ``partial`` answer so far.

Messages between the views and the kernel (``content`` of anywidget custom messages):

=========================  ===================================================================
view -> kernel             ``{"type": "send", "text"}``, ``{"type": "stop"}``, ``{"type": "sync"}``
                           (answer with the partial), ``{"type": "clear"}``, ``{"type": "refresh"}``
                           (model list)
                           ``{"type": "state"}`` (send the whole transcript: a patch did not fit)
kernel -> views            ``{"type": "delta", "turn", "seq", "content"?, "thinking"?}``,
                           ``{"type": "partial", "turn", "seq", "model", "content", "thinking"}``
                           (``turn`` None: nothing is streaming),
                           ``{"type": "messages", "base", "rev", "start", "items"}`` (a patch)
=========================  ===================================================================

The transcript (``messages``) changes at the end of the list only (a turn begins, a turn ends,
Clear), so after the first sync the kernel sends it as patches: ``messages[start:] = items``, from
revision ``base`` to ``rev`` (``_messages_rev``). The page applies each one to the model's state
(js/chat.js, ``initialize``), so what JupyterLab saves with the notebook is still the whole
transcript; a page whose revision is not ``base`` asks for the whole state instead. A turn costs
the bytes of that turn, not of the conversation so far. Comm open, a view's ``request_state`` and
the state nbclient saves carry the whole transcript as before.
"""

from __future__ import annotations

import threading
import uuid
import weakref
from typing import Any

import anywidget
import traitlets

from .._config import default_client, settings
from .._context import ContextUse, Lookup
from .._context import measure as measure_context
from .._conversation import Conversation, Turn
from .._errors import InvalidRequest, describe
from .._format import stats_line, stats_text
from .._redact import mask_data
from .._render import answer as render_answer
from .._render import chrome
from .._reply import Reply
from .._retry import RetryWait
from .._status import RUNNING
from .._turn import TurnRunner
from ._assets import css, esm
from ._deltas import DeltaStream
from ._kernel import keep_view_messages_on_their_subshell
from ._masked import KeyMasked
from ._picker import chat_models, picker_names

__all__ = ["ChatWidget"]


class _Live:
    """The one turn a widget is streaming: its thread, stream, and stop/interrupt requests."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.turn: Turn | None = None
        self.runner: TurnRunner | None = None
        self.deltas: DeltaStream | None = None
        self.reply: Reply | None = None
        self.thread: threading.Thread | None = None
        self.stop_requested = False
        self.interrupted = False
        self.done = threading.Event()


class ChatWidget(KeyMasked, anywidget.AnyWidget):
    """A chat panel: message list, text box, Send/Stop, model picker, system prompt, think toggle,
    temperature and Clear. Answers stream as sanitized Markdown.

    Parameters
    ----------
    model:
        Model name. Default: the conversation's, else ``OLLAMA_NB_MODEL`` / ``%ollama config
        model=...``, else the first installed model.
    system:
        System prompt (editable in the panel).
    conversation:
        A :class:`~ollama_nb.Conversation`, or the name of one shared with ``%%ollama --chat NAME``.
        Default: a new, private conversation.
    client:
        A :class:`~ollama_nb.Client`. Default: the shared client of the current settings.
    options:
        Model options (``{"temperature": 0.2, "num_ctx": 8192}``) sent with every message.

    The API key never reaches the widget's state: only the host's answers do.
    """

    _esm = esm("chat")
    _css = css("chat")

    #: The finished transcript: ``{"role": "user", "content", "turn"}`` and ``{"role": "assistant",
    #: "content", "thinking", "status", "model", "stats", "error", "turn"}`` (``error``: None or
    #: ``{"message", "hint"}``; ``status``: running, done, stopped, interrupted or failed).
    messages = traitlets.List(traitlets.Dict(), read_only=True).tag(sync=True)
    #: Revision of ``messages``: +1 per change, sent with each patch (see the module docstring).
    _messages_rev = traitlets.Int(0, read_only=True).tag(sync=True)
    model = traitlets.Unicode("").tag(sync=True)
    #: This widget's own model id, saved with the notebook's widget state: a restored view finds its
    #: model by it and sees that no kernel is behind it (js/saved.js).
    _self_id = traitlets.Unicode("").tag(sync=True)
    models = traitlets.List(traitlets.Unicode(), read_only=True).tag(sync=True)
    system = traitlets.Unicode("").tag(sync=True)
    think = traitlets.Bool(True).tag(sync=True)
    can_think = traitlets.Bool(False, read_only=True).tag(sync=True)
    temperature = traitlets.Float(None, allow_none=True, min=0.0, max=2.0).tag(sync=True)
    busy = traitlets.Bool(False, read_only=True).tag(sync=True)
    #: A problem of the widget as a whole (the model list could not be read): ``{"message", "hint"}``.
    error = traitlets.Dict(read_only=True).tag(sync=True)
    #: Markdown shown while the conversation is empty.
    placeholder = traitlets.Unicode("").tag(sync=True)
    #: One line of our own above the input: a busy server's retry wait ("server busy, retrying in
    #: 4 s (2 of 5)"), or the context meter's advice once the conversation nearly fills it.
    notice = traitlets.Unicode("", read_only=True).tag(sync=True)

    def __init__(
        self,
        model: str | None = None,
        system: str | None = None,
        conversation: Conversation | str | None = None,
        client: Any = None,
        options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if isinstance(conversation, Conversation):
            conv = conversation
        elif isinstance(conversation, str):
            conv = Conversation.named(conversation)
        elif conversation is None:
            conv = Conversation()
        else:
            raise TypeError(f"conversation must be a Conversation or a name, not {type(conversation).__name__}")
        options = dict(options or {})
        conv.configure(
            model=model or None,
            system=system,
            options={**conv.options, **options} if options else None,
        )
        self._conversation = conv
        self._client = client
        self._lock = threading.RLock()
        self._live: _Live | None = None
        self._errors: dict[str, dict[str, str]] = {}  # turn id -> {"message", "hint"}
        self._stats: dict[str, str] = {}  # turn id -> stats line of our own replies
        self._capabilities: dict[str, list[str]] = {}
        self._installed: list[str] = []  # chat-capable installed models, as /api/tags names them
        self._show_cache: dict[str, list[str]] = {}  # digest -> capabilities, for servers whose tags lack them
        self._background: list[threading.Thread] = []
        self._ready = False
        self._patch: dict[str, Any] | None = None  # the next messages change, sent as a patch
        temperature = conv.options.get("temperature")
        super().__init__(
            model=conv.model or settings.resolved_model() or "",
            system=conv.system or "",
            temperature=float(temperature) if isinstance(temperature, (int, float)) else None,
            **kwargs,
        )
        self.set_trait("_self_id", self.model_id or "")
        self._display_id = uuid.uuid4().hex  # every output of this widget, so each turn can refresh them
        self._displayed = False
        self._fallback = ""  # the static transcript last sent to those outputs
        self.on_msg(self._on_view_msg)
        ref = weakref.ref(self)

        def listener(_conv: Conversation) -> None:
            widget = ref()
            if widget is not None:
                widget._conversation_changed()

        self._listener = listener
        conv.on_change(listener)
        self._conversation_changed()
        self._ready = True
        self._in_background(self.refresh)

    # -- public API ---------------------------------------------------------------------------
    @property
    def conversation(self) -> Conversation:
        """The :class:`~ollama_nb.Conversation` this chat reads and writes."""
        return self._conversation

    @property
    def client(self) -> Any:
        return self._client if self._client is not None else default_client()

    def ask(self, text: str, *, wait: bool = True) -> Reply | None:
        """Send ``text`` as if typed in the box.

        With ``wait`` (default) return the :class:`~ollama_nb.Reply` when the answer is complete
        (stopped or failed ones too: see ``reply.status``; errors also show in the chat). Interrupting
        the kernel stops the answer, keeps it marked "interrupted" and raises ``KeyboardInterrupt``.
        With ``wait=False`` return None at once; ``chat.stop()`` stops it.

        While a cell waits here the kernel is busy, so the panel's Stop button reaches Python only
        with JupyterLab's comms over subshells; the kernel's interrupt button always works.
        (``chat.send(content)`` keeps ipywidgets' meaning: a custom message to the views.)
        """
        if not isinstance(text, str):
            raise InvalidRequest(
                f"ChatWidget.ask() takes the message text (a str), not {type(text).__name__}.",
                hint='For example: chat.ask("What is a prime number?")',
            )
        if not text.strip():
            raise InvalidRequest("Nothing to send: the message is empty.", hint='For example: chat.ask("Hi")')
        live = self._start(text)
        if not wait:
            return None
        try:
            while not live.done.wait(0.1):
                pass
        except KeyboardInterrupt:
            live.interrupted = True
            self.stop()
            live.done.wait(5)
            raise
        return live.reply

    def stop(self) -> None:
        """Stop the answer being generated (if any): the partial answer stays, marked "stopped".

        Safe from any thread; returns at once. Closing the HTTP stream makes Ollama stop generating.
        """
        with self._lock:
            live = self._live
            if live is None:
                return
            live.stop_requested = True
            runner = live.runner
        if runner is not None:
            runner.stop("interrupted" if live.interrupted else "stopped")

    def clear(self) -> None:
        """Stop any answer and forget the conversation (for the magic's ``--chat`` too, if shared)."""
        live = self._live
        if live is not None:
            self.stop()
            live.done.wait(2)
        self._conversation.clear()

    def refresh(self) -> None:
        """Re-read the installed models (``list``) and what the current one can do (``show``)."""
        try:
            entries = self.client.list().get("models", [])
            names = chat_models(self.client, entries, self._show_cache)
        except Exception as err:
            message, hint = describe(err)
            self.set_trait("error", {"message": message, "hint": hint})
            return
        self.set_trait("error", {})
        self._installed = names
        if not self.model and names:
            self.model = names[0]
        self.set_trait("models", picker_names(names, self.model))
        self._read_capabilities(self.model)

    def transcript(self) -> str:
        """The conversation as sanitized HTML, as saved notebooks show it."""
        return chrome.page(render_answer.transcript(self.messages, self.model, empty=_EMPTY))

    def close(self) -> None:
        self.stop()
        self._conversation.on_change(self._listener, remove=True)
        super().close()

    def __repr__(self) -> str:
        return f"ChatWidget(model={self.model!r}, turns={len(self._conversation)})"

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is None:
            return None
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
        data = dict(data)
        data["text/plain"] = repr(self)
        # A saved notebook shows this where the widget state is missing (GitHub, nbviewer, VS Code).
        data["text/html"] = self.transcript()
        return mask_data(data), metadata

    def _ipython_display_(self) -> None:
        # One display id for every output of this widget: when a turn ends, their static copy
        # (text/html, what nbconvert, GitHub and VS Code show without widget state) is refreshed, so
        # a saved notebook holds the whole conversation, not the one from display time. Front ends
        # that apply display updates across cells do (nbclient/nbconvert --execute, VS Code);
        # JupyterLab applies them only within the cell that displayed the widget.
        from IPython.display import display

        data, meta = self._repr_mimebundle_()
        self._fallback = data.get("text/html", "")
        self._displayed = True
        display(data, metadata=meta, raw=True, display_id=self._display_id)

    def _refresh_fallback(self) -> None:
        if not self._displayed or self._live is not None:
            return
        bundle = self._repr_mimebundle_()
        if bundle is None:
            return
        data, meta = bundle
        if data.get("text/html", "") == self._fallback:
            return
        self._fallback = data.get("text/html", "")
        from IPython.display import update_display

        update_display(data, metadata=meta, raw=True, display_id=self._display_id)

    # -- from the views -----------------------------------------------------------------------
    @traitlets.observe("comm")
    def _keep_views_on_their_subshell(self, change: dict[str, Any]) -> None:
        # The Stop button must reach Python while a cell waits in chat.ask() (see _kernel).
        keep_view_messages_on_their_subshell(change["new"])

    def _emit(self, content: dict[str, Any]) -> None:
        """Send one custom message to every view."""
        # Deltas carry server text too; a key split across two deltas is only caught in the
        # committed transcript (``messages``, masked by KeyMasked), which is what gets saved.
        self.send(mask_data(content))

    def send_state(self, key: Any = None) -> None:
        """ipywidgets' sync of changed traits: a change of ``messages`` (with its revision) goes as
        the patch ``_conversation_changed`` prepared; the whole state (``key`` None) as before."""
        patch = self._patch
        if patch is not None and key is not None:
            keys = [key] if isinstance(key, str) else list(key)
            if "messages" in keys:
                self._patch = None
                self._emit(patch)
                keys = [k for k in keys if k not in ("messages", "_messages_rev")]
                if not keys:
                    return
                key = keys
        super().send_state(key)

    def _on_view_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        if kind == "stop":
            self.stop()
        elif kind == "sync":
            self._sync()
        elif kind == "state":
            with self._lock:
                self.send_state(["messages", "_messages_rev"])
        elif kind == "send":
            text = str(content.get("text") or "")
            if text.strip():
                try:
                    self._start(text)
                except RuntimeError:  # still answering (a second view's Send raced the first)
                    pass
        elif kind == "clear":
            self._in_background(self.clear)
        elif kind == "refresh":
            self._in_background(self.refresh)

    def _sync(self) -> None:
        """A view rendered (or missed a delta): send it the answer so far."""
        live = self._live
        deltas = live.deltas if live is not None else None
        if deltas is not None:
            deltas.snapshot()
        else:
            self._emit(
                {
                    "type": "partial",
                    "turn": live.turn.id if live and live.turn else None,
                    "seq": 0,
                    "model": live.model if live else "",
                    "content": "",
                    "thinking": "",
                }
            )

    @traitlets.observe("model")
    def _model_changed(self, change: dict[str, Any]) -> None:
        name = change["new"]
        if self._installed:
            self.set_trait("models", picker_names(self._installed, name))
        if name and name != self._conversation.model:
            self._conversation.configure(model=name)
        if name in self._capabilities:
            self.set_trait("can_think", "thinking" in self._capabilities[name])
        else:
            self.set_trait("can_think", False)
            if self._ready:  # during __init__, refresh() reads them
                self._in_background(self._read_capabilities, name)

    @traitlets.observe("system")
    def _system_changed(self, change: dict[str, Any]) -> None:
        if (change["new"] or None) != self._conversation.system:
            self._conversation.configure(system=change["new"])

    @traitlets.observe("temperature")
    def _temperature_changed(self, change: dict[str, Any]) -> None:
        options = dict(self._conversation.options)
        if change["new"] is None:
            options.pop("temperature", None)
        else:
            options["temperature"] = change["new"]
        if options != self._conversation.options:
            self._conversation.configure(options=options)

    # -- generation ---------------------------------------------------------------------------
    def _start(self, text: str) -> _Live:
        with self._lock:
            if self._live is not None:
                raise RuntimeError("The chat is still answering: wait for it, or call chat.stop() first.")
            live = self._live = _Live(self.model)
            self.set_trait("busy", True)
        live.thread = threading.Thread(target=self._run, args=(live, text), name="onb-chat", daemon=True)
        live.thread.start()
        return live

    def _run(self, live: _Live, text: str) -> None:
        conv = self._conversation
        try:
            model = live.model or self._first_model()
            live.model = model
            think = bool(self.think) if self.can_think else None
            request = {"options": dict(conv.options) or None, "think": think}
            with self._lock:  # others see live.turn set as soon as they see the turn
                runner = TurnRunner(
                    self.client, model, conversation=conv, user={"role": "user", "content": text}, request=request
                )
                live.runner, live.turn = runner, runner.turn
                if live.stop_requested:
                    runner.stop("interrupted" if live.interrupted else "stopped")
            turn_id = runner.turn.id if runner.turn else ""

            def on_wait(wait: RetryWait) -> None:
                self.set_trait("notice", f"{wait}. Press Stop to stop waiting.")

            lookups: list[Lookup] = []

            def on_stream(reply: Reply) -> None:
                self.set_trait("notice", "")
                lookups.append(Lookup(self.client, reply))  # the meter's figures, while it streams
                deltas = DeltaStream(turn_id, self._emit, reply, model=model)
                with self._lock:
                    live.deltas = deltas
                deltas.start()

            def on_chunk(reply: Reply, chunk: Any) -> None:
                if live.deltas is not None:
                    live.deltas.poke()  # the Reply merged the chunk; the pacer reads it from there

            def on_end(ended: TurnRunner) -> None:
                if live.deltas is not None:
                    live.deltas.close()
                reply = ended.reply
                if ended.error is not None:
                    self._record_error(turn_id, ended.error)
                notice = ""
                if reply.done:
                    self._stats[turn_id] = stats_line(reply)
                    use = _context_use(self.client, reply, conv.options, lookups[-1] if lookups else None)
                    if use is not None:
                        self._stats[turn_id] += " · " + use.short()
                        if use.warn:
                            notice = use.advice(
                                fresh="the Clear button", room='`ChatWidget(options={{"num_ctx": {n}}})`'
                            )
                elif reply.chunks:
                    self._stats[turn_id] = _stats_text(reply.model or model, reply.stats(), reply.status)
                else:  # nothing arrived: the error says it all
                    self._stats[turn_id] = ""
                self.set_trait("notice", notice)

            live.reply = runner.run(on_chunk, on_stream=on_stream, on_wait=on_wait, on_end=on_end)
        finally:
            with self._lock:
                if self._live is live:
                    self._live = None
                live.deltas = None
            self.set_trait("busy", False)
            self._refresh_fallback()  # before done: a waiting ask() returns with the outputs current
            live.done.set()

    def _record_error(self, turn_id: str, err: BaseException) -> None:
        message, hint = describe(err)
        self._errors[turn_id] = {"message": message, "hint": hint}

    def _first_model(self) -> str:
        if not self.models:
            self.refresh()
        if not self.models:
            return ""
        self.model = self.models[0]
        return self.model

    def _read_capabilities(self, name: str) -> None:
        if not name:
            return
        try:
            caps = list(self.client.show(name).get("capabilities") or [])
        except Exception:
            caps = []
        self._capabilities[name] = caps
        if self.model == name:
            self.set_trait("can_think", "thinking" in caps)

    def _in_background(self, fn: Any, *args: Any) -> threading.Thread:
        thread = threading.Thread(target=fn, args=args, name="onb-chat-bg", daemon=True)
        self._background = [t for t in self._background if t.is_alive()] + [thread]
        thread.start()
        return thread

    # -- conversation -> synced state ----------------------------------------------------------
    def _conversation_changed(self) -> None:
        conv = self._conversation
        with self._lock:
            if conv.model and conv.model != self.model:
                self.model = conv.model
            if (conv.system or "") != self.system:
                self.system = conv.system or ""
            messages = self._derive_messages()
            old = self.messages
            if messages != old:
                same = (a == b for a, b in zip(old, messages, strict=False))
                start = next((i for i, equal in enumerate(same) if not equal), min(len(old), len(messages)))
                rev = self._messages_rev + 1
                # Both traits change in one sync, which send_state turns into this one message.
                self._patch = {"type": "messages", "base": self._messages_rev, "rev": rev, "start": start,
                               "items": messages[start:]}
                try:
                    with self.hold_sync():
                        self.set_trait("messages", messages)
                        self.set_trait("_messages_rev", rev)
                finally:
                    self._patch = None
        self._refresh_fallback()

    def _derive_messages(self) -> list[dict[str, Any]]:
        live = self._live
        out: list[dict[str, Any]] = []
        history = self._conversation.history()
        ids = {h["id"] for h in history}
        for notes in (self._errors, self._stats):  # forget turns that were cleared or replaced
            for tid in [t for t in notes if t not in ids]:
                notes.pop(tid, None)
        for h in history:
            tid = h["id"]
            out.append({"role": "user", "content": str(h["user"] or ""), "turn": tid})
            status = h["status"]
            model = h["model"] or ""
            if status == RUNNING and live is not None and (live.turn is None or live.turn.id == tid):
                model = model or live.model  # live.turn is None while begin() announces it
            error = self._errors.get(tid)
            if error is None and h["error"]:
                error = {"message": str(h["error"]), "hint": ""}
            stats = self._stats.get(tid)
            if stats is None:
                stats = _stats_text(model, h["stats"], status) if status != RUNNING else ""
            out.append(
                {
                    "role": "assistant",
                    "turn": tid,
                    "content": str(h["assistant"] or ""),
                    "thinking": str(h["thinking"] or ""),
                    "status": status,
                    "model": model,
                    "stats": stats,
                    "error": error,
                }
            )
        return mask_data(out)  # the stats line carries the server's model name: mask it here too


# -- static transcript ----------------------------------------------------------------------------
def _context_use(client: Any, reply: Reply, options: dict[str, Any], lookup: Lookup | None) -> ContextUse | None:
    # The meter is a courtesy: a server that cannot say its window must not fail the turn.
    try:
        return measure_context(client, reply, options, lookup=lookup)
    except Exception:
        return None


def _stats_text(model: str, stats: dict[str, Any], status: str) -> str:
    # The widget shows how a turn ended as a badge, so the line itself leaves the status out.
    return stats_text(model, stats, status, show_status=False)


_EMPTY = "(This static copy shows the chat as it was when displayed: display the chat again to keep its conversation.)"
