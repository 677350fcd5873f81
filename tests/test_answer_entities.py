"""Answer types from spaCy's entities (cached by actor discovery): a person or organisation
for "qui", a place for "où"; capitalisation patterns where discovery has not read the
article."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from bot.actors.discovery import (
    CachedEntities,
    RawEntity,
    SpacyExtractor,
    cached_entities,
    discover,
)
from bot.ask.answer_types import NamedEntities
from bot.ask.answerer import Answerer
from bot.ask.index import SearchIndex
from bot.corpus.loader import load_corpus
from bot.corpus.model import Article

ENTITIES = [
    RawEntity("Niger", "LOC"),
    RawEntity("Niamey", "LOC"),
    RawEntity("Abdourahamane Tiani", "PER"),
    RawEntity("Tiani", "PER"),
    RawEntity("Kurt Campbell", "PER"),
    RawEntity("Molly Phee", "PER"),
]


def _article(tmp_path: Path, *sentences: str) -> Article:
    folder = tmp_path / "corpus"
    folder.mkdir(exist_ok=True)
    body = " ".join(sentences)
    (folder / "reunion.md").write_text(f"# Une rencontre\n\n## Le jour dit\n\n{body}\n")
    (article,) = load_corpus(folder).articles
    return article


def _excerpt(
    article: Article, question: str, entities: dict[str, Sequence[RawEntity]] | None
) -> str:
    answerer = Answerer(SearchIndex([article]), threshold=0.0, entities=entities)
    return answerer.answer(question).answer


SIGNED = (
    "L'accord a été signé au Niger, à Niamey.",
    "L'accord a été signé par Abdourahamane Tiani.",
)


def test_who_picks_the_sentence_naming_a_person_spacy_found(tmp_path: Path) -> None:
    article = _article(tmp_path, *SIGNED)
    excerpt = _excerpt(article, "Qui a signé l'accord ?", {article.id: ENTITIES})
    assert excerpt == SIGNED[1]


def test_without_discovery_any_capitalised_name_counts_for_who(tmp_path: Path) -> None:
    article = _article(tmp_path, *SIGNED)
    assert _excerpt(article, "Qui a signé l'accord ?", None) == SIGNED[0]


def test_an_article_discovery_has_not_read_falls_back_to_patterns(tmp_path: Path) -> None:
    article = _article(tmp_path, *SIGNED)
    excerpt = _excerpt(article, "Qui a signé l'accord ?", {"another-article": ENTITIES})
    assert excerpt == SIGNED[0]


def test_where_picks_the_sentence_naming_a_place_spacy_found(tmp_path: Path) -> None:
    met = (
        "La réunion a eu lieu en présence de Kurt Campbell.",  # "de K…" looks like a place
        "La réunion a eu lieu dans la capitale, Niamey.",
    )
    article = _article(tmp_path, *met)
    assert _excerpt(article, "Où a eu lieu la réunion ?", None) == met[0]
    assert _excerpt(article, "Où a eu lieu la réunion ?", {article.id: ENTITIES}) == met[1]


def test_the_names_a_question_asks_about_are_not_its_answer(tmp_path: Path) -> None:
    received = ("Molly Phee a été reçue longuement.", "Molly Phee a été reçue par Tiani.")
    article = _article(tmp_path, *received)
    excerpt = _excerpt(article, "Qui a reçu Molly Phee ?", {article.id: ENTITIES})
    assert excerpt == received[1]


def test_a_name_takes_the_label_spacy_gave_it_most_often_in_the_article() -> None:
    named = NamedEntities(
        {"a": [RawEntity("Niamey", "LOC"), RawEntity("Niamey", "PER"), RawEntity("Niamey", "LOC")]}
    )
    assert named.found("a", "Il vit à Niamey.") == (("LOC", frozenset({"niamey"})),)


def test_names_are_found_as_whole_words_whatever_the_accents_and_case() -> None:
    named = NamedEntities({"a": [RawEntity("Cédéao", "ORG")]})
    assert named.found("a", "La CEDEAO a parlé.") == (("ORG", frozenset({"cedeao"})),)
    assert named.found("a", "Les cédéaoistes ont parlé.") == ()


class Recorded:
    """An extractor that finds fixed entities, and says if it is asked again."""

    signature = "test-extractor/v1"

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, text: str) -> list[RawEntity]:
        self.calls += 1
        return list(ENTITIES)


def test_answering_reads_the_entities_discovery_cached_without_running_spacy(
    tmp_path: Path,
) -> None:
    article = _article(tmp_path, *SIGNED)
    extractor = Recorded()
    discover([article], tmp_path / "actors", extractor)
    found = cached_entities([article], tmp_path / "actors", extractor)
    assert found == {article.id: ENTITIES}
    assert extractor.calls == 1  # discovery's own call, none for answering


def test_an_article_discovery_has_not_read_has_no_cached_entities(tmp_path: Path) -> None:
    article = _article(tmp_path, *SIGNED)
    assert cached_entities([article], tmp_path / "actors", Recorded()) == {}
    assert not (tmp_path / "actors").exists()  # reading writes nothing


def test_the_program_gives_the_answerer_the_entities_of_its_actor_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.corpus.library import Library
    from briefbot.derived import Derived
    from tests.config import make_config

    article = _article(tmp_path, *SIGNED)
    monkeypatch.setattr(SpacyExtractor, "__call__", lambda self, text: list(ENTITIES))
    derived = Derived(make_config(corpus=tmp_path / "corpus", data_dir=tmp_path / "data").core)
    library = derived.library()
    snapshot = library.load()  # serves the answerer; discovery runs in the background
    assert library.settle(30)
    answerer = derived.answerer.of(snapshot)
    assert answerer.entities is not None and answerer.entities.covers(article.id)
    other = derived.answerer.of(Library(tmp_path / "corpus").load()).entities
    assert other is not None and other.covers(article.id)


def test_without_discovery_the_program_s_answerer_uses_patterns(tmp_path: Path) -> None:
    from bot.corpus.library import Library
    from briefbot.derived import Derived
    from tests.config import make_config

    article = _article(tmp_path, *SIGNED)
    derived = Derived(make_config(corpus=tmp_path / "corpus", data_dir=tmp_path / "data").core)
    entities = derived.answerer.of(Library(tmp_path / "corpus").load()).entities
    assert entities is None or not entities.covers(article.id)


def test_entities_discovered_after_the_answerer_was_built_are_used(tmp_path: Path) -> None:
    article = _article(tmp_path, *SIGNED)
    read = CachedEntities([article], tmp_path / "actors", Recorded())
    named = NamedEntities(read)
    assert not named.covers(article.id)  # discovery has not run yet
    discover([article], tmp_path / "actors", Recorded())
    assert named.covers(article.id)
