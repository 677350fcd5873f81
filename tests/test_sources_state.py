"""Sources shared by several processes, polls that die half-way, and the `/source`
commands."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.chat.context import ChannelRef, CommandContext
from bot.chat.guard import Guard
from bot.chat.ratelimit import RateLimiter
from bot.chat.registry import Registry
from bot.chat.replies import ReplyKind
from bot.sources.commands import SourceCommands
from bot.sources.poller import SourcePoller
from bot.sources.scheduler import SourceScheduler
from bot.sources.writer import ArticleWriter, NewArticle
from bot.storage.database import Database
from tests.fakes.news_site import NewsSite, rss
from tests.sources_support import Clock, articles, paragraphs, poller_for

CONTENT = "".join(f"<p>{p}</p>" for p in paragraphs("Le fleuve Niger", 4))


def items(site: NewsSite, n: int) -> list[dict[str, str]]:
    return [
        {"title": f"Article {i}", "link": site.url(f"/a/{i}"), "content": f"<p>{i}</p>{CONTENT}"}
        for i in range(n)
    ]


class Crash(BaseException):
    """The process dying: nothing of the poller catches it."""


class CrashingWriter(ArticleWriter):
    """Writes the file, then dies before the poller records it, on the `at`-th article."""

    def __init__(self, folder: Path, at: int) -> None:
        super().__init__(folder)
        self.at = at
        self.count = 0

    def write(self, article: NewArticle) -> str:
        ident = super().write(article)
        self.count += 1
        if self.count == self.at:
            raise Crash
        return ident


async def test_two_processes_sharing_a_database_poll_a_source_once_per_interval(
    site: NewsSite, db_url: str, tmp_path: Path
) -> None:
    folder, clock = tmp_path / "corpus", Clock()
    first_db, second_db = Database(db_url), Database(db_url)
    first, second = poller_for(first_db, folder, clock), poller_for(second_db, folder, clock)
    feed = site.serve("/rss", rss(items(site, 3)), "application/rss+xml")
    await first.add(feed, "admin")
    site.serve("/rss", rss(items(site, 6)), "application/rss+xml")
    clock.advance(minutes=20)
    one, two = await asyncio.gather(first.poll_due(), second.poll_due())
    for poller in (first, second):
        await poller.fetcher.close()
    first_db.close()
    second_db.close()
    assert sorted(r.polled for r in (*one, *two)) == [False, True]
    assert site.hits("/rss") == 2  # the add, then one poll for both processes
    assert len(articles(folder)) == 6


async def test_a_poll_that_dies_half_way_writes_nothing_twice_after_a_restart(
    site: NewsSite, db: Database, tmp_path: Path
) -> None:
    folder, clock = tmp_path / "corpus", Clock()
    feed = site.serve("/rss", rss(items(site, 1)), "application/rss+xml")
    healthy = poller_for(db, folder, clock)
    await healthy.add(feed, "admin")
    site.serve("/rss", rss(items(site, 4)), "application/rss+xml")
    clock.advance(minutes=20)
    dying = SourcePoller(
        db.sources,
        healthy.fetcher,
        healthy.robots,
        CrashingWriter(folder, at=2),
        healthy.policy,
        clock=clock,
    )
    with pytest.raises(Crash):
        await dying.poll_due()
    clock.advance(minutes=20)  # the restarted bot: past the dead poll's lease
    await healthy.poll_due()
    await healthy.fetcher.close()
    written = articles(folder)
    urls = [meta["url"] for meta in written.values()]
    assert len(written) == 4
    assert sorted(urls) == sorted({site.url(f"/a/{i}") for i in range(4)})
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]


def context(admin: bool) -> CommandContext:
    async def is_admin() -> bool:
        return admin

    return CommandContext(ChannelRef("slack", "T1", "C1"), user_id="U1", is_admin=is_admin)


@pytest.fixture
async def registry(db: Database, tmp_path: Path) -> AsyncIterator[Registry]:
    poller = poller_for(db, tmp_path / "corpus", Clock())
    yield Registry(
        (SourceCommands(poller, db.sources),), guard=Guard(), limiter=RateLimiter(10, 60)
    )
    await poller.fetcher.close()


async def test_only_admins_may_add_a_source(registry: Registry, site: NewsSite) -> None:
    feed = site.serve("/rss", rss(items(site, 1)), "application/rss+xml")
    reply = await registry.run_text(context(admin=False), "source", f"add {feed}")
    assert reply.title == "Réservé aux administrateurs"
    assert site.hits("/rss") == 0


async def test_only_admins_may_remove_a_source(registry: Registry, site: NewsSite) -> None:
    feed = site.serve("/rss", rss(items(site, 1)), "application/rss+xml")
    await registry.run_text(context(admin=True), "source", f"add {feed}")
    reply = await registry.run_text(context(admin=False), "source", f"remove {feed}")
    assert reply.title == "Réservé aux administrateurs"


async def test_list_shows_each_sources_state_to_everyone(
    registry: Registry, site: NewsSite
) -> None:
    feed = site.serve("/rss", rss(items(site, 2)), "application/rss+xml")
    await registry.run_text(context(admin=True), "source", f"add {feed}")
    reply = await registry.run_text(context(admin=False), "source", "list")
    fields = {f.name: f.value for f in reply.blocks[0].fields}
    assert reply.blocks[0].heading == "Le Journal — Afrique"
    assert fields["Articles repris"] == "2"
    assert fields["État"] == "active"
    assert {"Dernière relève", "Prochaine relève"} <= set(fields)


async def test_removing_a_source_keeps_the_articles_it_brought(
    registry: Registry, site: NewsSite, tmp_path: Path, db: Database
) -> None:
    feed = site.serve("/rss", rss(items(site, 2)), "application/rss+xml")
    await registry.run_text(context(admin=True), "source", f"add {feed}")
    reply = await registry.run_text(context(admin=True), "source", f"remove {feed}")
    assert reply.kind is ReplyKind.SUCCESS
    assert db.sources.list() == []
    assert len(articles(tmp_path / "corpus")) == 2


async def test_adding_a_refused_url_says_why(registry: Registry) -> None:
    reply = await registry.run_text(context(admin=True), "source", "add http://10.0.0.7/rss")
    assert reply.kind is ReplyKind.ERROR
    assert "réseau privé" in reply.plain_text()


async def test_a_source_may_be_added_with_its_own_interval(
    registry: Registry, site: NewsSite, db: Database
) -> None:
    feed = site.serve("/rss", rss(items(site, 1)), "application/rss+xml")
    reply = await registry.run_text(context(admin=True), "source", f"add {feed} interval=30")
    assert reply.kind is ReplyKind.SUCCESS
    assert db.sources.list()[0].interval_seconds == 30 * 60


async def test_an_interval_under_five_minutes_is_refused(
    registry: Registry, site: NewsSite, db: Database
) -> None:
    feed = site.serve("/rss", rss(items(site, 1)), "application/rss+xml")
    reply = await registry.run_text(context(admin=True), "source", f"add {feed} interval=2")
    assert "5 minutes au moins" in reply.plain_text()
    assert db.sources.list() == []


async def test_the_scheduler_tick_polls_the_sources_that_are_due(
    site: NewsSite, db: Database, tmp_path: Path
) -> None:
    folder, clock = tmp_path / "corpus", Clock()
    poller = poller_for(db, folder, clock)
    feed = site.serve("/rss", rss(items(site, 1)), "application/rss+xml")
    await poller.add(feed, "admin")
    site.serve("/rss", rss(items(site, 2)), "application/rss+xml")
    scheduler = SourceScheduler(poller, tick_seconds=3600)
    await scheduler.start()
    clock.advance(minutes=20)
    await scheduler.tick()
    await scheduler.shutdown()
    assert not scheduler.running
    assert len(articles(folder)) == 2


@pytest.mark.slow
async def test_stopping_the_bot_mid_poll_cancels_it_without_counting_a_failure(
    site: NewsSite, db: Database, tmp_path: Path
) -> None:
    clock = Clock()
    poller = poller_for(db, tmp_path / "corpus", clock)
    feed = site.serve("/rss", rss(items(site, 1)), "application/rss+xml")
    source, _ = await poller.add(feed, "admin")
    site.serve("/rss", rss(items(site, 2)), "application/rss+xml", delay=3.0)
    scheduler = SourceScheduler(poller, tick_seconds=3600)
    await scheduler.start()
    clock.advance(minutes=20)
    polling = asyncio.create_task(scheduler.tick())
    while site.hits("/rss") < 2:
        await asyncio.sleep(0.01)
    await scheduler.shutdown()
    await asyncio.gather(polling, return_exceptions=True)
    after = db.sources.get(source.id)
    assert after is not None
    assert (after.consecutive_failures, after.last_error) == (0, None)
