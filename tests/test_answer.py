"""The Q&A core on the seeds: the evaluation set, the excerpt contract, declining."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.ask.answerer import MAX_EXCERPT_CHARS, Answerer
from bot.ask.index import SearchIndex
from bot.chat.serial import to_json
from bot.corpus.loader import load_corpus
from tests.conftest import DATA, SEEDS

EVAL = [json.loads(line) for line in (DATA / "seeds_eval.jsonl").read_text().splitlines()]
ARTICLES = load_corpus(SEEDS).articles
TITLES = {a.id: a.title for a in ARTICLES}


@pytest.fixture(scope="module")
def answerer() -> Answerer:
    return Answerer(SearchIndex(ARTICLES))


def _expected_section(row: dict) -> str:
    return TITLES[row["article"]] if row["section"] == "@lead" else row["section"]


def _is_correct(answerer: Answerer, row: dict) -> bool:
    answer = answerer.answer(row["question"])
    if not answer.answered:
        return False
    top = answer.citations[0]
    return (
        top.article == row["article"]
        and top.section == _expected_section(row)
        and row["contains"].replace("’", "'") in answer.answer.replace("’", "'")
    )


def test_evaluation_set_covers_both_articles_every_section_and_variants() -> None:
    answerable = [r for r in EVAL if r["article"]]
    assert len(EVAL) >= 40
    assert len([r for r in EVAL if not r["article"]]) >= 8
    sections = {(r["article"], _expected_section(r)) for r in answerable}
    every = {(a.id, s.label) for a in ARTICLES for s in a.sections}
    assert sections == every
    assert {"typo", "noaccent", "english"} <= {r["variant"] for r in EVAL}


def test_top1_accuracy_on_the_evaluation_set_is_at_least_90_percent(answerer: Answerer) -> None:
    answerable = [r for r in EVAL if r["article"]]
    wrong = [r["question"] for r in answerable if not _is_correct(answerer, r)]
    accuracy = 1 - len(wrong) / len(answerable)
    assert accuracy >= 0.9, f"top-1 {accuracy:.2f}; wrong: {wrong}"


def test_at_least_90_percent_of_unanswerable_questions_are_declined(answerer: Answerer) -> None:
    unanswerable = [r["question"] for r in EVAL if not r["article"]]
    answered = [q for q in unanswerable if answerer.answer(q).answered]
    assert 1 - len(answered) / len(unanswerable) >= 0.9, f"answered: {answered}"


def test_capital_of_australia_gets_no_confident_answer(answerer: Answerer) -> None:
    answer = answerer.answer("Quelle est la capitale de l'Australie ?")
    assert not answer.answered
    assert answer.confidence < answerer.threshold
    assert answer.answer == "" and answer.citations == ()


def test_declined_answer_suggests_questions_the_articles_answer(answerer: Answerer) -> None:
    answer = answerer.answer("Quelle est la capitale de l'Australie ?")
    assert 1 <= len(answer.suggestions) <= 4
    for suggestion in answer.suggestions:
        assert suggestion.endswith("?")
        assert answerer.answer(suggestion).answered


def test_a_stem_collision_does_not_answer_a_question_about_another_name(
    answerer: Answerer,
) -> None:
    assert not answerer.answer("Qui est le président de la France ?").answered


def test_excerpt_is_at_most_two_sentences_and_450_characters(answerer: Answerer) -> None:
    for row in EVAL:
        answer = answerer.answer(row["question"])
        assert len(answer.answer) <= MAX_EXCERPT_CHARS
        if answer.answered:
            sentences = [s for s in SearchIndex(ARTICLES).sentences if s.text in answer.answer]
            assert 1 <= len(sentences) <= 2


def test_citation_names_article_title_section_and_date(answerer: Answerer) -> None:
    answer = answerer.answer("Quand les instructeurs russes sont-ils arrivés à Niamey ?")
    top = answer.citations[0]
    assert (top.article, top.section, top.date) == (
        "003_7eb3dd99e69e60ff",
        "Africa Corps",
        "2024-04",
    )
    assert top.title == TITLES["003_7eb3dd99e69e60ff"]
    assert "10 avril" in answer.answer


def test_confidence_is_between_zero_and_one(answerer: Answerer) -> None:
    for row in EVAL[:10]:
        assert 0.0 <= answerer.answer(row["question"]).confidence <= 1.0


def test_typos_and_missing_accents_still_find_the_passage(answerer: Answerer) -> None:
    clean = answerer.answer("Qui est le général Tiani ?")
    noisy = answerer.answer("qui est le general tiany")
    assert noisy.answered and noisy.citations[0] == clean.citations[0]


def test_question_made_only_of_stop_words_is_declined(answerer: Answerer) -> None:
    answer = answerer.answer("Qui est-ce que c'est ?")
    assert not answer.answered and answer.confidence == 0.0


def test_answer_json_has_the_contract_fields(answerer: Answerer) -> None:
    data = to_json(answerer.answer("Qui est Molly Phee ?"))
    assert set(data) == {"question", "answered", "answer", "confidence", "citations", "suggestions"}
    assert set(data["citations"][0]) == {"article", "title", "section", "date", "url"}


def test_new_article_in_the_corpus_is_answerable(tmp_path: Path) -> None:
    (tmp_path / "news.md").write_text(
        "---\ndate: 2025-02-01\nurl: https://example.org/volcan\n---\n"
        "# Éruption en Islande\n\nLe volcan Fagradalsfjall est entré en éruption samedi.\n",
        encoding="utf-8",
    )
    answer = Answerer(SearchIndex(load_corpus(tmp_path).articles)).answer(
        "Quel volcan est entré en éruption ?"
    )
    assert answer.answered
    assert answer.citations[0].url == "https://example.org/volcan"
    assert "Fagradalsfjall" in answer.answer
