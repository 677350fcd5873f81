"""A real `briefbot run` process, watched from outside as an operator would: `/ready`,
`/metrics` and the JSON logs, with the console alone, against the local fake Slack in
Socket Mode and in HTTP mode, and against the local fake Discord's REST API and gateway."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import re
import shutil
import signal
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest

from bot.briefings.schedule_parsing import parse_options, parse_schedule
from bot.chat.context import ChannelRef
from bot.corpus.library import Library
from bot.storage.database import Database
from briefbot.derived import Derived
from tests.config import make_config
from tests.fakes.discord_api import TOKEN as DISCORD_TOKEN
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.slack_api import (
    APP_TOKEN,
    BOT_TOKEN,
    SIGNING_SECRET,
    TEAM,
    FakeSlack,
    form_body,
    post_signed,
    slash_command,
)

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
STARTUP_TIMEOUT = 90.0
TIMEOUT = 30.0  # the Slack SDK retries a refused connection every 10 seconds
STATUS_URL = re.compile(r"status endpoints on (http://127\.0\.0\.1:\d+)")


class BotProcess:
    """`python -m briefbot run` with its stderr collected line by line."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self._changed = asyncio.Condition()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stderr is not None
        async for raw in self.process.stderr:
            self.lines.append(raw.decode("utf-8").rstrip("\n"))
            async with self._changed:
                self._changed.notify_all()
        async with self._changed:  # end of output: waiters must give up now
            self._changed.notify_all()

    async def wait_line(self, pattern: re.Pattern[str], timeout: float) -> re.Match[str]:
        """The first stderr line matching `pattern`, once it is written."""

        def found() -> re.Match[str] | None:
            return next((m for line in self.lines if (m := pattern.search(line))), None)

        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: found() is not None or self._reader.done()),
                timeout,
            )
        match = found()
        assert match is not None, "\n".join(self.lines[-20:])
        return match

    async def stop(self) -> int:
        """SIGTERM, then the exit status once every stderr line is read."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.process.wait(), TIMEOUT)
        await asyncio.wait_for(self._reader, TIMEOUT)
        return code


async def start_bot(fake: FakeSlack | None, data_dir: Path, **env: str) -> BotProcess:
    """`briefbot run` on the seeds; with `fake`, on the fake Slack in Socket Mode (`env` may
    change the mode), without it on the console alone, reading a pipe."""
    slack = (
        {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN, "SLACK_API_URL": fake.api_url}
        if fake is not None
        else {}
    )
    environment = {
        **os.environ,
        **slack,
        "BRIEFBOT_STATUS_PORT": "0",
        "BRIEFBOT_CORPUS": str(SEEDS),
        "BRIEFBOT_CONFIG_DIR": str(ROOT / "config"),
        "BRIEFBOT_DATA_DIR": str(data_dir),
        **env,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "briefbot",
        "run",
        cwd=data_dir.parent,  # no developer .env is read
        env={k: v for k, v in environment.items() if v},
        stdin=asyncio.subprocess.PIPE if fake is None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    return BotProcess(process)


async def poll(
    session: aiohttp.ClientSession, url: str, until: Callable[[int, str], bool], timeout: float
) -> tuple[int, str]:
    """GET `url` until `until(status, body)` holds; the last answer, or TimeoutError."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            async with session.get(url) as response:
                answer = (response.status, await response.text())
            if until(*answer):
                return answer
        except aiohttp.ClientConnectionError:
            pass
        if loop.time() > deadline:
            raise TimeoutError(f"{url} never satisfied the condition")
        await asyncio.sleep(0.2)


def sample(metrics: str, name: str, **labels: str) -> float:
    """The value of one Prometheus sample, labels in any order."""
    for line in metrics.splitlines():
        if line.startswith("#"):
            continue
        series, _, value = line.rpartition(" ")
        metric, _, raw_labels = series.partition("{")
        found = dict(re.findall(r'(\w+)="([^"]*)"', raw_labels))
        if metric == name and found == labels:
            return float(value)
    raise KeyError(f"{name}{labels} not in the scrape")


def is_ready(status: int, body: str) -> bool:
    return status == 200


