"""The actor directory: built once per corpus version, then only read.

`build_directory` puts the pieces together (editors' file, cached discovery, mention
finding, co-occurrence) and never fails on bad input: a broken `actors.yaml` or an
unavailable spaCy gives problems and a smaller directory, not an exception.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.actors.curated import CuratedActor, load_curated
from bot.actors.discovery import EntityExtractor, RawEntity, discover
from bot.actors.lookup import NameIndex
from bot.actors.mentions import MentionTable, find_mentions
from bot.actors.model import Actor, ActorLookup, ActorSummary, Mention
from bot.actors.names import key
from bot.actors.resolve import ActorSpec, curated_specs, resolve_actors
from bot.corpus.loader import Problem
from bot.corpus.model import Article, parse_partial_date
from bot.corpus.progress import Progress, no_progress
from bot.corpus.text import FRENCH_STOP_WORDS

log = logging.getLogger(__name__)

MAX_RELATED = 10


@dataclass
class DirectoryBuild:
    directory: ActorDirectory
    problems: list[Problem] = field(default_factory=list)
    extracted: list[str] = field(default_factory=list)  # articles read by spaCy this time


class ActorDirectory:
    """Every actor of the corpus, with look-up, autocomplete and listings."""

    def __init__(self, actors: Sequence[Actor]) -> None:
        self._actors = list(actors)
        self._by_key = {key(a.name): a for a in self._actors}
        self._index = NameIndex(
            [a.name for a in self._actors],
            [(a.name, *a.aliases) for a in self._actors],
            [a.mention_count for a in self._actors],
        )
        self._per_article: dict[str, dict[str, int]] = {}
        for actor in self._actors:
            for m in actor.mentions:
                if not m.in_related_links:
                    counts = self._per_article.setdefault(m.article, {})
                    counts[actor.name] = counts.get(actor.name, 0) + 1

    def __len__(self) -> int:
        return len(self._actors)

    def get(self, name: str) -> Actor | None:
        """The actor whose canonical name is `name` (folded comparison)."""
        return self._by_key.get(key(name))

    def lookup(self, query: str) -> ActorLookup:
        """Never raises: empty, odd or absent names give a not-found answer."""
        query = " ".join((query or "").split())
        result = self._index.search(query)
        if result.found is not None:
            return ActorLookup(query, True, self._actors[result.found])
        candidates = tuple(self._actors[i] for i in result.candidates)
        return ActorLookup(
            query,
            False,
            None,
            tuple(a.name for a in candidates),
            tuple(self._actors[i].name for i in result.suggestions),
            candidate_actors=candidates,
        )

    def autocomplete(self, fragment: str, limit: int = 25) -> list[str]:
        """At most `limit` names for what has been typed so far; empty → most mentioned."""
        return [self._actors[i].name for i in self._index.complete(fragment or "", limit)]

    def all(self) -> list[ActorSummary]:
        """Everyone the articles name, most mentioned first."""
        named = [a for a in self._actors if a.mentions]
        named.sort(key=lambda a: (-a.mention_count, key(a.name)))
        return [ActorSummary(a.name, a.kind, a.mention_count) for a in named]

    def actors_in(self, article_id: str, limit: int = 5) -> list[str]:
        """The actors an article names most (in its text, not its related links)."""
        counts = self._per_article.get(article_id, {})
        return sorted(counts, key=lambda n: (-counts[n], key(n)))[:limit]


def build_directory(
    articles: Sequence[Article],
    curated_path: Path | None,
    cache_dir: Path | None,
    *,
    extractor: EntityExtractor | None = None,
    discovery: bool = True,
    progress: Progress = no_progress,
) -> DirectoryBuild:
    """The directory of `articles`: curated actors from `curated_path` (if given) plus the
    people and organisations discovered in the articles (spaCy results cached per
    article text in `cache_dir`)."""
    problems: list[Problem] = []
    entries: tuple[CuratedActor, ...] = ()
    if curated_path is not None:
        curated = load_curated(curated_path)
        entries = curated.actors
        problems.extend(curated.problems)
        for problem in curated.problems:
            log.warning("actors file: %s", problem)
    extracted: list[str] = []
    entities: Mapping[str, Sequence[RawEntity]] = {}
    if discovery:
        found = discover(articles, cache_dir, extractor, progress=progress)
        entities, extracted = found.entities, found.extracted
        problems.extend(found.problems)
    ordered = sorted(articles, key=_chronological)
    specs = resolve_actors(curated_specs(entries), entities, ordered)
    table = find_mentions(specs, ordered)
    counts = [len(m) for m in table.mentions]
    actors = [_actor(spec, i, table, specs, counts) for i, spec in enumerate(specs)]
    # Discovered names the text never shows again (odd spans) are not actors.
    actors = [a for a in actors if a.curated or a.mentions]
    return DirectoryBuild(ActorDirectory(actors), problems, extracted)


def _chronological(article: Article) -> tuple[dt.date, str]:
    return (article.day or dt.date.max, article.id)


def _actor(
    spec: ActorSpec,
    index: int,
    table: MentionTable,
    specs: Sequence[ActorSpec],
    counts: Sequence[int],
) -> Actor:
    mentions = table.mentions[index]
    weights = table.cooccurrence[index]
    related = sorted(
        (i for i in weights if counts[i]),
        key=lambda i: (-weights[i], -counts[i], key(specs[i].name)),
    )
    dates = [(parse_partial_date(m.date), m.date) for m in mentions if m.date]
    dates = [(d, s) for d, s in dates if d is not None]
    return Actor(
        name=spec.name,
        kind=spec.kind,
        description=spec.description or _first_description(mentions),
        aliases=tuple(spec.aliases),
        link=spec.link,
        curated=spec.curated,
        mentions=tuple(mentions),
        related=tuple(specs[i].name for i in related[:MAX_RELATED]),
        first_date=min(dates)[1] if dates else None,
        last_date=max(dates)[1] if dates else None,
    )


def _first_description(mentions: Sequence[Mention]) -> str:
    """The first sentence that describes the actor, e.g. an apposition ("le numéro deux de
    la diplomatie américaine, Kurt Campbell"), else the first sentence naming them."""
    body = [m for m in mentions if not m.in_related_links] or list(mentions)
    for m in body:
        if any(_described(m.excerpt, start, end) for start, end in m.marks):
            return m.excerpt
    return body[0].excerpt if body else ""


def _described(text: str, start: int, end: int) -> bool:
    """A comma or a lower-case title word right next to the name: "X, le ...", "le
    général X", "le numéro deux de ..., X"."""
    before = text[:start].rstrip()
    after = text[end:].lstrip()
    if before.endswith(",") or after.startswith(","):
        return True
    last_word = before.split()[-1] if before.split() else ""
    return (
        last_word.isalpha()
        and last_word.islower()
        and len(last_word) > 3
        and key(last_word) not in FRENCH_STOP_WORDS
    )
