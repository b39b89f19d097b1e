"""The request-side names code written for ollama-python imports: ``Options``, ``Tool``, ``Image``
(``Message`` and the response names live with the answers in :mod:`ollama_nb._reply`).

No pydantic: ``Options`` and ``Tool`` are dicts (read by key or attribute, with ``model_dump()``),
which is what the client sends; ``Image`` holds a value the client encodes when it sends it.
ollama-python's own objects of these names are accepted too, by duck typing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ._reply import Chunk

__all__ = ["Image", "Options", "Tool"]


class Options(Chunk):
    """Model options: ``Options(temperature=0, num_ctx=8192, stop=["\\n\\n"])`` (a dict; any
    option the server knows may be given, see ollama-api.md §7)."""

    __slots__ = ()


class Tool(Chunk):
    """A tool definition: ``Tool(function=Tool.Function(name=..., description=..., parameters=...))``.

    ``type`` defaults to ``"function"``, as in ollama-python.
    """

    __slots__ = ()

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.setdefault("type", "function")

    class Function(Chunk):
        """``name``, ``description`` and ``parameters`` (a JSON schema) of a tool."""

        __slots__ = ()

        class Parameters(Chunk):
            """``type`` ("object"), ``properties``, ``required`` of a tool's arguments."""

            __slots__ = ()

            def __init__(self, *args: Any, **kw: Any) -> None:
                super().__init__(*args, **kw)
                self.setdefault("type", "object")

            class Property(Chunk):
                """One argument: ``type``, ``description``, optional ``enum`` / ``items``."""

                __slots__ = ()


class Image:
    """An image for a vision model: ``Image(value=...)`` with bytes, a path or base64 text.

    The value is encoded when the request is sent (see :func:`ollama_nb._images.encode_image`).
    """

    __slots__ = ("value",)

    def __init__(self, value: str | bytes | Path) -> None:
        self.value = value

    def model_dump(self, **_: Any) -> str:
        """The base64 text the server receives (as ollama-python serializes an Image)."""
        from ._images import encode_image

        return encode_image(self.value)

    def __repr__(self) -> str:
        shown = repr(self.value)
        return f"Image(value={shown if len(shown) <= 44 else shown[:40] + '...'})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Image) and other.value == self.value

    __hash__ = None  # type: ignore[assignment]
