"""Who reports what through the telemetry seam: the registry, the scheduler, the corpus,
the adapters, and the program that serves it all on `/ready` and `/metrics`."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from datetime import timedelta
from pathlib import Path

import aiohttp
import discord
import pytest

from adapters.console.adapter import ConsoleAdapter
from adapters.discord.bot import DiscordAdapter
from adapters.slack.app import SlackAdapter
from bot.briefings.scheduler import Reason
from bot.chat.context import ChannelRef, CommandContext
from bot.chat.guard import Guard
from bot.chat.ratelimit import RateLimiter
from bot.chat.registry import Registry, command
from bot.chat.replies import Block, Reply, ReplyKind
from bot.corpus.library import Library
from bot.settings import ConfigError
from bot.storage.database import Database
from briefbot import cli
from briefbot.app import Application
from briefbot.derived import Derived
from tests.config import make_config
from tests.fakes.briefing_store import InMemoryBriefings
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.discord_harness import discord_settings, settle
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_harness import slack_settings
from tests.fakes.telemetry import RecordingTelemetry
from tests.test_scheduler import MONDAY_0800, FakePublisher, make_scheduler, subscribe

SLACK = CommandContext(ChannelRef("slack", "T1", "C1"), user_id="U1")


class Handlers:
    """Commands whose replies the tests choose."""

    @command("ask", "question", rate_limited=True, records="question")
    async def ask(self, ctx: CommandContext) -> Reply:
        return Reply(ReplyKind.ANSWER, "Réponse", (Block("Oui."),))

    @command("decline", "question", records="question")
    async def decline(self, ctx: CommandContext) -> Reply:
        return Reply(ReplyKind.NO_ANSWER, "Pas de réponse", (Block("Non."),))

    @command("crash", "question", records="question")
    async def crash(self, ctx: CommandContext) -> Reply:
        raise RuntimeError("bug")

    @command("actor", "look-up", records="actor_lookup")
    async def actor(self, ctx: CommandContext) -> Reply:
        return Reply(ReplyKind.ACTOR, "Molly Phee", (Block("Diplomate."),))

    @command("plain", "nothing to record")
    async def plain(self, ctx: CommandContext) -> Reply:
        return Reply(ReplyKind.INFO, "Info", (Block("."),))


def registry(telemetry: RecordingTelemetry, per_minute: int = 10) -> Registry:
    return Registry(
        [Handlers()], guard=Guard(), limiter=RateLimiter(per_minute), telemetry=telemetry
    )


# --- the registry ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "outcome"), [("ask", "answered"), ("decline", "declined"), ("crash", "error")]
)
async def test_a_question_is_recorded_with_its_platform_outcome_and_latency(
    name: str, outcome: str
) -> None:
    telemetry = RecordingTelemetry()
    await registry(telemetry).run(SLACK, name, {})
    [(platform, recorded, seconds)] = telemetry.named("question")
    assert (platform, recorded) == ("slack", outcome)
    assert isinstance(seconds, float) and seconds >= 0


async def test_a_rate_limited_question_is_counted_as_refused_not_as_a_question() -> None:
    telemetry = RecordingTelemetry()
    bot = registry(telemetry, per_minute=1)
    await bot.run(SLACK, "ask", {})
    reply = await bot.run(SLACK, "ask", {})
    assert reply.kind is ReplyKind.ERROR
    assert telemetry.named("rate_limited") == [("slack",)]
    assert len(telemetry.named("question")) == 1


async def test_an_actor_look_up_is_recorded_and_a_plain_command_is_not() -> None:
    telemetry = RecordingTelemetry()
    bot = registry(telemetry)
    await bot.run(SLACK, "actor", {})
    await bot.run(SLACK, "plain", {})
    assert telemetry.events == [telemetry.events[0]]
    assert telemetry.named("actor_lookup") == [("slack",)]


async def test_the_bots_ask_and_actor_commands_declare_what_they_record(tmp_path: Path) -> None:
    app = Application(make_config(data_dir=tmp_path / "data"), platforms=())
    assert app.registry.find("ask").spec.records == "question"  # type: ignore[union-attr]
    assert app.registry.find("actor").spec.records == "actor_lookup"  # type: ignore[union-attr]


# --- the scheduler --------------------------------------------------------------------


async def test_briefing_outcomes_are_recorded_on_time_late_and_skipped() -> None:
    store = InMemoryBriefings()
    telemetry = RecordingTelemetry()
    sub = subscribe(store)
    scheduler = make_scheduler(store, FakePublisher(), telemetry=telemetry)
    await scheduler.run_slot(sub.id, MONDAY_0800, now=MONDAY_0800)
    tuesday = MONDAY_0800 + timedelta(days=1)
    await scheduler.run_slot(sub.id, tuesday, now=tuesday + timedelta(minutes=30))
    wednesday = MONDAY_0800 + timedelta(days=2)
    await scheduler.run_slot(sub.id, wednesday, now=wednesday + timedelta(hours=3))
    assert telemetry.named("briefing") == [("sent",), ("late",), ("skipped",)]


async def test_a_flaky_channel_is_recorded_as_failed_then_paused() -> None:
    store = InMemoryBriefings()
    telemetry = RecordingTelemetry()
    sub = subscribe(store, "C-flaky")
    publisher = FakePublisher()
    publisher.flaky.add("C-flaky")
    scheduler = make_scheduler(store, publisher, max_failures=2, telemetry=telemetry)
    first = await scheduler.run_slot(sub.id, MONDAY_0800, now=MONDAY_0800)
    assert first.retry_at is not None
    await scheduler.run_slot(sub.id, MONDAY_0800, now=first.retry_at, reason=Reason.RETRY)
    assert telemetry.named("briefing") == [("failed",), ("paused",)]


async def test_a_deleted_channel_is_recorded_as_paused_at_once() -> None:
    store = InMemoryBriefings()
    telemetry = RecordingTelemetry()
    sub = subscribe(store, "C-deleted")
    scheduler = make_scheduler(
        store, FakePublisher(failing={"C-deleted"}), max_failures=2, telemetry=telemetry
    )
    await scheduler.run_slot(sub.id, MONDAY_0800, now=MONDAY_0800)
    assert telemetry.named("briefing") == [("paused",)]


async def test_the_subscription_gauge_follows_the_scheduled_jobs() -> None:
    store = InMemoryBriefings()
    telemetry = RecordingTelemetry()
    first = subscribe(store, "C-one")
    subscribe(store, "C-two")
    scheduler = make_scheduler(store, FakePublisher(), telemetry=telemetry)
    await scheduler.start(catch_up=False)
    try:
        assert telemetry.named("subscriptions")[-1] == (2,)
        scheduler.remove(first.id)
        assert telemetry.named("subscriptions")[-1] == (1,)
    finally:
        await scheduler.shutdown()


async def test_a_posted_briefing_is_logged_with_its_platform_channel_and_slot(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "bot.briefings.scheduler")
    store = InMemoryBriefings()
    sub = subscribe(store)
    await make_scheduler(store, FakePublisher()).run_slot(sub.id, MONDAY_0800, now=MONDAY_0800)
    [record] = [r for r in caplog.records if r.getMessage().endswith("posted")]
    fields = (record.platform, record.channel, record.slot)  # type: ignore[attr-defined]
    assert fields == ("slack", "C-general", MONDAY_0800.isoformat())


# --- the corpus -----------------------------------------------------------------------


def test_every_rescan_that_reads_the_folder_counts_as_a_success(corpus: Path) -> None:
    rescans: list[None] = []
    library = Library(corpus, on_rescan=lambda: rescans.append(None))
    library.load()
    library.refresh()  # nothing changed
    (corpus / "new.md").write_text("# Titre\n\nUn paragraphe.\n", encoding="utf-8")
    assert library.refresh()
    assert len(rescans) == 2


def test_a_rescan_of_a_vanished_folder_is_no_success(corpus: Path, tmp_path: Path) -> None:
    rescans: list[None] = []
    library = Library(corpus, on_rescan=lambda: rescans.append(None))
    library.load()
    corpus.rename(tmp_path / "elsewhere")
    assert not library.refresh()
    assert rescans == []


def test_building_the_search_index_reports_its_duration(corpus: Path) -> None:
    telemetry = RecordingTelemetry()
    derived = Derived(make_config(corpus=corpus).core, telemetry=telemetry)
    library = Library(corpus)
    derived.answerer.of(library.current)
    [(seconds,)] = telemetry.named("index_build_seconds")
    assert isinstance(seconds, float) and seconds > 0


def test_the_database_answers_select_1(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'ping.db'}")
    try:
        assert database.ping() is True
    finally:
        database.close()


# --- the adapters ---------------------------------------------------------------------


async def test_the_console_is_connected_from_start_to_stop(tmp_path: Path) -> None:
    telemetry = RecordingTelemetry()
    app = Application(make_config(data_dir=tmp_path / "data"), platforms=())
    console = ConsoleAdapter(
        app.registry, stdin=io.StringIO(""), stdout=io.StringIO(), telemetry=telemetry
    )
    await console.start()
    await console.stop()
    assert telemetry.named("adapter_connected") == [("console", True), ("console", False)]


async def test_discord_reports_each_gateway_connection_and_disconnection(tmp_path: Path) -> None:
    telemetry = RecordingTelemetry()
    config = discord_settings(tmp_path)
    fake = await FakeDiscord().start()
    base, discord.http.Route.BASE = discord.http.Route.BASE, fake.api_base
    adapter = DiscordAdapter(Application(config).registry, config.discord, telemetry=telemetry)
    try:
        await adapter.login()  # the client needs its loop to dispatch events
        for event in ("connect", "disconnect", "resumed"):
            adapter.client.dispatch(event)
        await settle()
    finally:
        await adapter.client.close()
        discord.http.Route.BASE = base
        await fake.stop()
    assert telemetry.named("adapter_connected")[:3] == [
        ("discord", True),
        ("discord", False),
        ("discord", True),
    ]


@pytest.mark.parametrize("socket_mode", [False, True], ids=["http", "socket-mode"])
async def test_slack_is_connected_from_start_to_stop(tmp_path: Path, socket_mode: bool) -> None:
    fake = await FakeSlack().start()
    telemetry = RecordingTelemetry()
    try:
        config = slack_settings(fake, tmp_path / "data", socket_mode=socket_mode)
        app = Application(config, platforms=("slack",))
        adapter = SlackAdapter(
            app.registry, config.slack, host="127.0.0.1", port=0, telemetry=telemetry
        )
        await adapter.start()
        await adapter.stop()
    finally:
        await fake.stop()
    assert telemetry.named("adapter_connected") == [("slack", True), ("slack", False)]


# --- the program ----------------------------------------------------------------------


async def test_ready_names_what_is_not_ready_until_the_bot_has_started(tmp_path: Path) -> None:
    app = Application(make_config(data_dir=tmp_path / "data", status_port=0), platforms=())
    assert app.status is not None
    before = await app.status.check()
    assert set(before.not_ready) == {"scheduler", "corpus"}
    await app.start()
    try:
        assert (await app.status.check()).ready
    finally:
        await app.stop()


async def test_ready_waits_for_every_configured_platform(tmp_path: Path) -> None:
    app = Application(make_config(data_dir=tmp_path / "data"), platforms=("slack", "discord"))
    probes = app.probes()
    app.telemetry.adapter_connected("slack", True)
    assert probes["slack"]() == (True, "connected")
    assert probes["discord"]() == (False, "not connected")


async def test_the_status_server_answers_from_start_to_stop(tmp_path: Path) -> None:
    app = Application(make_config(data_dir=tmp_path / "data", status_port=0), platforms=())
    assert app.status is not None
    await app.start()
    url = app.status.url
    try:
        async with aiohttp.ClientSession() as session, session.get(f"{url}/metrics") as reply:
            body = await reply.text()
        [articles] = [line for line in body.splitlines() if line.startswith("briefbot_articles ")]
        assert float(articles.split()[1]) > 0
    finally:
        await app.stop()
    with pytest.raises(RuntimeError):
        app.status.port  # noqa: B018 - stopped: no port any more


def test_no_status_server_unless_a_port_is_set(tmp_path: Path) -> None:
    app = Application(make_config(data_dir=tmp_path / "data"), platforms=())
    assert app.status is None


async def test_a_taken_status_port_is_a_configuration_error(tmp_path: Path) -> None:
    blocker = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = blocker.sockets[0].getsockname()[1]
    app = Application(make_config(data_dir=tmp_path / "data", status_port=port), platforms=())
    try:
        with pytest.raises(ConfigError, match="BRIEFBOT_STATUS_PORT"):
            await app.start()
    finally:
        await app.stop()
        blocker.close()
        await blocker.wait_closed()


# --- settings and logs ----------------------------------------------------------------


def test_the_status_endpoints_are_off_and_local_by_default(tmp_path: Path) -> None:
    settings = make_config(data_dir=tmp_path).core
    assert (settings.status_port, settings.status_host, settings.log_format) == (
        None,
        "127.0.0.1",
        "text",
    )


def test_an_unknown_log_format_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.settings import load_settings

    monkeypatch.setenv("BRIEFBOT_LOG_FORMAT", "xml")
    with pytest.raises(ConfigError, match="BRIEFBOT_LOG_FORMAT"):
        load_settings()


def test_the_cli_logs_json_and_redacts_the_configured_tokens(tmp_path: Path) -> None:
    secret = "discord-token-that-looks-like-nothing"
    config = make_config(data_dir=tmp_path, log_format="json", discord_token=secret)
    stream = io.StringIO()
    handler = cli._setup_logging(config, quiet=False, stream=stream)
    try:
        logging.getLogger("briefbot.test").warning("connecting with %s", secret)
    finally:
        logging.getLogger().removeHandler(handler)
    record = json.loads(stream.getvalue())
    assert record["message"] == "connecting with [redacted]"
