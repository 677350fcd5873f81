"""Setting the bot up: the command schema it registers, its intents and sharding, the
invite link, command sync, and how a refused token is reported."""

from __future__ import annotations

import base64
import logging
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import discord
import pytest

from adapters.discord.bot import DiscordAdapter
from adapters.discord.invite import (
    BOT_PERMISSIONS,
    BOT_PERMISSIONS_VALUE,
    application_id_from_token,
    discord_invite_url,
)
from briefbot.app import Application
from tests.fakes.discord_api import APPLICATION_ID, GUILD_ID, FakeDiscord
from tests.fakes.discord_harness import discord_settings, running_discord

NAME = re.compile(r"^[-_a-z0-9]{1,32}$")  # Discord's rule, for the ASCII names we use
COMMANDS_PATH = f"/applications/{APPLICATION_ID}/commands"
GUILD_COMMANDS_PATH = f"/applications/{APPLICATION_ID}/guilds/{GUILD_ID}/commands"


def adapter_for(tmp_path: Path, **overrides: Any) -> DiscordAdapter:
    config = discord_settings(tmp_path, **overrides)
    return DiscordAdapter(Application(config).registry, config.discord)


async def uploaded(tmp_path: Path, **overrides: Any) -> tuple[FakeDiscord, list[dict[str, Any]]]:
    """What `tree.sync()` sends to Discord, as the fake received it."""
    async with running_discord(discord_settings(tmp_path, **overrides)) as bot:
        await bot.adapter.sync_commands()
        return bot.fake, bot.fake.calls_to("PUT", r"/applications/.*")[-1].json


def chars(command: dict[str, Any]) -> int:
    """Discord's 4,000-character budget: names, descriptions, choices, all levels."""
    total = len(command["name"]) + len(command.get("description", ""))
    for choice in command.get("choices", []):
        total += len(choice["name"]) + len(str(choice["value"]))
    return total + sum(chars(option) for option in command.get("options", []))


