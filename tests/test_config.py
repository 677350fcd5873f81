"""Settings: environment over .env over config/briefbot.toml; errors name the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import ConfigError, Settings, load_settings, toml_keys
from briefbot.cli import main
from briefbot.settings import MODELS, load_config
from tests.conftest import ROOT


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


def use_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> Path:
    toml = tmp_path / "briefbot.toml"
    toml.write_text(text)
    monkeypatch.setenv("BRIEFBOT_CONFIG_FILE", str(toml))
    return toml


def problems(**overrides: object) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load_config(**overrides)
    return err.value.problems


def test_the_example_toml_is_valid_and_holds_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIEFBOT_CONFIG_FILE", str(ROOT / "config" / "briefbot.example.toml"))
    config = load_config()
    assert config.core == Settings(_env_file=None)  # type: ignore[call-arg]
    assert config.slack.port == 3000


def test_the_example_toml_names_every_setting_the_file_takes() -> None:
    example = (ROOT / "config" / "briefbot.example.toml").read_text()
    for key in toml_keys(MODELS):
        assert f"{key} = " in example


@pytest.mark.parametrize("key", ["SLACK_BOT_TOKEN", "slack_signing_secret", "discord_token"])
def test_a_secret_in_the_toml_file_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    toml = use_toml(tmp_path, monkeypatch, f'{key} = "xoxb-in-the-file"\n')
    [problem] = problems()
    assert str(toml) in problem and key in problem and "environment or .env" in problem
    assert "xoxb-in-the-file" not in problem


def test_an_unknown_key_is_an_error_with_a_suggestion(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_toml(tmp_path, monkeypatch, "answer_treshold = 0.2\nslack_prot = 4000\n")
    found = problems()
    assert len(found) == 2
    assert "'answer_treshold' (did you mean answer_threshold?)" in found[0]
    assert "'slack_prot' (did you mean slack_port?)" in found[1]


def test_platform_keys_in_the_toml_file_are_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_toml(tmp_path, monkeypatch, 'slack_port = 4000\ndiscord_shards = "auto"\n')
    config = load_config()
    assert (config.slack.port, config.discord.shards) == (4000, "auto")


def test_a_named_config_file_that_is_missing_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIEFBOT_CONFIG_FILE", str(tmp_path / "nowhere.toml"))
    assert problems() == [f"BRIEFBOT_CONFIG_FILE: no file at {tmp_path / 'nowhere.toml'}"]


def test_the_default_config_file_may_be_absent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BRIEFBOT_CONFIG_FILE")
    monkeypatch.chdir(tmp_path)
    assert load_config().core.suggestions == 3


@pytest.mark.parametrize("variable", ["DISCORD_SHARDS", "BRIEFBOT_DISCORD_SHARDS"])
def test_an_error_names_the_variable_the_user_set(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, "many")
    [problem] = problems()
    assert problem.startswith(f"{variable}: ")


def test_an_error_names_the_variable_set_in_dotenv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("BRIEFBOT_SLACK_PORT=0\n")
    monkeypatch.chdir(tmp_path)
    [problem] = problems()
    assert problem.startswith("BRIEFBOT_SLACK_PORT: ")


@pytest.mark.parametrize(
    ("variables", "missing"),
    [
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_APP_TOKEN (Socket Mode, xapp-…) or SLACK_SIGNING"),
        ({"SLACK_APP_TOKEN": "xapp-1"}, "SLACK_BOT_TOKEN: not set"),
        ({"SLACK_SIGNING_SECRET": "s"}, "SLACK_BOT_TOKEN: not set"),
    ],
)
def test_a_partial_slack_configuration_stops_run_and_fails_check(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variables: dict[str, str],
    missing: str,
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("briefbot: error: configuration: ") and missing in err
    assert main(["check"]) == 1
    assert f"config: {missing}" in capsys.readouterr().out


def test_no_slack_setting_at_all_is_not_a_problem() -> None:
    assert load_config().slack.missing() == []
