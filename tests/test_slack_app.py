"""The Slack adapter in HTTP mode, driven over real sockets by signed requests, against the
local fake Slack. Assertions are on what the bot actually posted."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.slack.app import SlackAdapter
from adapters.slack.blocks import FEEDBACK_UP, SHARE_ACTION
from bot.briefings.schedule_parsing import parse_options, parse_schedule
from bot.briefings.scheduler import BriefingScheduler, Outcome, Reason
from bot.chat.context import ChannelRef, CommandContext
from bot.chat.publishing import DeliveryError
from bot.chat.registry import command
from bot.chat.replies import Block, Reply, ReplyKind
from bot.settings import ConfigError
from bot.storage.database import Database
from tests.config import make_config
from tests.fakes.slack_api import (
    BOT_TOKEN,
    SIGNING_SECRET,
    TEAM,
    app_mention,
    direct_message,
    form_body,
    post_signed,
    slash_command,
)
from tests.fakes.slack_harness import SlackHarness, running_slack

MENTIONS = ("<!channel>", "<!here>", "<!everyone>", "<!subteam^", "<@U")


@pytest.fixture
async def slack(tmp_path: Path) -> AsyncIterator[SlackHarness]:
    async with running_slack(tmp_path / "data") as harness:
        yield harness


def texts(body: dict[str, Any]) -> str:
    """Every text of a message payload, joined: what a reader would see."""
    found = [body.get("text") or ""]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text"):
                found.append(node.get("text", ""))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(body.get("blocks") or [])
    return "\n".join(found)


def assert_no_mentions(body: dict[str, Any]) -> None:
    payload = json.dumps(body, ensure_ascii=False)
    for mention in MENTIONS:
        assert mention not in payload


def block_types(body: dict[str, Any]) -> list[str]:
    return [b["type"] for b in body["blocks"]]


def buttons(body: dict[str, Any]) -> dict[str, str]:
    actions = [b for b in body["blocks"] if b["type"] == "actions"]
    return {e["action_id"]: e["value"] for a in actions for e in a["elements"]}


# --- the server --------------------------------------------------------------------------


async def test_health_endpoint_says_ok(slack: SlackHarness) -> None:
    async with slack.session.get(f"http://127.0.0.1:{slack.adapter.port}/health") as response:
        assert response.status == 200
        assert await response.json() == {"status": "ok", "platform": "slack", "mode": "http"}


async def test_start_checks_the_bot_token_with_auth_test(slack: SlackHarness) -> None:
    [call] = slack.fake.calls_to("auth.test")[:1]
    assert call.headers["Authorization"] == f"Bearer {BOT_TOKEN}"
    assert slack.adapter.bot_user_id == "UBOT"


async def test_a_bad_signature_gets_401_and_no_reply(slack: SlackHarness) -> None:
    body = form_body(slash_command("/ask", "Qui ?", response_url=slack.fake.response_url("x")))
    status, _ = await post_signed(
        slack.session,
        slack.events_url,
        body,
        content_type="application/x-www-form-urlencoded",
        secret="not-the-secret",
    )
    assert status == 401
    await slack.adapter.wait_idle()
    assert slack.fake.calls_to("response_url") == []


async def test_a_stale_timestamp_gets_401(slack: SlackHarness) -> None:
    body = form_body(slash_command("/ask", "Qui ?", response_url=slack.fake.response_url("x")))
    status, _ = await post_signed(
        slack.session,
        slack.events_url,
        body,
        content_type="application/x-www-form-urlencoded",
        timestamp=int(time.time()) - 600,
    )
    assert status == 401


async def test_http_mode_needs_the_signing_secret(tmp_path: Path) -> None:
    config = make_config(data_dir=tmp_path, slack_bot_token=BOT_TOKEN)
    with pytest.raises(ConfigError) as caught:
        SlackAdapter(object(), config.slack)  # type: ignore[arg-type]
    assert "SLACK_SIGNING_SECRET" in str(caught.value)


async def test_a_refused_token_stops_the_start_with_a_clear_error(tmp_path: Path) -> None:
    from tests.fakes.slack_api import FakeSlack

    fake = await FakeSlack(bot_token="xoxb-the-real-one").start()
    try:
        config = make_config(
            data_dir=tmp_path,
            slack_bot_token="xoxb-revoked-secret",
            slack_signing_secret=SIGNING_SECRET,
            slack_api_url=fake.api_url,
        )
        adapter = SlackAdapter(object(), config.slack, host="127.0.0.1", port=0)  # type: ignore[arg-type]
        with pytest.raises(ConfigError) as caught:
            await adapter.start()
        assert "SLACK_BOT_TOKEN" in str(caught.value) and "invalid_auth" in str(caught.value)
        assert "xoxb-revoked-secret" not in str(caught.value)
    finally:
        await fake.stop()


# --- /ask -----------------------------------------------------------------------------------


async def test_ask_is_acknowledged_then_answered_privately_with_share_and_feedback(
    slack: SlackHarness,
) -> None:
    status, ack, key = await slack.command("/ask", "Qui est Molly Phee ?")
    assert (status, ack) == (200, "")
    [body] = await slack.responses(key)
    assert body["response_type"] == "ephemeral"
    assert body["replace_original"] is False
    assert block_types(body)[:3] == ["header", "section", "context"]
    assert body["blocks"][0]["text"]["text"] == "Qui est Molly Phee ?"
    assert "Molly Phee" in body["blocks"][1]["text"]["text"]
    source = body["blocks"][2]["elements"][0]["text"]
    assert source.startswith("Source : LA JUNTE SOURDE AUX PRESSIONS AMÉRICAINES AU NIGER")
    assert "Confiance : " in texts(body)
    assert set(buttons(body)) == {SHARE_ACTION, FEEDBACK_UP, "briefbot_feedback_down"}
    assert body["text"].startswith("Qui est Molly Phee ?\n")


class GatedProbe:
    """A command whose work waits until the test opens the gate: a busy core."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()

    @command("probe", "Une commande de test qui attend", options=())
    async def probe(self, ctx: CommandContext) -> Reply:
        await self.gate.wait()
        return Reply(ReplyKind.INFO, "Réponse de la sonde")


