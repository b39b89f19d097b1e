"""What one worker thread does with a job: send a row (or a batch of texts to embed) to its
lane's host and report what came back, with the timings the level control needs.

Workers only talk to their client and put an :class:`Outcome` on the dispatcher's queue; every
count, retry decision and result is the dispatcher's (one writer).
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from .._errors import OllamaError, ServerBusy
from .._retry import RetryWait
from .._status import DONE, INTERRUPTED
from .._store.vectors import float32
from .lanes import Lane

__all__ = ["Job", "Outcome", "work"]


@dataclass
class Job:
    """Rows sent together: one chat row, or up to a batch of texts for ``/api/embed``."""

    rows: list[int]
    bodies: list[dict[str, Any]]
    embed: bool = False
    tries: int = 0
    level: int = 0  # the lane's level when it was sent


@dataclass
class Outcome:
    job: Job
    lane: Lane
    values: list[Any] = field(default_factory=list)
    error: BaseException | None = None
    partial: str = ""
    ttft: float | None = None
    seconds: float = 0.0
    tokens: int = 0
    prompt_tokens: int = 0


def work(lane: Lane, inbox: queue.Queue[Job | None], outbox: queue.Queue[Any], stop: threading.Event) -> None:
    """A worker's life: take a job from the lane, do it, report it; ``None`` ends it."""
    while True:
        job = inbox.get()
        if job is None or stop.is_set():
            return
        started = time.monotonic()
        try:
            out = _embed(lane, job) if job.embed else _chat(lane, job, outbox, stop)
        except Exception as exc:  # an error of ours or a bug: the row fails with it, the run goes on
            out = Outcome(job, lane, error=exc)
        out.seconds = time.monotonic() - started
        outbox.put(out)


def _embed(lane: Lane, job: Job) -> Outcome:
    first = job.bodies[0]
    extra = {k: v for k, v in first.items() if k not in ("model", "input")}
    answer = lane.client.embed(first["model"], [b["input"] for b in job.bodies], **extra)
    tokens = int(answer.get("prompt_eval_count") or 0)
    # The server's float32 values, as the log keeps them: a resumed row gives the same numbers.
    return Outcome(job, lane, values=[float32(v) for v in answer["embeddings"]], prompt_tokens=tokens)


def _chat(lane: Lane, job: Job, outbox: queue.Queue[Any], stop: threading.Event) -> Outcome:
    body = dict(job.bodies[0])
    started = time.monotonic()

    def waited(wait: RetryWait) -> None:
        if wait.tick == 0 and isinstance(wait.error, ServerBusy):
            outbox.put(("busy", lane))  # the level control hears of a 503 as it happens

    stream = lane.client.chat(
        body.pop("model"), body.pop("messages"), stream=True, cancel_retry=stop, on_retry=waited, **body
    )
    with lane.lock:
        lane.open.add(stream)
    out = Outcome(job, lane)
    try:
        if stop.is_set():  # interrupted while this request was being sent
            stream.close(INTERRUPTED)
        with stream:
            for _ in stream:
                if out.ttft is None:
                    out.ttft = time.monotonic() - started
    except OllamaError as exc:
        out.error = exc
    finally:
        with lane.lock:
            lane.open.discard(stream)
    reply = stream.reply
    out.partial = reply.content
    if out.error is None and reply.status != DONE:
        out.error = reply.error or OllamaError(f"the answer ended {reply.status}", reply=reply)
    out.tokens = int(reply.final.get("eval_count") or 0)
    out.prompt_tokens = int(reply.final.get("prompt_eval_count") or 0)
    if out.error is None:
        out.values = [reply.content]
    return out
