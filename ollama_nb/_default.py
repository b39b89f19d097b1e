"""ollama-python's module-level functions (``ollama.chat(...)``), on a shared default client.

``import ollama_nb as ollama; ollama.chat("llama3.2", messages=[...])`` works as with ollama-python.
The client is made on first use, not at import (so ``OLLAMA_HOST`` set later still counts), and is
the one the magics and widgets share (:func:`ollama_nb._config.default_client`): ``%ollama config
host=...`` moves these calls too.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Any

from ._client import Client
from ._config import default_client
from ._store.turns import logged_call

__all__ = ["NAMES", "OURS", "bound"]

#: The functions ollama-python's package offers at module level.
NAMES = (
    "generate",
    "chat",
    "embed",
    "embeddings",
    "pull",
    "push",
    "create",
    "delete",
    "list",
    "copy",
    "show",
    "ps",
    "web_search",
    "web_fetch",
)


#: Module functions of our own, kept out of ``__all__`` as ``list`` is (``map`` would shadow a builtin).
OURS = ("map",)


def bound(name: str) -> Callable[..., Any]:
    """``Client.<name>`` called on the default client, with that method's signature and docstring."""
    method = getattr(Client, name)

    def call(*args: Any, **kwargs: Any) -> Any:
        if name in ("chat", "generate"):  # a turn: written to the log like a cell's
            return logged_call(default_client(), name, args, kwargs)
        return getattr(default_client(), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = method.__doc__
    call.__module__ = "ollama_nb"
    # Resolved annotations (not the text `from __future__ import annotations` leaves), so passing
    # these functions as tools (tools=[ollama.web_search]) gives the right JSON types.
    try:
        hints = typing.get_type_hints(method)
    except Exception:  # a name only importable for type checkers: keep the text
        hints = {}
    signature = inspect.signature(method)
    params = [
        p.replace(annotation=hints.get(p.name, p.annotation)) for p in signature.parameters.values() if p.name != "self"
    ]
    returns = hints.get("return", signature.return_annotation)
    call.__signature__ = signature.replace(parameters=params, return_annotation=returns)  # type: ignore[attr-defined]
    call.__annotations__ = {k: v for k, v in hints.items() if k in {p.name for p in params} or k == "return"}
    return call
