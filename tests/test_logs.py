"""Log output: the text format, JSON lines, context fields, and redaction in both."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest
from pydantic import SecretStr

from briefbot.logs import (
    REDACTED,
    Redactor,
    log_context,
    secret_values,
    setup_logging,
)
from tests.config import make_config

SLACK_BOT = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"
SLACK_APP = "xapp-1-A0123456789-1234567890123-abcdef0123456789abcdef"
SLACK_USER = "xoxp-1234567890-1234567890-1234567890-abcdef0123456789"
DISCORD = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789AB"

log = logging.getLogger("briefbot.test")


def _text(**kwargs: object) -> io.StringIO:
    stream = io.StringIO()
    setup_logging(stream=stream, **kwargs)  # type: ignore[arg-type]
    return stream


def _json_lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


# -- text --------------------------------------------------------------------------------


def test_text_format_is_briefbot_level_message() -> None:
    stream = _text(level="INFO")
    log.info("slack adapter started")
    assert stream.getvalue() == "briefbot: INFO: slack adapter started\n"


def test_records_below_the_level_are_dropped() -> None:
    stream = _text(level="WARNING")
    log.info("hidden")
    log.warning("shown")
    assert stream.getvalue() == "briefbot: WARNING: shown\n"


def test_noisy_libraries_are_capped_at_warning_but_not_raised_above_the_level() -> None:
    _text(level="DEBUG")
    assert logging.getLogger("discord").level == logging.WARNING
    _text(level="ERROR")
    assert logging.getLogger("discord").level == logging.ERROR


def test_a_newline_in_a_message_cannot_forge_a_second_line() -> None:
    stream = _text()
    log.warning("question %r refused", "x\nbriefbot: ERROR: database dropped")
    log.warning("raw %s", "a\r\nbriefbot: ERROR: forged\x1b[2K")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[1] == "briefbot: WARNING: raw a\\r\\nbriefbot: ERROR: forged\\x1b[2K"


def test_unicode_line_separators_are_escaped_too() -> None:
    stream = _text()
    log.warning("a\u2028b\u2029c\x85d")
    assert stream.getvalue().splitlines() == ["briefbot: WARNING: a\\u2028b\\u2029c\\x85d"]


def test_traceback_lines_are_indented_so_none_looks_like_a_record() -> None:
    stream = _text()
    try:
        raise ValueError("bad\nbriefbot: INFO: all good")
    except ValueError:
        log.exception("briefing failed")
    lines = stream.getvalue().splitlines()
    assert lines[0] == "briefbot: ERROR: briefing failed"
    assert lines[1] == "  Traceback (most recent call last):"
    assert all(line.startswith("  ") for line in lines[1:])
    assert "  briefbot: INFO: all good" in lines


def test_calling_setup_again_replaces_the_handler_instead_of_doubling_lines() -> None:
    _text()
    stream = _text()
    log.warning("once")
    assert stream.getvalue() == "briefbot: WARNING: once\n"
    assert sum(type(h).__name__ == "_BriefbotHandler" for h in logging.getLogger().handlers) == 1


def test_the_default_stream_is_stderr_as_it_is_when_a_record_is_logged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    setup_logging()
    later = io.StringIO()
    monkeypatch.setattr("sys.stderr", later)
    log.warning("after the swap")
    assert later.getvalue() == "briefbot: WARNING: after the swap\n"


def test_unknown_format_or_level_is_refused() -> None:
    with pytest.raises(ValueError):
        setup_logging(fmt="xml", stream=io.StringIO())
    with pytest.raises(ValueError):
        setup_logging(level="LOUD", stream=io.StringIO())


# -- JSON --------------------------------------------------------------------------------


def test_json_is_one_object_per_line_with_the_core_fields() -> None:
    stream = _text(fmt="json")
    log.info("first")
    log.warning("second\nline")
    records = _json_lines(stream)
    assert [r["message"] for r in records] == ["first", "second\nline"]
    assert records[0]["level"] == "INFO"
    assert records[0]["logger"] == "briefbot.test"


def test_json_timestamp_is_iso_8601_utc() -> None:
    import datetime as dt

    stream = _text(fmt="json")
    log.info("tick")
    stamp = str(_json_lines(stream)[0]["timestamp"])
    assert stamp.endswith("Z")
    parsed = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    assert parsed.utcoffset() == dt.timedelta(0)


def test_the_format_name_is_case_insensitive() -> None:
    stream = _text(fmt="JSON")
    log.info("tick")
    assert _json_lines(stream)[0]["message"] == "tick"


def test_json_keeps_accents_and_never_splits_on_unicode_separators() -> None:
    stream = _text(fmt="json")
    log.info("Élysée\u2028fin")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    assert "Élysée" in lines[0]
    assert json.loads(lines[0])["message"] == "Élysée\u2028fin"


def test_extra_fields_appear_as_keys() -> None:
    stream = _text(fmt="json")
    log.info("posted", extra={"platform": "slack", "channel": "C042", "slot": 8})
    record = _json_lines(stream)[0]
    assert (record["platform"], record["channel"], record["slot"]) == ("slack", "C042", 8)


def test_context_fields_apply_inside_the_block_only_and_extra_wins() -> None:
    stream = _text(fmt="json")
    with log_context(platform="discord", channel="123"):
        log.info("inside", extra={"channel": "456"})
    log.info("outside")
    inside, outside = _json_lines(stream)
    assert (inside["platform"], inside["channel"]) == ("discord", "456")
    assert "platform" not in outside


def test_a_field_cannot_overwrite_the_core_keys() -> None:
    stream = _text(fmt="json")
    with log_context(level="FAKE", logger="forged"):
        log.info("real")
    record = _json_lines(stream)[0]
    assert (record["level"], record["logger"]) == ("INFO", "briefbot.test")


def test_values_json_cannot_hold_become_strings() -> None:
    stream = _text(fmt="json")
    log.info("odd", extra={"when": object(), "ratio": float("nan")})
    record = _json_lines(stream)[0]
    assert isinstance(record["when"], str)
    assert record["ratio"] == "nan"


def test_json_carries_the_exception_text() -> None:
    stream = _text(fmt="json")
    try:
        raise RuntimeError("gateway closed")
    except RuntimeError:
        log.exception("discord down")
    record = _json_lines(stream)[0]
    assert "RuntimeError: gateway closed" in str(record["exception"])


# -- redaction ---------------------------------------------------------------------------


@pytest.mark.parametrize("token", [SLACK_BOT, SLACK_APP, SLACK_USER, DISCORD])
def test_token_looking_strings_are_redacted(token: str) -> None:
    assert (
        Redactor()(f"auth failed for {token}, retrying") == f"auth failed for {REDACTED}, retrying"
    )


def test_configured_secrets_are_redacted_longest_first() -> None:
    redact = Redactor(["s3cret", "s3cret-and-more", ""])
    assert redact("a s3cret-and-more b s3cret c") == f"a {REDACTED} b {REDACTED} c"


def test_an_empty_secret_does_not_redact_everything() -> None:
    assert Redactor([""])("plain text") == "plain text"


def test_url_passwords_are_redacted_but_not_the_rest_of_the_url() -> None:
    redact = Redactor()
    assert redact("postgresql+psycopg://bot:hunter2@db:5432/briefbot") == (
        f"postgresql+psycopg://bot:{REDACTED}@db:5432/briefbot"
    )


def test_ordinary_text_is_left_alone() -> None:
    text = "Who is Emmanuel Macron? xoxb is a prefix; see bot.chat.commands.Commands.ask"
    assert Redactor()(text) == text


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_secrets_never_reach_either_format(fmt: str) -> None:
    stream = _text(fmt=fmt, secrets=["signing-secret-value"])
    try:
        raise ConnectionError(f"invalid_auth token={SLACK_BOT}")
    except ConnectionError:
        log.exception("login with %s failed", DISCORD, extra={"key": "signing-secret-value"})
    output = stream.getvalue()
    for secret in (SLACK_BOT, DISCORD, "signing-secret-value"):
        assert secret not in output
    assert REDACTED in output


def test_secret_values_collects_secret_settings_and_url_passwords() -> None:
    class Settings:
        def __init__(self) -> None:
            self.slack_bot_token = SecretStr(SLACK_BOT)
            self.discord_token = None
            self.database_url = "postgresql://bot:hunter2@db/briefbot"
            self.corpus = "seeds"

    assert set(secret_values(Settings())) == {SLACK_BOT, "hunter2"}


def test_secret_values_reads_the_real_settings(tmp_path: Path) -> None:
    config = make_config(
        data_dir=tmp_path,
        database_url="postgresql+psycopg://bot:hunter2hunter2@db.example/briefbot",
        slack_bot_token=SLACK_BOT,
        slack_signing_secret="0123456789abcdef0123456789abcdef",
        discord_token=DISCORD,
    )
    secrets = set(secret_values(config.core, config.slack, config.discord))
    assert secrets == {SLACK_BOT, DISCORD, "0123456789abcdef0123456789abcdef", "hunter2hunter2"}
