"""Dated events of French articles: find the date expressions, resolve them, sort them.

Finding: a small French date grammar (regexes below) proposes candidates: "26 juillet
2023", "du 12 au 14 mars", "mercredi 10 avril", "fin décembre", "en janvier", "juillet
dernier", "samedi dernier", "en 2012", "depuis 2020", "hier", "l'an dernier"... Every
candidate needs a month name, a weekday name, a four-digit year behind a temporal
preposition, or a numeric date, so words that free-text date search reads as dates ("sa",
"jeu", "Deux jours", "a, dans un") are never candidates. A month name alone must be
lowercase and introduced ("en mars", "de juillet", "fin mars"), so "Mars" the planet is not
a date; habitual weekdays ("le lundi", "chaque samedi") are not events.

Resolving is calendar arithmetic, not dateparser: the grammar already yields day, month,
year and modifiers, and dateparser (measured on the seeds) returns nothing for "samedi
dernier", "fin décembre", "26 juillet dernier", "mi-mars" or "mardi prochain", reads "sa",
"jeu" and "Deux jours" as dates, resolves weekdays against a partial article date as if it
were a day, and costs ~120 ms to import plus ~100 ms on its first call. The rules:

* A year written out wins. Otherwise the year comes from the reference date: the
  article's date when it has one, preferring the past as news does (the latest occurrence
  not after the article's month: "fin décembre" in April 2024 is December 2023, "en mars"
  is March 2024; "prochain" looks forward, "dernier" strictly back).
* An undated article takes as reference the latest date with an explicit year and a
  month it mentions (its anchor) and looks forward from it, because a text is written after
  the dated events it recounts: "du 12 au 14 mars" after "26 juillet 2023" is March 2024.
  Inferred dates never move the anchor. Without an anchor, yearless dates are dropped.
* A weekday ("vendredi", "samedi dernier", "mardi") is a day only when it can be placed:
  after a cue relative to a nearby dated sentence ("mercredi 10 avril ... Deux jours plus
  tard, vendredi" is 12 April), or against an article dated to the day. Against an
  article dated only to the month it keeps month precision (the article's month), and it
  is dropped when the article has no date at all, since any day would be a guess.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache

from bot.chat.replies import Citation
from bot.corpus.french import MONTH_NAMES, WEEKDAY_NAMES, french_date, french_range
from bot.corpus.model import Article
from bot.corpus.text import fold

_MONTH_NUMBER = {fold(name): i for i, name in enumerate(MONTH_NAMES, start=1)}
_WEEKDAY_NUMBER = {name: i for i, name in enumerate(WEEKDAY_NAMES)}
_NUMBER_WORDS = {
    "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7,
    "huit": 8, "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "quinze": 15,
}  # fmt: skip

_AP = "['’]"
_M = (
    r"(?:janvier|f[ée]vrier|mars|avril|mai|juin|juillet|ao[ûu]t"
    r"|septembre|octobre|novembre|d[ée]cembre)"
)
_W = r"(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)"
_D = r"(?:1er|premier|[12]\d|3[01]|0?[1-9])"
_Y = r"(?:1[89]\d{2}|2[01]\d{2})"
_NOT_NUM_BEFORE = r"(?<![\d.,/-])"
_NOT_NUM_AFTER = r"(?![\d]|[.,/]\d)"
_AMOUNT_AFTER = (
    r"(?!\s*(?:%|€|\$|euros?|dollars?|francs?|km|kilom|mètres|tonnes|hommes|femmes|soldats|"
    r"personnes|morts|habitants|militaires|km2|hectares)\b)"
)
_PART = (
    rf"(?P<part>fin|d[ée]but|mi-|courant|à\s+la\s+fin\s+d(?:e\s+|{_AP})|au\s+d[ée]but\s+d(?:e\s+|{_AP})"
    rf"|à\s+la\s+mi-|au\s+milieu\s+d(?:e\s+|{_AP})|dans\s+le\s+courant\s+d(?:e\s+|{_AP}))"
)
_PREP = (
    rf"(?P<prep>en|depuis|dès|jusqu{_AP}en|jusqu{_AP}à|d{_AP}ici|avant|après|au\s+mois\s+d(?:e\s+|{_AP})"
    rf"|le\s+mois\s+d(?:e\s+|{_AP})|de\s+|d{_AP})"
)
_REL = r"(?P<rel>dernier|derni[èe]re|prochaine?|pass[ée]e?)"

_F = re.IGNORECASE
# (kind, regex source): compiled on first use, so importing this module stays cheap.
_PATTERN_SOURCES: tuple[tuple[str, str], ...] = (
    (
        "day_range",
        (
            rf"\b(?P<pre>du|entre\s+le)\s+(?:{_W}\s+)?(?P<d1>{_D})(?:\s+(?P<m1>{_M})(?:\s+(?P<y1>{_Y}))?)?"
            rf"\s+(?:au|et\s+le)\s+(?:{_W}\s+)?(?P<d2>{_D})\s+(?P<m2>{_M})\b(?:\s+(?P<y2>{_Y})\b)?"
        ),
    ),
    (
        "day_range",
        (
            rf"\b(?P<pre>les)\s+(?P<d1>{_D})\s+et\s+(?P<d2>{_D})\s+(?P<m2>{_M})\b(?:\s+(?P<y2>{_Y})\b)?"
        ),
    ),
    (
        "month_range",
        (
            rf"\b(?P<pre>de|d{_AP}|entre)\s*(?P<m1>{_M})(?:\s+(?P<y1>{_Y}))?\s+(?:à|et)\s+"
            rf"(?P<m2>{_M})\b(?:\s+(?P<y2>{_Y})\b)?"
        ),
    ),
    (
        "day",
        (
            rf"(?:\b(?P<w>{_W})\s+)?{_NOT_NUM_BEFORE}\b(?P<d>{_D})\s+(?P<m>{_M})\b"
            rf"(?:\s+(?P<y>{_Y})\b)?(?:\s+{_REL}\b)?"
        ),
    ),
    (
        "numeric",
        (
            rf"{_NOT_NUM_BEFORE}\b(?:(?P<d>[0-3]?\d)/(?P<mo>[01]?\d)/(?P<y>{_Y})"
            rf"|(?P<y2>{_Y})-(?P<mo2>[01]\d)-(?P<d2>[0-3]\d)){_NOT_NUM_AFTER}"
        ),
    ),
    (
        "month",
        (rf"(?:\b(?:{_PART}\s*|{_PREP}\s*))?\b(?P<m>{_M})\b(?:\s+(?P<y>{_Y})\b)?(?:\s+{_REL}\b)?"),
    ),
    (
        "year",
        (
            rf"\b(?:{_PART}\s*(?:l{_AP}année\s+)?|(?P<prep>en|depuis|dès|jusqu{_AP}en|d{_AP}ici"
            rf"|avant|après|l{_AP}année|au\s+cours\s+de\s+l{_AP}année)\s+)(?<!\d)(?P<y>{_Y})"
            rf"{_NOT_NUM_AFTER}{_AMOUNT_AFTER}"
        ),
    ),
    (
        "weekday",
        (
            rf"(?:\b(?P<det>ce|le|chaque|les|tous\s+les)\s+)?\b(?P<w>{_W})(?P<plural>s)?\b"
            rf"(?:\s+(?P<rel>dernier|prochain|suivant|pr[ée]c[ée]dent)\b)?"
        ),
    ),
    ("yesterday", r"(?<!['’])\b(?P<rel>avant-hier|hier)\b"),
    (
        "relative_period",
        (
            rf"\b(?:l{_AP}(?P<unit>an|année)\s+{_REL}|(?P<this>cette\s+année)"
            rf"|le\s+(?P<unit2>mois)\s+(?P<rel2>dernier|prochain))\b"
        ),
    ),
)

# "Deux jours plus tard, vendredi": a weekday placed from the previous dated sentence.
_CUE_SOURCE = (
    r"\b(?:(?P<n>\d{1,2}|un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|quinze)"
    r"\s+jours?\s+plus\s+(?P<dir>tard|t[ôo]t)|(?P<word>le\s+lendemain|la\s+veille|le\s+surlendemain))\b"
)
ANCHOR_WINDOW = 2  # sentences back (same section) where a cue may find its dated anchor


@cache
def _patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple((kind, re.compile(source, _F)) for kind, source in _PATTERN_SOURCES)


@cache
def _cue() -> re.Pattern[str]:
    return re.compile(_CUE_SOURCE, _F)


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """A dated event: `date` is ISO, partial to its `precision`; `end` closes a range.

    `phrase` is the date expression as written and `span` its offsets in `text` (the
    sentence); `relative` says the date needed the article's date or another date to be
    placed; `part` is "début"/"mi"/"fin" for "fin décembre"-like dates.
    """

    date: str
    precision: str
    phrase: str
    text: str
    citation: Citation = field(metadata={"json": False})
    relative: bool = False
    end: str | None = None
    part: str | None = field(default=None, metadata={"json": False})
    span: tuple[int, int] = field(default=(0, 0), metadata={"json": False})

    json_properties = ("article", "section")

    @property
    def article(self) -> str:
        return self.citation.article

    @property
    def section(self) -> str:
        return self.citation.section

    @property
    def label(self) -> str:
        """The event's date in French, as shown to users."""
        if self.end:
            return french_range(self.date, self.end)
        return french_date(self.date, part=self.part)