async def test_the_ack_does_not_wait_for_the_core(tmp_path: Path) -> None:
    probe = GatedProbe()
    async with running_slack(tmp_path / "data", handlers=[probe]) as slack:
        status, _, key = await slack.command("/probe")
        assert status == 200  # acknowledged while the core is still busy
        assert slack.fake.calls_to("response_url", key=key) == []
        probe.gate.set()
        [body] = await slack.responses(key)
    assert "Réponse de la sonde" in texts(body)


async def test_an_empty_ask_gets_a_clear_private_message(slack: SlackHarness) -> None:
    _, _, key = await slack.command("/ask", "   ")
    [body] = await slack.responses(key)
    assert body["response_type"] == "ephemeral"
    assert "La question est vide" in texts(body)


async def test_a_huge_question_is_refused_politely(slack: SlackHarness) -> None:
    _, _, key = await slack.command("/ask", "Niger " * 10_000)
    [body] = await slack.responses(key)
    assert "trop longue" in texts(body)
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in body["blocks"])


async def test_injection_in_a_question_is_neutralised(slack: SlackHarness) -> None:
    question = "<!channel> <!here|here> @here <@U123> <!subteam^S1|@devs> Qui est Molly Phee ?"
    _, _, key = await slack.command("/ask", question)
    [body] = await slack.responses(key)
    assert_no_mentions(body)
    assert (
        body["blocks"][0]["text"]["text"] == "@channel here @here @U123 @devs Qui est Molly Phee ?"
    )


async def test_injection_inside_an_article_is_neutralised(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "zinder.md").write_text(
        "# Réunion à Zinder <!channel>\n\n## Le conseil <@U123>\n\n"
        "Le gouverneur de Zinder a convoqué <!here> et <!subteam^S1|@devs> une réunion "
        "extraordinaire <@U999> au palais le 3 mai 2024.\n",
        encoding="utf-8",
    )
    async with running_slack(tmp_path / "data", corpus=corpus) as slack:
        _, _, key = await slack.command(
            "/ask", "Qui a convoqué une réunion extraordinaire à Zinder ?"
        )
        [body] = await slack.responses(key)
    assert "convoqué" in texts(body)
    assert_no_mentions(body)
    assert "&lt;!here&gt;" in json.dumps(body, ensure_ascii=False)


