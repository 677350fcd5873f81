"""The production wiring from the scheduler to the digest: a subscription made through the
registry, the application's own scheduler and digest service, the real seeds and database,
and a recording publisher in place of a platform. Every slot runs at an explicit time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.briefings.scheduler import BriefingScheduler, Outcome
from bot.briefings.subscription import SENT, SKIPPED, Subscription
from bot.chat.context import ChannelRef, CommandContext
from bot.chat.publishing import Accepted, Publisher
from bot.chat.replies import Reply, ReplyKind
from bot.corpus.french import french_day
from briefbot.app import Application
from briefbot.settings import Config

CHANNEL = ChannelRef("slack", "T1", "C-news")
# The corpus is first seen when the application loads it, now: the slots come after.
FIRST_SLOT = (datetime.now(UTC) + timedelta(days=1)).replace(
    hour=8, minute=0, second=0, microsecond=0
)
SECOND_SLOT = FIRST_SLOT + timedelta(days=1)
THIRD_SLOT = FIRST_SLOT + timedelta(days=2)


class RecordingPublisher:
    """A platform that keeps what it is asked to post."""

    platform = "slack"

    def __init__(self) -> None:
        self.posts: list[tuple[ChannelRef, Reply]] = []
        self.paused: list[tuple[ChannelRef, str]] = []

    async def publish(
        self,
        channel: ChannelRef,
        reply: Reply,
        *,
        key: str = "",
        skip: int = 0,
        check: bool = False,
        accepted: Accepted | None = None,
    ) -> int:
        self.posts.append((channel, reply))
        if accepted is not None:
            await accepted(1)
        return 1

    async def notify_paused(self, channel: ChannelRef, reason: str) -> None:
        self.paused.append((channel, reason))


@pytest.fixture
def app(config: Config) -> Iterator[Application]:
    application = Application(config, platforms=())
    application.load()
    yield application
    application.database.close()


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def scheduler(app: Application, publisher: RecordingPublisher) -> BriefingScheduler:
    publishers: dict[str, Publisher] = {"slack": publisher}
    return app.make_scheduler(publishers)


async def subscribe(app: Application, options: str) -> Subscription:
    admin = CommandContext(CHANNEL, "U-admin", "Ada")
    reply = await app.registry.dispatch(admin, f"/briefing subscribe at=08:00 tz=UTC {options}")
    assert reply.kind is ReplyKind.SUCCESS, reply.plain_text()
    found = app.database.subscriptions.find(CHANNEL)
    assert found is not None
    return found


def seed_ids(app: Application) -> list[str]:
    return sorted(a.id for a in app.library.current.articles)


def posted_ids(reply: Reply) -> list[str]:
    return sorted(entry["id"] for entry in reply.data["articles"])


async def test_a_first_slot_posts_every_seed(
    app: Application, scheduler: BriefingScheduler, publisher: RecordingPublisher
) -> None:
    sub = await subscribe(app, "mode=new empty=skip")

    result = await scheduler.run_slot(sub.id, FIRST_SLOT, now=FIRST_SLOT)

    assert result.outcome is Outcome.SENT
    [(channel, reply)] = publisher.posts
    assert channel == CHANNEL and reply.kind is ReplyKind.DIGEST
    assert len(seed_ids(app)) >= 2
    assert posted_ids(reply) == seed_ids(app)
    headings = {b.heading for b in reply.blocks}
    assert {a.title for a in app.library.current.articles} <= headings


async def test_with_nothing_new_and_empty_skip_a_slot_posts_nothing_and_is_recorded_skipped(
    app: Application, scheduler: BriefingScheduler, publisher: RecordingPublisher
) -> None:
    sub = await subscribe(app, "mode=new empty=skip")
    await scheduler.run_slot(sub.id, FIRST_SLOT, now=FIRST_SLOT)

    second = await scheduler.run_slot(sub.id, SECOND_SLOT, now=SECOND_SLOT)

    assert second.outcome is Outcome.EMPTY
    assert len(publisher.posts) == 1
    deliveries = app.database.deliveries.for_subscription(sub.id)
    assert [(d.scheduled_for, d.status) for d in deliveries] == [
        (FIRST_SLOT, SENT),
        (SECOND_SLOT, SKIPPED),
    ]
    assert deliveries[1].note == "rien de nouveau"
    found = app.database.subscriptions.get(sub.id)
    assert found is not None and found.last_delivery == FIRST_SLOT


async def test_with_nothing_new_and_empty_notify_a_slot_posts_the_short_briefing(
    app: Application, scheduler: BriefingScheduler, publisher: RecordingPublisher
) -> None:
    sub = await subscribe(app, "mode=new empty=notify")
    await scheduler.run_slot(sub.id, FIRST_SLOT, now=FIRST_SLOT)

    second = await scheduler.run_slot(sub.id, SECOND_SLOT, now=SECOND_SLOT)

    assert second.outcome is Outcome.SENT
    [_, (channel, reply)] = publisher.posts
    assert channel == CHANNEL
    assert [b.text for b in reply.blocks] == [
        f"Rien de nouveau depuis le {french_day(FIRST_SLOT.date())}."
    ]
    assert reply.data["articles"] == []


async def test_with_mode_full_every_slot_posts_every_article(
    app: Application, scheduler: BriefingScheduler, publisher: RecordingPublisher
) -> None:
    sub = await subscribe(app, "mode=full empty=skip")

    results = [
        await scheduler.run_slot(sub.id, slot, now=slot)
        for slot in (FIRST_SLOT, SECOND_SLOT, THIRD_SLOT)
    ]

    assert [r.outcome for r in results] == [Outcome.SENT] * 3
    assert [posted_ids(reply) for _, reply in publisher.posts] == [seed_ids(app)] * 3
    assert all("Rien de nouveau" not in reply.plain_text() for _, reply in publisher.posts)
