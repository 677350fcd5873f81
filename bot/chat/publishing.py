"""The seam between the scheduler and the platforms: posting a reply to a channel."""

from __future__ import annotations

from typing import Protocol

from bot.chat.context import ChannelRef
from bot.chat.replies import Reply


class DeliveryError(Exception):
    """Posting failed. `permanent` failures (channel deleted, no permission, bad token) are
    not worth a quick retry; transient ones (rate limit, network) are."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class Publisher(Protocol):
    """Implemented by each adapter. `publish` raises DeliveryError on failure."""

    platform: str

    async def publish(self, channel: ChannelRef, reply: Reply) -> None: ...

    async def notify_paused(self, channel: ChannelRef, reason: str) -> None:
        """Tell the channel its briefings were paused, where the platform allows it."""
        ...
