"""The briefing scheduler: one cron job per subscription, restart-safe and exactly once.

APScheduler only says *when*; what happens at a slot lives in `run_slot`, and every
decision about time takes an explicit `now`, so tests drive it with a controlled clock:

* exactly once: a slot is claimed in the delivery log (INSERT under a unique constraint) before
  anything is posted, by an `owner` (this process) holding a lease it renews while sending;
  a second scheduler, a second start or a retry race posts nothing. A claim whose lease
  expired (its process died) is taken over by whoever sees it first: this process after a
  restart, or a peer on the same database at its next sync;
* resumable: each message the platform accepts is recorded (`progress`), so a retry or a
  take-over sends only the rest; a message that may have been accepted (a timeout after
  sending, an owner that died while sending) is sent with `check`, so the platform looks
  for it first, keyed by the slot;
* restart-safe: `start()` schedules every active subscription again and `catch_up()` looks
  at what was missed while the bot was down: the latest missed slot is posted late with a
  note while within the grace period, recorded as skipped after it; older missed slots
  coalesce into that one. Slots before the subscription's last change are never owed;
* shared: every `sync_interval` the scheduler reloads the subscriptions (created, changed
  or removed by any process), takes over overdue claims and catches up unclaimed slots;
* isolation: each slot runs as its own task with a timeout; a failing channel is retried
  with exponential back-off (one-off date jobs, nothing waits for them) and paused after
  `max_failures` consecutive failures, or at once for a permanent error, with a note where
  the platform allows. A database error is retried with back-off too, in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import os
import secrets
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.briefings.changes import SubscriptionChanges
from bot.briefings.errors import ScheduleError
from bot.briefings.ports import DeliveryLog, SubscriptionStore
from bot.briefings.subscription import FAILED, SCHEDULED, Delivery, Subscription, utcnow
from bot.briefings.timezones import zone_or_utc
from bot.chat.publishing import DeliveryError, Publisher
from bot.chat.replies import Block, Reply
from bot.chat.telemetry import NULL_TELEMETRY, BriefingOutcome, Telemetry

log = logging.getLogger(__name__)

DigestMaker = Callable[[Subscription, datetime | None], Reply | Awaitable[Reply | None] | None]
TriggerOf = Callable[[Subscription], BaseTrigger]
# Awaited at "claim" (slot claimed), "post" (digest built, nothing sent) and "mark" (a
# message accepted by the platform, not yet recorded): the kill test stops the process there.
Checkpoint = Callable[[str, int, datetime], Awaitable[None]]

# A slot posted later than this gets a note saying so.
LATE_NOTE_AFTER = timedelta(minutes=2)
# How far back the cron job looks for "its" slot when it fires (it fires on time, or a
# little late if the event loop was busy; anything older is catch-up's business).
_FIRE_LOOKBACK = timedelta(days=1)
_FIRE_LEEWAY = timedelta(seconds=1)


class Outcome(StrEnum):
    SENT = "sent"
    EMPTY = "empty"  # nothing new and the subscription says skip: recorded, not posted
    DUPLICATE = "duplicate"  # someone else already claimed the slot
    SKIPPED = "skipped"  # missed beyond the grace period: recorded, not posted
    FAILED = "failed"  # publishing failed; a retry is scheduled
    PAUSED = "paused"  # failed once too often; the subscription is paused
    ERROR = "error"  # our own bug (building the digest): recorded, not retried
    INACTIVE = "inactive"  # subscription gone, paused, or no publisher for its platform


# What each outcome counts as in the telemetry; the others happened elsewhere or not at all.
_RECORDED: dict[Outcome, BriefingOutcome] = {
    Outcome.SENT: "sent",
    Outcome.EMPTY: "skipped",
    Outcome.SKIPPED: "skipped",
    Outcome.FAILED: "failed",
    Outcome.ERROR: "failed",
    Outcome.PAUSED: "paused",
}


class Reason(StrEnum):
    ON_TIME = "on_time"
    CATCH_UP = "catch_up"  # the bot was down at the slot's time
    RETRY = "retry"
    TAKEOVER = "takeover"  # the process sending it died; its lease expired
    DATABASE = "database"  # the database failed at the slot's time


class ClaimLost(Exception):
    """Our lease on a slot expired and someone else took it over: stop sending."""


def process_owner() -> str:
    """This process's name on its claims: its pid and a random token (pids are reused)."""
    return f"{os.getpid()}:{secrets.token_hex(6)}"


