"""The composition root: one asyncio loop with the corpus, the adapters and the scheduler.

`briefbot run` starts every adapter whose credentials are configured (the console when
none is); SIGINT/SIGTERM stop it cleanly: adapters finish in-flight replies, then the
scheduler and the database close.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import signal
from collections.abc import Sequence

from adapters.base import Adapter
from bot.briefings.scheduler import BriefingScheduler
from bot.briefings.service import BriefingService
from bot.briefings.timezones import complete_timezones
from bot.chat.commands import Commands
from bot.corpus.library import Library
from bot.settings import Settings
from bot.storage.database import Database
from briefbot.services import Services

log = logging.getLogger(__name__)


def configured_platforms(settings: Settings) -> tuple[str, ...]:
    platforms = []
    if settings.slack_configured:
        platforms.append("slack")
    if settings.discord_configured:
        platforms.append("discord")
    return tuple(platforms) or ("console",)


class Application:
    def __init__(self, settings: Settings, platforms: Sequence[str] | None = None) -> None:
        self.settings = settings
        self.platforms = tuple(configured_platforms(settings) if platforms is None else platforms)
        self.library = Library(settings)
        self.commands = Commands(self.library, settings)
        self.database: Database | None = None
        self.services: Services | None = None
        self.briefings: BriefingService | None = None
        self.scheduler: BriefingScheduler | None = None
        self.adapters: list[Adapter] = []
        self.stop_event: asyncio.Event | None = None

    def load_core(self) -> None:
        """Load the corpus, open the database and wire every core feature into the command
        layer (idempotent). Adapter tests use this to get the `Commands` that `run` serves."""
        if self.database is not None:
            return
        db = self.database = Database(self.settings.effective_database_url)
        self.services = Services(
            self.settings, self.library, first_seen=db.first_seen, feedback=db.feedback
        )
        self.library.hooks.append(self.services.prepare)
        self.library.load()
        for problem in self.library.current.problems:
            log.warning("skipped %s", problem)
        db.first_seen.record(self.library.current.articles)
        self.library.listeners.append(lambda snap, _: self._remember(snap))
        self.services.wire(self.commands)
        self.briefings = BriefingService(
            db.subscriptions, db.deliveries, None, self.services.digest_reply
        )
        self.commands.briefing_handler = self.briefings.handle
        self.commands.timezone_handler = complete_timezones

    def _remember(self, snapshot) -> None:
        """Record when each article was first seen, so digests know what is new."""
        if self.database is not None:
            self.database.first_seen.record(snapshot.articles)

    def make_adapter(self, platform: str) -> Adapter:
        if platform == "console":
            from adapters.console.adapter import ConsoleAdapter

            return ConsoleAdapter(self.commands, self.settings)
        if platform == "slack":
            from adapters.slack.app import SlackAdapter

            return SlackAdapter(self.commands, self.settings)
        if platform == "discord":
            from adapters.discord.bot import DiscordAdapter

            return DiscordAdapter(self.commands, self.settings)
        raise ValueError(f"unknown platform {platform!r}")

    async def start(self) -> None:
        """Everything up: corpus, database, adapters, then the scheduler that posts."""
        self.stop_event = asyncio.Event()
        await asyncio.to_thread(self.load_core)
        assert self.database is not None and self.services is not None and self.briefings
        self.adapters = [self.make_adapter(p) for p in self.platforms]
        for adapter in self.adapters:
            await adapter.start()
            log.info("%s adapter started", adapter.platform)
        s = self.settings
        self.scheduler = BriefingScheduler(
            self.database.subscriptions,
            self.database.deliveries,
            {a.platform: a for a in self.adapters},
            self.services.scheduled_digest,
            grace=dt.timedelta(seconds=s.briefing_grace_seconds),
            max_failures=s.briefing_max_failures,
            retry_base=dt.timedelta(seconds=s.briefing_retry_seconds),
        )
        self.briefings.scheduler = self.scheduler
        await self.scheduler.start()
        self._watcher = asyncio.create_task(
            self.library.watch(s.rescan_seconds, self.stop_event), name="corpus-watch"
        )

    async def stop(self) -> None:
        """Adapters finish in-flight replies, then the scheduler and the database close."""
        if self.stop_event is not None:
            self.stop_event.set()
        for adapter in self.adapters:
            try:
                await adapter.stop()
            except Exception:
                log.exception("%s adapter did not stop cleanly", adapter.platform)
        if self.scheduler is not None:
            await self.scheduler.shutdown()
        watcher = getattr(self, "_watcher", None)
        if watcher is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        if self.database is not None:
            self.database.close()

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        try:
            await self.start()
            waiters = [asyncio.create_task(a.done.wait()) for a in self.adapters]
            waiters.append(asyncio.create_task(stop.wait()))
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()
        finally:
            await self.stop()
        return max((a.exit_code for a in self.adapters), default=0)
