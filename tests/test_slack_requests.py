"""Malformed, hostile and repeated requests at the Slack HTTP endpoint, over real sockets:
each gets a 4xx and one short log line, nothing of a body reaches the log, and a retried
delivery is answered once."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.slack.requests import RecentKeys
from tests.fakes.slack_api import (
    app_mention,
    form_body,
    post_signed,
    sign,
    slash_command,
)
from tests.fakes.slack_harness import SlackHarness, running_slack

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
MARKER = "BODY-MARKER-7f3a"


@pytest.fixture
async def slack(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> AsyncIterator[SlackHarness]:
    caplog.set_level(logging.DEBUG)  # bolt copies the root level when it is built
    for name in ("adapters.slack.app", "adapters.slack.bolt"):  # a dictConfig elsewhere
        logging.getLogger(name).disabled = False  # disables the loggers existing then
    async with running_slack(tmp_path / "data") as harness:
        caplog.clear()
        yield harness


def ask_body(slack: SlackHarness, text: str = "Qui est Molly Phee ?") -> str:
    return form_body(slash_command("/ask", text, response_url=slack.fake.response_url("ok")))


SIGNED_CASES = {
    "invalid JSON payload": (form_body({"payload": "{not json"}), FORM),
    "payload is a JSON list": (form_body({"payload": "[1, 2]"}), FORM),
    "invalid JSON event body": ('{"type": "event_callback", "event": ', JSON),
    "event is a string": (json.dumps({"type": "event_callback", "event": "hello"}), JSON),
    "body is a JSON list": ("[1, 2]", JSON),
}


async def assert_still_serving(slack: SlackHarness) -> None:
    status, _, key = await slack.command("/ask", "Qui est Molly Phee ?")
    assert status == 200
    assert len(await slack.responses(key)) == 1


def adapter_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith(("adapters.slack", "briefbot", "aio"))]


@pytest.mark.parametrize("case", list(SIGNED_CASES))
async def test_a_malformed_signed_request_gets_400_and_one_line(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    body, content_type = SIGNED_CASES[case]
    status, _ = await post_signed(slack.session, slack.events_url, body, content_type=content_type)
    assert status == 400
    records = adapter_records(caplog)
    assert len(records) == 1 and "rejected" in records[0].getMessage()
    assert all(r.exc_info is None for r in caplog.records)
    await assert_still_serving(slack)


async def test_a_non_numeric_timestamp_gets_400_and_one_line(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture
) -> None:
    status, _ = await post_signed(
        slack.session,
        slack.events_url,
        ask_body(slack),
        content_type=FORM,
        headers={"X-Slack-Request-Timestamp": "soon"},
    )
    assert status == 400
    assert [r.getMessage() for r in adapter_records(caplog)] == [
        "rejected a request to /slack/events: X-Slack-Request-Timestamp is not a number"
    ]
    await assert_still_serving(slack)


async def test_a_non_utf8_body_gets_400_and_one_line(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture
) -> None:
    body = b"payload=\xff\xfe" + MARKER.encode()
    headers = {"Content-Type": FORM, **sign("placeholder")}
    async with slack.session.post(slack.events_url, data=body, headers=headers) as response:
        assert response.status == 400
    assert [r.getMessage() for r in adapter_records(caplog)] == [
        "rejected a request to /slack/events: the body is not UTF-8"
    ]
    await assert_still_serving(slack)


async def test_a_rejected_body_is_never_logged_even_at_debug(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture
) -> None:
    status, _ = await post_signed(
        slack.session,
        slack.events_url,
        ask_body(slack, f"{MARKER} " * 1000),
        content_type=FORM,
        secret="not-the-secret",
    )
    assert status == 401
    assert not any(MARKER in r.getMessage() for r in caplog.records)


async def test_nothing_from_a_request_reaches_the_log_with_a_line_break(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture
) -> None:
    forged = "x\nbriefbot: ERROR: forged line"
    unhandled = {"type": "event_callback", "event": {"type": "reaction_added", "item": forged}}
    await post_signed(slack.session, slack.events_url, json.dumps(unhandled), content_type=JSON)
    await slack.event(app_mention("<@UBOT> Qui est Molly Phee ?", channel=f"C1\n{forged}"))
    await slack.adapter.wait_idle()
    logged = [r.getMessage() for r in caplog.records]
    assert any("Unhandled request" in m for m in logged)  # bolt's warning, many lines long…
    assert not any("\n" in m for m in logged)  # …written on one


async def test_a_retried_event_is_answered_once(slack: SlackHarness) -> None:
    payload = app_mention("<@UBOT> Qui est Molly Phee ?")
    assert await slack.event(payload) == 200
    for attempt in ("1", "2", "3"):
        status, _ = await post_signed(
            slack.session,
            slack.events_url,
            json.dumps(payload),
            content_type=JSON,
            headers={"X-Slack-Retry-Num": attempt, "X-Slack-Retry-Reason": "http_timeout"},
        )
        assert status == 200
    await slack.adapter.wait_idle()
    assert len(slack.fake.calls_to("chat.postMessage")) == 1


async def test_two_different_events_are_both_answered(slack: SlackHarness) -> None:
    await slack.event(app_mention("<@UBOT> Qui est Molly Phee ?"))
    await slack.event(app_mention("<@UBOT> Qui est Molly Phee ?"))
    await slack.adapter.wait_idle()
    assert len(slack.fake.calls_to("chat.postMessage")) == 2


async def test_a_retried_slash_command_is_answered_once(slack: SlackHarness) -> None:
    body = ask_body(slack)
    for _ in range(3):
        status, _ = await post_signed(slack.session, slack.events_url, body, content_type=FORM)
        assert status == 200
    await slack.adapter.wait_idle()
    assert len(slack.fake.calls_to("response_url")) == 1


async def test_bolt_logs_no_warning_at_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-the-environment")
    caplog.set_level(logging.DEBUG)
    async with running_slack(tmp_path / "data"):
        pass
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_recent_keys_repeat_within_the_ttl_only() -> None:
    now = [0.0]
    keys = RecentKeys(ttl=60.0, clock=lambda: now[0])
    assert keys.first_time("a") and not keys.first_time("a")
    now[0] = 61.0
    assert keys.first_time("a")


def test_recent_keys_are_bounded() -> None:
    keys = RecentKeys(ttl=60.0, capacity=2, clock=lambda: 0.0)
    assert keys.first_time("a") and keys.first_time("b") and keys.first_time("c")
    assert keys.first_time("a")  # forgotten to make room
    assert not keys.first_time("c")
