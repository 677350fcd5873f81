"""Fit the confidence model on one half of the evaluation data, report it on the other.

`python -m benchmarks.calibrate [--lexical]` prints the weights to paste into
`bot/ask/calibration.py` and the held-out figures. Data, each split in two halves:

- PIAF questions asked of the whole corpus: right when the top passage is the gold one;
- the same questions asked of the corpus without their article ("gold removed"): any
  answer is wrong, so these teach the model to decline;
- the seeds evaluation rows (tests/data/seeds_eval*.jsonl), near-topic questions included.

PIAF halves are by article (even/odd), seeds halves by a hash of the question.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import pickle
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.entities import entities_for
from benchmarks.retrieval import passages, piaf_task
from benchmarks.tune import BENCH_CACHE, fit_half
from bot.actors.curated import curated_aliases
from bot.ask.answerer import Answerer
from bot.ask.calibration import FEATURE_NAMES, Calibration, Features, fit, stack
from bot.ask.index import SearchIndex
from bot.corpus.loader import load_corpus
from bot.corpus.model import Article

ROOT = Path(__file__).resolve().parent.parent
EVAL_FILES = (
    ROOT / "tests" / "data" / "seeds_eval.jsonl",
    ROOT / "tests" / "data" / "seeds_eval_more.jsonl",
)
BANDS = ((0.0, 0.5, "faible"), (0.5, 0.75, "moyenne"), (0.75, 1.01, "élevée"))
SEEDS_SHARE = 1.0  # the seeds rows together weigh as much as the PIAF rows
ANSWERED = 0.85  # the operating point answers this share of the fit half's PIAF questions
ELEVEE, MOYENNE = 0.92, 0.80  # precision of all answers above the band's lowest probability


@dataclass
class Rows:
    features: list[Features]
    right: list[bool]
    fit: list[bool]
    source: list[str]


def _embedder():
    from bot.ask.embedder import EmbeddingCache, load_embedder

    status = load_embedder()
    if status.embedder is None:
        raise SystemExit(status.status)
    return status.embedder, EmbeddingCache(BENCH_CACHE, status.embedder.name)


def make_answerer(articles: Sequence[Article], semantic: bool, aliases=None) -> Answerer:
    entities = entities_for(articles)
    if not semantic:
        return Answerer(SearchIndex(articles), aliases=aliases, entities=entities)
    embedder, cache = _embedder()
    answerer = Answerer(
        SearchIndex(articles),
        aliases=aliases,
        embedder=embedder,
        embeddings=cache,
        entities=entities,
    )
    assert answerer.vectors is not None
    answerer.vectors.ensure()
    answerer.vectors.query_cache = cache
    return answerer


def _none_features() -> Features:
    return Features(0.0, 0.0, 0.0, 1.0, False, False, 0.0, None, None, missing=1.0)


def seeds_rows(semantic: bool) -> Rows:
    articles = load_corpus(ROOT / "seeds").articles
    titles = {a.id: a.title for a in articles}
    answerer = make_answerer(articles, semantic, curated_aliases(ROOT / "config" / "actors.yaml"))
    out = Rows([], [], [], [])
    for path in EVAL_FILES:
        for line in path.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            f = answerer.features(r["question"]) or _none_features()
            right = False
            if r["article"]:
                section = titles[r["article"]] if r["section"] == "@lead" else r["section"]
                best = answerer._best(r["question"])[2]
                if best is not None:
                    p = answerer.index.passages[best.passage]
                    excerpt = " ".join(answerer.index.sentences[i].text for i in best.sentences)
                    right = (
                        p.article.id == r["article"]
                        and p.section.label == section
                        and r["contains"].replace("’", "'") in excerpt.replace("’", "'")
                    )
            out.features.append(f)
            out.right.append(right)
            out.fit.append(hashlib.sha1(r["question"].encode()).digest()[0] % 2 == 0)
            out.source.append("seeds " + ("answerable" if r["article"] else "unanswerable"))
    return out


def piaf_rows(semantic: bool, every: int = 1) -> Rows:
    articles, questions, gold = piaf_task(False, every=every)
    owner = [a.id for a, _ in passages(articles)]
    half = fit_half(articles, gold)
    out = Rows([], [], [], [])
    answerer = make_answerer(articles, semantic)
    for q, g, h in zip(questions, gold, half, strict=True):
        best = answerer._best(q)[2]
        out.features.append(best.features if best and best.features else _none_features())
        out.right.append(best is not None and best.passage == g)
        out.fit.append(bool(h))
        out.source.append("PIAF")
    by_article: dict[str, list[int]] = defaultdict(list)
    for i, g in enumerate(gold):
        by_article[owner[g]].append(i)
    for article_id, ids in by_article.items():
        rest = [a for a in articles if a.id != article_id]
        removed = make_answerer(rest, semantic)
        for i in ids:
            f = removed.features(questions[i]) or _none_features()
            out.features.append(f)
            out.right.append(False)
            out.fit.append(bool(half[i]))
            out.source.append("PIAF gold removed")
    return out


def _lowest(p: np.ndarray, y: np.ndarray, precision: float) -> float:
    """Lowest probability above which the answers are right at least `precision` of the
    time."""
    for t in np.unique(np.round(p, 3)):
        above = p >= t
        if above.any() and y[above].mean() >= precision:
            return float(t)
    return 1.0


def with_knots(raw: Calibration, rows: Rows, threshold: float) -> Calibration:
    """The fitted weights with knots measured on the fit half: the operating point answers
    ANSWERED of its PIAF questions; élevée and moyenne start where the precision of all
    answers above reaches ELEVEE and MOYENNE."""
    fit_rows = [i for i, f in enumerate(rows.fit) if f]
    p = np.array([raw.probability(rows.features[i]) for i in fit_rows])
    y = np.array([rows.right[i] for i in fit_rows])
    piaf = np.array([rows.source[i] == "PIAF" for i in fit_rows])
    operating = float(np.quantile(p[piaf], 1 - ANSWERED))
    moyenne = max(_lowest(p, y, MOYENNE), operating + 0.01)
    elevee = max(_lowest(p, y, ELEVEE), moyenne + 0.01)
    knots = ((0.0, 0.0), (operating, threshold), (moyenne, 0.5), (elevee, 0.75), (1.0, 1.0))
    return Calibration(raw.weights, knots, raw.focus_gate, raw.unknown_gate)


def report(model: Calibration, rows: Rows, threshold: float, held_out: bool) -> list[str]:
    lines = []
    keep = [f != held_out for f in rows.fit]
    p = np.array([model.confidence(f) for f, k in zip(rows.features, keep, strict=True) if k])
    y = np.array([r for r, k in zip(rows.right, keep, strict=True) if k])
    src = [s for s, k in zip(rows.source, keep, strict=True) if k]
    for source in sorted(set(src)):
        m = np.array([s == source for s in src])
        answered = p[m] >= threshold
        lines.append(
            f"{source}: n={m.sum()}, answered {answered.mean():.3f}, "
            f"right when answered {y[m][answered].mean() if answered.any() else float('nan'):.3f}, "
            f"right at all {y[m].mean():.3f}"
        )
    for lo, hi, label in BANDS:
        m = (p >= lo) & (p < hi)
        lines.append(
            f"band {label} [{lo}, {min(hi, 1.0)}): n={m.sum()}, precision "
            f"{y[m].mean() if m.any() else float('nan'):.3f}, mean confidence "
            f"{p[m].mean() if m.any() else float('nan'):.3f}"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lexical", action="store_true", help="fit the lexical-only model")
    parser.add_argument("--every", type=int, default=1, help="keep one PIAF question in N")
    parser.add_argument("--threshold", type=float, default=0.35)
    parser.add_argument("--reuse", action="store_true", help="reuse the last collected rows")
    parser.add_argument("--seeds-share", type=float, default=SEEDS_SHARE)
    parser.add_argument("--l2", type=float, default=1.0)
    parser.add_argument("--drop", nargs="*", default=[], help="features left out of the fit")
    args = parser.parse_args(argv)
    semantic = not args.lexical
    saved = ROOT / "data" / f"calibration-{'semantic' if semantic else 'lexical'}.pickle"
    if args.reuse and saved.exists():
        rows = pickle.loads(saved.read_bytes())
    else:
        started = time.perf_counter()
        seeds = seeds_rows(semantic)
        piaf = piaf_rows(semantic, args.every)
        print(f"collected in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        rows = Rows(
            seeds.features + piaf.features,
            seeds.right + piaf.right,
            seeds.fit + piaf.fit,
            seeds.source + piaf.source,
        )
        saved.parent.mkdir(exist_ok=True)
        saved.write_bytes(pickle.dumps(rows))
    x, y = stack(rows.features), np.array(rows.right, dtype=float)
    for name in args.drop:
        x[:, FEATURE_NAMES.index(name)] = 0.0
    fit_mask = np.array(rows.fit)
    is_seed = np.array([s.startswith("seeds") for s in rows.source])
    weight = np.ones(len(y))
    n_seed, n_piaf = (fit_mask & is_seed).sum(), (fit_mask & ~is_seed).sum()
    weight[is_seed] = args.seeds_share * n_piaf / max(n_seed, 1)
    raw = fit(x[fit_mask], y[fit_mask], sample_weight=weight[fit_mask], l2=args.l2)
    raw = dataclasses.replace(raw, unknown_gate=semantic)
    model = with_knots(raw, rows, args.threshold)
    print("weights:", tuple(round(w, 3) for w in model.weights))
    print("knots:", tuple((round(a, 4), b) for a, b in model.knots))
    print("\n## fit half")
    print("\n".join(report(model, rows, args.threshold, held_out=False)))
    print("\n## held-out half")
    print("\n".join(report(model, rows, args.threshold, held_out=True)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
