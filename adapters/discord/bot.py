"""The Discord adapter: slash commands, mentions and scheduled briefings, with discord.py 2.

* Intents are minimal and unprivileged: guilds (channel and permission cache) and guild and
  direct messages (mentions). The text of a message that mentions the bot, and of a DM,
  reaches the bot without the privileged message-content intent.
* Slash commands answer privately (ephemeral) unless the command exists to post in the
  channel (`/briefing now`, a successful subscribe); private answers carry a "share"
  button. Slow commands defer first; the others answer directly, or defer when they have
  not finished within `defer_after` seconds, so Discord's 3-second window is never missed.
* A mention (or a DM) is a question or a /command; the reply answers that message.
* Every message goes out with `AllowedMentions.none()`.
* `publish` posts through the REST API alone, so scheduled briefings do not depend on the
  gateway; Forbidden and NotFound are permanent delivery failures, the rest transient.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any

import aiohttp
import discord
import yarl
from discord.gateway import DiscordWebSocket

from adapters.base import Adapter
from adapters.discord.embeds import DiscordMessage, render_reply
from adapters.discord.settings import DiscordSettings
from adapters.discord.tree import BriefbotTree, build_tree
from adapters.discord.views import NO_MENTIONS, ShareButton, message_view
from bot.chat.context import ChannelRef, CommandContext
from bot.chat.guard import INTERNAL_ERROR
from bot.chat.publishing import Accepted, DeliveryError
from bot.chat.registry import Registry
from bot.chat.replies import Block, Reply, ReplyKind, error
from bot.chat.telemetry import NULL_TELEMETRY, Telemetry

log = logging.getLogger(__name__)

# Kinds worth offering to the channel from a private reply (plus any reply marked shareable).
SHAREABLE_KINDS = frozenset(
    {ReplyKind.ANSWER, ReplyKind.ACTOR, ReplyKind.ACTORS, ReplyKind.TIMELINE}
)
SUBSCRIBABLE_CHANNELS = frozenset({discord.ChannelType.text, discord.ChannelType.news})
MAX_MESSAGES = 10  # per reply; beyond, the reply is cut with a note (timelines can be long)
PLACEHOLDER = "…"
OUTDATED_COMMAND = (
    "Cette commande n'existe pas ou a changé : Discord met la liste à jour, "
    "réessayez dans un instant (/help pour la liste)."
)


def minimal_intents() -> discord.Intents:
    """No privileged intent: guilds, and the messages that mention the bot or are DMs."""
    return discord.Intents(guilds=True, guild_messages=True, dm_messages=True)


def make_client(settings: DiscordSettings) -> discord.Client:
    """`AutoShardedClient` when DISCORD_SHARDS is "auto" or a number, else a `Client`."""
    options: dict[str, Any] = {
        "intents": minimal_intents(),
        "allowed_mentions": NO_MENTIONS,
    }
    if settings.application_id:
        options["application_id"] = settings.application_id
    shards = settings.shards
    if shards == "auto":
        return discord.AutoShardedClient(**options)
    if shards:
        return discord.AutoShardedClient(shard_count=int(shards), **options)
    return discord.Client(**options)


def use_endpoints(settings: DiscordSettings) -> None:
    """Send REST calls to DISCORD_API_URL and open the gateway at DISCORD_GATEWAY_URL when
    they are set (a proxy, a local fake). discord.py keeps both as class attributes, so this
    holds for the whole process, which runs one Discord client."""
    if settings.api_url:
        discord.http.Route.BASE = settings.api_url.rstrip("/")
    if settings.gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.gateway_url)


def delivery_error(exc: BaseException) -> DeliveryError:
    """Map a failed post to the scheduler's policy: permanent when retrying cannot help."""
    if isinstance(exc, discord.Forbidden):
        return DeliveryError(
            "le bot n'a pas le droit d'écrire dans ce canal (permissions ou bot retiré)",
            permanent=True,
        )
    if isinstance(exc, discord.NotFound):
        return DeliveryError("canal Discord introuvable (supprimé ?)", permanent=True)
    if isinstance(exc, discord.HTTPException):
        if exc.status == 401:
            return DeliveryError("jeton Discord refusé (DISCORD_TOKEN)", permanent=True)
        # a 5xx may come after Discord stored the message
        return DeliveryError(
            f"erreur Discord temporaire (HTTP {exc.status})",
            permanent=False,
            maybe_sent=exc.status >= 500,
        )
    sent = not isinstance(exc, aiohttp.ClientConnectorError)  # a refused connection sent nothing
    return DeliveryError("Discord injoignable (réseau)", permanent=False, maybe_sent=sent)


def is_shareable(reply: Reply) -> bool:
    return not reply.is_error and (reply.shareable or reply.kind in SHAREABLE_KINDS)


