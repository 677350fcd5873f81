"""Slash commands, autocomplete and buttons, end to end over Discord's real protocol.

Each interaction is a raw INTERACTION_CREATE payload fed to discord.py's own parser and
`CommandTree`; discord.py's HTTP goes to the fake Discord API, and the tests assert the
exact callback and follow-up payloads the bot sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from adapters.discord.embeds import render_reply
from bot.chat.context import CommandContext
from bot.chat.registry import command
from bot.chat.replies import Reply, error, info
from tests.fakes.discord_api import (
    MANAGER_PERMISSIONS,
    THREAD_ID,
    USER_ID,
    Caller,
    command_data,
    guild_channel,
    interaction_payload,
    settle,
)
from tests.fakes.discord_harness import DiscordHarness, Exchange, discord_settings, running_discord

NO_MENTIONS = {"parse": []}
PRIVATE_THINKING = {"type": 5, "data": {"flags": 64}}
SHARE_ROW = {
    "type": 1,
    "components": [
        {
            "type": 2,
            "style": 2,
            "label": "Partager dans le canal",
            "custom_id": "briefbot:share",
            "disabled": False,
        }
    ],
}
MANAGER = Caller(permissions=MANAGER_PERMISSIONS)


class SlowProbe:
    """A fast command whose work waits for the test: a slow database, say."""

    def __init__(self) -> None:
        self.release = asyncio.Event()

    @command("probe", "Une commande de test qui attend")
    async def probe(self, ctx: CommandContext) -> Reply:
        await self.release.wait()
        return info("Aucun briefing programmé")


class FailingPublicProbe:
    """A command meant for the channel whose work fails."""

    @command("announce", "Une commande publique de test qui échoue", public=True, slow=True)
    async def announce(self, ctx: CommandContext) -> Reply:
        return error("La base est indisponible.")


COTONOU = """---
title: Le port de Cotonou bat un record
date: 2024-05-02
url: https://example.org/cotonou-record
---
# Le port de Cotonou bat un record

Le port autonome de Cotonou a accueilli 412 navires au mois de mars 2024, un record.
"""
TRAP = """---
title: Communiqué @everyone piégé
url: https://example.org/piege
---
# Communiqué @everyone piégé