# ------------------------------------------------------------------------------ finding


@dataclass(frozen=True, slots=True)
class _Candidate:
    kind: str
    start: int
    end: int
    groups: dict[str, str | None]


def _candidates(sentence: str) -> list[_Candidate]:
    """Non-overlapping date expressions of a sentence; the longest wins an overlap."""
    found: list[_Candidate] = []
    for kind, pattern in _patterns():
        for match in pattern.finditer(sentence):
            if match.end() > match.start() and _acceptable(kind, match):
                found.append(_Candidate(kind, match.start(), match.end(), match.groupdict()))
    found.sort(key=lambda c: (-(c.end - c.start), c.start))
    taken = bytearray(len(sentence))  # linear in the text, whatever the number of matches
    chosen: list[_Candidate] = []
    for cand in found:
        if not any(taken[cand.start : cand.end]):
            taken[cand.start : cand.end] = b"\x01" * (cand.end - cand.start)
            chosen.append(cand)
    return sorted(chosen, key=lambda c: c.start)


def _acceptable(kind: str, match: re.Match[str]) -> bool:
    g = match.groupdict()
    if kind == "month":
        if g.get("y"):
            return True
        month = match.group("m")
        if not month.islower():  # "Mars" the planet, a heading in capitals
            return False
        return bool(g.get("part") or g.get("prep") or g.get("rel"))
    if kind == "month_range":
        return bool(g.get("y2")) or (match.group("m1").islower() and match.group("m2").islower())
    if kind == "weekday":
        if g.get("plural"):
            return False
        det = (g.get("det") or "").casefold()
        if det in ("chaque", "les") or det.startswith("tous"):
            return False
        # "le lundi" alone is a habit; "le samedi suivant" is a date.
        return not (det == "le" and not g.get("rel"))
    return True


