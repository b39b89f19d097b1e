"""Many requests at once: ``ollama_nb.map``, ``Client.map`` and ``%%ollama --map`` all run here.

- :mod:`.inputs`: the items, read lazily, and the request each becomes (templates, functions);
- :mod:`.lanes`: a host's level of concurrency (fixed, or found by ``Auto``);
- :mod:`.work`: what a worker thread does with one row or one batch of texts to embed;
- :mod:`.runner`: the dispatcher, on the caller's thread (so Ctrl-C lands at once);
- :mod:`.cache`: rows already answered (the store), each finished row written as it finishes;
- :mod:`.results` and :mod:`.progress`: what comes back, and what is shown meanwhile.

Threads over the sync :class:`~ollama_nb.Client`, not asyncio: a notebook cell already runs in an
event loop, the client's retries, errors and stream closing are the sync client's own, and a
worker thread spends its time in a socket read that releases the GIL.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Literal

from .. import _client
from .._errors import InvalidRequest
from .cache import cache_for
from .lanes import Auto, Fixed, Lane
from .results import Results, RowError
from .runner import Run

if TYPE_CHECKING:
    from .._client import Client
    from .inputs import Source

__all__ = ["Results", "RowError", "run_map"]


def _finisher(format: Any) -> tuple[Any, Callable[[Any], Any]]:
    """What to send as ``format`` and how to turn an answer's text into the row's result."""
    if format is None:
        return None, lambda text: text
    if isinstance(format, type) and hasattr(format, "model_json_schema"):
        model: Any = format
        return model.model_json_schema(), lambda text: model.model_validate_json(text)
    return format, lambda text: json.loads(text)


def _lanes(client: Client, hosts: Sequence[Any] | None, concurrency: int | str) -> list[Lane]:
    if concurrency != "auto" and not (isinstance(concurrency, int) and concurrency >= 1):
        raise InvalidRequest(f"concurrency must be 'auto' or a number >= 1, not {concurrency!r}")
    clients = [client] if not hosts else [h if hasattr(h, "chat") else _twin(client, h) for h in hosts]
    return [Lane(c, Auto() if concurrency == "auto" else Fixed(int(concurrency))) for c in clients]


def _hosts(client: Client, hosts: Sequence[Any] | None) -> tuple[Sequence[Any] | None, str]:
    """The servers to spread over, and where they came from: ``hosts=`` as given; else, for the
    shared client (``ollama_nb.map``, ``%%ollama --map`` without ``--host``), the config file's
    ``hosts`` with the shared key, headers and timeout; else the client's own host alone."""
    if hosts:
        return hosts, ""
    from .._config import client_for, configured_hosts, default_client

    listed, source = configured_hosts()
    try:
        if not listed or client is not default_client():
            return None, ""  # a Client made by hand means its own server
        return [client_for(h) for h in listed], source
    except ValueError as exc:
        raise InvalidRequest(f"{source}: hosts: {exc}", hint="Fix that entry of hosts in the file.") from None


def _twin(client: Client, host: str) -> Client:
    return _client.Client(host, timeout=client.timeout, retries=client.retries)


def _bodies(source: Source, model: str, fields: dict[str, Any], system: str | None) -> Iterator[tuple[int, Any]]:
    """(row, the exact request) — also the key a finished row is stored under."""
    for row, request in source.requests():
        if isinstance(request, BaseException):
            yield row, request
        elif source.text_only:
            yield row, {"model": model, "input": request, **fields}
        else:
            messages = request.pop("messages")
            if system is not None:
                messages = [{"role": "system", "content": system}, *messages]
            yield row, {"model": model, "messages": messages, **fields, **request}


def run_map(
    client: Client,
    first: Any,
    items: Any = None,
    *,
    model: str,
    system: str | None = None,
    format: Any = None,
    options: dict[str, Any] | None = None,
    think: bool | str | None = None,
    keep_alive: float | str | None = None,
    embed: bool = False,
    concurrency: int | Literal["auto"] = "auto",
    hosts: Sequence[Any] | None = None,
    errors: Literal["collect", "raise"] = "collect",
    progress: bool | Callable[..., None] = True,
    cache: bool = True,
) -> Any:
    """See :meth:`ollama_nb.Client.map`."""
    if not model:
        raise InvalidRequest("map needs a model", hint="Pass model='llama3.2' (or another from `%ollama list`).")
    if errors not in ("collect", "raise"):
        raise InvalidRequest(f"errors must be 'collect' or 'raise', not {errors!r}")
    # The template rules and the progress view are imported at the first run, not with the package.
    from .inputs import Source
    from .progress import progress_view

    source = Source.of(first, items, embed=embed)
    sent_format, finish = _finisher(None if embed else format)
    given = {"format": sent_format, "options": options, "think": think, "keep_alive": keep_alive}
    fields = {k: v for k, v in given.items() if v is not None}
    if embed:
        fields = {k: v for k, v in fields.items() if k in ("options", "keep_alive")}
    hosts, hosts_from = _hosts(client, hosts)
    lanes = _lanes(client, hosts, concurrency)
    view = progress_view(progress)
    if view is not None:
        view.hosts_from = hosts_from
    run = Run(
        lanes,
        _bodies(source, model, fields, system),
        cache_for(client, cache),
        total=source.total,
        finish=finish,
        embed=embed,
        on_progress=view,
    )
    run.run()
    found = [run.errors[row] for row in sorted(run.errors)]
    if errors == "raise" and found:
        raise found[0].error
    return _results(run.values, found, run.tally.stats(), source.index)


def _results(values: list[Any], errors: list[RowError], stats: dict[str, Any], index: Any) -> Any:
    if index is None:
        return Results(values, errors, stats)
    import pandas as pd  # type: ignore[import-untyped]  # only when the input was pandas already

    series = pd.Series(values, index=index, dtype=object)
    series.attrs.update(errors=errors, stats=stats)
    return series


_client._run_map = run_map  # Client.map's runner (the client layer cannot import this one)
