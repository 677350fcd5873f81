"""`/source resume` and `briefbot source resume`: a source paused after failures is
followed again without being removed and added back."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.chat.context import ChannelRef, CommandContext
from bot.chat.guard import Guard
from bot.chat.ratelimit import RateLimiter
from bot.chat.registry import Registry
from bot.chat.replies import ReplyKind
from bot.sources.commands import SourceCommands
from bot.sources.model import Source
from bot.sources.poller import SourcePoller
from bot.sources.scheduler import SourceScheduler
from bot.storage.database import Database
from briefbot.cli import main
from tests.fakes.news_site import NewsSite, rss
from tests.sources_support import Clock, articles, paragraphs, poller_for

CONTENT = "".join(f"<p>{p}</p>" for p in paragraphs("La route du fleuve", 4))
MAX_FAILURES = 2


def items(site: NewsSite, n: int) -> list[dict[str, str]]:
    return [
        {"title": f"Article {i}", "link": site.url(f"/a/{i}"), "content": f"<p>{i}</p>{CONTENT}"}
        for i in range(n)
    ]


def context(admin: bool) -> CommandContext:
    async def is_admin() -> bool:
        return admin

    return CommandContext(ChannelRef("slack", "T1", "C1"), user_id="U1", is_admin=is_admin)


@pytest.fixture
async def poller(db: Database, folder: Path, clock: Clock) -> AsyncIterator[SourcePoller]:
    made = poller_for(db, folder, clock, sources_max_failures=MAX_FAILURES)
    yield made
    await made.fetcher.close()


@pytest.fixture
def registry(poller: SourcePoller, db: Database, clock: Clock) -> Registry:
    """The commands on the poller's clock, so "due now" means the same to both."""
    commands = SourceCommands(poller, db.sources, clock=clock)
    return Registry((commands,), guard=Guard(), limiter=RateLimiter(10, 60))


async def paused_feed(site: NewsSite, poller: SourcePoller, clock: Clock, db: Database) -> Source:
    """A feed followed with one article, then gone until it is paused."""
    feed = site.serve("/rss", rss(items(site, 1)), "application/rss+xml")
    source, _ = await poller.add(feed, "admin")
    del site.routes["/rss"]
    for _ in range(MAX_FAILURES):
        current = db.sources.get(source.id)
        assert current is not None and current.next_poll is not None
        clock.now = current.next_poll
        await poller.poll_due()
    paused = db.sources.get(source.id)
    assert paused is not None and paused.paused
    return paused


async def test_a_resumed_source_is_polled_at_the_next_tick(
    site: NewsSite,
    poller: SourcePoller,
    registry: Registry,
    clock: Clock,
    db: Database,
    folder: Path,
) -> None:
    source = await paused_feed(site, poller, clock, db)
    site.serve("/rss", rss(items(site, 3)), "application/rss+xml")
    hits = site.hits("/rss")
    reply = await registry.run_text(context(admin=True), "source", f"resume {source.url}")
    await SourceScheduler(poller, tick_seconds=3600).tick()  # the clock has not moved
    after = db.sources.get(source.id)
    assert reply.kind is ReplyKind.SUCCESS
    assert site.hits("/rss") == hits + 1
    assert len(articles(folder)) == 3
    assert after is not None and not after.paused and after.paused_reason is None


async def test_resuming_clears_the_failure_count_so_one_failure_does_not_pause_again(
    site: NewsSite, poller: SourcePoller, registry: Registry, clock: Clock, db: Database
) -> None:
    source = await paused_feed(site, poller, clock, db)
    await registry.run_text(context(admin=True), "source", f"resume {source.url}")
    [result] = await poller.poll_due()  # still failing
    after = db.sources.get(source.id)
    assert result.error is not None
    assert after is not None and not after.paused
    assert after.consecutive_failures == 1
    assert after.next_poll is not None  # the first back-off again, not the third
    assert after.next_poll - clock.now <= timedelta(seconds=source.interval_seconds * 2 * 1.1)


