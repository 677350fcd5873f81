"""Finds where the articles name each actor, and who is named alongside whom.

Every sentence is tokenised once and scanned left to right for the longest name form that
starts at each word, so the cost grows with the corpus, not with corpus × actors, and
"Ali Mahamane Lamine Zeine" is one mention of one actor rather than three overlapping
ones. Forms compare folded (case and accents ignored), except acronyms, which must be
written in capitals ("EI" is not "ei"), and discovered names, which must be capitalised.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from bot.actors.model import Mention
from bot.actors.names import strip_accents, word_spans
from bot.actors.resolve import ActorSpec, MatchForm
from bot.corpus.model import Article

RELATED_SECTION = "Pour plus d'informations"
SENTENCE_WEIGHT = 2
SECTION_WEIGHT = 1
# What may separate the words of one name: "Al-Qaïda", "d'Etat", "Jean Marie".
_JOINER = re.compile(r"^[\s\-‐‑'’]+$")


@dataclass(frozen=True, slots=True)
class _Unit:
    """A sentence of an article with where it sits, or a related link's title."""

    article: Article
    section_index: int
    section_label: str
    text: str
    url: str | None
    in_related_links: bool


@dataclass
class MentionTable:
    mentions: list[list[Mention]]  # per actor, in corpus order
    cooccurrence: list[Counter[int]]  # per actor: other actor -> weight
    per_article: dict[str, Counter[int]] = field(default_factory=dict)  # body mentions only


def find_mentions(actors: Sequence[ActorSpec], articles: Sequence[Article]) -> MentionTable:
    """Mentions of every actor in every sentence (and related-link title) of `articles`."""
    starts: dict[str, list[tuple[MatchForm, int]]] = defaultdict(list)
    for index, spec in enumerate(actors):
        for form in spec.forms.values():
            starts[form.tokens[0]].append((form, index))
    for forms in starts.values():
        forms.sort(key=lambda f: -len(f[0].tokens))

    table = MentionTable([[] for _ in actors], [Counter() for _ in actors])
    for article in articles:
        per_article: Counter[int] = Counter()
        section_actors: dict[int, set[int]] = defaultdict(set)
        for unit in _units(article):
            found = _scan(unit.text, starts)
            if not found:
                continue
            for index, marks in found.items():
                table.mentions[index].append(
                    Mention(
                        article=article.id,
                        title=article.title,
                        section=unit.section_label,
                        date=article.date,
                        excerpt=unit.text,
                        marks=tuple(marks),
                        url=unit.url,
                        in_related_links=unit.in_related_links,
                    )
                )
                if not unit.in_related_links:
                    per_article[index] += 1
            if not unit.in_related_links:  # a list of links is not one topic
                section_actors[unit.section_index].update(found)
            _pair(table.cooccurrence, found.keys(), SENTENCE_WEIGHT)
        for present in section_actors.values():
            _pair(table.cooccurrence, present, SECTION_WEIGHT)
        table.per_article[article.id] = per_article
    return table


def _units(article: Article) -> list[_Unit]:
    units = [
        _Unit(article, i, section.label, sentence.text, article.url, False)
        for i, section in enumerate(article.sections)
        for sentence in section.sentences
    ]
    related = len(article.sections)
    units.extend(
        _Unit(article, related, RELATED_SECTION, link.title, link.url, True)
        for link in article.related_links
        if link.title.strip()
    )
    return units


def _scan(
    text: str, starts: dict[str, list[tuple[MatchForm, int]]]
) -> dict[int, list[tuple[int, int]]]:
    """Actor index -> (start, end) spans of its names in `text`."""
    spans = word_spans(text)
    found: dict[int, list[tuple[int, int]]] = {}
    i = 0
    while i < len(spans):
        matched = 0
        for form, index in starts.get(spans[i][0], ()):
            n = len(form.tokens)
            if matched and n < matched:
                break  # a longer form already matched here
            if _matches(text, spans, i, form):
                matched = n
                found.setdefault(index, []).append((spans[i][1], spans[i + n - 1][2]))
        i += matched or 1
    return found


def _matches(text: str, spans: list[tuple[str, int, int]], i: int, form: MatchForm) -> bool:
    n = len(form.tokens)
    if i + n > len(spans):
        return False
    for j in range(n):
        if spans[i + j][0] != form.tokens[j]:
            return False
        if j and not _JOINER.match(text[spans[i + j - 1][2] : spans[i + j][1]]):
            return False
    if form.case is not None:
        written = tuple(strip_accents(text[s:e]) for _, s, e in spans[i : i + n])
        if written != form.case:
            return False
    return not (form.capitalized and not text[spans[i][1]].isupper())


def _pair(weights: list[Counter[int]], present: Iterable[int], weight: int) -> None:
    members = sorted(present)
    for a in members:
        for b in members:
            if a != b:
                weights[a][b] += weight
