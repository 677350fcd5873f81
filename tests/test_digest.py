"""The briefing digest: key points, selection of what is new, JSON contract and reply."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from bot.briefings.digest import (
    TIMELINE_IN_REPLY,
    Digest,
    build_digest,
    digest_reply,
    key_points,
    select_new,
)
from bot.chat.replies import ReplyKind
from bot.chat.serial import to_json
from bot.corpus.loader import load_corpus, parse_article
from bot.corpus.model import Article
from bot.corpus.text import terms
from bot.timeline.events import extract_events
from tests.conftest import SEEDS

LEAD_000 = "000_ab94e0541aefd417"
WIRE_003 = "003_7eb3dd99e69e60ff"
NOW = dt.datetime(2026, 11, 21, 8, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def seed_articles() -> list[Article]:
    return load_corpus(SEEDS).articles


def by_id(articles: list[Article], article_id: str) -> Article:
    return next(a for a in articles if a.id == article_id)


def article(article_id: str, body: str, date: str | None = None) -> Article:
    front = f"---\ntitle: Titre {article_id}\n" + (f"date: '{date}'\n" if date else "") + "---\n"
    return parse_article((front + body + "\n").encode(), article_id)


def recurrent_term_coverage(article: Article, sentences: list[str]) -> float:
    """Share of the terms used in two sentences or more that `sentences` mention."""
    df = Counter(t for s in article.sentences for t in set(terms(s.text)))
    recurrent = {t for t, count in df.items() if count >= 2}
    said = {t for s in sentences for t in terms(s)}
    return len(said & recurrent) / len(recurrent)


# ------------------------------------------------------------------------- key points


@pytest.mark.parametrize("asked", [1, 2, 3, 4, 9])
def test_key_points_are_two_to_four_sentences_taken_from_the_article(
    seed_articles: list[Article], asked: int
) -> None:
    for art in seed_articles:
        points = key_points(art, asked)
        assert 2 <= len(points) <= 4
        assert len(points) == min(max(asked, 2), 4)
        sentences = [s.text for s in art.sentences]
        assert all(p in sentences for p in points)


def test_key_points_of_the_wire_story_reach_beyond_its_first_three_sentences(
    seed_articles: list[Article],
) -> None:
    wire = by_id(seed_articles, WIRE_003)
    positions = [[s.text for s in wire.sentences].index(p) for p in key_points(wire)]
    assert any(position >= 3 for position in positions)


def test_key_points_cover_more_of_the_article_than_its_first_sentences(
    seed_articles: list[Article],
) -> None:
    for art in seed_articles:
        lead = [s.text for s in art.sentences[:3]]
        assert recurrent_term_coverage(art, key_points(art)) > recurrent_term_coverage(art, lead)


def test_key_points_are_in_reading_order(seed_articles: list[Article]) -> None:
    for art in seed_articles:
        sentences = [s.text for s in art.sentences]
        positions = [sentences.index(p) for p in key_points(art, 4)]
        assert positions == sorted(positions)


def test_key_points_do_not_repeat_the_same_fact() -> None:
    body = (
        "Le gouvernement du Niger a annoncé le retrait des soldats américains de la base d'Agadez. "
        "Le gouvernement du Niger a confirmé le retrait des soldats américains de la base "
        "d'Agadez. "
        "La Russie a livré un système de défense anti-aérien aux autorités de Niamey. "
        "Les États-Unis cherchent une autre base pour leurs drones dans la région du Sahel."
    )
    points = key_points(article("x", body, "2024-04"), 3)
    assert sum("retrait des soldats" in p for p in points) == 1


# -------------------------------------------------------------------------- selection


def test_select_new_without_since_keeps_everything(seed_articles: list[Article]) -> None:
    assert select_new(seed_articles, None, {}) == seed_articles


def test_select_new_follows_when_the_bot_first_saw_the_article() -> None:
    old = article("old", "Un texte ancien sur le Niger et le Mali.", "2020-01-01")
    recent = article("recent", "Un texte récent sur le Niger et le Mali.", "2026-11-20")
    since = dt.datetime(2026, 11, 20, 8, tzinfo=dt.UTC)
    first_seen = {
        "old": since + dt.timedelta(hours=1),  # an old article added to the corpus today
        "recent": since - dt.timedelta(hours=1),  # already briefed
    }
    assert [a.id for a in select_new([old, recent], since, first_seen)] == ["old"]


def test_select_new_without_record_uses_the_article_date_at_its_precision() -> None:
    day = article("day", "Un texte du jour.", "2026-11-20")
    month = article("month", "Un texte du mois.", "2026-11")
    stale = article("stale", "Un texte ancien.", "2026-10-31")
    undated = article("undated", "Un texte sans date.")
    since = dt.datetime(2026, 11, 20, 8, tzinfo=dt.UTC)
    chosen = select_new([day, month, stale, undated], since, {})
    assert [a.id for a in chosen] == ["day", "month"]


def test_select_new_compares_naive_and_aware_instants_as_utc() -> None:
    art = article("a", "Un texte.", "2020-01-01")
    since = dt.datetime(2026, 11, 20, 8)  # naive
    first_seen = {"a": dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)}
    assert select_new([art], since, first_seen) == [art]


# ----------------------------------------------------------------------------- digest


def test_digest_json_has_exactly_the_contract_shape(seed_articles: list[Article]) -> None:
    data = to_json(build_digest(seed_articles, now=NOW))
    assert set(data) == {"title", "generated_at", "articles", "actors", "timeline"}
    assert data["generated_at"] == NOW.isoformat()
    for entry in data["articles"]:
        assert set(entry) == {"id", "title", "date", "url", "key_points", "actors"}
        assert isinstance(entry["key_points"], list) and isinstance(entry["actors"], list)
    for event in data["timeline"]:
        assert {"date", "text", "article"} <= set(event)


def test_digest_of_the_seeds_has_both_articles_newest_first_with_their_dates(
    seed_articles: list[Article],
) -> None:
    digest = build_digest(seed_articles, now=NOW)
    assert [(a.id, a.date) for a in digest.articles] == [(WIRE_003, "2024-04"), (LEAD_000, None)]
    assert digest.title == "Briefing du 21 novembre 2026"
    assert digest.headline.startswith("2 articles. À la une : ")


def test_digest_title_writes_the_first_of_the_month_as_1er() -> None:
    digest = build_digest([], now=dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    assert digest.title == "Briefing du 1er décembre 2026"


def test_digest_timeline_is_sorted_and_limited_to_the_selected_articles(
    seed_articles: list[Article],
) -> None:
    everything = extract_events(seed_articles)
    wire = by_id(seed_articles, WIRE_003)
    digest = build_digest([wire], now=NOW, events=everything)
    assert digest.timeline
    assert {e.article for e in digest.timeline} == {WIRE_003}
    assert list(digest.timeline) == [e for e in everything if e.article == WIRE_003]


def test_digest_actors_come_from_the_lookup_most_cited_first(
    seed_articles: list[Article],
) -> None:
    names = {
        WIRE_003: ["Mohamed Bazoum", "Kurt Campbell"],
        LEAD_000: ["Molly Phee", "Mohamed Bazoum"],
    }
    digest = build_digest(seed_articles, now=NOW, actors_for=lambda a: names[a.id])
    assert digest.articles[0].actors == ("Mohamed Bazoum", "Kurt Campbell")
    assert digest.actors[0] == "Mohamed Bazoum"
    assert set(digest.actors) == {"Mohamed Bazoum", "Kurt Campbell", "Molly Phee"}


def test_a_failing_actor_lookup_leaves_the_digest_without_actors(
    seed_articles: list[Article],
) -> None:
    def broken(_: Article) -> list[str]:
        raise RuntimeError("directory unavailable")

    digest = build_digest(seed_articles, now=NOW, actors_for=broken)
    assert len(digest.articles) == 2
    assert digest.actors == ()


# ------------------------------------------------------------------------------ reply


def test_digest_reply_has_headline_then_one_block_per_article_then_the_chronology(
    seed_articles: list[Article],
) -> None:
    digest = build_digest(seed_articles, now=NOW, actors_for=lambda a: ["Mohamed Bazoum"])
    reply = digest_reply(digest, note="Briefing quotidien")
    assert reply.kind is ReplyKind.DIGEST
    assert reply.title == "Briefing du 21 novembre 2026"
    assert reply.blocks[0].text == digest.headline
    wire_block = reply.blocks[1]
    assert wire_block.heading == digest.articles[0].title
    assert wire_block.items == digest.articles[0].key_points
    assert {f.name: f.value for f in wire_block.fields} == {
        "Date": "avril 2024",
        "Acteurs": "Mohamed Bazoum",
    }
    assert {f.name: f.value for f in reply.blocks[2].fields}["Date"] == "non datée"
    chronology = reply.blocks[3]
    assert chronology.heading == "Chronologie"
    assert len(chronology.items) == min(TIMELINE_IN_REPLY, len(digest.timeline))
    assert chronology.items[-1].startswith("12 avril 2024 : ")
    assert reply.footer == "Briefing quotidien"


def test_digest_reply_says_how_many_dates_it_left_out(seed_articles: list[Article]) -> None:
    digest = build_digest(seed_articles, now=NOW)
    assert len(digest.timeline) > TIMELINE_IN_REPLY
    chronology = digest_reply(digest).blocks[-1]
    hidden = len(digest.timeline) - TIMELINE_IN_REPLY
    assert chronology.note is not None and chronology.note.startswith(f"{hidden} dates")


def test_empty_digest_reply_says_nothing_new_since_the_date() -> None:
    since = dt.datetime(2026, 11, 20, 8, tzinfo=dt.UTC)
    digest = build_digest([], now=NOW, since=since)
    assert isinstance(digest, Digest) and digest.is_empty
    reply = digest_reply(digest)
    assert reply.kind is ReplyKind.DIGEST
    assert (
        reply.plain_text()
        == "Briefing du 21 novembre 2026\nRien de nouveau depuis le 20 novembre 2026."
    )


def test_empty_digest_reply_prefers_the_given_since() -> None:
    digest = build_digest([], now=NOW)
    reply = digest_reply(digest, empty_since=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    assert "Rien de nouveau depuis le 1er novembre 2026." in reply.plain_text()
    assert "Rien de nouveau" in digest_reply(digest).plain_text()


def test_key_points_of_a_short_article_still_give_two_points() -> None:
    short = article(
        "s", "Le Niger a rompu l'accord militaire avec Washington. Fin du débat.", "2024-04"
    )
    assert key_points(short) == [
        "Le Niger a rompu l'accord militaire avec Washington.",
        "Fin du débat.",
    ]