def slot_key(subscription_id: int, scheduled_for: datetime) -> str:
    """The slot's name on the platform, the same on every attempt of every process."""
    return f"briefbot:{subscription_id}:{scheduled_for.astimezone(UTC):%Y%m%dT%H%M%SZ}"


@dataclass(frozen=True, slots=True)
class SlotResult:
    subscription_id: int
    scheduled_for: datetime
    outcome: Outcome
    retry_at: datetime | None = None
    note: str | None = None
    error: str | None = None


def latest_fire_time(trigger: BaseTrigger, after: datetime, until: datetime) -> datetime | None:
    """The latest fire time in (after, until], or None.

    Looks back in growing windows from `until`, so a long outage costs a handful of
    iterations rather than one per missed slot.
    """
    if until <= after:
        return None
    window = timedelta(days=2)
    while True:
        start = max(after, until - window)
        latest: datetime | None = None
        fire = trigger.get_next_fire_time(None, start)
        while fire is not None and fire <= until:
            if fire > after:
                latest = fire
            fire = trigger.get_next_fire_time(fire, fire)
        if latest is not None or start == after:
            return latest
        window *= 8


def backoff(failures: int, base: timedelta, cap: timedelta) -> timedelta:
    """Delay before retry number `failures` (1-based): base, 2×base, 4×base… up to cap."""
    return min(cap, base * (2 ** max(0, failures - 1)))


def late_note(scheduled_for: datetime, now: datetime, timezone: str, reason: Reason) -> str:
    """The note a late briefing carries: "Briefing de 08:00 envoyé avec 12 min de retard…"."""
    local = scheduled_for.astimezone(zone_or_utc(timezone))
    delay = _duration(now - scheduled_for)
    text = f"Briefing de {local:%H:%M} envoyé avec {delay} de retard"
    return text + _CAUSES.get(reason, ".")


_CAUSES = {
    Reason.CATCH_UP: " : le bot était arrêté.",
    Reason.RETRY: " : la première tentative de publication a échoué.",
    Reason.TAKEOVER: " : le processus qui l'envoyait s'est arrêté en cours d'envoi.",
    Reason.DATABASE: " : la base de données était indisponible.",
}
_SKIP_CAUSES = {
    Reason.TAKEOVER: "l'envoi a été interrompu et n'a pas repris",
    Reason.DATABASE: "la base de données est restée indisponible",
    Reason.RETRY: "la publication a échoué",
}


def skipped_note(
    scheduled_for: datetime, grace: timedelta, timezone: str, reason: Reason = Reason.CATCH_UP
) -> str:
    local = scheduled_for.astimezone(zone_or_utc(timezone))
    cause = _SKIP_CAUSES.get(reason, "le bot était arrêté")
    return (
        f"Briefing de {local:%H:%M} (le {local:%d/%m}) non envoyé : {cause} "
        f"plus de {_duration(grace)} après l'heure prévue."
    )


def stale_note(scheduled_for: datetime, timezone: str) -> str:
    local = scheduled_for.astimezone(zone_or_utc(timezone))
    return f"Briefing de {local:%H:%M} non envoyé : l'horaire a été modifié depuis."


def pause_message(failures: int, reason: str, *, permanent: bool = False) -> str:
    if permanent:
        return (
            f"Les briefings de ce canal sont en pause : {reason}. Un administrateur peut les "
            "relancer avec /briefing subscribe une fois le problème réglé."
        )
    return (
        f"Les briefings de ce canal sont en pause après {failures} échecs de publication "
        f"consécutifs (dernier : {reason}). Un administrateur peut les relancer avec "
        "/briefing subscribe."
    )


