"""The Slack app manifest an admin pastes: what it declares is what the bot serves, and it
asks for no more permissions than the bot uses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from adapters.slack.manifest import slash_commands
from briefbot.app import Application
from briefbot.settings import Config
from tests.fakes.slack_harness import running_slack

MANIFEST = Path(__file__).resolve().parent.parent / "config" / "slack-manifest.yaml"


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))


def test_the_manifest_declares_the_seven_commands(manifest: dict[str, Any]) -> None:
    commands = [c["command"] for c in manifest["features"]["slash_commands"]]
    assert commands == [
        "/ask", "/actor", "/actors", "/briefing", "/timeline", "/source", "/status",
    ]  # fmt: skip
    assert all(c["should_escape"] is False for c in manifest["features"]["slash_commands"])
    assert all(len(c["description"]) <= 100 for c in manifest["features"]["slash_commands"])


def test_the_manifest_declares_exactly_the_registry_commands(
    manifest: dict[str, Any], config: Config
) -> None:
    declared = [
        {"command": c["command"], "description": c["description"]}
        for c in manifest["features"]["slash_commands"]
    ]
    assert declared == slash_commands(Application(config).registry)


def test_the_manifest_asks_only_for_the_scopes_the_bot_uses(manifest: dict[str, Any]) -> None:
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == [
        "app_mentions:read",
        "chat:write",
        "commands",
        "im:history",
        "users:read",
    ]
    assert "user" not in manifest["oauth_config"]["scopes"]


def test_the_manifest_subscribes_to_mentions_and_direct_messages(manifest: dict[str, Any]) -> None:
    settings = manifest["settings"]
    assert settings["event_subscriptions"]["bot_events"] == ["app_mention", "message.im"]
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["socket_mode_enabled"] is True
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True
    assert manifest["features"]["app_home"]["messages_tab_read_only_enabled"] is False


async def test_every_declared_command_is_served(
    manifest: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    async with running_slack(tmp_path / "data") as slack:
        for declared in manifest["features"]["slash_commands"]:
            _, _, key = await slack.command(declared["command"], "")
            [body] = await slack.responses(key)
            assert "Commande inconnue" not in body["text"], declared["command"]
