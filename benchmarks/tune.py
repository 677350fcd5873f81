"""Fit the semantic re-rank's weight on half of PIAF, report it on the other half.

`python -m benchmarks.tune`: the fit half is the questions on even-numbered articles,
the held-out half those on odd-numbered ones (articles, not questions, so a paragraph is
never on both sides). Passage and question vectors come from the benchmark cache.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np

from benchmarks.retrieval import passages, piaf_task
from bot.ask.answerer import Answerer
from bot.ask.index import CANDIDATES, SearchIndex

BENCH_CACHE = "data/bench-embeddings"


def semantic_answerer(articles, cache_dir: str = BENCH_CACHE) -> Answerer:
    from bot.ask.embedder import EmbeddingCache, load_embedder

    status = load_embedder()
    if status.embedder is None:
        raise SystemExit(status.status)
    cache = EmbeddingCache(cache_dir, status.embedder.name)
    answerer = Answerer(SearchIndex(articles), embedder=status.embedder, embeddings=cache)
    answerer.vectors.ensure()  # type: ignore[union-attr]
    answerer.vectors.query_cache = cache  # type: ignore[union-attr]
    return answerer


def fit_half(articles, gold: Sequence[int]) -> np.ndarray:
    """True for questions whose gold passage is in an even-numbered article."""
    owner = [int(a.id.split("-")[1]) for a, _ in passages(articles)]
    return np.array([owner[g] % 2 == 0 for g in gold])


def candidates(answerer: Answerer, questions: Sequence[str]):
    """Per question: lexical top-CANDIDATES passages, their scores and cosines."""
    out = []
    assert answerer.vectors is not None
    for q in questions:
        terms = answerer.index.analyse(q)
        hits = (
            answerer.index.search(terms, k=CANDIDATES, question=q)
            if any(t.term for t in terms)
            else []
        )
        ids = np.array([h.passage for h in hits], dtype=np.int64)
        lex = np.array([h.score for h in hits])
        sims = answerer.vectors.similarities(q, ids) if len(ids) else np.zeros(0)
        out.append((ids, lex, sims))
    return out


def accuracy(cands, gold, mask, weight: float) -> tuple[float, float]:
    top1 = top5 = n = 0
    for (ids, lex, sims), g, m in zip(cands, gold, mask, strict=True):
        if not m:
            continue
        n += 1
        if not len(ids):
            continue
        score = lex / (lex[0] or 1.0) + weight * (sims - sims.max())
        order = ids[np.argsort(-score, kind="stable")]
        top1 += order[0] == g
        top5 += g in order[:5]
    return top1 / max(n, 1), top5 / max(n, 1)


def main() -> int:
    articles, clean, gold = piaf_task(False)
    _, noisy, _ = piaf_task(True)
    answerer = semantic_answerer(articles)
    mask = fit_half(articles, gold)
    cc, cn = candidates(answerer, clean), candidates(answerer, noisy)
    grid = (0.0, 2.5, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 12.0, 15.0, 20.0)
    best = max(grid, key=lambda w: accuracy(cc, gold, mask, w)[0])
    print(
        "| weight | fit top-1 | fit top-5 | held-out top-1 | held-out top-5 "
        "| held-out noisy top-1 | noisy top-5 |"
    )
    print("|---|---|---|---|---|---|---|")
    for w in grid:
        f1, f5 = accuracy(cc, gold, mask, w)
        h1, h5 = accuracy(cc, gold, ~mask, w)
        n1, n5 = accuracy(cn, gold, ~mask, w)
        mark = " **fit**" if w == best else ""
        print(f"| {w} | {f1:.3f} | {f5:.3f} | {h1:.3f} | {h5:.3f} | {n1:.3f} | {n5:.3f} |{mark}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
