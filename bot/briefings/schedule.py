"""A briefing schedule once it is valid: its trigger, its next fire time, its description.

Pure (no storage, no clock of its own), so the commands, the storage and the
scheduler agree on one meaning of a schedule. Reading what an admin types is
`schedule_parsing`'s job; reading a stored schedule is `ScheduleSpec.from_stored`, which
trusts the canonical columns the storage wrote and never re-runs the user-input parser.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

from bot.briefings.errors import ScheduleError, clip, join_and
from bot.briefings.timezones import DEFAULT_TIMEZONE, stored_timezone, zone, zone_or_utc
from bot.corpus.french import MONTH_NAMES, WEEKDAY_NAMES

DEFAULT_TIME = (8, 0)
MODES = ("new", "full")
EMPTY_POLICIES = ("skip", "notify")
# A briefing is a digest, not a feed: more often than this is almost surely a typo.
MIN_INTERVAL = timedelta(minutes=15)

DAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # APScheduler's, 0 = Monday
ALL_DAYS: tuple[int, ...] = tuple(range(7))
WEEKDAYS: tuple[int, ...] = tuple(range(5))


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
        return zone(self.timezone)

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
        tz = self.zone
        if self.cron:
            return cron_trigger(self.cron, tz)
        by_minute: dict[int, list[int]] = {}
        for hour, minute in self.times:
            by_minute.setdefault(minute, []).append(hour)
        triggers = [
            CronTrigger(
                day_of_week=self.days_text,
                hour=",".join(str(h) for h in hours),
                minute=str(minute),
                timezone=tz,
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
        times = join_and([f"{h:02d}:{m:02d}" for h, m in self.times])
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
        """The spec of columns the storage wrote (see `times_text`, `days_text`).

        They were validated when the admin typed them, so this only splits them back;
        the time zone follows the stored-zone policy of `timezones.stored_timezone`.
        Raises ScheduleError only for columns no version of briefbot writes.
        """
        tz = stored_timezone(timezone)
        if cron:
            return cls(times=(), days=ALL_DAYS, cron=cron, timezone=tz, mode=mode, empty=empty)
        try:
            parsed_times = tuple(_stored_time(t) for t in times.split(",") if t)
            parsed_days = (
                ALL_DAYS
                if days.strip() == "*"
                else tuple(DAY_CODES.index(d) for d in days.split(","))
            )
        except ValueError:
            raise ScheduleError(
                f"Horaire enregistré illisible « {clip(times)} » {clip(days)}."
            ) from None
        return cls(times=parsed_times, days=parsed_days, timezone=tz, mode=mode, empty=empty)


def describe_days(days: Sequence[int]) -> str:
    """French for a set of days: "tous les jours", "du lundi au vendredi", "chaque lundi"."""
    ordered = sorted(set(days))
    if ordered == list(ALL_DAYS):
        return "tous les jours"
    if len(ordered) >= 3 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"du {WEEKDAY_NAMES[ordered[0]]} au {WEEKDAY_NAMES[ordered[-1]]}"
    if ordered == [5, 6]:
        return "le week-end"
    return "chaque " + join_and([WEEKDAY_NAMES[d] for d in ordered])


def describe_moment(moment: datetime, timezone: str) -> str:
    """French date and time in the given zone: "lundi 8 janvier 2024 à 08:00"."""
    local = moment.astimezone(zone_or_utc(timezone))
    return (
        f"{WEEKDAY_NAMES[local.weekday()]} {local.day} {MONTH_NAMES[local.month - 1]} "
        f"{local.year} à {local:%H:%M}"
    )


def cron_trigger(cron: str, tz: ZoneInfo) -> CronTrigger:
    """The trigger of a five-field crontab expression; ScheduleError (option `cron`) if it
    is not one."""
    fields = cron.split()
    example = "minute heure jour mois jour-de-semaine, par exemple « 0 8 * * 1-5 »"
    if len(fields) != 5:
        raise ScheduleError(
            f"L'expression cron « {clip(cron)} » doit avoir 5 champs ({example}).", option="cron"
        )
    minute, hour, day, month, day_of_week = fields
    try:
        return CronTrigger(
            minute=minute, hour=hour, day=day, month=month,
            day_of_week=_cron_dow_to_aps(day_of_week), timezone=tz,
        )  # fmt: skip
    except ValueError:
        raise ScheduleError(
            f"L'expression cron « {clip(cron)} » n'est pas valide ({example}).", option="cron"
        ) from None


# --- helpers -------------------------------------------------------------------------


def _stored_time(text: str) -> tuple[int, int]:
    hour, minute = text.split(":")
    return int(hour), int(minute)


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
