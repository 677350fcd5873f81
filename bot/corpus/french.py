"""How French writes dates: "1er mars 2024", "mi-mars 2024", "du 12 au 14 mars 2024".

One place for the names and the forms, so the timeline, digests and briefing schedules
word dates the same way.
"""

from __future__ import annotations

import datetime as dt

from .text import fold

MONTH_NAMES = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip
WEEKDAY_NAMES = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


def french_day(day: dt.date) -> str:
    """ "1er mars 2024", "26 juillet 2023": how French writes a full date."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {MONTH_NAMES[day.month - 1]} {day.year}"


def french_date(iso: str, *, part: str | None = None) -> str:
    """A possibly partial ISO date in French: "26 juillet 2023", "mars 2024", "fin 2023"."""
    pieces = iso.split("-")
    try:
        year = int(pieces[0])
        if len(pieces) >= 3:
            return french_day(dt.date(year, int(pieces[1]), int(pieces[2])))
        prefix = "" if not part else ("mi-" if part == "mi" else f"{part} ")
        if len(pieces) == 2:
            return f"{prefix}{MONTH_NAMES[int(pieces[1]) - 1]} {year}"
        return f"{prefix}{year}"
    except (ValueError, IndexError):
        return iso


def french_range(start: str, end: str) -> str:
    """ "du 12 au 14 mars 2024", "de janvier à mars 2024", sharing what both ends share."""
    s, e = start.split("-"), end.split("-")
    if len(s) == 3 and len(e) == 3:
        if s[:2] == e[:2]:
            return f"du {_day_number(int(s[2]))} au {french_date(end)}"
        if s[0] == e[0]:
            first = f"{_day_number(int(s[2]))} {MONTH_NAMES[int(s[1]) - 1]}"
            return f"du {first} au {french_date(end)}"
        return f"du {french_date(start)} au {french_date(end)}"
    if len(s) == 2 and len(e) == 2 and s[0] == e[0]:
        return f"de {MONTH_NAMES[int(s[1]) - 1]} à {french_date(end)}"
    return f"de {french_date(start)} à {french_date(end)}"


def _day_number(day: int) -> str:
    return "1er" if day == 1 else str(day)


def of(label: str) -> str:
    """French "de" with elision: "d'avril 2024", "de mars 2024"."""
    return f"d'{label}" if label and fold(label[:1]) in "aeiouyh" else f"de {label}"


def number(value: int) -> str:
    """ "5 021", "1 000 000": French digit grouping (a narrow no-break space), from babel's
    CLDR data rather than a hand-written rule."""
    from babel.numbers import format_decimal

    return str(format_decimal(value, locale="fr_FR"))


def count(value: int, singular: str, plural: str | None = None) -> str:
    """ "1 caractère", "0 article", "5 021 caractères": the number and the noun agreeing
    with it by French's CLDR plural rule (0 and 1 take the singular)."""
    from babel import Locale

    form = Locale.parse("fr_FR").plural_form(abs(value))
    noun = singular if form == "one" else (plural or singular + "s")
    return f"{number(value)} {noun}"