async def test_a_paused_source_is_resumed_under_its_slack_wrapped_or_fragment_url(
    site: NewsSite, poller: SourcePoller, registry: Registry, clock: Clock, db: Database
) -> None:
    source = await paused_feed(site, poller, clock, db)
    reply = await registry.run_text(context(admin=True), "source", f"resume <{source.url}#top>")
    after = db.sources.get(source.id)
    assert reply.title == "Source relancée"
    assert after is not None and not after.paused


async def test_only_admins_may_resume_a_source(
    site: NewsSite, poller: SourcePoller, registry: Registry, clock: Clock, db: Database
) -> None:
    source = await paused_feed(site, poller, clock, db)
    reply = await registry.run_text(context(admin=False), "source", f"resume {source.url}")
    after = db.sources.get(source.id)
    assert reply.title == "Réservé aux administrateurs"
    assert after is not None and after.paused


async def test_resuming_an_active_source_says_it_is_not_paused_and_changes_nothing(
    site: NewsSite, poller: SourcePoller, registry: Registry, db: Database
) -> None:
    feed = site.serve("/rss", rss(items(site, 1)), "application/rss+xml")
    before, _ = await poller.add(feed, "admin")
    reply = await registry.run_text(context(admin=True), "source", f"relancer {feed}")
    assert reply.kind is ReplyKind.INFO
    assert "n'est pas en pause" in reply.plain_text()
    assert reply.data["resumed"] is False
    assert db.sources.get(before.id) == before


async def test_resuming_an_unknown_url_says_it_is_not_followed(
    site: NewsSite, poller: SourcePoller, registry: Registry, db: Database
) -> None:
    feed = site.serve("/rss", rss(items(site, 1)), "application/rss+xml")
    await poller.add(feed, "admin")
    reply = await registry.run_text(context(admin=True), "source", f"resume {feed}/autre")
    assert reply.title == "Source inconnue"
    assert "n'est pas suivie" in reply.plain_text()


async def test_the_list_says_how_to_resume_a_paused_source(
    site: NewsSite, poller: SourcePoller, registry: Registry, clock: Clock, db: Database
) -> None:
    source = await paused_feed(site, poller, clock, db)
    reply = await registry.run_text(context(admin=False), "source", "list")
    note = reply.blocks[0].note
    assert note is not None and "HTTP 404" in note
    assert f"/source resume {source.url}" in note


def test_the_cli_resumes_a_paused_source(
    threaded_site: NewsSite,
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    site = threaded_site
    (tmp_path / "corpus").mkdir()
    monkeypatch.setenv("BRIEFBOT_CORPUS", str(tmp_path / "corpus"))
    monkeypatch.setenv("BRIEFBOT_DATABASE_URL", db_url)
    monkeypatch.setenv("BRIEFBOT_SOURCES_ALLOW_HOSTS", "127.0.0.1")
    monkeypatch.setenv("BRIEFBOT_SOURCES_MAX_FAILURES", "1")
    feed = site.serve("/rss", rss(items(site, 1)), "application/rss+xml")
    assert main(["source", "add", feed]) == 0
    del site.routes["/rss"]
    assert main(["source", "poll"]) == 1  # the one failure that pauses it
    site.serve("/rss", rss(items(site, 2)), "application/rss+xml")
    capsys.readouterr()

    assert main(["source", "resume", feed]) == 0
    resumed = capsys.readouterr().out
    assert main(["source", "resume", feed]) == 0
    again = capsys.readouterr().out
    assert main(["source", "poll"]) == 0
    capsys.readouterr()
    assert main(["source", "list", "--json"]) == 0
    [listed] = json.loads(capsys.readouterr().out)

    assert resumed.startswith(f"resumed: {feed}")
    assert again.startswith(f"not paused: {feed}")
    assert (listed["paused"], listed["articles_taken"]) == (False, 2)


def test_the_cli_says_an_unknown_url_is_not_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BRIEFBOT_CORPUS", str(tmp_path))
    assert main(["source", "resume", "https://example.org/rss"]) == 0
    assert capsys.readouterr().out.startswith("not followed: https://example.org/rss")
