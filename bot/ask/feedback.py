"""Votes on answers: the record and the storage port the feedback command depends on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class FeedbackRecord:
    """A thumbs up (+1) or down (-1) on an answer and the passage it cited."""

    id: int
    platform: str
    user_id: str
    question: str
    article: str | None
    section: str | None
    value: int
    created_at: datetime


class FeedbackStore(Protocol):
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
        """Store one vote; ValueError unless `value` is +1 or -1."""
        ...

    def all(self) -> list[FeedbackRecord]:
        """Every vote, oldest first."""
        ...
