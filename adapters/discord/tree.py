"""The slash commands, as a discord.py `CommandTree` built from the core's command layer.

The tree only declares what Discord shows (names, descriptions, options, autocomplete,
default permissions) and hands each call to the adapter's `run_slash`, which owns the
response protocol (defer, ephemeral, share). Option lengths come from the settings, so
this module evaluates its annotations at definition time (no `from __future__ import
annotations`: discord.py reads the `Range[...]` objects built from them).
"""

import asyncio
import logging
import shlex
from collections.abc import Awaitable, Callable, Iterable
from typing import Protocol

import discord
from discord import app_commands

from bot.chat.commands import COMMANDS, Commands
from bot.chat.context import CommandContext
from bot.chat.replies import Reply
from bot.corpus.text import fold
from bot.settings import Settings

log = logging.getLogger(__name__)

NAME_LIMIT = 32
DESCRIPTION_LIMIT = 100
CHOICES_LIMIT = 25
CHOICE_LIMIT = 100  # characters of a choice's name and of a string choice's value
STRING_OPTION_LIMIT = 6000  # Discord's maximum max_length for a string option
SCHEDULE_OPTION_LIMIT = 100

# Who may change a channel's briefings. Discord only honours default permissions on a
# top-level command, so this is declared on /briefing; subscribe and unsubscribe also
# check it when they run (a server admin may open /briefing to everyone).
BRIEFING_PERMISSIONS = discord.Permissions(manage_channels=True)

DAY_PRESETS: tuple[tuple[str, str], ...] = (
    ("mon-fri", "du lundi au vendredi"),
    ("mon-sun", "tous les jours"),
    ("sat,sun", "le week-end"),
    ("mon", "chaque lundi"),
    ("tue", "chaque mardi"),
    ("wed", "chaque mercredi"),
    ("thu", "chaque jeudi"),
    ("fri", "chaque vendredi"),
    ("sat", "chaque samedi"),
    ("sun", "chaque dimanche"),
)
# The same reading of quotes as bot.schedules.parse_options, applied before quoting so a
# value typed in one option can never close its quotes and become another option.
_SMART_QUOTES = str.maketrans({"“": '"', "”": '"', "«": '"', "»": '"', "„": '"', "’": "'"})

Work = Callable[[CommandContext], Awaitable[Reply]]


class SlashRunner(Protocol):
    """What the tree needs from the adapter."""

    commands: Commands

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


def description(name: str) -> str:
    spec = next(c for c in COMMANDS if c.name == name)
    return spec.description[:DESCRIPTION_LIMIT]


def to_choices(values: Iterable[str]) -> list[app_commands.Choice[str]]:
    """At most 25 distinct, non-empty choices of at most 100 characters."""
    out: list[app_commands.Choice[str]] = []
    seen: set[str] = set()
    for value in values:
        text = " ".join(str(value).split())[:CHOICE_LIMIT]
        if text and text not in seen:
            seen.add(text)
            out.append(app_commands.Choice(name=text, value=text))
        if len(out) == CHOICES_LIMIT:
            break
    return out


def day_choices(fragment: str) -> list[app_commands.Choice[str]]:
    wanted = fold(fragment.strip())
    return [
        app_commands.Choice(name=f"{label} ({value})", value=value)
        for value, label in DAY_PRESETS
        if not wanted or wanted in fold(label) or wanted in value
    ][:CHOICES_LIMIT]


def briefing_text(subcommand: str, **options: str | None) -> str:
    """`subscribe at=08:00 tz=Europe/Paris` from typed options, each value quoted so that
    spaces, quotes or `=` inside it stay inside it."""
    parts = [subcommand]
    for key, value in options.items():
        if value is None or not value.strip():
            continue
        parts.append(f"{key}={shlex.quote(' '.join(value.translate(_SMART_QUOTES).split()))}")
    return " ".join(parts)


