"""Which discovered names become actors, how they merge, and how mentions are found.

These tests feed hand-written entities (what spaCy returns on the seeds) so the rules are
checked without loading a model; the real pipeline is exercised in test_actors_discovery.
"""

from __future__ import annotations

import pytest

from bot.actors.curated import parse_curated
from bot.actors.discovery import RawEntity
from bot.actors.mentions import RELATED_SECTION, find_mentions
from bot.actors.model import ActorKind
from bot.actors.resolve import curated_specs, resolve_actors
from bot.corpus.loader import load_corpus, parse_article
from bot.corpus.model import Article
from tests.conftest import SEEDS

WIRE = "003_7eb3dd99e69e60ff"
MARKDOWN = "000_ab94e0541aefd417"


@pytest.fixture(scope="module")
def seed_articles() -> list[Article]:
    return load_corpus(SEEDS).articles


def entities(*pairs: tuple[str, str]) -> list[RawEntity]:
    return [RawEntity(text, label) for text, label in pairs]


# What fr_core_news_sm tags in the wire article, noise included.
WIRE_ENTITIES = entities(
    ("Niamey", "PER"),
    ("Kurt Campbell", "PER"),
    ("Washington", "PER"),
    ("Premier ministre", "MISC"),
    ("Ali Mahamane Lamine Zeine", "PER"),
    ("AFP", "ORG"),
    ("coup d'Etat", "MISC"),
    ("Mohamed Bazoum", "PER"),
    ("Washington", "PER"),
    ("Samedi", "PER"),
    ("Niamey", "LOC"),
    ("Ali Mahamane Lamine", "PER"),
    ("Africa Corps", "MISC"),
    ("Wagner", "PER"),
    ("Abdourahamane Tiani", "PER"),
    ("Vladimir Poutine", "PER"),
    ("Al-Qaïda", "LOC"),
    ("Etat islamique", "ORG"),
)


def names(specs) -> set[str]:
    return {s.name for s in specs}


def test_places_tagged_as_people_are_dropped(seed_articles: list[Article]) -> None:
    found = names(resolve_actors([], {WIRE: WIRE_ENTITIES}, seed_articles))
    assert "Washington" not in found
    assert "Niamey" not in found


def test_titles_days_and_common_phrases_are_dropped(seed_articles: list[Article]) -> None:
    found = names(resolve_actors([], {WIRE: WIRE_ENTITIES}, seed_articles))
    assert {"Samedi", "Premier ministre", "coup d'Etat"}.isdisjoint(found)


def test_people_and_organisations_are_kept_with_a_kind(seed_articles: list[Article]) -> None:
    specs = {s.name: s for s in resolve_actors([], {WIRE: WIRE_ENTITIES}, seed_articles)}
    assert specs["Kurt Campbell"].kind is ActorKind.PERSON
    assert specs["Abdourahamane Tiani"].kind is ActorKind.PERSON
    assert specs["AFP"].kind is ActorKind.ORGANISATION
    assert specs["Africa Corps"].kind is ActorKind.ORGANISATION


def test_a_fragment_merges_into_the_full_discovered_name(seed_articles: list[Article]) -> None:
    found = names(resolve_actors([], {WIRE: WIRE_ENTITIES}, seed_articles))
    assert "Ali Mahamane Lamine Zeine" in found
    assert "Ali Mahamane Lamine" not in found


def test_all_capital_heading_words_are_not_actors() -> None:
    article = parse_article(
        "# LA JUNTE SOURDE\n\nLa junte de Niamey reste sourde. La JUNTE SOURDE décide.\n".encode(),
        "a",
    )
    found = names(
        resolve_actors(
            [], {"a": entities(("LA JUNTE SOURDE", "MISC"), ("JUNTE", "ORG"))}, [article]
        )
    )
    assert found == set()


