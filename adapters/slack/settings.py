"""The Slack adapter's settings, under Slack's usual variable names."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode

from bot.settings import SettingsBase, env_names


class SlackSettings(SettingsBase):
    bot_token: SecretStr | None = Field(
        None, validation_alias=env_names("SLACK_BOT_TOKEN", "BRIEFBOT_SLACK_BOT_TOKEN")
    )
    app_token: SecretStr | None = Field(
        None, validation_alias=env_names("SLACK_APP_TOKEN", "BRIEFBOT_SLACK_APP_TOKEN")
    )
    signing_secret: SecretStr | None = Field(
        None,
        validation_alias=env_names("SLACK_SIGNING_SECRET", "BRIEFBOT_SLACK_SIGNING_SECRET"),
    )
    api_url: str | None = Field(
        None, validation_alias=env_names("SLACK_API_URL", "BRIEFBOT_SLACK_API_URL")
    )
    host: str = Field("0.0.0.0", validation_alias=env_names("BRIEFBOT_SLACK_HOST", "slack_host"))
    port: int = Field(
        3000, ge=1, le=65535, validation_alias=env_names("BRIEFBOT_SLACK_PORT", "slack_port")
    )
    admins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias=env_names("BRIEFBOT_SLACK_ADMINS", "slack_admins")
    )

    @field_validator("admins", mode="before")
    @classmethod
    def _split_admins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [v.strip(" \"'[]") for v in value.split(",") if v.strip(" \"'[]")]
        return value

    @property
    def configured(self) -> bool:
        """A bot token, and either an app token (Socket Mode) or a signing secret (HTTP)."""
        return self.bot_token is not None and (
            self.app_token is not None or self.signing_secret is not None
        )

    def missing(self) -> list[str]:
        """What a partial configuration lacks, naming each variable; nothing when no Slack
        setting is given (the bot then runs without Slack) or when it is complete."""
        given = [self.bot_token, self.app_token, self.signing_secret]
        if all(v is None for v in given) or self.configured:
            return []
        if self.bot_token is None:
            return ["SLACK_BOT_TOKEN: not set (the bot token, xoxb-…), but other Slack tokens are"]
        return [
            "SLACK_APP_TOKEN (Socket Mode, xapp-…) or SLACK_SIGNING_SECRET (HTTP mode): "
            "neither is set, and Slack needs one of them besides SLACK_BOT_TOKEN"
        ]
