"""The seam between the scheduler and the platforms: posting a reply to a channel."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from bot.chat.context import ChannelRef
from bot.chat.replies import Reply

# Called after each message the platform accepted, with how many are accepted so far
# (counting the skipped ones); it may raise to stop the sending.
Accepted = Callable[[int], Awaitable[None]]


class DeliveryError(Exception):
    """Posting failed. `permanent` failures (channel deleted, no permission, bad token) are
    not worth a retry; transient ones (rate limit, network) are. `maybe_sent`: the request
    went out and no answer came back (a timeout, a dropped connection), so the platform may
    have accepted the message."""

    def __init__(self, reason: str, *, permanent: bool, maybe_sent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.maybe_sent = maybe_sent


class Publisher(Protocol):
    """Implemented by each adapter. `publish` raises DeliveryError on failure."""

    platform: str

    async def publish(
        self,
        channel: ChannelRef,
        reply: Reply,
        *,
        key: str = "",
        skip: int = 0,
        check: bool = False,
        accepted: Accepted | None = None,
    ) -> int:
        """Post `reply`'s messages from number `skip` on; returns how many messages the
        reply has. `key` names the slot (the same on every attempt), so the platform can
        recognise a message it already has: with `check`, the message after `skip` may
        have been accepted by an earlier attempt, and is looked for before being sent
        again where the platform allows. `accepted` is awaited after each message."""
        ...

    async def notify_paused(self, channel: ChannelRef, reason: str) -> None:
        """Tell the channel its briefings were paused, where the platform allows it."""
        ...
