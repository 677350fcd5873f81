"""Long queries (a headline and a few sentences, blurred) on a generated corpus, at article
level: does our ranking find the article at least as often as plain BM25?

`python -m benchmarks.long_queries --seed 2` prints the table for one corpus seed: the
long-query weights of bot/ask/index.py were tuned on seed 1, seed 2 is held out.
`--stories` generates articles in stories (follow-ups sharing names and background), the
harder case; `--title-share 0` drops the headline (a pasted abstract). A query's target
is its article: a hit on any of its sections is right, and top-5 counts distinct
articles. Plain BM25 is bm25s twice: over sections (the passages every ranker ranks) and
over whole articles (title and text), the natural baseline for finding an article.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import bm25s
import numpy as np
import Stemmer

from benchmarks.datasets import LongQuery, long_queries, synthetic_articles
from benchmarks.retrieval import BM25Baseline, passages
from bot.ask.answerer import Answerer
from bot.ask.index import SearchIndex
from bot.corpus.model import Article

PASSAGES_LOOKED_AT = 30  # enough passages to see five distinct articles


@dataclass(frozen=True)
class LongMetrics:
    method: str
    top1: float  # share of queries whose first article is the target
    top5: float | None  # ... among the first five distinct articles (None: not ranked)
    p50_ms: float
    p95_ms: float
    queries: int
    answered: float | None = None  # share answered rather than declined (answers only)


ArticleRanker = Callable[[str], list[str]]  # a query -> article ids, best first


def distinct(ids: Sequence[str]) -> list[str]:
    """Article ids in first-seen order."""
    return list(dict.fromkeys(ids))


def bm25_articles(articles: Sequence[Article]) -> ArticleRanker:
    """Plain BM25 (bm25s over section texts): the articles of its best sections."""
    baseline = BM25Baseline(articles)
    owner = [a.id for a, _ in passages(articles)]
    return lambda q: distinct([owner[p] for p in baseline.rank(q, PASSAGES_LOOKED_AT)])


def bm25_whole_articles(articles: Sequence[Article]) -> ArticleRanker:
    """Plain BM25 (bm25s, its French stop words, Snowball stems) over whole articles."""
    stemmer = Stemmer.Stemmer("french")

    def tokens(texts: list[str]) -> list[list[str]]:
        return bm25s.tokenize(
            texts, stopwords="fr", stemmer=stemmer, return_ids=False, show_progress=False
        )

    model = bm25s.BM25()
    model.index(
        tokens([f"{a.title}\n" + "\n".join(s.text for s in a.sections) for a in articles]),
        show_progress=False,
    )

    def rank(q: str) -> list[str]:
        ids = model.get_tokens_ids(tokens([q])[0])
        if not ids:
            return []
        scores = model.get_scores(ids)
        top = np.argsort(-scores, kind="stable")[:5]
        return [articles[int(i)].id for i in top if scores[i] > 0]

    return rank


def index_articles(index: SearchIndex) -> ArticleRanker:
    """`SearchIndex.analyse` + `search`: the articles of its best sections."""

    def rank(q: str) -> list[str]:
        hits = index.search(index.analyse(q), k=PASSAGES_LOOKED_AT, question=q)
        return distinct([index.passages[h.passage].article.id for h in hits])

    return rank


def answer_articles(answerer: Answerer, answered: list[bool] | None = None) -> ArticleRanker:
    """`Answerer.answer`, what a user gets: the cited articles (none when it declines);
    whether each query was answered is appended to `answered`."""

    def rank(q: str) -> list[str]:
        answer = answerer.answer(q)
        if answered is not None:
            answered.append(answer.answered)
        return distinct([c.article for c in answer.citations])

    return rank


def evaluate(
    method: str, rank: ArticleRanker, queries: Sequence[LongQuery], *, top5: bool = True
) -> LongMetrics:
    hits1 = hits5 = 0
    latencies = []
    for q in queries:
        started = time.perf_counter()
        ranked = rank(q.question)
        latencies.append(time.perf_counter() - started)
        hits1 += bool(ranked) and ranked[0] == q.article
        hits5 += q.article in ranked[:5]
    n = max(len(queries), 1)
    ms = np.asarray(latencies or [0.0]) * 1000
    return LongMetrics(
        method,
        round(hits1 / n, 4),
        round(hits5 / n, 4) if top5 else None,
        round(float(np.percentile(ms, 50)), 2),
        round(float(np.percentile(ms, 95)), 2),
        len(queries),
    )


def long_table(
    articles: Sequence[Article],
    queries: Sequence[LongQuery],
    index: SearchIndex | None = None,
    answerer: Answerer | None = None,
) -> list[LongMetrics]:
    """Plain BM25, the index and the answerer on the same queries."""
    if index is None:  # not `or`: an empty index is falsy
        index = answerer.index if answerer is not None else SearchIndex(articles)
    if answerer is None:
        answerer = Answerer(index)
    answered: list[bool] = []
    answers = evaluate("briefbot answer", answer_articles(answerer, answered), queries, top5=False)
    return [
        evaluate("BM25 (bm25s) over sections", bm25_articles(articles), queries),
        evaluate("BM25 (bm25s) over articles", bm25_whole_articles(articles), queries),
        evaluate("briefbot SearchIndex", index_articles(index), queries),
        replace(answers, answered=round(sum(answered) / max(len(answered), 1), 4)),
    ]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2, help="corpus seed (1 tuned, 2 held out)")
    parser.add_argument("--sections", type=int, default=100_000, help="about 20,000 articles")
    parser.add_argument("--queries", type=int, default=600)
    parser.add_argument("--stories", action="store_true", help="articles in stories")
    parser.add_argument("--title-share", type=float, default=1.0, help="queries with a title")
    args = parser.parse_args(argv)
    articles = synthetic_articles(args.sections, args.seed, stories=args.stories)
    queries = long_queries(
        articles, args.queries, seed=args.seed + 100, title_share=args.title_share
    )
    print(
        f"{len(articles):,} articles{' in stories' if args.stories else ''}, "
        f"{len(queries)} long queries ({args.title_share:.0%} with the title), "
        f"corpus seed {args.seed}"
    )
    print("| method | top-1 | top-5 | p50 ms | p95 ms | answered |\n|---|---|---|---|---|---|")
    for m in long_table(articles, queries):
        top5 = "—" if m.top5 is None else f"{m.top5:.3f}"
        answered = "" if m.answered is None else f"{m.answered:.3f}"
        print(f"| {m.method} | {m.top1:.3f} | {top5} | {m.p50_ms} | {m.p95_ms} | {answered} |")


if __name__ == "__main__":
    main()
