"""Passage vectors of one index, and the semantic re-rank of the lexical candidates.

A passage is embedded as its article title, its headings and its body (the title says
what the section is about when the body does not repeat it). The vectors are all-or-
nothing: until every passage has one, the answerer ranks lexically, so a snapshot never
mixes two rankings.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from bot.ask.embedder import Embedder, EmbeddingCache, Progress, embed_cached
from bot.ask.index import SearchIndex

QUERY_CACHE = 256  # question vectors kept in memory (answer then rank ask twice)


def passage_text(index: SearchIndex, passage: int) -> str:
    """What is embedded for a passage: title, own headings, then the body."""
    p = index.passages[passage]
    path = p.section.heading_path
    own = path[1:] if path and path[0] == p.article.title else path
    own = tuple(h for h in own if h and h != p.article.title)
    head = " — ".join((p.article.title, *own))
    body = " ".join(index.sentences[i].text.strip() for i in index.sentence_range(passage))
    return f"{head}\n{body}"


class PassageVectors:
    """The passages' vectors (None until computed) and a small question-vector memo."""

    def __init__(
        self, index: SearchIndex, embedder: Embedder, cache: EmbeddingCache | None = None
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.cache = cache
        self.matrix: np.ndarray | None = None
        # float16: sentences outnumber passages ~5 to 1, and cosines need no more digits
        self.sentence_matrix: np.ndarray | None = None
        self.done = 0
        self.total = len(index.passages) + len(index.sentences)
        self._lock = threading.Lock()
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._memo_lock = threading.Lock()
        # Questions are not cached on disk in service (one vector per question asked);
        # the benchmarks set this to replay thousands of questions.
        self.query_cache: EmbeddingCache | None = None

    @property
    def ready(self) -> bool:
        return self.matrix is not None and self.sentence_matrix is not None

    def ensure(self, progress: Progress | None = None) -> None:
        """Compute (or read from the cache) every passage's and every sentence's vector.
        Blocking: run it in a worker thread; concurrent callers wait for the first one.
        `progress` gets (done, total) over passages and sentences together."""
        with self._lock:
            if self.ready:
                return
            texts = [passage_text(self.index, p) for p in range(len(self.index.passages))]
            sentences = [s.text.strip() for s in self.index.sentences]

            def counter(before: int, size: int) -> Progress:
                def counted(done: int, missing: int) -> None:
                    self.done = before + size - missing + done  # cached ones count as done
                    if progress is not None:
                        progress(self.done, self.total)

                return counted

            matrix = embed_cached(
                self.embedder,
                texts,
                kind="passage",
                cache=self.cache,
                progress=counter(0, len(texts)),
            )
            found = embed_cached(
                self.embedder,
                sentences,
                kind="passage",
                cache=self.cache,
                progress=counter(len(texts), len(sentences)),
            )
            self.done = self.total
            self.sentence_matrix = found.astype(np.float16)
            self.matrix = matrix

    def query(self, question: str) -> np.ndarray:
        """The question's vector, memoised (answer() and rank() ask for it twice)."""
        with self._memo_lock:
            cached = self._queries.get(question)
        if cached is None:
            cached = embed_cached(self.embedder, [question], kind="query", cache=self.query_cache)[
                0
            ]
            with self._memo_lock:
                self._queries[question] = cached
                if len(self._queries) > QUERY_CACHE:
                    self._queries.popitem(last=False)
        return cached

    def sentence_similarities(self, question: str, sentences: Sequence[int]) -> np.ndarray:
        assert self.sentence_matrix is not None
        rows = self.sentence_matrix[np.asarray(sentences, dtype=np.int64)].astype(np.float32)
        return rows @ self.query(question)

    def similarities(self, question: str, passages: Sequence[int]) -> np.ndarray:
        """Cosine similarity of the question to each passage (vectors are normalised)."""
        assert self.matrix is not None
        return self.matrix[np.asarray(passages, dtype=np.int64)] @ self.query(question)
