"""Reading what an admin types as a briefing schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.briefings.schedule import ScheduleSpec, describe_moment
from bot.briefings.schedule_parsing import (
    ScheduleError,
    parse_days,
    parse_options,
    parse_schedule,
    parse_time,
)
from bot.briefings.timezones import complete_timezones

PARIS = ZoneInfo("Europe/Paris")


def schedule(text: str) -> ScheduleSpec:
    return parse_schedule(parse_options(text))


def fire_times(spec: ScheduleSpec, start: datetime, count: int) -> list[datetime]:
    trigger = spec.trigger()
    times: list[datetime] = []
    fire = trigger.get_next_fire_time(None, start)
    while fire is not None and len(times) < count:
        times.append(fire)
        fire = trigger.get_next_fire_time(fire, fire)
    return times


# --- options ---------------------------------------------------------------------------


def test_options_are_split_into_key_value_pairs() -> None:
    assert parse_options("at=08:00 days=mon-fri tz=Europe/Paris") == {
        "at": "08:00",
        "days": "mon-fri",
        "tz": "Europe/Paris",
    }


@pytest.mark.parametrize(
    "quoted", ['cron="0 8 * * 1-5"', "cron=“0 8 * * 1-5”", "cron=«0 8 * * 1-5»"]
)
def test_quoted_values_keep_their_spaces(quoted: str) -> None:
    assert parse_options(quoted) == {"cron": "0 8 * * 1-5"}


def test_french_option_names_are_accepted() -> None:
    assert parse_options("heure=8h jours=lun-ven fuseau=Europe/Paris") == {
        "at": "8h",
        "days": "lun-ven",
        "tz": "Europe/Paris",
    }


def test_an_unknown_option_lists_the_valid_ones() -> None:
    with pytest.raises(ScheduleError) as err:
        parse_options("at=08:00 colour=red")
    assert "Option inconnue « colour »" in err.value.message
    assert "at, days, tz, cron, mode, empty" in err.value.message


def test_a_misspelt_option_suggests_the_right_one() -> None:
    with pytest.raises(ScheduleError) as err:
        parse_options("dayz=mon")
    assert err.value.suggestions == ("days",)


def test_a_word_without_equals_sign_gets_a_guess_at_its_option() -> None:
    with pytest.raises(ScheduleError) as err:
        parse_options("8h")
    assert "clé=valeur" in err.value.message
    assert err.value.suggestions == ("at=8h",)


def test_an_unclosed_quote_is_explained() -> None:
    with pytest.raises(ScheduleError, match="Guillemet non fermé"):
        parse_options('cron="0 8 * * 1-5')


def test_an_option_given_twice_is_refused() -> None:
    with pytest.raises(ScheduleError, match="deux fois"):
        parse_options("at=08:00 heure=09:00")


# --- times ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("8h", (8, 0)), ("08:00", (8, 0)), ("8:30", (8, 30)), ("20h15", (20, 15)), ("0h", (0, 0))],
)
def test_times_are_read_in_french_and_international_styles(
    text: str, expected: tuple[int, int]
) -> None:
    assert parse_time(text) == expected


def test_an_impossible_hour_gets_the_documented_message() -> None:
    with pytest.raises(ScheduleError) as err:
        schedule("at=25:00")
    assert err.value.message == "« 25:00 » n'est pas une heure valide (HH:MM, de 00:00 à 23:59)."
    assert err.value.option == "at"


def test_midnight_written_as_24_00_suggests_00_00() -> None:
    with pytest.raises(ScheduleError) as err:
        parse_time("24:00")
    assert err.value.suggestions == ("00:00",)


def test_a_time_with_a_dot_suggests_the_colon_form() -> None:
    with pytest.raises(ScheduleError) as err:
        parse_time("8.30")
    assert err.value.text.endswith("Vouliez-vous dire 08:30 ?")


def test_several_times_are_sorted_and_deduplicated() -> None:
    assert schedule("at=18h,8h,08:00").times == ((8, 0), (18, 0))


def test_times_closer_than_fifteen_minutes_are_refused() -> None:
    with pytest.raises(ScheduleError, match="trop proches"):
        schedule("at=08:00,08:05")


# --- days -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mon-fri", (0, 1, 2, 3, 4)),
        ("lun-ven", (0, 1, 2, 3, 4)),
        ("weekdays", (0, 1, 2, 3, 4)),
        ("semaine", (0, 1, 2, 3, 4)),
        ("jours-ouvrés", (0, 1, 2, 3, 4)),
        ("tous", (0, 1, 2, 3, 4, 5, 6)),
        ("daily", (0, 1, 2, 3, 4, 5, 6)),
        ("week-end", (5, 6)),
        ("lundi,mercredi,vendredi", (0, 2, 4)),
        ("Mon,Wednesday,ven", (0, 2, 4)),
        ("lun, mer et ven", (0, 2, 4)),
        ("sat-mon", (0, 5, 6)),
    ],
)
def test_days_are_read_in_french_and_english(text: str, expected: tuple[int, ...]) -> None:
    assert parse_days(text) == expected


def test_an_unknown_day_suggests_the_closest_name() -> None:
    with pytest.raises(ScheduleError) as err:
        schedule("days=mardu")
    assert "« mardu » n'est pas un jour connu" in err.value.message
    assert err.value.suggestions == ("mardi",)
    assert err.value.option == "days"


# --- time zones -----------------------------------------------------------------------


def test_a_misspelt_time_zone_suggests_the_right_one() -> None:
    with pytest.raises(ScheduleError) as err:
        schedule("tz=Europe/Pariss")
    assert err.value.suggestions == ("Europe/Paris",)
    assert err.value.text.endswith("Vouliez-vous dire Europe/Paris ?")


def test_a_city_alone_suggests_its_iana_zone() -> None:
    with pytest.raises(ScheduleError) as err:
        schedule("tz=paris")
    assert "Europe/Paris" in err.value.suggestions


def test_time_zone_case_does_not_matter() -> None:
    assert schedule("tz=europe/paris").timezone == "Europe/Paris"


def test_no_time_zone_means_utc_and_says_so() -> None:
    spec = schedule("at=08:00")
    assert spec.timezone == "UTC"
    assert spec.timezone_defaulted


def test_time_zone_autocompletion_matches_cities_and_typos() -> None:
    assert "Europe/Paris" in complete_timezones("par")
    assert complete_timezones("new y") == ["America/New_York"]
    assert complete_timezones("pariss") == ["Europe/Paris"]
    assert complete_timezones("")[0] == "UTC"
    assert len(complete_timezones("a", limit=25)) == 25


# --- mode and empty -------------------------------------------------------------------


def test_defaults_are_new_content_at_eight_every_day() -> None:
    spec = schedule("")
    assert (spec.mode, spec.times, spec.days, spec.time_defaulted) == (
        "new",
        ((8, 0),),
        (0, 1, 2, 3, 4, 5, 6),
        True,
    )


def test_mode_and_empty_policy_accept_french_words() -> None:
    spec = schedule("mode=complet empty=ignorer")
    assert (spec.mode, spec.empty) == ("full", "skip")


def test_an_unknown_mode_suggests_a_valid_one() -> None:
    with pytest.raises(ScheduleError) as err:
        schedule("mode=ful")
    assert err.value.suggestions == ("full",)


# --- cron -----------------------------------------------------------------------------


def test_cron_weekdays_use_crontab_numbering_not_apschedulers() -> None:
    """In crontab 1-5 is Monday to Friday; APScheduler 3 alone would read Tuesday to
    Saturday."""
    spec = schedule('cron="0 8 * * 1-5" tz=Europe/Paris')
    start = datetime(2024, 1, 6, tzinfo=UTC)  # a Saturday
    assert [t.strftime("%a %H:%M") for t in fire_times(spec, start, 5)] == [
        "Mon 08:00",
        "Tue 08:00",
        "Wed 08:00",
        "Thu 08:00",
        "Fri 08:00",
    ]


@pytest.mark.parametrize("sunday", ["0", "7", "sun"])
def test_cron_sunday_is_zero_or_seven(sunday: str) -> None:
    spec = schedule(f'cron="30 9 * * {sunday}"')
    fires = fire_times(spec, datetime(2024, 1, 1, tzinfo=UTC), 2)
    assert {t.strftime("%a %H:%M") for t in fires} == {"Sun 09:30"}


def test_cron_and_at_together_are_refused() -> None:
    with pytest.raises(ScheduleError, match="pas les deux"):
        schedule('cron="0 8 * * *" at=09:00')


def test_a_malformed_cron_expression_is_explained() -> None:
    with pytest.raises(ScheduleError) as err:
        schedule('cron="0 8 * *"')
    assert "5 champs" in err.value.message


def test_a_cron_expression_with_a_bad_field_is_refused() -> None:
    with pytest.raises(ScheduleError, match="n'est pas valide"):
        schedule('cron="0 26 * * *"')


def test_a_cron_expression_that_fires_every_five_minutes_is_refused() -> None:
    with pytest.raises(ScheduleError, match="toutes les 5 min"):
        schedule('cron="*/5 * * * *"')


def test_a_cron_expression_that_never_fires_is_refused() -> None:
    with pytest.raises(ScheduleError, match="ne se déclenche jamais"):
        schedule('cron="0 8 30 2 *"')


# --- triggers and words ---------------------------------------------------------------


def test_times_with_different_minutes_fire_exactly_at_those_times() -> None:
    spec = schedule("at=08:00,18:30 tz=Europe/Paris")
    fires = fire_times(spec, datetime(2024, 1, 8, tzinfo=UTC), 4)
    assert [t.astimezone(PARIS).strftime("%H:%M") for t in fires] == [
        "08:00",
        "18:30",
        "08:00",
        "18:30",
    ]


def test_the_trigger_runs_in_the_subscriptions_time_zone() -> None:
    spec = schedule("at=08:00 tz=Europe/Paris")
    first = spec.next_fire_time(datetime(2024, 1, 8, tzinfo=UTC))
    assert first == datetime(2024, 1, 8, 7, 0, tzinfo=UTC)


def test_describe_says_the_schedule_in_french() -> None:
    assert schedule("at=08:00 days=mon-fri tz=Europe/Paris").describe() == (
        "du lundi au vendredi à 08:00 (Europe/Paris)"
    )
    assert schedule("at=8h,18h days=lun,mer").describe() == (
        "chaque lundi et mercredi à 08:00 et 18:00 (UTC)"
    )
    assert schedule("days=tous").describe() == "tous les jours à 08:00 (UTC)"


def test_a_stored_schedule_reads_back_the_same() -> None:
    spec = schedule("at=8h,20h15 days=lun-ven tz=Europe/Paris mode=full empty=skip")
    again = ScheduleSpec.from_stored(
        times=spec.times_text,
        days=spec.days_text,
        cron=None,
        timezone=spec.timezone,
        mode=spec.mode,
        empty=spec.empty,
    )
    assert (again.times, again.days, again.timezone, again.mode, again.empty) == (
        spec.times,
        spec.days,
        spec.timezone,
        spec.mode,
        spec.empty,
    )


def test_moments_are_described_in_french_in_the_given_zone() -> None:
    moment = datetime(2024, 4, 1, 6, 0, tzinfo=UTC)
    assert describe_moment(moment, "Europe/Paris") == "lundi 1 avril 2024 à 08:00"


def test_next_fire_time_moves_on_after_a_fire() -> None:
    spec = schedule("at=08:00 tz=UTC")
    first = spec.next_fire_time(datetime(2024, 1, 8, 8, 0, tzinfo=UTC))
    assert first == datetime(2024, 1, 8, 8, 0, tzinfo=UTC)
    assert spec.next_fire_time(first + timedelta(seconds=1)) == first + timedelta(days=1)
