"""The Slack adapter: a slack-bolt `AsyncApp` in front of the command registry.

Socket Mode when `SLACK_APP_TOKEN` is set (no public URL needed), otherwise HTTP mode on
`BRIEFBOT_SLACK_PORT` (`POST /slack/events`, signed with `SLACK_SIGNING_SECRET`, and
`GET /health`). Every listener acknowledges first and hands the work to a task it tracks,
so Slack gets its ack within its 3-second limit whatever the core is doing, and `stop()`
can let in-flight replies finish.

Where replies go: slash commands answer through their `response_url` (ephemeral when the
reply is private, with a button to share an answer in the channel); mentions answer in
the mention's thread (errors privately); direct messages answer in the conversation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import replace
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.base import Adapter
from adapters.slack.api import (
    Sleep,
    delivery_error,
    error_code,
    normalise_api_url,
    web_client,
    webhook_client,
)
from adapters.slack.blocks import FEEDBACK_VOTES, SHARE_ACTION, SlackMessage, render
from adapters.slack.logs import OneLine, bolt_logger
from adapters.slack.mrkdwn import from_slack
from adapters.slack.payloads import ButtonClick, Message, SlashCommand
from adapters.slack.requests import BadRequest, RecentKeys, checked_body
from adapters.slack.settings import SlackSettings
from bot.chat.context import ChannelRef, CommandContext
from bot.chat.packing import unpack
from bot.chat.publishing import Accepted, DeliveryError
from bot.chat.registry import Registry
from bot.chat.replies import Reply, error, info
from bot.chat.telemetry import NULL_TELEMETRY, Telemetry
from bot.settings import ConfigError

log = logging.getLogger(__name__)
log.addFilter(OneLine())  # channel ids, error codes and the like come from requests

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/health"
MAX_RESPONSES = 5  # Slack accepts five posts per response_url
CONNECT_TIMEOUT = 30.0
CONNECTION_CHECK_SECONDS = 1.0  # how often the Socket Mode connection state is looked at
_FEEDBACK_ACTION = re.compile(r"^briefbot_feedback_(up|down)$")
_ANY_COMMAND = re.compile(r"^/.+")
_LEADING_MENTIONS = re.compile(r"^\s*(?:<@[A-Z0-9]+(?:\|[^>]*)?>[\s,:;]*)+")

Work = Coroutine[Any, Any, None]
# The metadata event type of a scheduled briefing's messages (its payload names the slot).
BRIEFING_EVENT = "briefbot_briefing"


class SlackAdapter(Adapter):
    """Serves the registry's commands on Slack and publishes scheduled briefings there.

    `host`/`port` bind the HTTP-mode server (port 0 picks a free one; `self.port` holds the
    bound port after `start`). `socket_mode` defaults to "an app token is configured".
    `sleep` is what waits out a 429's `Retry-After` and a retry's backoff (tests pass a
    recorder, so nothing waits on real time). `telemetry` hears the connection state: in
    HTTP mode up while listening; in Socket Mode looked at every `connection_check` seconds,
    since the SDK reconnects by itself and announces neither the loss nor the return.
    """

    platform = "slack"

    def __init__(
        self,
        registry: Registry,
        settings: SlackSettings,
        *,
        host: str | None = None,
        port: int | None = None,
        socket_mode: bool | None = None,
        sleep: Sleep = asyncio.sleep,
        stop_timeout: float = 10.0,
        telemetry: Telemetry = NULL_TELEMETRY,
        connection_check: float = CONNECTION_CHECK_SECONDS,
    ) -> None:
        super().__init__(telemetry)
        self.registry = registry
        self.settings = settings
        problems = []
        if settings.bot_token is None:
            problems.append("SLACK_BOT_TOKEN: not set (the bot token, xoxb-…)")
        self.socket_mode = settings.app_token is not None if socket_mode is None else socket_mode
        if self.socket_mode and settings.app_token is None:
            problems.append("SLACK_APP_TOKEN: not set, and Socket Mode needs it (xapp-…)")
        if not self.socket_mode and settings.signing_secret is None:
            problems.append(
                "SLACK_SIGNING_SECRET: not set, and HTTP mode needs it "
                "(or set SLACK_APP_TOKEN to use Socket Mode)"
            )
        if problems:
            raise ConfigError(problems)
        self.host = settings.host if host is None else host
        self.port = settings.port if port is None else port
        self.api_url = normalise_api_url(settings.api_url)
        self.stop_timeout = stop_timeout
        self.bot_user_id: str | None = None
        self.team_id: str | None = None
        self.client: AsyncWebClient | None = None
        self.app: AsyncApp | None = None
        self._sleep = sleep
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._connection_check = connection_check
        self._watcher: asyncio.Task[None] | None = None
        self._history_denied = False
        self._handled = RecentKeys()

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Check the token, then listen (Socket Mode or HTTP). Raises ConfigError when
        Slack refuses a token, naming the setting, never its value."""
        assert self.settings.bot_token is not None
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))
        self.client = web_client(
            self.settings.bot_token.get_secret_value(),
            api_url=self.api_url,
            session=self._session,
            sleep=self._sleep,
        )
        try:
            await self._connect()
        except SlackApiError as err:
            await self._close_session()
            raise ConfigError(
                [f"SLACK_BOT_TOKEN: Slack refused the token ({error_code(err)})"]
            ) from None
        except (aiohttp.ClientError, OSError, TimeoutError) as err:
            await self._close_session()
            raise ConfigError(
                [f"SLACK_API_URL: cannot reach {self.api_url} ({type(err).__name__})"]
            ) from None
        except BaseException:
            await self._close_session()
            raise
        log.info(
            "Slack adapter ready (%s) as %s in %s",
            "Socket Mode" if self.socket_mode else f"HTTP on port {self.port}",
            self.bot_user_id,
            self.team_id,
        )

    async def _connect(self) -> None:
        assert self.client is not None
        auth = await self.client.auth_test()
        self.bot_user_id = auth.get("user_id")
        self.team_id = auth.get("team_id")
        self.app = self._build_app()
        if self.socket_mode:
            await self._start_socket_mode()
        else:
            await self._start_http()

    async def stop(self) -> None:
        """Stop listening, let in-flight replies finish (up to `stop_timeout`), close."""
        if self._watcher is not None:
            self._watcher.cancel()
            await asyncio.gather(self._watcher, return_exceptions=True)
            self._watcher = None
        self.report_connected(False)
        if self._socket is not None:
            try:
                await self._socket.close_async()
            except Exception:
                log.exception("closing the Socket Mode connection failed")
            self._socket = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.wait_idle(self.stop_timeout)
        await self._close_session()

    async def wait_idle(self, timeout: float | None = None) -> None:
        """Wait for the replies in flight; after `timeout` seconds, cancel the rest."""
        while self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
            if pending:
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
                return

    async def _close_session(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def _start_http(self) -> None:
        web_app = web.Application()
        web_app.router.add_post(EVENTS_PATH, self._http_events)
        web_app.router.add_get(HEALTH_PATH, self._http_health)
        self._runner = web.AppRunner(web_app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except OSError as err:
            await self._runner.cleanup()
            self._runner = None
            raise ConfigError(
                [f"BRIEFBOT_SLACK_PORT: cannot listen on {self.host}:{self.port} ({err.strerror})"]
            ) from None
        self.port = int(self._runner.addresses[0][1])
        self.report_connected(True)

    async def _start_socket_mode(self) -> None:
        assert self.app is not None and self.client is not None
        assert self.settings.app_token is not None
        app_token = self.settings.app_token.get_secret_value()
        try:  # open the first connection ourselves: a bad app token fails here, clearly
            opened = await self.client.apps_connections_open(app_token=app_token)
        except SlackApiError as err:
            raise ConfigError(
                [
                    f"SLACK_APP_TOKEN: Slack refused the app-level token ({error_code(err)}); "
                    "it needs the connections:write scope"
                ]
            ) from None
        self._socket = AsyncSocketModeHandler(self.app, app_token, web_client=self.client)
        self._socket.client.wss_uri = opened["url"]
        try:
            await asyncio.wait_for(self._socket.connect_async(), CONNECT_TIMEOUT)
        except TimeoutError:
            await self._socket.close_async()
            self._socket = None
            raise ConfigError(
                ["SLACK_APP_TOKEN: could not open the Socket Mode connection"]
            ) from None
        self.report_connected(True)
        self._watcher = asyncio.create_task(self._watch_socket(), name="slack-connection")

    async def _watch_socket(self) -> None:
        """Report each change of the Socket Mode connection state until `stop`."""
        connected = True
        while self._socket is not None:
            await asyncio.sleep(self._connection_check)
            try:
                now = await self._socket.client.is_connected()
            except Exception:  # the client is being closed
                now = False
            if now != connected:
                connected = now
                self.report_connected(now)
                log.log(
                    logging.INFO if now else logging.WARNING,
                    "Slack Socket Mode connection %s",
                    "restored" if now else "lost",
                )

    async def _http_events(self, request: web.Request) -> web.Response:
        """Bolt gets only requests it can read: a malformed one is answered 400 with one
        log line naming what is wrong (never the body), and the server carries on."""
        assert self.app is not None
        try:
            text = checked_body(request.headers, await request.read())
        except BadRequest as err:
            log.warning("rejected a request to %s: %s", EVENTS_PATH, err)
            return web.json_response({"error": str(err)}, status=400)
        bolt_request = AsyncBoltRequest(
            body=text, query=request.query_string, headers=dict(request.headers)
        )
        try:
            bolt_response = await self.app.async_dispatch(bolt_request)
        except Exception as err:  # a shape bolt cannot read that the check above let by
            log.warning("rejected a request to %s: %s", EVENTS_PATH, type(err).__name__)
            return web.json_response({"error": "malformed request"}, status=400)
        return await to_aiohttp_response(bolt_response)

    async def _http_health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "platform": "slack", "mode": "http"})

    def _build_app(self) -> AsyncApp:
        secret = self.settings.signing_secret
        app = AsyncApp(
            name="briefbot",
            client=self.client,
            logger=bolt_logger(),
            signing_secret=secret.get_secret_value() if secret else "",
            request_verification_enabled=not self.socket_mode,
            # Our listeners only ack and hand the work to a task, so they can run before
            # the response is sent: this spares bolt's 10 ms polling for the ack.
            process_before_response=True,
        )
        app.command(_ANY_COMMAND)(self._on_command)
        app.event("app_mention")(self._on_mention)
        app.event("message")(self._on_message)
        app.action(SHARE_ACTION)(self._on_share)
        app.action(_FEEDBACK_ACTION)(self._on_feedback)
        app.error(self._on_error)
        return app

    # --- listeners: acknowledge, then work in a tracked task ------------------------------

    async def _on_command(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        if self._first_delivery("trigger", body.get("trigger_id")):
            self._spawn(self._handle_command(SlashCommand.from_body(body)))

    async def _on_mention(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        message = Message.from_event(body, event)
        # a mention inside a DM: the message handler answers; events are acked by bolt
        if not message.is_direct and self._first_delivery("event", body.get("event_id")):
            self._spawn(self._handle_mention(message))

    async def _on_message(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        message = Message.from_event(body, event)
        if message.is_from_a_person_in_a_dm and self._first_delivery("event", body.get("event_id")):
            self._spawn(self._handle_direct(message))

    def _first_delivery(self, kind: str, delivery_id: object) -> bool:
        """False for a retry of a delivery already handled (Slack resends an event it
        thinks unanswered, with the same id); a delivery without an id is handled."""
        if not isinstance(delivery_id, str) or not delivery_id:
            return True
        if self._handled.first_time(f"{kind}:{delivery_id}"):
            return True
        log.info("ignored a retry of Slack %s %s", kind, delivery_id)
        return False

    async def _on_share(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        self._spawn(self._handle_share(ButtonClick.from_body(body)))

    async def _on_feedback(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        self._spawn(self._handle_feedback(ButtonClick.from_body(body)))

    async def _on_error(self, error: Exception, body: dict[str, Any] | None = None) -> None:
        log.error("Slack listener failed: %s", type(error).__name__, exc_info=error)

    def _spawn(self, work: Work) -> None:
        task = asyncio.create_task(self._logged(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _logged(work: Work) -> None:
        """Handlers never raise (the registry guards them); a failure to *send* is logged."""
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("Slack handler failed")

    # --- the work -------------------------------------------------------------------------

    async def _handle_command(self, cmd: SlashCommand) -> None:
        ctx = self.context(
            team=cmd.team,
            channel=cmd.channel,
            user=cmd.user,
            user_name=cmd.user_name,
            is_direct=cmd.is_direct,
        )
        reply = await self.registry.run_text(ctx, cmd.command, cmd.text)
        share = reply.private and reply.shareable and not cmd.is_direct
        await self._respond(cmd.response_url, render(reply, share=share), private=reply.private)

    async def _handle_mention(self, message: Message) -> None:
        ctx = self.context(team=message.team, channel=message.channel, user=message.user)
        reply = await self._conversation_reply(ctx, message.text)
        thread = message.thread_ts or message.ts
        messages = render(reply, share=False)
        if reply.is_error:  # only the asker needs to see a refusal or a "slow down"
            try:
                await self._post_ephemeral(
                    message.channel, message.user, messages, thread_ts=thread
                )
                return
            except SlackApiError as err:
                log.info("ephemeral reply refused (%s), answering in the thread", error_code(err))
        await self._post_quietly(message.channel, messages, thread_ts=thread)

    async def _handle_direct(self, message: Message) -> None:
        ctx = self.context(
            team=message.team, channel=message.channel, user=message.user, is_direct=True
        )
        reply = await self._conversation_reply(ctx, message.text)
        await self._post_quietly(
            message.channel, render(reply, share=False), thread_ts=message.thread_ts
        )

    async def _handle_share(self, click: ButtonClick) -> None:
        shared = unpack(click.value)
        if shared is None:
            reply = error("Cette réponse ne peut plus être partagée.")
            await self._respond(click.response_url, render(reply))
            return
        who = click.user_name or "un membre"
        reply = replace(shared, private=False, shareable=False, footer=f"Partagé par {who}")
        await self._respond(click.response_url, render(reply, share=False), private=False)

    async def _handle_feedback(self, click: ButtonClick) -> None:
        ctx = self.context(
            team=click.team,
            channel=click.channel,
            user=click.user,
            user_name=click.user_name,
            is_direct=click.is_direct,
        )
        vote = FEEDBACK_VOTES.get(click.action_id)
        reply = await self.registry.run(ctx, "feedback", {"vote": vote, "answer": click.value})
        await self._respond(click.response_url, render(reply, share=False, feedback=False))

    async def _conversation_reply(self, ctx: CommandContext, raw: str) -> Reply:
        """A mention or a DM: a question, a "/command …" line, or a call for help (Slack
        itself intercepts messages that start with "/help", so "aide" works too); a bare
        mention gets the help."""
        text = self._strip_bot_mentions(raw)
        return await self.registry.dispatch(ctx, text or "aide")

    def _strip_bot_mentions(self, raw: str) -> str:
        text = _LEADING_MENTIONS.sub("", raw)
        if self.bot_user_id:
            text = re.sub(rf"<@{re.escape(self.bot_user_id)}(?:\|[^>]*)?>", "", text)
        return from_slack(text).strip()

    # --- who is asking --------------------------------------------------------------------

    def context(
        self,
        *,
        team: str | None,
        channel: str,
        user: str | None,
        user_name: str | None = None,
        is_direct: bool = False,
    ) -> CommandContext:
        return CommandContext(
            ChannelRef("slack", str(team or self.team_id or ""), channel),
            user_id=str(user or ""),
            user_name=str(user_name or ""),
            is_admin=self.admin_check(str(user or "")),
            is_direct=is_direct,
            can_subscribe_here=not is_direct,
        )

    def admin_check(self, user_id: str) -> Callable[[], Awaitable[bool]]:
        """Workspace admins and owners (users.info), and the users of BRIEFBOT_SLACK_ADMINS."""

        async def is_admin() -> bool:
            if user_id and user_id in self.settings.admins:
                return True
            if not user_id or self.client is None:
                return False
            try:
                response = await self.client.users_info(user=user_id)
            except SlackApiError as err:
                log.warning(
                    "users.info failed (%s): treating the user as a member", error_code(err)
                )
                return False
            except (aiohttp.ClientError, OSError, TimeoutError) as err:
                log.warning("users.info unreachable (%s)", type(err).__name__)
                return False
            profile = response.get("user") or {}
            return bool(
                profile.get("is_admin")
                or profile.get("is_owner")
                or profile.get("is_primary_owner")
            )

        return is_admin

    # --- sending --------------------------------------------------------------------------

    async def _respond(
        self, url: str, messages: Sequence[SlackMessage], *, private: bool = True
    ) -> None:
        """Post through an interaction's `response_url` (at most five posts, so an
        over-long reply ends with a note rather than being cut off silently)."""
        if not url:
            log.warning("no response_url to answer with")
            return
        messages = list(messages)
        if len(messages) > MAX_RESPONSES:
            hidden = len(messages) - (MAX_RESPONSES - 1)
            note = info(
                "Réponse tronquée",
                f"{hidden} message{'s' if hidden > 1 else ''} de plus "
                f"{'ne peuvent' if hidden > 1 else 'ne peut'} pas être affiché"
                f"{'s' if hidden > 1 else ''} ici.",
            )
            messages = messages[: MAX_RESPONSES - 1] + render(note)
        client = webhook_client(url, session=self._session, sleep=self._sleep)
        for message in messages:
            body = {
                "response_type": "ephemeral" if private else "in_channel",
                "replace_original": False,
                **message.payload(),
                "unfurl_links": False,
                "unfurl_media": False,
            }
            try:
                response = await client.send_dict(body)
            except (aiohttp.ClientError, OSError, TimeoutError) as err:
                log.warning("response_url unreachable (%s)", type(err).__name__)
                return
            if response.status_code != 200:
                log.warning(
                    "response_url refused the reply: HTTP %s %s",
                    response.status_code,
                    response.body[:100],
                )
                return

    async def _post(
        self, channel: str, messages: Sequence[SlackMessage], *, thread_ts: str | None = None
    ) -> None:
        """chat.postMessage, one call per message; raises SlackApiError."""
        if self.client is None:
            raise DeliveryError("l'adaptateur Slack n'est pas démarré", permanent=False)
        for message in messages:
            await self.client.chat_postMessage(
                channel=channel,
                thread_ts=thread_ts,
                link_names=False,
                unfurl_links=False,
                unfurl_media=False,
                **message.payload(),
            )

    async def _post_quietly(
        self, channel: str, messages: Sequence[SlackMessage], *, thread_ts: str | None = None
    ) -> None:
        try:
            await self._post(channel, messages, thread_ts=thread_ts)
        except SlackApiError as err:
            log.warning("could not answer in %s (%s)", channel, error_code(err))
        except (aiohttp.ClientError, OSError, TimeoutError) as err:
            log.warning("could not answer in %s (%s)", channel, type(err).__name__)

    async def _post_ephemeral(
        self,
        channel: str,
        user: str,
        messages: Sequence[SlackMessage],
        *,
        thread_ts: str | None = None,
    ) -> None:
        assert self.client is not None
        for message in messages:
            await self.client.chat_postEphemeral(
                channel=channel,
                user=user,
                thread_ts=thread_ts,
                link_names=False,
                **message.payload(),
            )

    # --- scheduled briefings --------------------------------------------------------------

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
        """Post a briefing with chat.postMessage, from message `skip` on, each message
        carrying metadata that names the slot (`key`) and its part. With `check`, the
        channel's recent history is read first and parts already there are not posted
        again (needs the `channels:history` scope; without it they are posted again).
        Failures become DeliveryError (permanent for a missing/archived channel or a bad
        token, transient for limits and network, `maybe_sent` when Slack did not answer)."""
        messages = render(replace(reply, private=False), share=False)
        try:
            if self.client is None:
                raise DeliveryError("l'adaptateur Slack n'est pas démarré", permanent=False)
            posted = await self._posted_parts(channel.channel, key) if check and key else set()
            for part, message in enumerate(messages):
                if part < skip:
                    continue
                if part not in posted:
                    await self.client.chat_postMessage(
                        channel=channel.channel,
                        link_names=False,
                        unfurl_links=False,
                        unfurl_media=False,
                        metadata={
                            "event_type": BRIEFING_EVENT,
                            "event_payload": {"slot": key, "part": part, "parts": len(messages)},
                        },
                        **message.payload(),
                    )
                if accepted is not None:
                    await accepted(part + 1)
        except (SlackApiError, aiohttp.ClientError, OSError, TimeoutError) as err:
            failure = delivery_error(err)
            log.warning("publishing to %s failed: %s", channel, failure.reason)
            raise failure from None
        return len(messages)

    async def _posted_parts(self, channel: str, key: str) -> set[int]:
        """The parts of slot `key` already in the channel's last 100 messages; empty
        (nothing can be checked) without the history scope."""
        if self._history_denied or self.client is None:
            return set()
        try:
            response = await self.client.conversations_history(
                channel=channel, limit=100, include_all_metadata=True
            )
        except SlackApiError as err:
            if error_code(err) not in ("missing_scope", "not_allowed_token_type"):
                raise
            self._history_denied = True
            log.warning(
                "cannot read channel history (%s): a briefing interrupted after Slack "
                "accepted it may be posted twice; add the channels:history scope",
                error_code(err),
            )
            return set()
        parts: set[int] = set()
        for message in response.get("messages") or []:
            metadata = message.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if metadata.get("event_type") == BRIEFING_EVENT and payload.get("slot") == key:
                with contextlib.suppress(TypeError, ValueError):
                    parts.add(int(payload.get("part", -1)))
        return parts

    async def notify_paused(self, channel: ChannelRef, reason: str) -> None:
        """Best effort: the channel may well be the reason for the pause."""
        try:
            await self._post(channel.channel, render(info("Briefings en pause", reason)))
        except Exception as err:
            log.info("could not tell %s its briefings are paused (%s)", channel, type(err).__name__)