@everyone Le collectif des pêcheurs de Malanville réclame une audience
<@&123456789012345678> **urgente** auprès du préfet.
"""


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[DiscordHarness]:
    async with running_discord(discord_settings(tmp_path)) as harness:
        yield harness


@pytest.fixture
async def bot_with_articles(corpus: Path, tmp_path: Path) -> AsyncIterator[DiscordHarness]:
    """The seeds plus an article with a source URL and one written to attack the bot."""
    (corpus / "900_cotonou.md").write_text(COTONOU, encoding="utf-8")
    (corpus / "901_piege.md").write_text(TRAP, encoding="utf-8")
    settings = discord_settings(tmp_path, corpus=corpus)
    async with running_discord(settings) as harness:
        yield harness


def deferred_answer(exchange: Exchange) -> dict[str, Any]:
    """The message that replaced "thinking…": asserts the private deferral came first."""
    callback, edit = exchange.calls
    assert (callback.method, callback.json) == ("POST", PRIVATE_THINKING)
    assert callback.path.endswith("/callback")
    assert (edit.method, edit.path.rsplit("/", 1)[-1]) == ("PATCH", "@original")
    return edit.json


def direct_answer(exchange: Exchange) -> dict[str, Any]:
    """A single type-4 callback: returns its message data."""
    (callback,) = exchange.calls
    assert callback.json["type"] == 4
    return callback.json["data"]


def embed(message: dict[str, Any], index: int = 0) -> dict[str, Any]:
    return message["embeds"][index]


# --- /ask -----------------------------------------------------------------------------------


async def test_ask_defers_privately_then_edits_in_the_answer(bot: DiscordHarness) -> None:
    message = deferred_answer(await bot.slash("ask", {"question": "Qui est Molly Phee ?"}))
    answer = embed(message)
    assert answer["title"] == "Qui est Molly Phee ?"
    assert "Molly Phee" in answer["description"]
    assert answer["footer"]["text"].startswith(
        "LA JUNTE SOURDE AUX PRESSIONS AMÉRICAINES AU NIGER · DES CONDITIONS STRICTES · "
        "Confiance : "
    )
    assert message["allowed_mentions"] == NO_MENTIONS
    assert message["components"] == [SHARE_ROW]


async def test_the_share_button_posts_the_answer_for_the_channel(bot: DiscordHarness) -> None:
    await bot.slash("ask", {"question": "Qui est Molly Phee ?"})
    (private,) = bot.fake.messages.values()
    assert private["flags"] == 64
    exchange = await bot.click("briefbot:share", private)
    (callback,) = exchange.calls
    assert callback.json["type"] == 4
    shared = callback.json["data"]
    assert "flags" not in shared  # public
    assert shared["content"] == f"Partagé par <@{USER_ID}>"
    assert shared["embeds"][0]["title"] == private["embeds"][0]["title"]
    assert shared["embeds"][0]["description"] == private["embeds"][0]["description"]
    assert shared["allowed_mentions"] == NO_MENTIONS
    assert "components" not in shared or shared["components"] == []


async def test_an_answer_links_its_source_article(bot_with_articles: DiscordHarness) -> None:
    question = "Combien de navires le port de Cotonou a-t-il accueillis en mars ?"
    message = deferred_answer(await bot_with_articles.slash("ask", {"question": question}))
    answer = embed(message)
    assert answer["url"] == "https://example.org/cotonou-record"
    assert answer["footer"]["text"].startswith("Le port de Cotonou bat un record · 2024-05-02")
    (row,) = message["components"]
    share, link = row["components"]
    assert share["custom_id"] == "briefbot:share"
    assert link == {
        "type": 2,
        "style": 5,
        "label": "Lire l'article",
        "url": "https://example.org/cotonou-record",
        "disabled": False,
    }


async def test_an_article_cannot_ping_or_format_through_an_answer(
    bot_with_articles: DiscordHarness,
) -> None:
    question = "Que réclame le collectif des pêcheurs de Malanville ?"
    message = deferred_answer(await bot_with_articles.slash("ask", {"question": question}))
    answer = embed(message)
    assert "Malanville" in answer["description"]
    for text in (answer["description"], answer["footer"]["text"]):
        assert "@everyone" not in text
        assert "<@&" not in text
    assert message["allowed_mentions"] == NO_MENTIONS


async def test_a_question_cannot_ping_or_format_through_its_echo(bot: DiscordHarness) -> None:
    question = "@everyone <@&123456789012345678> **Qui** est [Molly](https://evil.example) ?"
    message = deferred_answer(await bot.slash("ask", {"question": question}))
    title = embed(message)["title"]
    assert "@everyone" not in title and "<@&" not in title
    assert "**Qui**" not in title and "](" not in title
    assert message["allowed_mentions"] == NO_MENTIONS


async def test_an_empty_question_gets_a_clear_private_message(bot: DiscordHarness) -> None:
    message = deferred_answer(await bot.slash("ask", {"question": "   "}))
    assert embed(message)["title"] == "Question invalide"
    assert "La question est vide" in embed(message)["description"]
    assert "components" not in message or message["components"] == []


async def test_a_huge_question_gets_a_clear_private_message(bot: DiscordHarness) -> None:
    message = deferred_answer(await bot.slash("ask", {"question": "Niger " * 2000}))
    assert embed(message)["title"] == "Question invalide"
    assert "trop longue" in embed(message)["description"]


async def test_too_many_questions_get_a_polite_private_message(tmp_path: Path) -> None:
    settings = discord_settings(tmp_path, rate_limit_per_minute=2)
    async with running_discord(settings) as bot:
        for _ in range(2):
            await bot.slash("ask", {"question": "Qui est Molly Phee ?"})
        message = deferred_answer(await bot.slash("ask", {"question": "Qui est Molly Phee ?"}))
    assert embed(message)["title"] == "Un instant"
    assert "merci de patienter" in embed(message)["description"]


# --- direct answers and the 3-second window -------------------------------------------------


async def test_a_fast_command_answers_directly_and_privately(bot: DiscordHarness) -> None:
    exchange = await bot.slash("help")
    (callback,) = exchange.calls
    assert callback.json["type"] == 4
    data = callback.json["data"]
    assert data["flags"] == 64
    assert data["allowed_mentions"] == NO_MENTIONS
    assert data["embeds"][0]["title"] == "Commandes de briefbot"


async def test_the_callback_payload_is_exactly_the_rendered_reply(bot: DiscordHarness) -> None:
    (callback,) = (await bot.slash("help")).calls
    expected = render_reply(bot.app.registry.help_reply())[0].embeds[0].to_dict()
    assert callback.query == {"with_response": "1"}
    assert callback.json == {
        "type": 4,
        "data": {
            "tts": False,
            "content": None,
            "embeds": [expected],
            "flags": 64,
            "allowed_mentions": {"parse": []},
        },
    }


async def test_a_fast_command_still_running_after_defer_after_is_deferred(
    tmp_path: Path,
) -> None:
    probe = SlowProbe()
    async with running_discord(discord_settings(tmp_path), defer_after=0, handlers=[probe]) as bot:
        payload = interaction_payload(bot.fake, 2, command_data("probe"))
        before = len(bot.fake.calls)
        bot.client._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
        callback = (await bot.fake.wait_until(before + 1))[before]
        assert callback.json == PRIVATE_THINKING  # deferred while the work goes on
        probe.release.set()
        await settle()
        exchange = Exchange(payload["token"], bot.fake.for_interaction(payload["token"]))
    assert embed(deferred_answer(exchange))["title"] == "Aucun briefing programmé"


async def test_a_command_discord_knows_but_the_bot_does_not_gets_a_message(
    bot: DiscordHarness,
) -> None:
    message = direct_answer(await bot.slash("retired-command"))
    assert message["flags"] == 64
    assert "n'existe pas ou a changé" in embed(message)["description"]


# --- /actor and /actors ---------------------------------------------------------------------


async def test_actor_names_autocomplete_from_the_directory(bot: DiscordHarness) -> None:
    choices = await bot.autocomplete("actor", {"name": "bazou"}, "name")
    assert {"name": "Mohamed Bazoum", "value": "Mohamed Bazoum"} in choices


async def test_actor_autocomplete_offers_at_most_25_choices(bot: DiscordHarness) -> None:
    choices = await bot.autocomplete("actor", {"name": ""}, "name")
    assert 0 < len(choices) <= 25
    assert all(1 <= len(c["name"]) <= 100 and c["name"] == c["value"] for c in choices)


async def test_autocomplete_survives_a_huge_fragment(bot: DiscordHarness) -> None:
    choices = await bot.autocomplete("actor", {"name": "x" * 6000}, "name")
    assert len(choices) <= 25


async def test_an_actor_card_is_a_private_embed_with_its_fields(bot: DiscordHarness) -> None:
    message = deferred_answer(await bot.slash("actor", {"name": "Bazoum"}))
    card = embed(message)
    assert card["title"] == "Mohamed Bazoum"
    assert {"name": "Type", "value": "Personne", "inline": True} in card["fields"]
    (row,) = message["components"]
    share, link = row["components"]
    assert share == SHARE_ROW["components"][0]
    assert (link["style"], link["label"]) == (5, "En savoir plus")  # the actor's page


async def test_an_unknown_actor_says_so_privately(bot: DiscordHarness) -> None:
    message = deferred_answer(await bot.slash("actor", {"name": "Emmanuel Dupont"}))
    assert embed(message)["title"] == "Aucun acteur ne correspond"
    assert "Emmanuel Dupont" in embed(message)["description"]


async def test_the_actor_list_is_private(bot: DiscordHarness) -> None:
    message = deferred_answer(await bot.slash("actors"))
    assert embed(message)["title"].startswith("Acteurs cités dans les articles")


# --- /timeline ------------------------------------------------------------------------------


async def test_the_timeline_is_deferred_and_private(bot: DiscordHarness) -> None:
    exchange = await bot.slash("timeline")
    assert exchange.calls[0].json == PRIVATE_THINKING
    first = exchange.messages()[0]
    assert first["embeds"][0]["title"].startswith("Chronologie")
    for call in exchange.followups[1:]:
        assert call.json["flags"] == 64  # more messages stay private too


# --- /briefing ------------------------------------------------------------------------------


async def subscribe(bot: DiscordHarness, caller: Caller = MANAGER, **options: str) -> Exchange:
    return await bot.slash("briefing", options, sub="subscribe", caller=caller)


async def test_a_manager_subscribes_and_the_channel_sees_it(bot: DiscordHarness) -> None:
    message = direct_answer(await subscribe(bot, at="08:00", days="mon-fri", tz="Europe/Paris"))
    assert "flags" not in message  # public: the channel learns it is subscribed
    assert embed(message)["title"] == "Briefing programmé"
    assert "du lundi au vendredi" in embed(message)["description"]
    assert message["allowed_mentions"] == NO_MENTIONS


async def test_subscribing_needs_manage_channels(bot: DiscordHarness) -> None:
    message = direct_answer(await subscribe(bot, Caller(), at="08:00"))
    assert message["flags"] == 64
    assert embed(message)["title"] == "Réservé aux administrateurs"


async def test_unsubscribing_needs_manage_channels(bot: DiscordHarness) -> None:
    exchange = await bot.slash("briefing", sub="unsubscribe", caller=Caller())
    assert embed(direct_answer(exchange))["title"] == "Réservé aux administrateurs"


async def test_subscribing_in_a_dm_is_refused_with_a_clear_message(bot: DiscordHarness) -> None:
    exchange = await bot.slash("briefing", {"at": "08:00"}, sub="subscribe", dm=True)
    message = direct_answer(exchange)
    assert message["flags"] == 64
    assert "pas en message privé" in embed(message)["description"]


async def test_subscribing_in_a_thread_is_refused(bot: DiscordHarness) -> None:
    thread = guild_channel(THREAD_ID, kind=11, name="fil")
    exchange = await bot.slash("briefing", {"at": "08:00"}, sub="subscribe", caller=MANAGER,
                               channel=thread)  # fmt: skip
    assert embed(direct_answer(exchange))["title"] == "Pas ici"


async def test_an_invalid_time_is_explained(bot: DiscordHarness) -> None:
    message = direct_answer(await subscribe(bot, at="25:99"))
    assert message["flags"] == 64
    assert embed(message)["title"] == "Heure non valide"


async def test_an_invalid_timezone_suggests_the_corrected_command(bot: DiscordHarness) -> None:
    message = direct_answer(await subscribe(bot, at="08:00", tz="Europe/Pariss"))
    assert embed(message)["title"] == "Fuseau horaire non valide"
    assert "`/briefing subscribe at=08:00 tz=Europe/Paris`" in embed(message)["description"]


async def test_an_option_cannot_smuggle_in_another_option(bot: DiscordHarness) -> None:
    message = direct_answer(await subscribe(bot, at="08:00 tz=Asia/Tokyo"))
    assert embed(message)["title"] == "Heure non valide"


async def test_timezones_autocomplete_from_iana_names(bot: DiscordHarness) -> None:
    choices = await bot.autocomplete("briefing", {"tz": "paris"}, "tz", sub="subscribe")
    assert {"name": "Europe/Paris", "value": "Europe/Paris"} in choices
    assert len(choices) <= 25


async def test_days_autocomplete_offers_readable_presets(bot: DiscordHarness) -> None:
    choices = await bot.autocomplete("briefing", {"days": "lun"}, "days", sub="subscribe")
    assert choices[0] == {"name": "du lundi au vendredi (mon-fri)", "value": "mon-fri"}


async def test_briefing_now_is_posted_for_the_channel(bot: DiscordHarness) -> None:
    exchange = await bot.slash("briefing", sub="now")
    callback, *rest = exchange.calls
    assert callback.json["type"] == 5
    assert not callback.json.get("data", {}).get("flags")  # public "thinking…"
    assert rest[0].method == "PATCH"
    assert rest[0].json["allowed_mentions"] == NO_MENTIONS


async def test_a_public_command_that_fails_answers_privately(tmp_path: Path) -> None:
    async with running_discord(discord_settings(tmp_path), handlers=[FailingPublicProbe()]) as bot:
        exchange = await bot.slash("announce")
    calls = [(c.method, c.path.rsplit("/", 1)[-1]) for c in exchange.calls]
    assert calls[0] == ("POST", "callback")
    assert calls[1:] == [
        ("PATCH", "@original"),  # resolve the public "thinking…"
        ("POST", exchange.token),  # the error, as a private follow-up
        ("DELETE", "@original"),  # and no trace in the channel
    ]
    followup = exchange.calls[2].json
    assert followup["flags"] == 64
    assert "indisponible" in followup["embeds"][0]["description"]


async def test_the_preview_is_private(bot: DiscordHarness) -> None:
    message = deferred_answer(await bot.slash("briefing", sub="preview"))
    assert embed(message)["title"].startswith("Aperçu")


async def test_the_subscription_list_is_private(bot: DiscordHarness) -> None:
    await subscribe(bot, at="08:00", tz="Europe/Paris")
    message = direct_answer(await bot.slash("briefing", sub="list"))
    assert message["flags"] == 64
    assert embed(message)["title"] == "1 briefing programmé"


# --- DMs ------------------------------------------------------------------------------------


async def test_commands_work_in_dms(bot: DiscordHarness) -> None:
    message = deferred_answer(await bot.slash("ask", {"question": "Qui est Molly Phee ?"}, dm=True))
    assert embed(message)["title"] == "Qui est Molly Phee ?"
