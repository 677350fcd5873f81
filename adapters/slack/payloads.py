"""Slack's request bodies as typed records, each read in one place.

Slack sends loosely shaped JSON (fields missing, `null`, nested differently per surface);
the listeners receive these frozen records instead, so no handler reads a raw body.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .mrkdwn import from_slack


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True, slots=True)
class SlashCommand:
    command: str  # without the slash, lower case
    text: str  # Slack's markup turned back into what the user typed
    team: str
    channel: str
    user: str
    user_name: str
    response_url: str
    is_direct: bool

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> SlashCommand:
        channel = _text(body.get("channel_id"))
        return cls(
            command=_text(body.get("command")).lstrip("/").strip().lower(),
            text=from_slack(body.get("text")),
            team=_text(body.get("team_id")),
            channel=channel,
            user=_text(body.get("user_id")),
            user_name=_text(body.get("user_name")),
            response_url=_text(body.get("response_url")),
            is_direct=body.get("channel_name") == "directmessage" or channel.startswith("D"),
        )


@dataclass(frozen=True, slots=True)
class Message:
    """A mention of the bot in a channel, or a direct message to it."""

    team: str
    channel: str
    user: str
    text: str  # raw Slack markup: the adapter strips its own mentions first
    ts: str
    thread_ts: str | None
    channel_type: str
    subtype: str | None
    from_bot: bool

    @classmethod
    def from_event(cls, body: dict[str, Any], event: dict[str, Any]) -> Message:
        return cls(
            team=_text(body.get("team_id") or event.get("team")),
            channel=_text(event.get("channel")),
            user=_text(event.get("user")),
            text=_text(event.get("text")),
            ts=_text(event.get("ts")),
            thread_ts=event.get("thread_ts") or None,
            channel_type=_text(event.get("channel_type")),
            subtype=event.get("subtype") or None,
            from_bot=bool(event.get("bot_id")),
        )

    @property
    def is_direct(self) -> bool:
        return self.channel.startswith("D")

    @property
    def is_from_a_person_in_a_dm(self) -> bool:
        return self.channel_type == "im" and self.subtype is None and not self.from_bot


@dataclass(frozen=True, slots=True)
class ButtonClick:
    """A click on one of our buttons (block_actions)."""

    action_id: str
    value: str
    team: str
    channel: str
    user: str
    user_name: str
    response_url: str

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> ButtonClick:
        actions = body.get("actions") or [{}]
        action = _dict(actions[0] if isinstance(actions, list) and actions else {})
        user = _dict(body.get("user"))
        return cls(
            action_id=_text(action.get("action_id")),
            value=_text(action.get("value")),
            team=_text(_dict(body.get("team")).get("id") or user.get("team_id")),
            channel=_text(_dict(body.get("channel")).get("id")),
            user=_text(user.get("id")),
            user_name=_text(user.get("name") or user.get("username")),
            response_url=_text(body.get("response_url")),
        )

    @property
    def is_direct(self) -> bool:
        return self.channel.startswith("D")
