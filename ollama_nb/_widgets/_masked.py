"""KeyMasked: a widget mixin that masks known API keys in every state it syncs.

A widget's synced traitlets leave the kernel (to every view) and JupyterLab saves them in the
notebook, so this is the last boundary before a server's echo of the key would be written to disk.
``get_state`` is the one method ipywidgets serialises through (comm open, every update, and the
manager state an export saves). Errors are redacted where they are made (:mod:`ollama_nb._errors`);
this catches what arrives as ordinary text (an answer, a model name, a show field).
"""

from __future__ import annotations

from typing import Any

from .._redact import mask_data

__all__ = ["KeyMasked"]


class KeyMasked:
    """Put it first among the bases: ``class ChatWidget(KeyMasked, anywidget.AnyWidget)``."""

    def get_state(self, key: Any = None, drop_defaults: bool = False) -> dict[str, Any]:
        state: dict[str, Any] = super().get_state(key, drop_defaults)  # type: ignore[misc]
        return mask_data(state)
