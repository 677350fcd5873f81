"""Every settings model of the program, loaded and validated together."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters.discord.settings import DiscordSettings
from adapters.slack.settings import SlackSettings
from bot.settings import ConfigError, Settings, config_file_problems, load

MODELS = (Settings, SlackSettings, DiscordSettings)


@dataclass(frozen=True)
class Config:
    core: Settings
    slack: SlackSettings
    discord: DiscordSettings


def load_config(**core_overrides: Any) -> Config:
    """The core's and the adapters' settings; ConfigError lists every problem at once."""
    problems = config_file_problems(MODELS)
    if problems:  # the models would read what the file check refuses
        raise ConfigError(problems)
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
