"""The dated timeline: French date expressions found, resolved, cited and sorted."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.chat.replies import ReplyKind
from bot.chat.serial import to_json
from bot.corpus.french import french_date, french_range
from bot.corpus.loader import load_corpus, parse_article
from bot.corpus.model import Article
from bot.corpus.text import fold
from bot.timeline.events import TimelineEvent, article_events, extract_events, sort_key
from bot.timeline.reply import timeline_reply
from tests.conftest import SEEDS

LEAD_000 = "000_ab94e0541aefd417"
WIRE_003 = "003_7eb3dd99e69e60ff"

# Hand-labelled gold: every dated expression of the two seeds, with the date it stands for.
# (article, a snippet of its sentence, the expression, date, end of range)
# Years alone count when they date something ("signé en 2012", "depuis 2020"). Vague spans
# ("dans les prochains jours", "depuis des mois", "Récemment") and durations used as cues
# ("Deux jours plus tard", "Moins d'une semaine plus tôt") are not dates. Seed 003 is dated
# only "2024-04", so its bare weekdays can only be placed in April 2024, except "vendredi"
# two days after "mercredi 10 avril". Seed 000 is undated: its yearless dates come after
# its latest full date (26 July 2023).
GOLD: list[tuple[str, str, str, str, str | None]] = [
    (LEAD_000, "Depuis le coup d’État", "26 juillet 2023", "2023-07-26", None),
    (LEAD_000, "Lors de la visite", "du 12 au 14 mars", "2024-03-12", "2024-03-14"),
    (LEAD_000, "L’expiration de l’accord", "en 2024", "2024", None),
    (LEAD_000, "quitter la Cédéao", "en janvier", "2024-01", None),
    (WIRE_003, "ont finalement accepté", "vendredi", "2024-04", None),
    (WIRE_003, "ont finalement accepté", "juillet", "2023-07", None),
    (WIRE_003, "renversé le président élu", "26 juillet dernier", "2023-07-26", None),
    (WIRE_003, "Les derniers soldats français", "fin décembre", "2023-12", None),
    (WIRE_003, "le pouvoir a dénoncé", "en mars", "2024-03", None),
    (WIRE_003, "le pouvoir a dénoncé", "en 2012", "2012", None),
    (WIRE_003, "des milliers de personnes", "Samedi dernier", "2024-04", None),
    (WIRE_003, "est arrivé mardi", "mardi", "2024-04", None),
    (WIRE_003, "Moins d'une semaine", "mercredi 10 avril", "2024-04-10", None),
    (WIRE_003, "Deux jours plus tard", "vendredi", "2024-04-12", None),
    (WIRE_003, "s'était entretenu", "Fin mars", "2024-03", None),
    (WIRE_003, "coups d'Etat militaires", "depuis 2020", "2020", None),
    (WIRE_003, "un général américain", "En décembre", "2023-12", None),
]


@pytest.fixture(scope="module")
def seed_articles() -> list[Article]:
    return load_corpus(SEEDS).articles


@pytest.fixture(scope="module")
def seed_events(seed_articles: list[Article]) -> list[TimelineEvent]:
    return extract_events(seed_articles)


def article(body: str, date: str | None = None, article_id: str = "t") -> Article:
    front = f"---\ntitle: Essai\ndate: '{date}'\n---\n" if date else "---\ntitle: Essai\n---\n"
    return parse_article((front + body + "\n").encode(), article_id)


def dates(body: str, date: str | None = None) -> list[tuple[str, str]]:
    return [(e.phrase, e.date) for e in article_events(article(body, date))]


def _matches(event: TimelineEvent, gold: tuple[str, str, str, str, str | None]) -> bool:
    art, snippet, phrase, date, end = gold
    found, wanted = fold(event.phrase), fold(phrase)
    return (
        event.article == art
        and snippet in event.text
        and (wanted in found or found in wanted)
        and event.date == date
        and event.end == end
    )


def test_seed_dates_are_found_and_resolved_with_precision_and_recall_above_90_percent(
    seed_events: list[TimelineEvent],
) -> None:
    correct = [e for e in seed_events if any(_matches(e, g) for g in GOLD)]
    found = [g for g in GOLD if any(_matches(e, g) for e in seed_events)]
    precision = len(correct) / len(seed_events)
    recall = len(found) / len(GOLD)
    missing = [g[2] for g in GOLD if g not in found]
    spurious = [(e.phrase, e.date) for e in seed_events if e not in correct]
    assert precision >= 0.9, spurious
    assert recall >= 0.9, missing


def test_words_that_naive_date_search_reads_as_dates_are_not_events(
    seed_events: list[TimelineEvent],
) -> None:
    phrases = {fold(e.phrase) for e in seed_events}
    assert not phrases & {"sa", "jeu", "deux jours", "deux jours plus tard"}
    assert dates("Deux jours plus tard, sa femme est partie. Il reste maître du jeu.") == []


def test_events_are_sorted_chronologically(seed_events: list[TimelineEvent]) -> None:
    keys = [sort_key(e) for e in seed_events]
    assert keys == sorted(keys)
    assert seed_events[0].date == "2012"
    assert seed_events[-1].date == "2024-04-12"


def test_events_cite_their_article_and_section(seed_events: list[TimelineEvent]) -> None:
    range_event = next(e for e in seed_events if e.end)
    assert range_event.citation.article == LEAD_000
    assert range_event.citation.title == "LA JUNTE SOURDE AUX PRESSIONS AMÉRICAINES AU NIGER"
    cue_event = next(e for e in seed_events if e.date == "2024-04-12")
    assert cue_event.citation.section == "Africa Corps"
    assert cue_event.citation.date == "2024-04"


def test_phrase_span_points_at_the_phrase_in_its_sentence(
    seed_events: list[TimelineEvent],
) -> None:
    for event in seed_events:
        start, end = event.span
        assert event.text[start:end] == event.phrase


def test_absolute_dates_keep_their_written_year() -> None:
    assert dates("Le texte a été signé le 3 février 2019 à Rome.", "2024-05-02") == [
        ("3 février 2019", "2019-02-03")
    ]


def test_yearless_months_are_the_latest_not_after_the_article_date() -> None:
    body = "Les soldats sont partis fin décembre. Le vote a eu lieu en avril."
    assert dates(body, "2024-04") == [("fin décembre", "2023-12"), ("en avril", "2024-04")]


def test_dernier_and_prochain_point_back_and_forward() -> None:
    body = "Le sommet de juillet dernier a échoué. Le suivant aura lieu en mai prochain."
    assert dates(body, "2024-07-15") == [
        ("juillet dernier", "2023-07"),
        ("en mai prochain", "2025-05"),
    ]


def test_weekdays_resolve_against_an_article_dated_to_the_day() -> None:
    # 20 April 2024 is a Saturday.
    body = "Il est arrivé vendredi. Une marche a eu lieu samedi dernier. Il repart mardi prochain."
    assert dates(body, "2024-04-20") == [
        ("vendredi", "2024-04-19"),
        ("samedi dernier", "2024-04-13"),
        ("mardi prochain", "2024-04-23"),
    ]


def test_weekdays_in_an_article_dated_to_the_month_keep_month_precision() -> None:
    [event] = article_events(article("Le ministre est arrivé mardi à Rome.", "2024-04"))
    assert (event.date, event.precision, event.relative) == ("2024-04", "month", True)


def test_a_weekday_after_a_cue_is_placed_from_the_previous_dated_sentence() -> None:
    body = (
        "Le mercredi 10 avril, les instructeurs sont arrivés. "
        "Deux jours plus tard, vendredi, ils ont parlé."
    )
    assert dates(body, "2024-04")[-1] == ("vendredi", "2024-04-12")


def test_weekdays_of_an_undated_article_without_anchor_are_left_out() -> None:
    assert dates("Le ministre est arrivé mardi à Rome.") == []


def test_undated_article_takes_yearless_dates_after_its_latest_full_date() -> None:
    body = "Le coup d'État du 26 juillet 2023 a tout changé. La visite du 12 au 14 mars a échoué."
    events = article_events(article(body))
    assert [(e.date, e.end) for e in events] == [("2023-07-26", None), ("2024-03-12", "2024-03-14")]


def test_undated_article_without_full_date_keeps_only_written_years() -> None:
    assert dates("L'accord signé en 2012 a été dénoncé en mars.") == [("en 2012", "2012")]


def test_ranges_across_months_and_years() -> None:
    events = article_events(article("La trêve a tenu du 28 décembre au 3 janvier 2024.", "2024-02"))
    assert [(e.date, e.end) for e in events] == [("2023-12-28", "2024-01-03")]
    assert events[0].label == "du 28 décembre 2023 au 3 janvier 2024"


def test_habitual_weekdays_plural_weekdays_and_the_planet_mars_are_not_dates() -> None:
    body = (
        "Le lundi, le marché est fermé. Chaque samedi, ils défilent. Tous les dimanches aussi. "
        "La sonde s'est posée sur Mars. La surface de Mars est froide."
    )
    assert dates(body, "2024-04-20") == []


def test_quantities_are_not_years() -> None:
    body = "Les plus de 1.000 soldats ont coûté 100 millions de dollars, soit 2000 euros par mois."
    assert dates(body, "2024-04-20") == []


def test_qualified_months_and_years_remember_where_in_the_period_they_fall() -> None:
    events = article_events(article("Mi-mars, puis à la fin de 2023, et début janvier.", "2024-04"))
    assert [(e.date, e.part) for e in events] == [
        ("2024-03", "mi"),
        ("2023", "fin"),
        ("2024-01", "début"),
    ]
    assert [e.label for e in events] == ["mi-mars 2024", "fin 2023", "début janvier 2024"]


def test_numeric_dates_are_read_day_first() -> None:
    assert dates("Publié le 12/03/2024 puis le 2024-03-15.", "2024-04") == [
        ("12/03/2024", "2024-03-12"),
        ("2024-03-15", "2024-03-15"),
    ]


def test_french_dates_are_written_the_french_way() -> None:
    assert french_date("2024-03-01") == "1er mars 2024"
    assert french_date("2023-07-26") == "26 juillet 2023"
    assert french_date("2024-03") == "mars 2024"
    assert french_date("2023-12", part="fin") == "fin décembre 2023"
    assert french_date("2024") == "2024"
    assert french_range("2024-03-12", "2024-03-14") == "du 12 au 14 mars 2024"
    assert french_range("2024-01", "2024-03") == "de janvier à mars 2024"


def test_timeline_reply_has_one_block_per_event_with_date_heading_and_marked_phrase(
    seed_events: list[TimelineEvent],
) -> None:
    reply = timeline_reply(seed_events)
    assert reply.kind is ReplyKind.TIMELINE
    assert len(reply.blocks) == len(seed_events)
    coup = next(b for b in reply.blocks if b.heading == "26 juillet 2023")
    [(start, end)] = coup.marks
    assert coup.text[start:end] in ("26 juillet 2023", "26 juillet dernier")
    assert coup.citation is not None
    assert any(b.heading == "du 12 au 14 mars 2024" for b in reply.blocks)


def test_timeline_reply_explains_a_weekday_it_could_only_place_in_a_month(
    seed_events: list[TimelineEvent],
) -> None:
    reply = timeline_reply(seed_events)
    mardi = next(b for b in reply.blocks if "arrivé mardi" in b.text)
    assert mardi.heading == "avril 2024"
    assert mardi.note is not None and "d'avril 2024" in mardi.note


def test_timeline_reply_limit_keeps_the_latest_events_and_counts_the_others(
    seed_events: list[TimelineEvent],
) -> None:
    reply = timeline_reply(seed_events, limit=3)
    assert [b.heading for b in reply.blocks][-1] == "12 avril 2024"
    assert len(reply.blocks) == 3
    assert reply.footer is not None and str(len(seed_events) - 3) in reply.footer


def test_timeline_reply_without_events_says_so() -> None:
    reply = timeline_reply([])
    assert reply.kind is ReplyKind.TIMELINE
    assert "Aucune date" in reply.plain_text()


def test_event_json_has_the_contract_keys(seed_events: list[TimelineEvent]) -> None:
    data = to_json(seed_events[0])
    assert {"date", "text", "article"} <= set(data)
    assert data["article"] == WIRE_003


def test_importing_the_timeline_loads_no_heavy_date_library() -> None:
    code = (
        "import sys, bot.timeline.events, bot.briefings.digest; "
        "print(sorted({'dateparser', 'spacy', 'numpy'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
