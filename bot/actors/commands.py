"""`/actor` and `/actors`, and the completion of actor names."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.chat.context import CommandContext
from bot.chat.registry import InputError, Option, command, completer
from bot.chat.replies import Reply
from bot.corpus.french import count, number

from .directory import ActorDirectory
from .replies import actor_reply, actors_reply


def check_actor_name(name: str | None, limit: int) -> str:
    """The name with its spacing normalised, or InputError saying what is wrong."""
    text = " ".join((name or "").split())
    if not text:
        raise InputError("Donnez un nom : /actor <personne ou organisation>.", title="Nom invalide")
    if len(text) > limit:
        raise InputError(
            f"Le nom est trop long ({count(len(text), 'caractère')}, maximum {number(limit)}).",
            title="Nom invalide",
        )
    return text


class ActorCommands:
    """Look-ups in the directory of the corpus currently served (`directory()`)."""

    def __init__(self, directory: Callable[[], ActorDirectory], *, name_limit: int) -> None:
        self.directory = directory
        self.name_limit = name_limit

    @command(
        "actor",
        "Qui est cette personne ou organisation, où en parle-t-on",
        options=(
            Option(
                "name",
                "Nom de la personne ou de l'organisation",
                required=True,
                rest=True,
                max_length="name_limit",
                autocomplete="actor",
            ),
        ),
        usage="<nom>",
        slow=True,
        records="actor_lookup",
    )
    async def actor(self, ctx: CommandContext, name: str | None = None) -> Reply:
        text = check_actor_name(name, self.name_limit)
        directory = await asyncio.to_thread(self.directory)
        return actor_reply(directory.lookup(text))

    @command("actors", "Toutes les personnes et organisations citées", slow=True)
    async def actors(self, ctx: CommandContext) -> Reply:
        return actors_reply(await asyncio.to_thread(self.directory))

    @completer("actor")
    def complete(self, fragment: str, limit: int) -> list[str]:
        return self.directory().autocomplete(fragment[: self.name_limit], limit)
