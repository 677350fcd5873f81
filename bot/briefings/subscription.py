"""The records of the briefing feature: a channel's subscription and its deliveries.

Frozen and detached from any database session, so they cross from the storage to the
scheduler and the commands unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ClassVar

from bot.briefings.schedule import ScheduleSpec
from bot.chat.context import ChannelRef

# Delivery statuses. `claimed` is written before posting, with an owner and a lease the
# owner renews while sending: a row left `claimed` by a crash is taken over once its lease
# expires, and resumes from `progress`.
CLAIMED, SENT, FAILED, SKIPPED = "claimed", "sent", "failed", "skipped"
SCHEDULED, MANUAL = "scheduled", "manual"  # delivery kinds: a cron slot or `/briefing now`


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Subscription:
    """A channel's briefing subscription, its schedule already read."""

    json_properties: ClassVar[Mapping[str, str]] = {
        "times": "times_of_day",
        "days": "days",
        "cron": "cron",
        "timezone": "timezone",
        "mode": "mode",
        "empty": "empty",
    }

    id: int
    platform: str
    workspace: str
    channel: str
    schedule: ScheduleSpec = field(metadata={"json": False})
    created_by: str
    created_by_name: str
    created_at: datetime
    # When the current schedule took effect: slots before it were never owed.
    updated_at: datetime
    last_delivery: datetime | None
    consecutive_failures: int
    paused: bool
    paused_reason: str | None

    @property
    def channel_ref(self) -> ChannelRef:
        return ChannelRef(self.platform, self.workspace, self.channel)

    @property
    def spec(self) -> ScheduleSpec:
        return self.schedule

    @property
    def times(self) -> str:
        """Stored form of the times of day ("08:00,18:30"); empty for a cron schedule."""
        return "" if self.schedule.cron else self.schedule.times_text

    @property
    def days(self) -> str:
        """Stored form of the days ("*", "mon,wed"); "*" for a cron schedule."""
        return "*" if self.schedule.cron else self.schedule.days_text

    @property
    def cron(self) -> str | None:
        return self.schedule.cron

    @property
    def timezone(self) -> str:
        return self.schedule.timezone

    @property
    def mode(self) -> str:
        return self.schedule.mode

    @property
    def empty(self) -> str:
        return self.schedule.empty

    @property
    def times_of_day(self) -> list[str]:
        return self.times.split(",") if self.times else []


@dataclass(frozen=True, slots=True)
class SaveResult:
    subscription: Subscription
    replaced: Subscription | None  # the previous subscription of that channel, if any


@dataclass(frozen=True, slots=True)
class Delivery:
    """One slot of one subscription: claimed, then sent, failed or skipped."""

    id: int
    subscription_id: int
    scheduled_for: datetime
    kind: str
    status: str
    attempts: int
    error: str | None
    note: str | None
    created_at: datetime
    sent_at: datetime | None
    # The process that holds the slot ("pid:token") and until when; a peer may take the
    # slot over once `lease_until` has passed.
    owner: str | None = None
    lease_until: datetime | None = None
    # How many messages of the briefing the platform has accepted.
    progress: int = 0
    # The message after `progress` may have been accepted too (a timeout after sending, or
    # an owner that died while sending): check before sending it again.
    in_doubt: bool = False
