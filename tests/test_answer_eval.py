"""The extended seeds evaluation (English, chat-style and near-topic questions), lexical
and, when the backend is installed, semantic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.actors.curated import curated_aliases
from bot.ask.answerer import Answer, Answerer, ensure_embeddings
from bot.ask.embedder import EmbeddingCache, load_embedder
from bot.ask.index import SearchIndex
from bot.corpus.loader import load_corpus
from tests.conftest import DATA, ROOT, SEEDS

ARTICLES = load_corpus(SEEDS).articles
TITLES = {a.id: a.title for a in ARTICLES}
ROWS = [
    json.loads(line)
    for name in ("seeds_eval.jsonl", "seeds_eval_more.jsonl")
    for line in (DATA / name).read_text(encoding="utf-8").splitlines()
]
ALIASES = curated_aliases(ROOT / "config" / "actors.yaml")


def _right(answer: Answer, row: dict) -> bool:
    if not answer.answered:
        return False
    top = answer.citations[0]
    section = TITLES[row["article"]] if row["section"] == "@lead" else row["section"]
    return (
        top.article == row["article"]
        and top.section == section
        and row["contains"].replace("’", "'") in answer.answer.replace("’", "'")
    )


def _share(answerer: Answerer, variant: str) -> float:
    rows = [r for r in ROWS if r["variant"] == variant]
    if rows[0]["article"] is None:
        return sum(not answerer.answer(r["question"]).answered for r in rows) / len(rows)
    return sum(_right(answerer.answer(r["question"]), r) for r in rows) / len(rows)


def _wrong_and_confident(answerer: Answerer) -> list[str]:
    out = []
    for r in ROWS:
        answer = answerer.answer(r["question"])
        if answer.confidence >= 0.8 and not (r["article"] and _right(answer, r)):
            out.append(r["question"])
    return out


@pytest.fixture(scope="module")
def lexical() -> Answerer:
    return Answerer(SearchIndex(ARTICLES), aliases=ALIASES)


def test_the_set_has_30_near_topic_and_15_english_questions() -> None:
    variants = [r["variant"] for r in ROWS]
    assert variants.count("neartopic") >= 30
    assert variants.count("english") >= 15


def test_lexical_answers_most_english_questions(lexical: Answerer) -> None:
    assert _share(lexical, "english") >= 0.65


def test_lexical_declines_the_unanswerable_questions(lexical: Answerer) -> None:
    assert _share(lexical, "unanswerable") >= 0.9


@pytest.fixture(scope="module")
def semantic(tmp_path_factory: pytest.TempPathFactory) -> Answerer:
    status = load_embedder()
    if status.embedder is None:
        pytest.skip(status.status)
    cache = EmbeddingCache(Path(tmp_path_factory.mktemp("embeddings")), status.embedder.name)
    answerer = Answerer(
        SearchIndex(ARTICLES), aliases=ALIASES, embedder=status.embedder, embeddings=cache
    )
    ensure_embeddings(answerer)
    return answerer


@pytest.mark.slow
def test_semantic_answers_french_questions(semantic: Answerer) -> None:
    french = [r for r in ROWS if r["variant"] in ("clean", "noaccent", "typo")]
    right = sum(_right(semantic.answer(r["question"]), r) for r in french)
    assert right / len(french) >= 0.9


@pytest.mark.slow
def test_semantic_answers_most_english_questions(semantic: Answerer) -> None:
    assert _share(semantic, "english") >= 0.8


@pytest.mark.slow
def test_semantic_declines_more_near_topic_questions_than_lexical(
    semantic: Answerer, lexical: Answerer
) -> None:
    assert _share(semantic, "neartopic") > _share(lexical, "neartopic")


@pytest.mark.slow
def test_semantic_is_rarely_wrong_at_high_confidence(semantic: Answerer) -> None:
    assert len(_wrong_and_confident(semantic)) <= 4
