"""LiveOutput: a streaming answer rendered into one cell output, throttled.

The magic iterates a :class:`~ollama_nb.client.Stream` on the kernel's main thread and calls
:meth:`LiveOutput.tick` after every chunk. ``tick`` is the hot path: one clock read and a compare.
Only when an update is due does it join the text, make the Markdown safe and send one
``update_display_data`` for the display handle. The schedule:

- the first visible token is sent at once (the user sees the model is alive);
- after that, updates are coalesced: the interval grows with the text length
  (``length / bytes_per_second``, between 50 ms and 1.5 s), because every update re-sends the whole
  text. That bounds both the update rate (≤ 20/s, counted from the start, first and final update
  included) and the bytes per second on IOPub, and on a fast stream keeps the total bytes a small
  multiple of the final text;
- :meth:`LiveOutput.finish` sends the exact final answer with its footer and metadata.

In terminal IPython there is no display front end: tokens are printed as they arrive.

Model text is made safe HTML by :mod:`ollama_nb.render` (in the view's ``render``) before it gets here.
"""

from __future__ import annotations

import sys
import time
from typing import Any, Callable

from .redact import mask_data

__all__ = ["LiveOutput", "in_terminal"]

Bundle = dict[str, Any]
#: render(final) -> (mime bundle, metadata)
Renderer = Callable[[bool], "tuple[Bundle, dict[str, Any]]"]

_monotonic = time.monotonic


def in_terminal() -> bool:
    """True where nothing renders rich output: terminal IPython, or no IPython at all."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency
        return True
    shell = get_ipython()
    return shell is None or type(shell).__name__ == "TerminalInteractiveShell"


# --------------------------------------------------------------------------- the live output


class LiveOutput:
    """One display output updated while a stream arrives.

    ``render(final)`` builds the mime bundle and metadata from whatever the caller keeps (a Reply,
    several); it is called only when an update is sent. The next update is due after an interval
    that grows with the length of the largest text just sent. ``footer()`` gives the line printed
    after the tokens in terminal mode.

    Usage (what the magic does)::

        live = LiveOutput(lambda final: (chrome.bundle(reply.content, model_html(reply.content)), {}))
        live.start({"text/plain": "waiting..."})
        for chunk in stream:
            live.tick(reply, chunk)
        live.finish()
    """

    min_interval = 0.05
    max_interval = 1.5
    #: Interval = text length / this: the IOPub bytes per second a long answer may use. A real
    #: model writes ~100-300 characters a second, so at 4 kB/s the bytes re-sent stay near 20x the
    #: final text (bytes = this x duration), while a 1 kB answer still redraws 4 times a second.
    bytes_per_second = 4_000.0

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
        # Monotonic time before which tick() would do nothing: callers on the hot path may skip
        # the call while ``time.monotonic() < next_at``. 0 = "at the first token"; -inf in the
        # terminal, where every token is printed.
        self.next_at = float("-inf") if self.terminal else 0.0
        self.started = _monotonic()
        self._seen_first = False
        self._term_thinking = False
        self._term_started = False

    # -- front end --------------------------------------------------------------------------
    def start(self, bundle: Bundle | None = None, metadata: dict[str, Any] | None = None) -> None:
        """Show the output at once (a placeholder while the model loads)."""
        if self.terminal:
            return
        from IPython.display import display

        if bundle is None:
            bundle, metadata = self.render(False)
        self.handle = display(mask_data(bundle), raw=True, metadata=mask_data(metadata or {}), display_id=True)

    def _send(self, final: bool) -> None:
        bundle, metadata = self.render(final)
        # The last step before the kernel sends it (and the notebook saves it): a key a server
        # echoed into the answer or its fields is masked (a dict lookup when no key is known).
        bundle, metadata = mask_data(bundle), mask_data(metadata)
        if self.handle is None:
            from IPython.display import display

            self.handle = display(bundle, raw=True, metadata=metadata, display_id=True)
        else:
            self.handle.update(bundle, raw=True, metadata=metadata)
        self.updates += 1
        length = max((len(v) for v in bundle.values() if isinstance(v, str)), default=0)
        self.sent_bytes += length
        now = _monotonic()
        interval = min(self.max_interval, max(self.min_interval, length / self.bytes_per_second))
        # Also keep a budget from the start: the n-th update no earlier than (n + 1) intervals in,
        # so even counting the first-token and the final update, a short fast answer stays at
        # ≤ 1 / min_interval updates per second overall.
        self.next_at = max(now + interval, self.started + (self.updates + 2) * self.min_interval)

    # -- hot path ---------------------------------------------------------------------------
    def tick(self, reply: Any, chunk: Any = None) -> None:
        """Called after a chunk: sends an update only when one is due (see ``next_at``)."""
        if self.terminal:
            self._print(chunk)
            return
        if self._seen_first:
            if _monotonic() >= self.next_at:
                self._send(False)
        elif reply.first_token_at is not None:
            self._seen_first = True
            self._send(False)

    def refresh(self) -> None:
        """Send an update now (e.g. when a second model starts in --compare)."""
        if not self.terminal:
            self._send(False)

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
