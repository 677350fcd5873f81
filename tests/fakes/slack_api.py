"""A local fake of Slack on 127.0.0.1, speaking Slack's real protocols.

It serves the Web API methods the bot uses (`auth.test`, `apps.connections.open`,
`users.info`, `chat.postMessage`, `chat.postEphemeral`, `conversations.history` with
message metadata, refused with `missing_scope` when `history_scope` is False) under
`/api/`, interaction `response_url`s under `/response/<key>`, and a Socket Mode
websocket under `/link/`. Every request is recorded with its parsed body and arrival
time; tests script failures (`channel_not_found`, a 429 with `Retry-After`, …) per
method. It also checks what real Slack would refuse: tokens, Block Kit limits, the
five-posts rule of response URLs.

The helpers at the bottom build what Slack sends to an app: signed HTTP requests and the
payloads of slash commands, events and button clicks.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
import urllib.parse
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

BOT_TOKEN = "xoxb-fake-bot-token"
APP_TOKEN = "xapp-fake-app-token"
SIGNING_SECRET = "fake-signing-secret"
TEAM = "T0FAKE"
BOT_USER = "UBOT"


@dataclass
class Call:
    """One request the fake received. `method` is the Web API method, "response_url" or
    "socket_ack"; `body` the parsed JSON/form/query parameters."""

    method: str
    body: dict[str, Any]
    headers: dict[str, str]
    at: float
    key: str | None = None  # the response_url key


@dataclass
class Scripted:
    status: int = 200
    body: dict[str, Any] | str | None = None
    headers: dict[str, str] = field(default_factory=dict)


class FakeSlack:
    def __init__(self, *, bot_token: str = BOT_TOKEN, app_token: str = APP_TOKEN) -> None:
        self.bot_token = bot_token
        self.app_token = app_token
        self.calls: list[Call] = []
        self.users: dict[str, dict[str, Any]] = {}
        self._scripts: dict[str, deque[Scripted]] = {}
        self._response_uses: dict[str, int] = {}
        self._ts = itertools.count(1)
        self._envelopes = itertools.count(1)
        self._cond = asyncio.Condition()
        self._ws: web.WebSocketResponse | None = None
        self._connected = asyncio.Event()
        self.connections = 0
        self.refusing = False
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        # channel -> messages posted there, oldest first, with their metadata
        self.channels: dict[str, list[dict[str, Any]]] = {}
        self.history_scope = True
        # the next `n` posts are accepted, then answered only after `hang_after_accept` s
        self.hang_after_accept = 0.0
        self.hangs = 0

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{key}", self._response_url)
        app.router.add_get("/link/", self._link)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        return self

    async def stop(self) -> None:
        if self._ws is not None and not self._ws.closed:
            await self._ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self, key: str) -> str:
        return f"{self.base_url}/response/{key}"

    # --- scripting and inspection -------------------------------------------------------

    def script(
        self,
        method: str,
        *,
        error: str | None = None,
        status: int = 200,
        headers: dict[str, str] | None = None,
        body: dict[str, Any] | str | None = None,
        times: int = 1,
    ) -> None:
        """The next `times` calls to `method` get this response instead of the default."""
        if body is None and error is not None:
            body = {"ok": False, "error": error}
        queue = self._scripts.setdefault(method, deque())
        for _ in range(times):
            queue.append(Scripted(status, body, dict(headers or {})))

    def add_user(self, user_id: str, *, admin: bool = False, owner: bool = False) -> None:
        self.users[user_id] = {
            "id": user_id,
            "team_id": TEAM,
            "name": user_id.lower(),
            "is_admin": admin,
            "is_owner": owner,
            "is_primary_owner": False,
            "is_bot": False,
        }

    def calls_to(self, method: str, *, key: str | None = None) -> list[Call]:
        return [c for c in self.calls if c.method == method and (key is None or c.key == key)]

    async def wait_for(
        self, method: str, count: int = 1, *, key: str | None = None, timeout: float = 10.0
    ) -> list[Call]:
        """The first `count` calls to `method` (and `key`), once they have arrived."""
        async with self._cond:
            await asyncio.wait_for(
                self._cond.wait_for(lambda: len(self.calls_to(method, key=key)) >= count),
                timeout,
            )
        return self.calls_to(method, key=key)[:count]

    async def _record(self, call: Call) -> None:
        self.calls.append(call)
        async with self._cond:
            self._cond.notify_all()

    # --- Web API ------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        body = await _parse(request)
        await self._record(Call(method, body, dict(request.headers), time.perf_counter()))
        scripted = self._scripts.get(method)
        if scripted:
            answer = scripted.popleft()
            if isinstance(answer.body, str):
                return web.Response(status=answer.status, text=answer.body, headers=answer.headers)
            return web.json_response(
                answer.body or {"ok": True}, status=answer.status, headers=answer.headers
            )
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if method == "apps.connections.open":
            if token != self.app_token:
                return _error("not_allowed_token_type" if token else "not_authed")
            ticket = next(self._envelopes)
            return web.json_response({"ok": True, "url": f"ws://{request.host}/link/?t={ticket}"})
        if token != self.bot_token:
            return _error("invalid_auth" if token else "not_authed")
        handler = {
            "auth.test": self._auth_test,
            "users.info": self._users_info,
            "chat.postMessage": self._post_message,
            "chat.postEphemeral": self._post_ephemeral,
        }.get(method)
        if method == "conversations.history":
            return self._history(body)
        if handler is None:
            return _error("unknown_method")
        answer = handler(body)
        if method == "chat.postMessage" and self.hangs > 0 and answer.status == 200:
            self.hangs -= 1
            await asyncio.sleep(self.hang_after_accept)
        return answer

    def _history(self, body: dict[str, Any]) -> web.Response:
        if not self.history_scope:
            return web.json_response(
                {"ok": False, "error": "missing_scope", "needed": "channels:history"}
            )
        with_metadata = str(body.get("include_all_metadata", "")).lower() in ("1", "true")
        limit = int(body.get("limit") or 100)
        messages = list(reversed(self.channels.get(str(body.get("channel")), [])))[:limit]
        if not with_metadata:
            messages = [{k: v for k, v in m.items() if k != "metadata"} for m in messages]
        return web.json_response({"ok": True, "messages": messages, "has_more": False})

    def posts_in(self, channel: str) -> list[dict[str, Any]]:
        """The messages posted in `channel`, oldest first."""
        return list(self.channels.get(channel, []))

    def _auth_test(self, body: dict[str, Any]) -> web.Response:
        return web.json_response(
            {
                "ok": True,
                "url": "https://fake.slack.com/",
                "team": "Fake",
                "user": "briefbot",
                "team_id": TEAM,
                "user_id": BOT_USER,
                "bot_id": "BFAKE",
                "is_enterprise_install": False,
            }
        )

    def _users_info(self, body: dict[str, Any]) -> web.Response:
        user = self.users.get(str(body.get("user")))
        if user is None:
            return _error("user_not_found")
        return web.json_response({"ok": True, "user": user})

    def _post_message(self, body: dict[str, Any]) -> web.Response:
        problem = _check_message(body)
        if problem:
            return _error(problem)
        ts = f"1700000000.{next(self._ts):06d}"
        message = {"type": "message", "text": body.get("text"), "ts": ts, "user": BOT_USER}
        stored = dict(message)
        if isinstance(body.get("metadata"), dict):
            stored["metadata"] = body["metadata"]
        self.channels.setdefault(str(body["channel"]), []).append(stored)
        return web.json_response(
            {"ok": True, "channel": body["channel"], "ts": ts, "message": message}
        )

    def _post_ephemeral(self, body: dict[str, Any]) -> web.Response:
        problem = _check_message(body) or (None if body.get("user") else "user_not_in_channel")
        if problem:
            return _error(problem)
        return web.json_response({"ok": True, "message_ts": f"1700000000.{next(self._ts):06d}"})

    # --- response_url -------------------------------------------------------------------

    async def _response_url(self, request: web.Request) -> web.Response:
        key = request.match_info["key"]
        body = await _parse(request)
        await self._record(
            Call("response_url", body, dict(request.headers), time.perf_counter(), key=key)
        )
        scripted = self._scripts.get("response_url")
        if scripted:
            answer = scripted.popleft()
            return web.Response(
                status=answer.status, text=str(answer.body or ""), headers=answer.headers
            )
        self._response_uses[key] = self._response_uses.get(key, 0) + 1
        if self._response_uses[key] > 5:
            return web.Response(status=404, text="used_url")
        problem = _check_message(body, need_channel=False)
        if problem:
            return web.Response(status=400, text=problem)
        return web.Response(text="ok")

    # --- Socket Mode --------------------------------------------------------------------

    async def _link(self, request: web.Request) -> web.StreamResponse:
        if self.refusing:  # as Slack does during an outage: the handshake fails
            return web.Response(status=503, text="unavailable")
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._ws = ws
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": 1,
                "debug_info": {"host": "fake", "approximate_connection_time": 3600},
                "connection_info": {"app_id": "AFAKE"},
            }
        )
        self.connections += 1
        self._connected.set()
        async for message in ws:
            if message.type == aiohttp.WSMsgType.TEXT:
                data = json.loads(message.data)
                await self._record(
                    Call("socket_ack", data, {}, time.perf_counter(), key=data.get("envelope_id"))
                )
        return ws

    async def wait_connected(self, timeout: float = 10.0) -> None:
        await asyncio.wait_for(self._connected.wait(), timeout)

    async def drop(self, *, refuse: bool = True) -> None:
        """Close the Socket Mode connection from Slack's side; with `refuse`, new
        connections fail until `accept()`, so the outage lasts until the test ends it."""
        self.refusing = refuse
        if self._ws is not None and not self._ws.closed:
            await self._ws.close(code=aiohttp.WSCloseCode.GOING_AWAY)

    def accept(self) -> None:
        """Let the bot reconnect after `drop`."""
        self.refusing = False

    async def send_envelope(
        self, kind: str, payload: dict[str, Any], *, accepts_response_payload: bool = False
    ) -> str:
        """Send a Socket Mode envelope ("slash_commands", "events_api", "interactive")."""
        assert self._ws is not None, "no Socket Mode connection"
        envelope_id = f"env-{next(self._envelopes)}"
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
        }
        if kind == "events_api":
            envelope.update(retry_attempt=0, retry_reason="")
        await self._ws.send_json(envelope)
        return envelope_id

    async def wait_ack(self, envelope_id: str, timeout: float = 10.0) -> dict[str, Any]:
        calls = await self.wait_for("socket_ack", key=envelope_id, timeout=timeout)
        return calls[0].body


# --- what real Slack refuses -------------------------------------------------------------


def _error(code: str) -> web.Response:
    return web.json_response({"ok": False, "error": code})


async def _parse(request: web.Request) -> dict[str, Any]:
    body: dict[str, Any] = dict(request.query)
    raw = await request.text()
    if not raw:
        return body
    if request.content_type == "application/json":
        body.update(json.loads(raw))
    else:
        body.update(dict(urllib.parse.parse_qsl(raw, keep_blank_values=True)))
        if isinstance(body.get("blocks"), str):
            body["blocks"] = json.loads(body["blocks"])
    return body


def _check_message(body: dict[str, Any], *, need_channel: bool = True) -> str | None:
    """The Block Kit limits Slack enforces, as Slack's error codes."""
    if need_channel and not body.get("channel"):
        return "channel_not_found"
    blocks = body.get("blocks") or []
    if not body.get("text") and not blocks:
        return "no_text"
    if len(blocks) > 50:
        return "invalid_blocks"
    for block in blocks:
        kind = block.get("type")
        text = (block.get("text") or {}).get("text", "")
        if kind == "header" and len(text) > 150:
            return "invalid_blocks"
        if kind == "section":
            if not text and not block.get("fields"):
                return "invalid_blocks"
            if len(text) > 3000 or len(block.get("fields") or []) > 10:
                return "invalid_blocks"
            if any(len(f.get("text", "")) > 2000 for f in block.get("fields") or []):
                return "invalid_blocks"
        if kind == "context" and not 1 <= len(block.get("elements") or []) <= 10:
            return "invalid_blocks"
        if kind == "actions":
            for element in block.get("elements") or []:
                if len(element.get("value", "")) > 2000 or len(element["text"]["text"]) > 75:
                    return "invalid_blocks"
    return None


