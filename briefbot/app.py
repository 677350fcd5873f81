"""The composition root: one asyncio loop with the corpus, the adapters and the scheduler.

Everything is built here, by constructor, in dependency order: the database, the
derivations and the library, the feature handlers, the registry that serves them, then
(at `start`) the adapters and the scheduler that posts through them. `briefbot run`
starts every adapter whose credentials are configured (the console when none is);
SIGINT/SIGTERM stop it cleanly: adapters finish in-flight replies, then the scheduler
and the database close.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import signal
from collections.abc import Mapping, Sequence
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from adapters.base import Adapter
from bot.actors.commands import ActorCommands
from bot.ask.commands import AskCommands
from bot.briefings.changes import SubscriptionChanges
from bot.briefings.commands import BriefingCommands
from bot.briefings.scheduler import BriefingScheduler
from bot.briefings.service import DigestService
from bot.chat.guard import Guard
from bot.chat.publishing import Publisher
from bot.chat.ratelimit import RateLimiter
from bot.chat.registry import Registry
from bot.corpus.library import Snapshot
from bot.settings import ConfigError, Settings
from bot.storage.database import Database
from bot.storage.preflight import check_folder
from bot.timeline.commands import TimelineCommands

from .derived import Derived
from .settings import Config

log = logging.getLogger(__name__)


def open_database(settings: Settings) -> Database:
    """The configured database, after proving the data directory usable; StorageError
    (one line naming the path and the setting) otherwise."""
    check_folder(Path(settings.data_dir), "BRIEFBOT_DATA_DIR")
    return Database(
        settings.effective_database_url,
        marker_dir=Path(settings.data_dir),
        setting=settings.database_setting,
    )


def configured_platforms(config: Config) -> tuple[str, ...]:
    """The platforms whose settings are complete, the console when none is; ConfigError
    for a partial one (measured: only one Slack token silently started the console)."""
    missing = platform_problems(config)
    if missing:
        raise ConfigError(missing)
    platforms = []
    if config.slack.configured:
        platforms.append("slack")
    if config.discord.configured:
        platforms.append("discord")
    return tuple(platforms) or ("console",)


def platform_problems(config: Config) -> list[str]:
    """What each partly configured platform lacks."""
    return config.slack.missing()


class Application:
    """`handlers` adds command handlers to the bot's own (tests use it to declare probes)."""

    def __init__(
        self,
        config: Config,
        platforms: Sequence[str] | None = None,
        *,
        handlers: Sequence[object] = (),
    ) -> None:
        self.config = config
        self.settings = s = config.core
        self.platforms = tuple(configured_platforms(config) if platforms is None else platforms)
        self.database = db = open_database(s)
        self.derived = Derived(s)
        self.library = self.derived.library(listeners=(self._remember,))
        self.digests = DigestService(
            lambda: self.library.current.articles,
            lambda: self.derived.timeline(self.library.current),
            lambda article_id: self.derived.actors(self.library.current).actors_in(article_id),
            db.first_seen,
        )
        self.changes = SubscriptionChanges()
        self.registry = Registry(
            (
                AskCommands(
                    lambda: self.derived.answerer.of(self.library.current),
                    db.feedback,
                    question_limit=s.max_question_chars,
                ),
                ActorCommands(
                    lambda: self.derived.actors(self.library.current),
                    name_limit=s.max_actor_chars,
                ),
                BriefingCommands(
                    db.subscriptions, db.deliveries, self.changes, self.digests.digest_reply
                ),
                TimelineCommands(lambda: self.derived.timeline(self.library.current)),
                *handlers,
            ),
            guard=Guard(unavailable=(SQLAlchemyError,)),
            limiter=RateLimiter(s.rate_limit_per_minute, 60.0),
        )
        self.scheduler: BriefingScheduler | None = None
        self.adapters: list[Adapter] = []
        self._stop = asyncio.Event()
        self._watcher: asyncio.Task[None] | None = None

    def load(self) -> Snapshot:
        """Read the corpus and prepare what is derived from it (seconds on a cold cache)."""
        return self.library.load()  # which warns of each problem

    def _remember(self, snapshot: Snapshot, _previous: Snapshot | None) -> None:
        """Record when each article was first seen, so digests know what is new."""
        self.database.first_seen.record(snapshot.articles)

    def make_adapter(self, platform: str) -> Adapter:
        if platform == "console":
            from adapters.console.adapter import ConsoleAdapter

            return ConsoleAdapter(
                self.registry,
                history=Path(self.settings.data_dir) / "console_history",
                log_file=Path(self.settings.data_dir) / "console.log",
                article_count=lambda: len(self.library.current.articles),
            )
        if platform == "slack":
            from adapters.slack.app import SlackAdapter

            return SlackAdapter(self.registry, self.config.slack)
        if platform == "discord":
            from adapters.discord.bot import DiscordAdapter

            return DiscordAdapter(self.registry, self.config.discord)
        raise ValueError(f"unknown platform {platform!r}")

    async def start(self) -> None:
        """Everything up: corpus, adapters, then the scheduler that posts."""
        await asyncio.to_thread(self.load)
        self.adapters = [self.make_adapter(p) for p in self.platforms]
        for adapter in self.adapters:
            await adapter.start()
            log.info("%s adapter started", adapter.platform)
        self.scheduler = self.make_scheduler({a.platform: a for a in self.adapters})
        await self.scheduler.start()
        self._watcher = asyncio.create_task(
            self.library.watch(self.settings.rescan_seconds, self._stop), name="corpus-watch"
        )

    def make_scheduler(self, publishers: Mapping[str, Publisher]) -> BriefingScheduler:
        """The scheduler that posts each subscription's digest through `publishers`."""
        s = self.settings
        return BriefingScheduler(
            self.database.subscriptions,
            self.database.deliveries,
            publishers,
            self.digests.scheduled,
            self.changes,
            grace=dt.timedelta(seconds=s.briefing_grace_seconds),
            max_failures=s.briefing_max_failures,
            retry_base=dt.timedelta(seconds=s.briefing_retry_seconds),
        )

    async def stop(self) -> None:
        """Adapters finish in-flight replies, then the scheduler and the database close."""
        self._stop.set()
        for adapter in self.adapters:
            try:
                await adapter.stop()
            except Exception:
                log.exception("%s adapter did not stop cleanly", adapter.platform)
        if self.scheduler is not None:
            await self.scheduler.shutdown()
        if self._watcher is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        self.database.close()

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        interrupted: list[signal.Signals] = []

        def on_signal(sig: signal.Signals) -> None:
            interrupted.append(sig)
            stop.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, on_signal, sig)
        try:
            await self.start()
            waiters = [asyncio.create_task(a.done.wait()) for a in self.adapters]
            waiters.append(asyncio.create_task(stop.wait()))
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()
        finally:
            await self.stop()
        if signal.SIGINT in interrupted:  # Ctrl-C: the shell's convention
            return 130
        return max((a.exit_code for a in self.adapters), default=0)
