"""Settings: environment over .env over config/briefbot.toml; errors name the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import ConfigError, Settings, load_settings
from briefbot.settings import load_config


def test_defaults_use_seeds_and_a_sqlite_file_in_the_data_dir(tmp_path: Path) -> None:
    s = Settings(_env_file=None, data_dir=tmp_path / "d")
    assert s.corpus == Path("seeds")
    assert s.effective_database_url == f"sqlite:///{tmp_path / 'd' / 'briefbot.db'}"
    assert s.max_question_chars == 1000


def test_environment_beats_dotenv_beats_toml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    toml = tmp_path / "briefbot.toml"
    toml.write_text("answer_threshold = 0.2\nmax_question_chars = 300\nsuggestions = 5\n")
    monkeypatch.setenv("BRIEFBOT_CONFIG_FILE", str(toml))
    (tmp_path / ".env").write_text("BRIEFBOT_MAX_QUESTION_CHARS=400\nBRIEFBOT_SUGGESTIONS=4\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BRIEFBOT_SUGGESTIONS", "2")
    s = load_settings()
    assert (s.answer_threshold, s.max_question_chars, s.suggestions) == (0.2, 400, 2)


def test_invalid_setting_is_named_in_the_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIEFBOT_ANSWER_THRESHOLD", "1.7")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert "BRIEFBOT_ANSWER_THRESHOLD" in str(err.value)


def test_platform_tokens_use_their_usual_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-secret-value")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-secret-value")
    monkeypatch.setenv("DISCORD_TOKEN", "discord-secret-value")
    config = load_config()
    assert config.slack.configured and config.discord.configured
    assert config.slack.bot_token is not None
    assert config.slack.bot_token.get_secret_value() == "xoxb-secret-value"


def test_secrets_never_appear_in_repr_or_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "discord-secret-value")
    monkeypatch.setenv("DISCORD_SHARDS", "many-secret-shards")
    with pytest.raises(ConfigError) as err:
        load_config()
    assert "DISCORD_SHARDS" in str(err.value)
    assert "secret" not in str(err.value)
    monkeypatch.delenv("DISCORD_SHARDS")
    assert "discord-secret-value" not in repr(load_config())


def test_admin_list_is_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIEFBOT_SLACK_ADMINS", "U1, U2")
    assert load_config().slack.admins == ["U1", "U2"]


def test_the_core_settings_know_no_platform() -> None:
    assert not {name for name in Settings.model_fields if "slack" in name or "discord" in name}
