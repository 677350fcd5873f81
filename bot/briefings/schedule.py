"""Briefing schedules: parse what an admin types, validate it, and turn it into a trigger.

Everything here is pure (no storage, no clock of its own) so that the command layer, the
store and the scheduler agree on one reading of `at=08:00 days=mon-fri tz=Europe/Paris`.
Errors are `ScheduleError`s with a French message and, where we can guess, suggestions
that the caller turns into a corrected command.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from rapidfuzz import fuzz, process

from bot.corpus.text import fold

DEFAULT_TIMEZONE = "UTC"
DEFAULT_TIME = (8, 0)
MODES = ("new", "full")
EMPTY_POLICIES = ("skip", "notify")
MAX_TIMES = 12
MAX_OPTIONS_CHARS = 500
# A briefing is a digest, not a feed: more often than this is almost surely a typo.
MIN_INTERVAL = timedelta(minutes=15)

DAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # APScheduler's, 0 = Monday
FRENCH_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
FRENCH_MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip
ALL_DAYS: tuple[int, ...] = tuple(range(7))
# Offered first when autocompleting an empty time zone field.
_COMMON_ZONES = (
    "UTC", "Europe/Paris", "Europe/London", "Europe/Brussels", "Europe/Berlin",
    "Africa/Abidjan", "Africa/Dakar", "Africa/Lagos", "Africa/Casablanca", "Africa/Tunis",
    "America/Montreal", "America/New_York", "America/Los_Angeles", "Asia/Tokyo",
)  # fmt: skip
WEEKDAYS: tuple[int, ...] = tuple(range(5))

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


class ScheduleError(ValueError):
    """A schedule the user typed that we cannot use. `option` names the faulty option and
    `suggestions` are replacement values for it, best first, so the caller can offer the
    corrected command."""

    def __init__(
        self, message: str, suggestions: Sequence[str] = (), *, option: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.suggestions = tuple(suggestions)
        self.option = option

    @property
    def text(self) -> str:
        """The message plus a "did you mean" sentence when we have a guess."""
        if not self.suggestions:
            return self.message
        return f"{self.message} Vouliez-vous dire {_join_or(self.suggestions)} ?"

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class ScheduleSpec:
    """When a channel gets its briefing. Either `times` × `days` or a crontab `cron`, both
    read in the IANA `timezone` so 08:00 stays 08:00 across daylight-saving changes."""

    times: tuple[tuple[int, int], ...] = (DEFAULT_TIME,)
    days: tuple[int, ...] = ALL_DAYS  # 0 = Monday
    cron: str | None = None
    timezone: str = DEFAULT_TIMEZONE
    mode: str = "new"
    empty: str = "notify"
    timezone_defaulted: bool = False
    time_defaulted: bool = False

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def times_text(self) -> str:
        """Stored form of the times of day: "08:00,18:30"."""
        return ",".join(f"{h:02d}:{m:02d}" for h, m in self.times)

    @property
    def days_text(self) -> str:
        """Stored form of the days, in APScheduler's day_of_week syntax: "*" or "mon,wed"."""
        return "*" if set(self.days) == set(ALL_DAYS) else ",".join(DAY_CODES[d] for d in self.days)

    def trigger(self) -> BaseTrigger:
        """One trigger for the whole schedule, in the subscription's own timezone.

        Times that share a minute share a CronTrigger (hour="8,18"); different minutes need
        one CronTrigger each, combined with an OrTrigger, since a single cron expression
        would fire on every hour × minute combination.
        """
        zone = self.zone
        if self.cron:
            return _cron_trigger(self.cron, zone)
        by_minute: dict[int, list[int]] = {}
        for hour, minute in self.times:
            by_minute.setdefault(minute, []).append(hour)
        triggers = [
            CronTrigger(
                day_of_week=self.days_text,
                hour=",".join(str(h) for h in hours),
                minute=str(minute),
                timezone=zone,
            )
            for minute, hours in sorted(by_minute.items())
        ]
        return triggers[0] if len(triggers) == 1 else OrTrigger(triggers)

    def next_fire_time(self, after: datetime) -> datetime | None:
        """The first fire time at or after `after`, in the schedule's timezone."""
        return self.trigger().get_next_fire_time(None, after)

    def describe(self) -> str:
        """A French sentence: "du lundi au vendredi à 08:00 (Europe/Paris)"."""
        if self.cron:
            return f"selon l'expression cron « {self.cron} » ({self.timezone})"
        times = _join_and([f"{h:02d}:{m:02d}" for h, m in self.times])
        return f"{describe_days(self.days)} à {times} ({self.timezone})"

    def describe_mode(self) -> str:
        content = (
            "seulement les nouveautés depuis le briefing précédent"
            if self.mode == "new"
            else "toute l'actualité du corpus"
        )
        empty = (
            "rien n'est posté s'il n'y a rien de nouveau"
            if self.empty == "skip"
            else "un court message s'il n'y a rien de nouveau"
        )
        return f"{content} ; {empty}" if self.mode == "new" else content

    @classmethod
    def from_stored(
        cls,
        *,
        times: str,
        days: str,
        cron: str | None,
        timezone: str,
        mode: str = "new",
        empty: str = "notify",
    ) -> ScheduleSpec:
        """Rebuild a spec from the columns the store keeps (see `times_text`, `days_text`)."""
        options: dict[str, str] = {"tz": timezone, "mode": mode, "empty": empty}
        if cron:
            options["cron"] = cron
        else:
            options["at"] = times
            options["days"] = days
        return parse_schedule(options)


