"""Questions asked by mentioning the bot, or in a DM: MESSAGE_CREATE payloads fed to the
client's gateway parser, the replies checked as the fake Discord API received them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes.discord_api import (
    ADMIN_ROLE_ID,
    BOT_ID,
    CHANNEL_ID,
    DM_CHANNEL_ID,
    GUILD_ID,
    OTHER_BOT_ID,
    Call,
    Caller,
    user,
)
from tests.fakes.discord_harness import DiscordHarness, discord_settings, running_discord

QUESTION_ID = "1400000000000000001"


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[DiscordHarness]:
    async with running_discord(discord_settings(tmp_path)) as harness:
        yield harness


def posts(calls: list[Call], channel: int = CHANNEL_ID) -> list[Call]:
    return [c for c in calls if c.method == "POST" and c.path == f"/channels/{channel}/messages"]


async def test_a_mention_is_answered_by_a_reply_to_the_question(bot: DiscordHarness) -> None:
    calls = await bot.message(f"<@{BOT_ID}> Qui est Molly Phee ?")
    (post,) = posts(calls)
    assert post.json["message_reference"] == {
        "type": 0,
        "message_id": int(QUESTION_ID),
        "channel_id": CHANNEL_ID,
        "guild_id": GUILD_ID,
        "fail_if_not_exists": False,
    }
    assert post.json["allowed_mentions"] == {"parse": [], "replied_user": False}
    answer = post.json["embeds"][0]
    assert answer["title"] == "Qui est Molly Phee ?"  # the mention is not part of the question
    assert "Molly Phee" in answer["description"]
    assert post.authorization == "Bot fake-discord-token"


async def test_the_bot_shows_it_is_typing_while_it_works(bot: DiscordHarness) -> None:
    calls = await bot.message(f"<@{BOT_ID}> Qui est Molly Phee ?")
    assert calls[0].path == f"/channels/{CHANNEL_ID}/typing"


async def test_a_nickname_mention_works_too(bot: DiscordHarness) -> None:
    (post,) = posts(await bot.message(f"Dis-moi <@!{BOT_ID}>, qui est Molly Phee ?"))
    assert post.json["embeds"][0]["title"] == "Dis-moi, qui est Molly Phee ?"


async def test_a_mention_without_a_question_gets_the_help(bot: DiscordHarness) -> None:
    (post,) = posts(await bot.message(f"<@{BOT_ID}>"))
    assert post.json["embeds"][0]["title"] == "Commandes de briefbot"


async def test_a_dm_question_is_answered_in_the_dm(bot: DiscordHarness) -> None:
    calls = await bot.message("Qui est Molly Phee ?", dm=True)
    (post,) = posts(calls, DM_CHANNEL_ID)
    assert post.json["embeds"][0]["title"] == "Qui est Molly Phee ?"
    assert post.json["message_reference"]["message_id"] == int(QUESTION_ID)


async def test_everyone_and_here_pings_are_not_questions(bot: DiscordHarness) -> None:
    assert await bot.message("@everyone Qui est Molly Phee ?", mentions_bot=False) == []
    assert await bot.message("@here réunion", mentions_bot=False) == []


async def test_messages_mentioning_someone_else_are_ignored(bot: DiscordHarness) -> None:
    other = user(OTHER_BOT_ID, "alex")
    calls = await bot.message(f"<@{OTHER_BOT_ID}> salut", mentions_bot=False, mentions=[other])
    assert calls == []


async def test_other_bots_are_ignored(bot: DiscordHarness) -> None:
    robot = Caller(user_id=OTHER_BOT_ID, name="robot", bot=True)
    assert await bot.message(f"<@{BOT_ID}> Qui est Molly Phee ?", author=robot) == []


async def test_the_bot_ignores_its_own_messages(bot: DiscordHarness) -> None:
    itself = Caller(user_id=BOT_ID, name="briefbot", bot=True)
    assert await bot.message("Qui est Molly Phee ?", author=itself, dm=True) == []


async def test_a_mention_cannot_make_the_bot_ping(bot: DiscordHarness) -> None:
    content = f"<@{BOT_ID}> @everyone <@&123456789012345678> **Qui** est [Molly](https://x.y) ?"
    (post,) = posts(await bot.message(content))
    title = post.json["embeds"][0]["title"]
    assert "@everyone" not in title and "<@&" not in title and "](" not in title
    assert post.json["allowed_mentions"] == {"parse": [], "replied_user": False}


async def test_commands_can_be_typed_after_the_mention(bot: DiscordHarness) -> None:
    (post,) = posts(await bot.message(f"<@{BOT_ID}> /actor Bazoum"))
    assert post.json["embeds"][0]["title"] == "Mohamed Bazoum"


async def test_a_member_cannot_subscribe_by_mention(bot: DiscordHarness) -> None:
    (post,) = posts(await bot.message(f"<@{BOT_ID}> /briefing subscribe at=08:00"))
    assert post.json["embeds"][0]["title"] == "Réservé aux administrateurs"


async def test_a_member_with_a_managing_role_can_subscribe_by_mention(bot: DiscordHarness) -> None:
    manager = Caller(roles=(ADMIN_ROLE_ID,))
    calls = await bot.message(f"<@{BOT_ID}> /briefing subscribe at=08:00", author=manager)
    (post,) = posts(calls)
    assert post.json["embeds"][0]["title"] == "Briefing programmé"


async def test_subscribing_by_dm_is_refused_with_a_clear_message(bot: DiscordHarness) -> None:
    (post,) = posts(await bot.message("/briefing subscribe at=08:00", dm=True), DM_CHANNEL_ID)
    assert "pas en message privé" in post.json["embeds"][0]["description"]


async def test_too_many_mentioned_questions_get_a_polite_reply(tmp_path: Path) -> None:
    async with running_discord(discord_settings(tmp_path, rate_limit_per_minute=1)) as bot:
        await bot.message(f"<@{BOT_ID}> Qui est Molly Phee ?")
        (post,) = posts(await bot.message(f"<@{BOT_ID}> Qui est Molly Phee ?"))
    assert post.json["embeds"][0]["title"] == "Un instant"


async def test_a_reply_the_channel_refuses_is_dropped_quietly(bot: DiscordHarness) -> None:
    bot.fake.fail("POST", f"/channels/{CHANNEL_ID}/messages", 403, code=50013)
    calls = await bot.message(f"<@{BOT_ID}> Qui est Molly Phee ?")
    assert len(posts(calls)) == 1  # tried once; no retry storm, no crash


async def test_in_a_guild_missing_from_the_cache_only_mentions_are_answered(
    tmp_path: Path,
) -> None:
    async with running_discord(discord_settings(tmp_path), with_guild=False) as bot:
        assert await bot.message("Qui est Molly Phee ?", mentions_bot=False) == []
        (post,) = posts(await bot.message(f"<@{BOT_ID}> Qui est Molly Phee ?"))
    assert post.json["message_reference"]["message_id"] == int(QUESTION_ID)