# --- what Slack sends to an app ------------------------------------------------------------


def sign(
    body: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    """Slack's request-signing headers (v0 HMAC-SHA256 of "v0:timestamp:body")."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


# Slack gives every delivery its own trigger_id / event_id; a retry repeats it.
_DELIVERY_IDS = itertools.count(1)


def form_body(fields: dict[str, Any]) -> str:
    return urllib.parse.urlencode(fields)


def slash_command(
    command: str,
    text: str,
    *,
    response_url: str,
    user: str = "UALICE",
    channel: str = "CGENERAL",
    channel_name: str = "general",
) -> dict[str, str]:
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM,
        "team_domain": "fake",
        "channel_id": channel,
        "channel_name": channel_name,
        "user_id": user,
        "user_name": user.lower(),
        "command": command,
        "text": text,
        "api_app_id": "AFAKE",
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": f"{next(_DELIVERY_IDS)}.1.abc",
    }


def event_callback(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM,
        "api_app_id": "AFAKE",
        "event": event,
        "type": "event_callback",
        "event_id": f"Ev{next(_DELIVERY_IDS):08d}",
        "event_time": 1700000000,
        "authorizations": [
            {"team_id": TEAM, "user_id": BOT_USER, "is_bot": True, "is_enterprise_install": False}
        ],
    }


def app_mention(
    text: str,
    *,
    user: str = "UALICE",
    channel: str = "CGENERAL",
    ts: str = "1700000100.000100",
    thread_ts: str | None = None,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "app_mention",
        "user": user,
        "text": text,
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event_callback(event)


def direct_message(
    text: str, *, user: str = "UALICE", channel: str = "DALICE", ts: str = "1700000200.000100"
) -> dict[str, Any]:
    return event_callback(
        {
            "type": "message",
            "channel_type": "im",
            "user": user,
            "text": text,
            "ts": ts,
            "channel": channel,
            "event_ts": ts,
        }
    )


def block_action(
    action_id: str,
    value: str,
    *,
    response_url: str,
    user: str = "UALICE",
    channel: str = "CGENERAL",
    ephemeral: bool = True,
) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "fake"},
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM},
        "api_app_id": "AFAKE",
        "token": "legacy-verification-token",
        "container": {
            "type": "message",
            "message_ts": "1700000300.000100",
            "channel_id": channel,
            "is_ephemeral": ephemeral,
        },
        "trigger_id": "1.2.3",
        "channel": {"id": channel, "name": "general"},
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "b1",
                "value": value,
                "action_ts": "1700000301.000100",
            }
        ],
    }


async def post_signed(
    session: aiohttp.ClientSession,
    url: str,
    body: str,
    *,
    content_type: str,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, str]:
    """POST `body` to the app as Slack would, signed (override `headers` to tamper)."""
    sent = {"Content-Type": content_type, **sign(body, secret=secret, timestamp=timestamp)}
    sent.update(headers or {})
    async with session.post(url, data=body.encode(), headers=sent) as response:
        return response.status, await response.text()
