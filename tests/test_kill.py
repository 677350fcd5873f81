"""Real `briefbot run` processes killed with SIGKILL at the claim, before the post and after
the post (before it is recorded), against the local fake Slack: every slot a process
claimed ends up posted exactly once, or recorded as skipped with its reason.

Test-only settings make it quick: every subscription is due every `SLOT_SECONDS`
(`BRIEFBOT_TEST_SLOT_SECONDS`), a claim's lease is 2 s, processes sync every second, and
`BRIEFBOT_TEST_PAUSE_AT` makes a process write a marker file at the chosen point and wait
there to be killed. `BRIEFBOT_KILL_ROUNDS` (default 2) is the number of kills per point.

Slots missed while no process ran coalesce into the latest one (the README's rule), so
"slots" counts the slots some process claimed, i.e. those with a delivery row.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.briefings.schedule_parsing import parse_options, parse_schedule
from bot.briefings.scheduler import slot_key
from bot.briefings.subscription import SENT, SKIPPED
from bot.chat.context import ChannelRef
from bot.storage.database import Database
from tests.conftest import ROOT, SEEDS
from tests.fakes.slack_api import APP_TOKEN, BOT_TOKEN, TEAM, FakeSlack

pytestmark = pytest.mark.slow

SLOT_SECONDS = 3
CHANNELS = ("CKILL1", "CKILL2")
POINTS = ("claim", "post", "mark")
ROUNDS = int(os.environ.get("BRIEFBOT_KILL_ROUNDS", "2"))


@dataclass
class Tally:
    kills: int
    slots: int
    lost: list[str]
    doubled: list[str]


class Bots:
    """Starts and kills `briefbot run` processes sharing one data directory and database."""

    def __init__(self, fake: FakeSlack, tmp: Path, db_url: str) -> None:
        self.fake, self.tmp, self.db_url = fake, tmp, db_url
        self.markers = tmp / "markers"
        self.markers.mkdir()
        self.started = 0
        self.processes: list[asyncio.subprocess.Process] = []

    def env(self, pause_at: str = "") -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BRIEFBOT_", "SLACK_"))}
        no_settings = self.tmp / "kill-test.toml"  # an explicitly named file must exist
        no_settings.write_text("", encoding="utf-8")
        env.update(
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_APP_TOKEN=APP_TOKEN,
            SLACK_API_URL=self.fake.api_url,
            BRIEFBOT_DATA_DIR=str(self.tmp / "data"),
            BRIEFBOT_CORPUS=str(SEEDS),
            BRIEFBOT_DATABASE_URL=self.db_url,
            BRIEFBOT_CONFIG_FILE=str(no_settings),
            BRIEFBOT_TEST_SLOT_SECONDS=str(SLOT_SECONDS),
            BRIEFBOT_BRIEFING_LEASE_SECONDS="2",
            BRIEFBOT_BRIEFING_SYNC_SECONDS="1",
            BRIEFBOT_BRIEFING_GRACE_SECONDS="300",
            BRIEFBOT_RESCAN_SECONDS="60",
            BRIEFBOT_TEST_MARKER_DIR=str(self.markers),
            BRIEFBOT_TEST_PAUSE_AT=pause_at,
            NO_PROXY="127.0.0.1",
        )
        return env

    async def start(self, pause_at: str = "") -> asyncio.subprocess.Process:
        self.started += 1
        log = open(self.tmp / f"bot-{self.started}.log", "wb")  # noqa: SIM115 - kept by the child
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "briefbot",
            "run",
            cwd=ROOT,
            env=self.env(pause_at),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
        self.processes.append(process)
        return process

    async def kill_all(self) -> None:
        """No process outlives its test, whatever failed."""
        for process in self.processes:
            if process.returncode is None:
                process.send_signal(signal.SIGKILL)
                await process.wait()

    async def kill_at(self, point: str, timeout: float = 90.0) -> None:
        """Start a process that stops at `point`, and SIGKILL it there."""
        before = set(self.markers.iterdir())
        process = await self.start(pause_at=point)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not any(m.name.startswith(point) for m in set(self.markers.iterdir()) - before):
            assert process.returncode is None, "the bot died by itself: see bot-*.log"
            assert loop.time() < deadline, f"no slot reached {point!r}"
            await asyncio.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        await process.wait()

    async def stop(self, process: asyncio.subprocess.Process) -> float:
        """SIGTERM, then SIGKILL if it has not stopped within a minute; how long it took."""
        loop = asyncio.get_running_loop()
        began = loop.time()
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 60)
        except TimeoutError:
            process.send_signal(signal.SIGKILL)
            await process.wait()
            raise
        return loop.time() - began


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    slack = await FakeSlack().start()
    yield slack
    await slack.stop()


@pytest.fixture
async def make_bots(fake: FakeSlack, tmp_path: Path) -> AsyncIterator[Callable[[str], Bots]]:
    made: list[Bots] = []

    def make(db_url: str) -> Bots:
        made.append(Bots(fake, tmp_path, db_url))
        return made[-1]

    yield make
    for bots in made:
        await bots.kill_all()


def subscribe_channels(db_url: str) -> dict[int, str]:
    db = Database(db_url)
    try:
        spec = parse_schedule(parse_options("at=08:00 mode=full empty=notify"))
        now = datetime.now(UTC) - timedelta(seconds=1)
        subs = [
            db.subscriptions.save(ChannelRef("slack", TEAM, c), spec, created_by="U1", now=now)
            for c in CHANNELS
        ]
        return {r.subscription.id: r.subscription.channel for r in subs}
    finally:
        db.close()


def tally(fake: FakeSlack, db_url: str, channels: dict[int, str], kills: int) -> Tally:
    """Every claimed slot: posted once per message and recorded sent, or skipped unposted."""
    posted: Counter[tuple[str, int]] = Counter()
    for channel in channels.values():
        for message in fake.posts_in(channel):
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            posted[payload.get("slot"), payload.get("part")] += 1
    lost: list[str] = []
    slots = 0
    db = Database(db_url)
    try:
        for sub_id in channels:
            for delivery in db.deliveries.for_subscription(sub_id):
                slots += 1
                key = slot_key(sub_id, delivery.scheduled_for)
                first = posted[key, 0]
                if delivery.status == SENT and first == 0:
                    lost.append(f"{key} recorded sent, never posted")
                elif delivery.status == SKIPPED and first and delivery.note != "rien de nouveau":
                    lost.append(f"{key} posted, yet recorded skipped ({delivery.note})")
                elif delivery.status not in (SENT, SKIPPED):
                    lost.append(f"{key} left {delivery.status}")
    finally:
        db.close()
    doubled = [f"{key} part {part}: {n} posts" for (key, part), n in posted.items() if n > 1]
    return Tally(kills, slots, lost, doubled)


def kill_plan() -> Iterator[str]:
    for _ in range(ROUNDS):
        yield from POINTS


async def settle(bots: Bots, *, seconds: float) -> None:
    """A clean process runs long enough to take over every expired claim, then stops."""
    survivor = await bots.start()
    await asyncio.sleep(seconds)
    await bots.stop(survivor)


async def test_a_killed_bot_loses_and_doubles_no_briefing_on_sqlite(
    fake: FakeSlack, tmp_path: Path, make_bots: Callable[[str], Bots]
) -> None:
    db_url = f"sqlite:///{tmp_path / 'data' / 'briefbot.db'}"
    channels = subscribe_channels(db_url)
    bots = make_bots(db_url)
    kills = 0
    for point in kill_plan():
        await bots.kill_at(point)
        kills += 1
    await settle(bots, seconds=2 * SLOT_SECONDS + 3)

    result = tally(fake, db_url, channels, kills)
    print(f"sqlite: {result.kills} kills, {result.slots} slots, lost {result.lost}, "
          f"doubled {result.doubled}")  # fmt: skip
    assert (result.lost, result.doubled) == ([], [])
    assert result.kills == len(POINTS) * ROUNDS and result.slots >= 1


async def test_two_bots_on_postgresql_lose_and_double_no_briefing_when_one_is_killed(
    fake: FakeSlack, db_url: str, make_bots: Callable[[str], Bots]
) -> None:
    if db_url.startswith("sqlite"):
        pytest.skip("set BRIEFBOT_TEST_POSTGRES_URL: two processes on one database")
    channels = subscribe_channels(db_url)
    bots = make_bots(db_url)
    peer = await bots.start()  # alive throughout: it takes over what the killed one held
    kills = 0
    try:
        for point in kill_plan():
            await bots.kill_at(point)
            kills += 1
        await asyncio.sleep(2 * SLOT_SECONDS + 3)
    finally:
        await bots.stop(peer)

    result = tally(fake, db_url, channels, kills)
    print(f"postgresql: {result.kills} kills, {result.slots} slots, lost {result.lost}, "
          f"doubled {result.doubled}")  # fmt: skip
    assert (result.lost, result.doubled) == ([], [])
    assert result.kills == len(POINTS) * ROUNDS and result.slots >= 1