def _phrase_span(kind: str, cand: _Candidate, sentence: str) -> tuple[int, int]:
    """Where the date expression is, minus a leading "de"/"d'"/"le" that is only grammar."""
    start, end = cand.start, cand.end
    if kind in ("month", "weekday"):
        head = re.match(
            rf"(?:de\s+|d{_AP}|le\s+mois\s+d(?:e\s+|{_AP})|le\s+|ce\s+)", sentence[start:end], _F
        )
        if head and head.end() < end - start:
            start += head.end()
    return start, end


# ---------------------------------------------------------------------------- resolving


@dataclass(frozen=True, slots=True)
class _Reference:
    """What yearless dates are placed against: the article's date, or its anchor."""

    day: dt.date
    precision: str  # of the article's date: "day" | "month" | "year"
    forward: bool  # an undated article's anchor: dates come after it


@dataclass(frozen=True, slots=True)
class _Resolved:
    start: dt.date
    precision: str
    end: dt.date | None = None
    relative: bool = False
    part: str | None = None


def _month_of(token: str | None) -> int | None:
    return _MONTH_NUMBER.get(fold(token)) if token else None


def _day_of(token: str) -> int:
    token = fold(token)
    return 1 if token in ("1er", "premier") else int(token)


def _part_of(token: str | None) -> str | None:
    folded = fold(token or "")
    if folded.startswith("mi-") or "la mi-" in folded or "milieu" in folded:
        return "mi"
    if "debut" in folded:
        return "début"
    if "fin" in folded:
        return "fin"
    return None  # "courant", "dans le courant de": somewhere in the period


