"""A local fake of Discord's REST API on 127.0.0.1, and the gateway payloads Discord sends.

The bot's discord.py client talks to it for real (aiohttp, JSON, HTTP status codes) once
`discord.http.Route.BASE` points at `FakeDiscord.api_base`. It serves what the bot uses:
login (`/users/@me`, `/oauth2/applications/@me`), interaction callbacks, the interaction
webhook (follow-ups, `@original` edits and deletes), channel messages and typing, and
command registration. Every request is recorded with its JSON body. Like Discord, it
refuses what would be refused in production: a second callback for one interaction, an
edit before any callback, an unknown interaction token, a message over the limits
(2,000 characters of content, 10 embeds, 6,000 embed characters, 4,096 per description,
25 fields, 5 buttons per row) — with Discord's error codes, so the bot's error handling
runs too. Tests script failures per route (`fail("POST", "/channels/1/messages", 403)`).

It also serves a minimal gateway websocket under `/gateway` (`gateway_url`): HELLO, then
READY for an IDENTIFY with the right token (4004 otherwise), RESUMED for a RESUME of its
session, and an ACK for every heartbeat, in plain JSON text frames (discord.py inflates
only binary ones). `drop()` closes it from Discord's side and can refuse new connections
until `accept()`, to play an outage.

The builders at the bottom produce INTERACTION_CREATE, MESSAGE_CREATE and GUILD_CREATE
payloads as the gateway delivers them, to feed the client's own parsers.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

API_VERSION = 10
TOKEN = "fake-discord-token"
APPLICATION_ID = 1100000000000000001
BOT_ID = APPLICATION_ID  # a bot's user id is its application's id
GUILD_ID = 1100000000000000100
CHANNEL_ID = 1100000000000000200
THREAD_ID = 1100000000000000250
DM_CHANNEL_ID = 1100000000000000300
OWNER_ID = 1100000000000000400
USER_ID = 1100000000000000500
ADMIN_ROLE_ID = 1100000000000000600
OTHER_BOT_ID = 1100000000000000700
TIMESTAMP = "2024-04-20T08:00:00.000000+00:00"

# Permission bits (https://discord.com/developers/docs/topics/permissions).
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
READ_MESSAGE_HISTORY = 1 << 16
USE_APPLICATION_COMMANDS = 1 << 31
MANAGE_CHANNELS = 1 << 4
ADMINISTRATOR = 1 << 3
MEMBER_PERMISSIONS = (
    VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | READ_MESSAGE_HISTORY | USE_APPLICATION_COMMANDS
)
MANAGER_PERMISSIONS = MEMBER_PERMISSIONS | MANAGE_CHANNELS

# Interaction callback types and message flags.
CHANNEL_MESSAGE = 4
DEFERRED_CHANNEL_MESSAGE = 5
AUTOCOMPLETE_RESULT = 8
EPHEMERAL = 1 << 6

CONTENT_LIMIT = 2000
EMBEDS_LIMIT = 10
EMBED_TOTAL_LIMIT = 6000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELDS_LIMIT = 25
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
ROWS_LIMIT = 5
BUTTONS_PER_ROW = 5
LABEL_LIMIT = 80
CUSTOM_ID_LIMIT = 100
CHOICES_LIMIT = 25


@dataclass
class Call:
    """One request the fake received."""

    method: str
    path: str  # without the /api/v10 prefix
    query: dict[str, str]
    json: Any
    authorization: str | None = None


@dataclass
class Scripted:
    status: int
    code: int = 0
    message: str = ""


@dataclass
class _Interaction:
    id: str
    token: str
    channel_id: str
    guild_id: str | None
    callback: int | None = None  # the callback type once acknowledged
    ephemeral: bool = False
    original: dict[str, Any] | None = None


@dataclass
class FakeDiscord:
    application_id: int = APPLICATION_ID
    bot_id: int = BOT_ID
    token: str = TOKEN
    calls: list[Call] = field(default_factory=list)
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    commands: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # scope -> list
    _interactions: dict[str, _Interaction] = field(default_factory=dict)
    _scripts: dict[tuple[str, str], deque[Scripted]] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1200000000000000000))
    _runner: web.AppRunner | None = None
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)
    base_url: str = ""
    refusing: bool = False  # the gateway refuses new connections (an outage)
    gateway_sessions: list[str] = field(default_factory=list)  # "identify" or "resume", in order
    _socket: web.WebSocketResponse | None = None

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> FakeDiscord:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v{version:\\d+}/{path:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._socket is not None and not self._socket.closed:
            await self._socket.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def gateway_url(self) -> str:
        """Where the gateway listens (discord.py adds its own query string)."""
        return self.base_url.replace("http://", "ws://", 1) + "/gateway"

    @property
    def api_base(self) -> str:
        """What `discord.http.Route.BASE` must be set to."""
        return f"{self.base_url}/api/v{API_VERSION}"

    # --- test controls ------------------------------------------------------------------

    def snowflake(self) -> str:
        return str(next(self._ids))

    def expect_interaction(
        self, interaction_id: str, token: str, channel_id: int, guild_id: int | None
    ) -> None:
        """Make an interaction known, as Discord knows every one it delivers."""
        self._interactions[token] = _Interaction(
            interaction_id, token, str(channel_id), str(guild_id) if guild_id else None
        )

    def fail(self, method: str, path: str, status: int, *, code: int = 0, times: int = 1) -> None:
        """The next `times` requests to `method path` get this error."""
        message = {403: "Missing Permissions", 404: "Unknown Channel", 401: "401: Unauthorized"}
        queue = self._scripts.setdefault((method.upper(), path), deque())
        for _ in range(times):
            queue.append(Scripted(status, code, message.get(status, "Error")))

    def calls_to(self, method: str, pattern: str) -> list[Call]:
        """Calls whose method matches and whose path matches the regex `pattern` fully."""
        regex = re.compile(pattern)
        return [c for c in self.calls if c.method == method and regex.fullmatch(c.path)]

    async def wait_until(self, count: int, timeout: float = 10.0) -> list[Call]:
        """The calls, once at least `count` have arrived (`timeout` only guards a hang)."""
        async with self._arrived:
            enough = self._arrived.wait_for(lambda: len(self.calls) >= count)
            await asyncio.wait_for(enough, timeout)
        return self.calls

    async def drop(self, *, refuse: bool = True) -> None:
        """Close the gateway connection as Discord does when a node goes away (4000, which a
        client may resume); with `refuse`, new connections fail until `accept()`."""
        self.refusing = refuse
        if self._socket is not None and not self._socket.closed:
            await self._socket.close(code=4000, message=b"unknown error")

    def accept(self) -> None:
        """End the outage `drop(refuse=True)` began."""
        self.refusing = False

    def for_interaction(self, token: str) -> list[Call]:
        """Everything the bot sent about one interaction, in order."""
        return [c for c in self.calls if f"/{token}" in c.path]

    # --- dispatch -----------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["path"]
        body: Any = None
        if request.can_read_body:
            body = await request.json() if request.content_type == "application/json" else None
        call = Call(
            request.method, path, dict(request.query), body, request.headers.get("Authorization")
        )
        self.calls.append(call)
        async with self._arrived:
            self._arrived.notify_all()
        scripted = self._scripts.get((request.method, path))
        if scripted:
            answer = scripted.popleft()
            if not scripted:
                del self._scripts[(request.method, path)]
            return _error(answer.status, answer.code, answer.message)
        for method, regex, handler in self._routes():
            match = regex.fullmatch(path)
            if method == request.method and match:
                if not self._authorized(request, path):
                    return _error(401, 0, "401: Unauthorized")
                return await handler(call, **match.groupdict())
        return _error(404, 0, "404: Not Found")

    def _routes(self) -> list[tuple[str, re.Pattern[str], Any]]:
        app = str(self.application_id)
        return [
            ("GET", re.compile(r"/users/@me"), self._me),
            ("GET", re.compile(r"/oauth2/applications/@me"), self._application),
            ("POST", re.compile(r"/interactions/(?P<iid>\d+)/(?P<token>[^/]+)/callback"),
             self._callback),
            ("PATCH", re.compile(rf"/webhooks/{app}/(?P<token>[^/]+)/messages/@original"),
             self._edit_original),
            ("DELETE", re.compile(rf"/webhooks/{app}/(?P<token>[^/]+)/messages/@original"),
             self._delete_original),
            ("POST", re.compile(rf"/webhooks/{app}/(?P<token>[^/]+)"), self._followup),
            ("POST", re.compile(r"/channels/(?P<channel>\d+)/messages"), self._channel_message),
            ("POST", re.compile(r"/channels/(?P<channel>\d+)/typing"), self._typing),
            ("PUT", re.compile(rf"/applications/{app}/commands"), self._put_commands),
            ("PUT", re.compile(rf"/applications/{app}/guilds/(?P<guild>\d+)/commands"),
             self._put_commands),
        ]  # fmt: skip

    def _authorized(self, request: web.Request, path: str) -> bool:
        if path.startswith(("/webhooks/", "/interactions/")):  # the token is the credential
            return True
        return request.headers.get("Authorization") == f"Bot {self.token}"

    # --- gateway ------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        if self.refusing:
            return web.Response(status=503, text="unavailable")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._socket = ws
        sequence = itertools.count(1)
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None})
        async for message in ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            payload = json.loads(message.data)
            op, data = payload.get("op"), payload.get("d") or {}
            if op == 1:  # heartbeat
                await ws.send_json({"op": 11, "d": None, "s": None, "t": None})
            elif op == 2:  # identify
                if data.get("token") != self.token:
                    await ws.close(code=4004, message=b"Authentication failed.")
                    break
                self.gateway_sessions.append("identify")
                await ws.send_json({"op": 0, "t": "READY", "s": next(sequence), "d": self._ready()})
            elif op == 6:  # resume
                self.gateway_sessions.append("resume")
                seq = int(data.get("seq") or 0) + 1
                await ws.send_json({"op": 0, "t": "RESUMED", "s": seq, "d": {}})
        return ws

    def _ready(self) -> dict[str, Any]:
        return {
            "v": API_VERSION,
            "user": bot_user(self.bot_id),
            "guilds": [],
            "session_id": "fake-session",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.application_id), "flags": 0},
            "shard": [0, 1],
        }

    # --- login --------------------------------------------------------------------------

    async def _me(self, call: Call) -> web.Response:
        return _json(bot_user(self.bot_id))

    async def _application(self, call: Call) -> web.Response:
        return _json(
            {
                "id": str(self.application_id),
                "name": "briefbot",
                "icon": None,
                "description": "",
                "bot_public": False,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "owner": user(OWNER_ID, "owner"),
                "team": None,
                "flags": 0,
                "bot": bot_user(self.bot_id),
            }
        )

    # --- interactions -------------------------------------------------------------------

    async def _callback(self, call: Call, iid: str, token: str) -> web.Response:
        interaction = self._interactions.get(token)
        if interaction is None or interaction.id != iid:
            return _error(404, 10062, "Unknown interaction")
        if interaction.callback is not None:
            return _error(400, 40060, "Interaction has already been acknowledged.")
        payload = call.json or {}
        kind = payload.get("type")
        data = payload.get("data") or {}
        if kind == AUTOCOMPLETE_RESULT:
            problem = _check_choices(data)
            if problem:
                return _invalid(problem)
            interaction.callback = kind
            return web.Response(status=204)
        if kind not in (CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE):
            return _invalid(f"unexpected callback type {kind}")
        if kind == CHANNEL_MESSAGE:
            problem = check_message(data)
            if problem:
                return _invalid(problem)
        interaction.callback = kind
        interaction.ephemeral = bool((data.get("flags") or 0) & EPHEMERAL)
        message = self._message(
            interaction.channel_id,
            data if kind == CHANNEL_MESSAGE else {"flags": data.get("flags")},
        )
        interaction.original = message
        return _json(
            {
                "interaction": {
                    "id": interaction.id,
                    "type": 2,
                    "response_message_id": message["id"],
                    "response_message_loading": kind == DEFERRED_CHANNEL_MESSAGE,
                    "response_message_ephemeral": interaction.ephemeral,
                },
                "resource": {"type": kind, "message": message},
            }
        )

    async def _edit_original(self, call: Call, token: str) -> web.Response:
        interaction = self._interactions.get(token)
        if interaction is None or interaction.original is None:
            return _error(404, 10008, "Unknown Message")
        problem = check_message(call.json or {})
        if problem:
            return _invalid(problem)
        flags = interaction.original.get("flags", 0)  # an edit cannot change the visibility
        interaction.original.update({k: v for k, v in (call.json or {}).items() if k != "flags"})
        interaction.original["flags"] = flags
        return _json(interaction.original)

    async def _delete_original(self, call: Call, token: str) -> web.Response:
        interaction = self._interactions.get(token)
        if interaction is None or interaction.original is None:
            return _error(404, 10008, "Unknown Message")
        self.messages.pop(interaction.original["id"], None)
        interaction.original = None
        return web.Response(status=204)

    async def _followup(self, call: Call, token: str) -> web.Response:
        interaction = self._interactions.get(token)
        if interaction is None or interaction.callback is None:
            return _error(404, 10015, "Unknown Webhook")
        payload = call.json or {}
        problem = check_message(payload)
        if problem:
            return _invalid(problem)
        return _json(self._message(interaction.channel_id, payload))

    # --- channels -----------------------------------------------------------------------

    async def _channel_message(self, call: Call, channel: str) -> web.Response:
        payload = call.json or {}
        problem = check_message(payload)
        if problem:
            return _invalid(problem)
        nonce = payload.get("nonce")
        if nonce is not None and payload.get("enforce_nonce"):  # Discord's deduplication
            for message in self.messages.values():
                if message.get("nonce") == nonce and message["channel_id"] == channel:
                    return _json(message)
        message = self._message(channel, payload)
        if nonce is not None:
            message["nonce"] = nonce
        return _json(message)

    async def _typing(self, call: Call, channel: str) -> web.Response:
        return web.Response(status=204)

    async def _put_commands(self, call: Call, guild: str | None = None) -> web.Response:
        scope = guild or "global"
        registered = [
            {
                **command,
                "id": self.snowflake(),
                "application_id": str(self.application_id),
                "version": self.snowflake(),
                **({"guild_id": guild} if guild else {}),
            }
            for command in call.json or []
        ]
        self.commands[scope] = registered
        return _json(registered)

    def _message(self, channel_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        message = message_object(
            self.snowflake(),
            channel_id,
            bot_user(self.bot_id),
            content=payload.get("content") or "",
            embeds=payload.get("embeds") or [],
            components=payload.get("components") or [],
            flags=payload.get("flags") or 0,
        )
        reference = payload.get("message_reference")
        if reference:
            message["message_reference"] = reference
            message["type"] = 19
        self.messages[message["id"]] = message
        return message


def _json(data: Any, status: int = 200) -> web.Response:
    """JSON with Discord's exact `Content-Type` (discord.py compares it verbatim)."""
    return web.Response(
        status=status,
        body=json.dumps(data).encode(),
        headers={"Content-Type": "application/json"},
    )