class BriefingScheduler:
    """Runs every subscription's briefings. Only subscriptions whose platform has a
    publisher in this process are scheduled (another process may serve the others)."""

    def __init__(
        self,
        subscriptions: SubscriptionStore,
        deliveries: DeliveryLog,
        publishers: Mapping[str, Publisher],
        make_digest: DigestMaker,
        changes: SubscriptionChanges | None = None,
        *,
        grace: timedelta = timedelta(hours=1),
        max_failures: int = 5,
        retry_base: timedelta = timedelta(minutes=1),
        retry_cap: timedelta = timedelta(hours=1),
        slot_timeout: timedelta = timedelta(minutes=2),
        clock: Callable[[], datetime] = utcnow,
        telemetry: Telemetry = NULL_TELEMETRY,
        owner: str | None = None,
        lease: timedelta = timedelta(seconds=60),
        sync_interval: timedelta = timedelta(seconds=30),
        unavailable: tuple[type[BaseException], ...] = (),
        trigger_of: TriggerOf | None = None,
        checkpoint: Checkpoint | None = None,
    ) -> None:
        """`lease`: how long a claim stays ours without renewal (renewed every third of it
        while sending); `sync_interval`: how often subscriptions and overdue claims of
        other processes are looked at (a slot unclaimed that long after its time is
        missed); `unavailable`: the storage's exceptions that mean "database down",
        retried with back-off; `trigger_of`: when a subscription fires (its schedule)."""
        self.subscriptions = subscriptions
        self.deliveries = deliveries
        self.publishers = dict(publishers)
        self.make_digest = make_digest
        self.grace = grace
        self.max_failures = max_failures
        self.retry_base = retry_base
        self.retry_cap = retry_cap
        self.slot_timeout = slot_timeout
        self.clock = clock
        self.telemetry = telemetry
        self.owner = owner or process_owner()
        self.lease = lease
        self.sync_interval = sync_interval
        self._unavailable = unavailable
        self._trigger_of: TriggerOf = trigger_of or (lambda sub: sub.spec.trigger())
        self._checkpoint = checkpoint
        self._scheduler: AsyncIOScheduler | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._inflight: set[tuple[int, datetime]] = set()
        self._database_failures: dict[tuple[int, datetime], int] = {}
        self._known: dict[int, tuple[datetime, bool]] = {}
        if changes is not None:
            changes.listen(self.add, self.remove)

    # lifecycle ------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._scheduler is not None and self._scheduler.running

    async def start(self, *, catch_up: bool = True) -> None:
        """Schedule every active subscription, then catch up on missed slots in the
        background (a slow channel must not hold up the bot's start)."""
        if self.running:
            return
        self._scheduler = AsyncIOScheduler(timezone=UTC, event_loop=asyncio.get_running_loop())
        self._scheduler.start()
        for sub in self.subscriptions.list():
            self.add(sub)
        self._scheduler.add_job(
            self._sync_job,
            IntervalTrigger(seconds=self.sync_interval.total_seconds()),
            id="briefing-sync",
            name="briefing sync",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )
        if catch_up:
            self._spawn(self.catch_up())

    async def shutdown(self, timeout: timedelta = timedelta(seconds=30)) -> None:
        """Stop firing new slots, let in-flight deliveries finish (bounded), then stop."""
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None and scheduler.running:
            scheduler.pause()
        await self.drain(timeout)
        leftovers = list(self._tasks)
        for task in leftovers:
            task.cancel()
        await asyncio.gather(*leftovers, return_exceptions=True)
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)
            await asyncio.sleep(0)  # let the loop run the scheduler's shutdown callback

    async def drain(self, timeout: timedelta | None = None) -> None:
        """Wait for the deliveries in flight (tests use it instead of sleeping)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout.total_seconds() if timeout else None
        while self._tasks:  # tasks may spawn tasks (catch-up runs slots): loop until none
            left = None if deadline is None else deadline - loop.time()
            if left is not None and left <= 0:
                return
            await asyncio.wait(set(self._tasks), timeout=left)

    # jobs -------------------------------------------------------------------------------------

    def add(self, subscription: Subscription) -> None:
        """(Re)schedule a subscription's cron job; paused ones and platforms without a
        publisher get none."""
        if self._scheduler is None:
            return
        if subscription.paused or subscription.platform not in self.publishers:
            self.remove(subscription.id)
            self._known[subscription.id] = (subscription.updated_at, subscription.paused)
            return
        self._known[subscription.id] = (subscription.updated_at, subscription.paused)
        try:
            trigger = self._trigger_of(subscription)
        except ScheduleError as err:
            log.error("subscription %s has an unusable schedule: %s", subscription.id, err)
            return
        self._scheduler.add_job(
            self.fire,
            trigger,
            args=[subscription.id],
            id=job_id(subscription.id),
            name=f"briefing {subscription.channel_ref}",
            replace_existing=True,
            coalesce=True,
            misfire_grace_time=None,  # always run: run_slot applies our own grace period
            max_instances=1,
        )
        self._report_subscriptions()

    reschedule = add

    def remove(self, subscription_id: int) -> None:
        """Drop a subscription's cron job and any pending retry."""
        if self._scheduler is None:
            return
        self._known.pop(subscription_id, None)
        prefix = f"briefing-retry:{subscription_id}:"
        for job in self._scheduler.get_jobs():
            if job.id == job_id(subscription_id) or job.id.startswith(prefix):
                with contextlib.suppress(JobLookupError):
                    self._scheduler.remove_job(job.id)
        self._report_subscriptions()

    def _report_subscriptions(self) -> None:
        count = sum(1 for job in self.jobs() if job.id.startswith(_JOB_PREFIX))
        self.telemetry.subscriptions(count)

    def jobs(self) -> list[Any]:
        return self._scheduler.get_jobs() if self._scheduler else []

    async def fire(
        self, subscription_id: int, reason: Reason = Reason.ON_TIME
    ) -> SlotResult | None:
        """The cron job's body: work out which slot this firing stands for (APScheduler does
        not say) and run it as its own task, so `shutdown` can wait for it."""
        now = self.clock()
        try:
            sub = self.subscriptions.get(subscription_id)
        except self._unavailable as err:  # the slot is not known yet: ask again soon
            log.warning("database unavailable when subscription %s fired", subscription_id)
            self._database_down(subscription_id, None, err)
            return None
        if sub is None:
            self.remove(subscription_id)
            return None
        try:
            trigger = self._trigger_of(sub)
        except ScheduleError:
            return None
        slot = latest_fire_time(trigger, now - _FIRE_LOOKBACK, now + _FIRE_LEEWAY)
        if slot is None:
            return None
        task = self._spawn(self.run_slot(subscription_id, slot, now=now, reason=reason))
        return await asyncio.shield(task)

    async def _fire_retry(
        self, subscription_id: int, scheduled_for: datetime, reason: Reason = Reason.RETRY
    ) -> None:
        task = self._spawn(self.run_slot(subscription_id, scheduled_for, reason=reason))
        await asyncio.shield(task)

    async def _fire_again(self, subscription_id: int) -> None:
        await self.fire(subscription_id, Reason.DATABASE)

    def _schedule_retry(
        self,
        subscription_id: int,
        scheduled_for: datetime,
        at: datetime,
        reason: Reason = Reason.RETRY,
    ) -> None:
        if self._scheduler is None:
            return
        self._scheduler.add_job(
            self._fire_retry,
            DateTrigger(run_date=at),
            args=[subscription_id, scheduled_for, reason],
            id=f"briefing-retry:{subscription_id}:{scheduled_for.isoformat()}",
            replace_existing=True,
            misfire_grace_time=None,
        )

    def _database_down(
        self,
        subscription_id: int,
        scheduled_for: datetime | None,
        err: BaseException,
        now: datetime | None = None,
    ) -> SlotResult | None:
        """Retry the slot (or the firing, when the slot is not known yet) with back-off:
        the database is down, not the channel, so nothing is counted against it."""
        key = (subscription_id, scheduled_for or datetime.min.replace(tzinfo=UTC))
        failures = self._database_failures[key] = self._database_failures.get(key, 0) + 1
        at = (now or self.clock()) + backoff(failures, self.retry_base, self.retry_cap)
        error = f"base de données indisponible ({type(err).__name__})"
        log.warning("briefing of subscription %s: %s; retry at %s", subscription_id, error, at)
        if scheduled_for is None:
            if self._scheduler is not None:
                self._scheduler.add_job(
                    self._fire_again,
                    DateTrigger(run_date=at),
                    args=[subscription_id],
                    id=f"briefing-refire:{subscription_id}",
                    replace_existing=True,
                    misfire_grace_time=None,
                )
            return None
        self._schedule_retry(subscription_id, scheduled_for, at, Reason.DATABASE)
        return SlotResult(subscription_id, scheduled_for, Outcome.FAILED, retry_at=at, error=error)

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # catch-up -------------------------------------------------------------------------------

    async def catch_up(self, now: datetime | None = None) -> list[SlotResult]:
        """Deal with every slot missed while the bot was down, all channels concurrently:
        claims whose owner died are taken over, unclaimed slots are caught up."""
        return await self._look_around(now or self.clock(), margin=timedelta(0), start=True)

    async def sync(self, now: datetime | None = None) -> list[SlotResult]:
        """What other processes changed: reschedule subscriptions created, changed or
        removed elsewhere, take over claims whose owner is overdue, and catch up slots
        nobody claimed within `sync_interval` of their time."""
        now = now or self.clock()
        current = {sub.id: sub for sub in self.subscriptions.list()}
        for gone in set(self._known) - set(current):
            self.remove(gone)
        for sub in current.values():
            if self._known.get(sub.id) != (sub.updated_at, sub.paused):
                self.add(sub)
        return await self._look_around(now, margin=self.sync_interval, subs=current)

    async def _sync_job(self) -> None:
        try:
            await asyncio.shield(self._spawn(self.sync()))
        except self._unavailable as err:  # the next sync tries again
            log.warning("briefing sync: database unavailable (%s)", type(err).__name__)

    def _serves(self, sub: Subscription | None) -> bool:
        return sub is not None and not sub.paused and sub.platform in self.publishers

    async def _look_around(
        self,
        now: datetime,
        *,
        margin: timedelta,
        start: bool = False,
        subs: Mapping[int, Subscription] | None = None,
    ) -> list[SlotResult]:
        if subs is None:
            subs = {sub.id: sub for sub in self.subscriptions.list()}
        serving = [sub for sub in subs.values() if self._serves(sub)]
        work: list[Coroutine[Any, Any, SlotResult | None]] = []
        overdue = [
            d for d in self.deliveries.expired(now) if self._serves(subs.get(d.subscription_id))
        ]
        for d in overdue:
            reason = Reason.RETRY if d.status == FAILED else Reason.TAKEOVER
            work.append(self.run_slot(d.subscription_id, d.scheduled_for, now=now, reason=reason))
        taken = {d.subscription_id for d in overdue}
        work.extend(
            self._catch_up_one(sub, now, now - margin, retry_failed=start)
            for sub in serving
            if sub.id not in taken
        )
        results = await asyncio.gather(*work, return_exceptions=True)
        done: list[SlotResult] = []
        for result in results:
            if isinstance(result, BaseException):
                log.error("catching up a briefing failed: %r", result)
            elif result is not None:
                done.append(result)
        return done

    async def _catch_up_one(
        self, sub: Subscription, now: datetime, until: datetime, *, retry_failed: bool
    ) -> SlotResult | None:
        try:
            trigger = self._trigger_of(sub)
        except ScheduleError as err:
            log.error("subscription %s has an unusable schedule: %s", sub.id, err)
            return None
        latest = self.deliveries.latest(sub.id)
        anchor = max(sub.updated_at, latest.scheduled_for) if latest else sub.updated_at
        missed = latest_fire_time(trigger, anchor, until)
        if missed is not None:
            return await self.run_slot(sub.id, missed, now=now, reason=Reason.CATCH_UP)
        # A failed slot without a hold (written before leases, or a bug of ours): its retry
        # job died with the previous process; retry at start while within the grace period.
        if (
            retry_failed
            and latest is not None
            and latest.kind == SCHEDULED
            and latest.status == FAILED
            and latest.lease_until is None
            and now - latest.scheduled_for <= self.grace
        ):
            return await self.run_slot(sub.id, latest.scheduled_for, now=now, reason=Reason.RETRY)
        return None

    # the slot itself ------------------------------------------------------------------------

    async def run_slot(
        self,
        subscription_id: int,
        scheduled_for: datetime,
        *,
        now: datetime | None = None,
        reason: Reason = Reason.ON_TIME,
    ) -> SlotResult:
        """Claim, build, publish, record. Never raises: every outcome is recorded, or, when
        the database is down, retried with back-off."""
        now = now or self.clock()
        slot = (subscription_id, scheduled_for)
        if slot in self._inflight:  # this process is already on it (a sync meets a retry)
            return SlotResult(subscription_id, scheduled_for, Outcome.DUPLICATE)
        self._inflight.add(slot)
        try:
            result = await self._run_slot(
                subscription_id, scheduled_for, now or self.clock(), reason
            )
        except self._unavailable as err:
            down = self._database_down(subscription_id, scheduled_for, err, now)
            assert down is not None
            return down
        finally:
            self._inflight.discard(slot)
        self._database_failures.pop(slot, None)
        self._record(result)
        return result

    def _record(self, result: SlotResult) -> None:
        """A slot's outcome for the telemetry; a sent slot with a late note counts as late."""
        recorded = _RECORDED.get(result.outcome)
        if recorded == "sent" and result.note is not None:
            recorded = "late"
        if recorded is not None:
            self.telemetry.briefing(recorded)

    def _claim(
        self, sub: Subscription, scheduled_for: datetime, now: datetime, reason: Reason
    ) -> tuple[Delivery | None, Reason]:
        """The slot's delivery row, ours now, and the reason to tell: a fresh claim, our
        failed slot back for its retry, or a claim whose lease expired taken over."""
        lease_until = now + self.lease
        if reason is Reason.RETRY:
            delivery = self.deliveries.reclaim_failed(
                sub.id, scheduled_for, now=now, owner=self.owner, lease_until=lease_until
            )
            return delivery, reason
        delivery = self.deliveries.claim(
            sub.id, scheduled_for, now=now, owner=self.owner, lease_until=lease_until
        )
        if delivery is not None:
            return delivery, reason
        delivery = self.deliveries.take_over(
            sub.id, scheduled_for, owner=self.owner, lease_until=lease_until, now=now
        )
        if delivery is None or reason is Reason.DATABASE:
            return delivery, reason
        return delivery, Reason.RETRY if delivery.error else Reason.TAKEOVER

    async def _run_slot(
        self, subscription_id: int, scheduled_for: datetime, now: datetime, reason: Reason
    ) -> SlotResult:
        sub = self.subscriptions.get(subscription_id)
        publisher = self.publishers.get(sub.platform) if sub else None
        if sub is None or sub.paused or publisher is None:
            return SlotResult(subscription_id, scheduled_for, Outcome.INACTIVE)

        if scheduled_for < sub.updated_at:  # the schedule changed after this slot
            note = stale_note(scheduled_for, sub.timezone)
            held = self.deliveries.take_over(
                sub.id, scheduled_for, owner=self.owner, lease_until=now + self.lease, now=now
            )
            if held is not None:
                self.deliveries.mark_skipped(held.id, note, now=now)
            return SlotResult(sub.id, scheduled_for, Outcome.INACTIVE, note=note)

        delivery, reason = self._claim(sub, scheduled_for, now, reason)
        if delivery is None:
            return SlotResult(sub.id, scheduled_for, Outcome.DUPLICATE)

        if reason is not Reason.RETRY and now - scheduled_for > self.grace:
            skipped = skipped_note(scheduled_for, self.grace, sub.timezone, reason)
            self.deliveries.mark_skipped(delivery.id, skipped, now=now)
            log.info("briefing for %s (slot %s) skipped", sub.channel_ref, scheduled_for)
            return SlotResult(sub.id, scheduled_for, Outcome.SKIPPED, note=skipped)

        started = self.clock()

        def moment() -> datetime:  # `now` moves on with the clock while we send
            return now + (self.clock() - started)

        renewal = self._spawn(self._renew(delivery, moment))
        try:
            return await self._deliver(sub, publisher, delivery, scheduled_for, now, reason, moment)
        finally:
            renewal.cancel()

    async def _renew(self, delivery: Delivery, moment: Callable[[], datetime]) -> None:
        """Keep our lease while the slot is being built and sent."""
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            try:
                kept = self.deliveries.hold(
                    delivery.id, self.owner, lease_until=moment() + self.lease, now=moment()
                )
            except Exception as err:  # the next renewal or the next step will tell
                log.warning("could not renew the claim of slot %s: %r", delivery.id, err)
                continue
            if not kept:
                log.warning("the claim of delivery %s was taken over", delivery.id)
                return

    async def _deliver(
        self,
        sub: Subscription,
        publisher: Publisher,
        delivery: Delivery,
        scheduled_for: datetime,
        now: datetime,
        reason: Reason,
        moment: Callable[[], datetime],
    ) -> SlotResult:
        await self._pause_at("claim", sub.id, scheduled_for)
        note = None
        late = now - scheduled_for > LATE_NOTE_AFTER
        if delivery.progress == 0 and (late or reason is not Reason.ON_TIME):
            note = late_note(scheduled_for, now, sub.timezone, reason)

        try:
            reply = await self._with_timeout(self.make_digest(sub, sub.last_delivery))
        except self._unavailable:
            raise
        except Exception as err:  # our own bug: record it, do not blame the channel
            log.exception("building the briefing of subscription %s failed", sub.id)
            text = f"erreur interne ({type(err).__name__})"
            self.deliveries.mark_failed(delivery.id, text, now=now, count_failure=False)
            return SlotResult(sub.id, scheduled_for, Outcome.ERROR, error=text)
        if reply is None:
            self.deliveries.mark_skipped(delivery.id, "rien de nouveau", now=now)
            return SlotResult(sub.id, scheduled_for, Outcome.EMPTY)
        if note:
            reply = replace(reply, blocks=(Block(text=note), *reply.blocks))

        async def accepted(count: int) -> None:
            await self._pause_at("mark", sub.id, scheduled_for)
            if not self.deliveries.hold(
                delivery.id, self.owner, lease_until=moment() + self.lease, progress=count
            ):
                raise ClaimLost(delivery.id)

        await self._pause_at("post", sub.id, scheduled_for)
        try:
            await self._with_timeout(
                publisher.publish(
                    sub.channel_ref,
                    reply,
                    key=slot_key(sub.id, scheduled_for),
                    skip=delivery.progress,
                    check=delivery.in_doubt,
                    accepted=accepted,
                )
            )
        except ClaimLost:
            log.warning("briefing for %s (slot %s) taken over", sub.channel_ref, scheduled_for)
            return SlotResult(sub.id, scheduled_for, Outcome.DUPLICATE)
        except self._unavailable:
            raise
        except DeliveryError as err:
            return await self._failed(
                sub, publisher, delivery.id, scheduled_for, err.reason, now,
                permanent=err.permanent, in_doubt=err.maybe_sent,
            )  # fmt: skip
        except TimeoutError:  # sent, perhaps: the next attempt checks before sending
            error = "délai dépassé"
            return await self._failed(
                sub, publisher, delivery.id, scheduled_for, error, now, in_doubt=True
            )
        except Exception as err:  # an adapter bug must not take other channels down
            log.exception("publishing to %s failed unexpectedly", sub.channel_ref)
            error = f"erreur inattendue ({type(err).__name__})"
            return await self._failed(
                sub, publisher, delivery.id, scheduled_for, error, now, in_doubt=True
            )
        self.deliveries.mark_sent(delivery.id, now=now, note=note)
        log.info(
            "briefing for %s (slot %s) posted",
            sub.channel_ref,
            scheduled_for.isoformat(),
            extra=_fields(sub, scheduled_for),
        )
        return SlotResult(sub.id, scheduled_for, Outcome.SENT, note=note)

    async def _pause_at(self, point: str, subscription_id: int, scheduled_for: datetime) -> None:
        if self._checkpoint is not None:
            await self._checkpoint(point, subscription_id, scheduled_for)

    async def _failed(
        self,
        sub: Subscription,
        publisher: Publisher,
        delivery_id: int,
        scheduled_for: datetime,
        error: str,
        now: datetime,
        *,
        permanent: bool = False,
        in_doubt: bool = False,
    ) -> SlotResult:
        """Record the failure; retry with back-off, or pause at once for a permanent
        error and after `max_failures` in a row. The retry is ours until `hold_until`,
        then any process may take it over."""
        expected = sub.consecutive_failures + 1
        pausing = permanent or expected >= self.max_failures
        retry_at = now + backoff(expected, self.retry_base, self.retry_cap)
        failures = self.deliveries.mark_failed(
            delivery_id,
            error,
            now=now,
            in_doubt=in_doubt,
            hold_until=None if pausing else retry_at + self.lease,
        )
        log.warning(
            "briefing for %s failed (%d in a row): %s",
            sub.channel_ref,
            failures,
            error,
            extra=_fields(sub, scheduled_for),
        )
        if permanent or failures >= self.max_failures:
            message = pause_message(failures, error, permanent=permanent)
            self.subscriptions.pause(sub.id, message)
            self.remove(sub.id)
            try:
                await self._with_timeout(publisher.notify_paused(sub.channel_ref, message))
            except Exception:  # the channel is probably gone; the pause is recorded anyway
                log.info("could not tell %s its briefings are paused", sub.channel_ref)
            return SlotResult(sub.id, scheduled_for, Outcome.PAUSED, error=error)
        retry_at = now + backoff(failures, self.retry_base, self.retry_cap)
        self._schedule_retry(sub.id, scheduled_for, retry_at)
        return SlotResult(sub.id, scheduled_for, Outcome.FAILED, retry_at=retry_at, error=error)

    async def _with_timeout(self, value: Any) -> Any:
        if inspect.isawaitable(value):
            return await asyncio.wait_for(value, self.slot_timeout.total_seconds())
        return value


_JOB_PREFIX = "briefing:"


def _fields(sub: Subscription, scheduled_for: datetime) -> dict[str, str]:
    """The context fields of a slot's log records, for JSON logs to filter on."""
    ref = sub.channel_ref
    return {"platform": ref.platform, "channel": ref.channel, "slot": scheduled_for.isoformat()}


def job_id(subscription_id: int) -> str:
    return f"{_JOB_PREFIX}{subscription_id}"


def _duration(delta: timedelta) -> str:
    minutes = max(1, round(delta.total_seconds() / 60))
    if minutes < 120:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest:02d}" if rest else f"{hours} h"