async def test_questions_are_rate_limited_per_user_with_a_polite_message(tmp_path: Path) -> None:
    async with running_slack(tmp_path / "data", rate_limit_per_minute=2) as slack:
        replies = []
        for _ in range(3):
            _, _, key = await slack.command("/ask", "Qui est Molly Phee ?", user="UEAGER")
            replies.append((await slack.responses(key))[0])
        _, _, other = await slack.command("/ask", "Qui est Molly Phee ?", user="UCALM")
        calm = (await slack.responses(other))[0]
    assert "patienter" not in texts(replies[1])
    assert "patienter" in texts(replies[2]) and replies[2]["response_type"] == "ephemeral"
    assert "patienter" not in texts(calm)


# --- sharing and feedback ----------------------------------------------------------------------


async def test_share_posts_the_answer_in_the_channel(slack: SlackHarness) -> None:
    _, _, key = await slack.command("/ask", "Qui est Molly Phee ?")
    [private] = await slack.responses(key)
    status, click = await slack.click(SHARE_ACTION, buttons(private)[SHARE_ACTION])
    assert status == 200
    [shared] = await slack.responses(click)
    assert shared["response_type"] == "in_channel"
    assert shared["replace_original"] is False
    assert shared["blocks"][:3] == private["blocks"][:3]  # same title, excerpt, citation
    assert SHARE_ACTION not in buttons(shared)
    assert "Partagé par ualice" in texts(shared)


async def test_a_forged_share_value_gets_a_clear_message(slack: SlackHarness) -> None:
    _, click = await slack.click(SHARE_ACTION, '{"v": 1, "q": "<!channel>"}')
    [body] = await slack.responses(click)
    assert body["response_type"] == "ephemeral"
    assert "ne peut plus être partagée" in texts(body)


def recorded_feedback(slack: SlackHarness) -> list[Any]:
    database = Database(slack.config.core.effective_database_url)
    try:
        return database.feedback.all()
    finally:
        database.close()


async def test_a_vote_is_recorded_with_its_voter_question_and_cited_passage(
    slack: SlackHarness,
) -> None:
    _, _, key = await slack.command("/ask", "Qui est Molly Phee ?")
    [answer] = await slack.responses(key)
    _, click = await slack.click(
        "briefbot_feedback_down", buttons(answer)[FEEDBACK_UP], user="UBOB"
    )
    [body] = await slack.responses(click)
    assert body["response_type"] == "ephemeral" and "Merci" in texts(body)
    [record] = recorded_feedback(slack)
    assert (record.platform, record.user_id, record.value) == ("slack", "UBOB", -1)
    assert record.question == "Qui est Molly Phee ?"
    assert record.article == "000_ab94e0541aefd417"
    assert record.section == "DES CONDITIONS STRICTES"


async def test_a_thumbs_up_is_recorded_as_plus_one(slack: SlackHarness) -> None:
    _, _, key = await slack.command("/ask", "Qui est Molly Phee ?")
    [answer] = await slack.responses(key)
    _, click = await slack.click(FEEDBACK_UP, buttons(answer)[FEEDBACK_UP])
    [body] = await slack.responses(click)
    assert "Impossible" not in texts(body)
    [record] = recorded_feedback(slack)
    assert (record.user_id, record.value) == ("UALICE", 1)


async def test_a_forged_vote_is_refused_and_not_recorded(slack: SlackHarness) -> None:
    _, click = await slack.click(FEEDBACK_UP, '{"v": 2, "t": 1}')
    [body] = await slack.responses(click)
    assert "ne peut pas être enregistré" in texts(body)
    assert recorded_feedback(slack) == []


# --- mentions and direct messages -------------------------------------------------------------


async def test_a_mention_is_answered_publicly_in_its_thread(slack: SlackHarness) -> None:
    status = await slack.event(app_mention("<@UBOT> Qui est Molly Phee ?", ts="1700000100.000100"))
    assert status == 200
    [call] = await slack.posts()
    body = call.body
    assert body["channel"] == "CGENERAL"
    assert body["thread_ts"] == "1700000100.000100"
    assert body["link_names"] is False
    assert body["blocks"][0]["text"]["text"] == "Qui est Molly Phee ?"
    assert "Molly Phee" in body["blocks"][1]["text"]["text"]
    assert set(buttons(body)) == {FEEDBACK_UP, "briefbot_feedback_down"}  # no share: public
    assert call.headers["Authorization"] == f"Bearer {BOT_TOKEN}"


async def test_a_mention_inside_a_thread_answers_in_that_thread(slack: SlackHarness) -> None:
    await slack.event(
        app_mention(
            "<@UBOT> Qui est Molly Phee ?", ts="1700000150.000100", thread_ts="1700000001.000001"
        )
    )
    [call] = await slack.posts()
    assert call.body["thread_ts"] == "1700000001.000001"


