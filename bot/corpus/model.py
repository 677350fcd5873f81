"""The article model every other part reads: articles, sections, paragraphs, sentences."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

SECTION_SEPARATOR = " › "


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence of a paragraph; `start`/`end` are offsets in the paragraph's text."""

    text: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Paragraph:
    """A paragraph with markup removed; `offset` is where it starts in the source file."""

    text: str
    offset: int
    sentences: tuple[Sentence, ...]


@dataclass(frozen=True, slots=True)
class Section:
    """A run of paragraphs under one heading path (the lead section sits under the title)."""

    heading_path: tuple[str, ...]
    paragraphs: tuple[Paragraph, ...]

    @property
    def heading(self) -> str:
        return self.heading_path[-1] if self.heading_path else ""

    @property
    def label(self) -> str:
        """Heading path as shown in citations, ending with the section's own heading."""
        return SECTION_SEPARATOR.join(self.heading_path)

    @property
    def text(self) -> str:
        return "\n\n".join(p.text for p in self.paragraphs)

    @property
    def sentences(self) -> list[Sentence]:
        return [s for p in self.paragraphs for s in p.sentences]


@dataclass(frozen=True, slots=True)
class Link:
    title: str
    url: str


@dataclass(frozen=True, slots=True)
class Article:
    """One file of the corpus. `date` is ISO and may be partial (YYYY or YYYY-MM) or unknown."""

    id: str
    title: str
    sections: tuple[Section, ...]
    date: str | None = None
    source: str | None = None
    url: str | None = None
    language: str = "fr"
    related_links: tuple[Link, ...] = ()
    path: str = ""
    content_hash: str = ""
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def day(self) -> dt.date | None:
        """The article's date as a day (first day of the month/year when partial)."""
        return parse_partial_date(self.date)

    @property
    def sentences(self) -> list[Sentence]:
        return [s for sec in self.sections for s in sec.sentences]


def parse_partial_date(value: str | None) -> dt.date | None:
    if not value:
        return None
    parts = value.split("-")
    try:
        year = int(parts[0])
        month = int(parts[1]) if len(parts) > 1 else 1
        day = int(parts[2]) if len(parts) > 2 else 1
        return dt.date(year, month, day)
    except (ValueError, IndexError):
        return None
