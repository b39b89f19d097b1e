"""What the kernel remembers about a server's models, forgotten when the models change.

A model's digest (the cache key), its ``think`` levels and its context length are each asked once
and kept. The same name means another model after a pull or create finishes, or a copy or delete,
so the client counts those changes (:func:`models_changed`, called only by the client's own
routes, whichever view or script called them) and every memo is a :class:`ModelMemo`, which empties
itself when the count moved since it was filled. No view has to remember to clear anything.

Usage::

    _levels = ModelMemo()            # a dict
    with _lock:
        known = _levels.fresh().get(model)
"""

from __future__ import annotations

import threading
from typing import TypeVar

__all__ = ["CHANGES_MODELS", "ModelMemo", "models_changed", "models_version"]

#: The progress routes whose success changes what a name means (a push changes nothing here).
CHANGES_MODELS = ("pull", "create")

_K = TypeVar("_K")
_V = TypeVar("_V")
_version = 0
_lock = threading.Lock()


def models_changed() -> None:
    """A server's models changed (a pull or create finished, a copy, a delete): every memo asks again."""
    global _version
    with _lock:
        _version += 1


def models_version() -> int:
    """How many model changes this kernel has seen."""
    return _version


class ModelMemo(dict[_K, _V]):
    """A dict that :meth:`fresh` empties when the models changed since it was last read."""

    def __init__(self) -> None:
        super().__init__()
        self._version = _version

    def fresh(self) -> ModelMemo[_K, _V]:
        """This memo, emptied first if a model changed since it was filled (callers hold their lock)."""
        now = _version
        if now != self._version:
            self.clear()
            self._version = now
        return self
