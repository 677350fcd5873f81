"""Reading what an admin types as a briefing schedule: `at=08:00 days=mon-fri tz=Europe/Paris`.

Errors are `ScheduleError`s with a French message and, where we can guess, suggestions
that the caller turns into a corrected command. The result is a `ScheduleSpec`; a stored
schedule is never read through here (see `ScheduleSpec.from_stored`).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from apscheduler.triggers.base import BaseTrigger
from rapidfuzz import fuzz, process

from bot.briefings.errors import ScheduleError, clip
from bot.briefings.schedule import (
    ALL_DAYS,
    DEFAULT_TIME,
    DEFAULT_TIMEZONE,
    MIN_INTERVAL,
    WEEKDAYS,
    ScheduleSpec,
    cron_trigger,
)
from bot.briefings.timezones import complete_timezones, parse_timezone, suggest_timezones, zone
from bot.corpus.french import count, number
from bot.corpus.text import fold

__all__ = [
    "ScheduleError",
    "canonical_key",
    "complete_timezones",
    "parse_days",
    "parse_options",
    "parse_schedule",
    "parse_time",
    "parse_times",
    "parse_timezone",
    "suggest_timezones",
]

MAX_TIMES = 12
MAX_OPTIONS_CHARS = 500

OPTION_KEYS = ("at", "days", "tz", "cron", "mode", "empty")
_KEY_ALIASES: dict[str, str] = {
    **{k: k for k in OPTION_KEYS},
    "a": "at", "heure": "at", "heures": "at", "time": "at", "times": "at", "horaire": "at",
    "day": "days", "jour": "days", "jours": "days",
    "timezone": "tz", "fuseau": "tz", "zone": "tz",
    "vide": "empty", "si-vide": "empty",
    "contenu": "mode",
}  # fmt: skip

_DAY_WORDS: dict[str, int] = {}
for _i, _names in enumerate(
    (
        ("mon", "monday", "lun", "lundi", "lundis"),
        ("tue", "tues", "tuesday", "mar", "mardi", "mardis"),
        ("wed", "wednesday", "mer", "mercredi", "mercredis"),
        ("thu", "thur", "thurs", "thursday", "jeu", "jeudi", "jeudis"),
        ("fri", "friday", "ven", "vendredi", "vendredis"),
        ("sat", "saturday", "sam", "samedi", "samedis"),
        ("sun", "sunday", "dim", "dimanche", "dimanches"),
    )
):
    for _name in _names:
        _DAY_WORDS[_name] = _i

_DAY_GROUPS: dict[str, tuple[int, ...]] = {
    **dict.fromkeys(
        ("weekdays", "weekday", "semaine", "ouvres", "ouvrables", "jours-ouvres", "workdays"),
        WEEKDAYS,
    ),
    **dict.fromkeys(("weekend", "week-end", "we"), (5, 6)),
    **dict.fromkeys(
        ("daily", "everyday", "every-day", "all", "tous", "tous-les-jours", "quotidien", "*"),
        ALL_DAYS,
    ),
}

_MODE_WORDS: dict[str, str] = {
    **dict.fromkeys(("new", "nouveau", "nouveaux", "nouveaute", "nouveautes", "neuf"), "new"),
    **dict.fromkeys(("full", "complet", "tout", "tous", "all", "entier"), "full"),
}
_EMPTY_WORDS: dict[str, str] = {
    **dict.fromkeys(("skip", "ignorer", "sauter", "rien", "silence", "taire"), "skip"),
    **dict.fromkeys(("notify", "signaler", "prevenir", "message", "dire"), "notify"),
}

_TIME = re.compile(r"^(\d{1,2})(?:(?:h|:)(\d{2})?)?$")
_TIME_LOOSE = re.compile(r"^(\d{1,2})[.,\-_hH:](\d{1,2})$")
_SMART_QUOTES = str.maketrans({"“": '"', "”": '"', "«": '"', "»": '"', "„": '"', "’": "'"})
_LIST_SPLIT = re.compile(r"[,;\s]+")
_CONNECTORS = frozenset({"et", "and", "&", "a"})


def parse_options(text: str) -> dict[str, str]:
    """Split `at=08:00 days=mon-fri cron="0 8 * * 1-5"` into canonical key → value.

    Quotes (straight, curly or « ») group a value with spaces; keys may be French or
    English aliases (`heure=`, `jours=`, `fuseau=`). A word without `=` is refused with a
    guess at the option it was meant for.
    """
    if len(text) > MAX_OPTIONS_CHARS:
        raise ScheduleError(
            f"Options trop longues ({count(len(text), 'caractère')}, "
            f"{number(MAX_OPTIONS_CHARS)} au plus)."
        )
    try:
        tokens = shlex.split(text.translate(_SMART_QUOTES))
    except ValueError:
        raise ScheduleError(
            "Guillemet non fermé : entourez la valeur de guillemets, "
            'par exemple cron="0 8 * * 1-5".'
        ) from None
    options: dict[str, str] = {}
    for token in tokens:
        key, sep, value = token.partition("=")
        if not sep:
            raise _bare_word_error(token)
        canonical = canonical_key(key)
        if canonical in options:
            raise ScheduleError(f"L'option « {canonical} » est donnée deux fois.", option=canonical)
        options[canonical] = value.strip()
    return options


def canonical_key(key: str) -> str:
    """`heure` → `at`; unknown keys raise with the list of valid ones."""
    folded = fold(key.strip())
    if folded in _KEY_ALIASES:
        return _KEY_ALIASES[folded]
    match = process.extractOne(folded, list(_KEY_ALIASES), scorer=fuzz.ratio, score_cutoff=60)
    guess = (_KEY_ALIASES[match[0]],) if match else ()
    raise ScheduleError(
        f"Option inconnue « {clip(key)} ». Options possibles : {', '.join(OPTION_KEYS)}.",
        guess,
        option=None,
    )


def parse_schedule(options: Mapping[str, str]) -> ScheduleSpec:
    """Validate options (from `parse_options` or an adapter's form) into a ScheduleSpec."""
    opts = {canonical_key(k): (v or "").strip() for k, v in options.items()}
    for key, value in opts.items():
        if not value:
            raise ScheduleError(f"L'option « {key} » est vide.", option=key)

    tz_defaulted = "tz" not in opts
    timezone = DEFAULT_TIMEZONE if tz_defaulted else parse_timezone(opts["tz"])
    mode = _parse_choice(
        opts.get("mode", "new"), _MODE_WORDS, "mode", "new (nouveautés) ou full (tout)"
    )
    empty = _parse_choice(
        opts.get("empty", "notify"),
        _EMPTY_WORDS,
        "empty",
        "skip (ne rien poster) ou notify (le dire)",
    )

    if "cron" in opts:
        if "at" in opts or "days" in opts:
            raise ScheduleError(
                "Donnez soit cron=…, soit at=… et days=…, pas les deux.", option="cron"
            )
        cron = " ".join(opts["cron"].split())
        trigger = cron_trigger(cron, zone(timezone))
        spec = ScheduleSpec(
            times=(), days=ALL_DAYS, cron=cron, timezone=timezone, mode=mode, empty=empty,
            timezone_defaulted=tz_defaulted,
        )  # fmt: skip
        _check_frequency(trigger, f"L'expression cron « {cron} »")
        return spec

    times = parse_times(opts["at"]) if "at" in opts else (DEFAULT_TIME,)
    days = parse_days(opts["days"]) if "days" in opts else ALL_DAYS
    spec = ScheduleSpec(
        times=times, days=days, timezone=timezone, mode=mode, empty=empty,
        timezone_defaulted=tz_defaulted, time_defaulted="at" not in opts,
    )  # fmt: skip
    _check_times_spacing(times)
    return spec


def parse_time(token: str) -> tuple[int, int]:
    """`8h`, `08:00`, `8:30`, `20h15` → (hour, minute)."""
    text = fold(token.strip())
    match = _TIME.match(text)
    if match:
        hour, minute = int(match[1]), int(match[2] or 0)
        if hour < 24 and minute < 60:
            return hour, minute
    suggestions: list[str] = []
    loose = _TIME_LOOSE.match(text)
    if loose and int(loose[1]) < 24 and int(loose[2]) < 60:
        suggestions.append(f"{int(loose[1]):02d}:{int(loose[2]):02d}")
    elif match and int(match[1]) == 24 and int(match[2] or 0) == 0:
        suggestions.append("00:00")
    raise ScheduleError(
        f"« {clip(token)} » n'est pas une heure valide (HH:MM, de 00:00 à 23:59).",
        suggestions,
        option="at",
    )


def parse_times(value: str) -> tuple[tuple[int, int], ...]:
    tokens = [t for t in _LIST_SPLIT.split(value) if t and fold(t) not in _CONNECTORS]
    if not tokens:
        raise ScheduleError("Aucune heure donnée : at=08:00 par exemple.", option="at")
    times = sorted({parse_time(t) for t in tokens})
    if len(times) > MAX_TIMES:
        raise ScheduleError(
            f"Trop d'heures ({len(times)}) : {MAX_TIMES} par jour au plus.", option="at"
        )
    return tuple(times)


def parse_days(value: str) -> tuple[int, ...]:
    """Day names, abbreviations and ranges in French or English: `mon-fri`, `lun,mer,ven`,
    `weekdays`, `semaine`, `tous`. Ranges may wrap (`sat-mon`)."""
    folded = fold(value.strip())
    if folded in _DAY_GROUPS:
        return _DAY_GROUPS[folded]
    days: set[int] = set()
    for token in _LIST_SPLIT.split(folded):
        if not token or token in _CONNECTORS:
            continue
        if token in _DAY_GROUPS:
            days.update(_DAY_GROUPS[token])
        elif "-" in token and token.count("-") == 1:
            start, end = (_day(part) for part in token.split("-"))
            days.update((start + i) % 7 for i in range((end - start) % 7 + 1))
        else:
            days.add(_day(token))
    if not days:
        raise ScheduleError("Aucun jour donné : days=mon-fri par exemple.", option="days")
    return tuple(sorted(days))


# --- helpers -------------------------------------------------------------------------


def _day(token: str) -> int:
    folded = fold(token.strip().rstrip("."))
    if folded in _DAY_WORDS:
        return _DAY_WORDS[folded]
    match = process.extractOne(folded, list(_DAY_WORDS), scorer=fuzz.ratio, score_cutoff=60)
    raise ScheduleError(
        f"« {clip(token)} » n'est pas un jour connu (lun…dim, mon…sun, ou des plages "
        "comme mon-fri).",
        (match[0],) if match else (),
        option="days",
    )


def _parse_choice(value: str, words: Mapping[str, str], key: str, expected: str) -> str:
    folded = fold(value)
    if folded in words:
        return words[folded]
    match = process.extractOne(folded, list(words), scorer=fuzz.ratio, score_cutoff=60)
    raise ScheduleError(
        f"« {clip(value)} » n'est pas une valeur possible de {key} : {expected}.",
        (words[match[0]],) if match else (),
        option=key,
    )


def _check_frequency(trigger: BaseTrigger, what: str) -> None:
    """Refuse schedules that never fire or fire more often than MIN_INTERVAL."""
    start = datetime(2000, 1, 3, tzinfo=UTC)
    first = trigger.get_next_fire_time(None, start)
    if first is None:
        raise ScheduleError(f"{what} ne se déclenche jamais.", option="cron")
    previous = first
    for _ in range(48):
        following = trigger.get_next_fire_time(previous, previous)
        if following is None:
            return
        if following - previous < MIN_INTERVAL:
            raise ScheduleError(
                f"{what} enverrait un briefing toutes les "
                f"{max(1, int((following - previous).total_seconds() // 60))} min : "
                f"il faut au moins {int(MIN_INTERVAL.total_seconds() // 60)} min entre deux.",
                option="cron",
            )
        previous = following


def _check_times_spacing(times: Sequence[tuple[int, int]]) -> None:
    minutes = [h * 60 + m for h, m in times]
    pairs = list(zip(minutes, [*minutes[1:], minutes[0] + 24 * 60], strict=True))
    limit = int(MIN_INTERVAL.total_seconds() // 60)
    for (a, b), (h, m) in zip(pairs, times, strict=True):
        if len(minutes) > 1 and b - a < limit:
            raise ScheduleError(
                f"Les heures sont trop proches (autour de {h:02d}:{m:02d}) : il faut au moins "
                f"{limit} min entre deux briefings.",
                option="at",
            )


def _bare_word_error(token: str) -> ScheduleError:
    """A word without `=`: guess which option it belongs to, so the fix is one click."""
    guesses: list[str] = []
    for key, check in (("at", parse_time), ("days", parse_days), ("tz", parse_timezone)):
        try:
            check(token)
        except ScheduleError:
            continue
        guesses.append(f"{key}={token}")
        break
    return ScheduleError(
        f"« {clip(token)} » : les options s'écrivent clé=valeur, par exemple at=08:00 "
        "days=mon-fri tz=Europe/Paris.",
        guesses,
        option=None,
    )
