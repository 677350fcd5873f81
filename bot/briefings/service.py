"""The `/briefing` command as a service every adapter shares.

`subscribe|unsubscribe|list|now|preview`, each returning a `Reply`. Changing a channel's
subscription is for its admins (the adapter's `ctx.is_admin`); reading is for everyone.

`now` returns the digest itself as a public reply for the adapter to post in the channel
(as the response to the command), rather than posting through a publisher: the console
has no publisher, and on Slack and Discord a public command response reaches the channel
even where the bot could not post on its own. It is recorded as a delivery right away,
so the next "new since the last briefing" starts from it.
"""

from __future__ import annotations

import functools
import inspect
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any, ParamSpec

from rapidfuzz import fuzz, process
from sqlalchemy.exc import SQLAlchemyError

from bot.briefings.ports import DeliveryLog, SubscriptionStore
from bot.briefings.schedule import ScheduleSpec, describe_moment
from bot.briefings.schedule_parsing import ScheduleError, parse_options, parse_schedule
from bot.briefings.scheduler import BriefingScheduler
from bot.briefings.subscription import Subscription, utcnow
from bot.chat.context import CommandContext
from bot.chat.replies import Block, Field, Reply, ReplyKind, error, info
from bot.corpus.text import fold

log = logging.getLogger(__name__)

# (subscription or None, new-since datetime or None, "new" | "full") -> the digest reply.
DigestBuilder = Callable[[Subscription | None, datetime | None, str], Reply | Awaitable[Reply]]

SUBCOMMANDS = ("subscribe", "unsubscribe", "list", "now", "preview")
EXAMPLE = "/briefing subscribe at=08:00 days=mon-fri tz=Europe/Paris"
_ALIASES: dict[str, str] = {
    **{name: name for name in SUBCOMMANDS},
    **dict.fromkeys(("abonner", "sabonner", "s'abonner", "abonnement", "programmer"), "subscribe"),
    **dict.fromkeys(("desabonner", "se-desabonner", "arreter", "stop"), "unsubscribe"),
    **dict.fromkeys(("liste", "lister", "ls"), "list"),
    **dict.fromkeys(("maintenant", "envoyer", "tout-de-suite"), "now"),
    **dict.fromkeys(("apercu", "voir", "prochain"), "preview"),
}
_HELP = (
    ("subscribe at=08:00 days=mon-fri tz=Europe/Paris", "programmer le briefing de ce canal"),
    ("unsubscribe", "arrêter les briefings de ce canal"),
    ("list", "les briefings programmés dans cet espace"),
    ("now", "poster le briefing maintenant"),
    ("preview", "voir le prochain briefing, pour vous seul"),
)

P = ParamSpec("P")


def _guarded(
    method: Callable[P, Awaitable[Reply]],
) -> Callable[P, Awaitable[Reply]]:
    """Whatever goes wrong inside, the user gets a clear message, never a traceback."""

    @functools.wraps(method)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> Reply:
        try:
            return await method(*args, **kwargs)
        except SQLAlchemyError:
            log.exception("briefing command failed on the database")
            return error(
                "Les abonnements sont momentanément indisponibles. Réessayez dans un instant."
            )
        except Exception:
            log.exception("briefing command failed")
            return error("Une erreur interne a empêché la commande d'aboutir.")

    return wrapper


