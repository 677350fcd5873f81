"""The briefing digest: per article its key points and actors, across articles a headline
and a timeline, and the reply that carries it.

Key points are the sentences that best stand for the whole article, not its first lines:
each sentence is scored by its TF-IDF cosine with the article's centroid (how much of what
the article talks about it says) and with the title, plus a small lead bonus (journalists
put essentials first), then picked by maximal marginal relevance so two points do not say
the same thing. They are shown in reading order.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.chat.replies import Block, Field, Reply, ReplyKind
from bot.chat.serial import to_json
from bot.corpus.french import french_date, french_day
from bot.corpus.model import Article
from bot.corpus.text import terms
from bot.timeline.events import TimelineEvent, extract_events, sort_key

log = logging.getLogger(__name__)

MIN_POINTS, MAX_POINTS = 2, 4
MIN_TERMS = 4  # a sentence with fewer content terms says too little to be a key point
MAX_POINT_CHARS = 400  # longer "sentences" are usually lists or unsplit paragraphs
LEAD_BONUS = 0.12  # for the first sentence; decays as 1/(1 + position)
TITLE_WEIGHT = 0.25
MMR_LAMBDA = 0.7  # relevance vs. novelty when picking the next point
DUPLICATE_SIMILARITY = 0.7  # above this cosine a sentence restates a chosen point
ACTORS_PER_ARTICLE = 5
DIGEST_ACTORS = 10
TIMELINE_IN_REPLY = 10
HEADLINE_CHARS = 220
TIMELINE_ITEM_CHARS = 220


@dataclass(frozen=True, slots=True)
class ArticleDigest:
    id: str
    title: str
    date: str | None
    url: str | None
    key_points: tuple[str, ...]
    actors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Digest:
    """A briefing. `since` is the start of the period it covers (None: everything)."""

    title: str
    generated_at: dt.datetime
    articles: tuple[ArticleDigest, ...]
    actors: tuple[str, ...]
    timeline: tuple[TimelineEvent, ...]
    headline: str = field(default="", metadata={"json": False})
    since: dt.datetime | None = field(default=None, metadata={"json": False})

    @property
    def is_empty(self) -> bool:
        return not self.articles


# --------------------------------------------------------------------------- key points


def _vector(sentence_terms: list[str], idf: Mapping[str, float]) -> dict[str, float]:
    counts = Counter(sentence_terms)
    vec = {t: (1 + math.log(c)) * idf.get(t, 1.0) for t, c in counts.items()}
    norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
    return {t: v / norm for t, v in vec.items()}


def _cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(t, 0.0) for t, v in a.items())


@dataclass(frozen=True, slots=True)
class _Scored:
    position: int
    text: str
    score: float
    vector: dict[str, float]


def rank_sentences(article: Article) -> list[tuple[int, str, float]]:
    """(position, sentence, score) of the article's candidate sentences, best first."""
    return [(s.position, s.text, s.score) for s in _score(article)]


def _score(article: Article) -> list[_Scored]:
    sentences = [s.text.strip() for s in article.sentences]
    term_lists = [terms(s) for s in sentences]
    n = len(sentences)
    df: Counter[str] = Counter(t for tl in term_lists for t in set(tl))
    idf = {t: math.log((n + 1) / (d + 0.5)) + 1.0 for t, d in df.items()}
    vectors = [_vector(tl, idf) for tl in term_lists]
    centroid: dict[str, float] = {}
    for vec in vectors:
        for t, v in vec.items():
            centroid[t] = centroid.get(t, 0.0) + v
    norm = math.sqrt(sum(v * v for v in centroid.values())) or 1.0
    centroid = {t: v / norm for t, v in centroid.items()}
    title_vec = _vector(terms(article.title), idf)
    ranked: list[_Scored] = []
    for i, (text, tl, vec) in enumerate(zip(sentences, term_lists, vectors, strict=True)):
        if len(set(tl)) < MIN_TERMS or len(text) > MAX_POINT_CHARS or text.endswith(":"):
            continue
        score = _cosine(vec, centroid) + TITLE_WEIGHT * _cosine(vec, title_vec)
        score += LEAD_BONUS / (1 + i)
        ranked.append(_Scored(i, text, score, vec))
    ranked.sort(key=lambda r: -r.score)
    return ranked


def key_points(article: Article, n: int = 3) -> list[str]:
    """The `n` (2 to 4) sentences that best represent the article, in reading order.

    Fewer only when the article has fewer sentences.
    """
    n = max(MIN_POINTS, min(MAX_POINTS, n))
    ranked = _score(article)
    if not ranked:
        # Only short sentences: the first ones are all there is to say.
        return [s.text.strip() for s in article.sentences[:n]]
    best = ranked[0].score or 1.0
    chosen: list[_Scored] = []
    pool = list(ranked)
    while pool and len(chosen) < n:

        def mmr(item: _Scored) -> float:
            redundancy = max((_cosine(item.vector, c.vector) for c in chosen), default=0.0)
            return MMR_LAMBDA * item.score / best - (1 - MMR_LAMBDA) * redundancy

        fresh = [
            item
            for item in pool
            if all(_cosine(item.vector, c.vector) < DUPLICATE_SIMILARITY for c in chosen)
        ]
        if not fresh and len(chosen) >= MIN_POINTS:
            break  # what is left only restates the points already chosen
        pick = max(fresh or pool, key=mmr)
        pool.remove(pick)
        chosen.append(pick)
    points = {s.position: s.text for s in chosen}
    for position, sentence in enumerate(article.sentences):
        if len(points) >= MIN_POINTS:
            break
        points.setdefault(position, sentence.text.strip())  # short ones, rather than one point
    return [points[position] for position in sorted(points)]


