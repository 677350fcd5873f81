"""What the briefing feature needs from storage, as protocols it owns.

`bot/storage/` implements them with SQLAlchemy; tests may pass in-memory fakes. Every
method is one short transaction, safe to call from several tasks and from several
processes sharing one database. Datetimes are timezone-aware UTC both ways.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from bot.briefings.schedule import ScheduleSpec
from bot.briefings.subscription import CLAIMED, SCHEDULED, Delivery, SaveResult, Subscription
from bot.chat.context import ChannelRef


class SubscriptionStore(Protocol):
    """One subscription per channel."""

    def save(
        self,
        channel: ChannelRef,
        spec: ScheduleSpec,
        *,
        created_by: str,
        created_by_name: str = "",
        now: datetime | None = None,
    ) -> SaveResult:
        """Create the channel's subscription, or replace the one it has.

        Replacing keeps the id, the delivery history and `last_delivery` (so "new since the
        last briefing" carries on), resets `created_at` and `updated_at` to `now`, and
        clears failures and pause.
        """
        ...

    def get(self, subscription_id: int) -> Subscription | None: ...

    def find(self, channel: ChannelRef) -> Subscription | None: ...

    def list(
        self, *, platform: str | None = None, workspace: str | None = None
    ) -> list[Subscription]:
        """Ordered by platform, workspace, channel."""
        ...

    def delete(self, channel: ChannelRef) -> Subscription | None:
        """Remove the channel's subscription and its delivery history; the removed one."""
        ...

    def pause(self, subscription_id: int, reason: str) -> None:
        """Stop scheduling the channel until an admin subscribes it again."""
        ...


class DeliveryLog(Protocol):
    """Which slot was posted, to whom, and how it went. A slot (subscription, scheduled
    time) has at most one entry: claiming it is what makes a briefing go out once. A claim
    names its `owner` and holds a lease until `lease_until`, which the owner renews while
    sending; once it has passed, `take_over` hands the slot to someone else."""

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
        """Record the slot as ours; None means it is already someone else's."""
        ...

    def reclaim_failed(
        self,
        subscription_id: int,
        scheduled_for: datetime,
        *,
        now: datetime | None = None,
        owner: str | None = None,
        lease_until: datetime | None = None,
    ) -> Delivery | None:
        """Take a failed slot back for a retry; only one of concurrent retries gets it."""
        ...

    def take_over(
        self,
        subscription_id: int,
        scheduled_for: datetime,
        *,
        owner: str,
        lease_until: datetime,
        now: datetime | None = None,
    ) -> Delivery | None:
        """Claim a scheduled slot that is `claimed` or `failed` under an expired (or absent,
        or `owner`'s own) lease; None if it is not. A claimed slot comes back `in_doubt`."""
        ...

    def hold(
        self,
        delivery_id: int,
        owner: str,
        *,
        lease_until: datetime,
        progress: int | None = None,
        now: datetime | None = None,
    ) -> bool:
        """Renew the lease (recording `progress`, which clears `in_doubt`); False when the
        claim is no longer `owner`'s."""
        ...

    def expired(self, now: datetime | None = None) -> list[Delivery]:
        """Scheduled slots whose holder is overdue: claims past their lease (or without
        one), failures past `hold_until`. Oldest first."""
        ...

    def mark_sent(
        self, delivery_id: int, *, now: datetime | None = None, note: str | None = None
    ) -> None:
        """The slot is posted: the channel's `last_delivery` moves to `now`, failures reset."""
        ...

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
        """Record a failed attempt; returns the channel's consecutive failures. `in_doubt`:
        the platform may have accepted the message after `progress`. `hold_until`: when
        the owner's retry is overdue and a peer may take the slot over (None: never)."""
        ...

    def mark_skipped(self, delivery_id: int, note: str, *, now: datetime | None = None) -> None: ...

    def latest(self, subscription_id: int) -> Delivery | None:
        """The entry with the latest scheduled time."""
        ...

    def for_subscription(self, subscription_id: int) -> list[Delivery]:
        """Every entry, oldest slot first."""
        ...


class HasVersion(Protocol):
    """Anything with an id and a content hash, such as `bot.corpus.Article`."""

    @property
    def id(self) -> str: ...

    @property
    def content_hash(self) -> str: ...


class FirstSeenStore(Protocol):
    def record(
        self, articles: Iterable[HasVersion], *, now: datetime | None = None
    ) -> dict[str, datetime]:
        """When the bot first saw each article in its current version, recording new ones
        as seen `now`. An edited article (new content hash) counts as seen anew, so a
        "what is new" briefing picks up its new content."""
        ...
