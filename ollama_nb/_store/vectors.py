"""Embedding vectors in the log, so ``ollama_nb.map(embed=True)`` resumes as a chat batch does.

A row of table ``embeddings`` (``schema.m004_embeddings``) is one text's vector, keyed by the
SHA-256 of model, model digest, the text and its options (the same digest rule as a turn's cache
key: one ``/api/tags`` per host, asked again after the models change). The vector is stored as
little-endian float32 bytes: Ollama computes embeddings in float32 and sends each as the shortest
decimal of that float32, so nothing is lost, and a row of 1 024 dimensions takes 4 KiB. The
writer thread writes it; nothing here blocks a worker.

Usage::

    vector = logged_vector(client, {"model": "nomic-embed-text", "input": "cats"})   # or None
    log_vector(client, body, vector)
"""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3
import sys
import time
from array import array
from collections.abc import Sequence
from typing import Any

from .._redact import mask_data
from . import reader, writer
from .turns import digest

__all__ = ["float32", "log_vector", "logged_vector", "pack", "unpack", "vector_key"]

#: What makes two embedding requests the same (``keep_alive`` and the batching do not).
KEY_FIELDS = ("model", "input", "options", "truncate", "dimensions")
_SWAP = sys.byteorder == "big"  # the file is little-endian whatever machine wrote it


def vector_key(body: dict[str, Any], model_digest: str) -> str:
    parts = {k: body.get(k) for k in KEY_FIELDS if body.get(k) not in (None, {}, [])}
    parts["digest"] = model_digest
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(b"embed:" + text.encode()).hexdigest()


def float32(vector: Sequence[float]) -> list[float]:
    """The float32 values a vector's decimals stand for (what the server computed, and what the
    log gives back), so a fresh row and a resumed one are the same numbers."""
    return array("f", vector).tolist()


def pack(vector: Sequence[float]) -> bytes:
    values = array("f", vector)
    if _SWAP:
        values.byteswap()
    return values.tobytes()


def unpack(blob: bytes) -> list[float]:
    values = array("f")
    values.frombytes(blob)
    if _SWAP:
        values.byteswap()
    return values.tolist()


def logged_vector(client: Any, body: dict[str, Any]) -> list[float] | None:
    """The logged vector of exactly this text, model and options, or None (ask the server)."""
    model_digest = digest(client, body["model"], ask=True)
    conn = reader() if model_digest else None
    if conn is None or model_digest is None:
        return None
    try:
        row = conn.execute(
            "SELECT dims, vector FROM embeddings WHERE request_key = ?", (vector_key(body, model_digest),)
        ).fetchone()
    except sqlite3.Error:  # a log that cannot be read answers nothing; the model still can
        return None
    return None if row is None else _whole(row[0], row[1])


def _whole(dims: Any, blob: Any) -> list[float] | None:
    """The vector of a logged row, or None when the row is damaged (the file was edited, or a
    write was cut): asked again, and the fresh vector replaces it."""
    if not isinstance(dims, int) or dims <= 0 or not isinstance(blob, bytes) or len(blob) != 4 * dims:
        return None
    vector = unpack(blob)
    return vector if all(map(math.isfinite, vector)) else None


def log_vector(client: Any, body: dict[str, Any], vector: Sequence[float]) -> None:
    """Queue ``vector`` for the log (nothing when the store is off or the model's digest unknown)."""
    model_digest = digest(client, body["model"], ask=True)
    log = writer()
    if log is None or model_digest is None:
        return
    model = mask_data(body["model"])  # as a turn's model is stored
    sql = "INSERT OR REPLACE INTO embeddings (request_key, created, host, model, dims, vector) VALUES (?,?,?,?,?,?)"
    params = (vector_key(body, model_digest), time.time(), client.host, model, len(vector), pack(vector))
    log.put(("sql", sql, params))
