"""The delivery log in the database: the `DeliveryLog` port.

"Exactly once" rests on one constraint: UNIQUE(subscription_id, scheduled_for). A slot is
claimed by INSERTing its row before anything is posted; whoever gets an IntegrityError
knows someone else (another task, another process, an earlier run of this one) owns that
slot, and posts nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from bot.briefings.subscription import (
    CLAIMED,
    FAILED,
    MANUAL,
    SCHEDULED,
    SENT,
    SKIPPED,
    Delivery,
    utcnow,
)
from bot.storage.engine import Transactions
from bot.storage.tables import DeliveryRow, SubscriptionRow, clip, to_record


class SqlDeliveries:
    def __init__(self, transactions: Transactions) -> None:
        self._tx = transactions

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
        """Insert the slot's row; None means the slot is already someone else's."""
        now = now or utcnow()
        row = DeliveryRow(
            subscription_id=subscription_id,
            scheduled_for=scheduled_for,
            kind=kind,
            status=status,
            attempts=1 if status == CLAIMED else 0,
            note=clip(note) if note else None,
            created_at=now,
            updated_at=now,
        )
        try:
            with self._tx() as s:
                s.add(row)
                s.flush()
                return to_record(Delivery, row)
        except IntegrityError:
            return None

    def reclaim_failed(
        self, subscription_id: int, scheduled_for: datetime, *, now: datetime | None = None
    ) -> Delivery | None:
        """A conditional UPDATE from `failed` to `claimed`, so only one retry wins."""
        now = now or utcnow()
        with self._tx() as s:
            result = s.execute(
                update(DeliveryRow)
                .where(
                    DeliveryRow.subscription_id == subscription_id,
                    DeliveryRow.scheduled_for == scheduled_for,
                    DeliveryRow.status == FAILED,
                )
                .values(status=CLAIMED, attempts=DeliveryRow.attempts + 1, updated_at=now)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return None
            row = s.scalars(
                select(DeliveryRow).where(
                    DeliveryRow.subscription_id == subscription_id,
                    DeliveryRow.scheduled_for == scheduled_for,
                )
            ).one()
            return to_record(Delivery, row)

    def mark_sent(
        self, delivery_id: int, *, now: datetime | None = None, note: str | None = None
    ) -> None:
        now = now or utcnow()
        with self._tx() as s:
            row = s.get_one(DeliveryRow, delivery_id)
            row.status, row.sent_at, row.updated_at, row.error = SENT, now, now, None
            if note:
                row.note = clip(note)
            s.execute(
                update(SubscriptionRow)
                .where(SubscriptionRow.id == row.subscription_id)
                .values(last_delivery=now, consecutive_failures=0)
            )

    def mark_failed(
        self,
        delivery_id: int,
        error: str,
        *,
        now: datetime | None = None,
        count_failure: bool = True,
    ) -> int:
        now = now or utcnow()
        with self._tx() as s:
            row = s.get_one(DeliveryRow, delivery_id)
            row.status, row.error, row.updated_at = FAILED, clip(error), now
            sub = s.get(SubscriptionRow, row.subscription_id)
            if sub is None:
                return 0
            if count_failure:
                sub.consecutive_failures += 1
            return sub.consecutive_failures

    def mark_skipped(self, delivery_id: int, note: str, *, now: datetime | None = None) -> None:
        now = now or utcnow()
        with self._tx() as s:
            row = s.get_one(DeliveryRow, delivery_id)
            row.status, row.note, row.updated_at = SKIPPED, clip(note), now

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
        with self._tx() as s:
            row = s.scalars(
                select(DeliveryRow)
                .where(DeliveryRow.subscription_id == subscription_id)
                .order_by(DeliveryRow.scheduled_for.desc())
                .limit(1)
            ).one_or_none()
            return to_record(Delivery, row) if row else None

    def for_subscription(self, subscription_id: int) -> list[Delivery]:
        with self._tx() as s:
            rows = s.scalars(
                select(DeliveryRow)
                .where(DeliveryRow.subscription_id == subscription_id)
                .order_by(DeliveryRow.scheduled_for, DeliveryRow.id)
            )
            return [to_record(Delivery, row) for row in rows]