# -------------------------------------------------------------------------- selection


def _aware(moment: dt.datetime) -> dt.datetime:
    """Naive datetimes are taken as UTC so stored and computed instants compare."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _period_end(iso: str) -> dt.date | None:
    """Last day an article dated `iso` (possibly partial) may be from."""
    parts = iso.split("-")
    try:
        year = int(parts[0])
        if len(parts) == 1:
            return dt.date(year, 12, 31)
        month = int(parts[1])
        if len(parts) == 2:
            following = dt.date(year + month // 12, month % 12 + 1, 1)
            return following - dt.timedelta(days=1)
        return dt.date(year, month, int(parts[2]))
    except (ValueError, IndexError):
        return None


def select_new(
    articles: Sequence[Article], since: dt.datetime | None, first_seen: Mapping[str, dt.datetime]
) -> list[Article]:
    """Articles new since `since`, in the given order.

    New means first seen by the bot after `since`. Without a record, the article's own date
    decides, at its precision (an article dated "2024-04" is new since 15 April 2024); an
    article with neither is not new, so it cannot come back in every briefing.
    """
    if since is None:
        return list(articles)
    since = _aware(since)
    fresh = []
    for article in articles:
        seen = first_seen.get(article.id)
        if seen is not None:
            if _aware(seen) > since:
                fresh.append(article)
            continue
        end = _period_end(article.date) if article.date else None
        if end is not None and end >= since.date():
            fresh.append(article)
    return fresh


# ----------------------------------------------------------------------------- digest


def digest_title(now: dt.datetime) -> str:
    return f"Briefing du {french_day(now.date())}"


def _newest_first(articles: Sequence[Article]) -> list[Article]:
    dated = sorted((a for a in articles if a.day), key=lambda a: a.date or "", reverse=True)
    return dated + [a for a in articles if not a.day]


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "…"


def _actors(article: Article, actors_for: Callable[[Article], list[str]] | None) -> list[str]:
    if actors_for is None:
        return []
    try:
        names = actors_for(article)
    except Exception:  # an actor lookup failure must not cost the whole briefing
        log.exception("actor lookup failed for article %s", article.id)
        return []
    unique = list(dict.fromkeys(n for n in names if n))
    return unique[:ACTORS_PER_ARTICLE]


def build_digest(
    articles: Sequence[Article],
    *,
    now: dt.datetime,
    since: dt.datetime | None = None,
    actors_for: Callable[[Article], list[str]] | None = None,
    events: Sequence[TimelineEvent] | None = None,
) -> Digest:
    """The digest of already selected `articles` (see `select_new`), newest first.

    `events` default to the articles' own timeline; events of other articles are dropped.
    """
    ordered = _newest_first(articles)
    ids = {a.id for a in ordered}
    entries = []
    tally: Counter[str] = Counter()
    for article in ordered:
        names = _actors(article, actors_for)
        tally.update(names)
        entries.append(
            ArticleDigest(
                id=article.id,
                title=article.title,
                date=article.date,
                url=article.url,
                key_points=tuple(key_points(article)),
                actors=tuple(names),
            )
        )
    first_rank = {
        name: i for i, name in enumerate(dict.fromkeys(n for e in entries for n in e.actors))
    }
    actors = sorted(tally, key=lambda name: (-tally[name], first_rank[name]))[:DIGEST_ACTORS]
    if events is None:
        events = extract_events(ordered)
    timeline = sorted((e for e in events if e.article in ids), key=sort_key)
    return Digest(
        title=digest_title(now),
        generated_at=now,
        articles=tuple(entries),
        actors=tuple(actors),
        timeline=tuple(timeline),
        headline=_headline(ordered),
        since=since,
    )


def _headline(ordered: Sequence[Article]) -> str:
    """ "2 articles. À la une : <the newest article's most representative sentence>"."""
    if not ordered:
        return ""
    ranked = _score(ordered[0])
    lead = ranked[0].text if ranked else ordered[0].title
    count = len(ordered)
    prefix = f"{count} article{'s' if count > 1 else ''}. À la une : "
    return prefix + _shorten(lead, HEADLINE_CHARS)


# ------------------------------------------------------------------------------ reply


def digest_reply(
    digest: Digest, *, note: str | None = None, empty_since: dt.datetime | None = None
) -> Reply:
    """The digest as a reply: headline, one block per article, then the chronology."""
    if digest.is_empty:
        since = empty_since or digest.since
        message = (
            f"Rien de nouveau depuis le {french_day(since.date())}."
            if since
            else "Rien de nouveau dans le corpus."
        )
        return Reply(
            ReplyKind.DIGEST, digest.title, (Block(message),), footer=note, data=to_json(digest)
        )
    blocks = [Block(digest.headline)]
    for entry in digest.articles:
        fields = [Field("Date", french_date(entry.date) if entry.date else "non datée")]
        if entry.actors:
            fields.append(Field("Acteurs", ", ".join(entry.actors), inline=False))
        blocks.append(
            Block(heading=entry.title, url=entry.url, items=entry.key_points, fields=tuple(fields))
        )
    if digest.timeline:
        shown = list(digest.timeline[-TIMELINE_IN_REPLY:])
        hidden = len(digest.timeline) - len(shown)
        items = tuple(f"{e.label} : {_shorten(e.text, TIMELINE_ITEM_CHARS)}" for e in shown)
        plural = "s" if hidden > 1 else ""
        more = (
            f"{hidden} date{plural} plus ancienne{plural} : voir la chronologie complète."
            if hidden
            else None
        )
        blocks.append(Block(heading="Chronologie", items=items, note=more))
    return Reply(ReplyKind.DIGEST, digest.title, tuple(blocks), footer=note, data=to_json(digest))
