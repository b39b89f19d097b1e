"""Errors raised by ollama_nb, one tree under :class:`OllamaError`.

::

    OllamaError
    ├── ServerUnreachable      (also a builtin ConnectionError)  nothing answers at the host
    ├── InvalidRequest         (also a ValueError)  an argument we refuse before sending
    │   ├── RequestError       ollama-python's name: no model given
    │   └── InsecureKeyError   refusing to send a key over plain http
    ├── ResponseError          the server reported an error (``.error``, ``.status_code``)
    │   ├── ModelNotFound      "... not found" / "file does not exist": pull it first
    │   ├── AuthenticationError 401/403: set OLLAMA_API_KEY
    │   │   ├── SigninRequired  401 with a signin_url: run `ollama signin` where Ollama runs
    │   │   ├── CloudDisabled   403: this server has cloud models switched off
    │   │   └── HostRefused     403 without a body: Ollama refused the Host name (a proxy's)
    │   ├── ServerBusy         503 (queue full, cloud overloaded), still refused after retrying
    │   ├── AccountUnavailable 503 "account unavailable": ollama.com cannot load the account; not retried
    │   ├── RateLimited        429 too many requests
    │   │   └── UsageLimit     429 an hourly/session/weekly plan limit: wait or upgrade
    │   ├── ProxyError         an HTML 502/503/504 page from a proxy in front of Ollama
    │   └── ServerStreamError  an ``{"error": ...}`` line after status 200 (status_code -1)
    ├── RetryCancelled         Stop/interrupt while waiting to retry a refused request
    └── StreamError            the answer started, then failed; ``.reply`` keeps the partial answer
        ├── ServerStreamError  (the same class: a server error *and* a broken stream)
        ├── StreamCut          connection dropped in the middle of the body
        ├── MalformedChunk     a line that is not JSON
        └── StallTimeout       (also a builtin TimeoutError) the server went silent too long

Every error the *server* reports is a :class:`ResponseError`, as with ollama-python, so
``except ollama.ResponseError`` code keeps working; our subclasses add a "what to do next" hint.
None of them ever contains an API key: messages are built from the host, the model name and the
server's own text, never from request headers, and every text that came from a server passes
:func:`ollama_nb._redact.redact` here, where it enters an error (a server or proxy may echo the
``Authorization`` header into its error body).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ._redact import redact
from ._terminal import terminal_text

if TYPE_CHECKING:
    from ._reply import Reply

__all__ = [
    "AccountUnavailable",
    "AuthenticationError",
    "CloudDisabled",
    "HostRefused",
    "InsecureKeyError",
    "InvalidRequest",
    "MalformedChunk",
    "ModelNotFound",
    "OllamaError",
    "ProxyError",
    "RateLimited",
    "RequestError",
    "ResponseError",
    "RetryCancelled",
    "ServerBusy",
    "ServerStreamError",
    "ServerUnreachable",
    "SigninRequired",
    "StallTimeout",
    "StreamCut",
    "StreamError",
    "UsageLimit",
]


class OllamaError(Exception):
    """Base class of every error ollama_nb raises.

    ``reply`` is the partial :class:`~ollama_nb.Reply` when the error happened mid-stream, else None.
    ``hint`` is the "what to do next" sentence on its own (views show it apart from the cause).
    """

    hint: str = ""

    def __init__(self, message: str, *, hint: str = "", reply: Reply | None = None) -> None:
        # The one boundary where server text enters our errors: str(), repr(), args, tracebacks
        # and every view downstream only ever see the redacted text.
        # Control characters shown, not obeyed: str() lands in terminals and tracebacks.
        self.message = message = terminal_text(redact(message))
        self.hint = terminal_text(redact(hint or type(self).hint))
        self.reply = reply
        super().__init__(f"{message} — {self.hint}" if self.hint else message)


class ServerUnreachable(OllamaError, ConnectionError):
    """Nothing answered at the host (refused, DNS failure, or the connect timed out)."""

    def __init__(self, host: str, cause: str = "") -> None:
        self.host = host
        self.cause = redact(cause)
        if host.startswith("https://ollama.com"):
            hint = "Check your internet connection, or try again in a moment."
        else:
            hint = (
                "Start Ollama (`ollama serve`, or open the Ollama app), or point OLLAMA_HOST "
                "(or Client(host=...)) at the machine where it runs."
            )
        super().__init__(f"Cannot reach Ollama at {host}.", hint=hint)


class InvalidRequest(OllamaError, ValueError):
    """An argument we cannot send (bad ``think``, an unreadable image...), caught before sending.

    A ``ValueError``, as what ollama-python raises for the same arguments (pydantic's
    ``ValidationError``) is one.
    """


class RequestError(InvalidRequest):
    """ollama-python's ``RequestError``: the request cannot be made (no model given). ``.error`` says why."""

    def __init__(self, error: str, *, hint: str = "") -> None:
        self.error = error
        super().__init__(error, hint=hint)