def build_tree(client: discord.Client, runner: SlashRunner, settings: Settings) -> BriefbotTree:
    tree = BriefbotTree(client, runner)
    commands = runner.commands
    question_max = min(settings.max_question_chars, STRING_OPTION_LIMIT)
    name_max = min(settings.max_actor_chars, STRING_OPTION_LIMIT)

    @tree.command(name="ask", description=description("ask"))
    @app_commands.describe(question="Votre question, en français")
    async def ask(
        interaction: discord.Interaction, question: app_commands.Range[str, 1, question_max]
    ) -> None:
        await runner.run_slash(interaction, lambda ctx: commands.ask(ctx, question), slow=True)

    async def actor_names(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        names = await asyncio.to_thread(commands.autocomplete_actor, current, CHOICES_LIMIT)
        return to_choices(names)

    @tree.command(name="actor", description=description("actor"))
    @app_commands.describe(name="Nom de la personne ou de l'organisation")
    @app_commands.autocomplete(name=actor_names)
    async def actor(
        interaction: discord.Interaction, name: app_commands.Range[str, 1, name_max]
    ) -> None:
        await runner.run_slash(interaction, lambda ctx: commands.actor(ctx, name), slow=True)

    @tree.command(name="actors", description=description("actors"))
    async def actors(interaction: discord.Interaction) -> None:
        await runner.run_slash(interaction, commands.actors, slow=True)

    @tree.command(name="timeline", description=description("timeline"))
    async def timeline(interaction: discord.Interaction) -> None:
        await runner.run_slash(interaction, commands.timeline, slow=True)

    @tree.command(name="help", description=description("help"))
    async def help_(interaction: discord.Interaction) -> None:
        await runner.run_slash(interaction, commands.help, slow=False)

    briefing = app_commands.Group(
        name="briefing",
        description=description("briefing"),
        default_permissions=BRIEFING_PERMISSIONS,
    )

    async def timezones(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        zones = await asyncio.to_thread(commands.autocomplete_timezone, current, CHOICES_LIMIT)
        return to_choices(zones)

    async def days_presets(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return day_choices(current)

    def briefing_work(text: str) -> Work:
        return lambda ctx: commands.briefing(ctx, text)

    @briefing.command(
        name="subscribe", description="Programmer le briefing de ce canal (gérer les salons)"
    )
    @app_commands.describe(
        at="Heure(s) d'envoi, ex. 08:00 ou 08:00,18:00 (08:00 par défaut)",
        days="Jours d'envoi, ex. mon-fri, lun-ven, sat,sun (tous les jours par défaut)",
        tz="Fuseau horaire IANA, ex. Europe/Paris (UTC par défaut)",
        mode="Seulement les nouveautés depuis le dernier briefing, ou tout",
    )
    @app_commands.choices(
        mode=[
            app_commands.Choice(name="nouveautés depuis le dernier briefing", value="new"),
            app_commands.Choice(name="tout le corpus", value="full"),
        ]
    )
    @app_commands.autocomplete(tz=timezones, days=days_presets)
    async def subscribe(
        interaction: discord.Interaction,
        at: app_commands.Range[str, 1, SCHEDULE_OPTION_LIMIT] | None = None,
        days: app_commands.Range[str, 1, SCHEDULE_OPTION_LIMIT] | None = None,
        tz: app_commands.Range[str, 1, SCHEDULE_OPTION_LIMIT] | None = None,
        mode: app_commands.Choice[str] | None = None,
    ) -> None:
        text = briefing_text(
            "subscribe", at=at, days=days, tz=tz, mode=mode.value if mode else None
        )
        await runner.run_slash(interaction, briefing_work(text), slow=False, public=True)

    @briefing.command(name="unsubscribe", description="Arrêter les briefings de ce canal")
    async def unsubscribe(interaction: discord.Interaction) -> None:
        await runner.run_slash(interaction, briefing_work("unsubscribe"), slow=False, public=True)

    @briefing.command(name="list", description="Les briefings programmés sur ce serveur")
    async def list_(interaction: discord.Interaction) -> None:
        await runner.run_slash(interaction, briefing_work("list"), slow=False)

    @briefing.command(name="now", description="Poster le briefing dans ce canal maintenant")
    async def now(interaction: discord.Interaction) -> None:
        await runner.run_slash(interaction, briefing_work("now"), slow=True, public=True)

    @briefing.command(name="preview", description="Voir le prochain briefing, pour vous seul")
    async def preview(interaction: discord.Interaction) -> None:
        await runner.run_slash(interaction, briefing_work("preview"), slow=True)

    tree.add_command(briefing)
    return tree
