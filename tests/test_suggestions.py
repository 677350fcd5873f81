"""Suggestions when declining: questions, each of which the bot really answers."""

from __future__ import annotations

import json

import pytest

from bot.actors.curated import curated_aliases
from bot.ask.answerer import Answerer
from bot.ask.index import SearchIndex
from bot.corpus.loader import load_corpus
from tests.conftest import DATA, ROOT, SEEDS

ARTICLES = load_corpus(SEEDS).articles
UNANSWERABLE = [
    row["question"]
    for name in ("seeds_eval.jsonl", "seeds_eval_more.jsonl")
    for line in (DATA / name).read_text(encoding="utf-8").splitlines()
    if not (row := json.loads(line))["article"]
]


@pytest.fixture(scope="module")
def answerer() -> Answerer:
    aliases = curated_aliases(ROOT / "config" / "actors.yaml")
    return Answerer(SearchIndex(ARTICLES), aliases=aliases)


def _questions(suggestions: tuple[str, ...]) -> list[str]:
    return [s for s in suggestions if s.endswith("?")]


def test_a_declined_question_gets_two_or_three_suggested_questions(answerer: Answerer) -> None:
    answer = answerer.answer("Quelle est la capitale de l'Australie ?")
    assert not answer.answered
    assert 2 <= len(_questions(answer.suggestions)) <= 3


def test_every_suggested_question_is_answered_above_the_threshold(answerer: Answerer) -> None:
    suggested = {s for q in UNANSWERABLE for s in _questions(answerer.answer(q).suggestions)}
    assert suggested
    declined = [s for s in suggested if answerer.answer(s).confidence < answerer.threshold]
    assert declined == []


def test_suggestions_start_from_the_passages_nearest_the_question(answerer: Answerer) -> None:
    index = answerer.index
    africa = next(i for i, p in enumerate(index.passages) if p.section.heading == "Africa Corps")
    first = _questions(tuple(answerer.suggest([], [africa])))[0]
    assert answerer.answer(first).citations[0].section == "Africa Corps"


def test_a_name_only_the_related_links_or_the_directory_know_points_to_the_actor(
    answerer: Answerer,
) -> None:
    answer = answerer.answer("Qui est Jean-Marie Bockel ?")
    assert not answer.answered
    assert "/actor Jean-Marie Bockel" in answer.suggestions
