"""In-memory subscriptions and delivery log: the briefing ports without a database.

Same semantics as `bot/storage` for what the scheduler and the service rely on: one
subscription per channel, one delivery per slot, `mark_sent` moving `last_delivery`,
leases and take-overs. `failing` makes every call raise it (a database outage).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bot.briefings.schedule import ScheduleSpec
from bot.briefings.subscription import (
    CLAIMED,
    FAILED,
    SCHEDULED,
    SENT,
    SKIPPED,
    Delivery,
    SaveResult,
    Subscription,
    utcnow,
)
from bot.chat.context import ChannelRef


class InMemorySubscriptions:
    def __init__(self) -> None:
        self.rows: dict[int, Subscription] = {}
        self.failing: Exception | None = None

    def save(
        self,
        channel: ChannelRef,
        spec: ScheduleSpec,
        *,
        created_by: str,
        created_by_name: str = "",
        now: datetime | None = None,
    ) -> SaveResult:
        now = now or utcnow()
        previous = self.find(channel)
        saved = Subscription(
            id=previous.id if previous else len(self.rows) + 1,
            platform=channel.platform,
            workspace=channel.workspace,
            channel=channel.channel,
            schedule=spec,
            created_by=created_by,
            created_by_name=created_by_name,
            created_at=now,
            updated_at=now,
            last_delivery=previous.last_delivery if previous else None,
            consecutive_failures=0,
            paused=False,
            paused_reason=None,
        )
        self.rows[saved.id] = saved
        return SaveResult(saved, previous)

    def get(self, subscription_id: int) -> Subscription | None:
        if self.failing is not None:
            raise self.failing
        return self.rows.get(subscription_id)

    def find(self, channel: ChannelRef) -> Subscription | None:
        return next((s for s in self.rows.values() if s.channel_ref == channel), None)

    def list(
        self, *, platform: str | None = None, workspace: str | None = None
    ) -> list[Subscription]:
        if self.failing is not None:
            raise self.failing
        return sorted(
            (
                s
                for s in self.rows.values()
                if platform in (None, s.platform) and workspace in (None, s.workspace)
            ),
            key=lambda s: (s.platform, s.workspace, s.channel),
        )

    def delete(self, channel: ChannelRef) -> Subscription | None:
        gone = self.find(channel)
        if gone is not None:
            del self.rows[gone.id]
        return gone

    def pause(self, subscription_id: int, reason: str) -> None:
        self.rows[subscription_id] = replace(
            self.rows[subscription_id], paused=True, paused_reason=reason
        )


class InMemoryDeliveries:
    def __init__(self, subscriptions: InMemorySubscriptions) -> None:
        self.subscriptions = subscriptions
        self.rows: dict[int, Delivery] = {}
        self.failing: Exception | None = None

    def claim(
        self,
        subscription_id: int,
        scheduled_for: datetime,
        *,
        now: datetime | None = None,
        kind: str = SCHEDULED,
        status: str = CLAIMED,
        note: str | None = None,
        owner: str | None = None,
        lease_until: datetime | None = None,
    ) -> Delivery | None:
        self._check()
        if self._slot(subscription_id, scheduled_for) is not None:
            return None
        now = now or utcnow()
        delivery = Delivery(
            id=len(self.rows) + 1,
            subscription_id=subscription_id,
            scheduled_for=scheduled_for,
            kind=kind,
            status=status,
            attempts=1 if status == CLAIMED else 0,
            error=None,
            note=note,
            created_at=now,
            sent_at=None,
            owner=owner,
            lease_until=lease_until,
        )
        self.rows[delivery.id] = delivery
        return delivery

    def reclaim_failed(
        self,
        subscription_id: int,
        scheduled_for: datetime,
        *,
        now: datetime | None = None,
        owner: str | None = None,
        lease_until: datetime | None = None,
    ) -> Delivery | None:
        self._check()
        delivery = self._slot(subscription_id, scheduled_for)
        if delivery is None or delivery.status != FAILED:
            return None
        return self._keep(
            replace(
                delivery,
                status=CLAIMED,
                attempts=delivery.attempts + 1,
                owner=owner,
                lease_until=lease_until,
            )
        )

    def take_over(
        self,
        subscription_id: int,
        scheduled_for: datetime,
        *,
        owner: str,
        lease_until: datetime,
        now: datetime | None = None,
    ) -> Delivery | None:
        self._check()
        now = now or utcnow()
        delivery = self._slot(subscription_id, scheduled_for)
        if delivery is None or delivery.kind != SCHEDULED:
            return None
        if delivery.status not in (CLAIMED, FAILED):
            return None
        lease = delivery.lease_until
        if not (lease is None or lease < now or delivery.owner == owner):
            return None
        return self._keep(
            replace(
                delivery,
                status=CLAIMED,
                attempts=delivery.attempts + 1,
                owner=owner,
                lease_until=lease_until,
                in_doubt=delivery.in_doubt or delivery.status == CLAIMED,
            )
        )

    def hold(
        self,
        delivery_id: int,
        owner: str,
        *,
        lease_until: datetime,
        progress: int | None = None,
        now: datetime | None = None,
    ) -> bool:
        self._check()
        delivery = self.rows[delivery_id]
        if delivery.owner != owner or delivery.status != CLAIMED:
            return False
        delivery = replace(delivery, lease_until=lease_until)
        if progress is not None:
            delivery = replace(delivery, progress=progress, in_doubt=False)
        self._keep(delivery)
        return True

    def expired(self, now: datetime | None = None) -> list[Delivery]:
        self._check()
        now = now or utcnow()
        return sorted(
            (
                d
                for d in self.rows.values()
                if d.kind == SCHEDULED
                and (
                    (d.status == CLAIMED and (d.lease_until is None or d.lease_until < now))
                    or (d.status == FAILED and d.lease_until is not None and d.lease_until < now)
                )
            ),
            key=lambda d: (d.scheduled_for, d.id),
        )

    def mark_sent(
        self, delivery_id: int, *, now: datetime | None = None, note: str | None = None
    ) -> None:
        self._check()
        now = now or utcnow()
        delivery = self.rows[delivery_id]
        self._keep(
            replace(
                delivery,
                status=SENT,
                sent_at=now,
                error=None,
                note=note or delivery.note,
                lease_until=None,
                in_doubt=False,
            )
        )
        sub = self.subscriptions.get(delivery.subscription_id)
        if sub is not None:
            self.subscriptions.rows[sub.id] = replace(
                sub, last_delivery=now, consecutive_failures=0
            )

    def mark_failed(
        self,
        delivery_id: int,
        error: str,
        *,
        now: datetime | None = None,
        count_failure: bool = True,
        in_doubt: bool = False,
        hold_until: datetime | None = None,
    ) -> int:
        self._check()
        before = self.rows[delivery_id]
        delivery = self._keep(
            replace(
                before,
                status=FAILED,
                error=error,
                in_doubt=before.in_doubt or in_doubt,
                lease_until=hold_until,
            )
        )
        sub = self.subscriptions.get(delivery.subscription_id)
        if sub is None:
            return 0
        failures = sub.consecutive_failures + (1 if count_failure else 0)
        self.subscriptions.rows[sub.id] = replace(sub, consecutive_failures=failures)
        return failures

    def mark_skipped(self, delivery_id: int, note: str, *, now: datetime | None = None) -> None:
        self._check()
        self._keep(replace(self.rows[delivery_id], status=SKIPPED, note=note, lease_until=None))

    def latest(self, subscription_id: int) -> Delivery | None:
        self._check()
        mine = self.for_subscription(subscription_id)
        return mine[-1] if mine else None

    def for_subscription(self, subscription_id: int) -> list[Delivery]:
        mine = [d for d in self.rows.values() if d.subscription_id == subscription_id]
        return sorted(mine, key=lambda d: (d.scheduled_for, d.id))

    def _slot(self, subscription_id: int, scheduled_for: datetime) -> Delivery | None:
        return next(
            (
                d
                for d in self.rows.values()
                if (d.subscription_id, d.scheduled_for) == (subscription_id, scheduled_for)
            ),
            None,
        )

    def _check(self) -> None:
        if self.failing is not None:
            raise self.failing

    def _keep(self, delivery: Delivery) -> Delivery:
        self.rows[delivery.id] = delivery
        return delivery


class InMemoryBriefings:
    """Both ports together, shaped like `Database` for the tests' helpers."""

    def __init__(self) -> None:
        self.subscriptions = InMemorySubscriptions()
        self.deliveries = InMemoryDeliveries(self.subscriptions)

    def outage(self, error: Exception | None) -> None:
        """Every call raises `error` until `outage(None)`: the database is down."""
        self.subscriptions.failing = self.deliveries.failing = error
