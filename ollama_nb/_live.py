"""LiveOutput: a streaming answer rendered into cell outputs, at a steady pace, bytes linear in it.

The magic iterates a :class:`~ollama_nb._client.Stream` on the kernel's main thread and calls
:meth:`LiveOutput.tick` after a chunk once ``time.monotonic() >= next_at``: the hot path is one
clock read and a compare. Only when an update is due does it render and send display messages.

An answer is shown as several outputs that read as one (see :func:`ollama_nb._render.chrome.part`):
the renderer may return a :class:`Frame` whose ``settled`` bundles are parts that will never change
(finished Markdown blocks). The output being updated takes the first of them as its last state and
is left alone from then on; a new output below it becomes the one that grows. So each update sends
only the open end of the answer, whatever its length: the bytes sent stay linear in the answer and
the front end redraws only the end. The schedule:

- the first visible token is sent at once (the user sees the model is alive);
- then an update every ``interval`` (0.2 s) while chunks arrive, or sooner, so that at the pace
  the stream keeps no update comes later than ``max_gap`` (0.22 s) after the previous one: >= 4
  updates a second with room for a busy machine's jitter, and no chunk waits longer to be shown (a
  slow model's tokens show as they come);
- updates that take long to make space the next ones out (a moving average of their cost, so one
  slow update does not), so making them takes ~1/10 of the time at most, and so does an open block
  too big to re-send 5 times a second (a paragraph of thousands of words: ``resend_per_second``);
- :meth:`LiveOutput.finish` sends the exact final part with the footer and metadata.

In terminal IPython there is no display front end: tokens are printed as they arrive.

Model text is made safe HTML by :mod:`ollama_nb._render` (in the view's ``render``) before it gets here.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from ._redact import mask_data
from ._render import chrome
from ._status import RUNNING

__all__ = ["Frame", "LiveOutput", "in_terminal"]

Bundle = dict[str, Any]


def _size(bundle: Bundle) -> int:
    """Characters of a bundle's biggest representation (what a front end renders)."""
    return max((len(v) for v in bundle.values() if isinstance(v, str)), default=0)


def _joined(bundles: list[Bundle]) -> Bundle:
    """Several outputs' bundles as one (each mime type's text in order)."""
    out: Bundle = {}
    for bundle in bundles:
        for mime, value in bundle.items():
            out[mime] = out.get(mime, "") + value
    return out


class Frame(NamedTuple):
    """What a view shows at one update: ``settled`` parts that never change again (the output being
    updated takes the first, new outputs the others, in order), then the ``bundle`` (and
    ``metadata``) of the output that keeps growing. ``collapse``: empty every earlier output first
    (the bundle then holds the whole answer in another layout). ``restart``: show this frame from
    the output after the first ``restart`` settled ones, taking the later ones again in order (the
    growing one too) and emptying those it does not need (thinking, shown in parts while it grew,
    folded once it is over)."""

    settled: list[Bundle]
    bundle: Bundle
    metadata: dict[str, Any]
    collapse: bool = False
    restart: int | None = None


#: render(final) -> (mime bundle, metadata), or a Frame
Renderer = Callable[[bool], "tuple[Bundle, dict[str, Any]] | Frame"]

_monotonic = time.monotonic


def in_terminal() -> bool:
    """True where nothing renders rich output: terminal IPython, or no IPython at all."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency
        return True
    shell = get_ipython()
    return shell is None or type(shell).__name__ == "TerminalInteractiveShell"


@contextlib.contextmanager
def _whole() -> Iterator[None]:
    """Ctrl-C (SIGINT) waits until the block is done, then raises KeyboardInterrupt as usual.

    An update hands parts out and sends them in several steps; an interrupt between two would lose
    a part (made, never sent) or show one twice. A no-op off the main thread (no signals there)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


# --------------------------------------------------------------------------- the live output


