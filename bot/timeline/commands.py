"""`/timeline`: the dated events of every article, oldest first."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from bot.chat.context import CommandContext
from bot.chat.registry import command
from bot.chat.replies import Reply

from .events import TimelineEvent
from .reply import timeline_reply

SHOWN_EVENTS = 25


class TimelineCommands:
    def __init__(self, events: Callable[[], Sequence[TimelineEvent]]) -> None:
        self.events = events

    @command("timeline", "Les événements datés de tous les articles", slow=True)
    async def timeline(self, ctx: CommandContext) -> Reply:
        return timeline_reply(await asyncio.to_thread(self.events), limit=SHOWN_EVENTS)
