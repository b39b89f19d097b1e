"""DeltaStream: the answer of one streaming turn as a widget's views see it.

The text itself lives in the turn's :class:`~ollama_nb._reply.Reply` (the only place chunks are
merged). The generation thread calls :meth:`DeltaStream.poke` after every chunk; a small pacer thread
sends the text the Reply gained since the last message as one ``delta`` custom message at a bounded
rate (the first text at once, then at most 20 messages a second, fewer as the answer grows), so the
bytes on the comm stay close to the final text and the browser is never asked to re-render per token.

Each message carries only the text added since the previous one and a sequence number, so a view
knows when it missed one (it rendered mid-stream) and asks for a ``partial``: the whole answer so
far, sent by :meth:`snapshot`. Every send happens under one lock, so deltas and snapshots leave in
sequence order whichever thread sends them.

Usage::

    stream = client.chat(model, messages=..., stream=True)
    live = DeltaStream("turn-id", widget_send, stream.reply)
    live.start()
    for _ in stream:
        live.poke()
    live.close()            # stops the pacer; the caller commits the final text itself
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._pacing import Pace
from .._redact import unsafe_tail

if TYPE_CHECKING:
    from .._reply import Reply

__all__ = ["DeltaStream", "delta_pace", "pace_interval"]

MIN_INTERVAL = 0.05  # 20 messages/s at most
MAX_INTERVAL = 1.0
CHARS_PER_EXTRA_SECOND = 100_000  # +1 s between messages per 100 000 characters already sent


def delta_pace() -> Pace:
    """Delta messages: the interval grows with the answer, since a view re-renders what it has
    (50 ms at the start, 150 ms at 10 000 characters, 1 s cap)."""
    return Pace(least=MIN_INTERVAL, most=MAX_INTERVAL, floor=MIN_INTERVAL, per_unit=1 / CHARS_PER_EXTRA_SECOND)


def pace_interval(chars_sent: int) -> float:
    """Seconds between two delta messages once ``chars_sent`` characters are out."""
    return delta_pace().interval(chars_sent)


class DeltaStream:
    """How much of one turn's Reply the views have, and the pacer thread that sends the rest.

    Parameters
    ----------
    turn:
        The turn id every message is tagged with (views ignore messages of other turns).
    emit:
        Sends one custom message to every view (``widget._emit``). Called from the pacer thread and
        from whichever thread asks for a snapshot, always under this object's lock.
    reply:
        The Reply the stream merges into; read here, never written.
    """

    def __init__(self, turn: str, emit: Callable[[dict[str, Any]], None], reply: Reply, *, model: str = "") -> None:
        self.turn = turn
        self.model = model
        self.reply = reply
        self._emit = emit
        self._cond = threading.Condition(threading.Lock())
        self._sent_content = 0  # characters of reply.content the views have
        self._sent_thinking = 0
        self._idle = False  # the pacer waits for text: poke() must wake it
        self._first_sent = False
        self._closed = False
        self._thread: threading.Thread | None = None
        self.seq = 0  # number of the last message sent (delta or partial)
        self.messages_sent = 0

    # -- the generation thread -------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._pace, name=f"onb-chat-pacer-{self.turn}", daemon=True)
        self._thread.start()

    def poke(self) -> None:
        """The Reply may have new text. Per chunk, so it takes the lock only when the pacer sleeps."""
        if self._idle:
            with self._cond:
                self._cond.notify()  # at once for the first text, else the pacer waits until due

    def close(self) -> None:
        """Stop the pacer. Unsent text is not sent: the caller commits the whole answer next."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5)

    # -- any thread ------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """Send (and return) the answer so far as one ``partial`` message, for a view that
        rendered mid-stream. Later deltas continue from there."""
        with self._cond:
            content, thinking = self.reply.content, self.reply.thinking
            content, thinking = (
                content[: len(content) - unsafe_tail(content)],
                thinking[: len(thinking) - unsafe_tail(thinking)],
            )
            self._sent_content, self._sent_thinking = len(content), len(thinking)
            self.seq += 1
            msg = {
                "type": "partial",
                "turn": self.turn,
                "seq": self.seq,
                "model": self.model,
                "content": content,
                "thinking": thinking,
            }
            self._send(msg)
            return msg

    # -- internals (callers hold the lock) ---------------------------------------------------
    def _unsent(self) -> tuple[str, str]:
        # Text that may be the start of a known API key waits for the next chunk: a key split
        # across two deltas would pass the widget's masking (ollama_nb._redact) in both halves.
        content = self.reply.content[self._sent_content :]
        thinking = self.reply.thinking[self._sent_thinking :]
        return content[: len(content) - unsafe_tail(content)], thinking[: len(thinking) - unsafe_tail(thinking)]

    def _send(self, msg: dict[str, Any]) -> None:
        self.messages_sent += 1
        try:
            self._emit(msg)
        except Exception:
            pass

    def _flush(self, content: str, thinking: str) -> None:
        self._sent_content += len(content)
        self._sent_thinking += len(thinking)
        self.seq += 1
        msg: dict[str, Any] = {"type": "delta", "turn": self.turn, "seq": self.seq}
        if content:
            msg["content"] = content
        if thinking:
            msg["thinking"] = thinking
        self._first_sent = True
        self._send(msg)

    def _pace(self) -> None:
        pace = delta_pace()
        with self._cond:
            while not self._closed:
                content, thinking = self._unsent()
                if not content and not thinking:
                    self._idle = True
                    # poke() or close() wakes us; the timeout covers a poke that raced this check.
                    self._cond.wait(MIN_INTERVAL)
                    self._idle = False
                    continue
                if self._first_sent and not pace.due():
                    self._cond.wait(pace.wait())
                    continue
                self._flush(content, thinking)
                pace.sent(self._sent_content + self._sent_thinking)