class InsecureKeyError(InvalidRequest):
    """An API key was given for a plain-http host that is not this machine."""

    def __init__(self, host: str) -> None:
        self.host = host
        super().__init__(
            f"Refusing to send an API key to {host} over plain http: anyone on the network could read it.",
            hint="Use an https:// host, or drop the key (a local Ollama needs none).",
        )


class ResponseError(OllamaError):
    """The server reported an error: an HTTP error status, or an error line inside a stream.

    ``error`` (the server's own text) and ``status_code`` (-1 for an error inside a 200 stream)
    match ollama-python's ``ResponseError``, and so does the constructor: ``ResponseError(text)``
    with ``text`` a JSON ``{"error": ...}`` body keeps only the message.
    """

    def __init__(self, error: str, status_code: int = -1, *, hint: str = "", reply: Reply | None = None) -> None:
        if isinstance(error, str) and error.startswith("{"):
            try:
                error = error_text(json.loads(error)) or error
            except ValueError:
                pass
        self.error = error = redact(error)
        self.status_code = status_code
        OllamaError.__init__(self, f"{error} (status code: {status_code})", hint=hint, reply=reply)


class ModelNotFound(ResponseError):
    """The model is not installed on the server (or does not exist in the library).

    ``pulling``: the name was not found by a pull, so pulling again cannot help: check the spelling.
    ``suggestions``: installed models with a close name ("did you mean llama3.2?").
    """

    def __init__(
        self,
        error: str,
        status_code: int,
        model: str = "",
        *,
        reply: Reply | None = None,
        pulling: bool = False,
        suggestions: list[str] | None = None,
    ) -> None:
        self.model = model
        self.pulling = pulling
        self.suggestions = list(suggestions or [])
        super().__init__(error, status_code, hint=self._hint(), reply=reply)
        if pulling and model and status_code == -1:
            # An error line in a pull's stream: "file does not exist (status code: -1)" names
            # neither the model nor what is missing, and -1 is no status a user can act on.
            said = f"{self.error}: there is no model `{model}` in the Ollama library"
            OllamaError.__init__(self, said, hint=self.hint, reply=reply)

    def _hint(self) -> str:
        from ._suggest import command

        model = self.model
        guess = ""
        if self.suggestions:
            names = " or ".join(f"`{s}`" for s in self.suggestions[:3])
            guess = f"Did you mean {names}? "
        if model and model.lower().endswith(("-cloud", ":cloud")):
            # Cloud models run on ollama.com: nothing to pull, only the name can be wrong.
            return (
                f"{guess}`{model}` is not a cloud model ollama.com offers: check the name and tag at "
                "https://ollama.com/search?c=cloud."
            )
        if model and self.pulling:
            return (
                f"{guess}`{model}` was not found in the Ollama library: check the spelling and the tag "
                "(https://ollama.com/library lists the models and their tags)."
            )
        if model:
            return (
                f"{guess}{'Otherwise pull it' if guess else 'Pull it first'}: "
                f"`{command('%ollama', 'pull', model)}` (or "
                f"`{command('ollama', 'pull', model)}`), or pick an installed model: `%ollama list`."
            )
        return guess + "Check the model name; `%ollama list` shows the installed models."

    def suggest(self, installed: list[str]) -> ModelNotFound:
        """Add "did you mean" from the installed model names; returns self."""
        from ._suggest import close_models

        self.suggestions = close_models(self.model, installed) if self.model else []
        self.hint = redact(self._hint())
        self.args = (f"{self.message} — {self.hint}",)
        return self


class AuthenticationError(ResponseError):
    """401/403: the server wants a valid API key (Ollama Cloud) or refused this host."""

    hint = (
        "Give a key from https://ollama.com/settings/keys: run `%ollama login` (it asks without showing "
        "or saving the key), or set OLLAMA_API_KEY before starting Jupyter; for cloud models through a "
        "local Ollama, run `ollama signin`."
    )


