"""The bot's Discord adapter running against the fake Discord, as the tests drive it.

`running_discord()` starts the fake, points discord.py's HTTP at it
(`discord.http.Route.BASE`), loads the application core (`Application.load()`: the
same registry that `briefbot run` serves) and logs the adapter's client in over REST.
Events are then fed through the client's own gateway parsers (`parse_interaction_create`,
`parse_message_create`), so discord.py's `CommandTree`, views and event dispatch handle
them exactly as they would from the gateway; no websocket is needed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord

from adapters.discord.bot import DiscordAdapter
from briefbot.app import Application
from briefbot.settings import Config
from tests.config import make_config
from tests.fakes.discord_api import (
    GUILD_ID,
    TOKEN,
    Call,
    Caller,
    FakeDiscord,
    command_data,
    guild_create,
    interaction_payload,
    message_create,
    settle,
)

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"

APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
AUTOCOMPLETE = 4


@dataclass
class Exchange:
    """What the bot sent about one interaction: the callback, then the webhook calls."""

    token: str
    calls: list[Call]

    @property
    def callback(self) -> dict[str, Any]:
        return next(c.json for c in self.calls if c.path.endswith("/callback"))

    @property
    def followups(self) -> list[Call]:
        return [c for c in self.calls if c.path.startswith("/webhooks/")]

    def messages(self) -> list[dict[str, Any]]:
        """Every message payload sent: the callback's data (type 4), the @original edit
        and the follow-ups, in order."""
        out: list[dict[str, Any]] = []
        for call in self.calls:
            if call.path.endswith("/callback") and call.json.get("type") == 4:
                out.append(call.json["data"])
            elif call.method in ("PATCH", "POST") and call.path.startswith("/webhooks/"):
                out.append(call.json)
        return out


@dataclass
class DiscordHarness:
    fake: FakeDiscord
    app: Application
    adapter: DiscordAdapter
    config: Config

    @property
    def client(self) -> discord.Client:
        return self.adapter.client

    async def interact(self, payload: dict[str, Any]) -> Exchange:
        self.client._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
        await settle()
        return Exchange(payload["token"], self.fake.for_interaction(payload["token"]))

    async def slash(
        self,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        sub: str | None = None,
        caller: Caller | None = None,
        dm: bool = False,
        channel: dict[str, Any] | None = None,
    ) -> Exchange:
        data = command_data(name, options, sub=sub)
        return await self.interact(
            interaction_payload(
                self.fake, APPLICATION_COMMAND, data, caller=caller, dm=dm, channel=channel
            )
        )

    async def autocomplete(
        self,
        name: str,
        options: dict[str, Any],
        focused: str,
        *,
        sub: str | None = None,
    ) -> list[dict[str, Any]]:
        data = command_data(name, options, sub=sub, focused=focused)
        exchange = await self.interact(interaction_payload(self.fake, AUTOCOMPLETE, data))
        callback = exchange.callback
        assert callback["type"] == 8
        return callback["data"]["choices"]

    async def click(
        self, custom_id: str, message: dict[str, Any], *, caller: Caller | None = None
    ) -> Exchange:
        data = {"custom_id": custom_id, "component_type": 2}
        return await self.interact(
            interaction_payload(self.fake, MESSAGE_COMPONENT, data, caller=caller, message=message)
        )

    async def message(self, content: str, **kwargs: Any) -> list[Call]:
        """Feed a MESSAGE_CREATE; returns the calls the bot made in reply."""
        before = len(self.fake.calls)
        self.client._connection.parse_message_create(message_create(content, **kwargs))  # type: ignore[arg-type]
        await settle()
        return self.fake.calls[before:]


def discord_settings(tmp_path: Path, **overrides: Any) -> Config:
    """Settings for one test: its own database in `tmp_path`, and a data directory shared
    by the session so that the actors' entity cache (spaCy's work) is computed once."""
    shared = tmp_path.parent / "discord-shared-data"
    values: dict[str, Any] = {
        "corpus": SEEDS,
        "data_dir": shared,
        "database_url": f"sqlite:///{tmp_path / 'briefbot.db'}",
        "discord_token": TOKEN,
    }
    values.update(overrides)
    return make_config(**values)


@asynccontextmanager
async def running_discord(
    config: Config,
    *,
    defer_after: float = 60.0,
    with_guild: bool = True,
    handlers: Sequence[object] = (),
) -> AsyncIterator[DiscordHarness]:
    """`defer_after` is long by default so that fast commands answer directly whatever the
    machine's speed; tests of the deferral fallback set it to 0."""
    fake = await FakeDiscord().start()
    base = discord.http.Route.BASE
    discord.http.Route.BASE = fake.api_base
    try:
        app = Application(config, platforms=("discord",), handlers=handlers)
        app.load()
        app.library.settle(60)  # actors and timeline, derived in the background
        adapter = DiscordAdapter(app.registry, config.discord, defer_after=defer_after)
        await adapter.login()
        if with_guild:
            adapter.client._connection.parse_guild_create(guild_create())  # type: ignore[arg-type]
            await settle()
        try:
            yield DiscordHarness(fake, app, adapter, config)
        finally:
            await adapter.stop()
    finally:
        discord.http.Route.BASE = base
        await fake.stop()


__all__ = ["GUILD_ID", "DiscordHarness", "Exchange", "discord_settings", "running_discord"]