def _year_for(month: int, ref: _Reference | None, rel: str | None) -> int | None:
    """Year of a yearless month: latest not after the reference (news tells the past)."""
    if ref is None:
        return None
    y, m = ref.day.year, ref.day.month
    direction = fold(rel or "")
    if direction.startswith("prochain"):
        return y if month > m else y + 1
    if direction.startswith(("dernier", "derniere", "passe")):
        return y if month < m else y - 1
    if ref.forward:
        return y if month >= m else y + 1
    return y if month <= m else y - 1


def _range_years(
    g: dict[str, str | None], m1: int, m2: int, ref: _Reference | None
) -> tuple[int, int] | None:
    """Years of a range's two ends: the end's as written or resolved, the start's as
    written or the same year (the year before when the range crosses New Year)."""
    y2 = int(_group(g, "y2")) if g.get("y2") else _year_for(m2, ref, None)
    if y2 is None:
        return None
    y1 = int(_group(g, "y1")) if g.get("y1") else (y2 if m1 <= m2 else y2 - 1)
    return y1, y2


def _group(groups: Mapping[str, str | None], name: str) -> str:
    """A group the matched pattern always captures for this kind of date."""
    value = groups.get(name)
    if value is None:
        raise LookupError(f"date pattern group {name!r} did not match")
    return value


def _safe_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _resolve(
    cand: _Candidate,
    sentence: str,
    ref: _Reference | None,
    article_ref: _Reference | None,
    anchors: list[dt.date],
) -> _Resolved | None:
    g = cand.groups
    kind = cand.kind
    if kind == "numeric":
        date = _safe_date(
            int(g["y"] or g["y2"] or 0), int(g["mo"] or g["mo2"] or 0), int(g["d"] or g["d2"] or 0)
        )
        return _Resolved(date, "day") if date else None
    if kind == "day":
        month = _month_of(g["m"])
        if month is None:
            return None
        year = int(_group(g, "y")) if g.get("y") else _year_for(month, ref, g.get("rel"))
        if year is None:
            return None
        date = _safe_date(year, month, _day_of(_group(g, "d")))
        return _Resolved(date, "day", relative=not g.get("y")) if date else None
    if kind == "day_range":
        m2 = _month_of(g["m2"])
        m1 = _month_of(g.get("m1")) or m2
        if m1 is None or m2 is None:
            return None
        years = _range_years(g, m1, m2, ref)
        if years is None:
            return None
        y1, y2 = years
        start = _safe_date(y1, m1, _day_of(_group(g, "d1")))
        end = _safe_date(y2, m2, _day_of(_group(g, "d2")))
        if not start or not end or end < start:
            return None
        return _Resolved(start, "day", end=end, relative=not g.get("y2"))
    if kind == "month_range":
        m1, m2 = _month_of(g["m1"]), _month_of(g["m2"])
        if m1 is None or m2 is None:
            return None
        years = _range_years(g, m1, m2, ref)
        if years is None:
            return None
        y1, y2 = years
        return _Resolved(dt.date(y1, m1, 1), "month", dt.date(y2, m2, 1), not g.get("y2"))
    if kind == "month":
        month = _month_of(g["m"])
        if month is None:
            return None
        year = int(_group(g, "y")) if g.get("y") else _year_for(month, ref, g.get("rel"))
        if year is None:
            return None
        return _Resolved(
            dt.date(year, month, 1), "month", relative=not g.get("y"), part=_part_of(g.get("part"))
        )
    if kind == "year":
        return _Resolved(dt.date(int(_group(g, "y")), 1, 1), "year", part=_part_of(g.get("part")))
    if kind == "weekday":
        return _resolve_weekday(cand, sentence, article_ref, anchors)
    if kind == "yesterday":
        back = 2 if fold(_group(g, "rel")).startswith("avant") else 1
        return _from_article(article_ref, -back)
    if kind == "relative_period":
        return _resolve_period(g, article_ref)
    return None