async def test_a_bare_mention_gets_the_help(slack: SlackHarness) -> None:
    await slack.event(app_mention("<@UBOT>"))
    [call] = await slack.posts()
    assert "/ask" in texts(call.body) and "/briefing" in texts(call.body)


async def test_a_refused_mention_is_answered_only_to_its_author(slack: SlackHarness) -> None:
    await slack.event(app_mention("<@UBOT> /frobnicate", user="UCAROL"))
    [call] = await slack.posts(method="chat.postEphemeral")
    assert call.body["user"] == "UCAROL"
    assert "Commande inconnue" in texts(call.body)
    assert slack.fake.calls_to("chat.postMessage") == []


async def test_injection_in_a_mention_is_neutralised(slack: SlackHarness) -> None:
    await slack.event(
        app_mention("<@UBOT> <!everyone> <@U777|bob> &lt;!here&gt; Qui est Molly Phee ?")
    )
    [call] = await slack.posts()
    assert_no_mentions(call.body)
    assert "@everyone @bob" in texts(call.body)


async def test_a_direct_message_is_answered_in_the_conversation(slack: SlackHarness) -> None:
    await slack.event(direct_message("Qui est Molly Phee ?", channel="DALICE"))
    [call] = await slack.posts()
    assert call.body["channel"] == "DALICE"
    assert "thread_ts" not in call.body
    assert "Molly Phee" in call.body["blocks"][1]["text"]["text"]


async def test_aide_in_a_direct_message_gets_the_help(slack: SlackHarness) -> None:
    await slack.event(direct_message("aide"))
    [call] = await slack.posts()
    assert "Commandes de briefbot" in texts(call.body)


async def test_messages_from_bots_and_edits_are_ignored(slack: SlackHarness) -> None:
    bot = direct_message("Qui est Molly Phee ?")
    bot["event"]["bot_id"] = "BOTHER"
    edit = direct_message("Qui est Molly Phee ?")
    edit["event"]["subtype"] = "message_changed"
    assert await slack.event(bot) == 200 and await slack.event(edit) == 200
    await slack.event(direct_message("/help"))
    [call] = await slack.posts()
    assert "Commandes de briefbot" in texts(call.body)
    await slack.adapter.wait_idle()
    assert len(slack.fake.calls_to("chat.postMessage")) == 1


# --- the other commands ------------------------------------------------------------------------


async def test_an_unknown_command_suggests_the_closest(slack: SlackHarness) -> None:
    _, _, key = await slack.command("/aks", "Qui ?")
    [body] = await slack.responses(key)
    assert "Commande inconnue : /aks" in texts(body) and "/ask" in texts(body)


async def test_actor_shows_the_actor_card(slack: SlackHarness) -> None:
    _, _, key = await slack.command("/actor", "Molly Phee")
    [body] = await slack.responses(key)
    assert "Impossible de répondre" not in texts(body)
    assert "Molly Phee" in texts(body)


async def test_actors_lists_the_actors(slack: SlackHarness) -> None:
    _, _, key = await slack.command("/actors")
    [body] = await slack.responses(key)
    assert "Impossible de répondre" not in texts(body)
    assert "Tiani" in texts(body)


async def test_timeline_shows_dated_events_with_their_sources(slack: SlackHarness) -> None:
    _, _, key = await slack.command("/timeline")
    [body] = await slack.responses(key)
    assert body["blocks"][0]["text"]["text"].startswith("Chronologie")
    assert "Source : " in texts(body)


async def test_an_unknown_briefing_subcommand_gets_a_private_hint(slack: SlackHarness) -> None:
    _, _, key = await slack.command("/briefing", "subscrib at=08:00")
    [body] = await slack.responses(key)
    assert body["response_type"] == "ephemeral"
    assert "Sous-commande inconnue" in texts(body) and "subscribe" in texts(body)


async def test_a_member_cannot_subscribe_the_channel(slack: SlackHarness) -> None:
    slack.fake.add_user("UBOB")
    _, _, key = await slack.command("/briefing", "subscribe at=08:00 tz=Europe/Paris", user="UBOB")
    [body] = await slack.responses(key)
    assert body["response_type"] == "ephemeral"
    assert "Réservé aux administrateurs" in texts(body)
    [info] = slack.fake.calls_to("users.info")
    assert info.body["user"] == "UBOB"


