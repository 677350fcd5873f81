"""Votes on answers: the record and the storage port the ask feature depends on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class FeedbackRecord:
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
    ) -> FeedbackRecord: ...

    def all(self) -> list[FeedbackRecord]: ...
