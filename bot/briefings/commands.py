"""The `/briefing` commands: a channel's scheduled briefings, the same on every platform.

Changing a channel's subscription is for its admins (the registry checks `ctx.is_admin`
for the commands declared `admin`); reading is for everyone.

`now` returns the digest itself as a public reply for the adapter to post in the channel
(as the response to the command), rather than posting through a publisher: the console
has no publisher, and on Slack and Discord a public command response reaches the channel
even where the bot could not post on its own. It is recorded as a delivery right away,
so the next "new since the last briefing" starts from it.
"""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from bot.briefings.changes import SubscriptionChanges
from bot.briefings.ports import DeliveryLog, SubscriptionStore
from bot.briefings.schedule import describe_moment
from bot.briefings.schedule_parsing import ScheduleError, parse_options, parse_schedule
from bot.briefings.subscription import MANUAL, Subscription, utcnow
from bot.briefings.timezones import complete_timezones
from bot.chat.context import CommandContext
from bot.chat.registry import Choice, InputError, Option, command, completer, group
from bot.chat.replies import Block, Field, Reply, ReplyKind, error, info
from bot.chat.serial import to_json
from bot.corpus.french import count
from bot.corpus.text import fold

log = logging.getLogger(__name__)

# (subscription or None, new-since datetime or None, "new" | "full") -> the digest reply.
DigestBuilder = Callable[[Subscription | None, datetime | None, str], Reply | Awaitable[Reply]]

EXAMPLE = "/briefing subscribe at=08:00 days=mon-fri tz=Europe/Paris"
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
SCHEDULE_OPTIONS = (
    Option("at", "Heure(s) d'envoi, ex. 08:00 ou 08:00,18:00 (08:00 par défaut)", max_length=100),
    Option(
        "days",
        "Jours d'envoi, ex. mon-fri, lun-ven, sat,sun (tous les jours par défaut)",
        max_length=100,
        autocomplete="days",
    ),
    Option(
        "tz",
        "Fuseau horaire IANA, ex. Europe/Paris (UTC par défaut)",
        max_length=100,
        autocomplete="timezone",
    ),
    Option(
        "mode",
        "Seulement les nouveautés depuis le dernier briefing, ou tout",
        choices=(
            Choice("new", "nouveautés depuis le dernier briefing"),
            Choice("full", "tout le corpus"),
        ),
    ),
    Option(
        "empty",
        "Quand il n'y a rien de nouveau : ne rien poster, ou le dire",
        choices=(Choice("notify", "le dire en une ligne"), Choice("skip", "ne rien poster")),
    ),
    Option("cron", "Expression cron, à la place de at et days (ex. 0 8 * * 1-5)", max_length=100),
)


def read_schedule_text(text: str) -> dict[str, str]:
    """`at=08:00 days=mon-fri`, with French keys and quoted values, as typed in text."""
    try:
        return parse_options(text)
    except ScheduleError as err:
        raise InputError(err.text, title="Options non valides") from None