@pytest.fixture(scope="module")
def actor_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeds' actor discovery, run once: each bot starts from a copy of its cache rather
    than loading spaCy again (most of a cold start)."""
    data = tmp_path_factory.mktemp("actor-cache")
    settings = make_config(corpus=SEEDS, data_dir=data, config_dir=ROOT / "config").core
    Derived(settings).directory.of(Library(SEEDS).current)
    return data / "actors"


@pytest.fixture
def data_dir(tmp_path: Path, actor_cache: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(actor_cache, folder / "actors")
    return folder


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    slack = await FakeSlack().start()
    yield slack
    await slack.stop()


@pytest.fixture
async def discord_fake() -> AsyncIterator[FakeDiscord]:
    fake = await FakeDiscord().start()
    yield fake
    await fake.stop()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as client:
        yield client


@pytest.fixture
async def bot(fake: FakeSlack, data_dir: Path) -> AsyncIterator[tuple[BotProcess, str]]:
    process = await start_bot(fake, data_dir)
    try:
        url = (await process.wait_line(STATUS_URL, STARTUP_TIMEOUT)).group(1)
        yield process, url
    finally:
        await process.stop()


async def test_ready_turns_503_when_slack_drops_the_connection_and_200_after_reconnecting(
    bot: tuple[BotProcess, str], fake: FakeSlack, session: aiohttp.ClientSession
) -> None:
    _, url = bot
    await poll(session, f"{url}/ready", is_ready, STARTUP_TIMEOUT)

    await fake.drop(refuse=True)
    _, body = await poll(session, f"{url}/ready", lambda s, _: s == 503, TIMEOUT)
    assert json.loads(body)["not_ready"] == ["slack"]

    fake.accept()
    _, body = await poll(session, f"{url}/ready", is_ready, TIMEOUT)
    assert json.loads(body)["ready"] is True
    assert fake.connections == 2


async def test_metrics_count_an_ask_answered_on_slack(
    bot: tuple[BotProcess, str], fake: FakeSlack, session: aiohttp.ClientSession
) -> None:
    _, url = bot
    await poll(session, f"{url}/ready", is_ready, STARTUP_TIMEOUT)
    reply_to = fake.response_url("ops-ask")
    envelope = await fake.send_envelope(
        "slash_commands", slash_command("/ask", "Qui est Molly Phee ?", response_url=reply_to)
    )
    await fake.wait_ack(envelope)
    await fake.wait_for("response_url", key="ops-ask", timeout=TIMEOUT)

    _, metrics = await poll(session, f"{url}/metrics", lambda s, _: s == 200, TIMEOUT)

    answered = {"platform": "slack", "outcome": "answered"}
    assert sample(metrics, "briefbot_questions_total", **answered) == 1.0
    assert sample(metrics, "briefbot_answer_seconds_count", platform="slack") == 1.0
    assert sample(metrics, "briefbot_adapter_connected", platform="slack") == 1.0


async def test_metrics_count_a_briefing_missed_while_the_bot_was_down(
    fake: FakeSlack, data_dir: Path, session: aiohttp.ClientSession
) -> None:
    now = dt.datetime.now(dt.UTC)
    slot = now - dt.timedelta(minutes=10)  # within the grace period: posted late at start
    database = Database(f"sqlite:///{data_dir / 'briefbot.db'}")
    spec = parse_schedule(parse_options(f'cron="{slot:%M %H} * * *" tz=UTC mode=full'))
    database.subscriptions.save(
        ChannelRef("slack", TEAM, "CGENERAL"), spec, created_by="UALICE", now=now - dt.timedelta(2)
    )
    database.close()

    process = await start_bot(fake, data_dir)
    try:
        url = (await process.wait_line(STATUS_URL, STARTUP_TIMEOUT)).group(1)
        [post] = await fake.wait_for("chat.postMessage", timeout=STARTUP_TIMEOUT)
        _, metrics = await poll(
            session,
            f"{url}/metrics",
            lambda _, body: 'briefbot_briefings_total{outcome="late"} 1.0' in body,
            TIMEOUT,
        )
    finally:
        await process.stop()

    assert post.body["channel"] == "CGENERAL"
    assert sample(metrics, "briefbot_briefings_total", outcome="sent") == 0.0
    assert sample(metrics, "briefbot_subscriptions") == 1.0


async def test_json_logs_are_one_object_per_line_without_any_token(
    fake: FakeSlack, data_dir: Path, session: aiohttp.ClientSession
) -> None:
    process = await start_bot(
        fake, data_dir, BRIEFBOT_LOG_FORMAT="json", BRIEFBOT_LOG_LEVEL="DEBUG"
    )
    try:
        url = (await process.wait_line(STATUS_URL, STARTUP_TIMEOUT)).group(1)
        await poll(session, f"{url}/ready", is_ready, STARTUP_TIMEOUT)
        await fake.drop(refuse=False)  # a reconnection logs what it connects to
        await poll(session, f"{url}/ready", lambda s, _: fake.connections == 2, TIMEOUT)
    finally:
        assert await process.stop() == 0

    records = [json.loads(line) for line in process.lines]
    assert {"timestamp", "level", "logger", "message"} <= set(records[0])
    assert any(r["message"].startswith("status endpoints on") for r in records)
    text = "\n".join(process.lines)
    assert BOT_TOKEN not in text
    assert APP_TOKEN not in text


async def test_with_slack_and_discord_ready_names_discord_while_its_gateway_is_down(
    fake: FakeSlack,
    discord_fake: FakeDiscord,
    data_dir: Path,
    session: aiohttp.ClientSession,
) -> None:
    process = await start_bot(
        fake,
        data_dir,
        DISCORD_TOKEN=DISCORD_TOKEN,
        DISCORD_API_URL=discord_fake.api_base,
        DISCORD_GATEWAY_URL=discord_fake.gateway_url,
    )
    try:
        url = (await process.wait_line(STATUS_URL, STARTUP_TIMEOUT)).group(1)
        await poll(session, f"{url}/ready", is_ready, STARTUP_TIMEOUT)

        await discord_fake.drop(refuse=True)
        _, body = await poll(session, f"{url}/ready", lambda s, _: s == 503, TIMEOUT)
        assert json.loads(body)["not_ready"] == ["discord"]

        discord_fake.accept()
        await poll(session, f"{url}/ready", is_ready, TIMEOUT)
    finally:
        assert await process.stop() == 0
    assert discord_fake.gateway_sessions == ["identify", "resume"]


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_the_console_alone_is_ready_and_counts_its_questions(
    data_dir: Path, session: aiohttp.ClientSession
) -> None:
    process = await start_bot(None, data_dir)
    try:
        url = (await process.wait_line(STATUS_URL, STARTUP_TIMEOUT)).group(1)
        _, body = await poll(session, f"{url}/ready", is_ready, STARTUP_TIMEOUT)
        assert set(json.loads(body)["probes"]) == {"console", "scheduler", "database", "corpus"}
        assert process.process.stdin is not None
        process.process.stdin.write(b"Qui est Molly Phee ?\n")
        await process.process.stdin.drain()
        await poll(  # the series appears with the first question
            session,
            f"{url}/metrics",
            lambda _, text: (
                'briefbot_questions_total{outcome="answered",platform="console"}' in text
                or 'platform="console",outcome="answered"' in text
            ),
            TIMEOUT,
        )
        answered = {"platform": "console", "outcome": "answered"}
        await poll(
            session,
            f"{url}/metrics",
            lambda _, text: sample(text, "briefbot_questions_total", **answered) == 1.0,
            TIMEOUT,
        )
        process.process.stdin.close()  # end of input ends the console, and the bot
        assert await asyncio.wait_for(process.process.wait(), TIMEOUT) == 0
    finally:
        await process.stop()


async def test_slack_in_http_mode_is_ready_while_listening_and_counts_an_ask(
    fake: FakeSlack, data_dir: Path, session: aiohttp.ClientSession
) -> None:
    port = free_port()
    process = await start_bot(
        fake,
        data_dir,
        SLACK_APP_TOKEN="",  # no app token: HTTP mode
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        BRIEFBOT_SLACK_HOST="127.0.0.1",
        BRIEFBOT_SLACK_PORT=str(port),
    )
    try:
        url = (await process.wait_line(STATUS_URL, STARTUP_TIMEOUT)).group(1)
        await poll(session, f"{url}/ready", is_ready, STARTUP_TIMEOUT)
        reply_to = fake.response_url("http-ask")
        command = slash_command("/ask", "Qui est Molly Phee ?", response_url=reply_to)
        status, _ = await post_signed(
            session,
            f"http://127.0.0.1:{port}/slack/events",
            form_body(command),
            content_type="application/x-www-form-urlencoded",
        )
        assert status == 200
        await fake.wait_for("response_url", key="http-ask", timeout=TIMEOUT)
        answered = {"platform": "slack", "outcome": "answered"}
        _, metrics = await poll(
            session,
            f"{url}/metrics",
            lambda _, text: (
                'outcome="answered"' in text
                and sample(text, "briefbot_questions_total", **answered) == 1.0
            ),
            TIMEOUT,
        )
        assert sample(metrics, "briefbot_adapter_connected", platform="slack") == 1.0
    finally:
        assert await process.stop() == 0
