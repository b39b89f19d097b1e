"""``%ollama pull MODEL``: the download's progress in the cell, or on one line of a terminal.

The pull itself (its end, its Ctrl-C, a busy server's waits) is the :class:`~ollama_nb._pull.PullRunner`'s,
the same one the ModelBrowser uses; this module only shows it.
"""

from __future__ import annotations

import sys
from typing import Any

from .. import _format as fmt_
from .._live import in_terminal
from .._pacing import Pace
from .._pull import PullRunner
from .._redact import mask_data
from .._render import chrome
from .._reply import Progress
from .._retry import RetryWait
from .._terminal import cut
from ._shared import client_for, reraise_interrupt

__all__ = ["ProgressLine", "cmd_pull", "pull_bundle"]


def pull_bundle(progress: Any, note: str = "") -> dict[str, str]:
    """Progress bars (a row per layer + overall) and a plain-text line."""
    total, done = progress.total, progress.completed
    running = not note or note == "done"
    speed, eta = (progress.speed, progress.eta) if running else (None, None)
    overall = f"{fmt_.size(done)} / {fmt_.size(total)}" if total else ""
    extra = " · ".join(
        x for x in (overall, fmt_.speed(speed) if speed else "", f"ETA {fmt_.duration(eta)}" if eta else "") if x
    )
    status = (note or progress.status or "starting") + (f" · {extra}" if extra else "")
    layers = [
        (str(digest).split(":")[-1][:12], done / total if total else None, f"{fmt_.size(done)} / {fmt_.size(total)}")
        for digest, done, total in progress.layer_rows()
    ]
    pct = f"{progress.fraction:.0%}" if progress.fraction is not None else ""
    plain = f"pull {progress.model}: {note or progress.status} {pct} {extra}".rstrip()
    return mask_data(chrome.bundle(plain, chrome.progress_table(progress.model, progress.fraction, status, layers)))


class ProgressLine:
    """One terminal line rewritten in place: ``\r``, the text, then erase what an older, longer text
    left (``ESC[K`` on a terminal, spaces elsewhere). Texts are cut to the terminal's width, since a
    ``\r`` only returns to the start of the last wrapped row. ``end()`` finishes the line, so an
    error printed next starts on a line of its own."""

    def __init__(self, out: Any = None) -> None:
        self.out = out if out is not None else sys.stdout
        self.width = 0
        self.open = False

    def show(self, text: str) -> None:
        import shutil

        columns = shutil.get_terminal_size((100, 24)).columns
        text = cut(text, columns - 1)  # escaped first: a cut never leaves a sequence open
        tty = bool(getattr(self.out, "isatty", lambda: False)())
        tail = "\x1b[K" if tty else " " * max(0, self.width - len(text))
        self.out.write("\r" + text + tail)
        self.out.flush()
        self.width, self.open = len(text), True

    def end(self, text: str | None = None) -> None:
        if text is not None:
            self.show(text)
        if self.open:
            self.out.write("\n")
            self.out.flush()
            self.open = False


def cmd_pull(model: str) -> None:
    """Download ``model``, its progress live in the cell (or on one terminal line)."""
    runner = PullRunner(client_for(), model)
    show = _PullShow(model)
    # Progress lines come every ~60 ms per layer: four updates a second are plenty.
    pace = Pace(least=0.25, most=0.25)

    def on_progress(progress: Any) -> None:
        if pace.due():
            pace.sent()
            show.update(progress)

    try:
        progress = runner.run(on_progress, on_wait=show.wait)
    except KeyboardInterrupt as exc:
        note = "cancelled (Ctrl-C); the download stopped. Pull again to resume."
        show.end(runner.progress, note, plain=f"{model}: {note}")
        reraise_interrupt(exc, f"pulling {model} was cancelled.")
    if runner.error is not None:
        show.end(progress, "failed")  # the error follows on its own line
        raise runner.error
    show.end(progress, "done" if progress is not None and progress.done else runner.status)


class _PullShow:
    """Where ``%ollama pull`` shows its progress: a display output, or one line of a terminal, made
    once there is something to show (a pull refused at once shows only its error)."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.line: ProgressLine | None = None
        self.handle: Any = None

    def update(self, progress: Any, note: str = "", *, last: bool = False, plain: str = "") -> None:
        bundle = pull_bundle(progress, note)
        if self.handle is None and self.line is None:
            from IPython.display import display

            if in_terminal():
                self.line = ProgressLine()
            else:
                self.handle = display(bundle, raw=True, display_id=True)
                return
        if self.handle is not None:
            self.handle.update(bundle, raw=True)
        elif self.line is not None:
            (self.line.end if last else self.line.show)(plain or bundle["text/plain"])

    def wait(self, wait: RetryWait) -> None:
        self.update(Progress(self.model), f"{wait}. Interrupt the kernel to stop waiting.")

    def end(self, progress: Any, note: str, plain: str = "") -> None:
        if progress is None and self.handle is None and self.line is None:
            return  # nothing was shown: the message that follows says it all
        self.update(progress if progress is not None else Progress(self.model), note, last=True, plain=plain)
