"""Time zones: the one reader of IANA names, and what a name means where it comes from.

* `zone(name)` is the only place a `ZoneInfo` is made: everything that needs one asks here.
* What an admin types goes through `parse_timezone`, which matches case-insensitively and
  otherwise refuses with close names to offer.
* A stored name is trusted while tzdata knows it. One that tzdata no longer knows (a zone
  renamed or dropped by an update) reads as UTC, with a warning in the log, so the channel
  keeps getting its briefing and the admin can see the zone to fix in `/briefing list`.
"""

from __future__ import annotations

import logging
from datetime import tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from rapidfuzz import fuzz

from bot.briefings.errors import ScheduleError, clip
from bot.corpus.text import fold

log = logging.getLogger(__name__)

DEFAULT_TIMEZONE = "UTC"
# Offered first when autocompleting an empty time zone field.
_COMMON_ZONES = (
    "UTC", "Europe/Paris", "Europe/London", "Europe/Brussels", "Europe/Berlin",
    "Africa/Abidjan", "Africa/Dakar", "Africa/Lagos", "Africa/Casablanca", "Africa/Tunis",
    "America/Montreal", "America/New_York", "America/Los_Angeles", "Asia/Tokyo",
)  # fmt: skip


def zone(name: str) -> ZoneInfo:
    """The zone of an IANA name; raises ScheduleError (option `tz`) if tzdata lacks it."""
    try:
        return _zone(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(
            f"Fuseau horaire inconnu « {clip(name)} ».", suggest_timezones(name), option="tz"
        ) from None


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    if name not in _zones_by_fold().values():
        raise ZoneInfoNotFoundError(name)
    return ZoneInfo(name)


def stored_timezone(name: str) -> str:
    """The zone name to use for one read from the database: itself while tzdata knows it,
    UTC otherwise (logged), so a tzdata update never stops a channel's briefings."""
    try:
        zone(name)
    except ScheduleError:
        log.warning("stored time zone %r is unknown to tzdata; using UTC", name)
        return DEFAULT_TIMEZONE
    return name


def zone_or_utc(name: str) -> tzinfo:
    """For showing a moment in a stored zone: the zone, or UTC when tzdata lacks it."""
    return zone(stored_timezone(name))


def parse_timezone(value: str) -> str:
    """An IANA name, matched case-insensitively; otherwise up to three close names."""
    name = value.strip()
    canonical = _zones_by_fold().get(fold(name))
    if canonical:
        return canonical
    raise ScheduleError(
        f"Fuseau horaire inconnu « {clip(name)} » (nom IANA attendu, par exemple Europe/Paris).",
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


@lru_cache(maxsize=1)
def _zones_by_fold() -> dict[str, str]:
    return {fold(name): name for name in sorted(available_timezones())}