def _error(status: int, code: int, message: str) -> web.Response:
    return _json({"code": code, "message": message}, status=status)


def _invalid(problem: str) -> web.Response:
    return _json(
        {"code": 50035, "message": "Invalid Form Body", "errors": {"_problem": problem}},
        status=400,
    )


def embed_chars(embed: dict[str, Any]) -> int:
    """Characters Discord counts towards the 6,000 of a message."""
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    total += len((embed.get("footer") or {}).get("text") or "")
    total += len((embed.get("author") or {}).get("name") or "")
    return total + sum(
        len(f.get("name", "")) + len(f.get("value", "")) for f in embed.get("fields", [])
    )


def check_message(payload: dict[str, Any]) -> str | None:
    """What Discord would refuse in a message payload, or None."""
    content = payload.get("content") or ""
    embeds = payload.get("embeds") or []
    components = payload.get("components") or []
    if len(content) > CONTENT_LIMIT:
        return f"content is {len(content)} characters"
    if len(embeds) > EMBEDS_LIMIT:
        return f"{len(embeds)} embeds"
    if sum(embed_chars(e) for e in embeds) > EMBED_TOTAL_LIMIT:
        return "embeds exceed 6000 characters"
    for embed in embeds:
        if len(embed.get("title") or "") > TITLE_LIMIT:
            return "embed title too long"
        if len(embed.get("description") or "") > DESCRIPTION_LIMIT:
            return "embed description too long"
        fields = embed.get("fields") or []
        if len(fields) > FIELDS_LIMIT:
            return "too many fields"
        for f in fields:
            if not f.get("name") or not f.get("value"):
                return "empty field"
            if len(f["name"]) > FIELD_NAME_LIMIT or len(f["value"]) > FIELD_VALUE_LIMIT:
                return "field too long"
        if len((embed.get("footer") or {}).get("text") or "") > FOOTER_LIMIT:
            return "footer too long"
        url = embed.get("url")
        if url and not re.match(r"https?://", url):
            return "embed url must be http(s)"
        if not any(embed.get(k) for k in ("title", "description", "fields", "footer")):
            return "empty embed"
    if len(components) > ROWS_LIMIT:
        return "too many component rows"
    for row in components:
        buttons = row.get("components") or []
        if row.get("type") != 1 or not 1 <= len(buttons) <= BUTTONS_PER_ROW:
            return "bad action row"
        for button in buttons:
            if len(button.get("label") or "") > LABEL_LIMIT:
                return "button label too long"
            if button.get("style") == 5:
                if not re.match(r"https?://", button.get("url") or "") or "custom_id" in button:
                    return "bad link button"
            elif not 1 <= len(button.get("custom_id") or "") <= CUSTOM_ID_LIMIT:
                return "bad custom_id"
    if not (content or embeds or components) and "flags" not in payload:
        return "Cannot send an empty message"
    return None


