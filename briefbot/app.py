"""The composition root: one asyncio loop with the corpus, the adapters and the scheduler.

Everything is built here, by constructor, in dependency order: the database, the
derivations and the library, the feature handlers, the registry that serves them, then
(at `start`) the adapters, the scheduler that posts through them and the poller of the
news sources. `briefbot run` starts every adapter whose credentials are configured (the
console when none is); SIGINT/SIGTERM stop it cleanly: the briefing scheduler finishes
the briefings in flight, then the adapters finish in-flight replies, the poller stops and
the database closes. Every part reports to one `PrometheusTelemetry`; with
`BRIEFBOT_STATUS_PORT` set, the status server serves it and the readiness probes, started
first and stopped last so it answers for the whole life of the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import signal
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from adapters.base import Adapter
from bot.actors.commands import ActorCommands
from bot.ask.answerer import Answerer, ensure_embeddings
from bot.ask.commands import AskCommands
from bot.briefings.changes import SubscriptionChanges
from bot.briefings.commands import BriefingCommands
from bot.briefings.scheduler import BriefingScheduler
from bot.briefings.service import DigestService
from bot.chat.guard import Guard
from bot.chat.publishing import Publisher
from bot.chat.ratelimit import RateLimiter
from bot.chat.registry import Registry
from bot.corpus.french import count
from bot.corpus.library import Snapshot
from bot.settings import ConfigError, Settings
from bot.sources.commands import SourceCommands
from bot.sources.scheduler import SourceScheduler
from bot.sources.service import make_poller
from bot.status.commands import CorpusStatus, StatusCommands
from bot.storage.database import Database
from bot.storage.preflight import check_folder
from bot.timeline.commands import TimelineCommands

from .derived import Derived
from .metrics import PrometheusTelemetry
from .settings import Config
from .status import Probe, ProbeResult, StatusServer

log = logging.getLogger(__name__)


def test_hooks(environ: Mapping[str, str]) -> dict[str, Any]:
    """Scheduler hooks for the kill test, off unless their variable is set (never in
    production): `BRIEFBOT_TEST_SLOT_SECONDS=N` makes every subscription due every N
    seconds; `BRIEFBOT_TEST_PAUSE_AT=claim,post,mark` makes a slot write a marker file in
    `BRIEFBOT_TEST_MARKER_DIR` at those points and then wait forever, to be killed."""
    hooks: dict[str, Any] = {}
    if environ.get("BRIEFBOT_TEST_SLOT_SECONDS"):
        from apscheduler.triggers.cron import CronTrigger

        every = int(environ["BRIEFBOT_TEST_SLOT_SECONDS"])
        hooks["trigger_of"] = lambda _sub: CronTrigger(second=f"*/{every}", timezone=dt.UTC)
    points = {p for p in environ.get("BRIEFBOT_TEST_PAUSE_AT", "").split(",") if p}
    if points:
        folder = Path(environ.get("BRIEFBOT_TEST_MARKER_DIR", "."))

        async def pause_at(point: str, subscription_id: int, scheduled_for: dt.datetime) -> None:
            if point not in points:
                return
            name = f"{point}-{os.getpid()}-{subscription_id}-{scheduled_for:%H%M%S}"
            (folder / f"{name}.tmp").write_text(point)
            (folder / f"{name}.tmp").rename(folder / name)
            await asyncio.Event().wait()

        hooks["checkpoint"] = pause_at
    return hooks


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
        self.telemetry = telemetry = PrometheusTelemetry(self.platforms)
        self.database = db = open_database(s)
        self.derived = Derived(s, telemetry=telemetry)
        self.library = self.derived.library(
            listeners=(self._remember,), on_rescan=telemetry.rescan_succeeded
        )
        self.digests = DigestService(
            lambda: self.library.current.articles,
            lambda: self.library.latest(self.derived.events),
            lambda article_id: self.library.latest(self.derived.directory).directory.actors_in(
                article_id
            ),
            db.first_seen,
        )
        self.changes = SubscriptionChanges()
        self.sources = make_poller(s, db.sources)
        self.registry = Registry(
            (
                AskCommands(
                    lambda: self.derived.answerer.of(self.library.current),
                    db.feedback,
                    question_limit=s.max_question_chars,
                ),
                ActorCommands(
                    lambda: self.library.latest(self.derived.directory).directory,
                    name_limit=s.max_actor_chars,
                ),
                BriefingCommands(
                    db.subscriptions, db.deliveries, self.changes, self.digests.digest_reply
                ),
                TimelineCommands(lambda: self.library.latest(self.derived.events)),
                SourceCommands(self.sources, db.sources),
                StatusCommands(self._corpus_status),
                *handlers,
            ),
            guard=Guard(unavailable=(SQLAlchemyError,)),
            limiter=RateLimiter(s.rate_limit_per_minute, 60.0),
            telemetry=telemetry,
        )
        self.status: StatusServer | None = None
        if s.status_port is not None:
            self.status = StatusServer(
                host=s.status_host, port=s.status_port, probes=self.probes(), metrics=telemetry
            )
        self.scheduler: BriefingScheduler | None = None
        self.source_scheduler = SourceScheduler(self.sources, tick_seconds=s.sources_tick_seconds)
        self.adapters: list[Adapter] = []
        self._stop = asyncio.Event()
        self._watcher: asyncio.Task[None] | None = None

    def load(self) -> Snapshot:
        """Read the corpus and prepare what is derived from it (seconds on a cold cache)."""
        return self.library.load()  # which warns of each problem

    def _remember(self, snapshot: Snapshot, _previous: Snapshot | None) -> None:
        """Record when each article was first seen, so digests know what is new; embed the
        new snapshot's passages in the background when answers are ranked by meaning."""
        self.telemetry.articles(len(snapshot.articles))
        self.database.first_seen.record(snapshot.articles)
        threading.Thread(
            target=self.derived.save_index, args=(snapshot,), name="index-save", daemon=True
        ).start()
        if self.derived.embedder is not None:
            answerer = self.derived.answerer.of(snapshot)
            threading.Thread(
                target=self._embed, args=(answerer,), name="embeddings", daemon=True
            ).start()

    @staticmethod
    def _embed(answerer: Answerer) -> None:
        """Off the loop (about 6 passages a second); answers stay lexical until it is done."""
        try:
            ensure_embeddings(answerer)
            log.info("%s", answerer.semantic_status)
        except Exception:  # the model failing mid-way leaves answers lexical, never broken
            log.exception("embedding the corpus failed; answers stay lexical")

    def _corpus_status(self) -> CorpusStatus:
        """For `/status`: the served snapshot, its index and the background derivations."""
        if not self.library.loaded:
            return CorpusStatus(0, 0, None, self.library.state())
        snapshot = self.library.current
        lines: tuple[tuple[str, str], ...] = ()
        answerer = self.derived.answerer.peek(snapshot)
        if answerer is not None:
            index = answerer.index
            lines = (
                ("Index de recherche", count(len(index) - index.data.dead, "section")),
                ("Classement", "par le sens" if answerer.semantic else "lexical"),
            )
        return CorpusStatus(
            len(snapshot.articles),
            len(snapshot.problems),
            snapshot.built_at,
            self.library.state(),
            lines,
        )

    def probes(self) -> dict[str, Probe]:
        """What `/ready` checks: each platform connected, the scheduler running, the database
        answering and the corpus loaded."""
        probes: dict[str, Probe] = {p: self._connected_probe(p) for p in self.platforms}
        probes["scheduler"] = self._scheduler_ready
        probes["database"] = self.database.ping
        probes["corpus"] = self._corpus_ready
        return probes

    def _connected_probe(self, platform: str) -> Probe:
        def connected() -> ProbeResult:
            up = self.telemetry.is_connected(platform)
            return up, "connected" if up else "not connected"

        return connected

    async def _scheduler_ready(self) -> ProbeResult:
        running = self.scheduler is not None and self.scheduler.running
        return running, "running" if running else "not running"

    async def _corpus_ready(self) -> ProbeResult:
        if not self.library.loaded:
            return False, "not loaded yet"
        return True, f"{len(self.library.current.articles)} articles"

    def make_adapter(self, platform: str) -> Adapter:
        if platform == "console":
            from adapters.console.adapter import ConsoleAdapter

            return ConsoleAdapter(
                self.registry,
                history=Path(self.settings.data_dir) / "console_history",
                log_file=Path(self.settings.data_dir) / "console.log",
                article_count=lambda: len(self.library.current.articles),
                telemetry=self.telemetry,
            )
        if platform == "slack":
            from adapters.slack.app import SlackAdapter

            return SlackAdapter(self.registry, self.config.slack, telemetry=self.telemetry)
        if platform == "discord":
            from adapters.discord.bot import DiscordAdapter

            return DiscordAdapter(self.registry, self.config.discord, telemetry=self.telemetry)
        raise ValueError(f"unknown platform {platform!r}")

    async def start(self) -> None:
        """Everything up: the status server, corpus, adapters, then the scheduler that posts."""
        if self.status is not None:
            try:
                await self.status.start()
            except OSError as err:
                where = f"{self.status.host}:{self.settings.status_port}"
                raise ConfigError(
                    [f"BRIEFBOT_STATUS_PORT: cannot listen on {where} ({err.strerror})"]
                ) from None
        await asyncio.to_thread(self.load)
        self.adapters = [self.make_adapter(p) for p in self.platforms]
        for adapter in self.adapters:
            await adapter.start()
            log.info("%s adapter started", adapter.platform)
        self.scheduler = self.make_scheduler({a.platform: a for a in self.adapters})
        await self.scheduler.start()
        await self.source_scheduler.start()
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
            lease=dt.timedelta(seconds=s.briefing_lease_seconds),
            sync_interval=dt.timedelta(seconds=s.briefing_sync_seconds),
            unavailable=(SQLAlchemyError,),
            telemetry=self.telemetry,
            **test_hooks(os.environ),
        )

    async def stop(self) -> None:
        """The scheduler stops firing and finishes the briefings in flight while the
        adapters can still post them; then adapters finish in-flight replies, the poller
        stops, and the database and the status server close."""
        self._stop.set()
        if self.scheduler is not None:
            await self.scheduler.shutdown()
        for adapter in self.adapters:
            try:
                await adapter.stop()
            except Exception:
                log.exception("%s adapter did not stop cleanly", adapter.platform)
        await self.source_scheduler.shutdown()
        if self._watcher is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        self.database.close()
        if self.status is not None:
            await self.status.stop()

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
