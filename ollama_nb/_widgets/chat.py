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
from IPython.core.error import UsageError

from .._client import Client
from .._config import default_client, settings
from .._conversation import Conversation
from .._errors import InvalidRequest, describe
from .._format import stats_text
from .._magic.sources import options_in_force
from .._models_memo import ModelMemo
from .._outcome import Outcome
from .._redact import mask_data
from .._render import answer as render_answer
from .._render import chrome
from .._reply import Reply
from .._retry import RetryWait
from .._status import RUNNING
from .._store import turns as store
from .._turn import TurnRunner
from .._tutor import apply_course_prompt
from ._assets import css, esm
from ._deltas import DeltaStream
from ._kernel import keep_view_messages_on_their_subshell
from ._masked import KeyMasked
from ._picker import chat_models, picker_names
from ._tasks import Tasks, widget_client

__all__ = ["ChatWidget"]


class _Live:
    """The one turn a widget is streaming: its runner (which owns how it ends), its thread and the
    deltas that carry the text to the views."""

    def __init__(self, runner: TurnRunner) -> None:
        self.runner = runner
        self.deltas: DeltaStream | None = None
        self.done = threading.Event()

    def poke(self, _reply: Reply, _chunk: Any) -> None:
        deltas = self.deltas
        if deltas is not None:
            deltas.poke()  # the Reply merged the chunk; the pacer reads it from there


def _options_below() -> dict[str, Any]:
    """The options in force beneath the widget's own (the config file's, ``%ollama config``'s);
    none while the file has a mistake, which the next message reports."""
    try:
        return options_in_force()
    except UsageError:
        return {}


def _conversation_for(
    conversation: Conversation | str | None, model: str | None, system: str | None, options: dict[str, Any] | None
) -> Conversation:
    """The widget's conversation: given, named (restored from the log after a restart) or new,
    configured with the constructor's model, system prompt (else the course's) and options."""
    if isinstance(conversation, Conversation):
        conv = conversation
    elif isinstance(conversation, str):
        conv = Conversation.named(conversation)
        store.restore(conv)  # after a kernel restart: the turns the log kept
    elif conversation is None:
        conv = Conversation()
    else:
        raise TypeError(f"conversation must be a Conversation or a name, not {type(conversation).__name__}")
    options = dict(options or {})
    conv.configure(model=model or None, system=system, options={**conv.options, **options} if options else None)
    apply_course_prompt(conv, system)
    return conv


