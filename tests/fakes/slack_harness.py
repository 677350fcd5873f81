"""The bot's Slack adapter running against the fake Slack, as tests and the benchmark use it.

`running_slack()` starts the fake, the application core (`Application.load()`, the
same registry that `briefbot run` serves) and the adapter pointed at the fake through
`SLACK_API_URL`; the harness then sends what Slack would send, over real sockets.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from adapters.slack.app import SlackAdapter
from briefbot.app import Application
from briefbot.settings import Config
from tests.config import make_config
from tests.fakes.slack_api import (
    APP_TOKEN,
    BOT_TOKEN,
    SIGNING_SECRET,
    Call,
    FakeSlack,
    block_action,
    form_body,
    post_signed,
    slash_command,
)

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"


@dataclass
class SlackHarness:
    fake: FakeSlack
    app: Application
    adapter: SlackAdapter
    config: Config
    session: aiohttp.ClientSession
    sleeps: list[float] = field(default_factory=list)
    _keys: itertools.count = field(default_factory=lambda: itertools.count(1))

    @property
    def events_url(self) -> str:
        return f"http://127.0.0.1:{self.adapter.port}/slack/events"

    def new_key(self, prefix: str = "cmd") -> str:
        return f"{prefix}-{next(self._keys)}"

    async def command(
        self, command: str, text: str = "", *, key: str | None = None, **fields: str
    ) -> tuple[int, str, str]:
        """A signed slash command over HTTP: (status, ack body, response_url key)."""
        key = key or self.new_key()
        payload = slash_command(command, text, response_url=self.fake.response_url(key), **fields)
        status, body = await post_signed(
            self.session,
            self.events_url,
            form_body(payload),
            content_type="application/x-www-form-urlencoded",
        )
        return status, body, key

    async def event(self, payload: dict[str, Any]) -> int:
        status, _ = await post_signed(
            self.session, self.events_url, json.dumps(payload), content_type="application/json"
        )
        return status

    async def click(self, action_id: str, value: str, **fields: Any) -> tuple[int, str]:
        """A signed button click (block_actions); returns (status, response_url key)."""
        key = self.new_key("click")
        payload = block_action(action_id, value, response_url=self.fake.response_url(key), **fields)
        status, _ = await post_signed(
            self.session,
            self.events_url,
            form_body({"payload": json.dumps(payload)}),
            content_type="application/x-www-form-urlencoded",
        )
        return status, key

    async def responses(self, key: str, count: int = 1) -> list[dict[str, Any]]:
        """The first `count` bodies posted to the response_url `key`."""
        calls = await self.fake.wait_for("response_url", count, key=key)
        return [c.body for c in calls]

    async def posts(self, count: int = 1, method: str = "chat.postMessage") -> list[Call]:
        return await self.fake.wait_for(method, count)


def slack_settings(
    fake: FakeSlack, data_dir: Path, *, socket_mode: bool = False, **overrides: Any
) -> Config:
    values: dict[str, Any] = {
        "corpus": SEEDS,
        "data_dir": data_dir,
        "slack_bot_token": BOT_TOKEN,
        "slack_api_url": fake.api_url,
    }
    if socket_mode:
        values["slack_app_token"] = APP_TOKEN
    else:
        values["slack_signing_secret"] = SIGNING_SECRET
    values.update(overrides)
    return make_config(**values)


@asynccontextmanager
async def running_slack(
    data_dir: Path,
    *,
    socket_mode: bool = False,
    handlers: Sequence[object] = (),
    **overrides: Any,
) -> AsyncIterator[SlackHarness]:
    fake = await FakeSlack().start()
    sleeps: list[float] = []

    async def record_sleep(seconds: float) -> None:  # Retry-After waits, without waiting
        sleeps.append(seconds)

    try:
        config = slack_settings(fake, data_dir, socket_mode=socket_mode, **overrides)
        app = Application(config, platforms=("slack",), handlers=handlers)
        app.load()
        app.library.settle(60)  # actors and timeline, derived in the background
        adapter = SlackAdapter(
            app.registry, config.slack, host="127.0.0.1", port=0, sleep=record_sleep
        )
        await adapter.start()
        try:
            # no client-side connection cap: a burst must reach the app all at once
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
                yield SlackHarness(fake, app, adapter, config, session, sleeps)
        finally:
            await adapter.stop()
    finally:
        await fake.stop()
