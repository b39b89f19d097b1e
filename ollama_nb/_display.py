"""Display hooks: how an object of a lower layer shows in a notebook, filled in by a higher one.

A :class:`~ollama_nb.Reply` is merged in the reply layer, which must not reach up to the render
layer; so its ``_repr_mimebundle_`` asks here, and the view layer registers what a Reply looks
like when ``ollama_nb`` is imported (:mod:`ollama_nb._reply_view`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["mimebundle", "register"]

Show = Callable[[Any], dict[str, str]]
_HOOKS: dict[type, Show] = {}


def register(kind: type, show: Show) -> None:
    """Show objects of ``kind`` (and its subclasses) with ``show(obj) -> {mime type: data}``."""
    _HOOKS[kind] = show


def mimebundle(obj: Any) -> dict[str, str] | None:
    """The registered bundle for ``obj``, or None when no layer registered its type."""
    for kind in type(obj).__mro__:
        show = _HOOKS.get(kind)
        if show is not None:
            return show(obj)
    return None
