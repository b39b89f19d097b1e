"""Stream: an answer (or a pull's progress) arriving line by line over a ``requests`` response.

Iterating it yields each line as a :class:`~ollama_nb.Chunk` after the
:class:`~ollama_nb.Reply` (or :class:`~ollama_nb.Progress`) merged it. It alone
writes how a read ended (through ``Reply.end``, where the first ending wins): a cut, a stall,
an error line or a malformed one "failed", a ``break`` "stopped", a Ctrl-C "interrupted".
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import requests
from urllib3.exceptions import ReadTimeoutError

from ._errors import ModelNotFound, OllamaError, ResponseError, StallTimeout, StreamCut, StreamError, unexpected
from ._http_errors import line_error
from ._models_memo import CHANGES_MODELS, models_changed
from ._reply import Progress, Reply
from ._status import FAILED, INTERRUPTED, STOPPED
from ._types import ChatResponse, Chunk, GenerateResponse, ProgressResponse
from ._wire import stream_objects

if TYPE_CHECKING:
    from ._transport import Transport

__all__ = ["Stream", "is_read_timeout"]


def is_read_timeout(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is a read that timed out, however requests wraps it."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, (ReadTimeoutError, requests.exceptions.ReadTimeout, socket.timeout)):
            return True
        if any(isinstance(a, ReadTimeoutError) for a in getattr(exc, "args", ())):
            return True
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return False


class Stream:
    """An answer arriving line by line. Iterate for :class:`~ollama_nb.Chunk` objects.

    ``reply`` (chat/generate) or ``progress`` (pull/push/create) merges every line as it passes.
    ``close()`` — or breaking out of a ``for`` loop over it, or leaving a ``with`` block — closes the
    HTTP response, which is what makes Ollama stop generating. ``close()`` may be called from another
    thread (a Stop button) while one is iterating: the iteration then ends quietly, status "stopped".
    Leaving ``with stream:`` ends the answer by what left the block: a Ctrl-C marks it
    "interrupted", another exception "failed" (with it), a ``break`` "stopped".
    """

    def __init__(self, client: Transport, resp: requests.Response, result: Reply | Progress) -> None:
        self._client = client
        self._resp = resp
        self.result = result
        # What each line becomes: ollama-python's type names (still a Chunk, a dict).
        self._type: type[Chunk] = (
            ProgressResponse
            if isinstance(result, Progress)
            else ChatResponse
            if result.kind == "chat"
            else GenerateResponse
        )
        #: A body that ends cleanly before the final ``done`` chunk: ollama-python just stops
        #: iterating, and so do we by default (the Reply is marked "failed" with a StreamCut in
        #: ``reply.error``). Our views set this to raise the StreamCut instead.
        self.require_done = False
        self._closed = False
        self._started = False
        self._inside = False  # within `with stream:`, whose exit decides how a left loop ended
        self._next_it: Iterator[Chunk] | None = None

    @property
    def reply(self) -> Reply:
        assert isinstance(self.result, Reply), "this stream carries progress, not a reply"
        return self.result

    @property
    def progress(self) -> Progress:
        assert isinstance(self.result, Progress), "this stream carries a reply, not progress"
        return self.result

    @property
    def closed(self) -> bool:
        return self._closed

    def __iter__(self) -> Iterator[Chunk]:
        if self._started:
            raise RuntimeError("A stream can be read only once; keep the parts you need, or use .reply.")
        self._started = True
        # A fresh generator that the Stream does not keep: when a `for` loop over it is left early,
        # the generator is dropped at once and its `finally` closes the connection.
        return self._lines()

    def __next__(self) -> Chunk:
        if self._next_it is None:
            self._next_it = iter(self)
        return next(self._next_it)

    def _lines(self) -> Iterator[Chunk]:
        result = self.result
        add = result.add
        # Wrapping the top object is one C-level dict copy; nested ones are wrapped lazily on
        # attribute access. (json's object_hook would wrap all of them, at twice the parse cost.)
        chunk = self._type
        try:
            for obj in stream_objects(self._resp.iter_content(chunk_size=None), self._partial()):
                if "error" in obj:
                    raise self._error_line(obj)
                add(obj)
                yield chunk(obj)
            self._check_done()
            if isinstance(result, Progress) and result.done and result.action in CHANGES_MODELS:
                models_changed()  # the name may now be another model: every memo of it asks again
        except GeneratorExit:
            # The loop was left early. Inside `with stream:` the exit says why (a Ctrl-C in the
            # loop's body unwinds the loop, dropping this generator, before it reaches the exit).
            if not self._inside:
                result.end(STOPPED)
            raise
        except KeyboardInterrupt:
            result.end(INTERRUPTED)
            raise
        except (StreamError, ResponseError) as err:
            if self._closed and isinstance(err, StreamError):
                return
            result.end(FAILED, err)
            raise
        except Exception as exc:
            if self._closed:  # closed from another thread: reads fail in assorted ways; all mean "stopped"
                return
            failure = self._broken(exc)
            result.end(FAILED, failure)
            raise failure from None
        finally:
            self._resp.close()
            obj = {}  # verbose tracebacks print locals: no server text left in this frame

    def _check_done(self) -> None:
        """A body that ended cleanly before ``done``: the answer was cut (see ``require_done``)."""
        result = self.result
        if not result.done and not self._closed and isinstance(result, Reply):
            cut = StreamCut(self._client.host, "the body ended before the final chunk", reply=result)
            if self.require_done:
                raise cut
            result.end(FAILED, cut)

    def _broken(self, exc: Exception) -> OllamaError:
        """The error for a read that failed: a stall, else a cut."""
        if is_read_timeout(exc):
            return StallTimeout(self._client.host, self._client.timeout[1], reply=self._partial())
        return StreamCut(self._client.host, f"{type(exc).__name__}: {exc}", reply=self._partial())

    def _partial(self) -> Reply | None:
        return self.result if isinstance(self.result, Reply) else None

    def _error_line(self, obj: dict[str, Any]) -> OllamaError:
        result = self.result
        err = line_error(obj, pulling=result.model if isinstance(result, Progress) else "", reply=self._partial())
        if isinstance(err, ModelNotFound):
            err.suggest(self._client.installed())
        return err

    def close(self, status: str = STOPPED, error: BaseException | None = None) -> None:
        """Stop reading and close the connection (Ollama stops generating). Safe from any thread.

        ``status`` is how an unfinished answer is marked: "stopped" (a Stop button, a ``break``),
        "interrupted" (a Ctrl-C between two chunks) or "failed" (with ``error``); an answer that
        already ended keeps its ending.
        """
        if self._closed:
            return
        self._closed = True
        self.result.end(status, error)
        try:
            # Wakes a reader blocked in recv on another thread; the server sees the client leave now.
            self._resp.raw.shutdown()
        except (OSError, ValueError, RuntimeError, AttributeError):  # released or closed already; not urllib3's
            pass
        if not self._started or self._next_it is not None:
            self._resp.close()

    def __enter__(self) -> Stream:
        self._inside = True
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        self._inside = False
        if kind is not None and issubclass(kind, KeyboardInterrupt):
            self.close(INTERRUPTED)
        elif exc is not None:
            self.close(FAILED, exc if isinstance(exc, OllamaError) else unexpected(exc))
        else:
            self.close()

    def __del__(self) -> None:
        try:
            if not self._closed and not self._started:
                self._resp.close()
        except Exception:
            pass

    def __repr__(self) -> str:
        shown = f"{type(self.result).__name__.lower()} of {self.result.model!r}"
        return f"<Stream {shown}{' closed' if self._closed else ''}>"