def _from_article(ref: _Reference | None, days: int) -> _Resolved | None:
    """A day counted from the article's date, or the article's month if that is all we know."""
    if ref is None or ref.forward:
        return None
    if ref.precision == "day":
        return _Resolved(ref.day + dt.timedelta(days=days), "day", relative=True)
    if ref.precision == "month":
        return _Resolved(ref.day.replace(day=1), "month", relative=True)
    return None


def _resolve_weekday(
    cand: _Candidate, sentence: str, ref: _Reference | None, anchors: list[dt.date]
) -> _Resolved | None:
    weekday = _WEEKDAY_NUMBER[fold(_group(cand.groups, "w"))]
    rel = fold(cand.groups.get("rel") or "")
    cue = None
    for match in _cue().finditer(sentence[: cand.start]):
        cue = match
    if (cue or rel in ("suivant", "precedent")) and anchors:
        anchor = anchors[-1]
        if cue is not None and cue.group("word"):
            word = fold(cue.group("word"))
            offset = {"le lendemain": 1, "la veille": -1, "le surlendemain": 2}.get(
                " ".join(word.split()), 1
            )
        elif cue is not None:
            n = cue.group("n")
            count = int(n) if n.isdigit() else _NUMBER_WORDS.get(fold(n), 1)
            offset = count if fold(cue.group("dir")) == "tard" else -count
        else:
            offset = 1 if rel == "suivant" else -1
        day = anchor + dt.timedelta(days=offset)
        step = 1 if offset > 0 else -1
        for _ in range(7):
            if day.weekday() == weekday:
                return _Resolved(day, "day", relative=True)
            day += dt.timedelta(days=step)
    if ref is None or ref.forward:
        return None
    if ref.precision == "day":
        if rel == "prochain":
            ahead = (weekday - ref.day.weekday()) % 7 or 7
            return _Resolved(ref.day + dt.timedelta(days=ahead), "day", relative=True)
        back = (ref.day.weekday() - weekday) % 7
        if rel == "dernier" and back == 0:
            back = 7
        return _Resolved(ref.day - dt.timedelta(days=back), "day", relative=True)
    if ref.precision == "month":
        return _Resolved(ref.day.replace(day=1), "month", relative=True)
    return None


