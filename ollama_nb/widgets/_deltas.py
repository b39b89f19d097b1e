"""DeltaStream: the answer of one streaming turn as a widget's views see it.

The generation thread hands every chunk's new text to :meth:`DeltaStream.add`; a small pacer thread
sends what piled up as one ``delta`` custom message at a bounded rate (the first text at once, then
at most 20 messages a second, fewer as the answer grows), so the bytes on the comm stay close to
the final text and the browser is never asked to re-render per token.

Each message carries only the text added since the previous one and a sequence number, so a view
knows when it missed one (it rendered mid-stream) and asks for a ``partial``: the whole answer so
far, sent by :meth:`snapshot`. Every send happens under one lock, so deltas and snapshots leave in
sequence order whichever thread sends them.

Usage::

    live = DeltaStream("turn-id", widget_send)
    live.start()
    for part in stream:
        live.add(part["message"].get("content"), part["message"].get("thinking"))
    live.close()            # stops the pacer; the caller commits the final text itself
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["DeltaStream", "pace_interval"]

MIN_INTERVAL = 0.05  # 20 messages/s at most
MAX_INTERVAL = 1.0
CHARS_PER_EXTRA_SECOND = 100_000  # +1 s between messages per 100 000 characters already sent


def pace_interval(chars_sent: int) -> float:
    """Seconds between two delta messages once ``chars_sent`` characters are out.

    Grows with the answer: every view re-renders the whole Markdown on each message, so a long
    answer gets fewer, larger messages (50 ms at the start, 150 ms at 10 000 characters, 1 s cap).
    """
    return min(MAX_INTERVAL, MIN_INTERVAL + chars_sent / CHARS_PER_EXTRA_SECOND)


class DeltaStream:
    """Pending and sent text of one turn, and the pacer thread that sends it.

    Parameters
    ----------
    turn:
        The turn id every message is tagged with (views ignore messages of other turns).
    emit:
        Sends one custom message to every view (``widget._emit``). Called from the pacer thread and
        from whichever thread asks for a snapshot, always under this object's lock.
    """

    def __init__(self, turn: str, emit: Callable[[dict[str, Any]], None], *, model: str = "") -> None:
        self.turn = turn
        self.model = model
        self._emit = emit
        self._cond = threading.Condition(threading.Lock())
        self._content: list[str] = []  # sent
        self._thinking: list[str] = []
        self._pending_content: list[str] = []
        self._pending_thinking: list[str] = []
        self._chars = 0  # characters sent so far (content + thinking)
        self._first_sent = False
        self._closed = False
        self._thread: threading.Thread | None = None
        self.seq = 0  # number of the last message sent (delta or partial)
        self.messages_sent = 0

    # -- the generation thread -------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._pace, name=f"onb-chat-pacer-{self.turn}", daemon=True)
        self._thread.start()

    def add(self, content: str | None, thinking: str | None) -> None:
        """New text of one chunk (either may be empty)."""
        if not content and not thinking:
            return
        with self._cond:
            idle = not self._pending_content and not self._pending_thinking
            if content:
                self._pending_content.append(content)
            if thinking:
                self._pending_thinking.append(thinking)
            if idle:
                self._cond.notify()  # wake the pacer: at once for the first text, else when due

    def close(self) -> None:
        """Stop the pacer. Pending text is dropped: the caller commits the whole answer next."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5)

    # -- any thread ------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """Send (and return) the answer so far as one ``partial`` message, for a view that
        rendered mid-stream. Pending text goes with it, so later deltas continue from there."""
        with self._cond:
            self._take_pending()
            self.seq += 1
            msg = {
                "type": "partial",
                "turn": self.turn,
                "seq": self.seq,
                "model": self.model,
                "content": "".join(self._content),
                "thinking": "".join(self._thinking),
            }
            self._send(msg)
            return msg

    @property
    def text(self) -> tuple[str, str]:
        """(content, thinking) sent or pending so far."""
        with self._cond:
            return (
                "".join(self._content) + "".join(self._pending_content),
                "".join(self._thinking) + "".join(self._pending_thinking),
            )

    # -- internals (callers hold the lock) ---------------------------------------------------
    def _take_pending(self) -> tuple[str, str]:
        content = "".join(self._pending_content)
        thinking = "".join(self._pending_thinking)
        self._pending_content.clear()
        self._pending_thinking.clear()
        if content:
            self._content.append(content)
        if thinking:
            self._thinking.append(thinking)
        self._chars += len(content) + len(thinking)
        return content, thinking

    def _send(self, msg: dict[str, Any]) -> None:
        self.messages_sent += 1
        try:
            self._emit(msg)
        except Exception:  # noqa: BLE001, S110 - a closed comm must not kill the generation
            pass

    def _flush(self) -> None:
        if not self._pending_content and not self._pending_thinking:
            return
        content, thinking = self._take_pending()
        self.seq += 1
        msg: dict[str, Any] = {"type": "delta", "turn": self.turn, "seq": self.seq}
        if content:
            msg["content"] = content
        if thinking:
            msg["thinking"] = thinking
        self._first_sent = True
        self._send(msg)

    def _pace(self) -> None:
        last = 0.0
        with self._cond:
            while not self._closed:
                if not self._pending_content and not self._pending_thinking:
                    self._cond.wait()  # add() or close() wakes us
                    continue
                if self._first_sent:
                    wait = last + pace_interval(self._chars) - time.monotonic()
                    if wait > 0:
                        self._cond.wait(wait)
                        continue
                self._flush()
                last = time.monotonic()
