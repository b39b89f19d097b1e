"""How the emulator (ollama_nb.testing) says what it is, so ``%ollama doctor`` can tell it from a real Ollama.

A real server's ``GET /api/version`` is ``{"version": "0.x.y"}``; the emulator adds
:data:`VERSION_FIELD` naming itself, and sends :data:`HEADER` on every response (for ``curl -I``).
Clients ignore both.

Usage::

    from ollama_nb._identity import emulator_name
    emulator_name(client.version())  # "ollama_nb.testing" for the emulator, "" for a real Ollama
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["HEADER", "NAME", "VERSION_FIELD", "emulator_name"]

NAME = "ollama_nb.testing"
VERSION_FIELD = "emulator"
HEADER = "X-Ollama-Emulator"


def emulator_name(version: Any) -> str:
    """The emulator's name from an ``/api/version`` answer, or "" when the server is not ours."""
    value = version.get(VERSION_FIELD) if isinstance(version, Mapping) else None
    return NAME if value == NAME else ""