@group("briefing", "Briefings programmés pour ce canal")
class BriefingCommands:
    """`changes` tells this process's scheduler at once what a command changed."""

    def __init__(
        self,
        subscriptions: SubscriptionStore,
        deliveries: DeliveryLog,
        changes: SubscriptionChanges,
        build_digest_reply: DigestBuilder,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.subscriptions = subscriptions
        self.deliveries = deliveries
        self.changes = changes
        self.build_digest_reply = build_digest_reply
        self.clock = clock

    @command(
        "subscribe",
        "Programmer le briefing de ce canal (gérer les salons)",
        options=SCHEDULE_OPTIONS,
        example=EXAMPLE,
        aliases=("abonner", "sabonner", "s'abonner", "abonnement", "programmer"),
        parse=read_schedule_text,
        public=True,
        admin=True,
        in_channel=True,
    )
    async def subscribe(self, ctx: CommandContext, **values: str | None) -> Reply:
        """Create or replace this channel's subscription."""
        options = {key: value for key, value in values.items() if value is not None}
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
        self.changes.saved(saved.subscription)

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
            data={"subscription": to_json(saved.subscription), "replaced": bool(saved.replaced)},
        )

    @command(
        "unsubscribe",
        "Arrêter les briefings de ce canal",
        aliases=("desabonner", "se-desabonner", "arreter", "stop"),
        public=True,
        admin=True,
        in_channel=True,
    )
    async def unsubscribe(self, ctx: CommandContext) -> Reply:
        gone = self.subscriptions.delete(ctx.channel)
        if gone is None:
            return info("Aucun briefing", "Ce canal n'est abonné à aucun briefing.")
        self.changes.removed(gone.id)
        return Reply(
            ReplyKind.SUCCESS,
            "Briefings arrêtés",
            (Block(f"Ce canal ne recevra plus de briefing ({_describe(gone)})."),),
            data={"subscription": to_json(gone)},
        )

    @command("list", "Les briefings programmés sur ce serveur", aliases=("liste", "lister", "ls"))
    async def list_all(self, ctx: CommandContext) -> Reply:
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

    @command(
        "now",
        "Poster le briefing dans ce canal maintenant",
        aliases=("maintenant", "envoyer", "tout-de-suite"),
        public=True,
        slow=True,
    )
    async def now(self, ctx: CommandContext) -> Reply:
        """The briefing, now, as a public reply for the adapter to post in the channel."""
        sub = self.subscriptions.find(ctx.channel) if ctx.can_subscribe_here else None
        reply = await self._digest(sub)
        if sub is not None:
            now = self.clock()
            delivery = self.deliveries.claim(sub.id, now, now=now, kind=MANUAL)
            if delivery is not None:  # the next "new since the last briefing" starts here
                self.deliveries.mark_sent(delivery.id, now=now)
        return replace(reply, private=False, shareable=False)

    @command(
        "preview",
        "Voir le prochain briefing, pour vous seul",
        aliases=("apercu", "voir", "prochain"),
        slow=True,
    )
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

    @completer("timezone")
    def complete_timezone(self, fragment: str, limit: int) -> list[str]:
        return complete_timezones(fragment[:100], limit)

    @completer("days")
    def complete_days(self, fragment: str, limit: int) -> list[Choice]:
        wanted = fold(fragment.strip())
        return [
            Choice(value, f"{label} ({value})")
            for value, label in DAY_PRESETS
            if not wanted or wanted in fold(label) or wanted in value
        ][:limit]

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


# --- helpers -----------------------------------------------------------------------------


def _schedule_error(err: ScheduleError, options: Mapping[str, str]) -> Reply:
    corrected: list[str] = []
    if err.option and err.option in options:
        for value in err.suggestions:
            fixed = {**options, err.option: value}
            corrected.append("/briefing subscribe " + _format_options(fixed))
    title = _ERROR_TITLES.get(err.option or "", "Option non valide")
    return replace(error(err.text, title=title), suggestions=tuple(corrected))


# What was wrong, by the option at fault ("Horaire non valide" for a bad day or mode misled).
_ERROR_TITLES = {
    "at": "Heure non valide",
    "days": "Jours non valides",
    "tz": "Fuseau horaire non valide",
    "cron": "Expression cron non valide",
    "mode": "Mode non valide",
    "empty": "Option « empty » non valide",
}


def _format_options(options: Mapping[str, str]) -> str:
    parts = []
    for key, value in options.items():
        shown = f'"{value}"' if re.search(r"\s", value) else value
        parts.append(f"{key}={shown}")
    return " ".join(parts)


def _describe(sub: Subscription) -> str:
    return sub.schedule.describe()


def _next_run(sub: Subscription, now: datetime) -> str | None:
    if sub.paused:
        return None
    upcoming = sub.schedule.next_fire_time(now)
    return f"le {describe_moment(upcoming, sub.timezone)}" if upcoming else None


def _subscription_block(sub: Subscription, now: datetime, here: bool) -> Block:
    fields = [Field("Contenu", "nouveautés" if sub.mode == "new" else "tout")]
    upcoming = _next_run(sub, now)
    if upcoming:
        fields.append(Field("Prochain envoi", upcoming.removeprefix("le ")))
    if sub.last_delivery:
        fields.append(Field("Dernier envoi", describe_moment(sub.last_delivery, sub.timezone)))
    state = "en pause" if sub.paused else "actif"
    if not sub.paused and sub.consecutive_failures:
        failures = sub.consecutive_failures
        recent = "récent" if failures < 2 else "récents"
        state += f" ({count(failures, 'échec')} de publication {recent})"
    fields.append(Field("État", state))
    if sub.created_by_name or sub.created_by:
        fields.append(Field("Programmé par", sub.created_by_name or sub.created_by))
    return Block(
        text=sub.schedule.describe(),
        heading=f"Canal {sub.channel}" + (" (ce canal)" if here else ""),
        fields=tuple(fields),
        note=sub.paused_reason if sub.paused else None,
    )


def _json(sub: Subscription, now: datetime) -> dict[str, Any]:
    upcoming = sub.schedule.next_fire_time(now) if not sub.paused else None
    return {
        **to_json(sub),
        "schedule": sub.schedule.describe(),
        "next_run": upcoming.isoformat() if upcoming else None,
    }
