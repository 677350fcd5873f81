"""Votes on answers in the database: the `FeedbackStore` port."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bot.ask.feedback import FeedbackRecord
from bot.briefings.subscription import utcnow
from bot.storage.engine import Transactions
from bot.storage.tables import FeedbackRow, clip, to_record


class SqlFeedback:
    def __init__(self, transactions: Transactions) -> None:
        self._tx = transactions

    def record(
        self,
        *,
        platform: str,
        user_id: str,
        question: str,
        article: str | None,
        section: str | None,
        value: int,
        now: datetime | None = None,
    ) -> FeedbackRecord:
        if value not in (1, -1):
            raise ValueError("feedback value must be +1 or -1")
        row = FeedbackRow(
            platform=clip(platform, 32),
            user_id=clip(user_id, 128),
            question=question,
            article=clip(article, 200) if article else None,
            section=section,
            value=value,
            created_at=now or utcnow(),
        )
        with self._tx() as s:
            s.add(row)
            s.flush()
            return to_record(FeedbackRecord, row)

    def all(self) -> list[FeedbackRecord]:
        with self._tx() as s:
            rows = s.scalars(select(FeedbackRow).order_by(FeedbackRow.created_at, FeedbackRow.id))
            return [to_record(FeedbackRecord, row) for row in rows]