def parse_options(text: str) -> dict[str, str]:
    """Split `at=08:00 days=mon-fri cron="0 8 * * 1-5"` into canonical key → value.

    Quotes (straight, curly or « ») group a value with spaces; keys may be French or
    English aliases (`heure=`, `jours=`, `fuseau=`). A word without `=` is refused with a
    guess at the option it was meant for.
    """
    if len(text) > MAX_OPTIONS_CHARS:
        raise ScheduleError(
            f"Options trop longues ({len(text)} caractères, {MAX_OPTIONS_CHARS} au plus)."
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
        f"Option inconnue « {_clip(key)} ». Options possibles : {', '.join(OPTION_KEYS)}.",
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
        trigger = _cron_trigger(cron, ZoneInfo(timezone))
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
        f"« {_clip(token)} » n'est pas une heure valide (HH:MM, de 00:00 à 23:59).",
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


def parse_timezone(value: str) -> str:
    """An IANA name, matched case-insensitively; otherwise up to three close names."""
    name = value.strip()
    canonical = _zones_by_fold().get(fold(name))
    if canonical:
        return canonical
    raise ScheduleError(
        f"Fuseau horaire inconnu « {_clip(name)} » (nom IANA attendu, par exemple Europe/Paris).",
        suggest_timezones(name),
        option="tz",
    )


def suggest_timezones(value: str, limit: int = 3) -> list[str]:
    """Closest IANA names, comparing with the full name and with its city part, so that
    both "Europe/Pariss" and "paris" lead to Europe/Paris."""
    query = fold(value.strip()).replace(" ", "_")
    if not query:
        return []
    scored: list[tuple[float, str]] = []
    for folded, name in _zones_by_fold().items():
        city = folded.rsplit("/", 1)[-1]
        score = max(fuzz.ratio(query, folded), fuzz.ratio(query, city))
        if score >= 75:
            scored.append((score, name))
    scored.sort(key=lambda pair: (-pair[0], pair[1].count("/") == 0, pair[1]))
    # Only near-ties of the best guess: "Pariss" should not also suggest Madrid.
    best = scored[0][0] if scored else 0
    return [name for score, name in scored[:limit] if score >= best - 6]


def complete_timezones(fragment: str, limit: int = 25) -> list[str]:
    """Time zone names for autocompletion (Discord options): names or cities starting
    with the fragment, then containing it, then close to it."""
    query = fold(fragment.strip()).replace(" ", "_")
    zones = _zones_by_fold()
    if not query:
        return [z for z in _COMMON_ZONES if fold(z) in zones][:limit]
    starts, contains = [], []
    for folded, name in zones.items():
        city = folded.rsplit("/", 1)[-1]
        if folded.startswith(query) or city.startswith(query):
            starts.append(name)
        elif query in folded:
            contains.append(name)
    found = list(dict.fromkeys([*starts, *contains]))
    if len(found) < limit:
        found += [z for z in suggest_timezones(fragment, limit) if z not in found]
    return found[:limit]


def describe_days(days: Sequence[int]) -> str:
    """French for a set of days: "tous les jours", "du lundi au vendredi", "chaque lundi"."""
    ordered = sorted(set(days))
    if ordered == list(ALL_DAYS):
        return "tous les jours"
    if len(ordered) >= 3 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"du {FRENCH_DAYS[ordered[0]]} au {FRENCH_DAYS[ordered[-1]]}"
    if ordered == [5, 6]:
        return "le week-end"
    return "chaque " + _join_and([FRENCH_DAYS[d] for d in ordered])


def describe_moment(moment: datetime, timezone: str) -> str:
    """French date and time in the given zone: "lundi 8 janvier 2024 à 08:00"."""
    local = moment.astimezone(ZoneInfo(timezone))
    return (
        f"{FRENCH_DAYS[local.weekday()]} {local.day} {FRENCH_MONTHS[local.month - 1]} "
        f"{local.year} à {local:%H:%M}"
    )


# --- helpers -------------------------------------------------------------------------


def _day(token: str) -> int:
    folded = fold(token.strip().rstrip("."))
    if folded in _DAY_WORDS:
        return _DAY_WORDS[folded]
    match = process.extractOne(folded, list(_DAY_WORDS), scorer=fuzz.ratio, score_cutoff=60)
    raise ScheduleError(
        f"« {_clip(token)} » n'est pas un jour connu (lun…dim, mon…sun, ou des plages "
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
        f"« {_clip(value)} » n'est pas une valeur possible de {key} : {expected}.",
        (words[match[0]],) if match else (),
        option=key,
    )


_CRON_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _cron_dow_to_aps(field: str) -> str:
    """Translate a crontab day-of-week field (0 or 7 = Sunday) into APScheduler's day names.

    APScheduler 3 numbers days from Monday = 0 even in `from_crontab`, so "1-5" would
    silently mean Tuesday to Saturday; we expand the field into names ourselves.
    """
    if field in ("*", "?"):
        return "*"
    days: set[int] = set()
    for part in field.split(","):
        base, slash, step_text = part.partition("/")
        if slash and not step_text.isdigit():
            raise ValueError(f"bad step in {part!r}")
        step = int(step_text) if slash else 1
        if step < 1:
            raise ValueError("step must be positive")
        if base == "*":
            low, high = 0, 6
        elif "-" in base:
            low_text, high_text = base.split("-", 1)
            low, high = _cron_day_number(low_text), _cron_day_number(high_text)
        else:
            low = _cron_day_number(base)
            high = 6 if slash else low
        if low > high:
            raise ValueError(f"bad range {base!r}")
        days.update((n - 1) % 7 for n in range(low, high + 1, step))  # Sunday 0/7 → 6
    return "*" if len(days) == 7 else ",".join(DAY_CODES[d] for d in sorted(days))


def _cron_day_number(token: str) -> int:
    token = token.lower()
    if token.isdigit() and 0 <= int(token) <= 7:
        return int(token)
    if token in _CRON_DAY_NAMES:
        return _CRON_DAY_NAMES.index(token)
    raise ValueError(f"bad day {token!r}")


def _cron_trigger(cron: str, zone: ZoneInfo) -> CronTrigger:
    fields = cron.split()
    example = "minute heure jour mois jour-de-semaine, par exemple « 0 8 * * 1-5 »"
    if len(fields) != 5:
        raise ScheduleError(
            f"L'expression cron « {_clip(cron)} » doit avoir 5 champs ({example}).", option="cron"
        )
    minute, hour, day, month, day_of_week = fields
    try:
        return CronTrigger(
            minute=minute, hour=hour, day=day, month=month,
            day_of_week=_cron_dow_to_aps(day_of_week), timezone=zone,
        )  # fmt: skip
    except ValueError:
        raise ScheduleError(
            f"L'expression cron « {_clip(cron)} » n'est pas valide ({example}).", option="cron"
        ) from None


def _check_frequency(trigger: BaseTrigger, what: str) -> None:
    """Refuse schedules that never fire or fire more often than MIN_INTERVAL."""
    start = datetime(2000, 1, 3, tzinfo=ZoneInfo("UTC"))
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
        f"« {_clip(token)} » : les options s'écrivent clé=valeur, par exemple at=08:00 "
        "days=mon-fri tz=Europe/Paris.",
        guesses,
        option=None,
    )


@lru_cache(maxsize=1)
def _zones_by_fold() -> dict[str, str]:
    return {fold(name): name for name in sorted(available_timezones())}


def _clip(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _join_and(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} et {items[-1]}"


def _join_or(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} ou {items[-1]}"