def strip_mentions(content: str, user_id: int) -> str:
    """The message text without the bot's own mentions (`<@id>` and `<@!id>`)."""
    text = " ".join(re.sub(rf"<@!?{user_id}>", " ", content).split())
    return re.sub(r"\s+([,.])", r"\1", text)  # "Dis-moi <@id>, qui…" → "Dis-moi, qui…"


def message_guild_id(message: discord.Message) -> int | None:
    """The guild a message was posted in, None for a DM — also when the guild is not in
    the cache (the channel then only knows its guild's id): a guild message must never be
    taken for a DM, which the bot answers without being mentioned."""
    if message.guild is not None:
        return message.guild.id
    return getattr(message.channel, "guild_id", None)


def capped(messages: list[DiscordMessage], limit: int = MAX_MESSAGES) -> list[DiscordMessage]:
    if len(messages) <= limit:
        return messages
    kept = messages[:limit]
    left = len(messages) - limit
    plural = "s" if left > 1 else ""
    note = f"Réponse tronquée : {left} message{plural} de plus non affiché{plural}."
    kept[-1] = replace(kept[-1], content=note)
    return kept


class DiscordAdapter(Adapter):
    """Connects the registry's commands to Discord. `telemetry` hears each gateway
    connection and disconnection (discord.py reconnects by itself and says so)."""

    platform = "discord"

    def __init__(
        self,
        registry: Registry,
        settings: DiscordSettings,
        *,
        defer_after: float = 1.5,
        login_timeout: float = 30.0,
        drain_timeout: float = 10.0,
        telemetry: Telemetry = NULL_TELEMETRY,
    ) -> None:
        super().__init__(telemetry)
        self.registry = registry
        self.settings = settings
        self.defer_after = defer_after
        self.login_timeout = login_timeout
        self.drain_timeout = drain_timeout
        use_endpoints(settings)
        self.client = make_client(settings)
        self.tree: BriefbotTree = build_tree(self.client, self, registry)
        self.client.event(self.on_ready)
        self.client.event(self.on_message)
        self.client.event(self.on_connect)
        self.client.event(self.on_disconnect)
        self.client.event(self.on_resumed)
        self.client.setup_hook = self._setup_hook  # type: ignore[method-assign]
        self.logged_in = asyncio.Event()
        self._synced = False
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._inflight: set[asyncio.Task[Any]] = set()

    # -- lifecycle ---------------------------------------------------------------------

    def _token(self) -> str:
        if self.settings.token is None:
            raise RuntimeError("DISCORD_TOKEN is not set")
        return self.settings.token.get_secret_value()

    async def start(self) -> None:
        """Log in and connect in the background; returns once logged in (or failed, or
        after `login_timeout`, so a stalled network never blocks the other adapters)."""
        self._task = asyncio.create_task(self._run(self._token()), name="discord-client")
        waiter = asyncio.create_task(self.logged_in.wait())
        await asyncio.wait(
            {self._task, waiter}, timeout=self.login_timeout, return_when=asyncio.FIRST_COMPLETED
        )
        waiter.cancel()

    async def login(self) -> None:
        """Log in over REST only (no gateway): enough to publish and to handle events fed
        to the client's parser, which is how the tests drive it."""
        await self.client.login(self._token())

    async def _run(self, token: str) -> None:
        try:
            await self.client.start(token)
        except discord.LoginFailure:
            log.error("Discord refused the bot token: check DISCORD_TOKEN")
            self.exit_code = 1
        except discord.PrivilegedIntentsRequired:
            log.error("Discord refused the gateway intents")
            self.exit_code = 1
        except asyncio.CancelledError:
            raise
        except Exception:
            if not self._stopping:  # closing mid-reconnection may raise; that is no failure
                log.exception("the Discord client stopped")
                self.exit_code = 1
        finally:
            self.done.set()

    async def stop(self) -> None:
        """Let in-flight replies finish (up to `drain_timeout`), then disconnect."""
        self._stopping = True
        self.report_connected(False)
        pending = {t for t in self._inflight if not t.done() and t is not asyncio.current_task()}
        if pending:
            await asyncio.wait(pending, timeout=self.drain_timeout)
        await self.client.close()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=self.drain_timeout)
            except (TimeoutError, asyncio.CancelledError):
                self._task.cancel()

    async def _setup_hook(self) -> None:
        self.client.add_dynamic_items(ShareButton)
        self.logged_in.set()

    async def on_connect(self) -> None:
        self.report_connected(True)

    async def on_resumed(self) -> None:
        self.report_connected(True)

    async def on_disconnect(self) -> None:
        self.report_connected(False)

    async def on_ready(self) -> None:
        if self._synced:  # READY comes again after every reconnection
            return
        self._synced = True
        try:
            synced = await self.sync_commands()
            log.info("%d slash commands registered", len(synced))
        except discord.HTTPException as exc:
            log.error(
                "could not register the slash commands (HTTP %s): invite the bot with the "
                "applications.commands scope (briefbot discord-invite)",
                exc.status,
            )

    async def sync_commands(self) -> list[discord.app_commands.AppCommand]:
        """Globally, or to DISCORD_GUILD_ID alone (instant, for development)."""
        guild_id = self.settings.guild_id
        if guild_id:
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            return await self.tree.sync(guild=guild)
        return await self.tree.sync()

    def track(self) -> None:
        """Count the running task as in-flight work that `stop` waits for."""
        task = asyncio.current_task()
        if task is not None and task not in self._inflight:
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)

    # -- slash commands ----------------------------------------------------------------

    def interaction_context(self, interaction: discord.Interaction) -> CommandContext:
        guild_id = interaction.guild_id
        is_direct = guild_id is None
        channel_type = getattr(interaction.channel, "type", None)
        permissions = interaction.permissions

        async def is_admin() -> bool:
            return not is_direct and (permissions.manage_channels or permissions.administrator)

        return _context(guild_id, interaction.channel_id, channel_type, interaction.user, is_admin)

    async def run_slash(
        self,
        interaction: discord.Interaction,
        work: Callable[[CommandContext], Awaitable[Reply]],
        *,
        slow: bool,
        public: bool = False,
    ) -> None:
        """Run a command and answer it. `public` commands may answer the whole channel
        (when the core's reply is not private); the others always answer privately."""
        ctx = self.interaction_context(interaction)
        task = asyncio.ensure_future(work(ctx))
        deferred: bool | None = None  # None: not deferred; else the deferral's ephemerality
        if not slow:
            await asyncio.wait({task}, timeout=self.defer_after)
        if not task.done():
            deferred = not public
            try:
                await interaction.response.defer(ephemeral=deferred, thinking=True)
            except discord.HTTPException as exc:
                log.warning("could not defer /%s (HTTP %s)", _name(interaction), exc.status)
                await task
                return
        reply = await task
        ephemeral = reply.private or not public
        messages = capped(render_reply(reply))
        share = ephemeral and len(messages) == 1 and is_shareable(reply)
        try:
            if deferred is None:
                await self._respond(interaction, messages, ephemeral=ephemeral, share=share)
            else:
                await self._complete(interaction, messages, deferred, ephemeral, share=share)
        except discord.HTTPException as exc:
            log.warning("could not answer /%s (HTTP %s)", _name(interaction), exc.status)

    async def _respond(
        self,
        interaction: discord.Interaction,
        messages: Sequence[DiscordMessage],
        *,
        ephemeral: bool,
        share: bool,
    ) -> None:
        first, *rest = messages
        await interaction.response.send_message(
            ephemeral=ephemeral, **_send_kwargs(first, share=share)
        )
        for message in rest:
            await interaction.followup.send(ephemeral=ephemeral, **_send_kwargs(message))

    async def _complete(
        self,
        interaction: discord.Interaction,
        messages: Sequence[DiscordMessage],
        deferred_ephemeral: bool,
        ephemeral: bool,
        *,
        share: bool,
    ) -> None:
        """Replace the "thinking…" message. Its visibility was fixed by the deferral: when
        the reply needs the other one, the placeholder is resolved, the reply sent as
        follow-ups and the placeholder deleted."""
        rest = list(messages)
        if deferred_ephemeral == ephemeral:
            first = rest.pop(0)
            await interaction.edit_original_response(**_send_kwargs(first, share=share))
        else:
            await interaction.edit_original_response(
                content=PLACEHOLDER, allowed_mentions=NO_MENTIONS
            )
        for message in rest:
            await interaction.followup.send(
                ephemeral=ephemeral, wait=True, **_send_kwargs(message, share=share)
            )
        if deferred_ephemeral != ephemeral:
            await interaction.delete_original_response()

    async def report_failure(
        self, interaction: discord.Interaction, *, outdated: bool = False
    ) -> None:
        """The last resort when a command failed outside the core (or Discord sent one this
        version does not know): say so, privately."""
        if interaction.type is discord.InteractionType.autocomplete:
            return
        text = OUTDATED_COMMAND if outdated else INTERNAL_ERROR
        message = render_reply(error(text))[0]
        try:
            if interaction.response.is_done():
                await interaction.followup.send(ephemeral=True, **_send_kwargs(message))
            else:
                await interaction.response.send_message(ephemeral=True, **_send_kwargs(message))
        except discord.HTTPException:
            log.warning("could not report a failure to the user")

    # -- mentions and DMs --------------------------------------------------------------

    async def on_message(self, message: discord.Message) -> None:
        """Answer a message that mentions the bot, or any DM, by replying to it."""
        me = self.client.user
        if me is None or message.author.bot or message.author.id == me.id:
            return
        if message.webhook_id is not None:
            return
        is_direct = message_guild_id(message) is None
        if not is_direct and all(user.id != me.id for user in message.mentions):
            return  # @everyone, a role or another user: not a question for us
        self.track()
        text = strip_mentions(message.content, me.id)
        ctx = self.message_context(message)
        with contextlib.suppress(discord.HTTPException):
            await message.channel.typing()
        reply = await self.registry.dispatch(ctx, text or "aide")
        messages = capped(render_reply(replace(reply, private=False)))
        reference = message.to_reference(fail_if_not_exists=False)
        try:
            for i, rendered in enumerate(messages):
                kwargs = _send_kwargs(rendered)
                if i == 0:
                    kwargs["reference"] = reference
                await message.channel.send(mention_author=False, **kwargs)
        except discord.HTTPException as exc:
            log.warning("could not answer a mention (HTTP %s)", exc.status)

    def message_context(self, message: discord.Message) -> CommandContext:
        guild_id = message_guild_id(message)
        is_direct = guild_id is None
        channel = message.channel
        channel_type = getattr(channel, "type", None)

        async def is_admin() -> bool:
            if is_direct or not isinstance(message.author, discord.Member):
                return False
            permissions = channel.permissions_for(message.author)
            return permissions.manage_channels or permissions.administrator

        return _context(guild_id, channel.id, channel_type, message.author, is_admin)

    # -- scheduled briefings -----------------------------------------------------------

    async def publish(
        self,
        channel: ChannelRef,
        reply: Reply,
        *,
        key: str = "",
        skip: int = 0,
        check: bool = False,
        accepted: Accepted | None = None,
    ) -> int:
        """Post a reply to a channel over REST, from message `skip` on. Raises
        DeliveryError (`maybe_sent` when Discord did not answer). Each message carries a
        nonce derived from the slot (`key`) and its part; discord.py sends it with
        `enforce_nonce`, so Discord answers a resend within its nonce window (a few
        minutes) with the message it already has instead of posting it again: `check`
        needs nothing more here."""
        target = self._target(channel)
        messages = render_reply(replace(reply, private=False))
        for part, rendered in enumerate(messages):
            if part < skip:
                continue
            kwargs = _send_kwargs(rendered)
            if key:
                kwargs["nonce"] = slot_nonce(key, part)
            try:
                await target.send(**kwargs)
            except (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError) as exc:
                raise delivery_error(exc) from exc
            if accepted is not None:
                await accepted(part + 1)
        return len(messages)

    async def notify_paused(self, channel: ChannelRef, reason: str) -> None:
        """Best effort: the channel may well be the reason for the pause."""
        try:
            target = self._target(channel)
            note = Reply(ReplyKind.INFO, "Briefings en pause", (Block(reason),))
            await target.send(**_send_kwargs(render_reply(note)[0]))
        except Exception:
            log.info("could not tell %s that its briefings are paused", channel)

    def _target(self, channel: ChannelRef) -> discord.PartialMessageable:
        if channel.platform != self.platform or not channel.channel.isdigit():
            raise DeliveryError(f"pas un canal Discord : {channel}", permanent=True)
        if not self.logged_in.is_set():
            raise DeliveryError("le bot Discord n'est pas encore connecté", permanent=False)
        guild_id = int(channel.workspace) if channel.workspace.isdigit() else None
        return self.client.get_partial_messageable(int(channel.channel), guild_id=guild_id)