def _check_choices(data: dict[str, Any]) -> str | None:
    choices = data.get("choices")
    if not isinstance(choices, list) or len(choices) > CHOICES_LIMIT:
        return "choices must be a list of at most 25"
    for choice in choices:
        name, value = choice.get("name", ""), choice.get("value", "")
        if not 1 <= len(name) <= 100 or (isinstance(value, str) and len(value) > 100):
            return "bad choice"
    return None


# --- gateway payloads ---------------------------------------------------------------------


def user(user_id: int, name: str = "membre", *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": str(user_id),
        "username": name,
        "global_name": name.capitalize(),
        "discriminator": "0",
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
    }


def bot_user(bot_id: int = BOT_ID) -> dict[str, Any]:
    return {
        **user(bot_id, "briefbot", bot=True),
        "verified": True,
        "flags": 0,
        "mfa_enabled": False,
    }


def member(roles: tuple[int, ...] = (), *, permissions: int | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "roles": [str(r) for r in roles],
        "nick": None,
        "avatar": None,
        "joined_at": TIMESTAMP,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
        "communication_disabled_until": None,
    }
    if permissions is not None:
        data["permissions"] = str(permissions)
    return data


def guild_channel(
    channel_id: int = CHANNEL_ID, *, kind: int = 0, name: str = "général"
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(channel_id),
        "type": kind,
        "guild_id": str(GUILD_ID),
        "name": name,
        "position": 0,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "topic": None,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "flags": 0,
    }
    if kind in (10, 11, 12):  # a thread of the text channel
        data.update(
            parent_id=str(CHANNEL_ID),
            owner_id=str(USER_ID),
            message_count=0,
            member_count=1,
            thread_metadata={
                "archived": False,
                "auto_archive_duration": 1440,
                "archive_timestamp": TIMESTAMP,
                "locked": False,
            },
        )
    return data


