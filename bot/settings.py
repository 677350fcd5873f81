"""Settings from the environment, a `.env` file and `config/briefbot.toml`, in that order.

Secrets are `SecretStr` so they never show in a repr, a log line or an error message.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_CONFIG_FILE = Path("config/briefbot.toml")


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="BRIEFBOT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    corpus: Path = Field(Path("seeds"), description="Folder of article files")
    data_dir: Path = Field(Path("data"), description="Where the bot writes everything")
    config_dir: Path = Field(Path("config"), description="Editors' files (actors.yaml)")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; SQLite in data_dir if unset"
    )
    log_level: str = "INFO"

    answer_threshold: float = Field(0.35, ge=0.0, le=1.0)
    max_question_chars: int = Field(1000, ge=10, le=100_000)
    max_actor_chars: int = Field(200, ge=10, le=10_000)
    suggestions: int = Field(3, ge=0, le=10)

    rescan_seconds: float = Field(5.0, gt=0, description="How often the corpus folder is rescanned")
    briefing_grace_seconds: int = Field(3600, ge=0)
    briefing_max_failures: int = Field(5, ge=1)
    briefing_retry_seconds: int = Field(60, ge=1)
    rate_limit_per_minute: int = Field(10, ge=1)

    slack_bot_token: SecretStr | None = Field(
        None, validation_alias=_env("SLACK_BOT_TOKEN", "BRIEFBOT_SLACK_BOT_TOKEN")
    )
    slack_app_token: SecretStr | None = Field(
        None, validation_alias=_env("SLACK_APP_TOKEN", "BRIEFBOT_SLACK_APP_TOKEN")
    )
    slack_signing_secret: SecretStr | None = Field(
        None, validation_alias=_env("SLACK_SIGNING_SECRET", "BRIEFBOT_SLACK_SIGNING_SECRET")
    )
    slack_api_url: str | None = Field(
        None, validation_alias=_env("SLACK_API_URL", "BRIEFBOT_SLACK_API_URL")
    )
    slack_port: int = Field(3000, ge=1, le=65535)
    slack_admins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    discord_token: SecretStr | None = Field(
        None, validation_alias=_env("DISCORD_TOKEN", "BRIEFBOT_DISCORD_TOKEN")
    )
    discord_guild_id: int | None = Field(
        None, validation_alias=_env("DISCORD_GUILD_ID", "BRIEFBOT_DISCORD_GUILD_ID")
    )
    discord_shards: str | None = Field(
        None, validation_alias=_env("DISCORD_SHARDS", "BRIEFBOT_DISCORD_SHARDS")
    )
    discord_application_id: int | None = Field(
        None, validation_alias=_env("DISCORD_APPLICATION_ID", "BRIEFBOT_DISCORD_APPLICATION_ID")
    )

    @field_validator("slack_admins", mode="before")
    @classmethod
    def _split_admins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [v.strip(" \"'[]") for v in value.split(",") if v.strip(" \"'[]")]
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("discord_shards")
    @classmethod
    def _shards(cls, value: str | None) -> str | None:
        if value in (None, "", "auto") or (value and value.isdigit()):
            return value or None
        raise ValueError("must be 'auto' or a number of shards")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = Path(os.environ.get("BRIEFBOT_CONFIG_FILE", DEFAULT_CONFIG_FILE))
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=toml_file),
        )

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'briefbot.db'}"

    @property
    def slack_configured(self) -> bool:
        return self.slack_bot_token is not None and (
            self.slack_app_token is not None or self.slack_signing_secret is not None
        )

    @property
    def discord_configured(self) -> bool:
        return self.discord_token is not None


class ConfigError(Exception):
    """Invalid configuration, with messages that name each setting (never its value)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def load_settings(**overrides: Any) -> Settings:
    """Build the settings or raise ConfigError naming every bad setting."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as err:
        raise ConfigError([_describe(e) for e in err.errors(include_input=False)]) from None
    except (OSError, ValueError) as err:  # unreadable or malformed TOML file
        raise ConfigError([f"config file: {err}"]) from None


def _describe(error: Any) -> str:
    loc = error.get("loc") or ()
    name = str(loc[0]) if loc else "settings"
    field = Settings.model_fields.get(name)
    env_names: list[str] = []
    if field is not None and isinstance(field.validation_alias, AliasChoices):
        env_names = [str(c) for c in field.validation_alias.choices]
    env = env_names[0] if env_names else f"BRIEFBOT_{name.upper()}"
    return f"{env}: {error.get('msg', 'invalid value')}"
