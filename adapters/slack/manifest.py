"""The slash commands the Slack manifest must declare, read off the registry: Slack only
routes a command to the app if the manifest lists it, so the two must never disagree."""

from __future__ import annotations

from bot.chat.registry import Registry

# Slack keeps these slash commands for itself: an app cannot declare them.
RESERVED_COMMANDS = frozenset({"help"})


def slash_commands(registry: Registry) -> list[dict[str, str]]:
    """`command` and `description` of each top-level command, as the manifest has them."""
    return [
        {"command": f"/{entry.name}", "description": entry.description}
        for entry in registry.entries()
        if entry.name not in RESERVED_COMMANDS
    ]