class BriefingService:
    def __init__(
        self,
        subscriptions: SubscriptionStore,
        deliveries: DeliveryLog,
        scheduler: BriefingScheduler | None,
        build_digest_reply: DigestBuilder,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.subscriptions = subscriptions
        self.deliveries = deliveries
        self.scheduler = scheduler
        self.build_digest_reply = build_digest_reply
        self.clock = clock

    @_guarded
    async def handle(self, ctx: CommandContext, text: str) -> Reply:
        """Text entry point: "subscribe at=08:00 days=mon-fri", "list", "now"…"""
        parts = (text or "").strip().split(None, 1)
        if not parts:
            return help_reply()
        word, rest = parts[0], parts[1] if len(parts) > 1 else ""
        command = _ALIASES.get(fold(word))
        if command is None:
            return _unknown_subcommand(word)
        if command == "subscribe":
            try:
                options = parse_options(rest)
            except ScheduleError as err:
                return _schedule_error(err, {})
            return await self.subscribe(ctx, options)
        if command == "unsubscribe":
            return await self.unsubscribe(ctx)
        if command == "list":
            return await self.list(ctx)
        if command == "now":
            return await self.now(ctx)
        return await self.preview(ctx)

    @_guarded
    async def subscribe(self, ctx: CommandContext, options: Mapping[str, str]) -> Reply:
        """Create or replace this channel's subscription (admins only)."""
        refusal = await _refuse_change(ctx)
        if refusal:
            return refusal
        try:
            spec = parse_schedule(options)
        except ScheduleError as err:
            return _schedule_error(err, options)
        now = self.clock()
        saved = self.subscriptions.save(
            ctx.channel,
            spec,
            created_by=ctx.user_id,
            created_by_name=ctx.user_name,
            now=now,
        )
        if self.scheduler is not None:
            self.scheduler.add(saved.subscription)

        blocks = [Block(f"Ce canal recevra un briefing {spec.describe()}.")]
        blocks.append(Block(f"Contenu : {spec.describe_mode()}."))
        if spec.time_defaulted:
            blocks.append(
                Block("Aucune heure précisée : 08:00 par défaut (at=HH:MM pour changer).")
            )
        if spec.timezone_defaulted:
            blocks.append(
                Block(
                    "Aucun fuseau horaire précisé : les heures sont en UTC. Ajoutez par "
                    "exemple tz=Europe/Paris pour l'heure de Paris."
                )
            )
        upcoming = spec.next_fire_time(now)
        if upcoming:
            blocks.append(Block(f"Prochain envoi : {describe_moment(upcoming, spec.timezone)}."))
        if saved.replaced is not None:
            blocks.append(
                Block(
                    f"Cet abonnement remplace le précédent ({_describe(saved.replaced)}), "
                    "un seul briefing par canal."
                )
            )
        title = "Briefing modifié" if saved.replaced else "Briefing programmé"
        return Reply(
            ReplyKind.SUCCESS,
            title,
            tuple(blocks),
            data={"subscription": saved.subscription.to_json(), "replaced": bool(saved.replaced)},
        )

    @_guarded
    async def unsubscribe(self, ctx: CommandContext) -> Reply:
        refusal = await _refuse_change(ctx)
        if refusal:
            return refusal
        gone = self.subscriptions.delete(ctx.channel)
        if gone is None:
            return info("Aucun briefing", "Ce canal n'est abonné à aucun briefing.")
        if self.scheduler is not None:
            self.scheduler.remove(gone.id)
        return Reply(
            ReplyKind.SUCCESS,
            "Briefings arrêtés",
            (Block(f"Ce canal ne recevra plus de briefing ({_describe(gone)})."),),
            data={"subscription": gone.to_json()},
        )

    @_guarded
    async def list(self, ctx: CommandContext) -> Reply:
        """Subscriptions of this workspace, this channel marked."""
        subs = self.subscriptions.list(
            platform=ctx.channel.platform, workspace=ctx.channel.workspace
        )
        if not subs:
            return info(
                "Aucun briefing programmé",
                f"Aucun canal de cet espace n'est abonné. Par exemple : {EXAMPLE}",
                kind=ReplyKind.SUBSCRIPTIONS,
            )
        now = self.clock()
        blocks = tuple(_subscription_block(s, now, s.channel == ctx.channel.channel) for s in subs)
        title = "1 briefing programmé" if len(subs) == 1 else f"{len(subs)} briefings programmés"
        return Reply(
            ReplyKind.SUBSCRIPTIONS,
            title,
            blocks,
            private=True,
            data={"subscriptions": [_json(s, now) for s in subs]},
        )

    @_guarded
    async def now(self, ctx: CommandContext) -> Reply:
        """The briefing, now, as a public reply for the adapter to post in the channel."""
        sub = self.subscriptions.find(ctx.channel) if ctx.can_subscribe_here else None
        reply = await self._digest(sub)
        if sub is not None:
            self.deliveries.record_manual(sub.id, now=self.clock())
        return replace(reply, private=False, shareable=False)

    @_guarded
    async def preview(self, ctx: CommandContext) -> Reply:
        """The next briefing, privately, with when it will be posted."""
        sub = self.subscriptions.find(ctx.channel) if ctx.can_subscribe_here else None
        reply = await self._digest(sub)
        if sub is None:
            footer = f"Ce canal n'est abonné à aucun briefing. Pour l'abonner : {EXAMPLE}"
        elif sub.paused:
            footer = f"Briefings en pause. {sub.paused_reason or ''}".strip()
        else:
            upcoming = _next_run(sub, self.clock())
            footer = (
                f"Sera posté {upcoming} si rien ne change d'ici là."
                if upcoming
                else "Aucun envoi à venir pour cet horaire."
            )
        title = f"Aperçu — {reply.title}" if reply.title else "Aperçu du briefing"
        return replace(reply, title=title, footer=footer, private=True, shareable=False)

    async def _digest(self, sub: Subscription | None) -> Reply:
        since = sub.last_delivery if sub else None
        mode = sub.mode if sub else "new"
        result = self.build_digest_reply(sub, since, mode)
        if inspect.isawaitable(result):
            result = await result
        return result


def list_subscriptions_json(
    subscriptions: SubscriptionStore, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Every subscription with its schedule in words and next run: `briefbot subscriptions
    --json`."""
    now = now or utcnow()
    return [_json(s, now) for s in subscriptions.list()]


def help_reply() -> Reply:
    return Reply(
        ReplyKind.HELP,
        "Commandes /briefing",
        (Block(items=tuple(f"/briefing {cmd} — {what}" for cmd, what in _HELP)),),
        private=True,
    )


# --- helpers -----------------------------------------------------------------------------


async def _refuse_change(ctx: CommandContext) -> Reply | None:
    if ctx.is_direct:
        return error(
            "Les briefings se programment dans un canal, pas en message privé : "
            "tapez la commande dans le canal qui doit les recevoir.",
            title="Pas ici",
        )
    if not ctx.can_subscribe_here:
        return error(
            "Ce fil ou ce type de canal ne peut pas recevoir de briefings : "
            "tapez la commande dans le canal principal qui doit les recevoir.",
            title="Pas ici",
        )
    try:
        allowed = await ctx.is_admin()
    except Exception:
        log.warning("permission check failed for %s", ctx.channel, exc_info=True)
        return error(
            "Impossible de vérifier vos droits sur ce canal pour le moment. Réessayez.",
            title="Vérification impossible",
        )
    if not allowed:
        return error(
            "Seuls les administrateurs du canal peuvent programmer ou arrêter ses briefings. "
            "Tout le monde peut utiliser /briefing list, now et preview.",
            title="Réservé aux administrateurs",
        )
    return None


def _schedule_error(err: ScheduleError, options: Mapping[str, str]) -> Reply:
    corrected: list[str] = []
    if err.option and err.option in options:
        for value in err.suggestions:
            fixed = {**options, err.option: value}
            corrected.append("/briefing subscribe " + _format_options(fixed))
    return replace(error(err.text, title="Horaire non valide"), suggestions=tuple(corrected))


def _format_options(options: Mapping[str, str]) -> str:
    parts = []
    for key, value in options.items():
        shown = f'"{value}"' if re.search(r"\s", value) else value
        parts.append(f"{key}={shown}")
    return " ".join(parts)


def _unknown_subcommand(word: str) -> Reply:
    folded = fold(word)
    match = process.extractOne(folded, list(_ALIASES), scorer=fuzz.ratio, score_cutoff=60)
    shown = word if len(word) <= 30 else word[:29] + "…"
    message = f"Sous-commande inconnue « {shown} ». Sous-commandes : {', '.join(SUBCOMMANDS)}."
    suggestions: tuple[str, ...] = ()
    if match:
        guess = _ALIASES[match[0]]
        message += f" Vouliez-vous dire « {guess} » ?"
        suggestions = (EXAMPLE,) if guess == "subscribe" else (f"/briefing {guess}",)
    return replace(error(message, title="Commande inconnue"), suggestions=suggestions)


def _spec(sub: Subscription) -> ScheduleSpec | None:
    try:
        return sub.spec
    except ScheduleError:
        return None


def _describe(sub: Subscription) -> str:
    spec = _spec(sub)
    return spec.describe() if spec else "horaire illisible"


def _next_run(sub: Subscription, now: datetime) -> str | None:
    spec = _spec(sub)
    if spec is None or sub.paused:
        return None
    upcoming = spec.next_fire_time(now)
    return f"le {describe_moment(upcoming, spec.timezone)}" if upcoming else None


def _subscription_block(sub: Subscription, now: datetime, here: bool) -> Block:
    spec = _spec(sub)
    fields = [Field("Contenu", "nouveautés" if sub.mode == "new" else "tout")]
    upcoming = _next_run(sub, now)
    if upcoming:
        fields.append(Field("Prochain envoi", upcoming.removeprefix("le ")))
    if sub.last_delivery:
        zone = spec.timezone if spec else "UTC"
        fields.append(Field("Dernier envoi", describe_moment(sub.last_delivery, zone)))
    state = "en pause" if sub.paused else "actif"
    if not sub.paused and sub.consecutive_failures:
        state += f" ({sub.consecutive_failures} échec(s) de publication récents)"
    fields.append(Field("État", state))
    if sub.created_by_name or sub.created_by:
        fields.append(Field("Programmé par", sub.created_by_name or sub.created_by))
    return Block(
        text=spec.describe() if spec else "horaire illisible",
        heading=f"Canal {sub.channel}" + (" (ce canal)" if here else ""),
        fields=tuple(fields),
        note=sub.paused_reason if sub.paused else None,
    )


def _json(sub: Subscription, now: datetime) -> dict[str, Any]:
    spec = _spec(sub)
    upcoming = spec.next_fire_time(now) if spec and not sub.paused else None
    return {
        **sub.to_json(),
        "schedule": spec.describe() if spec else None,
        "next_run": upcoming.isoformat() if upcoming else None,
    }
