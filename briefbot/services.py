"""Everything the bot derives from a corpus snapshot beyond the index — the actor
directory, the timeline, digests — and the handlers that put them in the command layer.

Derived data is computed once per snapshot and cached on it, so a corpus change (a new
snapshot) refreshes it, and `prepare` can compute it in the rebuild's worker thread
before the snapshot is served: answers never wait for spaCy or a digest.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from bot.actors import ActorDirectory, build_directory
from bot.actors.replies import actor_reply, actors_reply
from bot.ask.feedback import FeedbackStore
from bot.briefings.digest import build_digest, digest_reply, select_new
from bot.briefings.ports import FirstSeenStore
from bot.briefings.subscription import Subscription, utcnow
from bot.chat.commands import Commands
from bot.chat.context import CommandContext
from bot.chat.replies import Reply, ReplyKind, error, info
from bot.corpus.library import Library, Snapshot
from bot.corpus.loader import Problem
from bot.settings import Settings
from bot.timeline.events import TimelineEvent, extract_events, timeline_reply

log = logging.getLogger(__name__)
T = TypeVar("T")


def actors_file(settings: Settings) -> Path:
    return Path(settings.config_dir) / "actors.yaml"


class Services:
    def __init__(
        self,
        settings: Settings,
        library: Library,
        *,
        first_seen: FirstSeenStore | None = None,
        feedback: FeedbackStore | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.library = library
        self.first_seen = first_seen
        self.feedback_store = feedback
        self.clock = clock
        self._lock = threading.Lock()

    # -- derived data, cached per snapshot ---------------------------------------------

    def _derived(self, snapshot: Snapshot, key: str, make: Callable[[], T]) -> T:
        """Compute once per snapshot. The lock is the snapshot's own, so building the next
        snapshot's actors (spaCy, seconds) never blocks look-ups on the served one."""
        if key in snapshot.extras:
            return snapshot.extras[key]
        with self._lock:
            lock = snapshot.extras.setdefault(f"{key}:lock", threading.Lock())
        with lock:
            if key not in snapshot.extras:
                snapshot.extras[key] = make()
            return snapshot.extras[key]

    def directory_build(self, snapshot: Snapshot | None = None) -> Any:
        snap = snapshot or self.library.current
        return self._derived(
            snap,
            "actors",
            lambda: build_directory(
                snap.articles,
                actors_file(self.settings),
                Path(self.settings.data_dir) / "actors",
            ),
        )

    def actors(self, snapshot: Snapshot | None = None) -> ActorDirectory:
        return self.directory_build(snapshot).directory

    def actor_problems(self, snapshot: Snapshot | None = None) -> list[Problem]:
        return list(self.directory_build(snapshot).problems)

    def events(self, snapshot: Snapshot | None = None) -> list[TimelineEvent]:
        snap = snapshot or self.library.current
        return self._derived(snap, "events", lambda: extract_events(snap.articles))

    def prepare(self, snapshot: Snapshot) -> None:
        """Compute derived data of a new snapshot before it is served (a Library hook)."""
        for problem in self.actor_problems(snapshot):
            log.warning("actors: %s", problem)
        self.events(snapshot)

    # -- digests -----------------------------------------------------------------------

    def digest(self, since: dt.datetime | None, mode: str = "new"):
        snap = self.library.current
        articles = list(snap.articles)
        if mode != "full" and since is not None:
            first_seen = self.first_seen.record(articles) if self.first_seen else {}
            articles = select_new(articles, since, first_seen)
        directory = self.actors(snap)
        chosen = {a.id for a in articles}
        events = [e for e in self.events(snap) if e.article in chosen]
        return build_digest(
            articles,
            now=self.clock(),
            since=since if mode != "full" else None,
            actors_for=lambda article: directory.actors_in(article.id),
            events=events,
        )

    def digest_reply(
        self, subscription: Subscription | None, since: dt.datetime | None, mode: str = "new"
    ) -> Reply:
        """The briefing service's builder: a digest reply, never None."""
        digest = self.digest(since, mode)
        return digest_reply(digest, empty_since=since if mode != "full" else None)

    async def scheduled_digest(
        self, subscription: Subscription, since: dt.datetime | None
    ) -> Reply | None:
        """The scheduler's builder: None when there is nothing new and the subscription
        says to skip empty briefings."""
        digest = await asyncio.to_thread(self.digest, since, subscription.mode)
        if digest.is_empty and subscription.empty == "skip":
            return None
        empty_since = since if subscription.mode != "full" else None
        return digest_reply(digest, empty_since=empty_since)

    # -- command handlers --------------------------------------------------------------

    async def actor(self, ctx: CommandContext, name: str) -> Reply:
        directory = await asyncio.to_thread(self.actors)
        return actor_reply(directory.lookup(name))

    async def list_actors(self, ctx: CommandContext) -> Reply:
        directory = await asyncio.to_thread(self.actors)
        return actors_reply(directory)

    def autocomplete(self, fragment: str, limit: int) -> list[str]:
        return self.actors().autocomplete(fragment, limit)

    async def timeline(self, ctx: CommandContext) -> Reply:
        events = await asyncio.to_thread(self.events)
        return timeline_reply(events, limit=25)

    async def feedback(self, ctx: CommandContext, value: int, answer: dict) -> Reply:
        if self.feedback_store is None:
            return error("Les avis ne sont pas enregistrés ici.")
        citations = answer.get("citations") or [{}]
        top = citations[0] if isinstance(citations[0], dict) else {}
        try:
            self.feedback_store.record(
                platform=ctx.channel.platform,
                user_id=ctx.user_id,
                question=str(answer.get("question", ""))[:1000],
                article=str(top.get("article") or ""),
                section=str(top.get("section") or ""),
                value=value,
            )
        except Exception:
            log.exception("feedback not recorded")
            return error("Votre avis n'a pas pu être enregistré. Réessayez plus tard.")
        thanks = "Merci pour votre avis 👍" if value > 0 else "Merci, nous allons améliorer cela 👎"
        return info(thanks, kind=ReplyKind.SUCCESS)

    def wire(self, commands: Commands) -> None:
        commands.actor_handler = self.actor
        commands.actors_handler = self.list_actors
        commands.autocomplete_handler = self.autocomplete
        commands.timeline_handler = self.timeline
        commands.feedback_handler = self.feedback
