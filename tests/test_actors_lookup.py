"""Looking actors up on the seeds: spelling-tolerant, never confidently wrong."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.actors import ActorDirectory, build_directory
from bot.actors.model import Actor, ActorKind, Mention
from bot.chat.serial import to_json
from bot.corpus.loader import load_corpus
from tests.conftest import SEEDS

ROOT = Path(__file__).resolve().parent.parent
ACTORS_YAML = ROOT / "config" / "actors.yaml"
NEW_ARTICLE = ROOT / "tests" / "data" / "actors" / "010_forum_niamey.md"
WIRE = "003_7eb3dd99e69e60ff"
MARKDOWN = "000_ab94e0541aefd417"


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> ActorDirectory:
    cache = tmp_path_factory.getbasetemp() / "actors-cache"  # shared with other actor tests
    build = build_directory(load_corpus(SEEDS).articles, ACTORS_YAML, cache)
    assert build.problems == []
    return build.directory


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("Tiani", "Abdourahamane Tiani"),
        ("tiany", "Abdourahamane Tiani"),
        ("abdourahamane tiani", "Abdourahamane Tiani"),
        ("le général Tiani", "Abdourahamane Tiani"),
        ("Cedeao", "Cédéao"),
        ("ECOWAS", "Cédéao"),
        ("Phee", "Molly Phee"),
        ("molly", "Molly Phee"),
        ("Campbell", "Kurt Campbell"),
        ("zeine", "Ali Mahamane Lamine Zeine"),
        ("Bazoum", "Mohamed Bazoum"),
        ("Wagner", "Groupe Wagner"),
        ("africa corps", "Africa Corps"),
        ("State Department", "Département d'État américain"),
        ("junte", "Junte nigérienne"),
        ("Poutin", "Vladimir Poutine"),
        ("BLINKEN!", "Antony Blinken"),
        ("Molly Fee", "Molly Phee"),  # the one candidate offered: spelt by ear
        ("Ali", "Ali Mahamane Lamine Zeine"),  # the one name with that word
    ],
)
def test_a_name_alias_typo_or_missing_accent_finds_the_actor(
    directory: ActorDirectory, query: str, name: str
) -> None:
    lookup = directory.lookup(query)
    assert lookup.found
    assert lookup.actor.name == name
    assert lookup.candidates == ()


@pytest.mark.parametrize(
    "query",
    [
        "Emmanuel Dupont",
        "Angela Merkel",
        "Xi Jinping",
        "Mohamed Dupont",
        "Niamey",
        "Mahamat",  # two letters off the Premier ministre's "Mahamane": someone else
        "Kurz",  # one letter off "Kurt": short names must be exact
    ],
)
def test_a_name_the_articles_do_not_contain_is_not_found(
    directory: ActorDirectory, query: str
) -> None:
    lookup = directory.lookup(query)
    assert not lookup.found
    assert lookup.actor is None
    assert lookup.candidates == ()
    assert lookup.suggestions  # the closest names instead


def test_a_near_miss_suggests_the_closest_name(directory: ActorDirectory) -> None:
    assert directory.lookup("Emmanuel Dupont").suggestions[0] == "Emmanuel Macron"


def test_an_empty_query_is_not_found_and_raises_nothing(directory: ActorDirectory) -> None:
    for query in ("", "   ", "?!…", "-"):
        lookup = directory.lookup(query)
        assert not lookup.found and lookup.actor is None


def test_several_close_actors_are_offered_as_choices(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    shutil.copy(NEW_ARTICLE, corpus)
    cache = tmp_path_factory.getbasetemp() / "actors-cache"
    directory = build_directory(load_corpus(corpus).articles, ACTORS_YAML, cache).directory
    lookup = directory.lookup("Mohamed")
    assert not lookup.found and lookup.actor is None
    assert set(lookup.candidates) == {"Mohamed Bazoum", "Mohamed Karimou Saley"}
    assert directory.lookup("Mohamed Bazoum").actor.name == "Mohamed Bazoum"


def test_a_word_of_a_description_is_not_a_name(directory: ActorDirectory) -> None:
    # "américain" is in "Département d'État américain" but does not name it.
    assert not directory.lookup("américain").found


def test_a_lookup_returns_the_card_of_the_actor(directory: ActorDirectory) -> None:
    actor = directory.lookup("Campbell").actor
    assert actor.kind is ActorKind.PERSON
    assert actor.description  # curated role
    assert "Campbell" in actor.aliases
    (mention,) = actor.mentions
    assert (mention.article, mention.date) == (WIRE, "2024-04")
    assert mention.section == mention.title  # the lead section of the wire article
    ((start, end),) = mention.marks
    assert mention.excerpt[start:end] == "Kurt Campbell"
    assert actor.first_date == actor.last_date == "2024-04"


def test_related_actors_are_those_named_in_the_same_sentences_first(
    directory: ActorDirectory,
) -> None:
    related = directory.lookup("Campbell").actor.related
    # Zeine and the AFP share Campbell's sentence; Bazoum only his section.
    assert set(related[:4]) >= {"Ali Mahamane Lamine Zeine", "AFP"}
    assert related.index("AFP") < related.index("Mohamed Bazoum")


def test_every_mention_is_listed_across_articles(directory: ActorDirectory) -> None:
    bazoum = directory.lookup("Bazoum").actor
    assert {m.article for m in bazoum.mentions} == {WIRE, MARKDOWN}
    for m in bazoum.mentions:
        assert any(m.excerpt[s:e] == "Mohamed Bazoum" for s, e in m.marks)


def test_names_in_related_link_titles_stay_findable(directory: ActorDirectory) -> None:
    blinken = directory.lookup("Blinken").actor
    (mention,) = blinken.mentions
    assert mention.article == MARKDOWN
    assert mention.url and "antony-blinken" in mention.url


def test_the_json_follows_the_cli_contract(directory: ActorDirectory) -> None:
    data = to_json(directory.lookup("Tiani"))
    assert set(data) == {"query", "found", "actor", "candidates", "suggestions"}
    actor = data["actor"]
    assert {"name", "kind", "description", "aliases", "mentions", "related"} <= set(actor)
    assert {"article", "title", "section", "date", "excerpt"} <= set(actor["mentions"][0])
    assert actor["kind"] == "person"
    missing = to_json(directory.lookup("Xi Jinping"))
    assert missing["actor"] is None and missing["found"] is False


def test_autocomplete_completes_a_prefix_fuzzily_and_without_accents(
    directory: ActorDirectory,
) -> None:
    assert directory.autocomplete("tia")[0] == "Abdourahamane Tiani"
    assert directory.autocomplete("tiany")[0] == "Abdourahamane Tiani"
    assert directory.autocomplete("cedea")[0] == "Cédéao"
    assert directory.autocomplete("etats u")[0] == "États-Unis"
    assert "Molly Phee" in directory.autocomplete("mol")


def test_autocomplete_of_nothing_gives_the_most_mentioned(directory: ActorDirectory) -> None:
    names = directory.autocomplete("")
    assert names[0] == directory.all()[0].name
    assert len(directory.autocomplete("", limit=3)) == 3


def test_autocomplete_never_returns_more_than_the_limit(directory: ActorDirectory) -> None:
    assert len(directory.autocomplete("a")) <= 25
    assert len(directory.autocomplete("e", limit=2)) <= 2
    assert directory.autocomplete("zzzzqqq") == []


def test_the_list_of_actors_is_sorted_by_mentions(directory: ActorDirectory) -> None:
    summaries = directory.all()
    counts = [s.mention_count for s in summaries]
    assert counts == sorted(counts, reverse=True)
    names = {s.name for s in summaries}
    assert {"Abdourahamane Tiani", "Cédéao", "Kurt Campbell", "AFP"} <= names
    assert "Washington" not in names and "Samedi" not in names
    assert all(s.mention_count > 0 for s in summaries)


def test_the_main_actors_of_an_article(directory: ActorDirectory) -> None:
    main = directory.actors_in(WIRE, limit=3)
    assert len(main) == 3
    assert "Niger" in main
    assert directory.actors_in("no-such-article") == []


def test_a_directory_of_ten_thousand_actors_autocompletes() -> None:
    actors = [
        Actor(f"Personne{i:05d} Nom{i % 97}", ActorKind.PERSON, mentions=(_mention(),) * (i % 5))
        for i in range(10_000)
    ]
    directory = ActorDirectory(actors)
    found = directory.autocomplete("personne0042")
    assert len(found) == 25
    assert {name.split()[0] for name in found[:10]} == {f"Personne0042{i}" for i in range(10)}
    assert directory.autocomplete("nom96")[0].endswith("Nom96")


def _mention() -> Mention:
    return Mention("a", "t", "s", None, "x", ((0, 1),))
