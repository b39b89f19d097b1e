"""Images for vision models: anything image-like -> the base64 text the server wants.

Accepted: ``Image(value=...)`` objects (ours or ollama-python's); raw ``bytes``; a path (``str`` or
``pathlib.Path``); base64 text; a PIL image; a numpy array
(through PIL). The server takes plain base64, not a ``data:`` URL, so a data URL is cut to its payload.
"""

from __future__ import annotations

import base64
import binascii
import io
import os
from pathlib import Path
from typing import Any

from ._errors import InvalidRequest

_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp")


def image_bytes(image: Any) -> bytes:
    """The image's file bytes (PNG for in-memory images)."""
    if isinstance(image, (bytes, bytearray, memoryview)):
        return bytes(image)
    if isinstance(image, Path):
        return image.read_bytes()
    if isinstance(image, str):
        if image.startswith("data:") and "," in image:
            return base64.b64decode(image.split(",", 1)[1])
        if len(image) < 4096 and (os.path.exists(image) or image.lower().endswith(_IMAGE_SUFFIXES)):
            try:
                return Path(image).expanduser().read_bytes()
            except OSError as exc:
                raise InvalidRequest(f"Cannot read image file {image!r}: {exc.strerror}.") from None
        try:
            return base64.b64decode(image, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidRequest("An image string must be a file path or base64 text; this one is neither.") from None
    if hasattr(image, "save") and hasattr(image, "size"):  # PIL.Image.Image, without importing PIL
        buf = io.BytesIO()
        image.save(buf, format="PNG")
        return buf.getvalue()
    if hasattr(image, "__array_interface__") or hasattr(image, "__array__"):
        try:
            from PIL import Image
        except ImportError:
            raise InvalidRequest("Sending an array as an image needs Pillow: pip install pillow.") from None
        return image_bytes(Image.fromarray(_to_uint8(image)))
    raise InvalidRequest(
        f"Cannot use a {type(image).__name__} as an image: pass bytes, a path, base64 text or a PIL image."
    )


def _to_uint8(array: Any) -> Any:
    import numpy as np

    arr = np.asarray(array)
    if arr.dtype != np.uint8:
        scale = 255.0 if arr.size and float(arr.max()) <= 1.0 else 1.0
        arr = np.clip(arr * scale, 0, 255).astype(np.uint8)
    return arr


def encode_image(image: Any) -> str:
    """Base64 text for the ``images`` field. Base64 text given in is passed through unchanged.

    An ``Image(value=...)`` (ours, or ollama-python's pydantic one, read by duck typing) is its value.
    """
    if not isinstance(image, (str, bytes, bytearray, memoryview, Path)) and type(image).__name__ == "Image":
        value = getattr(image, "value", None)
        if value is not None:
            image = value
    if isinstance(image, str) and not image.startswith("data:"):
        looks_like_path = len(image) < 4096 and (os.path.exists(image) or image.lower().endswith(_IMAGE_SUFFIXES))
        if not looks_like_path:
            image_bytes(image)  # validates, raises a clear error if it is not base64
            return image
    return base64.b64encode(image_bytes(image)).decode("ascii")
