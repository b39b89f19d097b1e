"""The display outputs one answer is shown in: parts that settle once, and the one that grows.

An answer is shown as several outputs that read as one (see :func:`ollama_nb._render.chrome.part`).
A :class:`Frame`'s ``settled`` bundles are parts that never change again (finished Markdown
blocks): the output being updated takes the first as its last state and is left alone from then
on; a new output below it becomes the one that grows. So each update sends only the open end of
the answer, whatever its length: the bytes sent stay linear in it.
"""

from __future__ import annotations

import uuid
from typing import Any, NamedTuple

from .._redact import mask_data
from .._render import chrome

__all__ = ["Bundle", "Frame", "OutputSet"]

Bundle = dict[str, Any]


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


class OutputSet:
    """The outputs of one answer. Past ``max_parts`` outputs, finished parts are held in the
    growing output and added to the last settled one once carrying them has cost as much as the
    addition (so JupyterLab's fold of a cell's outputs never hides part of an answer)."""

    def __init__(self, max_parts: int) -> None:
        self.max_parts = max_parts
        self.handle: Any = None  # the output that grows
        self.outputs = 0  # display outputs made so far
        self.sent_bytes = 0
        # One prefix for this answer's display ids (short: every update carries its id), so a
        # reader of the messages can tell which outputs make one answer.
        self.display_prefix = uuid.uuid4().hex[:10]
        self._settled: list[tuple[Any, Bundle]] = []  # the outputs that settled: handle, what it shows
        self._held: list[Bundle] = []  # parts past max_parts not yet added to the last settled output
        self._free: list[Any] = []  # outputs a restart left, in order, for the next ones to take
        self._emptied: set[int] = set()  # (ids of) those that are empty already
        self._carried = 0  # characters of held parts re-sent since the last addition

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
        return _size(bundle)

    def show(self, frame: Frame, final: bool = False) -> int:
        """Send one frame (settled parts, then the growing output); returns the characters of the
        growing output (what the next update sends again)."""
        if frame.collapse:
            self._collapse()
        if frame.restart is not None:
            self._restart(frame.restart)
        for part in frame.settled:
            self._settle(part)
        if self._held:
            self._add_held(final)
        bundle = _joined([*self._held, frame.bundle]) if self._held else frame.bundle
        growing = self._show(mask_data(bundle), mask_data(frame.metadata))
        self.sent_bytes += growing
        for left in self._free:  # outputs a restart left that this frame did not take: empty
            if id(left) not in self._emptied:
                left.update(chrome.blank(), raw=True, metadata={})
                self._emptied.add(id(left))
        return growing

    def _collapse(self) -> None:
        # Every output but the growing one becomes empty (an empty HTML output takes no room),
        # and parts past the cap are shown again by the frame: none is held any more.
        for old, _shown in self._settled:
            old.update(chrome.blank(), raw=True, metadata={})
        self._settled.clear()
        self._held.clear()
        self._carried = 0

    def _restart(self, keep: int) -> None:
        # The outputs after the first `keep` show the frame again, in order: they stay in the cell
        # (emptied or not, they count towards JupyterLab's fold), so none is wasted.
        later = [handle for handle, _shown in self._settled[keep:]]
        self._free = later + ([self.handle] if self.handle is not None else []) + self._free
        del self._settled[keep:]
        self.handle = None
        self._held.clear()
        self._carried = 0

    def _settle(self, part: Bundle) -> None:
        # Emptied outputs count too: they stay in the cell.
        if self._settled and not self._free and self.outputs >= self.max_parts:
            self._held.append(part)  # no more outputs: it goes into the last settled one
            return
        # The last step before the kernel sends it (and the notebook saves it): a key a server
        # echoed into the answer is masked (a dict lookup when no key is known).
        self.sent_bytes += self._show(mask_data(part), {})
        self._settled.append((self.handle, part))
        self.handle = None  # settled: never updated again (but by a collapse or the cap)

    def _add_held(self, final: bool) -> None:
        last, shown = self._settled[-1]
        merged = _joined([shown, *self._held])
        size = _size(merged)
        # (Like renting skis until the rent paid would have bought them: at most twice the cost
        # of the best schedule, whatever the pace and the length of the answer.)
        if final or self._carried >= size:
            last.update(mask_data(merged), raw=True, metadata={})
            self.sent_bytes += size
            self._settled[-1], self._held, self._carried = (last, merged), [], 0
        else:
            self._carried += size - _size(shown)
