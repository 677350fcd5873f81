"""The /actor and /actors replies: French, cited, one block per mention."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.actors import ActorDirectory, build_directory
from bot.actors.model import Actor, ActorKind, ActorLookup, Mention
from bot.actors.replies import actor_reply, actors_reply
from bot.chat.replies import ReplyKind
from bot.chat.serial import to_json
from bot.corpus.loader import load_corpus
from tests.conftest import SEEDS

ROOT = Path(__file__).resolve().parent.parent
ACTORS_YAML = ROOT / "config" / "actors.yaml"


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> ActorDirectory:
    cache = tmp_path_factory.getbasetemp() / "actors-cache"  # shared with other actor tests
    return build_directory(load_corpus(SEEDS).articles, ACTORS_YAML, cache).directory


def test_an_actor_card_has_its_role_then_one_cited_block_per_mention(
    directory: ActorDirectory,
) -> None:
    lookup = directory.lookup("Bazoum")
    reply = actor_reply(lookup)
    assert reply.kind is ReplyKind.ACTOR
    assert reply.title == "Mohamed Bazoum"
    head = reply.blocks[0]
    assert {f.name: f.value for f in head.fields}["Type"] == "Personne"
    assert "Bazoum" in {f.name: f.value for f in head.fields}["Autres noms"]
    cited = [b for b in reply.blocks if b.citation]
    assert len(cited) == len(lookup.actor.mentions) == 2
    for block in cited:
        ((start, end),) = block.marks
        assert block.text[start:end] == "Mohamed Bazoum"
        assert block.citation.section and block.citation.title
    assert reply.data == to_json(lookup)


def test_the_card_ends_with_related_actors_and_dates(directory: ActorDirectory) -> None:
    reply = actor_reply(directory.lookup("Campbell"))
    last = reply.blocks[-1]
    assert last.heading == "Souvent cités avec"
    assert "AFP" in last.items
    assert {f.name for f in last.fields} == {"Première mention", "Dernière mention"}


def test_an_unknown_name_says_so_and_suggests_close_names(directory: ActorDirectory) -> None:
    reply = actor_reply(directory.lookup("Emmanuel Dupont"))
    assert reply.is_error
    assert "Aucun acteur" in reply.title
    assert "« Emmanuel Dupont »" in reply.blocks[0].text
    assert reply.suggestions[0] == "Emmanuel Macron"


def test_an_ambiguous_name_lists_the_choices() -> None:
    a = Actor("Mohamed Bazoum", ActorKind.PERSON)
    b = Actor("Mohamed Karimou", ActorKind.PERSON)
    lookup = ActorLookup("Mohamed", False, None, (a.name, b.name), candidate_actors=(a, b))
    reply = actor_reply(lookup)
    assert reply.kind is ReplyKind.ACTOR_CHOICES
    assert reply.suggestions == ("Mohamed Bazoum", "Mohamed Karimou")
    assert reply.blocks[0].items[0].startswith("Mohamed Bazoum (personne")


def test_the_actor_list_groups_by_kind_with_mention_counts(directory: ActorDirectory) -> None:
    reply = actors_reply(directory)
    assert reply.kind is ReplyKind.ACTORS
    headings = [b.heading for b in reply.blocks]
    assert headings[0].startswith("Personnes")
    assert any(h.startswith("États") for h in headings)
    text = reply.plain_text()
    assert "Abdourahamane Tiani — 1 mention" in text
    assert len(reply.data["actors"]) == len(directory.all())


def test_a_long_actor_list_is_split_into_blocks() -> None:
    mention = Mention("a", "Titre", "Titre", None, "Phrase.", ((0, 6),))
    actors = [Actor(f"Personne {i}", ActorKind.PERSON, mentions=(mention,)) for i in range(60)]
    reply = actors_reply(ActorDirectory(actors))
    assert [len(b.items) for b in reply.blocks] == [25, 25, 10]
    assert reply.blocks[1].heading == "Personnes (suite)"


def test_an_empty_directory_says_nobody_is_named() -> None:
    reply = actors_reply(ActorDirectory([Actor("Personne", ActorKind.PERSON)]))
    assert reply.title == "Aucun acteur"
