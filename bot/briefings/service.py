"""Digests for briefings: what is new since a channel's last briefing, built from the
corpus currently served, the first-seen dates and the other features' derived data."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Sequence

from bot.chat.replies import Reply
from bot.corpus.model import Article
from bot.timeline.events import TimelineEvent

from .digest import Digest, build_digest, digest_reply, select_new
from .ports import FirstSeenStore
from .subscription import Subscription, utcnow


class DigestService:
    """`articles()`, `events()` and `actors_in(article_id)` read the snapshot served now;
    `first_seen` remembers when each article version was first seen (None: every article
    counts as new, as in a CLI call without a database)."""

    def __init__(
        self,
        articles: Callable[[], Sequence[Article]],
        events: Callable[[], Sequence[TimelineEvent]],
        actors_in: Callable[[str], list[str]],
        first_seen: FirstSeenStore | None,
        *,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.articles = articles
        self.events = events
        self.actors_in = actors_in
        self.first_seen = first_seen
        self.clock = clock

    def digest(self, since: dt.datetime | None, mode: str = "new") -> Digest:
        articles = list(self.articles())
        if mode != "full" and since is not None:
            seen = self.first_seen.record(articles) if self.first_seen else {}
            articles = select_new(articles, since, seen)
        chosen = {a.id for a in articles}
        events = [e for e in self.events() if e.article in chosen]
        return build_digest(
            articles,
            now=self.clock(),
            since=since if mode != "full" else None,
            actors_for=lambda article: self.actors_in(article.id),
            events=events,
        )

    def digest_reply(
        self, subscription: Subscription | None, since: dt.datetime | None, mode: str = "new"
    ) -> Reply:
        """The `/briefing now|preview` builder: a digest reply, never None."""
        digest = self.digest(since, mode)
        return digest_reply(digest, empty_since=since if mode != "full" else None)

    async def scheduled(
        self, subscription: Subscription, since: dt.datetime | None
    ) -> Reply | None:
        """The scheduler's builder: None when there is nothing new and the subscription
        says to skip empty briefings."""
        digest = await asyncio.to_thread(self.digest, since, subscription.mode)
        if digest.is_empty and subscription.empty == "skip":
            return None
        empty_since = since if subscription.mode != "full" else None
        return digest_reply(digest, empty_since=empty_since)
