"""The command layer every adapter shares: validated input in, a `Reply` out.

Adapters translate platform events into these calls and render the replies; nothing here
knows about Discord or Slack. Every public coroutine returns a Reply and never raises on
user input: bad input becomes an error reply that says what to do instead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from rapidfuzz import process

from bot.ask.reply import answer_reply
from bot.chat.context import CommandContext
from bot.chat.ratelimit import RateLimiter, rate_limited_message
from bot.chat.replies import Block, Reply, ReplyKind, error
from bot.corpus.library import Library
from bot.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CommandSpec:
    name: str
    usage: str
    description: str


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("ask", "/ask <question>", "Poser une question sur les articles"),
    CommandSpec(
        "actor", "/actor <nom>", "Qui est cette personne ou organisation, où en parle-t-on"
    ),
    CommandSpec("actors", "/actors", "Toutes les personnes et organisations citées"),
    CommandSpec(
        "briefing",
        "/briefing subscribe|unsubscribe|list|now|preview",
        "Briefings programmés pour ce canal",
    ),
    CommandSpec("timeline", "/timeline", "Les événements datés de tous les articles"),
    CommandSpec("help", "/help", "Cette aide"),
)
COMMAND_NAMES = tuple(c.name for c in COMMANDS)


class InputError(ValueError):
    """User input the core refuses, with the message to show."""


class Commands:
    """Shared handlers. Optional features (actors, briefings, timeline) are attached by the
    application; a missing one answers with a clear message rather than failing."""

    def __init__(self, library: Library, settings: Settings) -> None:
        self.library = library
        self.settings = settings
        self.question_limiter = RateLimiter(settings.rate_limit_per_minute, 60.0)
        self.actor_handler: Callable[[CommandContext, str], Awaitable[Reply]] | None = None
        self.actors_handler: Callable[[CommandContext], Awaitable[Reply]] | None = None
        self.autocomplete_handler: Callable[[str, int], list[str]] | None = None
        self.timeline_handler: Callable[[CommandContext], Awaitable[Reply]] | None = None
        self.briefing_handler: Callable[[CommandContext, str], Awaitable[Reply]] | None = None
        self.timezone_handler: Callable[[str, int], list[str]] | None = None
        self.feedback_handler: Callable[[CommandContext, int, dict], Awaitable[Reply]] | None = None

    # -- validation --------------------------------------------------------------------

    def check_question(self, question: str | None) -> str:
        text = " ".join((question or "").split())
        if not text:
            raise InputError("La question est vide. Exemple : /ask Qui est le Premier ministre ?")
        limit = self.settings.max_question_chars
        if len(text) > limit:
            raise InputError(
                f"La question est trop longue ({len(text):,} caractères, maximum {limit:,}). "
                "Posez une question plus courte."
            )
        return text

    def check_actor_name(self, name: str | None) -> str:
        return self.check_actor_name_for(self.settings, name)

    @staticmethod
    def check_actor_name_for(settings: Settings, name: str | None) -> str:
        text = " ".join((name or "").split())
        if not text:
            raise InputError("Donnez un nom : /actor <personne ou organisation>.")
        limit = settings.max_actor_chars
        if len(text) > limit:
            raise InputError(f"Le nom est trop long ({len(text):,} caractères, maximum {limit}).")
        return text

    # -- commands ----------------------------------------------------------------------

    async def ask(self, ctx: CommandContext, question: str | None) -> Reply:
        try:
            text = self.check_question(question)
        except InputError as err:
            return error(str(err), title="Question invalide")
        if ctx.channel.platform != "console":  # the local console is its own user
            key = f"{ctx.channel.platform}:{ctx.channel.workspace}:{ctx.user_id}"
            if not self.question_limiter.allow(key):
                wait = self.question_limiter.retry_after(key)
                return error(rate_limited_message(wait), title="Un instant")
        answerer = self.library.current.answerer
        answer = await asyncio.to_thread(answerer.answer, text)
        return answer_reply(answer)

    async def actor(self, ctx: CommandContext, name: str | None) -> Reply:
        try:
            text = self.check_actor_name(name)
        except InputError as err:
            return error(str(err), title="Nom invalide")
        if self.actor_handler is None:
            return error("L'annuaire des acteurs n'est pas disponible.")
        return await self.actor_handler(ctx, text)

    async def actors(self, ctx: CommandContext) -> Reply:
        if self.actors_handler is None:
            return error("L'annuaire des acteurs n'est pas disponible.")
        return await self.actors_handler(ctx)

    def autocomplete_actor(self, fragment: str, limit: int = 25) -> list[str]:
        if self.autocomplete_handler is None:
            return []
        try:
            return self.autocomplete_handler(fragment[: self.settings.max_actor_chars], limit)
        except Exception:  # autocomplete must never break typing
            log.exception("actor autocomplete failed")
            return []

    def autocomplete_timezone(self, fragment: str, limit: int = 25) -> list[str]:
        if self.timezone_handler is None:
            return []
        try:
            return self.timezone_handler(fragment[:100], limit)
        except Exception:
            log.exception("timezone autocomplete failed")
            return []

    async def feedback(self, ctx: CommandContext, value: int, answer: dict) -> Reply:
        """Record a thumbs up (+1) or down (-1) on an answer (`answer` is its JSON)."""
        if value not in (1, -1):
            return error("Avis invalide.")
        if self.feedback_handler is None:
            return error("Les avis ne sont pas enregistrés ici.")
        return await self.feedback_handler(ctx, value, answer)

    async def timeline(self, ctx: CommandContext) -> Reply:
        if self.timeline_handler is None:
            return error("La chronologie n'est pas disponible.")
        return await self.timeline_handler(ctx)

    async def briefing(self, ctx: CommandContext, text: str | None) -> Reply:
        if self.briefing_handler is None:
            return error("Les briefings programmés ne sont pas disponibles ici.")
        return await self.briefing_handler(ctx, (text or "").strip())

    async def help(self, ctx: CommandContext | None = None) -> Reply:
        lines = tuple(f"{c.usage} — {c.description}" for c in COMMANDS)
        return Reply(
            ReplyKind.HELP,
            "Commandes de briefbot",
            (
                Block(
                    "Posez une question en français (les fautes de frappe et les accents "
                    "manquants sont tolérés) ou utilisez une commande :",
                    items=lines,
                ),
            ),
            private=True,
        )

    async def dispatch(self, ctx: CommandContext, line: str) -> Reply:
        """A line of text as typed in the console or a DM: '/cmd args' or a plain question."""
        text = line.strip()
        name, _, args = text[1:].partition(" ") if text.startswith("/") else ("ask", "", text)
        name = name.lower()
        try:
            if name == "ask":
                return await self.ask(ctx, args)
            if name == "actor":
                return await self.actor(ctx, args)
            if name == "actors":
                return await self.actors(ctx)
            if name == "timeline":
                return await self.timeline(ctx)
            if name == "briefing":
                return await self.briefing(ctx, args)
            if name in ("help", "aide", "?"):
                return await self.help(ctx)
        except Exception:  # last line of defence: a bug must not become a traceback
            log.exception("command /%s failed", name)
            return error("Une erreur interne s'est produite ; elle a été journalisée.")
        return unknown_command(name)


def unknown_command(name: str) -> Reply:
    close = process.extractOne(name, COMMAND_NAMES, score_cutoff=60)
    hint = f" Vouliez-vous dire /{close[0]} ?" if close else ""
    return error(f"Commande inconnue : /{name[:40]}.{hint} Tapez /help pour la liste.")
