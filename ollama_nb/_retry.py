"""Retrying what a busy server refused: jittered exponential backoff, bounded, cancellable.

A server that answers 503 (its queue is full, or Ollama Cloud is overloaded) or 429 with a
``Retry-After`` header has not started the work, so sending the request again later is safe. A 429
for a plan's usage limit (hourly, session, weekly) is never retried: waiting seconds does not help.

The policy is data (:class:`Retry`, given as ``Client(retries=...)``). Who is told about the
waits, and who may end one, is a hook: ``Client(on_retry=...)`` for every call of a client, or
``on_retry=`` / ``cancel_retry=`` on one call (a view's own listener and Stop button, since one
client is shared by every cell and widget of a notebook). Neither is sent to the server.

Usage::

    client = Client(retries=Retry(attempts=3, budget=30))   # or retries=0 to never retry
    client.chat(..., on_retry=print, cancel_retry=stop_event)
    # prints "server busy, retrying in 4 s (2 of 3)" while it waits; stop_event.set() ends the wait
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from ._errors import (
    AccountUnavailable,
    OllamaError,
    ProxyError,
    RateLimited,
    ResponseError,
    RetryCancelled,
    ServerBusy,
    UsageLimit,
)

__all__ = ["DEFAULT", "NEVER", "OnRetry", "Retry", "RetryWait", "call"]

T = TypeVar("T")


@dataclass(frozen=True)
class Retry:
    """How often and how long to retry a refused request.

    Parameters
    ----------
    attempts:
        Retries after the first try (0 = never retry).
    budget:
        Seconds of waiting, in all, before giving up; a ``Retry-After`` longer than what is left
        ends the retries at once (the error then says how long the server asked to wait).
    first, longest:
        The first wait, and the longest single one: waits double from ``first`` up to ``longest``.
    jitter:
        Each computed wait is drawn from ``[wait * (1 - jitter), wait]``, so thirty students refused
        at the same moment do not all come back at the same moment. A ``Retry-After`` is honoured as
        given (plus at most ``jitter`` of a second), never shortened.
    """

    attempts: int = 5
    budget: float = 90.0
    first: float = 1.0
    longest: float = 20.0
    jitter: float = 0.5

    @classmethod
    def of(cls, value: Retry | int | bool | None) -> Retry:
        """``Client(retries=...)``: a Retry, a number of retries, True (default) or False/0 (never)."""
        if isinstance(value, Retry):
            return value
        if value is None or value is True:
            return DEFAULT
        if value is False:
            return NEVER
        if isinstance(value, int) and value >= 0:
            return cls(attempts=value)
        raise ValueError(f"retries must be a Retry, a number of retries or False, not {value!r}")

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        draw = (rng or random).random()
        if retry_after is not None:
            return retry_after + draw * min(self.jitter, 1.0)
        wait = min(self.longest, self.first * 2.0 ** (attempt - 1))
        return float(wait * (1 - self.jitter * draw))


DEFAULT = Retry()
NEVER = Retry(attempts=0)


@dataclass(frozen=True)
class RetryWait:
    """A wait before a retry, as views show it: ``str()`` -> "server busy, retrying in 4 s (2 of 5)".

    A wait is reported when it starts (``tick`` 0, ``remaining == seconds``) and again each second
    while it lasts (``tick`` 1, 2, ...), so a view can count down; count waits with ``tick == 0``.
    """

    error: ResponseError
    seconds: float
    attempt: int
    attempts: int
    remaining: float | None = None
    tick: int = 0

    @property
    def reason(self) -> str:
        if isinstance(self.error, RateLimited):
            return "too many requests"
        if isinstance(self.error, ProxyError):
            return "the proxy says the service is unavailable"
        return "server busy"

    def __str__(self) -> str:
        left = self.seconds if self.remaining is None else self.remaining
        return f"{self.reason}, retrying in {max(1, round(left))} s ({self.attempt} of {self.attempts})"


#: The retry hook: called with each :class:`RetryWait` (its start, then each second it lasts).
OnRetry = Callable[[RetryWait], object]


def retryable(err: OllamaError) -> bool:
    """503 (busy, overloaded, a proxy's 503 page) but an unavailable account; 429 only with a
    Retry-After and never for a usage limit."""
    if isinstance(err, (UsageLimit, AccountUnavailable)):
        return False
    if isinstance(err, RateLimited):
        return err.retry_after is not None
    return isinstance(err, ResponseError) and err.status_code == 503


def call(
    policy: Retry,
    send: Callable[[], T],
    *,
    on_wait: OnRetry | None = None,
    cancel: threading.Event | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """``send()``, again after a wait each time it raises a retryable refusal, within ``policy``;
    ``on_wait`` hears of each wait, and setting ``cancel`` ends one (:class:`RetryCancelled`)."""
    waited = 0.0
    attempt = 0
    while True:
        try:
            return send()
        except ResponseError as err:
            if not retryable(err):
                raise
            attempt += 1
            after = getattr(err, "retry_after", None)
            seconds = policy.delay(attempt, after)
            if attempt > policy.attempts or waited + seconds > policy.budget:
                raise _gave_up(err, attempt - 1, waited) from None
            started = clock()
            _wait(err, seconds, attempt, policy.attempts, on_wait, cancel or threading.Event(), clock)
            waited += clock() - started


def _wait(
    err: ResponseError,
    seconds: float,
    attempt: int,
    attempts: int,
    on_wait: OnRetry | None,
    cancel: threading.Event,
    clock: Callable[[], float],
) -> None:
    """Wait ``seconds``, reporting the start and each second left; RetryCancelled when ``cancel`` is set.

    An Event, not time.sleep: a Stop button on another thread ends the wait at once, and a Ctrl-C
    interrupts Event.wait on the main thread like any other wait.
    """
    if on_wait is not None:
        on_wait(RetryWait(err, seconds, attempt, attempts))
    deadline = clock() + seconds
    tick = 0
    while True:
        left = deadline - clock()
        if left <= 0:
            return
        if cancel.wait(min(1.0, left)):
            raise RetryCancelled(err) from None
        left = deadline - clock()
        if on_wait is not None and left >= 0.5:
            tick += 1
            on_wait(RetryWait(err, seconds, attempt, attempts, remaining=left, tick=tick))


def _gave_up(err: ResponseError, retries: int, waited: float) -> ResponseError:
    if isinstance(err, ServerBusy):
        return ServerBusy(err.error, err.status_code, attempts=retries, waited=waited, retry_after=err.retry_after)
    if retries and isinstance(err, RateLimited):
        err.hint = f"Still too many requests after {retries} retries over {waited:.0f} s: try again later."
        err.args = (f"{err.message} — {err.hint}",)
    return err