def _resolve_period(g: dict[str, str | None], ref: _Reference | None) -> _Resolved | None:
    if ref is None or ref.forward:
        return None
    year = ref.day.year
    if g.get("this"):
        return _Resolved(dt.date(year, 1, 1), "year", relative=True)
    step = 1 if fold(g.get("rel") or g.get("rel2") or "").startswith("prochain") else -1
    if g.get("unit"):
        return _Resolved(dt.date(year + step, 1, 1), "year", relative=True)
    if ref.precision not in ("day", "month"):
        return None
    month_index = ref.day.year * 12 + ref.day.month - 1 + step
    return _Resolved(dt.date(month_index // 12, month_index % 12 + 1, 1), "month", relative=True)


def _iso(date: dt.date, precision: str) -> str:
    if precision == "year":
        return f"{date.year:04d}"
    if precision == "month":
        return f"{date.year:04d}-{date.month:02d}"
    return date.isoformat()


# ----------------------------------------------------------------------------- public


def _article_reference(article: Article) -> _Reference | None:
    day = article.day
    if day is None or not article.date:
        return None
    precision = {1: "year", 2: "month"}.get(len(article.date.split("-")), "day")
    return _Reference(day, precision, forward=False)


def _anchor_reference(article: Article) -> _Reference | None:
    """An undated article's anchor: its latest date written with a month and a year."""
    latest: dt.date | None = None
    for section in article.sections:
        for sentence in section.sentences:
            for cand in _candidates(sentence.text):
                if cand.kind not in ("day", "day_range", "month", "month_range", "numeric"):
                    continue
                if not any(cand.groups.get(k) for k in ("y", "y1", "y2")):
                    continue
                resolved = _resolve(cand, sentence.text, None, None, [])
                if resolved and (latest is None or resolved.start > latest):
                    latest = resolved.start
    return _Reference(latest, "day", forward=True) if latest else None


def article_events(article: Article) -> list[TimelineEvent]:
    """The dated events of one article, in reading order."""
    article_ref = _article_reference(article)
    ref = article_ref or _anchor_reference(article)
    events: list[TimelineEvent] = []
    for section in article.sections:
        citation = Citation.of(article, section.label)
        recent: list[tuple[int, dt.date]] = []  # (sentence number, day) dated to the day
        for number, sentence in enumerate(section.sentences):
            anchors = [d for n, d in recent if number - n <= ANCHOR_WINDOW]
            for cand in _candidates(sentence.text):
                resolved = _resolve(cand, sentence.text, ref, article_ref, anchors)
                if resolved is None:
                    continue
                start, end = _phrase_span(cand.kind, cand, sentence.text)
                events.append(
                    TimelineEvent(
                        date=_iso(resolved.start, resolved.precision),
                        precision=resolved.precision,
                        phrase=sentence.text[start:end],
                        text=sentence.text,
                        citation=citation,
                        relative=resolved.relative,
                        end=_iso(resolved.end, resolved.precision) if resolved.end else None,
                        part=resolved.part,
                        span=(start, end),
                    )
                )
                if resolved.precision == "day":
                    recent.append((number, resolved.start))
                    anchors = [*anchors, resolved.start]
    return events


def sort_key(event: TimelineEvent) -> tuple[int, int]:
    """Chronological order; a month or year sorts at its start ("fin" at its end, "mi" at
    its middle), before the days it contains when they tie."""
    pieces = [int(p) for p in event.date.split("-")]
    year = pieces[0]
    month = pieces[1] if len(pieces) > 1 else None
    if event.precision == "day":
        return dt.date(*pieces).toordinal(), 2
    if month is not None:
        day = {"mi": 15, "fin": 28}.get(event.part or "", 1)
        return dt.date(year, month, day).toordinal(), 1
    month = {"mi": 7, "fin": 12}.get(event.part or "", 1)
    return dt.date(year, month, 1 if month == 1 or event.part == "mi" else 31).toordinal(), 0


def extract_events(articles: Sequence[Article]) -> list[TimelineEvent]:
    """Dated events of the articles, in chronological order.

    The sort is stable: events on the same date keep article order, then reading order.
    Yearless dates get their year from the article's date or, for an undated article, from
    its latest explicitly dated event (see the module docstring); those that cannot be
    placed at all are left out rather than guessed.
    """
    events = [event for article in articles for event in article_events(article)]
    return sorted(events, key=sort_key)
