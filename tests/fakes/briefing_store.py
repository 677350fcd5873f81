"""In-memory subscriptions and delivery log: the briefing ports without a database.

Same semantics as `bot/storage` for what the scheduler and the service rely on: one
subscription per channel, one delivery per slot, `mark_sent` moving `last_delivery`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bot.briefings.schedule import ScheduleSpec
from bot.briefings.subscription import (
    CLAIMED,
    FAILED,
    MANUAL,
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
        return self.rows.get(subscription_id)

    def find(self, channel: ChannelRef) -> Subscription | None:
        return next((s for s in self.rows.values() if s.channel_ref == channel), None)

    def list(
        self, *, platform: str | None = None, workspace: str | None = None
    ) -> list[Subscription]:
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

    def claim(
        self,
        subscription_id: int,
        scheduled_for: datetime,
        *,
        now: datetime | None = None,
        kind: str = SCHEDULED,
        status: str = CLAIMED,
        note: str | None = None,
    ) -> Delivery | None:
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
        )
        self.rows[delivery.id] = delivery
        return delivery

    def reclaim_failed(
        self, subscription_id: int, scheduled_for: datetime, *, now: datetime | None = None
    ) -> Delivery | None:
        delivery = self._slot(subscription_id, scheduled_for)
        if delivery is None or delivery.status != FAILED:
            return None
        return self._keep(replace(delivery, status=CLAIMED, attempts=delivery.attempts + 1))

    def mark_sent(
        self, delivery_id: int, *, now: datetime | None = None, note: str | None = None
    ) -> None:
        now = now or utcnow()
        delivery = self.rows[delivery_id]
        self._keep(
            replace(delivery, status=SENT, sent_at=now, error=None, note=note or delivery.note)
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
    ) -> int:
        delivery = self._keep(replace(self.rows[delivery_id], status=FAILED, error=error))
        sub = self.subscriptions.get(delivery.subscription_id)
        if sub is None:
            return 0
        failures = sub.consecutive_failures + (1 if count_failure else 0)
        self.subscriptions.rows[sub.id] = replace(sub, consecutive_failures=failures)
        return failures

    def mark_skipped(self, delivery_id: int, note: str, *, now: datetime | None = None) -> None:
        self._keep(replace(self.rows[delivery_id], status=SKIPPED, note=note))

    def record_skipped(
        self,
        subscription_id: int,
        scheduled_for: datetime,
        note: str,
        *,
        now: datetime | None = None,
    ) -> bool:
        claimed = self.claim(subscription_id, scheduled_for, now=now, status=SKIPPED, note=note)
        return claimed is not None

    def record_manual(
        self, subscription_id: int, *, now: datetime | None = None
    ) -> Delivery | None:
        now = now or utcnow()
        delivery = self.claim(subscription_id, now, now=now, kind=MANUAL)
        if delivery is not None:
            self.mark_sent(delivery.id, now=now)
        return delivery

    def latest(self, subscription_id: int) -> Delivery | None:
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

    def _keep(self, delivery: Delivery) -> Delivery:
        self.rows[delivery.id] = delivery
        return delivery


class InMemoryBriefings:
    """Both ports together, shaped like `Database` for the tests' helpers."""

    def __init__(self) -> None:
        self.subscriptions = InMemorySubscriptions()
        self.deliveries = InMemoryDeliveries(self.subscriptions)
