"""The Discord adapter's settings, under Discord's usual variable names."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from bot.settings import SettingsBase, env_names


class DiscordSettings(SettingsBase):
    token: SecretStr | None = Field(
        None, validation_alias=env_names("DISCORD_TOKEN", "BRIEFBOT_DISCORD_TOKEN")
    )
    guild_id: int | None = Field(
        None, validation_alias=env_names("DISCORD_GUILD_ID", "BRIEFBOT_DISCORD_GUILD_ID")
    )
    shards: str | None = Field(
        None, validation_alias=env_names("DISCORD_SHARDS", "BRIEFBOT_DISCORD_SHARDS")
    )
    application_id: int | None = Field(
        None,
        validation_alias=env_names("DISCORD_APPLICATION_ID", "BRIEFBOT_DISCORD_APPLICATION_ID"),
    )
    # Where discord.py sends REST calls and opens the gateway: Discord unless set, for a
    # proxy or the local fakes the tests run against.
    api_url: str | None = Field(
        None, validation_alias=env_names("DISCORD_API_URL", "BRIEFBOT_DISCORD_API_URL")
    )
    gateway_url: str | None = Field(
        None, validation_alias=env_names("DISCORD_GATEWAY_URL", "BRIEFBOT_DISCORD_GATEWAY_URL")
    )

    @field_validator("shards")
    @classmethod
    def _shards(cls, value: str | None) -> str | None:
        if value in (None, "", "auto") or (value and value.isdigit()):
            return value or None
        raise ValueError("must be 'auto' or a number of shards")

    @property
    def configured(self) -> bool:
        return self.token is not None
