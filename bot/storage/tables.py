"""The database tables as SQLAlchemy rows, and the one way a row becomes a record.

Every datetime is timezone-aware UTC on the way in and on the way out (SQLite has no
time zone, so it stores naive UTC). The schema itself is owned by the migrations in
`migrations/versions/`; a test checks that these rows and the migrated schema agree.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from bot.briefings.subscription import SCHEDULED

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

TEXT_LIMIT = 500
URL_LIMIT = 2000

R = TypeVar("R", bound="DataclassInstance")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in Python, whatever the database does with time zones.

    Naive datetimes are refused on the way in: they are always a bug here.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class SubscriptionRow(Base):
    __tablename__ = "subscriptions"
    __table_args__ = (
        UniqueConstraint("platform", "workspace", "channel", name="uq_subscription_channel"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    workspace: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(128))
    times: Mapped[str] = mapped_column(String(200), default="")
    days: Mapped[str] = mapped_column(String(64), default="*")
    cron: Mapped[str | None] = mapped_column(String(200), nullable=True)
    timezone: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(8))
    empty: Mapped[str] = mapped_column(String(8))
    created_by: Mapped[str] = mapped_column(String(128))
    created_by_name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When the current schedule took effect: slots before it were never owed.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_delivery: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    paused_reason: Mapped[str | None] = mapped_column(String(TEXT_LIMIT), nullable=True)


class DeliveryRow(Base):
    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "scheduled_for", name="uq_delivery_slot"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"), index=True)
    scheduled_for: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(16), default=SCHEDULED)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    error: Mapped[str | None] = mapped_column(String(TEXT_LIMIT), nullable=True)
    note: Mapped[str | None] = mapped_column(String(TEXT_LIMIT), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    progress: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    in_doubt: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ArticleSeenRow(Base):
    __tablename__ = "articles_seen"

    article_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(128), primary_key=True)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)


class FeedbackRow(Base):
    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(128))
    question: Mapped[str] = mapped_column(Text)
    article: Mapped[str | None] = mapped_column(String(200), nullable=True)
    section: Mapped[str | None] = mapped_column(Text, nullable=True)
    value: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SourceRow(Base):
    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(URL_LIMIT), unique=True)
    kind: Mapped[str] = mapped_column(String(8))
    interval_seconds: Mapped[int] = mapped_column(Integer)
    added_by: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_poll: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_fetch: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_success: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    etag: Mapped[str | None] = mapped_column(String(TEXT_LIMIT), nullable=True)
    last_modified: Mapped[str | None] = mapped_column(String(100), nullable=True)
    title: Mapped[str | None] = mapped_column(String(TEXT_LIMIT), nullable=True)
    articles_taken: Mapped[int] = mapped_column(Integer, default=0)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(TEXT_LIMIT), nullable=True)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    paused_reason: Mapped[str | None] = mapped_column(String(TEXT_LIMIT), nullable=True)


class SourcePollRow(Base):
    """A claimed poll slot: (source, slot) is the primary key, so one process wins it."""

    __tablename__ = "source_polls"

    source_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slot: Mapped[str] = mapped_column(String(64), primary_key=True)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SourceItemRow(Base):
    """A canonical URL seen by any source (kept when the source is removed)."""

    __tablename__ = "source_items"

    url_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    source_id: Mapped[int] = mapped_column(Integer, index=True)
    status: Mapped[str] = mapped_column(String(16))
    content_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    article_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


def to_record(cls: type[R], row: Base, **computed: Any) -> R:
    """The record `cls` (a dataclass) of a row: each field read from the row attribute of
    the same name, except those given in `computed`."""
    values = {f.name: getattr(row, f.name) for f in fields(cls) if f.name not in computed}
    return cls(**values, **computed)


def clip(text: str, limit: int = TEXT_LIMIT) -> str:
    """Text cut to fit its column, marked with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
