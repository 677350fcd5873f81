"""The briefing scheduler: one cron job per subscription, restart-safe and exactly once.

APScheduler only says *when*; what happens at a slot lives in `run_slot`, and every
decision about time takes an explicit `now`, so tests drive it with a controlled clock:

* exactly once: a slot is claimed in the delivery log (INSERT under a unique constraint) before
  anything is posted; a second scheduler, a second start or a retry race posts nothing;
* restart-safe: `start()` schedules every active subscription again and `catch_up()` looks
  at what was missed while the bot was down: the latest missed slot is posted late with a
  note while within the grace period, recorded as skipped after it; older missed slots
  coalesce into that one;
* isolation: each slot runs as its own task with a timeout; a failing channel is retried
  with exponential back-off (one-off date jobs, nothing waits for them) and paused after
  `max_failures` consecutive failures, with a note where the platform allows.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.date import DateTrigger

from bot.briefings.changes import SubscriptionChanges
from bot.briefings.errors import ScheduleError
from bot.briefings.ports import DeliveryLog, SubscriptionStore
from bot.briefings.subscription import FAILED, SCHEDULED, Subscription, utcnow
from bot.briefings.timezones import zone_or_utc
from bot.chat.publishing import DeliveryError, Publisher
from bot.chat.replies import Block, Reply
from bot.chat.telemetry import NULL_TELEMETRY, BriefingOutcome, Telemetry

log = logging.getLogger(__name__)

DigestMaker = Callable[[Subscription, datetime | None], Reply | Awaitable[Reply | None] | None]

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
    if reason is Reason.CATCH_UP:
        return text + " : le bot était arrêté."
    if reason is Reason.RETRY:
        return text + " : la première tentative de publication a échoué."
    return text + "."


def skipped_note(scheduled_for: datetime, grace: timedelta, timezone: str) -> str:
    local = scheduled_for.astimezone(zone_or_utc(timezone))
    return (
        f"Briefing de {local:%H:%M} (le {local:%d/%m}) non envoyé : le bot était arrêté "
        f"plus de {_duration(grace)} après l'heure prévue."
    )


def pause_message(failures: int, reason: str) -> str:
    return (
        f"Les briefings de ce canal sont en pause après {failures} échecs de publication "
        f"consécutifs (dernier : {reason}). Un administrateur peut les relancer avec "
        "/briefing subscribe."
    )


class BriefingScheduler:
    """Runs every subscription's briefings. Only subscriptions whose platform has a
    publisher in this process are scheduled (another process may serve the others).

    `telemetry` hears each slot's outcome (a sent slot with a late note counts as late)
    and the number of subscriptions scheduled here.
    """

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
    ) -> None:
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
        self._scheduler: AsyncIOScheduler | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
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
            return
        try:
            trigger = subscription.spec.trigger()
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

    async def fire(self, subscription_id: int) -> SlotResult | None:
        """The cron job's body: work out which slot this firing stands for (APScheduler does
        not say) and run it as its own task, so `shutdown` can wait for it."""
        now = self.clock()
        sub = self.subscriptions.get(subscription_id)
        if sub is None:
            self.remove(subscription_id)
            return None
        try:
            trigger = sub.spec.trigger()
        except ScheduleError:
            return None
        slot = latest_fire_time(trigger, now - _FIRE_LOOKBACK, now + _FIRE_LEEWAY)
        if slot is None:
            return None
        return await asyncio.shield(self._spawn(self.run_slot(subscription_id, slot, now=now)))

    async def _fire_retry(self, subscription_id: int, scheduled_for: datetime) -> None:
        task = self._spawn(self.run_slot(subscription_id, scheduled_for, reason=Reason.RETRY))
        await asyncio.shield(task)

    def _schedule_retry(self, subscription_id: int, scheduled_for: datetime, at: datetime) -> None:
        if self._scheduler is None:
            return
        self._scheduler.add_job(
            self._fire_retry,
            DateTrigger(run_date=at),
            args=[subscription_id, scheduled_for],
            id=f"briefing-retry:{subscription_id}:{scheduled_for.isoformat()}",
            replace_existing=True,
            misfire_grace_time=None,
        )

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # catch-up -------------------------------------------------------------------------------

    async def catch_up(self, now: datetime | None = None) -> list[SlotResult]:
        """Deal with every slot missed while the bot was down, all channels concurrently."""
        now = now or self.clock()
        subs = [
            s for s in self.subscriptions.list()
            if not s.paused and s.platform in self.publishers
        ]  # fmt: skip
        results = await asyncio.gather(
            *(self._catch_up_one(s, now) for s in subs), return_exceptions=True
        )
        done: list[SlotResult] = []
        for sub, result in zip(subs, results, strict=True):
            if isinstance(result, BaseException):
                log.error("catching up subscription %s failed: %r", sub.id, result)
            elif result is not None:
                done.append(result)
        return done

    async def _catch_up_one(self, sub: Subscription, now: datetime) -> SlotResult | None:
        try:
            trigger = sub.spec.trigger()
        except ScheduleError as err:
            log.error("subscription %s has an unusable schedule: %s", sub.id, err)
            return None
        latest = self.deliveries.latest(sub.id)
        anchor = max(sub.updated_at, latest.scheduled_for) if latest else sub.updated_at
        missed = latest_fire_time(trigger, anchor, now)
        if missed is not None:
            return await self.run_slot(sub.id, missed, now=now, reason=Reason.CATCH_UP)
        # A failed slot's retry job died with the previous process: retry now if still
        # within the grace period.
        if (
            latest is not None
            and latest.kind == SCHEDULED
            and latest.status == FAILED
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
        """Claim, build, publish, record. Never raises: every outcome is recorded."""
        result = await self._run_slot(subscription_id, scheduled_for, now=now, reason=reason)
        recorded = _RECORDED.get(result.outcome)
        if recorded == "sent" and result.note is not None:
            recorded = "late"
        if recorded is not None:
            self.telemetry.briefing(recorded)
        return result

    async def _run_slot(
        self,
        subscription_id: int,
        scheduled_for: datetime,
        *,
        now: datetime | None,
        reason: Reason,
    ) -> SlotResult:
        now = now or self.clock()
        sub = self.subscriptions.get(subscription_id)
        publisher = self.publishers.get(sub.platform) if sub else None
        if sub is None or sub.paused or publisher is None:
            return SlotResult(subscription_id, scheduled_for, Outcome.INACTIVE)

        if reason is not Reason.RETRY and now - scheduled_for > self.grace:
            skipped = skipped_note(scheduled_for, self.grace, sub.timezone)
            recorded = self.deliveries.record_skipped(sub.id, scheduled_for, skipped, now=now)
            outcome = Outcome.SKIPPED if recorded else Outcome.DUPLICATE
            return SlotResult(sub.id, scheduled_for, outcome, note=skipped)

        if reason is Reason.RETRY:
            delivery = self.deliveries.reclaim_failed(sub.id, scheduled_for, now=now)
        else:
            delivery = self.deliveries.claim(sub.id, scheduled_for, now=now)
        if delivery is None:
            return SlotResult(sub.id, scheduled_for, Outcome.DUPLICATE)

        note = None
        if now - scheduled_for > LATE_NOTE_AFTER:
            note = late_note(scheduled_for, now, sub.timezone, reason)

        try:
            reply = await self._with_timeout(self.make_digest(sub, sub.last_delivery))
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

        try:
            await self._with_timeout(publisher.publish(sub.channel_ref, reply))
        except (DeliveryError, TimeoutError) as err:
            error = err.reason if isinstance(err, DeliveryError) else "délai dépassé"
            return await self._failed(sub, publisher, delivery.id, scheduled_for, error, now)
        except Exception as err:  # an adapter bug must not take other channels down
            log.exception("publishing to %s failed unexpectedly", sub.channel_ref)
            error = f"erreur inattendue ({type(err).__name__})"
            return await self._failed(sub, publisher, delivery.id, scheduled_for, error, now)
        self.deliveries.mark_sent(delivery.id, now=now, note=note)
        log.info(
            "briefing for %s (slot %s) posted",
            sub.channel_ref,
            scheduled_for.isoformat(),
            extra=_fields(sub, scheduled_for),
        )
        return SlotResult(sub.id, scheduled_for, Outcome.SENT, note=note)

    async def _failed(
        self,
        sub: Subscription,
        publisher: Publisher,
        delivery_id: int,
        scheduled_for: datetime,
        error: str,
        now: datetime,
    ) -> SlotResult:
        failures = self.deliveries.mark_failed(delivery_id, error, now=now)
        log.warning(
            "briefing for %s failed (%d in a row): %s",
            sub.channel_ref,
            failures,
            error,
            extra=_fields(sub, scheduled_for),
        )
        if failures >= self.max_failures:
            message = pause_message(failures, error)
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
