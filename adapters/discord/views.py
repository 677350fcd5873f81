"""Message buttons: links to the sources, and "share" on private answers.

The share button is a `DynamicItem`: discord.py routes every click on a button whose
custom id matches its template to it, without remembering the message. A click copies
the embeds of the (ephemeral) message it sits on into a public message, so sharing still
works after a restart and nothing has to be kept in memory per answer.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

import discord

from adapters.discord.embeds import BUTTON_LABEL_LIMIT, EMBEDS_PER_MESSAGE, Link, clip

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
SHARE_ID = "briefbot:share"
SHARE_LABEL = "Partager dans le canal"


class ShareButton(discord.ui.DynamicItem[discord.ui.Button], template=re.escape(SHARE_ID)):
    def __init__(self) -> None:
        super().__init__(
            discord.ui.Button(
                label=SHARE_LABEL, style=discord.ButtonStyle.secondary, custom_id=SHARE_ID
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ShareButton:
        return cls()

    async def callback(self, interaction: discord.Interaction) -> None:
        await share_publicly(interaction)


def message_view(links: Sequence[Link], *, share: bool = False) -> discord.ui.View | None:
    """A row of buttons, or None when there is none. The view is stopped at once: link
    buttons are handled by Discord and the share button by the dynamic-item registry, so
    discord.py need not track it (nor time it out)."""
    if not links and not share:
        return None
    view = discord.ui.View(timeout=None)
    if share:
        view.add_item(ShareButton())
    for link in links:
        view.add_item(
            discord.ui.Button(
                style=discord.ButtonStyle.link,
                label=clip(link.label, BUTTON_LABEL_LIMIT) or "Lien",
                url=link.url,
            )
        )
    view.stop()
    return view


def _links_of(message: discord.Message) -> list[Link]:
    links: list[Link] = []
    for row in message.components:
        for child in getattr(row, "children", ()):
            url = getattr(child, "url", None)
            if url:
                links.append(Link(getattr(child, "label", None) or "Lien", url))
    return links


async def share_publicly(interaction: discord.Interaction) -> None:
    """Post the embeds of the message the button is on, for the whole channel to see."""
    message = interaction.message
    embeds = list(message.embeds)[:EMBEDS_PER_MESSAGE] if message is not None else []
    try:
        if not embeds:
            await interaction.response.send_message(
                "Cette réponse n'est plus disponible : reposez la question.",
                ephemeral=True,
                allowed_mentions=NO_MENTIONS,
            )
            return
        kwargs: dict[str, Any] = {}
        view = message_view(_links_of(message)) if message is not None else None
        if view is not None:
            kwargs["view"] = view
        await interaction.response.send_message(
            content=f"Partagé par {interaction.user.mention}",
            embeds=embeds,
            allowed_mentions=NO_MENTIONS,
            **kwargs,
        )
    except discord.HTTPException as exc:
        log.warning("could not share a reply (HTTP %s)", exc.status)
