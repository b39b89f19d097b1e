"""The Ollama HTTP client: one method per server route, on a ``requests.Session``.

Each method builds the request body ollama-python sends for the same call; :mod:`._transport`
sends it (with retries, every failure as an :mod:`ollama_nb._errors` class) and :mod:`._stream`
hands each streamed line to a :class:`~ollama_nb.Reply` (or :class:`~ollama_nb.Progress`) to merge.

Usage (the same code as in Ollama's docs, with our import)::

    from ollama_nb import Client
    client = Client()                       # OLLAMA_HOST, else http://127.0.0.1:11434
    for part in client.chat("llama3.2", messages=[{"role": "user", "content": "Hi"}], stream=True):
        print(part["message"]["content"], end="", flush=True)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar, overload

import requests

from ._errors import InsecureKeyError, ResponseError, ServerUnreachable
from ._hosts import is_loopback
from ._models_memo import models_changed
from ._policy import ANSWER_TIMEOUT, DEFAULT_TIMEOUT, TRANSFER_TIMEOUT
from ._reply import Reply
from ._request import as_tool, drop_none, encode_image, generation_fields, message, plain
from ._retry import OnRetry
from ._stream import Stream
from ._transport import Transport
from ._types import (
    Chunk,
    EmbeddingsResponse,
    EmbedResponse,
    ListResponse,
    ProcessResponse,
    ProgressResponse,
    ShowResponse,
    StatusResponse,
    WebFetchResponse,
    WebSearchResponse,
)

__all__ = ["ANSWER_TIMEOUT", "DEFAULT_TIMEOUT", "Client", "Stream", "checked_think"]

_C = TypeVar("_C", bound=Chunk)


#: The batch runner behind :meth:`Client.map`. It lives a layer above the client (it drives a
#: progress view), so it registers itself here when the package is imported (``ollama_nb._map``).
_run_map: Callable[..., Any] | None = None


class Client(Transport):
    """A client for one Ollama server: local (default) or Ollama Cloud (``host="https://ollama.com"``).

    Parameters
    ----------
    host:
        Base URL or ``OLLAMA_HOST``-style text (see :func:`ollama_nb._hosts.parse_host`). Default:
        ``OLLAMA_HOST``, else ``http://127.0.0.1:11434``.
    api_key:
        Sent as ``Authorization: Bearer ...``. Default: an ``Authorization`` entry in ``headers``, else
        ``OLLAMA_API_KEY``. A key given here or in ``headers`` for a plain-http host that is not this
        machine raises :class:`~ollama_nb.InsecureKeyError`; one from the environment is simply
        not sent there. The key never appears in a repr or an error message.
    headers:
        Extra HTTP headers for every request (``Content-Type`` and ``Accept`` stay
        ``application/json``, as with ollama-python).
    timeout:
        A number, or ``(connect, read)``: the read limit for every request, streamed or not (as
        httpx applies ollama-python's ``timeout``). Default: connect 5 s; a stream may go 330 s
        without a byte (the server itself allows a model load 5 minutes); a non-streamed answer,
        which sends nothing until it is complete, gets 30 minutes (pull/push/create: 4 hours). A
        streamed pull/push/create has no silence limit: verifying a big download sends nothing.
    retries:
        What to do when the server refuses for now (503 busy or overloaded, 429 with
        Retry-After): a :class:`~ollama_nb.Retry`, a number of retries, or ``0`` to fail at
        once. Default ``Retry()``: up to 5 retries within 90 s, jittered exponential backoff,
        Retry-After honoured. Usage-limit 429s are never retried.
    on_retry:
        Called with a :class:`~ollama_nb.RetryWait` as each such wait starts and each second
        it lasts (``print`` shows "server busy, retrying in 4 s (2 of 5)"). ``chat``, ``generate``,
        ``pull``, ``push`` and ``create`` also take ``on_retry=`` for one call, and
        ``cancel_retry=`` (a ``threading.Event``: setting it ends the wait with
        :class:`~ollama_nb.RetryCancelled`); neither is sent to the server.
    web_host:
        Where :meth:`web_search` / :meth:`web_fetch` go. Default: ``OLLAMA_NB_WEB_HOST``, else
        ``https://ollama.com`` as with ollama-python; tests point it at an emulator on loopback.
        The key goes there only over https or to this machine.

    With Ollama Cloud, model names may carry the local server's cloud suffix: ``gpt-oss:120b-cloud``,
    ``gpt-oss:120b:cloud`` and ``gpt-oss:120b`` all mean the cloud model ``gpt-oss:120b`` (the suffix is
    stripped before sending).

    The request body is what ollama-python sends for the same call, ``stream`` as given. Methods
    return a :class:`~ollama_nb.Chunk` (read as a dict or by attribute), a
    :class:`~ollama_nb.Reply` (chat/generate), or, with ``stream=True``, a :class:`Stream`.
    """

    # -- generation -------------------------------------------------------------------------
    @overload
    def generate(
        self,
        model: str = ...,
        prompt: str | None = ...,
        suffix: str | None = ...,
        *,
        system: str | None = ...,
        template: str | None = ...,
        context: Sequence[int] | None = ...,
        stream: Literal[False] = ...,
        think: bool | Literal["low", "medium", "high"] | None = ...,
        logprobs: bool | None = ...,
        top_logprobs: int | None = ...,
        raw: bool | None = ...,
        format: Any = ...,
        images: Sequence[Any] | None = ...,
        options: Mapping[str, Any] | None = ...,
        keep_alive: float | str | None = ...,
        truncate: bool | None = ...,
        shift: bool | None = ...,
        width: int | None = ...,
        height: int | None = ...,
        steps: int | None = ...,
        reply: Reply | None = ...,
        on_retry: OnRetry | None = ...,
        cancel_retry: threading.Event | None = ...,
    ) -> Reply: ...

    @overload
    def generate(
        self,
        model: str = ...,
        prompt: str | None = ...,
        suffix: str | None = ...,
        *,
        system: str | None = ...,
        template: str | None = ...,
        context: Sequence[int] | None = ...,
        stream: Literal[True],
        think: bool | Literal["low", "medium", "high"] | None = ...,
        logprobs: bool | None = ...,
        top_logprobs: int | None = ...,
        raw: bool | None = ...,
        format: Any = ...,
        images: Sequence[Any] | None = ...,
        options: Mapping[str, Any] | None = ...,
        keep_alive: float | str | None = ...,
        truncate: bool | None = ...,
        shift: bool | None = ...,
        width: int | None = ...,
        height: int | None = ...,
        steps: int | None = ...,
        reply: Reply | None = ...,
        on_retry: OnRetry | None = ...,
        cancel_retry: threading.Event | None = ...,
    ) -> Stream: ...

    def generate(
        self,
        model: str = "",
        prompt: str | None = None,
        suffix: str | None = None,
        *,
        system: str | None = None,
        template: str | None = None,
        context: Sequence[int] | None = None,
        stream: bool = False,
        think: bool | Literal["low", "medium", "high"] | None = None,
        logprobs: bool | None = None,
        top_logprobs: int | None = None,
        raw: bool | None = None,
        format: Any = None,
        images: Sequence[Any] | None = None,
        options: Mapping[str, Any] | None = None,
        keep_alive: float | str | None = None,
        truncate: bool | None = None,
        shift: bool | None = None,
        width: int | None = None,
        height: int | None = None,
        steps: int | None = None,
        reply: Reply | None = None,
        on_retry: OnRetry | None = None,
        cancel_retry: threading.Event | None = None,
    ) -> Reply | Stream:
        """POST /api/generate: complete ``prompt``. ``stream=True`` -> a :class:`Stream`, else a :class:`Reply`.

        ``images`` may be bytes, paths, base64 text, ``Image`` objects or PIL images. An empty
        prompt only loads the model (``keep_alive=0`` unloads it). ``width``/``height``/``steps``
        are ollama-python's parameters for image-generation models, sent as given, but they do
        nothing today: Ollama removed image generation (July 2026), refuses image models with 400
        "image generation models are not currently supported" and ignores these fields for any
        other model. ``reply``: a :class:`Reply` to fill
        instead of a new one (how a view's turn keeps one Reply from start to end); ``on_retry`` /
        ``cancel_retry``: this call's retry hook (see :class:`Client`). None of the three is sent.
        """
        body = drop_none(
            model=self._model(model),
            prompt=prompt,
            suffix=suffix,
            system=system,
            template=template,
            context=list(context) if context is not None else None,
            think=self._think(self._model(model), think),
            raw=raw,
            images=[encode_image(i) for i in images] if images else None,
            **generation_fields(format, options, keep_alive, logprobs, top_logprobs, truncate, shift),
            width=width,
            height=height,
            steps=steps,
        )
        hooks = {"on_retry": on_retry, "cancel_retry": cancel_retry}
        return self._answer("/api/generate", body, stream, "generate", reply, hooks)

    @overload
    def chat(
        self,
        model: str = ...,
        messages: Sequence[Any] | None = ...,
        *,
        tools: Sequence[Any] | None = ...,
        stream: Literal[False] = ...,
        think: bool | Literal["low", "medium", "high"] | None = ...,
        logprobs: bool | None = ...,
        top_logprobs: int | None = ...,
        format: Any = ...,
        options: Mapping[str, Any] | None = ...,
        keep_alive: float | str | None = ...,
        truncate: bool | None = ...,
        shift: bool | None = ...,
        reply: Reply | None = ...,
        on_retry: OnRetry | None = ...,
        cancel_retry: threading.Event | None = ...,
    ) -> Reply: ...

    @overload
    def chat(
        self,
        model: str = ...,
        messages: Sequence[Any] | None = ...,
        *,
        tools: Sequence[Any] | None = ...,
        stream: Literal[True],
        think: bool | Literal["low", "medium", "high"] | None = ...,
        logprobs: bool | None = ...,
        top_logprobs: int | None = ...,
        format: Any = ...,
        options: Mapping[str, Any] | None = ...,
        keep_alive: float | str | None = ...,
        truncate: bool | None = ...,
        shift: bool | None = ...,
        reply: Reply | None = ...,
        on_retry: OnRetry | None = ...,
        cancel_retry: threading.Event | None = ...,
    ) -> Stream: ...

    def chat(
        self,
        model: str = "",
        messages: Sequence[Any] | None = None,
        *,
        tools: Sequence[Any] | None = None,
        stream: bool = False,
        think: bool | Literal["low", "medium", "high"] | None = None,
        logprobs: bool | None = None,
        top_logprobs: int | None = None,
        format: Any = None,
        options: Mapping[str, Any] | None = None,
        keep_alive: float | str | None = None,
        truncate: bool | None = None,
        shift: bool | None = None,
        reply: Reply | None = None,
        on_retry: OnRetry | None = None,
        cancel_retry: threading.Event | None = None,
    ) -> Reply | Stream:
        """POST /api/chat: answer the last message of ``messages``.

        ``messages`` are dicts or ``Message`` objects (``role``, ``content``, optional ``images``/
        ``thinking``/``tool_calls``/``tool_name``); ``tools`` may be JSON-schema dicts, ``Tool``
        objects or plain Python functions (their signature and Google-style docstring become the
        schema, as ollama-python converts them). ``format`` may be ``"json"``, a schema dict or a
        pydantic model class. ``think`` may be ``True``/``False`` or ``"low"``/``"medium"``/``"high"``.
        ``reply``, ``on_retry``, ``cancel_retry``: as for :meth:`generate`, never sent.
        """
        body = drop_none(
            model=self._model(model),
            messages=[message(m) for m in messages or ()],
            tools=[as_tool(t) for t in tools or ()],
            think=self._think(self._model(model), think),
            **generation_fields(format, options, keep_alive, logprobs, top_logprobs, truncate, shift),
        )
        hooks = {"on_retry": on_retry, "cancel_retry": cancel_retry}
        return self._answer("/api/chat", body, stream, "chat", reply, hooks)

    def embed(
        self,
        model: str = "",
        input: str | Sequence[str] = "",
        truncate: bool | None = None,
        options: Mapping[str, Any] | None = None,
        keep_alive: float | str | None = None,
        dimensions: int | None = None,
    ) -> EmbedResponse:
        """POST /api/embed: ``embeddings`` (L2-normalised) for a string or a list of strings."""
        body = drop_none(
            model=self._model(model),
            input=input,
            truncate=truncate,
            options=plain(options) or None,
            keep_alive=keep_alive,
            dimensions=dimensions,
        )
        return self._json("POST", "/api/embed", body, timeout=self._whole(ANSWER_TIMEOUT), as_type=EmbedResponse)

    def map(
        self,
        first: Any,
        items: Any = None,
        *,
        model: str,
        system: str | None = None,
        format: Any = None,
        options: Mapping[str, Any] | None = None,
        think: bool | Literal["low", "medium", "high"] | None = None,
        keep_alive: float | str | None = None,
        embed: bool = False,
        concurrency: int | Literal["auto"] = "auto",
        hosts: Sequence[Any] | None = None,
        errors: Literal["collect", "raise"] = "collect",
        progress: bool | Callable[..., None] = True,
        cache: bool = True,
    ) -> Any:
        """Many requests at once; answers in input order (see README, "Many prompts at once").

        ``map(prompts)``, ``map("Label: {text}", rows)`` (a template filled from each dict, DataFrame
        row or ``{item}``) or ``map(function, items)``. Returns ``Results`` (a list with ``errors``
        and ``stats``), or a pandas Series on the input's index for a DataFrame or Series.
        ``format``: a JSON schema or pydantic model, rows parsed; ``embed=True``: vectors, batched.
        ``concurrency="auto"`` finds the server's level; ``hosts=[...]`` spreads rows over servers.
        Finished rows are logged as they finish; a rerun sends only the missing (``cache=False``:
        all). A failed row is in ``errors`` unless ``errors="raise"``.

        Usage::

            labels = client.map("Positive or negative? {text}", df, model="llama3.2")
        """
        if _run_map is None:  # set when ollama_nb is imported, which importing this module does first
            raise RuntimeError("ollama_nb._map is not loaded; import ollama_nb")
        return _run_map(
            self, first, items, model=model, system=system, format=format,
            options=dict(options) if options else None, think=think, keep_alive=keep_alive, embed=embed,
            concurrency=concurrency, hosts=hosts, errors=errors, progress=progress, cache=cache,
        )  # fmt: skip

    def embeddings(
        self,
        model: str = "",
        prompt: str | None = None,
        options: Mapping[str, Any] | None = None,
        keep_alive: float | str | None = None,
    ) -> EmbeddingsResponse:
        """POST /api/embeddings (legacy): one un-normalised ``embedding``. Prefer :meth:`embed`."""
        body = drop_none(model=self._model(model), prompt=prompt, options=plain(options) or None, keep_alive=keep_alive)
        return self._json(
            "POST", "/api/embeddings", body, timeout=self._whole(ANSWER_TIMEOUT), as_type=EmbeddingsResponse
        )

    def load(self, model: str, keep_alive: float | str | None = None) -> Reply:
        """Load a model into memory without generating (an empty generate)."""
        return self.generate(model, keep_alive=keep_alive)

    def unload(self, model: str) -> Reply:
        """Free a model's memory now (an empty generate with ``keep_alive=0``)."""
        return self.generate(model, keep_alive=0)

    # -- models -----------------------------------------------------------------------------
    def list(self) -> ListResponse:
        """GET /api/tags: installed models (on Ollama Cloud: the models the API offers)."""
        return self._json("GET", "/api/tags", as_type=ListResponse)

    def show(
        self,
        model: str,
        verbose: bool | None = None,
        *,
        system: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> ShowResponse:
        """POST /api/show: details, capabilities, parameters, template, license, model_info.

        ``system`` and ``options`` are sent as the API's ShowRequest has them: the answer's
        ``system`` and ``parameters`` then show the model as it would run with them.
        """
        body = drop_none(model=self._model(model), verbose=verbose, system=system, options=plain(options) or None)
        return self._json("POST", "/api/show", body, as_type=ShowResponse)

    def ps(self) -> ProcessResponse:
        """GET /api/ps: models loaded in memory, with ``size_vram`` and ``expires_at``."""
        return self._json("GET", "/api/ps", as_type=ProcessResponse)

    def pull(
        self,
        model: str,
        *,
        insecure: bool = False,
        stream: bool = False,
        on_retry: OnRetry | None = None,
        cancel_retry: threading.Event | None = None,
    ) -> ProgressResponse | Stream:
        """POST /api/pull: download a model. ``stream=True`` -> progress lines (``Stream.progress``)."""
        hooks = {"on_retry": on_retry, "cancel_retry": cancel_retry}
        return self._progress("/api/pull", {"model": model, "insecure": insecure}, stream, "pull", hooks)

    def push(
        self,
        model: str,
        *,
        insecure: bool = False,
        stream: bool = False,
        on_retry: OnRetry | None = None,
        cancel_retry: threading.Event | None = None,
    ) -> ProgressResponse | Stream:
        """POST /api/push: upload ``namespace/model:tag`` to ollama.com (needs an account key)."""
        hooks = {"on_retry": on_retry, "cancel_retry": cancel_retry}
        return self._progress("/api/push", {"model": model, "insecure": insecure}, stream, "push", hooks)

    def create(
        self,
        model: str,
        quantize: str | None = None,
        from_: str | None = None,
        files: Mapping[str, str] | None = None,
        adapters: Mapping[str, str] | None = None,
        template: str | None = None,
        license: str | Sequence[str] | None = None,
        system: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        messages: Sequence[Any] | None = None,
        *,
        stream: bool = False,
        on_retry: OnRetry | None = None,
        cancel_retry: threading.Event | None = None,
    ) -> ProgressResponse | Stream:
        """POST /api/create: a new model ``from_`` an installed one (or from uploaded ``files``)."""
        body = drop_none(
            model=model,
            quantize=quantize,
            files=dict(files) if files is not None else None,
            adapters=dict(adapters) if adapters is not None else None,
            template=template,
            license=license,
            system=system,
            parameters=plain(parameters) if parameters is not None else None,
            messages=[message(m) for m in messages] if messages is not None else None,
        )
        if from_ is not None:
            body["from"] = from_
        hooks = {"on_retry": on_retry, "cancel_retry": cancel_retry}
        return self._progress("/api/create", body, stream, "create", hooks)

    def copy(self, source: str, destination: str) -> StatusResponse:
        """POST /api/copy: another name for the same model. Returns ``{"status": "success"}``."""
        self._send("POST", "/api/copy", {"source": source, "destination": destination})
        models_changed()
        return StatusResponse(status="success")

    def delete(self, model: str) -> StatusResponse:
        """DELETE /api/delete: remove a model. Returns ``{"status": "success"}``."""
        self._send("DELETE", "/api/delete", {"model": model})
        models_changed()
        return StatusResponse(status="success")

    def create_blob(self, path: str | Path) -> str:
        """Upload a file as a blob (POST /api/blobs/:digest, as ollama-python does); return its ``sha256:`` digest.

        The file is hashed, then streamed from disk: it is never held in memory whole.
        """
        import hashlib

        sha = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                sha.update(block)
        digest = "sha256:" + sha.hexdigest()
        with open(path, "rb") as f:
            try:
                resp = self._session.post(
                    f"{self.host}/api/blobs/{digest}", data=f, timeout=self._whole(TRANSFER_TIMEOUT)
                )
            except requests.exceptions.ConnectionError as exc:
                raise ServerUnreachable(self.host, str(exc)) from None
        if resp.status_code >= 400:
            self._raise_for_status(resp, "/api/blobs", "")
        return digest

    def version(self) -> Chunk:
        """GET /api/version: ``{"version": "x.y.z"}``."""
        return self._json("GET", "/api/version")

    def balance(self) -> Chunk:
        """GET /api/balance (Ollama Cloud): the plan's ``included`` and ``purchased`` credits."""
        return self._json("GET", "/api/balance")

    def usage(self) -> Chunk:
        """GET /api/usage (Ollama Cloud): requests, tokens and cost (``totals``, ``buckets``)."""
        try:
            return self._json("GET", "/api/usage")
        except ResponseError as err:
            if err.status_code == 404:
                raise ResponseError(
                    err.error,
                    404,
                    hint=(
                        f"{self.host} reports no usage: only Ollama Cloud does. Ask https://ollama.com "
                        "with OLLAMA_API_KEY set (`%ollama usage` does that from a local server)."
                    ),
                ) from None
            raise

    # -- web tools (ollama.com) ---------------------------------------------------------------
    def _web(self, what: str, body: dict[str, Any], kind: type[_C]) -> _C:
        # As ollama-python: straight to ollama.com with the account key, whatever the server is.
        if not (self._policy.web_auth or "").startswith("Bearer "):
            return self._web_through_server(what, body, kind)
        url = f"{self.web_host}/api/web_{what}"
        if not (url.startswith("https://") or is_loopback(self.web_host)):
            raise InsecureKeyError(self.web_host)
        return self._json(
            "POST", f"/api/web_{what}", body, url=url, web=True, as_type=kind
        )

    def _web_through_server(self, what: str, body: dict[str, Any], kind: type[_C]) -> _C:
        """No account key here: a server that ran ``ollama signin`` searches with its own
        credentials (``/api/experimental/web_*``, as Ollama's own client does)."""
        try:
            return self._json("POST", f"/api/experimental/web_{what}", body, as_type=kind)
        except ResponseError as err:
            if err.status_code not in (401, 404, 405):
                raise  # e.g. 403: cloud features are off on that server, which says so
            # ollama-python's ValueError (code catches it), with both ways out.
            raise ValueError(
                f"Authorization header with Bearer token is required for web {what}: set OLLAMA_API_KEY "
                "(or `%ollama login`), or run `ollama signin` on the server so it searches for you."
            ) from None

    def web_search(self, query: str, max_results: int = 3) -> WebSearchResponse:
        """Search the web for a query and return the top results.

        Args:
            query: What to search for.
            max_results: How many results to return (1 to 10, default 3).

        Returns:
            WebSearchResponse: results, each with title, url and content.

        Raises:
            ValueError: without an Ollama account key (OLLAMA_API_KEY or api_key=) when the server
            is not signed in to ollama.com either (a signed-in server searches for you). (The text
            above is also the tool description a model reads when this is passed as
            tools=[ollama_nb.web_search].)
        """
        return self._web("search", {"query": query, "max_results": max_results}, WebSearchResponse)

    def web_fetch(self, url: str) -> WebFetchResponse:
        """Fetch one web page and return its text.

        Args:
            url: The address of the page to fetch.

        Returns:
            WebFetchResponse: the page's title, content and links.

        Raises:
            ValueError: without an Ollama account key, as web_search.
        """
        return self._web("fetch", {"url": url}, WebFetchResponse)


def checked_think(client: Client, model: str, think: Any) -> Any:
    """``think`` as ``client.chat(model, think=think)`` would send it, checked the same way (against
    the model's own levels when its server lists them, asked once), or :class:`InvalidRequest`: for
    a view that refuses a bad level before it starts a turn."""
    return client._think(client._model(model), think)
