"""What the bot remembers across restarts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy.exc import StatementError

from bot.briefings.schedule import ScheduleSpec, parse_options, parse_schedule
from bot.chat.context import ChannelRef
from bot.storage.store import CLAIMED, FAILED, SENT, SKIPPED, Store

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
    Store(f"sqlite:///{path}").close()
    assert path.exists()


def test_an_in_memory_database_works_for_quick_runs() -> None:
    store = Store("sqlite://")
    store.save_subscription(GENERAL, spec(), created_by="U1", now=T0)
    assert len(store.list_subscriptions()) == 1
    store.close()


def test_a_subscription_keeps_everything_it_was_given(store: Store) -> None:
    saved = store.save_subscription(
        GENERAL, spec(), created_by="U1", created_by_name="Awa", now=T0
    ).subscription
    found = store.find_subscription(GENERAL)
    assert found == saved
    assert (found.times, found.days, found.timezone, found.mode) == (
        "08:00",
        "mon,tue,wed,thu,fri",
        "Europe/Paris",
        "new",
    )
    assert (found.created_by, found.created_by_name, found.created_at) == ("U1", "Awa", T0)
    assert (found.last_delivery, found.consecutive_failures, found.paused) == (None, 0, False)


def test_datetimes_come_back_timezone_aware_in_utc(store: Store) -> None:
    paris_time = datetime(2024, 1, 8, 9, 0, tzinfo=timezone(timedelta(hours=1)))
    saved = store.save_subscription(GENERAL, spec(), created_by="U1", now=paris_time)
    found = store.get_subscription(saved.subscription.id)
    assert found.created_at == datetime(2024, 1, 8, 8, 0, tzinfo=UTC)
    assert found.created_at.tzinfo == UTC


def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises((ValueError, StatementError)):
        store.save_subscription(GENERAL, spec(), created_by="U1", now=datetime(2024, 1, 8))


def test_a_second_subscription_for_a_channel_replaces_the_first(store: Store) -> None:
    first = store.save_subscription(GENERAL, spec(), created_by="U1", now=T0).subscription
    delivery = store.claim_delivery(first.id, T0, now=T0)
    store.mark_sent(delivery.id, now=T0)
    store.mark_failed(store.claim_delivery(first.id, T0 + timedelta(days=1)).id, "x")
    store.pause(first.id, "trop d'échecs")

    later = T0 + timedelta(days=2)
    second = store.save_subscription(GENERAL, spec("at=18h"), created_by="U2", now=later)

    assert second.replaced is not None and second.replaced.times == "08:00"
    sub = second.subscription
    assert sub.id == first.id
    assert (sub.times, sub.created_by, sub.updated_at) == ("18:00", "U2", later)
    assert sub.last_delivery == T0  # "new since the last briefing" carries on
    assert (sub.paused, sub.consecutive_failures) == (False, 0)
    assert len(store.list_subscriptions()) == 1


def test_each_channel_has_its_own_subscription(store: Store) -> None:
    store.save_subscription(GENERAL, spec(), created_by="U1", now=T0)
    store.save_subscription(NEWS, spec(), created_by="U1", now=T0)
    store.save_subscription(ChannelRef("discord", "G9", "42"), spec(), created_by="U1", now=T0)
    assert [s.channel for s in store.list_subscriptions(platform="slack", workspace="T1")] == [
        "C-general",
        "C-news",
    ]


def test_a_cron_subscription_stores_its_expression(store: Store) -> None:
    sub = store.save_subscription(
        GENERAL, spec('cron="0 8 * * 1-5"'), created_by="U1", now=T0
    ).subscription
    assert (sub.cron, sub.times) == ("0 8 * * 1-5", "")
    assert sub.spec.cron == "0 8 * * 1-5"


def test_a_slot_can_be_claimed_only_once(store: Store) -> None:
    sub = store.save_subscription(GENERAL, spec(), created_by="U1", now=T0).subscription
    first = store.claim_delivery(sub.id, T0, now=T0)
    assert first is not None and first.status == CLAIMED
    assert store.claim_delivery(sub.id, T0, now=T0) is None


def test_a_slot_claimed_through_one_store_is_taken_for_another_on_the_same_database(
    db_url: str,
) -> None:
    one, two = Store(db_url), Store(db_url)
    sub = one.save_subscription(GENERAL, spec(), created_by="U1", now=T0).subscription
    assert one.claim_delivery(sub.id, T0, now=T0) is not None
    assert two.claim_delivery(sub.id, T0, now=T0) is None
    one.close()
    two.close()


def test_sending_moves_the_last_briefing_and_clears_failures(store: Store) -> None:
    sub = store.save_subscription(GENERAL, spec(), created_by="U1", now=T0).subscription
    failed = store.claim_delivery(sub.id, T0, now=T0)
    assert store.mark_failed(failed.id, "no permission", now=T0) == 1
    retry = store.reclaim_failed(sub.id, T0, now=T0 + timedelta(minutes=1))
    store.mark_sent(retry.id, now=T0 + timedelta(minutes=1), note="en retard")

    after = store.get_subscription(sub.id)
    assert after.last_delivery == T0 + timedelta(minutes=1)
    assert after.consecutive_failures == 0
    [delivery] = store.deliveries(sub.id)
    assert (delivery.status, delivery.attempts, delivery.note) == (SENT, 2, "en retard")


def test_a_failed_slot_is_reclaimed_by_one_retry_only(store: Store) -> None:
    sub = store.save_subscription(GENERAL, spec(), created_by="U1", now=T0).subscription
    store.mark_failed(store.claim_delivery(sub.id, T0, now=T0).id, "timeout", now=T0)
    assert store.reclaim_failed(sub.id, T0, now=T0) is not None
    assert store.reclaim_failed(sub.id, T0, now=T0) is None


def test_failures_count_up_across_slots(store: Store) -> None:
    sub = store.save_subscription(GENERAL, spec(), created_by="U1", now=T0).subscription
    for day in range(3):
        delivery = store.claim_delivery(sub.id, T0 + timedelta(days=day), now=T0)
        count = store.mark_failed(delivery.id, "channel_not_found", now=T0)
    assert count == 3
    assert store.get_subscription(sub.id).consecutive_failures == 3
    assert {d.status for d in store.deliveries(sub.id)} == {FAILED}


def test_a_skipped_slot_is_recorded_with_its_note(store: Store) -> None:
    sub = store.save_subscription(GENERAL, spec(), created_by="U1", now=T0).subscription
    assert store.record_skipped(sub.id, T0, "bot arrêté", now=T0)
    assert not store.record_skipped(sub.id, T0, "bot arrêté", now=T0)
    [delivery] = store.deliveries(sub.id)
    assert (delivery.status, delivery.note) == (SKIPPED, "bot arrêté")
    assert store.get_subscription(sub.id).last_delivery is None


def test_a_manual_briefing_counts_as_the_last_one(store: Store) -> None:
    sub = store.save_subscription(GENERAL, spec(), created_by="U1", now=T0).subscription
    store.record_manual_delivery(sub.id, now=T0 + timedelta(hours=3))
    assert store.get_subscription(sub.id).last_delivery == T0 + timedelta(hours=3)
    assert store.latest_delivery(sub.id).kind == "manual"


def test_unsubscribing_forgets_the_subscription_and_its_history(store: Store) -> None:
    sub = store.save_subscription(GENERAL, spec(), created_by="U1", now=T0).subscription
    store.claim_delivery(sub.id, T0, now=T0)
    gone = store.delete_subscription(GENERAL)
    assert gone is not None and gone.id == sub.id
    assert store.find_subscription(GENERAL) is None
    assert store.deliveries(sub.id) == []
    assert store.delete_subscription(GENERAL) is None


def test_pausing_records_the_reason(store: Store) -> None:
    sub = store.save_subscription(GENERAL, spec(), created_by="U1", now=T0).subscription
    store.pause(sub.id, "canal supprimé")
    paused = store.get_subscription(sub.id)
    assert (paused.paused, paused.paused_reason) == (True, "canal supprimé")


def test_articles_are_first_seen_once(store: Store) -> None:
    articles = [FakeArticle("a1", "h1"), FakeArticle("a2", "h2")]
    assert store.first_seen(articles, now=T0) == {"a1": T0, "a2": T0}
    later = T0 + timedelta(days=1)
    more = [*articles, FakeArticle("a3", "h3")]
    assert store.first_seen(more, now=later) == {"a1": T0, "a2": T0, "a3": later}


def test_an_edited_article_is_seen_anew(store: Store) -> None:
    store.first_seen([FakeArticle("a1", "h1")], now=T0)
    later = T0 + timedelta(days=1)
    assert store.first_seen([FakeArticle("a1", "h1-edited")], now=later) == {"a1": later}


def test_an_article_recorded_meanwhile_by_another_process_keeps_the_earlier_time(
    db_url: str,
) -> None:
    """The race first_seen falls back on: both processes saw the article as new."""
    one, two = Store(db_url), Store(db_url)
    one.first_seen([FakeArticle("a1", "h1")], now=T0)
    assert two._record_seen("a1", "h1", T0 + timedelta(hours=1)) == T0
    one.close()
    two.close()


def test_first_seen_survives_a_restart(db_url: str) -> None:
    before = Store(db_url)
    before.first_seen([FakeArticle("a1", "h1")], now=T0)
    before.close()
    after = Store(db_url)
    assert after.first_seen([FakeArticle("a1", "h1")], now=T0 + timedelta(days=3)) == {"a1": T0}
    after.close()


def test_feedback_is_recorded_and_listed(store: Store) -> None:
    store.record_feedback(
        platform="slack",
        user_id="U1",
        question="Qui dirige le pays ?",
        article="000_ab94e0541aefd417",
        section="Titre › Contexte",
        value=1,
        now=T0,
    )
    store.record_feedback(
        platform="slack", user_id="U2", question="Et après ?", article=None, section=None,
        value=-1, now=T0 + timedelta(minutes=1),
    )  # fmt: skip
    records = store.list_feedback()
    assert [(r.user_id, r.value, r.article, r.section) for r in records] == [
        ("U1", 1, "000_ab94e0541aefd417", "Titre › Contexte"),
        ("U2", -1, None, None),
    ]
    assert records[0].created_at == T0


def test_feedback_values_other_than_plus_or_minus_one_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="must be"):
        store.record_feedback(
            platform="slack", user_id="U1", question="q", article=None, section=None, value=5
        )
