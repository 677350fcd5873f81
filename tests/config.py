"""Building the program's settings in tests, with the names the variables have."""

from __future__ import annotations

from typing import Any

from adapters.discord.settings import DiscordSettings
from adapters.slack.settings import SlackSettings
from bot.settings import Settings
from briefbot.settings import Config

_PLATFORM_FIELDS = {
    "slack_bot_token": ("slack", "bot_token"),
    "slack_app_token": ("slack", "app_token"),
    "slack_signing_secret": ("slack", "signing_secret"),
    "slack_api_url": ("slack", "api_url"),
    "slack_port": ("slack", "port"),
    "slack_host": ("slack", "host"),
    "slack_admins": ("slack", "admins"),
    "discord_token": ("discord", "token"),
    "discord_guild_id": ("discord", "guild_id"),
    "discord_shards": ("discord", "shards"),
    "discord_application_id": ("discord", "application_id"),
}


def make_config(**values: Any) -> Config:
    """A Config from flat keyword values (`corpus=…`, `slack_bot_token=…`), no .env read."""
    parts: dict[str, dict[str, Any]] = {"core": {}, "slack": {}, "discord": {}}
    for name, value in values.items():
        part, field = _PLATFORM_FIELDS.get(name, ("core", name))
        parts[part][field] = value
    return Config(
        Settings(_env_file=None, **parts["core"]),  # type: ignore[call-arg]
        SlackSettings(_env_file=None, **parts["slack"]),  # type: ignore[call-arg]
        DiscordSettings(_env_file=None, **parts["discord"]),  # type: ignore[call-arg]
    )