class StreamError(OllamaError):
    """The answer started but did not finish; ``reply`` holds what arrived."""


class ServerStreamError(StreamError, ResponseError):
    """The server sent an ``{"error": ...}`` line in the middle of a 200 stream (``status_code`` -1)."""

    hint = "The partial answer is kept. Try again; if it repeats, check the Ollama server's log."

    def __init__(self, error: str, status_code: int = -1, *, reply: Reply | None = None, hint: str = "") -> None:
        self.error = error = redact(error)
        self.status_code = status_code
        OllamaError.__init__(self, f"The server stopped with an error: {error}", hint=hint, reply=reply)


class StreamCut(StreamError):
    """The connection dropped in the middle of the body (or, for our views, before ``done``)."""

    hint = "The partial answer is kept. Check that Ollama is still running, then try again."

    def __init__(self, host: str, cause: str = "", *, reply: Reply | None = None) -> None:
        self.host = host
        self.cause = redact(cause)
        super().__init__(f"The connection to {host} was cut before the answer finished.", reply=reply)


class MalformedChunk(StreamError):
    """A line of the NDJSON stream was not valid JSON."""

    hint = "The partial answer is kept. Is the host really an Ollama server (not a proxy page)?"

    def __init__(self, line: bytes, *, reply: Reply | None = None, limit: int | None = None) -> None:
        text = redact(line.decode("utf-8", "replace"))
        self.line = text.encode()
        shown = text[:80]
        if limit is not None:  # ``line`` is then only the start of the line
            message = f"The server sent a line longer than {limit // 2**20} MB; reading stopped there: {shown!r}…"
            super().__init__(message, reply=reply)
            return
        super().__init__(f"The server sent a line that is not JSON: {shown!r}", reply=reply)


class StallTimeout(StreamError, TimeoutError):
    """No byte arrived for ``read_timeout`` seconds (before or during the answer)."""

    def __init__(self, host: str, seconds: float, *, reply: Reply | None = None) -> None:
        self.host = host
        self.seconds = seconds
        hint = (
            "The partial answer is kept. The server may be overloaded or stuck; try again, or raise "
            "the limit with Client(timeout=...)."
        )
        super().__init__(f"Ollama at {host} sent nothing for {seconds:g} s.", hint=hint, reply=reply)


# --------------------------------------------------------------------------- refusals (busy, limits, proxies)


class SigninRequired(AuthenticationError):
    """401 with a ``signin_url``: the Ollama server is not signed in to ollama.com (cloud models)."""

    def __init__(self, error: str, status_code: int, signin_url: str) -> None:
        self.signin_url = signin_url
        # The URL itself stays in .signin_url, as the server sent it: no view shows it, so none can
        # make a link of it (a hostile server's javascript: URL included; the payload corpus checks
        # it), and the redactor would mask its key= part in any text anyway. The hint names the command.
        hint = (
            "Cloud models need the Ollama server to be signed in: run `ollama signin` on the machine "
            "where Ollama runs (it prints the page to open), then run this again."
        )
        super().__init__(error, status_code, hint=hint)


class AccountUnavailable(ResponseError):
    """503 ``account unavailable``: ollama.com could not load the account behind the key or the
    server's sign-in. Not a busy server: asking again in a few seconds does not help."""

    hint = (
        "ollama.com could not load this account (suspended, deleted, or its plan not set up): check it "
        "at https://ollama.com/settings, or use another key (OLLAMA_API_KEY) or `ollama signin` again."
    )

    def __init__(self, error: str, status_code: int = 503) -> None:
        super().__init__(error, status_code, hint=self.hint)


class CloudDisabled(AuthenticationError):
    """403: cloud models are switched off on this Ollama server (OLLAMA_NO_CLOUD)."""

    hint = (
        "This Ollama server has cloud models disabled (OLLAMA_NO_CLOUD or its settings). Use a local "
        "model (`%ollama list`), or ask whoever runs the server to enable cloud models."
    )


class HostRefused(AuthenticationError):
    """403 with an empty body: Ollama, listening on loopback, refused the request's Host name."""

    def __init__(self, host: str) -> None:
        self.host = host
        hint = (
            f"Ollama behind {host} refused the Host name it was sent (its guard against DNS rebinding). "
            "In the proxy, send `proxy_set_header Host localhost;`, or start Ollama with "
            "OLLAMA_HOST=0.0.0.0 on a network you trust."
        )
        super().__init__("403 Forbidden (empty answer)", 403, hint=hint)


