"""Scheduled briefings posted to Discord channels over REST, and how failures are reported
to the scheduler (Forbidden and NotFound are permanent, the rest transient)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import discord
import pytest

from adapters.discord.bot import DiscordAdapter, delivery_error, slot_nonce
from bot.briefings.scheduler import BriefingScheduler, Outcome
from bot.chat.context import ChannelRef
from bot.chat.publishing import DeliveryError
from bot.chat.replies import Block, Field, Reply, ReplyKind
from briefbot.app import Application
from tests.fakes.discord_api import CHANNEL_ID, GUILD_ID, MANAGER_PERMISSIONS, Call, Caller
from tests.fakes.discord_harness import DiscordHarness, discord_settings, running_discord

CHANNEL = ChannelRef("discord", str(GUILD_ID), str(CHANNEL_ID))
MESSAGES = f"/channels/{CHANNEL_ID}/messages"


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[DiscordHarness]:
    async with running_discord(discord_settings(tmp_path)) as harness:
        yield harness


def posts(bot: DiscordHarness) -> list[Call]:
    return bot.fake.calls_to("POST", MESSAGES)


def briefing(articles: int = 2) -> Reply:
    entries = tuple(
        Block(
            heading=f"Article {i} @everyone",
            url=f"https://example.org/{i}",
            items=("Les soldats américains quittent le Niger. " * 4,) * 5,
            fields=(Field("Date", "19 avril 2024"), Field("Acteurs", "Tiani, " * 100)),
        )
        for i in range(articles)
    )
    return Reply(ReplyKind.DIGEST, "Briefing du 20 avril", (Block("À la une."), *entries))


async def test_a_briefing_is_posted_to_the_channel_without_pings(bot: DiscordHarness) -> None:
    await bot.adapter.publish(CHANNEL, briefing())
    (post,) = posts(bot)
    assert post.authorization == "Bot fake-discord-token"
    assert post.json["allowed_mentions"] == {"parse": []}
    assert "flags" not in post.json and "message_reference" not in post.json
    titles = [e.get("title") for e in post.json["embeds"]]
    defused = "@\u200beveryone"
    assert titles == ["Briefing du 20 avril", f"Article 0 {defused}", f"Article 1 {defused}"]


async def test_the_core_digest_is_posted_as_it_is_built(bot: DiscordHarness) -> None:
    reply = bot.app.digests.digest_reply(None, None, "full")
    await bot.adapter.publish(CHANNEL, reply)
    assert posts(bot)[0].json["embeds"][0]["title"] == reply.title


async def test_a_long_briefing_is_posted_as_several_messages_discord_accepts(
    bot: DiscordHarness,
) -> None:
    await bot.adapter.publish(CHANNEL, briefing(articles=40))
    sent = posts(bot)
    assert len(sent) > 1
    assert len(bot.fake.messages) == len(sent)  # the fake refuses what Discord would refuse
    article_titles = [
        e["title"] for c in sent for e in c.json["embeds"] if e.get("title", "").startswith("Art")
    ]
    assert len(article_titles) == 40


@pytest.mark.parametrize(
    ("status", "code", "permanent"),
    [
        (403, 50013, True),  # Missing Permissions
        (404, 10003, True),  # Unknown Channel
        (401, 0, True),  # the token was revoked
        (400, 50035, False),  # Invalid Form Body: not the channel's fault
        (429, 0, False),  # rate limited (without Discord's proxy header: not retried here)
    ],
)
async def test_failures_map_to_the_scheduler_policy(
    bot: DiscordHarness, status: int, code: int, permanent: bool
) -> None:
    bot.fake.fail("POST", MESSAGES, status, code=code)
    with pytest.raises(DeliveryError) as failure:
        await bot.adapter.publish(CHANNEL, briefing())
    assert failure.value.permanent is permanent
    assert "fake-discord-token" not in failure.value.reason


def test_discord_server_errors_are_transient() -> None:
    response = SimpleNamespace(status=503, reason="Service Unavailable")
    failure = delivery_error(discord.DiscordServerError(response, "upstream"))
    assert failure.permanent is False


async def test_an_unreachable_discord_is_a_transient_failure(bot: DiscordHarness) -> None:
    await bot.fake.stop()
    with pytest.raises(DeliveryError) as failure:
        await bot.adapter.publish(CHANNEL, briefing())
    assert failure.value.permanent is False


async def test_a_channel_of_another_platform_is_a_permanent_failure(bot: DiscordHarness) -> None:
    with pytest.raises(DeliveryError) as failure:
        await bot.adapter.publish(ChannelRef("slack", "T1", "C1"), briefing())
    assert failure.value.permanent is True
    assert posts(bot) == []


async def test_publishing_before_login_is_a_transient_failure(tmp_path: Path) -> None:
    config = discord_settings(tmp_path)
    adapter = DiscordAdapter(Application(config).registry, config.discord)
    with pytest.raises(DeliveryError) as failure:
        await adapter.publish(CHANNEL, briefing())
    assert failure.value.permanent is False
    await adapter.stop()


async def test_a_paused_channel_is_told_why(bot: DiscordHarness) -> None:
    await bot.adapter.notify_paused(CHANNEL, "Pause après 5 échecs. @everyone")
    (post,) = posts(bot)
    note = post.json["embeds"][0]
    assert note["title"] == "Briefings en pause"
    assert note["description"] == "Pause après 5 échecs. @\u200beveryone"
    assert post.json["allowed_mentions"] == {"parse": []}


async def test_telling_a_gone_channel_it_is_paused_fails_quietly(bot: DiscordHarness) -> None:
    bot.fake.fail("POST", MESSAGES, 404, code=10003)
    await bot.adapter.notify_paused(CHANNEL, "Pause.")
    assert len(posts(bot)) == 1


async def scheduled(bot: DiscordHarness, *, max_failures: int) -> tuple[BriefingScheduler, int]:
    """A channel subscribed through /briefing subscribe, and a scheduler publishing to
    Discord through the adapter."""
    await bot.slash(
        "briefing", {"at": "08:00"}, sub="subscribe", caller=Caller(permissions=MANAGER_PERMISSIONS)
    )
    db = bot.app.database
    assert db is not None
    sub = db.subscriptions.find(CHANNEL)
    assert sub is not None
    scheduler = BriefingScheduler(
        db.subscriptions,
        db.deliveries,
        {"discord": bot.adapter},
        lambda s, since: bot.app.digests.digest_reply(s, since, s.mode),
        max_failures=max_failures,
    )
    return scheduler, sub.id


async def test_the_scheduler_posts_a_briefing_through_the_adapter(bot: DiscordHarness) -> None:
    scheduler, sub_id = await scheduled(bot, max_failures=3)
    now = datetime.now(UTC) + timedelta(days=1)  # a slot after the subscription
    result = await scheduler.run_slot(sub_id, now, now=now)
    assert result.outcome is Outcome.SENT
    assert len(posts(bot)) >= 1


async def test_a_forbidden_channel_ends_up_paused(bot: DiscordHarness) -> None:
    scheduler, sub_id = await scheduled(bot, max_failures=1)
    bot.fake.fail("POST", MESSAGES, 403, code=50013, times=2)  # the briefing, then the note
    now = datetime.now(UTC) + timedelta(days=1)  # a slot after the subscription
    result = await scheduler.run_slot(sub_id, now, now=now)
    assert result.outcome is Outcome.PAUSED
    assert "n'a pas le droit d'écrire" in (result.error or "")
    assert len(posts(bot)) == 2  # the briefing, and the attempt to say it is paused


# --- exactly once: a nonce per slot and part ----------------------------------------------

SLOT = "briefbot:1:20240108T070000Z"


async def test_each_message_carries_a_nonce_derived_from_the_slot_and_enforced(
    bot: DiscordHarness,
) -> None:
    await bot.adapter.publish(CHANNEL, briefing(articles=40), key=SLOT)
    sent = posts(bot)
    nonces = [c.json["nonce"] for c in sent]
    assert nonces == [slot_nonce(SLOT, part) for part in range(len(sent))]
    assert len(set(nonces)) == len(sent) and all(len(n) <= 25 for n in nonces)
    assert all(c.json["enforce_nonce"] is True for c in sent)


async def test_a_resend_of_an_accepted_message_is_not_posted_twice(bot: DiscordHarness) -> None:
    await bot.adapter.publish(CHANNEL, briefing(), key=SLOT)
    await bot.adapter.publish(CHANNEL, briefing(), key=SLOT, check=True)
    assert len(posts(bot)) == 2  # sent twice
    assert len(bot.fake.messages) == 1  # Discord kept one


async def test_publish_resumes_after_the_messages_already_sent(bot: DiscordHarness) -> None:
    total = await bot.adapter.publish(CHANNEL, briefing(articles=40), key=SLOT, skip=1)
    assert [c.json["nonce"] for c in posts(bot)] == [
        slot_nonce(SLOT, part) for part in range(1, total)
    ]


async def test_a_5xx_from_discord_may_have_stored_the_message() -> None:
    response = SimpleNamespace(status=503, reason="Service Unavailable")
    failure = delivery_error(discord.HTTPException(response, "upstream"))  # type: ignore[arg-type]
    assert (failure.permanent, failure.maybe_sent) == (False, True)
