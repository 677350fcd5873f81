"""Who is talking and where: the context adapters hand to the core with every command."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ChannelRef:
    """A place the bot can post to. `workspace` is the Slack team or Discord guild id."""

    platform: str  # "console", "slack", "discord"
    workspace: str
    channel: str

    def __str__(self) -> str:
        return f"{self.platform}:{self.workspace}/{self.channel}"


async def _always() -> bool:
    return True


@dataclass(frozen=True, slots=True)
class CommandContext:
    """The caller of a command. `is_admin` is the adapter's permission check (may call the
    platform, so it is only awaited by commands that need it). `is_direct` marks DMs."""

    channel: ChannelRef
    user_id: str
    user_name: str = ""
    is_admin: Callable[[], Awaitable[bool]] = field(default=_always)
    is_direct: bool = False
    can_subscribe_here: bool = True  # False where a channel cannot receive briefings (DMs)