class ServerBusy(ResponseError):
    """503: the server's queue is full (or Ollama Cloud is overloaded), even after retrying."""

    def __init__(
        self,
        error: str,
        status_code: int,
        *,
        attempts: int = 0,
        waited: float = 0.0,
        retry_after: float | None = None,
        hint: str = "",
    ) -> None:
        self.attempts = attempts
        self.waited = waited
        self.retry_after = retry_after
        tried = f" (tried {attempts + 1} times over {waited:.0f} s)" if attempts else ""
        hint = hint or (
            f"The server is busy with other people's requests{tried}. Try again in a minute; whoever "
            "runs it can raise OLLAMA_NUM_PARALLEL or OLLAMA_MAX_QUEUE."
        )
        super().__init__(error, status_code, hint=hint)


class RateLimited(ResponseError):
    """429: too many requests in a short time."""

    def __init__(self, error: str, status_code: int = 429, *, retry_after: float | None = None, hint: str = "") -> None:
        self.retry_after = retry_after
        wait = f"wait {retry_after:g} s" if retry_after is not None else "wait a moment"
        super().__init__(error, status_code, hint=hint or f"Too many requests: {wait} and try again.")


USAGE_PAGE = "https://ollama.com/settings"
UPGRADE_PAGE = "https://ollama.com/upgrade"


class UsageLimit(RateLimited):
    """429: an Ollama Cloud plan limit (hourly, session or weekly) is used up; not retried."""

    def __init__(self, error: str, status_code: int = 429, *, limit: str = "") -> None:
        self.limit = limit
        which = f"{limit} usage limit" if limit else "usage limit"
        waits = {
            "hourly": "it resets within the hour",
            "session": "it resets when the session window ends",
            "weekly": "it resets at the start of next week's window",
        }
        hint = (
            f"Your Ollama Cloud {which} is reached ({waits.get(limit, 'it resets later')}). Wait, use a "
            f"local model, or upgrade for higher limits: {UPGRADE_PAGE} (usage: {USAGE_PAGE}, or `%ollama usage`)."
        )
        super().__init__(error, status_code, hint=hint)


class ProxyError(ResponseError):
    """A proxy (nginx, a load balancer) answered with its own HTML error page instead of Ollama."""

    def __init__(self, title: str, status_code: int, host: str) -> None:
        self.title = title = redact(title)
        self.retry_after: float | None = None
        hints = {
            502: f"The proxy at {host} cannot reach Ollama behind it: is Ollama running there?",
            503: f"The proxy at {host} says the service is unavailable: try again in a minute.",
            504: (
                f"Ollama behind the proxy at {host} took too long to answer (a model may be loading): try "
                "again; whoever runs the proxy can raise proxy_read_timeout."
            ),
        }
        super().__init__(
            title, status_code, hint=hints.get(status_code, f"Check the proxy in front of Ollama at {host}.")
        )
        # The page itself is never shown: only what its <title> says.
        self.message = f"A proxy between you and Ollama answered {title}."
        self.args = (f"{self.message} — {self.hint}",)


class RetryCancelled(OllamaError):
    """Stopped (Stop button, interrupt) while waiting to retry a request the server refused."""

    hint = "Nothing was sent again. Run it once more when the server is less busy."

    def __init__(self, cause: OllamaError) -> None:
        self.cause = cause
        super().__init__(f"Stopped while waiting to retry ({cause.message})")


def unexpected(exc: BaseException) -> OllamaError:
    """A failure that is not an OllamaError (a bug, a value the client refused), as one, its text
    redacted, so every view shows it like any other failure."""
    message, _ = describe(exc)
    err = OllamaError(
        f"The request failed unexpectedly: {message}",
        hint="Check the settings (`%ollama config`) and the options; if it repeats, please report it.",
    )
    err.__cause__ = exc
    return err


def describe(err: BaseException) -> tuple[str, str]:
    """Return ``(what happened, what to do)`` for any exception, for views that show them apart."""
    if isinstance(err, OllamaError):
        return err.message, err.hint
    return redact(f"{type(err).__name__}: {err}"), ""


def error_text(body: Any) -> str:
    """The server's message in a parsed error body: ``{"error": ...}`` (or OpenAI's
    ``{"error": {"message": ...}}`` on /v1); "" for an object without one; other JSON as text.
    The one reader of a server's error text."""
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):
            err = err.get("message", err)
        return str(err) if err else ""
    return str(body)
