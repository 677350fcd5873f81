"""The slash commands, as a discord.py `CommandTree` built by iterating the registry.

Each registry command becomes an `app_commands.Command` whose callback has one typed
parameter per declared option (a `Range` for lengths, choices and autocomplete as
declared), so Discord validates what it can and the handler receives the values as a
mapping, with no text round trip. The tree only declares what Discord shows and hands
each call to the adapter's `run_slash`, which owns the response protocol (defer,
ephemeral, share).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol

import discord
from discord import app_commands

from bot.chat.context import CommandContext
from bot.chat.registry import Command, Entry, Option, Registry
from bot.chat.replies import Reply

log = logging.getLogger(__name__)

NAME_LIMIT = 32
DESCRIPTION_LIMIT = 100
CHOICES_LIMIT = 25
CHOICE_LIMIT = 100  # characters of a choice's name and of a string choice's value
STRING_OPTION_LIMIT = 6000  # Discord's maximum max_length for a string option

# Who may change a channel's briefings. Discord only honours default permissions on a
# top-level command, so this is declared on a group with admin-only commands; those
# commands also check it when they run (a server admin may open the group to everyone).
ADMIN_PERMISSIONS = discord.Permissions(manage_channels=True)

Work = Callable[[CommandContext], Awaitable[Reply]]


class SlashRunner(Protocol):
    """What the tree needs from the adapter."""

    registry: Registry

    async def run_slash(
        self, interaction: discord.Interaction, work: Work, *, slow: bool, public: bool = False
    ) -> None: ...

    def track(self) -> None: ...

    async def report_failure(
        self, interaction: discord.Interaction, *, outdated: bool = False
    ) -> None: ...


class BriefbotTree(app_commands.CommandTree):
    """A tree that counts each call as in-flight work and never leaves a user without
    an answer when something unexpected fails."""

    def __init__(self, client: discord.Client, runner: SlashRunner) -> None:
        super().__init__(client)
        self.runner = runner

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        self.runner.track()
        return True

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        command = interaction.command.qualified_name if interaction.command else "?"
        outdated = isinstance(
            error, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch
        )
        if outdated:
            log.warning("Discord sent an unknown or outdated command /%s", command)
        else:
            log.error("slash command /%s failed", command, exc_info=error)
        await self.runner.report_failure(interaction, outdated=outdated)


def build_tree(client: discord.Client, runner: SlashRunner, registry: Registry) -> BriefbotTree:
    tree = BriefbotTree(client, runner)
    for entry in registry.entries():
        if entry.command is not None:
            tree.add_command(_command(entry.command, runner, registry, parent=None))
        else:
            tree.add_command(_group(entry, runner, registry))
    return tree


def _group(entry: Entry, runner: SlashRunner, registry: Registry) -> app_commands.Group:
    admin = any(c.spec.admin for c in entry.subcommands)
    group = app_commands.Group(
        name=entry.name,
        description=entry.description[:DESCRIPTION_LIMIT],
        default_permissions=ADMIN_PERMISSIONS if admin else None,
    )
    for cmd in entry.subcommands:
        group.add_command(_command(cmd, runner, registry, parent=group))
    return group


def _command(
    cmd: Command,
    runner: SlashRunner,
    registry: Registry,
    *,
    parent: app_commands.Group | None,
) -> app_commands.Command[Any, ..., None]:
    options = sorted(cmd.spec.options, key=lambda o: not o.required)

    async def callback(interaction: discord.Interaction, **values: Any) -> None:
        args = {name: _value(value) for name, value in values.items()}
        await runner.run_slash(
            interaction,
            lambda ctx: registry.run(ctx, cmd, args),
            slow=cmd.spec.slow,
            public=cmd.spec.public,
        )

    parameters = [
        inspect.Parameter(
            "interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=discord.Interaction
        )
    ]
    for option in options:
        parameters.append(
            inspect.Parameter(
                option.name,
                inspect.Parameter.KEYWORD_ONLY,
                annotation=_annotation(cmd, option),
                default=inspect.Parameter.empty if option.required else None,
            )
        )
    callback.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    described: Any = app_commands.describe(
        **{o.name: o.description[:DESCRIPTION_LIMIT] for o in options}
    )(callback)
    choices = {
        o.name: [app_commands.Choice(name=c.label[:CHOICE_LIMIT], value=c.value) for c in o.choices]
        for o in options
        if o.choices
    }
    if choices:
        described = app_commands.choices(**choices)(described)
    completions = {o.name: _completer(registry, o.autocomplete) for o in options if o.autocomplete}
    if completions:
        described = app_commands.autocomplete(**completions)(described)
    return app_commands.Command(
        name=cmd.name,
        description=cmd.spec.description[:DESCRIPTION_LIMIT],
        callback=described,
        parent=parent,
    )


def _annotation(cmd: Command, option: Option) -> Any:
    limit = min(cmd.max_length(option) or STRING_OPTION_LIMIT, STRING_OPTION_LIMIT)
    kind: Any = str if option.choices else app_commands.Range[str, 1, limit]
    return kind if option.required else kind | None


def _completer(
    registry: Registry, source: str
) -> Callable[[discord.Interaction, str], Coroutine[Any, Any, list[app_commands.Choice[str]]]]:
    async def complete(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        found = await asyncio.to_thread(registry.complete, source, current, CHOICES_LIMIT)
        out: dict[str, app_commands.Choice[str]] = {}
        for choice in found:
            value = " ".join(choice.value.split())[:CHOICE_LIMIT]
            label = " ".join(choice.label.split())[:CHOICE_LIMIT]
            if value and label and value not in out:
                out[value] = app_commands.Choice(name=label, value=value)
        return list(out.values())[:CHOICES_LIMIT]

    return complete


def _value(value: Any) -> str | None:
    if isinstance(value, app_commands.Choice):
        return str(value.value)
    return None if value is None else str(value)
