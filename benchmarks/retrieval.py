"""Retrieval benchmark: our index against two baselines on PIAF, and a synthetic scale test.

Every ranker ranks the same passage list (one per section, articles and sections in
corpus order, exactly `SearchIndex.passages`), so their numbers compare directly:

- `IndexRanker`: briefbot's `SearchIndex` (analyse + search, both timed);
- `FuzzBaseline`: rapidfuzz `token_set_ratio` with `default_process` over whole sections;
- `BM25Baseline`: plain bm25s with its French stop words and the Snowball stemmer.

`python -m benchmarks.retrieval` prints the PIAF table; `--scale N` adds the scale test.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Protocol

import bm25s
import numpy as np
import Stemmer
from rapidfuzz import fuzz, process
from rapidfuzz.utils import default_process

from benchmarks.datasets import (
    PIAF_DIR,
    add_noise,
    piaf_articles,
    piaf_questions,
    synthetic_articles,
    synthetic_questions,
)
from bot.ask.index import SearchIndex
from bot.corpus.model import Article, Section

NOISE_SEED = 7  # the seed every PIAF noisy figure so far was measured with


class Ranker(Protocol):
    """Ranks the shared passage list for a question; returns passage indices, best first."""

    name: str

    def rank(self, question: str, k: int) -> list[int]: ...


RankerFactory = Callable[[Sequence[Article]], Ranker]


def passages(articles: Sequence[Article]) -> list[tuple[Article, Section]]:
    """The passage list every ranker ranks: one per section, in corpus order."""
    return [(article, section) for article in articles for section in article.sections]


class IndexRanker:
    name = "briefbot SearchIndex"

    def __init__(self, articles: Sequence[Article]) -> None:
        self.index = SearchIndex(articles)

    def rank(self, question: str, k: int) -> list[int]:
        terms = self.index.analyse(question)
        return [h.passage for h in self.index.search(terms, k=k, question=question)]


class FuzzBaseline:
    """rapidfuzz token_set_ratio over whole sections, texts pre-processed once."""

    name = "rapidfuzz token_set_ratio"

    def __init__(self, articles: Sequence[Article]) -> None:
        self.choices = [default_process(section.text) for _, section in passages(articles)]

    def rank(self, question: str, k: int) -> list[int]:
        found = process.extract(
            default_process(question),
            self.choices,
            scorer=fuzz.token_set_ratio,
            processor=None,
            limit=k,
        )
        return [i for _, _, i in found]


class BM25Baseline:
    """bm25s as its documentation shows it: its French stop words, Snowball stems."""

    name = "BM25 (bm25s)"

    def __init__(self, articles: Sequence[Article], *, with_title: bool = False) -> None:
        self.stemmer = Stemmer.Stemmer("french")
        texts = [
            f"{article.title}\n{section.text}" if with_title else section.text
            for article, section in passages(articles)
        ]
        if with_title:
            self.name = "BM25 (bm25s) + title"
        self.model = bm25s.BM25()
        self.model.index(self._tokens(texts), show_progress=False)
        self.size = len(texts)

    def _tokens(self, texts: list[str]) -> list[list[str]]:
        return bm25s.tokenize(
            texts, stopwords="fr", stemmer=self.stemmer, return_ids=False, show_progress=False
        )

    def rank(self, question: str, k: int) -> list[int]:
        ids = self.model.get_tokens_ids(self._tokens([question])[0])
        if not ids:
            return []
        scores = self.model.get_scores(ids)
        top = np.argsort(-scores, kind="stable")[: min(k, self.size)]
        return [int(i) for i in top if scores[i] > 0]


@dataclass(frozen=True)
class Metrics:
    top1: float  # share of questions whose gold passage is ranked first
    top5: float  # ... within the first five
    p50_ms: float  # per-question latency of `rank`
    p95_ms: float
    questions: int


def evaluate(ranker: Ranker, questions: Sequence[str], gold: Sequence[int]) -> Metrics:
    """Top-1/top-5 accuracy against gold passage indices, with rank() latency."""
    top1 = top5 = 0
    latencies = []
    for question, expected in zip(questions, gold, strict=True):
        started = time.perf_counter()
        ranked = ranker.rank(question, 5)
        latencies.append(time.perf_counter() - started)
        top1 += bool(ranked) and ranked[0] == expected
        top5 += expected in ranked[:5]
    n = max(len(gold), 1)
    ms = np.asarray(latencies or [0.0]) * 1000
    return Metrics(
        round(top1 / n, 4),
        round(top5 / n, 4),
        round(float(np.percentile(ms, 50)), 2),
        round(float(np.percentile(ms, 95)), 2),
        len(gold),
    )


def piaf_task(
    noisy: bool, *, seed: int = NOISE_SEED, every: int = 1, piaf_dir: Path = PIAF_DIR
) -> tuple[list[Article], list[str], list[int]]:
    """PIAF articles, questions (noisy: accents stripped, typos) and gold passage indices.

    `every` keeps one question in that many (a quicker run); noise is drawn for all
    questions first, so a sample sees the same noisy text as the full run.
    """
    articles = piaf_articles(piaf_dir)
    where = {section.heading_path[-1]: i for i, (_, section) in enumerate(passages(articles))}
    rows = piaf_questions(piaf_dir)
    rng = random.Random(seed)
    texts = [add_noise(r["question"], rng) if noisy else r["question"] for r in rows]
    gold = [where[r["context_id"]] for r in rows]
    return articles, texts[::every], gold[::every]


def evaluate_piaf(
    factory: RankerFactory, noisy: bool, *, every: int = 1, piaf_dir: Path = PIAF_DIR
) -> dict[str, float]:
    """top1, top5, p50_ms, p95_ms (and build_s, questions) of one ranker on PIAF."""
    articles, questions, gold = piaf_task(noisy, every=every, piaf_dir=piaf_dir)
    started = time.perf_counter()
    ranker = factory(articles)
    build = time.perf_counter() - started
    return {**asdict(evaluate(ranker, questions, gold)), "build_s": round(build, 2)}


def piaf_table(
    factories: Sequence[RankerFactory] = (IndexRanker, BM25Baseline, FuzzBaseline),
    *,
    every: int = 1,
) -> list[dict[str, object]]:
    """One row per ranker: clean and noisy PIAF figures."""
    rows = []
    for factory in factories:
        articles, questions, gold = piaf_task(False, every=every)
        started = time.perf_counter()
        ranker = factory(articles)
        build = round(time.perf_counter() - started, 2)
        clean = evaluate(ranker, questions, gold)
        _, noisy_questions, _ = piaf_task(True, every=every)
        noisy = evaluate(ranker, noisy_questions, gold)
        rows.append({"method": ranker.name, "build_s": build, "clean": clean, "noisy": noisy})
    return rows


# -- scale ------------------------------------------------------------------------------


def synthetic_scale(
    n_sections: int, *, queries: int = 300, seed: int = 0, isolated: bool = True
) -> dict[str, object]:
    """Build time, query latency and memory of the index on a synthetic corpus.

    Runs in a fresh process by default so that `peak_mb` (the process's peak resident
    memory: Python, corpus and index) is not polluted by whatever ran before.
    `corpus_mb` is the resident memory once the corpus is generated, before indexing.
    """
    if not isolated:
        return _scale(n_sections, queries, seed)
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(_scale, n_sections, queries, seed).result()


def _resident_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * resource.getpagesize() / 2**20
    except OSError:  # not Linux: the peak so far is the best we have
        return _peak_mb()


def _peak_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def _scale(n_sections: int, queries: int, seed: int) -> dict[str, object]:
    started = time.perf_counter()
    articles = synthetic_articles(n_sections, seed)
    generate = time.perf_counter() - started
    corpus_mb = _resident_mb()
    started = time.perf_counter()
    ranker = IndexRanker(articles)
    build = time.perf_counter() - started
    peak_mb = _peak_mb()
    first = {}
    offset = 0
    for article in articles:
        first[article.id] = offset
        offset += len(article.sections)
    results: dict[str, Metrics] = {}
    for noisy in (False, True):
        asked = synthetic_questions(articles, queries, seed + 1, noisy=noisy)
        gold = [first[q.article] + q.section for q in asked]
        results["noisy" if noisy else "clean"] = evaluate(ranker, [q.question for q in asked], gold)
    return {
        "sections": offset,
        "articles": len(articles),
        "words": len(ranker.index.vocabulary),
        "generate_s": round(generate, 1),
        "build_s": round(build, 1),
        "p50_ms": results["clean"].p50_ms,
        "p95_ms": results["clean"].p95_ms,
        "noisy_p95_ms": results["noisy"].p95_ms,
        "top1": results["clean"].top1,
        "top5": results["clean"].top5,
        "corpus_mb": round(corpus_mb),
        "peak_mb": round(max(peak_mb, _peak_mb())),
    }


# -- report -----------------------------------------------------------------------------


def markdown(rows: list[dict[str, object]]) -> str:
    lines = [
        "| method | top-1 | top-5 | p50 ms | p95 ms | noisy top-1 | noisy top-5 | noisy p95 ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        c, n = row["clean"], row["noisy"]
        assert isinstance(c, Metrics) and isinstance(n, Metrics)
        lines.append(
            f"| {row['method']} | {c.top1:.3f} | {c.top5:.3f} | {c.p50_ms} | {c.p95_ms} "
            f"| {n.top1:.3f} | {n.top5:.3f} | {n.p95_ms} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=int, default=1, help="keep one PIAF question in N")
    parser.add_argument("--scale", type=int, nargs="*", default=[], help="synthetic sizes")
    parser.add_argument("--no-baselines", action="store_true", help="only our index")
    args = parser.parse_args(argv)
    factories: list[RankerFactory] = [IndexRanker]
    if not args.no_baselines:
        factories += [BM25Baseline, FuzzBaseline]
    print(f"PIAF ({len(piaf_questions()) // args.every} questions, all paragraphs ranked)")
    print(markdown(piaf_table(factories, every=args.every)))
    for n in args.scale:
        print(f"\nsynthetic corpus, {n} sections:", synthetic_scale(n))


if __name__ == "__main__":
    main()