async def test_a_workspace_admin_can_subscribe_the_channel(slack: SlackHarness) -> None:
    slack.fake.add_user("UADMIN", admin=True)
    _, _, key = await slack.command(
        "/briefing", "subscribe at=08:00 days=mon-fri tz=Europe/Paris", user="UADMIN"
    )
    [body] = await slack.responses(key)
    assert "Briefing programmé" in texts(body)


async def test_subscribing_in_a_direct_message_is_refused(slack: SlackHarness) -> None:
    _, _, key = await slack.command(
        "/briefing", "subscribe at=08:00", channel="DALICE", channel_name="directmessage"
    )
    [body] = await slack.responses(key)
    assert "pas en message privé" in texts(body)


async def test_admins_are_workspace_admins_owners_or_listed(tmp_path: Path) -> None:
    async with running_slack(tmp_path / "data", slack_admins="ULISTED") as slack:
        slack.fake.add_user("UADMIN", admin=True)
        slack.fake.add_user("UOWNER", owner=True)
        slack.fake.add_user("UBOB")
        check = slack.adapter.admin_check
        assert await check("UADMIN")() and await check("UOWNER")()
        assert not await check("UBOB")() and not await check("UNKNOWN")()
        calls_before = len(slack.fake.calls_to("users.info"))
        assert await check("ULISTED")()
        assert len(slack.fake.calls_to("users.info")) == calls_before  # no API call needed


# --- publishing scheduled briefings -----------------------------------------------------------

BRIEFING = Reply(
    ReplyKind.DIGEST,
    "Briefing du 19 avril",
    (Block("2 articles. À la une : <!channel> les soldats partent."),),
)
CHANNEL = ChannelRef("slack", TEAM, "CBRIEF")


async def test_publish_posts_the_briefing_with_chat_post_message(slack: SlackHarness) -> None:
    await slack.adapter.publish(CHANNEL, BRIEFING)
    [call] = slack.fake.calls_to("chat.postMessage")
    assert call.body["channel"] == "CBRIEF"
    assert call.body["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Briefing du 19 avril"},
    }
    assert call.body["blocks"][1]["text"]["text"] == (
        "2 articles. À la une : &lt;!channel&gt; les soldats partent."
    )
    assert_no_mentions(call.body)


@pytest.mark.parametrize(
    "code",
    [
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_auth",
        "account_inactive",
        "token_revoked",
        "missing_scope",
    ],
)
async def test_publish_failures_that_no_retry_fixes_are_permanent(
    slack: SlackHarness, code: str
) -> None:
    slack.fake.script("chat.postMessage", error=code)
    with pytest.raises(DeliveryError) as caught:
        await slack.adapter.publish(CHANNEL, BRIEFING)
    assert caught.value.permanent is True
    assert code in caught.value.reason


async def test_publish_waits_out_a_rate_limit_then_posts(slack: SlackHarness) -> None:
    slack.fake.script(
        "chat.postMessage", status=429, headers={"Retry-After": "7"}, error="ratelimited"
    )
    await slack.adapter.publish(CHANNEL, BRIEFING)
    assert slack.sleeps == [7.0]
    assert len(slack.fake.calls_to("chat.postMessage")) == 2


async def test_a_long_rate_limit_is_a_transient_failure(slack: SlackHarness) -> None:
    slack.fake.script(
        "chat.postMessage", status=429, headers={"Retry-After": "600"}, error="ratelimited"
    )
    with pytest.raises(DeliveryError) as caught:
        await slack.adapter.publish(CHANNEL, BRIEFING)
    assert caught.value.permanent is False
    assert slack.sleeps == []


async def test_a_network_failure_is_transient(slack: SlackHarness) -> None:
    await slack.fake.stop()
    with pytest.raises(DeliveryError) as caught:
        await slack.adapter.publish(CHANNEL, BRIEFING)
    assert caught.value.permanent is False
    assert slack.sleeps == [0.5]  # one quick retry first


async def test_notify_paused_says_so_and_ignores_failures(slack: SlackHarness) -> None:
    await slack.adapter.notify_paused(CHANNEL, "Les briefings de ce canal sont en pause.")
    [call] = slack.fake.calls_to("chat.postMessage")
    assert "en pause" in texts(call.body)
    slack.fake.script("chat.postMessage", error="channel_not_found")
    await slack.adapter.notify_paused(CHANNEL, "encore")  # does not raise


