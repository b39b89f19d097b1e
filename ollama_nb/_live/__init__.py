"""LiveOutput: a streaming answer rendered into cell outputs, at a steady pace, bytes linear in it.

The magic iterates a :class:`~ollama_nb._client.Stream` on the kernel's main thread and calls
:meth:`LiveOutput.tick` after a chunk once ``next_at`` has come: the hot path is one clock read
and a compare. Only when an update is due does it render and send display messages. Three parts:

- :class:`~.schedule.Schedule` (when: on an injected clock),
- :class:`~.outputs.OutputSet` (where: the outputs an answer settles into, the one that grows),
- :class:`~.echo.TerminalEcho` (terminal IPython: no front end, tokens printed as they arrive).

A stream that pauses after a chunk not shown yet is shown by a watcher thread; :meth:`LiveOutput.finish`
sends the exact final part with the footer and metadata. Model text is made safe HTML by
:mod:`ollama_nb._render` (in the view's ``render``) before it gets here.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from .._status import RUNNING
from .echo import TerminalEcho
from .outputs import Bundle, Frame, OutputSet
from .schedule import Schedule

__all__ = ["Frame", "LiveOutput", "in_terminal"]

#: render(final) -> (mime bundle, metadata), or a Frame
Renderer = Callable[[bool], "tuple[Bundle, dict[str, Any]] | Frame"]


def in_terminal() -> bool:
    """True where nothing renders rich output: terminal IPython, or no IPython at all."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency
        return True
    shell = get_ipython()
    return shell is None or type(shell).__name__ == "TerminalInteractiveShell"