class LiveOutput:
    """Display outputs updated while a stream arrives.

    ``render(final)`` builds the mime bundle and metadata (or a :class:`Frame`) from whatever the
    caller keeps (a Reply, several); it is called only when an update is sent. ``footer()`` gives
    the line printed after the tokens in terminal mode.

    Usage (what the magic does)::

        live = LiveOutput(lambda final: (chrome.bundle(reply.content, model_html(reply.content)), {}))
        live.start({"text/plain": "waiting..."})
        for chunk in stream:
            live.tick(reply, chunk)
        live.finish()

    ``handle`` is the output that is growing (a placeholder, an error shown in its place).
    """

    #: Outputs an answer may settle into. JupyterLab shows 50 outputs of a cell and hides the rest
    #: behind "Show more outputs" (its maxNumberOutputs), so past this (leaving room for the
    #: cell's other outputs) the finished parts are held in the growing output and now and then
    #: added to the last settled output: a very long answer re-sends that one, but always shows
    #: whole. An addition is made once carrying the held parts has cost as much as it will (each
    #: update re-sends them; an addition re-sends the last output): so neither cost runs away.
    max_parts = 40

    #: Seconds between updates while tokens arrive (<= 5 a second)...
    interval = 0.2
    #: ...and at most this many while the stream keeps its pace (>= 4 a second, with 30 ms to
    #: spare), which is also the longest a chunk waits for the update that shows it.
    max_gap = 0.22
    #: Making an update may take at most this share of the time between updates...
    work_share = 0.1
    #: ...as a moving average, each update's time weighing this much.
    cost_weight = 0.25
    #: Characters a second the growing output may re-send. Far above what an open block of a real
    #: answer needs (a paragraph, a code block: < 2 kB, 10 kB/s at 5 updates/s); a block of
    #: thousands of words without a break (a 100 kB paragraph) is updated less often instead, so
    #: the bytes sent stay a small multiple of the answer.
    resend_per_second = 100_000.0
    #: Show a chunk the stream paused after from a watcher thread (off: only chunks send updates).
    watch_pauses = True

    def __init__(
        self,
        render: Renderer,
        *,
        footer: Callable[[], str] | None = None,
        terminal: bool | None = None,
        stream: Any = None,
    ) -> None:
        self.render = render
        self.footer = footer  # terminal mode: the line printed after the tokens
        self.terminal = in_terminal() if terminal is None else terminal
        self.out = stream  # terminal mode: where tokens go (default sys.stdout, read late for capture)
        self.handle: Any = None
        self.updates = 0
        self.sent_bytes = 0
        self.outputs = 0  # display outputs made so far
        # Monotonic time before which tick() would only note the chunk. 0 = "at the first token";
        # -inf in the terminal, where every token is printed.
        self.next_at = float("-inf") if self.terminal else 0.0
        self.started = _monotonic()
        # One prefix for this answer's display ids (short: every update carries its id), so a
        # reader of the messages can tell which outputs make one answer.
        self.display_prefix = uuid.uuid4().hex[:10]
        self._settled: list[tuple[Any, Bundle]] = []  # the outputs that settled: handle, what it shows
        self._held: list[Bundle] = []  # parts past max_parts not yet added to the last settled output
        self._free: list[Any] = []  # outputs a restart left, in order, for the next ones to take
        self._emptied: set[int] = set()  # (ids of) those that are empty already
        self._carried = 0  # characters of held parts re-sent with the growing output since the
        # last addition to the last settled output
        self._seen_first = False
        self._sent_at = 0.0  # when the latest update was sent...
        self._chunks_at = 0  # ...and how many chunks the reply had then
        self._cost = 0.0  # seconds an update takes to make, smoothed
        self._pace_unknown = False  # the first token's update went out; the next chunk sets the pace
        # Sending happens on the magic's thread when a chunk comes, or on the watcher's when the
        # stream pauses with a chunk not shown yet; one at a time.
        self._lock = threading.Lock()
        self._watcher: threading.Thread | None = None
        self._done = threading.Event()
        self._term_thinking = False
        self._term_started = False

    # -- front end --------------------------------------------------------------------------
    def _display(self, bundle: Bundle, metadata: dict[str, Any]) -> Any:
        from IPython.display import display

        display_id = f"{self.display_prefix}-{self.outputs}"
        self.outputs += 1
        return display(bundle, raw=True, metadata=metadata, display_id=display_id)

    def _show(self, bundle: Bundle, metadata: dict[str, Any]) -> int:
        if self.handle is None and self._free:
            self.handle = self._free.pop(0)
            self._emptied.discard(id(self.handle))
        if self.handle is None:
            self.handle = self._display(bundle, metadata)
        else:
            self.handle.update(bundle, raw=True, metadata=metadata)
        return max((len(v) for v in bundle.values() if isinstance(v, str)), default=0)

    def _show_frame(self, frame: Any, final: bool = False) -> int:
        """Send one frame (settled parts, then the growing output); returns the characters of the
        growing output (what the next update sends again)."""
        if not isinstance(frame, Frame):
            bundle, metadata = frame
            frame = Frame([], bundle, metadata)
        if frame.collapse:
            # Every output but the growing one becomes empty (an empty HTML output takes no room),
            # and parts past the cap are shown again by the frame: none is held any more.
            for old, _shown in self._settled:
                old.update(chrome.blank(), raw=True, metadata={})
            self._settled.clear()
            self._held.clear()
            self._carried = 0
        if frame.restart is not None:
            # The outputs after the first `restart` show this frame again, in order: they stay in
            # the cell (emptied or not, they count towards JupyterLab's fold), so none is wasted.
            later = [handle for handle, _shown in self._settled[frame.restart :]]
            self._free = later + ([self.handle] if self.handle is not None else []) + self._free
            del self._settled[frame.restart :]
            self.handle = None
            self._held.clear()
            self._carried = 0
        for part in frame.settled:
            # Emptied outputs count too: they stay in the cell.
            if self._settled and not self._free and self.outputs >= self.max_parts:
                self._held.append(part)  # no more outputs: it goes into the last settled one
                continue
            # The last step before the kernel sends it (and the notebook saves it): a key a server
            # echoed into the answer or its fields is masked (a dict lookup when no key is known).
            self.sent_bytes += self._show(mask_data(part), {})
            self._settled.append((self.handle, part))
            self.handle = None  # settled: never updated again (but by a collapse or the cap)
        if self._held:
            last, shown = self._settled[-1]
            merged = _joined([shown, *self._held])
            size = _size(merged)
            # (Like renting skis until the rent paid would have bought them: at most twice the
            # cost of the best schedule, whatever the pace and the length of the answer.)
            if final or self._carried >= size:
                last.update(mask_data(merged), raw=True, metadata={})
                self.sent_bytes += size
                self._settled[-1], self._held, self._carried = (last, merged), [], 0
            else:
                self._carried += size - _size(shown)
        bundle = _joined([*self._held, frame.bundle]) if self._held else frame.bundle
        growing = self._show(mask_data(bundle), mask_data(frame.metadata))
        self.sent_bytes += growing
        for left in self._free:  # outputs a restart left that this frame did not take: empty
            if id(left) not in self._emptied:
                left.update(chrome.blank(), raw=True, metadata={})
                self._emptied.add(id(left))
        return growing

    def start(self, bundle: Bundle | None = None, metadata: dict[str, Any] | None = None) -> None:
        """Show the output at once (a placeholder while the model loads)."""
        if self.terminal:
            return
        self._show_frame(self.render(False) if bundle is None else Frame([], bundle, metadata or {}))

    def _send(self, final: bool, chunks: int = 0) -> None:
        with self._lock:
            self._send_locked(final, chunks)

    def _send_locked(self, final: bool, chunks: int) -> None:
        began = _monotonic()
        if self._pace_unknown and not final:
            # The chunk after the first token's update tells the stream's pace: the second update
            # is due when that pace needs it. A fast server's whole answer may end before: it is
            # then shown whole by the final update, without rendering it on the way.
            self._pace_unknown = False
            gap = (began - self._sent_at) / max(1, chunks - self._chunks_at)
            due = self._sent_at + min(self.interval, self.max_gap - gap)
            if due > began:
                self.next_at = due
                return
        with _whole():
            growing = self._show_frame(self.render(final), final)
        self.updates += 1
        now = _monotonic()
        # The next update is sent by the first chunk at or after next_at. With chunks coming every
        # `gap` (as they did since the last update), that chunk comes at most a gap later: so aim
        # a gap before max_gap (no earlier than now: at a slow pace every chunk is shown as it
        # comes). An update that was slow to make (a huge open block) spaces the next ones out.
        first = self.updates == 1 and not final
        gap = (now - self._sent_at) / (chunks - self._chunks_at) if chunks > self._chunks_at > 0 else 0.0
        self._sent_at, self._chunks_at = now, chunks
        # Smoothed: one slow update (the first code block loads a Pygments lexer, a collection
        # runs) must not hold the next ones back; updates slow to make one after another do.
        self._cost += self.cost_weight * (now - began - self._cost)
        work = self._cost / self.work_share
        self.next_at = now + max(min(self.interval, self.max_gap - gap), work, growing / self.resend_per_second, 0.0)
        if first:  # after the first token the pace is not known yet: the next chunk tells it
            self._pace_unknown, self.next_at = True, now

    # -- hot path ---------------------------------------------------------------------------
    def tick(self, reply: Any, chunk: Any = None) -> None:
        """Called after a chunk: sends an update when one is due (see ``next_at``)."""
        if self.terminal:
            self._print(chunk)
            return
        if self._seen_first:
            if _monotonic() >= self.next_at:
                with self._lock:
                    if _monotonic() >= self.next_at:  # (the watcher may just have sent it)
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
        step = self.max_gap / 5
        seen, since = reply.chunks, _monotonic()
        while not self._done.wait(step):
            if reply.status != RUNNING:
                return
            if reply.chunks != seen:
                seen, since = reply.chunks, _monotonic()
            elif _monotonic() - since > 60:  # a long silence: the next chunk starts another watcher
                return
            if self._unshown(reply, step):
                with self._lock:
                    if self._done.is_set() or reply.status != RUNNING:
                        return
                    if self._unshown(reply, step):
                        self._send_locked(False, reply.chunks)

    def _unshown(self, reply: Any, step: float) -> bool:
        """A chunk came after the last update, and the next check would be too late for it."""
        return reply.chunks > self._chunks_at and _monotonic() >= max(self.next_at, self._sent_at + self.max_gap - step)

    def refresh(self) -> None:
        """Send an update now (e.g. when a second model starts in --compare)."""
        if not self.terminal:
            with self._lock:
                self._pace_unknown = False  # now, whatever the pace
                self._send_locked(False, 0)

    def finish(self) -> None:
        """The exact final output (footer, metadata). Always sent, even after an error."""
        if self.terminal:
            if self._term_started or self._term_thinking:
                self._write("\x1b[0m\n" if self._term_thinking else "\n")
            footer = self.footer() if self.footer else ""
            if footer:
                self._write(f"\x1b[2m{footer}\x1b[0m\n")
            self._term_started = self._term_thinking = False
            return
        self._done.set()  # no watcher sends after this
        self._send(True)

    # -- terminal ---------------------------------------------------------------------------
    def _write(self, text: str) -> None:
        out = self.out or sys.stdout
        out.write(text)
        out.flush()

    def _print(self, chunk: Any) -> None:
        if not chunk:
            return
        msg = chunk.get("message")
        if msg is not None:
            content, thinking = msg.get("content"), msg.get("thinking")
        else:
            content, thinking = chunk.get("response"), chunk.get("thinking")
        if thinking:
            if not self._term_thinking:
                self._write("\x1b[2m")  # thinking in dim text, before the answer
                self._term_thinking = True
            self._write(thinking)
        if content:
            if self._term_thinking:
                self._write("\x1b[0m\n\n")
                self._term_thinking = False
            self._term_started = True
            self._write(content)

    def note(self, text: str, *, bold: bool = False) -> None:
        """Terminal mode: a line of its own (a header, a stats line); ignored with a front end."""
        if self.terminal:
            if self._term_started or self._term_thinking:
                self._write("\x1b[0m\n")
                self._term_started = self._term_thinking = False
            self._write(f"\x1b[{'1' if bold else '2'}m{text}\x1b[0m\n")
