"""TurnRunner: one answer from start to end, the conversation layer's only bookkeeper.

It begins the turn (replacing a re-run cell's own), sends the history, streams the answer, and
records how it ended: done, stopped (:meth:`TurnRunner.stop`, from any thread), interrupted
(Ctrl-C / the kernel's stop button, re-raised after recording) or failed (any exception, kept as
:attr:`TurnRunner.error`; a partial answer is kept and marked). No ending leaves a turn pending,
so the next request never carries two user messages in a row. Views (the cell magic, ``--compare``,
the chat widget) pass callbacks and render what it reports; none of them calls ``Reply.end`` or
``Conversation.finish`` itself.

Usage::

    runner = TurnRunner(client, "llama3.2", conversation=conv, user={"role": "user", "content": "Hi"})
    reply = runner.run(on_chunk=lambda reply, chunk: print(chunk["message"]["content"], end=""))
    runner.error  # None, or the OllamaError that ended it (reply keeps what arrived)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from ._context import Lookup
from ._errors import OllamaError, RetryCancelled, unexpected
from ._outcome import Outcome, conclude, context_use
from ._reply import Reply
from ._retry import RetryWait
from ._status import DONE, FAILED, INTERRUPTED, RUNNING, STOPPED
from ._stopper import Stopper
from ._store import turns as store

if TYPE_CHECKING:
    from ._client import Client, Stream
    from ._conversation import Conversation, Turn

__all__ = ["TurnRunner"]

OnChunk = Callable[[Reply, Any], None]


class Paced(Protocol):
    """What paces ``on_chunk``: it wants the chunks that arrive at or after ``next_at``
    (``time.monotonic()`` seconds); ``-inf`` for every chunk."""

    next_at: float


class TurnRunner:
    """One request/answer; records a turn of ``conversation`` when one is given (else, as
    ``--compare`` does, only streams ``messages``). With ``meter``, the turn's :attr:`outcome` says
    how much of the context it used (asked on a thread while the answer streams)."""

    def __init__(
        self,
        client: Client,
        model: str,
        *,
        conversation: Conversation | None = None,
        user: dict[str, Any] | None = None,
        key: str | None = None,
        messages: list[dict[str, Any]] | None = None,
        request: dict[str, Any] | None = None,
        meter: bool = False,
        source: str = "client",
        cache: bool = False,
    ) -> None:
        self.client = client
        #: What the log calls this turn's origin (cell, compare, widget, client), and whether an
        #: identical request's logged answer may answer it (``--cache``).
        self.source, self.cache = source, cache
        self.model = model
        self.conversation = conversation
        self.request = {k: v for k, v in (request or {}).items() if v is not None}
        self.turn: Turn | None = None
        if conversation is not None and user is not None:
            self.turn = conversation.begin(user, key=key)
            self.messages = conversation.messages_for(self.turn)
        else:
            self.messages = list(messages or [])
        #: The answer, from the first moment to the end: made here, filled by the client's stream,
        #: never replaced (views may hold it from the start).
        self.reply = Reply(model, request={"model": model, "messages": self.messages})
        #: This turn's row in the log (None: the store is off); its id is known before it streams.
        self.recorder = store.prepare(
            client, {"model": model, "messages": self.messages, **self.request}, source=source,
            conversation=conversation.name if conversation is not None else None,
        )  # fmt: skip
        self.stream: Stream | None = None
        self.error: OllamaError | None = None
        #: How the turn ended (status, error, stats, context meter); None until it has.
        self.outcome: Outcome | None = None
        self._meter = meter and self.turn is not None  # measure the context the turn used
        self._lookup: Lookup | None = None
        self._stopper = Stopper()
        self._on_end: Callable[[TurnRunner], None] | None = None

    # -- from any thread ------------------------------------------------------------------------
    def stop(self, status: str = STOPPED) -> None:
        """End the answer now (the connection closes, so the server stops generating). Safe to
        call before the stream exists, while it waits for a busy server, or after it ended."""
        self._stopper.stop(status)

    @property
    def stopping(self) -> bool:
        return self._stopper.stopping

    # -- on the thread that reads the answer --------------------------------------------------
    def run(
        self,
        on_chunk: OnChunk | None = None,
        *,
        pace: Paced | None = None,
        on_stream: Callable[[Reply], None] | None = None,
        on_wait: Callable[[RetryWait], None] | None = None,
        on_end: Callable[[TurnRunner], None] | None = None,
    ) -> Reply:
        """Stream the answer; ``on_chunk(reply, chunk)`` after each chunk is merged (the hot path:
        keep it cheap; with ``pace``, only for the chunks at or after ``pace.next_at``: a clock read
        and a compare per chunk, not a call), ``on_stream(reply)`` once the server has answered, ``on_wait(wait)`` for
        each busy-server retry, ``on_end(runner)`` once it ended, just before the turn is recorded
        (so what a view keeps about it is there when the conversation tells its listeners).
        Returns the reply; a KeyboardInterrupt is recorded, then re-raised."""
        self._on_end = on_end
        body = {"model": self.model, "messages": self.messages, **self.request}
        if self.cache and (logged := store.logged_answer(self.client, body, self.recorder)) is not None:
            self.recorder = None  # answered from the log: no second row
            return self._from_log(store.replay(logged), on_chunk, on_stream)
        if self.recorder is not None:
            self.recorder.reply = self.reply  # the log's writer snapshots it once a second
            self.recorder.begin()
        try:
            stream = self.client.chat(
                self.model,
                self.messages,
                stream=True,
                reply=self.reply,
                on_retry=on_wait,
                cancel_retry=self._stopper.cancel,
                **self.request,
            )
            stream.require_done = True  # an answer that ends without `done` was cut: say so
            self.stream = stream
            self._stopper.attach(stream)
            self._streaming(on_stream)
            with stream:  # its exit ends the reply: "interrupted" on a Ctrl-C, "failed" on an error
                _read(stream, self.reply, on_chunk, pace)
        except KeyboardInterrupt:
            self._end(INTERRUPTED)
            self._record()
            raise
        except RetryCancelled:
            # Stop pressed while a busy server was being waited for: nothing was answered, nothing
            # failed; the turn ends as stopped like any other Stop.
            self._end(self._stopper.status or STOPPED)
            self._record()
            return self.reply
        except Exception as exc:
            self.fail(exc)
            return self.reply
        self._record()
        return self.reply

    def _from_log(self, chunks: Any, on_chunk: OnChunk | None, on_stream: Callable[[Reply], None] | None) -> Reply:
        """Answer from the log (``--cache``): the logged chunks fill the reply as a stream's would."""
        reply = self.reply
        self._meter = False  # the meter would ask the server; an answer from the log asks nothing
        if on_stream is not None:
            on_stream(reply)
        for chunk in chunks:
            reply.add(chunk)
            if on_chunk is not None:
                on_chunk(reply, chunk)
        self._record()
        return reply

    def fail(self, exc: BaseException) -> OllamaError:
        """End the turn with ``exc`` (also for a view's own step that failed around :meth:`run`):
        the answer so far kept and marked, the turn recorded as failed."""
        err = exc if isinstance(exc, OllamaError) else unexpected(exc)
        ended = self.reply.error
        if isinstance(ended, OllamaError) and ended.__cause__ is exc:
            err = ended  # the stream ended the reply with this failure already: report the same error
        self._end(FAILED, err)
        self.error = err
        self._record()
        return err

    def _end(self, status: str, error: BaseException | None = None) -> None:
        """End what is still running: the stream when there is one (it closes the connection and
        ends the reply), else the reply; an ending already written stays (Reply.end)."""
        stream = self.stream
        if stream is not None:
            stream.close(status, error)
        else:
            self.reply.end(status, error)

    def _streaming(self, on_stream: Callable[[Reply], None] | None) -> None:
        if self._meter:
            # The meter's figures are asked while the answer streams (the model is loaded now),
            # not in two more round trips after its last chunk.
            self._lookup = Lookup(self.client, self.reply)
        if on_stream is not None:
            on_stream(self.reply)

    def _conclude(self) -> KeyboardInterrupt | None:
        """Make :attr:`outcome`; a Ctrl-C while the meter is measured leaves the meter out and is
        returned, to be raised once the turn is recorded."""
        reply, err = self.reply, self.error
        status = FAILED if err is not None else (DONE if reply.done else reply.status)
        context, interrupt = None, None
        if status == DONE and self._meter:
            try:
                context = context_use(self.client, reply, self.request.get("options"), self._lookup)
            except KeyboardInterrupt as exc:
                interrupt = exc
        self.outcome = conclude(reply, status, err, context)
        return interrupt

    def _record(self) -> None:
        interrupt = self._conclude()
        on_end, self._on_end = self._on_end, None
        if on_end is not None:
            on_end(self)
        rec = self.recorder
        if rec is not None:
            ending = FAILED if self.error is not None or self.reply.status == RUNNING else self.reply.status
            rec.end(self.reply, ending, self.error.message if self.error is not None else None)
        conv, turn, reply, err = self.conversation, self.turn, self.reply, self.error
        if conv is not None and turn is not None:
            turn.outcome = self.outcome
            if err is not None and not (reply.chunks or reply.content):
                turn.model = reply.model or turn.model
                conv.fail(turn, err.message)
            else:
                status = FAILED if err is not None else None
                conv.finish(turn, reply, status=status, error=err.message if err is not None else None)
        if interrupt is not None:
            raise interrupt


def _read(stream: Stream, reply: Reply, on_chunk: OnChunk | None, pace: Paced | None) -> None:
    """Read the stream to its end, calling ``on_chunk`` as :meth:`TurnRunner.run` says."""
    if on_chunk is None:
        for _ in stream:
            pass
    elif pace is None:
        for chunk in stream:
            on_chunk(reply, chunk)
    else:
        # `due` may lag behind pace.next_at (another thread moves it on after an update it
        # sent): that costs one early call, which the callee checks, never a missed one.
        now, due = time.monotonic, pace.next_at
        for chunk in stream:
            if now() >= due:
                on_chunk(reply, chunk)
                due = pace.next_at