def message_object(
    message_id: str,
    channel_id: str,
    author: dict[str, Any],
    *,
    content: str = "",
    embeds: list[dict[str, Any]] | None = None,
    components: list[dict[str, Any]] | None = None,
    flags: int = 0,
    mentions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "id": message_id,
        "type": 0,
        "channel_id": channel_id,
        "author": author,
        "content": content,
        "timestamp": TIMESTAMP,
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": "@everyone" in content or "@here" in content,
        "mentions": mentions or [],
        "mention_roles": [],
        "attachments": [],
        "embeds": embeds or [],
        "pinned": False,
        "flags": flags,
        "components": components or [],
    }


@dataclass
class Caller:
    """Who triggers an event: a member of the guild (with resolved channel permissions),
    or a user in a DM."""

    user_id: int = USER_ID
    name: str = "camille"
    permissions: int = MEMBER_PERMISSIONS
    roles: tuple[int, ...] = ()
    bot: bool = False


def interaction_payload(
    fake: FakeDiscord,
    kind: int,
    data: dict[str, Any],
    *,
    caller: Caller | None = None,
    dm: bool = False,
    channel: dict[str, Any] | None = None,
    message: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An INTERACTION_CREATE as the gateway delivers it; registers it with the fake."""
    caller = caller or Caller()
    interaction_id = fake.snowflake()
    token = f"itoken-{interaction_id}"
    payload: dict[str, Any] = {
        "id": interaction_id,
        "application_id": str(fake.application_id),
        "type": kind,
        "token": token,
        "version": 1,
        "data": data,
        "locale": "fr",
        "app_permissions": str(MEMBER_PERMISSIONS),
        "entitlements": [],
        "attachment_size_limit": 10 * 1024 * 1024,
    }
    person = user(caller.user_id, caller.name, bot=caller.bot)
    if dm:
        payload.update(
            channel_id=str(DM_CHANNEL_ID),
            channel={"id": str(DM_CHANNEL_ID), "type": 1, "recipients": [person], "flags": 0},
            user=person,
            context=1,
            authorizing_integration_owners={"0": str(fake.application_id)},
        )
        fake.expect_interaction(interaction_id, token, DM_CHANNEL_ID, None)
    else:
        channel = channel or guild_channel()
        payload.update(
            guild_id=str(GUILD_ID),
            guild={"id": str(GUILD_ID), "locale": "fr", "features": []},
            guild_locale="fr",
            channel_id=channel["id"],
            channel=channel,
            member={**member(caller.roles, permissions=caller.permissions), "user": person},
            context=0,
            authorizing_integration_owners={"0": str(GUILD_ID)},
        )
        fake.expect_interaction(interaction_id, token, int(channel["id"]), GUILD_ID)
    if message is not None:
        payload["message"] = message
    return payload


def command_data(
    name: str,
    options: dict[str, Any] | None = None,
    *,
    sub: str | None = None,
    focused: str | None = None,
) -> dict[str, Any]:
    """The `data` of a chat-input command: `/name [sub] option=value…` (strings)."""
    opts = [
        {"type": 3, "name": key, "value": value, **({"focused": True} if key == focused else {})}
        for key, value in (options or {}).items()
    ]
    if sub is not None:
        opts = [{"type": 1, "name": sub, "options": opts}]
    return {"id": "1300000000000000001", "name": name, "type": 1, "options": opts}


def message_create(
    content: str,
    *,
    author: Caller | None = None,
    dm: bool = False,
    mentions_bot: bool = True,
    mentions: list[dict[str, Any]] | None = None,
    message_id: str = "1400000000000000001",
    channel_id: int = CHANNEL_ID,
) -> dict[str, Any]:
    """A MESSAGE_CREATE as the gateway delivers it (in a guild channel, or a DM)."""
    author = author or Caller()
    person = user(author.user_id, author.name, bot=author.bot)
    listed = list(mentions or [])
    if mentions_bot and not dm:
        listed.append({**bot_user(), "member": member()})
    payload = message_object(
        message_id,
        str(DM_CHANNEL_ID if dm else channel_id),
        person,
        content=content,
        mentions=listed,
    )
    if not dm:
        payload["guild_id"] = str(GUILD_ID)
        payload["member"] = member(author.roles)
    return payload


def guild_create(*, admin_role_permissions: int = MANAGER_PERMISSIONS) -> dict[str, Any]:
    """The GUILD_CREATE the gateway sends for each guild at connection: a text channel, a
    thread, an @everyone role with member permissions and an "admins" role."""
    return {
        "id": str(GUILD_ID),
        "name": "Rédaction",
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "banner": None,
        "description": None,
        "owner_id": str(OWNER_ID),
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 1,
        "explicit_content_filter": 0,
        "mfa_level": 0,
        "nsfw_level": 0,
        "premium_tier": 0,
        "premium_progress_bar_enabled": False,
        "preferred_locale": "fr",
        "features": [],
        "emojis": [],
        "stickers": [],
        "roles": [
            _role(GUILD_ID, "@everyone", MEMBER_PERMISSIONS, 0),
            _role(ADMIN_ROLE_ID, "admins", admin_role_permissions, 1),
        ],
        "system_channel_id": None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "public_updates_channel_id": None,
        "vanity_url_code": None,
        "application_id": None,
        "joined_at": TIMESTAMP,
        "large": False,
        "unavailable": False,
        "member_count": 3,
        "voice_states": [],
        "members": [{**member(), "user": bot_user()}],
        "channels": [guild_channel()],
        "threads": [guild_channel(THREAD_ID, kind=11, name="fil")],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
    }


def _role(role_id: int, name: str, permissions: int, position: int) -> dict[str, Any]:
    return {
        "id": str(role_id),
        "name": name,
        "color": 0,
        "hoist": False,
        "icon": None,
        "unicode_emoji": None,
        "position": position,
        "permissions": str(permissions),
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }


async def settle() -> None:
    """Wait until every task discord.py started for the events fed so far has finished
    (command invocations, event handlers, button callbacks, and what they started)."""
    prefixes = ("CommandTree-invoker", "discord.py: ", "discord-ui-")
    while True:
        pending = [
            t
            for t in asyncio.all_tasks()
            if not t.done()
            and t is not asyncio.current_task()
            and t.get_name().startswith(prefixes)
        ]
        if not pending:
            return
        await asyncio.gather(*pending, return_exceptions=True)
