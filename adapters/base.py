"""What every platform adapter provides to the program (a connector, in opsdroid's terms)."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod

from bot.chat.context import ChannelRef
from bot.chat.publishing import Accepted
from bot.chat.replies import Reply
from bot.chat.telemetry import NULL_TELEMETRY, Telemetry


class Adapter(ABC):
    """Translates platform events into registry calls and replies into platform messages.

    `start` returns once the adapter is listening; `stop` finishes in-flight replies and
    disconnects. `done` is set when the adapter ends by itself (the console at end of input).
    Each adapter reports to `telemetry` when its platform connection goes up or down.
    """

    platform: str = ""

    def __init__(self, telemetry: Telemetry = NULL_TELEMETRY) -> None:
        self.done = asyncio.Event()
        self.exit_code = 0
        self.telemetry = telemetry

    def report_connected(self, connected: bool) -> None:
        """Tell the telemetry the platform connection is now up (True) or down (False)."""
        self.telemetry.adapter_connected(self.platform, connected)

    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def stop(self) -> None: ...

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
        """Post a reply to a channel (scheduled briefings), from message `skip` on; the
        number of messages of the reply. Raises DeliveryError. See `bot.chat.publishing`."""
        raise NotImplementedError

    async def notify_paused(self, channel: ChannelRef, reason: str) -> None:
        """Say in the channel that its briefings are paused, where the platform allows it."""
        return None