class _Whole:
    """Ctrl-C (SIGINT) during an update waits until it is sent, then raises KeyboardInterrupt.

    An update hands parts out and sends them in several steps; an interrupt between two would lose
    a part (made, never sent) or show one twice. The handler is installed once per answer, at its
    first update on the main thread (there are no signals elsewhere), and put back by ``remove``."""

    def __init__(self) -> None:
        self._previous: Any = None
        self._busy = False
        self._caught = False

    def _handle(self, signum: int, frame: Any) -> None:
        if self._busy:
            self._caught = True
            return
        if callable(self._previous):
            self._previous(signum, frame)
        elif self._previous != signal.SIG_IGN:
            raise KeyboardInterrupt

    @contextlib.contextmanager
    def update(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        if self._previous is None:
            self._previous = signal.signal(signal.SIGINT, self._handle)
        self._busy = True
        try:
            yield
        finally:
            self._busy = False
        if self._caught:
            self._caught = False
            raise KeyboardInterrupt

    def remove(self) -> None:
        if self._previous is not None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None


class LiveOutput:
    """Display outputs updated while a stream arrives.

    ``render(final)`` builds the mime bundle and metadata (or a :class:`Frame`) from whatever the
    caller keeps (a Reply, several); it is called only when an update is sent. ``footer()`` gives
    the line printed after the tokens in terminal mode. ``clock``: the schedule's clock.

    Usage (what the magic does)::

        live = LiveOutput(lambda final: (chrome.bundle(reply.content, model_html(reply.content)), {}))
        live.start({"text/plain": "waiting..."})
        for chunk in stream:
            live.tick(reply, chunk)
        live.finish()
    """

    #: Outputs an answer may settle into. JupyterLab shows 50 outputs of a cell and hides the rest
    #: behind "Show more outputs", so past this (leaving room for the cell's other outputs) the
    #: finished parts are held and added to the last settled output (see OutputSet).
    max_parts = 40
    #: Show a chunk the stream paused after from a watcher thread (off: only chunks send updates).
    watch_pauses = True

    def __init__(
        self,
        render: Renderer,
        *,
        footer: Callable[[], str] | None = None,
        terminal: bool | None = None,
        stream: Any = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.render = render
        self.footer = footer
        self.terminal = in_terminal() if terminal is None else terminal
        self.echo = TerminalEcho(stream)
        self.schedule = Schedule(clock, every_chunk=self.terminal)
        self.parts = OutputSet(self.max_parts)
        self._seen_first = False
        # Sending happens on the magic's thread when a chunk comes, or on the watcher's when the
        # stream pauses with a chunk not shown yet; one at a time.
        self._lock = threading.Lock()
        self._whole = _Whole()
        self._watcher: threading.Thread | None = None
        self._done = threading.Event()

    @property
    def next_at(self) -> float:
        """The clock's time before which :meth:`tick` would only note the chunk."""
        return self.schedule.next_at

    @property
    def handle(self) -> Any:
        """The output that is growing (a placeholder, an error shown in its place)."""
        return self.parts.handle

    @handle.setter
    def handle(self, value: Any) -> None:
        self.parts.handle = value

    def start(self, bundle: Bundle | None = None, metadata: dict[str, Any] | None = None) -> None:
        """Show the output at once (a placeholder while the model loads)."""
        if not self.terminal:
            self.parts.show(self._frame(self.render(False) if bundle is None else (bundle, metadata or {})))

    @staticmethod
    def _frame(rendered: tuple[Bundle, dict[str, Any]] | Frame) -> Frame:
        return rendered if isinstance(rendered, Frame) else Frame([], *rendered)

    def _send(self, final: bool, chunks: int = 0) -> None:
        with self._lock:
            self._send_locked(final, chunks)

    def _send_locked(self, final: bool, chunks: int) -> None:
        began = self.schedule.clock()
        if not final and self.schedule.hold(began, chunks):
            return
        with self._whole.update():
            growing = self.parts.show(self._frame(self.render(final)), final)
        self.schedule.sent(began, chunks, growing, final=final)

    # -- hot path ---------------------------------------------------------------------------
    def tick(self, reply: Any, chunk: Any = None) -> None:
        """Called after a chunk: sends an update when one is due (see ``next_at``)."""
        if self.terminal:
            self.echo.chunk(chunk)
            return
        if self._seen_first:
            if self.schedule.due():
                with self._lock:
                    if self.schedule.due():  # (the watcher may just have sent it)
                        self._send_locked(False, reply.chunks)
                self._watch(reply)
        elif reply.first_token_at is not None:
            self._seen_first = True
            self._send(False, reply.chunks)
            self._watch(reply)

    # -- pauses -----------------------------------------------------------------------------
    def _watch(self, reply: Any) -> None:
        """Make sure a watcher runs for ``reply`` (one per reply; --compare streams several)."""
        watcher = self._watcher
        if not self.watch_pauses or self._done.is_set() or reply.status != RUNNING:
            return
        if watcher is None or not watcher.is_alive():
            self._watcher = threading.Thread(target=self._watching, args=(reply,), name="ollama-nb-live", daemon=True)
            self._watcher.start()

    def _watching(self, reply: Any) -> None:
        """While ``reply`` streams: when a chunk came after the last update and no update followed
        for nearly ``max_gap`` (the stream paused: no next chunk to send it), send it from here.
        Checked every ``max_gap / 5``, so no chunk waits longer than ``max_gap`` to be shown."""
        step = self.schedule.max_gap / 5
        clock = self.schedule.clock
        seen, since = reply.chunks, clock()
        while not self._done.wait(step):
            if reply.status != RUNNING:
                return
            if reply.chunks != seen:
                seen, since = reply.chunks, clock()
            elif clock() - since > 60:  # a long silence: the next chunk starts another watcher
                return
            if self.schedule.unshown(reply.chunks, step):
                with self._lock:
                    if self._done.is_set() or reply.status != RUNNING:
                        return
                    if self.schedule.unshown(reply.chunks, step):
                        self._send_locked(False, reply.chunks)

    def refresh(self) -> None:
        """Send an update now (e.g. when a second model starts in --compare)."""
        if not self.terminal:
            with self._lock:
                self.schedule.anytime()
                self._send_locked(False, 0)

    def finish(self) -> None:
        """The exact final output (footer, metadata). Always sent, even after an error."""
        if self.terminal:
            self.echo.finish(self.footer() if self.footer else "")
            return
        self._done.set()  # no watcher sends after this
        try:
            self._send(True)
        finally:
            self.close()

    def close(self) -> None:
        """The answer is over (also when it ends in an error shown in its place)."""
        self._done.set()
        self._whole.remove()

    def note(self, text: str, *, bold: bool = False) -> None:
        """Terminal mode: a line of its own (a header, a stats line); ignored with a front end."""
        if self.terminal:
            self.echo.note(text, bold=bold)