def test_curated_entries_absorb_discovered_variants(seed_articles: list[Article]) -> None:
    curated = curated_specs(
        parse_curated(
            "- name: Ali Mahamane Lamine Zeine\n  kind: person\n  aliases: [Zeine]\n"
            "- name: Groupe Wagner\n  kind: group\n  aliases: [Wagner]\n"
        ).actors
    )
    specs = resolve_actors(curated, {WIRE: WIRE_ENTITIES}, seed_articles)
    found = names(specs)
    assert "Ali Mahamane Lamine" not in found and "Wagner" not in found
    zeine = next(s for s in specs if s.name == "Ali Mahamane Lamine Zeine")
    assert zeine.curated and zeine.kind is ActorKind.PERSON
    assert ("ali", "mahamane", "lamine") in zeine.forms


def test_a_fragment_of_two_actors_names_is_dropped_not_guessed(
    seed_articles: list[Article],
) -> None:
    curated = curated_specs(
        parse_curated(
            "- name: Mohamed Bazoum\n  kind: person\n- name: Mohamed Toumba\n  kind: person\n"
        ).actors
    )
    specs = resolve_actors(curated, {WIRE: entities(("Mohamed", "PER"))}, seed_articles)
    assert names(specs) == {"Mohamed Bazoum", "Mohamed Toumba"}
    assert all(("mohamed",) not in s.forms for s in specs)


def test_mentions_carry_the_sentence_section_date_and_marked_name(
    seed_articles: list[Article],
) -> None:
    specs = resolve_actors([], {WIRE: WIRE_ENTITIES}, seed_articles)
    table = find_mentions(specs, seed_articles)
    index = next(i for i, s in enumerate(specs) if s.name == "Kurt Campbell")
    (mention,) = table.mentions[index]
    assert mention.article == WIRE and mention.date == "2024-04"
    assert mention.excerpt.startswith("Le numéro deux de la diplomatie américaine, Kurt Campbell")
    ((start, end),) = mention.marks
    assert mention.excerpt[start:end] == "Kurt Campbell"


def test_discovered_people_are_also_found_by_surname() -> None:
    text = "Le ministre Salif Diallo a parlé. Ensuite, Diallo est parti. Un diallo minuscule."
    article = parse_article(text.encode(), "a")
    specs = resolve_actors([], {"a": entities(("Salif Diallo", "PER"))}, [article])
    table = find_mentions(specs, [article])
    assert [m.excerpt for m in table.mentions[0]] == [
        "Le ministre Salif Diallo a parlé.",
        "Ensuite, Diallo est parti.",
    ]


def test_acronyms_only_match_in_capitals(seed_articles: list[Article]) -> None:
    curated = curated_specs(
        parse_curated("- name: État islamique\n  kind: group\n  aliases: [EI]\n").actors
    )
    article = parse_article("Le groupe EI a frappé. Il ei faut rien dire.".encode(), "a")
    table = find_mentions(curated, [article])
    assert [m.excerpt for m in table.mentions[0]] == ["Le groupe EI a frappé."]


def test_names_are_matched_without_accents_or_case(seed_articles: list[Article]) -> None:
    curated = curated_specs(
        parse_curated("- name: Cédéao\n  kind: organisation\n  aliases: [ECOWAS]\n").actors
    )
    table = find_mentions(curated, seed_articles)
    excerpts = [m.excerpt for m in table.mentions[0]]
    assert any("quitter la Cédéao" in e for e in excerpts)
    assert any("sanctions de la Cedeao" in e for e in excerpts)


def test_related_link_titles_are_mentions_in_their_own_section(
    seed_articles: list[Article],
) -> None:
    curated = curated_specs(parse_curated("- name: Antony Blinken\n  kind: person\n").actors)
    (mention,) = find_mentions(curated, seed_articles).mentions[0]
    assert mention.article == MARKDOWN
    assert mention.section == RELATED_SECTION
    assert mention.url is not None and mention.url.startswith("https://www.lemonde.fr/")
    assert mention.in_related_links


def test_same_sentence_weighs_more_than_same_section(seed_articles: list[Article]) -> None:
    curated = curated_specs(
        parse_curated(
            "- name: Kurt Campbell\n  kind: person\n"
            "- name: AFP\n  kind: organisation\n"
            "- name: Mohamed Bazoum\n  kind: person\n"
        ).actors
    )
    table = find_mentions(curated, seed_articles)
    campbell = table.cooccurrence[0]
    assert campbell[1] == 3  # AFP: same sentence (2) and same section (1)
    assert campbell[2] == 1  # Bazoum: same section only