def walk(options: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for option in options:
        out.append(option)
        out.extend(walk(option.get("options", [])))
    return out


# --- the schema -----------------------------------------------------------------------------


async def test_the_bot_registers_its_commands_globally(tmp_path: Path) -> None:
    fake, commands = await uploaded(tmp_path)
    assert fake.calls_to("PUT", COMMANDS_PATH)
    names = {c["name"] for c in commands}
    assert names == {
        "ask", "actor", "actors", "briefing", "timeline", "source", "status", "help",
    }  # fmt: skip


async def test_with_a_development_guild_commands_go_to_that_guild_only(tmp_path: Path) -> None:
    fake, commands = await uploaded(tmp_path, discord_guild_id=GUILD_ID)
    assert fake.calls_to("PUT", GUILD_COMMANDS_PATH)
    assert not fake.calls_to("PUT", COMMANDS_PATH)
    assert "ask" in {c["name"] for c in commands}


async def test_every_name_description_and_option_is_within_discord_limits(
    tmp_path: Path,
) -> None:
    _, commands = await uploaded(tmp_path)
    assert len(commands) <= 100
    for command in commands:
        assert chars(command) <= 4000
        for item in [command, *walk(command["options"])]:
            assert NAME.match(item["name"]), item["name"]
            assert 1 <= len(item["description"]) <= 100, item["name"]
            assert len(item.get("options", [])) <= 25
            assert len(item.get("choices", [])) <= 25
            assert all(1 <= len(c["name"]) <= 100 for c in item.get("choices", []))
            assert not (item.get("choices") and item.get("autocomplete"))
            assert item.get("max_length", 0) <= 6000
            required = [o.get("required", False) for o in item.get("options", [])]
            assert required == sorted(required, reverse=True)  # required options first


async def test_ask_takes_one_required_question_as_long_as_the_core_allows(
    tmp_path: Path,
) -> None:
    _, commands = await uploaded(tmp_path, max_question_chars=800)
    ask = next(c for c in commands if c["name"] == "ask")
    (question,) = ask["options"]
    assert question["name"] == "question"
    assert question["type"] == 3
    assert question["required"] is True
    assert (question["min_length"], question["max_length"]) == (1, 800)


async def test_actor_names_are_autocompleted(tmp_path: Path) -> None:
    _, commands = await uploaded(tmp_path)
    actor = next(c for c in commands if c["name"] == "actor")
    (name,) = actor["options"]
    assert name["autocomplete"] is True and name["required"] is True


async def test_briefing_is_a_group_of_five_subcommands(tmp_path: Path) -> None:
    _, commands = await uploaded(tmp_path)
    briefing = next(c for c in commands if c["name"] == "briefing")
    subcommands = {o["name"]: o for o in briefing["options"]}
    assert list(subcommands) == ["subscribe", "unsubscribe", "list", "now", "preview"]
    assert all(o["type"] == 1 for o in subcommands.values())
    options = {o["name"]: o for o in subcommands["subscribe"]["options"]}
    assert list(options) == ["at", "days", "tz", "mode", "empty", "cron"]
    assert not any(o["required"] for o in options.values())
    assert options["tz"]["autocomplete"] is True
    assert [c["value"] for c in options["mode"]["choices"]] == ["new", "full"]


async def test_briefing_declares_manage_channels_as_its_default_permission(
    tmp_path: Path,
) -> None:
    _, commands = await uploaded(tmp_path)
    by_name = {c["name"]: c for c in commands}
    assert by_name["briefing"]["default_member_permissions"] == 16  # MANAGE_CHANNELS
    assert all(by_name[n]["default_member_permissions"] is None for n in ("ask", "actor"))


async def test_commands_are_synced_once_however_often_the_gateway_reconnects(
    tmp_path: Path,
) -> None:
    async with running_discord(discord_settings(tmp_path)) as bot:
        await bot.adapter.on_ready()
        await bot.adapter.on_ready()  # READY again after a reconnection
        assert len(bot.fake.calls_to("PUT", COMMANDS_PATH)) == 1


async def test_a_refused_sync_says_how_to_fix_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_discord(discord_settings(tmp_path)) as bot:
        bot.fake.fail("PUT", COMMANDS_PATH, 403, code=50001)
        await bot.adapter.on_ready()
    assert "applications.commands" in caplog.text


# --- client configuration -------------------------------------------------------------------


def test_the_bot_asks_for_no_privileged_intent(tmp_path: Path) -> None:
    intents = adapter_for(tmp_path).client.intents
    assert not (intents.members or intents.presences or intents.message_content)
    assert intents.guilds and intents.guild_messages and intents.dm_messages


def test_the_client_never_allows_mentions_by_default(tmp_path: Path) -> None:
    mentions = adapter_for(tmp_path).client.allowed_mentions
    assert mentions is not None and mentions.to_dict() == {"parse": []}


def test_one_process_runs_one_shard_by_default(tmp_path: Path) -> None:
    assert type(adapter_for(tmp_path).client) is discord.Client


def test_auto_sharding_when_asked(tmp_path: Path) -> None:
    client = adapter_for(tmp_path, discord_shards="auto").client
    assert isinstance(client, discord.AutoShardedClient)
    assert client.shard_count is None  # Discord's recommendation, asked at login


def test_a_fixed_number_of_shards(tmp_path: Path) -> None:
    client = adapter_for(tmp_path, discord_shards="3").client
    assert isinstance(client, discord.AutoShardedClient)
    assert client.shard_count == 3


# --- invite link ----------------------------------------------------------------------------


def test_the_invite_link_has_exactly_the_scopes_and_permissions_needed() -> None:
    url = discord_invite_url(APPLICATION_ID)
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "discord.com", "/oauth2/authorize")
    assert query == {
        "client_id": [str(APPLICATION_ID)],
        "scope": ["bot applications.commands"],
        "permissions": [str(BOT_PERMISSIONS_VALUE)],
    }


def test_the_bot_asks_only_to_read_and_write_messages_with_embeds() -> None:
    needed = discord.Permissions(
        view_channel=True,
        send_messages=True,
        send_messages_in_threads=True,
        embed_links=True,
        read_message_history=True,
    )
    assert needed == BOT_PERMISSIONS
    assert not BOT_PERMISSIONS.mention_everyone
    assert not (BOT_PERMISSIONS.administrator or BOT_PERMISSIONS.manage_channels)
    assert BOT_PERMISSIONS_VALUE == 274877991936


def test_the_application_id_can_be_read_from_the_bot_token() -> None:
    head = base64.b64encode(str(APPLICATION_ID).encode()).decode().rstrip("=")
    assert application_id_from_token(f"{head}.GxYz12.signature-part") == APPLICATION_ID
    assert application_id_from_token("not a token") is None
    assert application_id_from_token("") is None


# --- start-up -------------------------------------------------------------------------------


async def test_a_refused_token_stops_the_adapter_with_a_clear_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake = await FakeDiscord(token="the-real-token").start()  # our token is not this one
    base = discord.http.Route.BASE
    discord.http.Route.BASE = fake.api_base
    try:
        adapter = adapter_for(tmp_path)
        with caplog.at_level(logging.ERROR):
            await adapter.start()
            await adapter.done.wait()
        await adapter.stop()
    finally:
        discord.http.Route.BASE = base
        await fake.stop()
    assert adapter.exit_code == 1
    assert "DISCORD_TOKEN" in caplog.text
    assert "fake-discord-token" not in caplog.text
