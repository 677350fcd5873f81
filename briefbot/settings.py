"""Every settings model of the program, loaded and validated together."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters.discord.settings import DiscordSettings
from adapters.slack.settings import SlackSettings
from bot.settings import ConfigError, Settings, load


@dataclass(frozen=True)
class Config:
    core: Settings
    slack: SlackSettings
    discord: DiscordSettings


def load_config(**core_overrides: Any) -> Config:
    """The core's and the adapters' settings; ConfigError lists every problem at once."""
    problems: list[str] = []
    loaded: list[Any] = []
    for model, overrides in (
        (Settings, core_overrides),
        (SlackSettings, {}),
        (DiscordSettings, {}),
    ):
        try:
            loaded.append(load(model, **overrides))
        except ConfigError as err:
            problems.extend(err.problems)
    if problems:
        raise ConfigError(problems)
    core, slack, discord = loaded
    return Config(core, slack, discord)
