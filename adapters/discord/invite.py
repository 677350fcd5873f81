"""The OAuth2 link a server admin opens to add the bot: `briefbot discord-invite`.

The bot asks for exactly what it uses. Slash-command answers go through the interaction
webhook and need no channel permission; the rest is for mentions and scheduled briefings:

* View Channels — see the channels it is mentioned in and posts briefings to;
* Send Messages, Send Messages in Threads — answer mentions, post briefings;
* Embed Links — answers and briefings are embeds;
* Read Message History — a reply to a mention references the question message.

Scopes: `bot` (join the server) and `applications.commands` (register slash commands).
"""

from __future__ import annotations

import base64
import binascii

import discord

SCOPES: tuple[str, ...] = ("bot", "applications.commands")
BOT_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    embed_links=True,
    read_message_history=True,
)
BOT_PERMISSIONS_VALUE: int = BOT_PERMISSIONS.value  # 274877991936


def discord_invite_url(application_id: int) -> str:
    """`https://discord.com/oauth2/authorize?client_id=…&scope=bot+applications.commands
    &permissions=274877991936`."""
    if application_id <= 0:
        raise ValueError("application_id must be a positive Discord id")
    return discord.utils.oauth_url(application_id, permissions=BOT_PERMISSIONS, scopes=SCOPES)


def application_id_from_token(token: str) -> int | None:
    """The bot's user id, which a bot token starts with (base64); for bot applications it
    is the application id, so DISCORD_APPLICATION_ID can be left unset. None if the token
    does not have that shape. Works offline; the token is never printed."""
    head = token.strip().split(".", 1)[0]
    if not head:
        return None
    try:
        decoded = base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return int(decoded) if decoded.isdigit() and 15 <= len(decoded) <= 21 else None