class ChatWidget(KeyMasked, anywidget.AnyWidget):
    """A chat panel: message list, text box, Send/Stop, model picker, system prompt, think toggle,
    temperature and Clear. Answers stream as sanitized Markdown.

    Parameters
    ----------
    client:
        A :class:`~ollama_nb.Client`. Default: the shared client of the current settings.
    host:
        The server (``OLLAMA_HOST``-style text) instead of ``client``; ``api_key`` for a cloud host.
    model:
        Model name. Default: the conversation's, else ``OLLAMA_NB_MODEL`` / ``%ollama config
        model=...``, else the first installed model.
    system:
        System prompt (editable in the panel).
    conversation:
        A :class:`~ollama_nb.Conversation`, or the name of one shared with ``%%ollama --chat NAME``.
        Default: a new, private conversation.
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
        *,
        client: Client | None = None,
        host: str | None = None,
        api_key: str | None = None,
        model: str | None = None,
        system: str | None = None,
        conversation: Conversation | str | None = None,
        options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        conv = self._conversation = _conversation_for(conversation, model, system, options)
        self._client = widget_client(client, host, api_key)
        self._lock = threading.RLock()
        self._live: _Live | None = None
        self._capabilities: ModelMemo[str, list[str]] = ModelMemo()  # name -> capabilities; emptied when models change
        self._installed: list[str] = []  # chat-capable installed models, as /api/tags names them
        self._show_cache: dict[str, list[str]] = {}  # digest -> capabilities, for servers whose tags lack them
        self._tasks = Tasks("onb-chat-bg")
        self._ready = False
        self._patch: dict[str, Any] | None = None  # the next messages change, sent as a patch
        temperature = {**_options_below(), **conv.options}.get("temperature")  # the slider shows the one in force
        super().__init__(
            model=conv.model or settings.resolved_model() or "",
            system=conv.system or "",
            temperature=float(temperature) if isinstance(temperature, (int, float)) and 0 <= temperature <= 2 else None,
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
    def client(self) -> Client:
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
            live.runner.stop("interrupted")
            live.done.wait(5)
            raise
        return live.runner.reply

    def stop(self) -> None:
        """Stop the answer being generated (if any): the partial answer stays, marked "stopped".

        Safe from any thread; returns at once. Closing the HTTP stream makes Ollama stop generating.
        """
        live = self._live
        if live is not None:
            live.runner.stop()

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
        if hasattr(self, "_listener"):  # not a widget whose __init__ was refused
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
                except UsageError as err:  # the config file's options: said where the panel shows problems
                    self.set_trait("error", {"message": str(err), "hint": "Fix it, then send again."})
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
            turn = live.runner.turn if live is not None else None
            model = live.runner.model if live is not None else ""
            empty = {"seq": 0, "model": model, "content": "", "thinking": ""}
            self._emit({"type": "partial", "turn": turn.id if turn else None, **empty})

    @traitlets.observe("model")
    def _model_changed(self, change: dict[str, Any]) -> None:
        name = change["new"]
        if self._installed:
            self.set_trait("models", picker_names(self._installed, name))
        if name and name != self._conversation.model:
            self._conversation.configure(model=name)
        if name in self._capabilities.fresh():
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
        shown_from_below = "temperature" not in options and change["new"] == _options_below().get("temperature")
        if change["new"] is None or shown_from_below:
            options.pop("temperature", None)  # the slider shows the file's or %ollama config's: theirs to change
        else:
            options["temperature"] = change["new"]
        if options != self._conversation.options:
            self._conversation.configure(options=options)

    # -- generation ---------------------------------------------------------------------------
    def _start(self, text: str) -> _Live:
        conv = self._conversation
        think = bool(self.think) if self.can_think else None
        request = {"options": options_in_force(conv.options) or None, "think": think}  # a bad file: UsageError
        with self._lock:
            if self._live is not None:
                raise RuntimeError("The chat is still answering: wait for it, or call chat.stop() first.")
            self.set_trait("busy", True)
            try:
                runner = TurnRunner(
                    self.client, self.model, conversation=conv, user={"role": "user", "content": text}, request=request,
                    meter=True, source="widget",
                )
            except BaseException:
                self.set_trait("busy", False)
                raise
            live = self._live = _Live(runner)
        threading.Thread(target=self._run, args=(live,), name="onb-chat", daemon=True).start()
        return live

    def _run(self, live: _Live) -> None:
        runner = live.runner
        try:
            if not runner.model:
                runner.model = self._first_model()
            runner.run(
                live.poke,
                on_stream=lambda reply: self._streaming(live, reply),
                on_wait=self._waiting,
                on_end=lambda ended: self._ended(live, ended),
            )
        finally:
            with self._lock:
                if self._live is live:
                    self._live = None
                live.deltas = None
            self.set_trait("busy", False)
            self._refresh_fallback()  # before done: a waiting ask() returns with the outputs current
            live.done.set()

    def _waiting(self, wait: RetryWait) -> None:
        self.set_trait("notice", f"{wait}. Press Stop to stop waiting.")

    def _streaming(self, live: _Live, reply: Reply) -> None:
        self.set_trait("notice", "")
        turn = live.runner.turn
        deltas = DeltaStream(turn.id if turn else "", self._emit, reply, model=live.runner.model)
        with self._lock:
            live.deltas = deltas
        deltas.start()

    def _ended(self, live: _Live, runner: TurnRunner) -> None:
        if live.deltas is not None:
            live.deltas.close()
        use = runner.outcome.context if runner.outcome is not None else None
        room = '`ChatWidget(options={{"num_ctx": {n}}})`'
        self.set_trait("notice", use.advice(fresh="the Clear button", room=room) if use and use.warn else "")

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
        return self._tasks.start(fn, *args)

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
        outcomes = self._conversation.outcomes()
        for h in self._conversation.history():
            tid, status = h["id"], h["status"]
            model = h["model"] or ""
            if status == RUNNING:  # its runner may not be known yet while begin() announces it
                model = model or (live.runner.model if live is not None else self.model)
            outcome = outcomes.get(tid)
            out.append({"role": "user", "content": str(h["user"] or ""), "turn": tid})
            out.append(
                {
                    "role": "assistant",
                    "turn": tid,
                    "content": str(h["assistant"] or ""),
                    "thinking": str(h["thinking"] or ""),
                    "status": status,
                    "model": model,
                    "stats": _stats(outcome, model, h),
                    "error": _error(outcome, h),
                }
            )
        return mask_data(out)  # the stats line carries the server's model name: mask it here too


# -- static transcript ----------------------------------------------------------------------------
def _stats(outcome: Outcome | None, model: str, turn: dict[str, Any]) -> str:
    # The widget shows how a turn ended as a badge, so the line itself leaves the status out; an
    # answer that never began has no line (its error says it all).
    if outcome is not None:
        return outcome.footer(show_status=False) if outcome.status == "done" or outcome.answered else ""
    status = turn["status"]
    return stats_text(model, turn["stats"], status, show_status=False) if status != RUNNING else ""


def _error(outcome: Outcome | None, turn: dict[str, Any]) -> dict[str, str] | None:
    note = outcome.error_note() if outcome is not None else None
    if note is None and turn["error"]:
        note = {"message": str(turn["error"]), "hint": ""}
    return note


_EMPTY = "(This static copy shows the chat as it was when displayed: display the chat again to keep its conversation.)"
