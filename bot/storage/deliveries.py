"""The delivery log in the database: the `DeliveryLog` port.

"Exactly once" rests on one constraint, UNIQUE(subscription_id, scheduled_for), and on
conditional UPDATEs. A slot is claimed by INSERTing its row, with its owner and a lease,
before anything is posted; whoever gets an IntegrityError posts nothing unless the claim's
lease has expired (its owner died), in which case one conditional UPDATE hands it over.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, or_, select, update
from sqlalchemy.exc import IntegrityError

from bot.briefings.subscription import (
    CLAIMED,
    FAILED,
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
        owner: str | None = None,
        lease_until: datetime | None = None,
    ) -> Delivery | None:
        """Insert the slot's row; None means the slot is already someone else's."""
        now = now or utcnow()
        row = DeliveryRow(
            owner=owner,
            lease_until=lease_until,
            progress=0,
            in_doubt=False,
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
        self,
        subscription_id: int,
        scheduled_for: datetime,
        *,
        now: datetime | None = None,
        owner: str | None = None,
        lease_until: datetime | None = None,
    ) -> Delivery | None:
        """A conditional UPDATE from `failed` to `claimed`, so only one retry wins."""
        now = now or utcnow()
        return self._grab(
            subscription_id,
            scheduled_for,
            DeliveryRow.status == FAILED,
            now=now,
            owner=owner,
            lease_until=lease_until,
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
        """Hand a claimed or failed slot to `owner` if its lease has expired (or was never
        set, or is `owner`'s own); one conditional UPDATE, so one taker wins. A claimed slot
        taken over is `in_doubt`: its owner may have died while sending."""
        now = now or utcnow()
        return self._grab(
            subscription_id,
            scheduled_for,
            DeliveryRow.status.in_((CLAIMED, FAILED)),
            DeliveryRow.kind == SCHEDULED,
            or_(
                DeliveryRow.lease_until.is_(None),
                DeliveryRow.lease_until < now,
                DeliveryRow.owner == owner,
            ),
            now=now,
            owner=owner,
            lease_until=lease_until,
            in_doubt=case((DeliveryRow.status == CLAIMED, True), else_=DeliveryRow.in_doubt),
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
        """Renew `owner`'s lease (and record `progress`, clearing `in_doubt`); False when
        the claim is no longer `owner`'s."""
        now = now or utcnow()
        values: dict[str, object] = {"lease_until": lease_until, "updated_at": now}
        if progress is not None:
            values.update(progress=progress, in_doubt=False)
        with self._tx() as s:
            result = s.execute(
                update(DeliveryRow)
                .where(
                    DeliveryRow.id == delivery_id,
                    DeliveryRow.owner == owner,
                    DeliveryRow.status == CLAIMED,
                )
                .values(**values)
            )
            return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    def expired(self, now: datetime | None = None) -> list[Delivery]:
        """Scheduled slots whose holder is overdue: claims whose lease has passed (or that
        predate leases), failures whose retry is overdue. Oldest first."""
        now = now or utcnow()
        with self._tx() as s:
            rows = s.scalars(
                select(DeliveryRow)
                .where(
                    DeliveryRow.kind == SCHEDULED,
                    or_(
                        (DeliveryRow.status == CLAIMED)
                        & or_(DeliveryRow.lease_until.is_(None), DeliveryRow.lease_until < now),
                        (DeliveryRow.status == FAILED) & (DeliveryRow.lease_until < now),
                    ),
                )
                .order_by(DeliveryRow.scheduled_for, DeliveryRow.id)
            )
            return [to_record(Delivery, row) for row in rows]

    def _grab(
        self,
        subscription_id: int,
        scheduled_for: datetime,
        *conditions: Any,
        now: datetime,
        owner: str | None,
        lease_until: datetime | None,
        in_doubt: Any = None,
    ) -> Delivery | None:
        values: dict[str, Any] = {
            "status": CLAIMED,
            "attempts": DeliveryRow.attempts + 1,
            "updated_at": now,
            "owner": owner,
            "lease_until": lease_until,
        }
        if in_doubt is not None:
            values["in_doubt"] = in_doubt
        slot = (
            DeliveryRow.subscription_id == subscription_id,
            DeliveryRow.scheduled_for == scheduled_for,
        )
        with self._tx() as s:
            result = s.execute(update(DeliveryRow).where(*slot, *conditions).values(**values))
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return None
            row = s.scalars(select(DeliveryRow).where(*slot)).one()
            return to_record(Delivery, row)

    def mark_sent(
        self, delivery_id: int, *, now: datetime | None = None, note: str | None = None
    ) -> None:
        now = now or utcnow()
        with self._tx() as s:
            row = s.get_one(DeliveryRow, delivery_id)
            row.status, row.sent_at, row.updated_at, row.error = SENT, now, now, None
            row.lease_until, row.in_doubt = None, False
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
        in_doubt: bool = False,
        hold_until: datetime | None = None,
    ) -> int:
        now = now or utcnow()
        with self._tx() as s:
            row = s.get_one(DeliveryRow, delivery_id)
            row.status, row.error, row.updated_at = FAILED, clip(error), now
            row.in_doubt = row.in_doubt or in_doubt
            row.lease_until = hold_until
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
            row.lease_until = None

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