async def test_a_long_briefing_is_split_into_several_posts(slack: SlackHarness) -> None:
    blocks = tuple(
        Block(f"Article {i}.", heading=f"Titre {i}", items=("Point.",)) for i in range(70)
    )
    await slack.adapter.publish(CHANNEL, Reply(ReplyKind.DIGEST, "Briefing", blocks))
    calls = slack.fake.calls_to("chat.postMessage")
    assert len(calls) == 3
    assert all(len(c.body["blocks"]) <= 50 for c in calls)


# --- exactly once: the slot's metadata and the history check ----------------------------

SLOT = "briefbot:1:20240108T070000Z"


async def test_publish_names_the_slot_and_part_in_the_message_metadata(
    slack: SlackHarness,
) -> None:
    await slack.adapter.publish(CHANNEL, BRIEFING, key=SLOT)
    [call] = slack.fake.calls_to("chat.postMessage")
    assert call.body["metadata"] == {
        "event_type": "briefbot_briefing",
        "event_payload": {"slot": SLOT, "part": 0, "parts": 1},
    }


async def test_publish_reports_each_accepted_message(slack: SlackHarness) -> None:
    blocks = tuple(Block(f"Article {i}.", heading=f"Titre {i}") for i in range(70))
    counts: list[int] = []

    async def accepted(count: int) -> None:
        counts.append(count)

    total = await slack.adapter.publish(
        CHANNEL, Reply(ReplyKind.DIGEST, "Briefing", blocks), key=SLOT, accepted=accepted
    )
    assert counts == list(range(1, total + 1)) and total > 1


async def test_publish_skips_the_messages_already_sent(slack: SlackHarness) -> None:
    blocks = tuple(Block(f"Article {i}.", heading=f"Titre {i}") for i in range(70))
    reply = Reply(ReplyKind.DIGEST, "Briefing", blocks)
    total = await slack.adapter.publish(CHANNEL, reply, key=SLOT, skip=1)
    parts = [
        c.body["metadata"]["event_payload"]["part"] for c in slack.fake.calls_to("chat.postMessage")
    ]
    assert parts == list(range(1, total))


async def test_a_checked_publish_does_not_post_again_what_the_channel_has(
    slack: SlackHarness,
) -> None:
    await slack.adapter.publish(CHANNEL, BRIEFING, key=SLOT)
    await slack.adapter.publish(CHANNEL, BRIEFING, key=SLOT, check=True)
    assert len(slack.fake.posts_in("CBRIEF")) == 1
    [history] = slack.fake.calls_to("conversations.history")
    assert history.body["include_all_metadata"] in (True, "true", "1")


async def test_without_the_history_scope_a_checked_publish_posts_and_says_why(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture
) -> None:
    slack.fake.history_scope = False
    await slack.adapter.publish(CHANNEL, BRIEFING, key=SLOT)
    await slack.adapter.publish(CHANNEL, BRIEFING, key=SLOT, check=True)
    assert len(slack.fake.posts_in("CBRIEF")) == 2
    assert "channels:history" in caplog.text


async def test_a_refused_connection_is_known_not_to_have_sent_anything(
    slack: SlackHarness,
) -> None:
    await slack.fake.stop()
    with pytest.raises(DeliveryError) as caught:
        await slack.adapter.publish(CHANNEL, BRIEFING, key=SLOT)
    assert caught.value.maybe_sent is False


async def test_a_post_slack_accepted_but_answered_too_late_is_not_duplicated(
    slack: SlackHarness,
) -> None:
    db = slack.app.database
    created = datetime(2024, 1, 1, tzinfo=UTC)
    sub = db.subscriptions.save(
        CHANNEL, parse_schedule(parse_options("at=08:00")), created_by="U1", now=created
    ).subscription
    scheduler = BriefingScheduler(
        db.subscriptions,
        db.deliveries,
        {"slack": slack.adapter},
        lambda s, since: BRIEFING,
        slot_timeout=timedelta(seconds=0.3),
    )
    slack.fake.hang_after_accept, slack.fake.hangs = 2.0, 1
    slot = datetime(2024, 1, 8, 7, 0, tzinfo=UTC)

    first = await scheduler.run_slot(sub.id, slot, now=slot)
    assert first.retry_at is not None
    second = await scheduler.run_slot(sub.id, slot, now=first.retry_at, reason=Reason.RETRY)

    assert (first.outcome, second.outcome) == (Outcome.FAILED, Outcome.SENT)
    assert len(slack.fake.posts_in("CBRIEF")) == 1
