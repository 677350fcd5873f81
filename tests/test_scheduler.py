"""The briefing scheduler, driven with explicit datetimes instead of the real clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.briefings.ports import DeliveryLog, SubscriptionStore
from bot.briefings.schedule_parsing import parse_options, parse_schedule
from bot.briefings.scheduler import (
    BriefingScheduler,
    Outcome,
    Reason,
    SlotResult,
    backoff,
    job_id,
    latest_fire_time,
    slot_key,
)
from bot.briefings.subscription import SENT, SKIPPED, Subscription
from bot.chat.context import ChannelRef
from bot.chat.publishing import Accepted, DeliveryError
from bot.chat.replies import Block, Reply, ReplyKind
from bot.storage.database import Database
from tests.fakes.briefing_store import InMemoryBriefings

PARIS = ZoneInfo("Europe/Paris")
# Monday 8 January 2024, 08:00 in Paris (winter, UTC+1).
MONDAY_0800 = datetime(2024, 1, 8, 7, 0, tzinfo=UTC)
TUESDAY_0800 = MONDAY_0800 + timedelta(days=1)
WEDNESDAY_0800 = MONDAY_0800 + timedelta(days=2)
CREATED = MONDAY_0800 - timedelta(days=3)  # subscribed the Friday before


class FakePublisher:
    """Records posts like a platform that recognises a slot's messages by their key.

    A briefing is `parts` messages; `messages` holds every accepted (channel, key, part),
    `posts` each briefing whose first message was accepted. Channels in `failing` raise
    like a deleted channel would, in `flaky` like a rate limit; `fail_at[channel] = part`
    refuses that part once; `lost_answer[channel] = part` accepts that part once and then
    answers nothing (a timeout after sending). With `history`, a `check` finds the parts
    already accepted and does not post them again."""

    platform = "slack"

    def __init__(
        self, failing: set[str] | None = None, *, parts: int = 1, history: bool = True
    ) -> None:
        self.posts: list[tuple[str, Reply]] = []
        self.messages: list[tuple[str, str, int]] = []
        self.paused: list[tuple[str, str]] = []
        self.failing = failing or set()
        self.flaky: set[str] = set()
        self.fail_at: dict[str, int] = {}
        self.lost_answer: dict[str, int] = {}
        self.parts = parts
        self.history = history
        self.gates: dict[str, asyncio.Event] = {}

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
        name = channel.channel
        if name in self.gates:
            await self.gates[name].wait()
        if name in self.failing:
            raise DeliveryError("channel_not_found", permanent=True)
        if name in self.flaky:
            raise DeliveryError("ratelimited", permanent=False)
        there = {part for c, k, part in self.messages if (c, k) == (name, key)}
        for part in range(skip, self.parts):
            if self.fail_at.get(name) == part:
                del self.fail_at[name]
                raise DeliveryError("erreur Slack (internal_error)", permanent=False)
            if not (check and self.history and part in there):
                self.messages.append((name, key, part))
                if part == 0:
                    self.posts.append((name, reply))
            if self.lost_answer.get(name) == part:
                del self.lost_answer[name]
                raise DeliveryError("délai dépassé", permanent=False, maybe_sent=True)
            if accepted is not None:
                await accepted(part + 1)
        return self.parts

    async def notify_paused(self, channel: ChannelRef, reason: str) -> None:
        self.paused.append((channel.channel, reason))

    def channels(self) -> list[str]:
        return [channel for channel, _ in self.posts]

    def per_slot(self) -> dict[tuple[str, int], int]:
        """How many times each (slot key, part) was accepted."""
        counts: dict[tuple[str, int], int] = {}
        for _, key, part in self.messages:
            counts[key, part] = counts.get((key, part), 0) + 1
        return counts


def digest(sub: Subscription, since: datetime | None) -> Reply:
    return Reply(ReplyKind.DIGEST, "Briefing", (Block("Trois nouveaux articles."),))


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def subscribe(
    db: Database | InMemoryBriefings,
    channel: str = "C-general",
    text: str = "at=08:00 days=mon-fri tz=Europe/Paris",
    *,
    platform: str = "slack",
    now: datetime = CREATED,
) -> Subscription:
    spec = parse_schedule(parse_options(text))
    ref = ChannelRef(platform, "T1", channel)
    return db.subscriptions.save(ref, spec, created_by="U1", now=now).subscription


def make_scheduler(
    db: Database | InMemoryBriefings, publisher: FakePublisher, **kwargs: object
) -> BriefingScheduler:
    options: dict[str, object] = {
        "grace": timedelta(hours=1),
        "max_failures": 3,
        "retry_base": timedelta(minutes=1),
    }
    options.update(kwargs)
    return BriefingScheduler(
        db.subscriptions, db.deliveries, {"slack": publisher}, digest, **options
    )  # type: ignore[arg-type]


# --- time ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("local_day", "utc_fire"),
    [
        (datetime(2024, 3, 29, 8, 0, tzinfo=PARIS), datetime(2024, 3, 29, 7, 0, tzinfo=UTC)),
        (datetime(2024, 4, 1, 8, 0, tzinfo=PARIS), datetime(2024, 4, 1, 6, 0, tzinfo=UTC)),
        (datetime(2024, 10, 25, 8, 0, tzinfo=PARIS), datetime(2024, 10, 25, 6, 0, tzinfo=UTC)),
        (datetime(2024, 10, 28, 8, 0, tzinfo=PARIS), datetime(2024, 10, 28, 7, 0, tzinfo=UTC)),
    ],
    ids=["before-march-change", "after-march-change", "before-october", "after-october"],
)
async def test_a_paris_0800_job_fires_at_0800_paris_time_across_dst_changes(
    db: Database, local_day: datetime, utc_fire: datetime
) -> None:
    sub = subscribe(db, now=datetime(2024, 1, 1, tzinfo=UTC))
    publisher = FakePublisher()
    clock = Clock(utc_fire + timedelta(milliseconds=300))  # APScheduler wakes a bit late
    scheduler = make_scheduler(db, publisher, clock=clock)

    result = await scheduler.fire(sub.id)

    assert result is not None and result.outcome is Outcome.SENT
    assert result.scheduled_for == utc_fire == local_day
    assert publisher.channels() == ["C-general"]


def test_the_next_fire_after_the_march_change_is_one_hour_earlier_in_utc(db: Database) -> None:
    trigger = subscribe(db).spec.trigger()
    friday = datetime(2024, 3, 29, 7, 0, tzinfo=UTC)  # 08:00 CET
    monday = trigger.get_next_fire_time(friday, friday)
    assert monday == datetime(2024, 4, 1, 6, 0, tzinfo=UTC)  # 08:00 CEST
    assert monday.astimezone(PARIS).hour == 8


def test_the_latest_fire_time_is_found_after_a_long_outage() -> None:
    trigger = parse_schedule(parse_options("at=08:00 tz=Europe/Paris")).trigger()
    after = datetime(2023, 1, 1, tzinfo=UTC)
    until = datetime(2024, 6, 5, 12, 0, tzinfo=UTC)
    assert latest_fire_time(trigger, after, until) == datetime(2024, 6, 5, 6, 0, tzinfo=UTC)


def test_no_fire_time_is_due_before_the_first_one() -> None:
    trigger = parse_schedule(parse_options('cron="0 8 1 * *"')).trigger()
    after = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)
    assert latest_fire_time(trigger, after, datetime(2024, 1, 31, tzinfo=UTC)) is None


def test_backoff_doubles_up_to_its_cap() -> None:
    delays = [backoff(n, timedelta(minutes=1), timedelta(minutes=5)) for n in range(1, 6)]
    assert [d.total_seconds() / 60 for d in delays] == [1, 2, 4, 5, 5]


# --- exactly once and restarts ---------------------------------------------------------


async def test_running_the_same_slot_twice_posts_once(db: Database) -> None:
    sub = subscribe(db)
    publisher = FakePublisher()
    scheduler = make_scheduler(db, publisher)

    first = await scheduler.run_slot(sub.id, MONDAY_0800, now=MONDAY_0800)
    second = await scheduler.run_slot(sub.id, MONDAY_0800, now=MONDAY_0800)

    assert (first.outcome, second.outcome) == (Outcome.SENT, Outcome.DUPLICATE)
    assert len(publisher.posts) == 1


async def test_the_scheduler_runs_on_any_implementation_of_the_briefing_ports() -> None:
    memory = InMemoryBriefings()
    subscriptions: SubscriptionStore = memory.subscriptions
    deliveries: DeliveryLog = memory.deliveries
    sub = subscribe(memory)
    publisher = FakePublisher()
    scheduler = BriefingScheduler(subscriptions, deliveries, {"slack": publisher}, digest)

    first = await scheduler.run_slot(sub.id, MONDAY_0800, now=MONDAY_0800)
    second = await scheduler.run_slot(sub.id, MONDAY_0800, now=MONDAY_0800)

    assert (first.outcome, second.outcome) == (Outcome.SENT, Outcome.DUPLICATE)
    assert publisher.channels() == ["C-general"]
    found = subscriptions.get(sub.id)
    assert found is not None and found.last_delivery == MONDAY_0800


async def test_two_schedulers_on_one_database_post_a_slot_once(db_url: str) -> None:
    one, two = Database(db_url), Database(db_url)
    sub = subscribe(one)
    pub_one, pub_two = FakePublisher(), FakePublisher()
    results = await asyncio.gather(
        make_scheduler(one, pub_one).run_slot(sub.id, MONDAY_0800, now=MONDAY_0800),
        make_scheduler(two, pub_two).run_slot(sub.id, MONDAY_0800, now=MONDAY_0800),
    )
    assert sorted(r.outcome for r in results) == sorted([Outcome.SENT, Outcome.DUPLICATE])
    assert len(pub_one.posts) + len(pub_two.posts) == 1
    one.close()
    two.close()


async def test_a_restart_between_two_runs_loses_nothing_and_doubles_nothing(db_url: str) -> None:
    before = Database(db_url)
    sub = subscribe(before)
    first_publisher = FakePublisher()
    first = make_scheduler(before, first_publisher)
    assert (await first.run_slot(sub.id, MONDAY_0800, now=MONDAY_0800)).outcome is Outcome.SENT
    before.close()

    after = Database(db_url)  # the bot stops and starts again half an hour later
    second_publisher = FakePublisher()
    second = make_scheduler(after, second_publisher)
    assert await second.catch_up(MONDAY_0800 + timedelta(minutes=30)) == []
    again = await second.run_slot(sub.id, MONDAY_0800, now=MONDAY_0800 + timedelta(minutes=30))
    tuesday = await second.run_slot(sub.id, TUESDAY_0800, now=TUESDAY_0800)

    assert (again.outcome, tuesday.outcome) == (Outcome.DUPLICATE, Outcome.SENT)
    assert len(first_publisher.posts) == len(second_publisher.posts) == 1
    assert [d.status for d in after.deliveries.for_subscription(sub.id)] == [SENT, SENT]
    assert after.subscriptions.get(sub.id).last_delivery == TUESDAY_0800
    after.close()


async def test_a_second_start_after_a_missed_slot_posts_it_only_once(db_url: str) -> None:
    db = Database(db_url)
    sub = subscribe(db)
    publisher = FakePublisher()
    late = MONDAY_0800 + timedelta(minutes=10)

    first = await make_scheduler(db, publisher).catch_up(late)
    restarted = Database(db_url)
    second = await make_scheduler(restarted, publisher).catch_up(late)
    restarted.close()

    assert [r.outcome for r in first] == [Outcome.SENT]
    assert second == []
    assert len(publisher.posts) == 1
    assert db.subscriptions.get(sub.id).last_delivery == late
    db.close()


async def test_a_claim_left_by_a_dead_process_is_taken_over_at_restart_with_a_note(
    db: Database,
) -> None:
    sub = subscribe(db)
    lease_until = MONDAY_0800 + timedelta(minutes=1)
    db.deliveries.claim(
        sub.id, MONDAY_0800, now=MONDAY_0800, owner="1:dead", lease_until=lease_until
    )
    publisher = FakePublisher()

    [result] = await make_scheduler(db, publisher).catch_up(MONDAY_0800 + timedelta(minutes=5))

    assert (result.outcome, result.scheduled_for) == (Outcome.SENT, MONDAY_0800)
    assert result.note is not None and "s'est arrêté en cours d'envoi" in result.note
    assert publisher.channels() == ["C-general"]


# --- missed runs -----------------------------------------------------------------------


async def test_a_run_missed_within_the_grace_period_is_posted_late_with_a_note(
    db: Database,
) -> None:
    sub = subscribe(db)
    publisher = FakePublisher()
    scheduler = make_scheduler(db, publisher)

    [result] = await scheduler.catch_up(MONDAY_0800 + timedelta(minutes=40))

    assert result.outcome is Outcome.SENT
    note = "Briefing de 08:00 envoyé avec 40 min de retard : le bot était arrêté."
    assert result.note == note
    [(channel, reply)] = publisher.posts
    assert (channel, reply.blocks[0].text) == ("C-general", note)
    assert db.deliveries.for_subscription(sub.id)[0].note == note


async def test_a_run_missed_beyond_the_grace_period_is_recorded_as_skipped(db: Database) -> None:
    sub = subscribe(db)
    publisher = FakePublisher()
    scheduler = make_scheduler(db, publisher)

    [result] = await scheduler.catch_up(MONDAY_0800 + timedelta(hours=2, minutes=30))

    assert result.outcome is Outcome.SKIPPED
    assert publisher.posts == []
    [delivery] = db.deliveries.for_subscription(sub.id)
    assert (delivery.status, delivery.scheduled_for) == (SKIPPED, MONDAY_0800)
    assert "non envoyé" in delivery.note
    assert await scheduler.catch_up(MONDAY_0800 + timedelta(hours=3)) == []


async def test_several_missed_runs_coalesce_into_the_latest(db: Database) -> None:
    sub = subscribe(db)
    publisher = FakePublisher()
    scheduler = make_scheduler(db, publisher)

    results = await scheduler.catch_up(WEDNESDAY_0800 + timedelta(minutes=20))

    assert [(r.scheduled_for, r.outcome) for r in results] == [(WEDNESDAY_0800, Outcome.SENT)]
    assert len(publisher.posts) == 1
    assert [d.scheduled_for for d in db.deliveries.for_subscription(sub.id)] == [WEDNESDAY_0800]


async def test_a_schedule_set_after_todays_time_is_not_owed_todays_briefing(db: Database) -> None:
    subscribe(db, now=MONDAY_0800 + timedelta(hours=2))  # subscribed at 10:00 for 08:00
    publisher = FakePublisher()
    results = await make_scheduler(db, publisher).catch_up(MONDAY_0800 + timedelta(hours=3))
    assert results == []
    assert publisher.posts == []


async def test_a_job_woken_beyond_the_grace_period_skips_instead_of_posting(db: Database) -> None:
    sub = subscribe(db)
    publisher = FakePublisher()
    clock = Clock(MONDAY_0800 + timedelta(hours=3))  # the machine slept through 08:00
    result = await make_scheduler(db, publisher, clock=clock).fire(sub.id)
    assert result is not None and result.outcome is Outcome.SKIPPED
    assert publisher.posts == []


# --- failures --------------------------------------------------------------------------


async def test_a_failing_channel_is_retried_with_backoff_then_paused_beside_a_healthy_one(
    db: Database,
) -> None:
    healthy = subscribe(db, "C-general")
    broken = subscribe(db, "C-deleted")
    publisher = FakePublisher()
    publisher.flaky.add("C-deleted")
    scheduler = make_scheduler(db, publisher, max_failures=3)

    ok, failed = await asyncio.gather(
        scheduler.run_slot(healthy.id, MONDAY_0800, now=MONDAY_0800),
        scheduler.run_slot(broken.id, MONDAY_0800, now=MONDAY_0800),
    )
    assert ok.outcome is Outcome.SENT
    assert publisher.channels() == ["C-general"]
    assert failed.outcome is Outcome.FAILED
    assert failed.retry_at == MONDAY_0800 + timedelta(minutes=1)

    results: list[SlotResult] = [failed]
    while results[-1].retry_at is not None:
        results.append(
            await scheduler.run_slot(
                broken.id, MONDAY_0800, now=results[-1].retry_at, reason=Reason.RETRY
            )
        )

    assert [r.outcome for r in results] == [Outcome.FAILED, Outcome.FAILED, Outcome.PAUSED]
    assert results[1].retry_at == MONDAY_0800 + timedelta(minutes=1 + 2)
    paused = db.subscriptions.get(broken.id)
    assert paused.paused and "3 échecs" in paused.paused_reason
    assert [channel for channel, _ in publisher.paused] == ["C-deleted"]
    assert publisher.channels() == ["C-general"]
    assert not db.subscriptions.get(healthy.id).paused

    tuesday = await scheduler.run_slot(broken.id, TUESDAY_0800, now=TUESDAY_0800)
    assert tuesday.outcome is Outcome.INACTIVE


async def test_a_slow_channel_does_not_hold_up_the_others(db: Database) -> None:
    slow = subscribe(db, "C-slow")
    fast = subscribe(db, "C-fast")
    publisher = FakePublisher()
    publisher.gates["C-slow"] = asyncio.Event()
    scheduler = make_scheduler(db, publisher)

    slow_task = asyncio.create_task(scheduler.run_slot(slow.id, MONDAY_0800, now=MONDAY_0800))
    fast_result = await scheduler.run_slot(fast.id, MONDAY_0800, now=MONDAY_0800)

    assert fast_result.outcome is Outcome.SENT
    assert not slow_task.done()
    publisher.gates["C-slow"].set()
    assert (await slow_task).outcome is Outcome.SENT
    assert publisher.channels() == ["C-fast", "C-slow"]


async def test_a_publish_that_never_answers_times_out_as_a_failure(db: Database) -> None:
    sub = subscribe(db, "C-stuck")
    publisher = FakePublisher()
    publisher.gates["C-stuck"] = asyncio.Event()  # never set
    scheduler = make_scheduler(db, publisher, slot_timeout=timedelta(0))

    result = await scheduler.run_slot(sub.id, MONDAY_0800, now=MONDAY_0800)

    assert (result.outcome, result.error) == (Outcome.FAILED, "délai dépassé")


async def test_a_failed_slot_is_retried_after_a_restart(db_url: str) -> None:
    db = Database(db_url)
    sub = subscribe(db, "C-flaky")
    flaky = FakePublisher()
    flaky.flaky.add("C-flaky")
    await make_scheduler(db, flaky).run_slot(sub.id, MONDAY_0800, now=MONDAY_0800)
    db.close()

    again = Database(db_url)  # restarted before the retry job ran; the channel works again
    healed = FakePublisher()
    [result] = await make_scheduler(again, healed).catch_up(MONDAY_0800 + timedelta(minutes=5))

    assert result.outcome is Outcome.SENT
    assert healed.channels() == ["C-flaky"]
    assert again.deliveries.for_subscription(sub.id)[0].attempts == 2
    again.close()


async def test_an_empty_briefing_is_recorded_but_not_posted(db: Database) -> None:
    sub = subscribe(db, text="at=08:00 tz=Europe/Paris empty=skip")
    publisher = FakePublisher()
    scheduler = BriefingScheduler(
        db.subscriptions, db.deliveries, {"slack": publisher}, lambda sub, since: None
    )

    result = await scheduler.run_slot(sub.id, MONDAY_0800, now=MONDAY_0800)

    assert result.outcome is Outcome.EMPTY
    assert publisher.posts == []
    assert db.deliveries.for_subscription(sub.id)[0].status == SKIPPED
    assert db.subscriptions.get(sub.id).last_delivery is None


async def test_the_digest_is_asked_for_what_is_new_since_the_last_briefing(db: Database) -> None:
    sub = subscribe(db)
    seen: list[datetime | None] = []

    async def remember(sub: Subscription, since: datetime | None) -> Reply:
        seen.append(since)
        return digest(sub, since)

    scheduler = BriefingScheduler(
        db.subscriptions, db.deliveries, {"slack": FakePublisher()}, remember
    )
    await scheduler.run_slot(sub.id, MONDAY_0800, now=MONDAY_0800)
    await scheduler.run_slot(sub.id, TUESDAY_0800, now=TUESDAY_0800)

    assert seen == [None, MONDAY_0800]


async def test_a_bug_in_the_digest_is_recorded_without_blaming_the_channel(db: Database) -> None:
    sub = subscribe(db)

    def broken(sub: Subscription, since: datetime | None) -> Reply:
        raise RuntimeError("boom")

    scheduler = BriefingScheduler(
        db.subscriptions, db.deliveries, {"slack": FakePublisher()}, broken
    )
    result = await scheduler.run_slot(sub.id, MONDAY_0800, now=MONDAY_0800)

    assert result.outcome is Outcome.ERROR
    assert db.subscriptions.get(sub.id).consecutive_failures == 0


# --- the real APScheduler --------------------------------------------------------------


async def test_start_registers_one_job_per_active_subscription_in_its_timezone(
    db: Database,
) -> None:
    paris = subscribe(db, "C-paris")
    new_york = subscribe(db, "C-ny", "at=07:30 days=weekdays tz=America/New_York")
    paused = subscribe(db, "C-paused")
    db.subscriptions.pause(paused.id, "trop d'échecs")
    subscribe(db, "42", platform="discord")  # no Discord publisher in this process
    scheduler = make_scheduler(db, FakePublisher())

    await scheduler.start(catch_up=False)
    try:
        jobs = {job.id: job for job in scheduler.jobs() if job.id.startswith("briefing:")}
        assert set(jobs) == {job_id(paris.id), job_id(new_york.id)}
        paris_next = jobs[job_id(paris.id)].next_run_time
        ny_next = jobs[job_id(new_york.id)].next_run_time
        assert paris_next.tzinfo == PARIS
        assert (paris_next.hour, paris_next.minute, paris_next.weekday() < 5) == (8, 0, True)
        assert ny_next.tzinfo == ZoneInfo("America/New_York")
        assert (ny_next.hour, ny_next.minute) == (7, 30)

        scheduler.remove(new_york.id)
        assert {job.id for job in scheduler.jobs()} == {job_id(paris.id), "briefing-sync"}
        changed = db.subscriptions.save(
            paris.channel_ref,
            parse_schedule(parse_options("at=18h tz=Asia/Tokyo")),
            created_by="U1",
        ).subscription
        scheduler.reschedule(changed)
        [tokyo_next] = [j.next_run_time for j in scheduler.jobs() if j.id == job_id(paris.id)]
        assert (str(tokyo_next.tzinfo), tokyo_next.hour) == ("Asia/Tokyo", 18)
    finally:
        await scheduler.shutdown()
    assert not scheduler.running


async def test_a_failure_while_running_schedules_a_one_off_retry_job(db: Database) -> None:
    sub = subscribe(db, "C-deleted", now=datetime.now(UTC))
    later = datetime.now(UTC) + timedelta(days=1)  # keeps the retry in APScheduler's future
    publisher = FakePublisher()
    publisher.flaky.add("C-deleted")
    scheduler = make_scheduler(db, publisher, clock=Clock(later))
    await scheduler.start(catch_up=False)
    try:
        result = await scheduler.run_slot(sub.id, later, now=later)
        retries = [job for job in scheduler.jobs() if job.id.startswith("briefing-retry:")]
        assert [job.next_run_time for job in retries] == [result.retry_at]
    finally:
        await scheduler.shutdown()


async def test_start_catches_up_in_the_background_and_shutdown_waits_for_it(
    db: Database,
) -> None:
    subscribe(db)
    publisher = FakePublisher()
    clock = Clock(MONDAY_0800 + timedelta(minutes=15))
    scheduler = make_scheduler(db, publisher, clock=clock)

    await scheduler.start()
    await scheduler.shutdown()

    assert publisher.channels() == ["C-general"]


# --- leases, take-overs and progress ---------------------------------------------------

LEASE = timedelta(seconds=60)


async def test_a_claim_names_its_owner_and_holds_a_lease(db: Database) -> None:
    sub = subscribe(db)
    publisher = FakePublisher()
    publisher.flaky.add("C-general")  # keeps the row claimed-then-failed for inspection
    scheduler = make_scheduler(db, publisher, owner="42:abc", lease=LEASE)

    await scheduler.run_slot(sub.id, MONDAY_0800, now=MONDAY_0800)

    [delivery] = db.deliveries.for_subscription(sub.id)
    assert delivery.owner == "42:abc"
    # a failure keeps the slot ours until the retry is overdue by one lease
    assert delivery.lease_until == MONDAY_0800 + timedelta(minutes=1) + LEASE


async def test_a_live_claim_of_another_process_is_left_alone(db: Database) -> None:
    sub = subscribe(db)
    until = MONDAY_0800 + LEASE
    db.deliveries.claim(sub.id, MONDAY_0800, now=MONDAY_0800, owner="1:alive", lease_until=until)
    publisher = FakePublisher()

    result = await make_scheduler(db, publisher).run_slot(
        sub.id, MONDAY_0800, now=MONDAY_0800 + timedelta(seconds=30), reason=Reason.CATCH_UP
    )

    assert result.outcome is Outcome.DUPLICATE
    assert publisher.posts == []


async def test_a_peer_takes_over_the_claim_of_a_dead_process_at_its_sync(db_url: str) -> None:
    dead, peer = Database(db_url), Database(db_url)
    sub = subscribe(dead)
    until = MONDAY_0800 + LEASE
    dead.deliveries.claim(sub.id, MONDAY_0800, now=MONDAY_0800, owner="1:dead", lease_until=until)
    publisher = FakePublisher()

    results = await make_scheduler(peer, publisher).sync(MONDAY_0800 + timedelta(minutes=2))

    assert [(r.scheduled_for, r.outcome) for r in results] == [(MONDAY_0800, Outcome.SENT)]
    assert publisher.channels() == ["C-general"]
    [delivery] = peer.deliveries.for_subscription(sub.id)
    assert delivery.status == SENT
    dead.close()
    peer.close()


async def test_an_expired_claim_beyond_the_grace_period_is_skipped_with_its_reason(
    db: Database,
) -> None:
    sub = subscribe(db)
    until = MONDAY_0800 + LEASE
    db.deliveries.claim(sub.id, MONDAY_0800, now=MONDAY_0800, owner="1:dead", lease_until=until)
    publisher = FakePublisher()
    scheduler = make_scheduler(db, publisher)

    await scheduler.catch_up(MONDAY_0800 + timedelta(hours=2))

    assert publisher.posts == []
    delivery = db.deliveries.for_subscription(sub.id)[0]
    assert delivery.status == SKIPPED
    assert delivery.note is not None and "l'envoi a été interrompu" in delivery.note


async def test_a_taken_over_claim_is_checked_before_its_first_message_is_sent_again(
    db: Database,
) -> None:
    sub = subscribe(db)
    publisher = FakePublisher(parts=2)
    publisher.lost_answer["C-general"] = 0  # accepted, then the process "dies"
    first = make_scheduler(db, publisher, owner="1:first")
    await first.run_slot(sub.id, MONDAY_0800, now=MONDAY_0800)

    second = make_scheduler(db, publisher, owner="2:second")
    result = await second.run_slot(
        sub.id, MONDAY_0800, now=MONDAY_0800 + timedelta(minutes=2), reason=Reason.RETRY
    )

    assert result.outcome is Outcome.SENT
    key = slot_key(sub.id, MONDAY_0800)
    assert publisher.per_slot() == {(key, 0): 1, (key, 1): 1}


async def test_a_timeout_after_sending_is_checked_not_sent_twice(db: Database) -> None:
    sub = subscribe(db)
    publisher = FakePublisher()
    publisher.lost_answer["C-general"] = 0
    scheduler = make_scheduler(db, publisher)

    failed = await scheduler.run_slot(sub.id, MONDAY_0800, now=MONDAY_0800)
    assert failed.retry_at is not None
    retried = await scheduler.run_slot(
        sub.id, MONDAY_0800, now=failed.retry_at, reason=Reason.RETRY
    )

    assert (failed.outcome, retried.outcome) == (Outcome.FAILED, Outcome.SENT)
    assert len(publisher.messages) == 1


async def test_a_multi_message_briefing_resumes_from_the_first_message_not_sent(
    db: Database,
) -> None:
    sub = subscribe(db)
    publisher = FakePublisher(parts=3)
    publisher.fail_at["C-general"] = 1
    scheduler = make_scheduler(db, publisher)

    failed = await scheduler.run_slot(sub.id, MONDAY_0800, now=MONDAY_0800)
    assert db.deliveries.for_subscription(sub.id)[0].progress == 1
    assert failed.retry_at is not None
    await scheduler.run_slot(sub.id, MONDAY_0800, now=failed.retry_at, reason=Reason.RETRY)

    key = slot_key(sub.id, MONDAY_0800)
    assert [(k, part) for _, k, part in publisher.messages] == [(key, 0), (key, 1), (key, 2)]


async def test_without_history_an_interrupted_message_is_sent_again(db: Database) -> None:
    """The window the README documents for Slack without the history scope."""
    sub = subscribe(db)
    publisher = FakePublisher(history=False)
    publisher.lost_answer["C-general"] = 0
    scheduler = make_scheduler(db, publisher)

    failed = await scheduler.run_slot(sub.id, MONDAY_0800, now=MONDAY_0800)
    assert failed.retry_at is not None
    await scheduler.run_slot(sub.id, MONDAY_0800, now=failed.retry_at, reason=Reason.RETRY)

    assert len(publisher.messages) == 2


async def test_a_permanent_error_pauses_the_channel_at_once(db: Database) -> None:
    sub = subscribe(db, "C-deleted")
    publisher = FakePublisher(failing={"C-deleted"})
    scheduler = make_scheduler(db, publisher, max_failures=5)

    result = await scheduler.run_slot(sub.id, MONDAY_0800, now=MONDAY_0800)

    assert (result.outcome, result.retry_at) == (Outcome.PAUSED, None)
    paused = db.subscriptions.get(sub.id)
    assert paused is not None and paused.paused
    assert [channel for channel, _ in publisher.paused] == ["C-deleted"]


# --- database outages ------------------------------------------------------------------


class DatabaseDown(Exception):
    """What the storage raises while the database is unreachable."""


async def test_a_database_error_at_slot_time_is_retried_with_backoff() -> None:
    memory = InMemoryBriefings()
    sub = subscribe(memory)
    publisher = FakePublisher()
    scheduler = make_scheduler(memory, publisher, unavailable=(DatabaseDown,))
    memory.outage(DatabaseDown("connection refused"))

    result = await scheduler.run_slot(sub.id, MONDAY_0800, now=MONDAY_0800)

    assert result.outcome is Outcome.FAILED
    assert result.retry_at == MONDAY_0800 + timedelta(minutes=1)
    assert result.error is not None and "base de données indisponible" in result.error
    assert publisher.posts == []


async def test_the_slot_is_posted_once_the_database_is_back_with_the_true_cause() -> None:
    memory = InMemoryBriefings()
    sub = subscribe(memory)
    publisher = FakePublisher()
    scheduler = make_scheduler(memory, publisher, unavailable=(DatabaseDown,))
    memory.outage(DatabaseDown("connection refused"))
    down = await scheduler.run_slot(sub.id, MONDAY_0800, now=MONDAY_0800)
    memory.outage(None)

    assert down.retry_at is not None
    back = await scheduler.run_slot(sub.id, MONDAY_0800, now=down.retry_at, reason=Reason.DATABASE)

    assert back.outcome is Outcome.SENT
    assert back.note == (
        "Briefing de 08:00 envoyé avec 1 min de retard : la base de données était indisponible."
    )
    assert len(publisher.posts) == 1


async def test_a_database_error_after_the_claim_resumes_the_claim_once_back() -> None:
    memory = InMemoryBriefings()
    sub = subscribe(memory)
    publisher = FakePublisher()
    scheduler = make_scheduler(memory, publisher, unavailable=(DatabaseDown,))

    def digest_while_the_database_fails(sub: Subscription, since: datetime | None) -> Reply:
        memory.outage(DatabaseDown("disk full"))
        raise DatabaseDown("disk full")

    scheduler.make_digest = digest_while_the_database_fails
    down = await scheduler.run_slot(sub.id, MONDAY_0800, now=MONDAY_0800)
    memory.outage(None)
    scheduler.make_digest = digest
    assert down.retry_at is not None
    back = await scheduler.run_slot(sub.id, MONDAY_0800, now=down.retry_at, reason=Reason.DATABASE)

    assert (down.outcome, back.outcome) == (Outcome.FAILED, Outcome.SENT)
    assert len(publisher.posts) == 1


# --- catch-up rules --------------------------------------------------------------------


async def test_a_catch_up_never_posts_a_slot_from_before_the_schedule_changed(
    db: Database,
) -> None:
    sub = subscribe(db)
    publisher = FakePublisher()
    publisher.flaky.add("C-general")
    scheduler = make_scheduler(db, publisher)
    await scheduler.run_slot(sub.id, MONDAY_0800, now=MONDAY_0800)  # failed, retry owed
    subscribe(db, text="at=08:30 tz=Europe/Paris", now=MONDAY_0800 + timedelta(minutes=4))
    publisher.flaky.clear()

    results = await make_scheduler(db, publisher).catch_up(MONDAY_0800 + timedelta(minutes=7))

    assert publisher.posts == []
    assert [r.outcome for r in results] == [Outcome.INACTIVE]
    assert db.deliveries.for_subscription(sub.id)[0].status == SKIPPED


async def test_a_catch_up_less_than_two_minutes_late_carries_a_note(db: Database) -> None:
    subscribe(db)
    publisher = FakePublisher()

    [result] = await make_scheduler(db, publisher).catch_up(MONDAY_0800 + timedelta(seconds=50))

    assert result.note == "Briefing de 08:00 envoyé avec 1 min de retard : le bot était arrêté."


async def test_an_on_time_post_carries_no_note(db: Database) -> None:
    sub = subscribe(db)
    result = await make_scheduler(db, FakePublisher()).run_slot(
        sub.id, MONDAY_0800, now=MONDAY_0800 + timedelta(seconds=1)
    )
    assert (result.outcome, result.note) == (Outcome.SENT, None)


# --- processes see each other's changes ------------------------------------------------


async def test_sync_schedules_a_subscription_created_by_another_process(db_url: str) -> None:
    here, there = Database(db_url), Database(db_url)
    scheduler = make_scheduler(here, FakePublisher())
    await scheduler.start(catch_up=False)
    try:
        sub = subscribe(there, now=datetime.now(UTC))
        await scheduler.sync()
        assert job_id(sub.id) in {job.id for job in scheduler.jobs()}
    finally:
        await scheduler.shutdown()
        here.close()
        there.close()


async def test_sync_reschedules_a_subscription_changed_by_another_process(db_url: str) -> None:
    here, there = Database(db_url), Database(db_url)
    sub = subscribe(here, now=datetime.now(UTC) - timedelta(hours=1))
    scheduler = make_scheduler(here, FakePublisher())
    await scheduler.start(catch_up=False)
    try:
        subscribe(there, text="at=18h tz=Asia/Tokyo", now=datetime.now(UTC))
        await scheduler.sync()
        [job] = [job for job in scheduler.jobs() if job.id == job_id(sub.id)]
        assert (str(job.next_run_time.tzinfo), job.next_run_time.hour) == ("Asia/Tokyo", 18)
    finally:
        await scheduler.shutdown()
        here.close()
        there.close()


async def test_sync_drops_a_subscription_removed_by_another_process(db_url: str) -> None:
    here, there = Database(db_url), Database(db_url)
    sub = subscribe(here, now=datetime.now(UTC))
    scheduler = make_scheduler(here, FakePublisher())
    await scheduler.start(catch_up=False)
    try:
        there.subscriptions.delete(sub.channel_ref)
        await scheduler.sync()
        assert job_id(sub.id) not in {job.id for job in scheduler.jobs()}
    finally:
        await scheduler.shutdown()
        here.close()
        there.close()


async def test_sync_posts_a_slot_nobody_claimed_late_with_a_note(db: Database) -> None:
    subscribe(db)  # its process died before 08:00
    publisher = FakePublisher()
    scheduler = make_scheduler(db, publisher, sync_interval=timedelta(seconds=30))

    assert await scheduler.sync(MONDAY_0800 + timedelta(seconds=10)) == []  # its owner's time
    [late] = await scheduler.sync(MONDAY_0800 + timedelta(seconds=40))

    assert (late.outcome, late.scheduled_for) == (Outcome.SENT, MONDAY_0800)
    assert late.note is not None and late.note.endswith("le bot était arrêté.")


async def test_a_peer_retries_a_failed_slot_once_its_owners_retry_is_overdue(
    db_url: str,
) -> None:
    dead, peer = Database(db_url), Database(db_url)
    sub = subscribe(dead)
    flaky = FakePublisher()
    flaky.flaky.add("C-general")
    failed = await make_scheduler(dead, flaky, lease=LEASE).run_slot(
        sub.id, MONDAY_0800, now=MONDAY_0800
    )  # retry due 08:01; its process dies
    assert failed.retry_at is not None
    publisher = FakePublisher()
    scheduler = make_scheduler(peer, publisher, lease=LEASE)

    assert await scheduler.sync(failed.retry_at + LEASE / 2) == []
    [result] = await scheduler.sync(failed.retry_at + LEASE * 2)

    assert result.outcome is Outcome.SENT
    assert publisher.channels() == ["C-general"]
    dead.close()
    peer.close()


async def test_a_database_error_when_the_job_fires_is_fired_again_with_the_true_cause() -> None:
    memory = InMemoryBriefings()
    sub = subscribe(memory)
    publisher = FakePublisher()
    clock = Clock(MONDAY_0800)
    scheduler = make_scheduler(memory, publisher, unavailable=(DatabaseDown,), clock=clock)
    memory.outage(DatabaseDown("connection refused"))
    assert await scheduler.fire(sub.id) is None
    memory.outage(None)
    clock.now = MONDAY_0800 + timedelta(minutes=1)

    result = await scheduler.fire(sub.id, Reason.DATABASE)

    assert result is not None and result.outcome is Outcome.SENT
    assert result.note is not None and result.note.endswith("base de données était indisponible.")
