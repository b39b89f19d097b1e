"""The embedding model's vectors: bag-of-words hashing, so texts sharing words come out similar."""

from __future__ import annotations

import functools
import hashlib
import math
import random
import re

from ._prompt import STOPWORDS


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


@functools.lru_cache(maxsize=4096)
def _word_vector(word: str, dims: int) -> tuple[float, ...]:
    """A fixed pseudo-random dense direction per word (dense, so ``dimensions`` can truncate)."""
    rng = random.Random(hashlib.blake2b(word.encode(), digest_size=16).digest())
    return tuple(rng.gauss(0.0, 1.0) for _ in range(dims))


def raw_embedding(text: str, dims: int) -> list[float]:
    """Bag of words: the sum of each word's direction, so texts sharing words come out similar."""
    vector = [0.0] * dims
    words = [_stem(w) for w in re.findall(r"[a-z0-9]+", text.lower())] or [""]
    for word in words:
        weight = 0.3 if word in STOPWORDS else 1.0
        for i, value in enumerate(_word_vector(word, dims)):
            vector[i] += weight * value
    return vector


def normalize(vector: list[float]) -> list[float]:
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    # float32-like precision, as the real server returns []float32
    return [float(f"{v / norm:.8g}") for v in vector]


def embed(text: str, dims: int, dimensions: int | None = None) -> list[float]:
    vector = raw_embedding(text, dims)
    if dimensions:
        vector = vector[:dimensions]
    return normalize(vector)


def legacy_embedding(text: str, dims: int) -> list[float]:
    """/api/embeddings: the same direction, not normalised (as the legacy route returns)."""
    return [float(f"{v * 0.11:.8g}") for v in raw_embedding(text, dims)]
