"""Subscriptions in the database: the `SubscriptionStore` port, one row per channel."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from bot.briefings.schedule import ScheduleSpec
from bot.briefings.subscription import SaveResult, Subscription, utcnow
from bot.chat.context import ChannelRef
from bot.storage.engine import Transactions
from bot.storage.tables import DeliveryRow, SubscriptionRow, clip, to_record


class SqlSubscriptions:
    def __init__(self, transactions: Transactions) -> None:
        self._tx = transactions

    def save(
        self,
        channel: ChannelRef,
        spec: ScheduleSpec,
        *,
        created_by: str,
        created_by_name: str = "",
        now: datetime | None = None,
    ) -> SaveResult:
        """Create the channel's subscription, or replace the one it has (one per channel).

        Replacing keeps the row id, its delivery history and `last_delivery`, resets
        `created_at`, and clears failures and pause.
        """
        now = now or utcnow()
        for _ in range(2):  # a concurrent insert for the same channel: retry as an update
            try:
                with self._tx() as s:
                    row = s.scalars(_channel_query(channel)).one_or_none()
                    previous = subscription(row) if row else None
                    if row is None:
                        row = SubscriptionRow(
                            platform=channel.platform,
                            workspace=channel.workspace,
                            channel=channel.channel,
                            last_delivery=None,
                        )
                        s.add(row)
                    row.times = "" if spec.cron else spec.times_text
                    row.days = "*" if spec.cron else spec.days_text
                    row.cron = spec.cron
                    row.timezone = spec.timezone
                    row.mode = spec.mode
                    row.empty = spec.empty
                    row.created_by = clip(created_by, 128)
                    row.created_by_name = clip(created_by_name, 200)
                    row.created_at = now
                    row.updated_at = now
                    row.consecutive_failures = 0
                    row.paused = False
                    row.paused_reason = None
                    s.flush()
                    return SaveResult(subscription(row), previous)
            except IntegrityError:
                continue
        raise RuntimeError(f"could not save the subscription of {channel}")

    def get(self, subscription_id: int) -> Subscription | None:
        with self._tx() as s:
            row = s.get(SubscriptionRow, subscription_id)
            return subscription(row) if row else None

    def find(self, channel: ChannelRef) -> Subscription | None:
        with self._tx() as s:
            row = s.scalars(_channel_query(channel)).one_or_none()
            return subscription(row) if row else None

    def list(
        self, *, platform: str | None = None, workspace: str | None = None
    ) -> list[Subscription]:
        query = select(SubscriptionRow).order_by(
            SubscriptionRow.platform, SubscriptionRow.workspace, SubscriptionRow.channel
        )
        if platform is not None:
            query = query.where(SubscriptionRow.platform == platform)
        if workspace is not None:
            query = query.where(SubscriptionRow.workspace == workspace)
        with self._tx() as s:
            return [subscription(row) for row in s.scalars(query)]

    def delete(self, channel: ChannelRef) -> Subscription | None:
        """Remove the channel's subscription and its delivery history."""
        with self._tx() as s:
            row = s.scalars(_channel_query(channel)).one_or_none()
            if row is None:
                return None
            gone = subscription(row)
            s.execute(delete(DeliveryRow).where(DeliveryRow.subscription_id == row.id))
            s.delete(row)
            return gone

    def pause(self, subscription_id: int, reason: str) -> None:
        with self._tx() as s:
            s.execute(
                update(SubscriptionRow)
                .where(SubscriptionRow.id == subscription_id)
                .values(paused=True, paused_reason=clip(reason))
            )


def subscription(row: SubscriptionRow) -> Subscription:
    """The record of a row; its schedule is read from the stored columns, not re-parsed."""
    schedule = ScheduleSpec.from_stored(
        times=row.times,
        days=row.days,
        cron=row.cron,
        timezone=row.timezone,
        mode=row.mode,
        empty=row.empty,
    )
    return to_record(
        Subscription,
        row,
        schedule=schedule,
        created_by_name=row.created_by_name or "",
        consecutive_failures=row.consecutive_failures or 0,
        paused=bool(row.paused),
    )


def _channel_query(channel: ChannelRef) -> Any:
    return select(SubscriptionRow).where(
        SubscriptionRow.platform == channel.platform,
        SubscriptionRow.workspace == channel.workspace,
        SubscriptionRow.channel == channel.channel,
    )
