"""Socket Mode: the adapter opens a websocket to the fake Slack, acknowledges envelopes on
it and answers through the Web API / response_url, like with real Slack."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.slack.app import SlackAdapter
from bot.settings import ConfigError
from tests.config import make_config
from tests.fakes.slack_api import (
    APP_TOKEN,
    BOT_TOKEN,
    FakeSlack,
    app_mention,
    block_action,
    slash_command,
)
from tests.fakes.slack_harness import SlackHarness, running_slack


@pytest.fixture
async def slack(tmp_path: Path) -> AsyncIterator[SlackHarness]:
    async with running_slack(tmp_path / "data", socket_mode=True) as harness:
        await harness.fake.wait_connected()
        yield harness


async def test_socket_mode_opens_its_connection_with_the_app_token(slack: SlackHarness) -> None:
    [call] = slack.fake.calls_to("apps.connections.open")
    assert call.headers["Authorization"] == f"Bearer {APP_TOKEN}"
    assert slack.adapter.socket_mode is True


async def test_a_slash_command_envelope_is_acked_then_answered(slack: SlackHarness) -> None:
    url = slack.fake.response_url("sock-1")
    envelope = await slack.fake.send_envelope(
        "slash_commands",
        slash_command("/ask", "Qui est Molly Phee ?", response_url=url),
        accepts_response_payload=True,
    )
    assert await slack.fake.wait_ack(envelope) == {"envelope_id": envelope}
    [body] = await slack.responses("sock-1")
    assert body["response_type"] == "ephemeral"
    assert body["blocks"][0]["text"]["text"] == "Qui est Molly Phee ?"
    assert "Molly Phee" in body["blocks"][1]["text"]["text"]
    assert body["blocks"][2]["elements"][0]["text"].startswith("Source : ")


async def test_a_mention_envelope_is_acked_then_answered_in_the_thread(slack: SlackHarness) -> None:
    event = app_mention("<@UBOT> Qui est Molly Phee ?", ts="1700000400.000100")
    envelope = await slack.fake.send_envelope("events_api", event)
    assert await slack.fake.wait_ack(envelope) == {"envelope_id": envelope}
    [call] = await slack.posts()
    assert call.body["thread_ts"] == "1700000400.000100"
    assert call.headers["Authorization"] == f"Bearer {BOT_TOKEN}"


async def test_a_button_envelope_is_acked(slack: SlackHarness) -> None:
    url = slack.fake.response_url("sock-click")
    envelope = await slack.fake.send_envelope(
        "interactive", block_action("briefbot_share", "garbage", response_url=url)
    )
    assert await slack.fake.wait_ack(envelope) == {"envelope_id": envelope}
    [body] = await slack.responses("sock-click")
    assert body["response_type"] == "ephemeral"


async def test_a_refused_app_token_stops_the_start_with_a_clear_error(tmp_path: Path) -> None:
    fake = await FakeSlack(app_token="xapp-the-real-one").start()
    try:
        config = make_config(
            data_dir=tmp_path,
            slack_bot_token=BOT_TOKEN,
            slack_app_token="xapp-wrong-secret",
            slack_api_url=fake.api_url,
        )
        adapter = SlackAdapter(object(), config.slack)  # type: ignore[arg-type]
        with pytest.raises(ConfigError) as caught:
            await adapter.start()
        assert "SLACK_APP_TOKEN" in str(caught.value)
        assert "xapp-wrong-secret" not in str(caught.value)
    finally:
        await adapter.stop()
        await fake.stop()