def slot_nonce(key: str, part: int) -> str:
    """A message nonce (at most 25 characters) that is the same for a slot's part on
    every attempt of every process."""
    return hashlib.sha256(f"{key}#{part}".encode()).hexdigest()[:25]


def _send_kwargs(message: DiscordMessage, *, share: bool = False) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"embeds": list(message.embeds), "allowed_mentions": NO_MENTIONS}
    if message.content:
        kwargs["content"] = message.content
    view = message_view(message.links, share=share)
    if view is not None:
        kwargs["view"] = view
    return kwargs


def _name(interaction: discord.Interaction) -> str:
    command = interaction.command
    return command.qualified_name if command is not None else "?"


def _context(
    guild_id: int | None,
    channel_id: int | None,
    channel_type: object,
    user: discord.abc.User,
    is_admin: Callable[[], Awaitable[bool]],
) -> CommandContext:
    """The core's view of a Discord caller, the same for interactions and messages:
    briefings only in a guild's text or announcement channel, never in a DM or a thread."""
    is_direct = guild_id is None
    return CommandContext(
        channel=ChannelRef("discord", "dm" if is_direct else str(guild_id), str(channel_id)),
        user_id=str(user.id),
        user_name=user.display_name,
        is_admin=is_admin,
        is_direct=is_direct,
        can_subscribe_here=not is_direct
        and (channel_type is None or channel_type in SUBSCRIBABLE_CHANNELS),
    )
