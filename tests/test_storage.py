"""What the bot remembers across restarts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import StatementError

from bot.briefings import schedule_parsing, timezones
from bot.briefings.schedule import ScheduleSpec
from bot.briefings.schedule_parsing import parse_options, parse_schedule
from bot.briefings.subscription import CLAIMED, FAILED, SENT, SKIPPED
from bot.chat.context import ChannelRef
from bot.storage.database import Database

T0 = datetime(2024, 1, 8, 7, 0, tzinfo=UTC)
GENERAL = ChannelRef("slack", "T1", "C-general")
NEWS = ChannelRef("slack", "T1", "C-news")


@dataclass(frozen=True)
class FakeArticle:
    id: str
    content_hash: str


def spec(text: str = "at=08:00 days=mon-fri tz=Europe/Paris") -> ScheduleSpec:
    return parse_schedule(parse_options(text))


def test_the_sqlite_file_is_created_with_its_folder(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "bot.db"
    Database(f"sqlite:///{path}").close()
    assert path.exists()


def test_an_in_memory_database_works_for_quick_runs() -> None:
    db = Database("sqlite://")
    db.subscriptions.save(GENERAL, spec(), created_by="U1", now=T0)
    assert len(db.subscriptions.list()) == 1
    db.close()


def test_a_subscription_keeps_everything_it_was_given(db: Database) -> None:
    saved = db.subscriptions.save(
        GENERAL, spec(), created_by="U1", created_by_name="Awa", now=T0
    ).subscription
    found = db.subscriptions.find(GENERAL)
    assert found == saved
    assert (found.times, found.days, found.timezone, found.mode) == (
        "08:00",
        "mon,tue,wed,thu,fri",
        "Europe/Paris",
        "new",
    )
    assert (found.created_by, found.created_by_name, found.created_at) == ("U1", "Awa", T0)
    assert (found.last_delivery, found.consecutive_failures, found.paused) == (None, 0, False)


def test_datetimes_come_back_timezone_aware_in_utc(db: Database) -> None:
    paris_time = datetime(2024, 1, 8, 9, 0, tzinfo=timezone(timedelta(hours=1)))
    saved = db.subscriptions.save(GENERAL, spec(), created_by="U1", now=paris_time)
    found = db.subscriptions.get(saved.subscription.id)
    assert found.created_at == datetime(2024, 1, 8, 8, 0, tzinfo=UTC)
    assert found.created_at.tzinfo == UTC


def test_naive_datetimes_are_refused(db: Database) -> None:
    with pytest.raises((ValueError, StatementError)):
        db.subscriptions.save(GENERAL, spec(), created_by="U1", now=datetime(2024, 1, 8))


def test_a_second_subscription_for_a_channel_replaces_the_first(db: Database) -> None:
    first = db.subscriptions.save(GENERAL, spec(), created_by="U1", now=T0).subscription
    delivery = db.deliveries.claim(first.id, T0, now=T0)
    db.deliveries.mark_sent(delivery.id, now=T0)
    db.deliveries.mark_failed(db.deliveries.claim(first.id, T0 + timedelta(days=1)).id, "x")
    db.subscriptions.pause(first.id, "trop d'échecs")

    later = T0 + timedelta(days=2)
    second = db.subscriptions.save(GENERAL, spec("at=18h"), created_by="U2", now=later)

    assert second.replaced is not None and second.replaced.times == "08:00"
    sub = second.subscription
    assert sub.id == first.id
    assert (sub.times, sub.created_by, sub.updated_at) == ("18:00", "U2", later)
    assert sub.last_delivery == T0  # "new since the last briefing" carries on
    assert (sub.paused, sub.consecutive_failures) == (False, 0)
    assert len(db.subscriptions.list()) == 1


def test_replacing_a_subscription_resets_its_creation_time(db: Database) -> None:
    first = db.subscriptions.save(GENERAL, spec(), created_by="U1", now=T0).subscription
    db.deliveries.mark_sent(db.deliveries.claim(first.id, T0, now=T0).id, now=T0)
    later = T0 + timedelta(days=2)

    replaced = db.subscriptions.save(GENERAL, spec("at=18h"), created_by="U2", now=later)

    sub = replaced.subscription
    assert sub.created_at == later
    assert replaced.replaced is not None and replaced.replaced.created_at == T0
    assert (sub.id, sub.last_delivery) == (first.id, T0)
    assert db.subscriptions.get(first.id) == sub


def test_a_stored_subscription_loads_without_the_user_input_parser(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    db.subscriptions.save(
        GENERAL, spec("at=8h,20h15 days=lun-ven tz=europe/paris"), created_by="U1"
    )

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the user-input parser ran on a stored subscription")

    for name in ("parse_schedule", "parse_options", "parse_times", "parse_days", "parse_timezone"):
        monkeypatch.setattr(schedule_parsing, name, refuse)
    monkeypatch.setattr(timezones, "parse_timezone", refuse)

    found = db.subscriptions.find(GENERAL)
    assert found is not None
    assert (found.spec.times, found.spec.days, found.spec.timezone) == (
        ((8, 0), (20, 15)), (0, 1, 2, 3, 4), "Europe/Paris",
    )  # fmt: skip


def test_a_stored_time_zone_unknown_to_tzdata_reads_as_utc(db: Database) -> None:
    saved = db.subscriptions.save(GENERAL, spec(), created_by="U1", now=T0).subscription
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE subscriptions SET timezone = 'Mars/Olympus_Mons'"))

    found = db.subscriptions.get(saved.id)

    assert found is not None and found.timezone == "UTC"
    assert found.spec.next_fire_time(T0) == datetime(2024, 1, 8, 8, 0, tzinfo=UTC)


def test_each_channel_has_its_own_subscription(db: Database) -> None:
    db.subscriptions.save(GENERAL, spec(), created_by="U1", now=T0)
    db.subscriptions.save(NEWS, spec(), created_by="U1", now=T0)
    db.subscriptions.save(ChannelRef("discord", "G9", "42"), spec(), created_by="U1", now=T0)
    assert [s.channel for s in db.subscriptions.list(platform="slack", workspace="T1")] == [
        "C-general",
        "C-news",
    ]


def test_a_cron_subscription_stores_its_expression(db: Database) -> None:
    sub = db.subscriptions.save(
        GENERAL, spec('cron="0 8 * * 1-5"'), created_by="U1", now=T0
    ).subscription
    assert (sub.cron, sub.times) == ("0 8 * * 1-5", "")
    assert sub.spec.cron == "0 8 * * 1-5"


def test_a_slot_can_be_claimed_only_once(db: Database) -> None:
    sub = db.subscriptions.save(GENERAL, spec(), created_by="U1", now=T0).subscription
    first = db.deliveries.claim(sub.id, T0, now=T0)
    assert first is not None and first.status == CLAIMED
    assert db.deliveries.claim(sub.id, T0, now=T0) is None


def test_a_slot_claimed_through_one_store_is_taken_for_another_on_the_same_database(
    db_url: str,
) -> None:
    one, two = Database(db_url), Database(db_url)
    sub = one.subscriptions.save(GENERAL, spec(), created_by="U1", now=T0).subscription
    assert one.deliveries.claim(sub.id, T0, now=T0) is not None
    assert two.deliveries.claim(sub.id, T0, now=T0) is None
    one.close()
    two.close()


def test_sending_moves_the_last_briefing_and_clears_failures(db: Database) -> None:
    sub = db.subscriptions.save(GENERAL, spec(), created_by="U1", now=T0).subscription
    failed = db.deliveries.claim(sub.id, T0, now=T0)
    assert db.deliveries.mark_failed(failed.id, "no permission", now=T0) == 1
    retry = db.deliveries.reclaim_failed(sub.id, T0, now=T0 + timedelta(minutes=1))
    db.deliveries.mark_sent(retry.id, now=T0 + timedelta(minutes=1), note="en retard")

    after = db.subscriptions.get(sub.id)
    assert after.last_delivery == T0 + timedelta(minutes=1)
    assert after.consecutive_failures == 0
    [delivery] = db.deliveries.for_subscription(sub.id)
    assert (delivery.status, delivery.attempts, delivery.note) == (SENT, 2, "en retard")


def test_a_failed_slot_is_reclaimed_by_one_retry_only(db: Database) -> None:
    sub = db.subscriptions.save(GENERAL, spec(), created_by="U1", now=T0).subscription
    db.deliveries.mark_failed(db.deliveries.claim(sub.id, T0, now=T0).id, "timeout", now=T0)
    assert db.deliveries.reclaim_failed(sub.id, T0, now=T0) is not None
    assert db.deliveries.reclaim_failed(sub.id, T0, now=T0) is None


def test_failures_count_up_across_slots(db: Database) -> None:
    sub = db.subscriptions.save(GENERAL, spec(), created_by="U1", now=T0).subscription
    for day in range(3):
        delivery = db.deliveries.claim(sub.id, T0 + timedelta(days=day), now=T0)
        count = db.deliveries.mark_failed(delivery.id, "channel_not_found", now=T0)
    assert count == 3
    assert db.subscriptions.get(sub.id).consecutive_failures == 3
    assert {d.status for d in db.deliveries.for_subscription(sub.id)} == {FAILED}


def test_a_skipped_slot_is_recorded_with_its_note(db: Database) -> None:
    sub = db.subscriptions.save(GENERAL, spec(), created_by="U1", now=T0).subscription
    assert db.deliveries.claim(sub.id, T0, now=T0, status=SKIPPED, note="bot arrêté")
    assert not db.deliveries.claim(sub.id, T0, now=T0, status=SKIPPED, note="bot arrêté")
    [delivery] = db.deliveries.for_subscription(sub.id)
    assert (delivery.status, delivery.note) == (SKIPPED, "bot arrêté")
    assert db.subscriptions.get(sub.id).last_delivery is None


def test_a_manual_briefing_counts_as_the_last_one(db: Database) -> None:
    sub = db.subscriptions.save(GENERAL, spec(), created_by="U1", now=T0).subscription
    later = T0 + timedelta(hours=3)
    delivery = db.deliveries.claim(sub.id, later, now=later, kind="manual")
    assert delivery is not None
    db.deliveries.mark_sent(delivery.id, now=later)
    assert db.subscriptions.get(sub.id).last_delivery == T0 + timedelta(hours=3)
    assert db.deliveries.latest(sub.id).kind == "manual"


def test_unsubscribing_forgets_the_subscription_and_its_history(db: Database) -> None:
    sub = db.subscriptions.save(GENERAL, spec(), created_by="U1", now=T0).subscription
    db.deliveries.claim(sub.id, T0, now=T0)
    gone = db.subscriptions.delete(GENERAL)
    assert gone is not None and gone.id == sub.id
    assert db.subscriptions.find(GENERAL) is None
    assert db.deliveries.for_subscription(sub.id) == []
    assert db.subscriptions.delete(GENERAL) is None


def test_pausing_records_the_reason(db: Database) -> None:
    sub = db.subscriptions.save(GENERAL, spec(), created_by="U1", now=T0).subscription
    db.subscriptions.pause(sub.id, "canal supprimé")
    paused = db.subscriptions.get(sub.id)
    assert (paused.paused, paused.paused_reason) == (True, "canal supprimé")


def test_articles_are_first_seen_once(db: Database) -> None:
    articles = [FakeArticle("a1", "h1"), FakeArticle("a2", "h2")]
    assert db.first_seen.record(articles, now=T0) == {"a1": T0, "a2": T0}
    later = T0 + timedelta(days=1)
    more = [*articles, FakeArticle("a3", "h3")]
    assert db.first_seen.record(more, now=later) == {"a1": T0, "a2": T0, "a3": later}


def test_an_edited_article_is_seen_anew(db: Database) -> None:
    db.first_seen.record([FakeArticle("a1", "h1")], now=T0)
    later = T0 + timedelta(days=1)
    assert db.first_seen.record([FakeArticle("a1", "h1-edited")], now=later) == {"a1": later}


def test_an_article_recorded_meanwhile_by_another_process_keeps_the_earlier_time(
    db_url: str,
) -> None:
    """The race first_seen falls back on: both processes saw the article as new."""
    one, two = Database(db_url), Database(db_url)
    one.first_seen.record([FakeArticle("a1", "h1")], now=T0)
    assert two.first_seen._record_one("a1", "h1", T0 + timedelta(hours=1)) == T0
    one.close()
    two.close()


def test_first_seen_survives_a_restart(db_url: str) -> None:
    before = Database(db_url)
    before.first_seen.record([FakeArticle("a1", "h1")], now=T0)
    before.close()
    after = Database(db_url)
    assert after.first_seen.record([FakeArticle("a1", "h1")], now=T0 + timedelta(days=3)) == {
        "a1": T0
    }
    after.close()


def test_feedback_is_recorded_and_listed(db: Database) -> None:
    db.feedback.record(
        platform="slack",
        user_id="U1",
        question="Qui dirige le pays ?",
        article="000_ab94e0541aefd417",
        section="Titre › Contexte",
        value=1,
        now=T0,
    )
    db.feedback.record(
        platform="slack", user_id="U2", question="Et après ?", article=None, section=None,
        value=-1, now=T0 + timedelta(minutes=1),
    )  # fmt: skip
    records = db.feedback.all()
    assert [(r.user_id, r.value, r.article, r.section) for r in records] == [
        ("U1", 1, "000_ab94e0541aefd417", "Titre › Contexte"),
        ("U2", -1, None, None),
    ]
    assert records[0].created_at == T0


def test_feedback_values_other_than_plus_or_minus_one_are_refused(db: Database) -> None:
    with pytest.raises(ValueError, match="must be"):
        db.feedback.record(
            platform="slack", user_id="U1", question="q", article=None, section=None, value=5
        )
