"""PullRunner: one download from request to end, for ``%ollama pull`` and the ModelBrowser alike.

It sends the pull (a busy server's refusal is waited out inside the call, and :meth:`PullRunner.stop`
ends that wait too), reads the progress lines, and decides how the pull ended: done, stopped
(:meth:`PullRunner.stop`, from any thread, at any moment), interrupted (Ctrl-C, re-raised after
recording) or failed (the :class:`~ollama_nb.OllamaError` kept as :attr:`PullRunner.error`). Views
pass a callback and show :attr:`PullRunner.progress`; none of them closes a stream itself.

Usage::

    runner = PullRunner(client, "smollm2:135m")
    runner.run(on_progress=lambda progress: print(progress.fraction))
    runner.status, runner.error   # "done", None
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._errors import OllamaError, RetryCancelled
from ._retry import RetryWait
from ._status import DONE, FAILED, INTERRUPTED, RUNNING, STOPPED
from ._stopper import Stopper

if TYPE_CHECKING:
    from ._reply import Progress

__all__ = ["PullRunner"]


class PullRunner:
    """One ``pull`` of ``model`` on ``client``."""

    def __init__(self, client: Any, model: str) -> None:
        self.client = client
        self.model = model
        #: What the server reported so far; None until it answered.
        self.progress: Progress | None = None
        self.error: OllamaError | None = None
        #: pending, then done, stopped, interrupted or failed.
        self.status = RUNNING
        self._stopper = Stopper()

    def stop(self, status: str = STOPPED) -> None:
        """End the pull now (nothing is installed). Safe from any thread, before the request is
        sent, while it waits for a busy server, or after it ended."""
        self._stopper.stop(status)

    def run(
        self,
        on_progress: Callable[[Progress], None] | None = None,
        *,
        on_wait: Callable[[RetryWait], None] | None = None,
    ) -> Progress | None:
        """Download; ``on_progress(progress)`` after each line. Returns the progress (None when it
        was stopped before the server answered). A KeyboardInterrupt is recorded, then re-raised."""
        try:
            stream = self.client.pull(self.model, stream=True, on_retry=on_wait, cancel_retry=self._stopper.cancel)
            self.progress = stream.progress
            self._stopper.attach(stream)
            with stream:  # its exit ends the progress: "interrupted" on a Ctrl-C, "failed" on an error
                for _ in stream:
                    if on_progress is not None:
                        on_progress(self.progress)
        except KeyboardInterrupt:
            self.status = INTERRUPTED
            raise
        except RetryCancelled:
            self.status = self._stopper.status or STOPPED  # stopped while a busy server was waited for
        except OllamaError as err:
            self.error, self.status = err, FAILED
        else:
            done = self.progress is not None and self.progress.done
            self.status = DONE if done else self._stopper.status or STOPPED
        return self.progress
