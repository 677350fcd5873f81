"""Settings from the environment, a `.env` file and `config/briefbot.toml`, in that order.

`SettingsBase` holds that policy; the core's `Settings` and each adapter's own settings
model derive from it, so the core knows no platform setting and every model reads its
values the same way. Secrets are `SecretStr` so they never show in a repr, a log line or
an error message.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, TypeVar

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_CONFIG_FILE = Path("config/briefbot.toml")


def env_names(*names: str) -> AliasChoices:
    """The environment variables a setting is read from, first one shown in errors."""
    return AliasChoices(*names)


class SettingsBase(BaseSettings):
    """Environment (`BRIEFBOT_*` unless a field names its own variables), `.env`, then the
    TOML file named by `BRIEFBOT_CONFIG_FILE` (default `config/briefbot.toml`)."""

    model_config = SettingsConfigDict(
        env_prefix="BRIEFBOT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

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


class Settings(SettingsBase):
    """What the core reads: the corpus, the data directory, answering and briefings."""

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

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'briefbot.db'}"

    @property
    def database_setting(self) -> str:
        """The setting to name when the database cannot be used."""
        return "BRIEFBOT_DATABASE_URL" if self.database_url else "BRIEFBOT_DATA_DIR"


class ConfigError(Exception):
    """Invalid configuration, with messages that name each setting (never its value)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


S = TypeVar("S", bound=SettingsBase)


def load(model: type[S], **overrides: Any) -> S:
    """Build a settings model or raise ConfigError naming every bad setting."""
    try:
        return model(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as err:
        raise ConfigError([_describe(model, e) for e in err.errors(include_input=False)]) from None
    except (OSError, ValueError) as err:  # unreadable or malformed TOML file
        raise ConfigError([f"config file: {err}"]) from None


def load_settings(**overrides: Any) -> Settings:
    return load(Settings, **overrides)


def _describe(model: type[SettingsBase], error: Any) -> str:
    loc = error.get("loc") or ()
    name = str(loc[0]) if loc else "settings"
    field = model.model_fields.get(name)
    env_names: list[str] = []
    if field is not None and isinstance(field.validation_alias, AliasChoices):
        env_names = [str(c) for c in field.validation_alias.choices]
    env = env_names[0] if env_names else f"BRIEFBOT_{name.upper()}"
    return f"{env}: {error.get('msg', 'invalid value')}"
