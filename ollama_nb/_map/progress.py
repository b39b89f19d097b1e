"""Where a batch run's progress goes: one display output updated in place in a notebook, one line
rewritten in place in a terminal, or nowhere (``progress=False``).

Updates are paced (:data:`EVERY` seconds apart, the first at once, and an exact last frame), so a
run of 100 000 rows costs the kernel and the browser a few updates a second, not one per row.

Usage::

    view = progress_view(True)
    view(tally, lanes, final=False)      # from the dispatcher, as often as it likes
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TextIO

from .. import _format as fmt
from .._pacing import Pace
from .._render.progress import Board, HostLine, plain_line, progress_bundle
from .lanes import Lane
from .results import Tally

__all__ = ["ProgressView", "board", "progress_view"]

#: Seconds between two updates of the progress.
EVERY = 0.25


def _eta(t: Tally) -> str:
    if t.total is None:
        return ""
    left = t.total - t.done - t.failed
    answered = t.sent_done() + t.failed
    if left <= 0 or answered == 0:
        return ""
    return fmt.duration(left * t.elapsed() / max(answered, 1))


def board(t: Tally, lanes: list[Lane], final: bool, hosts_from: str = "") -> Board:
    seconds = max(t.elapsed(), 1e-9)
    state = t.stopped or ("done" if final else "running")
    hosts = [
        HostLine(lane.host, lane.done, lane.running, lane.control.limit, f"down: {lane.down}" if lane.down else "")
        for lane in lanes
    ]
    waiting = None if t.total is None else max(0, t.total - t.done - t.failed - t.running)
    return Board(
        done=t.done,
        failed=t.failed,
        running=t.running,
        waiting=waiting,
        total=t.total,
        cached=t.cached,
        rows_per_s=f"{t.sent_done() / seconds:.1f} rows/s",
        tokens_per_s=fmt.rate(t.tokens / seconds),
        elapsed=fmt.duration(t.elapsed()),
        eta=_eta(t),
        last_error=t.last_error,
        state=state,
        hosts=hosts,
        hosts_from=hosts_from,
    )


class ProgressView:
    """A paced progress: ``show`` is called with each new frame (``final`` for the last)."""

    def __init__(self, show: Callable[[Board, bool], None]) -> None:
        self.pace = Pace(least=EVERY, most=EVERY)
        self.show = show
        #: Where the servers came from when nobody passed ``hosts=`` ("config file PATH"), or "".
        self.hosts_from = ""

    @property
    def updates(self) -> int:
        return self.pace.updates

    def __call__(self, tally: Tally, lanes: list[Lane], final: bool) -> None:
        if not final and not self.pace.due():
            return
        self.pace.sent()
        self.show(board(tally, lanes, final, self.hosts_from), final)


def _notebook() -> Callable[[Board, bool], None]:
    from IPython.display import display

    handle: Any = None

    def show(b: Board, final: bool) -> None:
        nonlocal handle
        if handle is None:
            handle = display(progress_bundle(b), raw=True, display_id=True)
        else:
            handle.update(progress_bundle(b), raw=True)

    return show


def _terminal(out: TextIO) -> Callable[[Board, bool], None]:
    def show(b: Board, final: bool) -> None:
        out.write("\r\x1b[K" + plain_line(b) + ("\n" if final else ""))
        out.flush()

    return show


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return getattr(get_ipython(), "kernel", None) is not None


def progress_view(progress: bool | ProgressView | Callable[[Board, bool], None]) -> ProgressView | None:
    """The view for ``progress=``: True picks the notebook or the terminal; a callable gets each
    frame; False shows nothing."""
    if progress is False:
        return None
    if isinstance(progress, ProgressView):
        return progress
    if callable(progress):
        return ProgressView(progress)
    if _in_kernel():
        return ProgressView(_notebook())
    return ProgressView(_terminal(sys.stderr)) if sys.stderr.isatty() else None
