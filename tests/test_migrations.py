"""The database schema is migrated at open, and a database of an older briefbot keeps
its rows."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, insert, text
from sqlalchemy.engine import Connection

from bot.briefings.subscription import SENT
from bot.chat.context import ChannelRef
from bot.storage.database import Database
from bot.storage.engine import make_engine, safe_url
from bot.storage.errors import StorageError
from bot.storage.schema import head_revision
from bot.storage.tables import Base
from tests.conftest import DATA

T0 = datetime(2024, 1, 8, 7, 0, tzinfo=UTC)
GENERAL = ChannelRef("slack", "T1", "C-general")


def revision(db_url: str) -> str | None:
    engine = make_engine(db_url)
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    engine.dispose()
    return current


def when(moment: datetime, connection: Connection) -> datetime:
    """A datetime as briefbot 0.1.0 stored it: naive UTC on SQLite, aware elsewhere."""
    return moment.replace(tzinfo=None) if connection.dialect.name == "sqlite" else moment


def create_v0_database(db_url: str) -> None:
    """The tables briefbot 0.1.0 made, from its DDL, with one row in each."""
    engine = make_engine(db_url)
    with engine.begin() as connection:
        ddl = (DATA / f"schema_v0.{connection.dialect.name}.sql").read_text()
        script = "\n".join(line for line in ddl.splitlines() if not line.startswith("--"))
        for statement in script.split(";"):
            if statement.strip():
                connection.exec_driver_sql(statement)
        tables = MetaData()
        tables.reflect(connection)
        connection.execute(
            insert(tables.tables["subscriptions"]).values(
                platform="slack",
                workspace="T1",
                channel="C-general",
                times="08:00,18:30",
                days="mon,tue,wed,thu,fri",
                cron=None,
                timezone="Europe/Paris",
                mode="new",
                empty="skip",
                created_by="U1",
                created_by_name="Awa",
                created_at=when(T0, connection),
                updated_at=when(T0, connection),
                last_delivery=when(T0, connection),
                consecutive_failures=2,
                paused=False,
                paused_reason=None,
            )
        )
        connection.execute(
            insert(tables.tables["deliveries"]).values(
                subscription_id=1,
                scheduled_for=when(T0, connection),
                kind="scheduled",
                status=SENT,
                attempts=1,
                error=None,
                note="en retard",
                created_at=when(T0, connection),
                updated_at=when(T0, connection),
                sent_at=when(T0, connection),
            )
        )
        connection.execute(
            insert(tables.tables["articles_seen"]).values(
                article_id="a1", content_hash="h1", first_seen=when(T0, connection)
            )
        )
        connection.execute(
            insert(tables.tables["feedback"]).values(
                platform="slack",
                user_id="U2",
                question="Qui est Molly Phee ?",
                article="a1",
                section="Intro",
                value=1,
                created_at=when(T0, connection),
            )
        )
    engine.dispose()


def test_an_empty_database_is_migrated_to_the_latest_revision(db_url: str) -> None:
    Database(db_url).close()
    assert revision(db_url) == head_revision()


def test_the_migrated_schema_is_the_one_the_tables_describe(db: Database) -> None:
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_a_database_of_briefbot_0_1_keeps_every_row_when_upgraded(db_url: str) -> None:
    create_v0_database(db_url)
    assert revision(db_url) is None

    db = Database(db_url)
    try:
        sub = db.subscriptions.find(GENERAL)
        assert sub is not None
        assert (sub.id, sub.times, sub.days, sub.timezone, sub.mode, sub.empty) == (
            1, "08:00,18:30", "mon,tue,wed,thu,fri", "Europe/Paris", "new", "skip",
        )  # fmt: skip
        assert (sub.created_by, sub.created_by_name, sub.created_at, sub.last_delivery) == (
            "U1", "Awa", T0, T0,
        )  # fmt: skip
        assert (sub.consecutive_failures, sub.paused) == (2, False)
        [delivery] = db.deliveries.for_subscription(1)
        assert (delivery.status, delivery.note, delivery.sent_at) == (SENT, "en retard", T0)
        seen = db.first_seen.record([_Article("a1", "h1")], now=T0 + timedelta(days=1))
        assert seen == {"a1": T0}
        [vote] = db.feedback.all()
        assert (vote.user_id, vote.question, vote.value, vote.created_at) == (
            "U2", "Qui est Molly Phee ?", 1, T0,
        )  # fmt: skip
    finally:
        db.close()
    assert revision(db_url) == head_revision()


def test_an_upgraded_database_of_briefbot_0_1_takes_new_rows(db_url: str) -> None:
    create_v0_database(db_url)
    db = Database(db_url)
    try:
        assert db.deliveries.claim(1, T0 + timedelta(days=1), now=T0) is not None
        assert db.deliveries.claim(1, T0, now=T0) is None  # the old slot is still taken
    finally:
        db.close()


def test_a_database_of_a_newer_briefbot_is_refused_with_one_line(db_url: str) -> None:
    Database(db_url).close()
    engine = make_engine(db_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'fffffff'"))
    engine.dispose()

    with pytest.raises(StorageError) as refused:
        Database(db_url)

    message = str(refused.value)
    assert "fffffff" in message and "upgrade briefbot" in message
    assert "\n" not in message


def test_the_refusal_names_the_database_without_its_password() -> None:
    url = "postgresql+psycopg://bot:s3cret@db.example/briefbot"
    assert safe_url(make_engine(url)) == "postgresql+psycopg://bot:***@db.example/briefbot"


def test_a_database_with_only_some_tables_is_refused(db_url: str) -> None:
    engine = make_engine(db_url)
    Base.metadata.tables["feedback"].create(engine)
    engine.dispose()
    with pytest.raises(StorageError, match="feedback"):
        Database(db_url)


def test_processes_opening_one_database_at_once_migrate_it_once(db_url: str) -> None:
    if db_url.startswith("sqlite"):
        pytest.skip("concurrent first opens are PostgreSQL's case: SQLite is one process")
    opened: list[Database] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def open_database() -> None:
        start.wait()
        try:
            opened.append(Database(db_url))
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=open_database) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for db in opened:
        db.close()
    assert errors == [] and len(opened) == 4
    assert revision(db_url) == head_revision()


def test_the_cli_refuses_a_newer_database_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from briefbot.cli import main

    url = f"sqlite:///{tmp_path / 'data' / 'briefbot.db'}"
    Database(url).close()
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'fffffff'"))
    engine.dispose()

    code = main(["subscriptions"])

    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "upgrade briefbot" in err and "Traceback" not in err


class _Article:
    def __init__(self, article_id: str, content_hash: str) -> None:
        self.id = article_id
        self.content_hash = content_hash


def test_a_database_at_revision_0001_upgrades_in_place_keeping_its_deliveries(
    db_url: str,
) -> None:
    from alembic import command

    from bot.briefings.subscription import CLAIMED
    from bot.storage.schema import alembic_config

    engine = make_engine(db_url)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0001")
    engine.dispose()
    create_rows_of_0001(db_url)
    assert revision(db_url) == "0001"

    db = Database(db_url)
    try:
        sent, claimed = db.deliveries.for_subscription(1)
        assert (sent.status, sent.note, sent.sent_at) == (SENT, "en retard", T0)
        assert (claimed.status, claimed.owner, claimed.lease_until) == (CLAIMED, None, None)
        assert (claimed.progress, claimed.in_doubt) == (0, False)
        # a claim left by the old version has no lease: it is overdue at once
        assert [d.id for d in db.deliveries.expired(T0 + timedelta(days=1))] == [claimed.id]
    finally:
        db.close()
    assert revision(db_url) == head_revision()


def create_rows_of_0001(db_url: str) -> None:
    engine = make_engine(db_url)
    with engine.begin() as connection:
        tables = MetaData()
        tables.reflect(connection)
        connection.execute(
            insert(tables.tables["subscriptions"]).values(
                platform="slack", workspace="T1", channel="C-general", times="08:00",
                days="*", cron=None, timezone="Europe/Paris", mode="new", empty="skip",
                created_by="U1", created_by_name="Awa", created_at=when(T0, connection),
                updated_at=when(T0, connection), last_delivery=None,
                consecutive_failures=0, paused=False, paused_reason=None,
            )
        )  # fmt: skip
        for day, status in ((0, SENT), (1, "claimed")):
            moment = when(T0 + timedelta(days=day), connection)
            connection.execute(
                insert(tables.tables["deliveries"]).values(
                    subscription_id=1, scheduled_for=moment, kind="scheduled",
                    status=status, attempts=1, error=None,
                    note="en retard" if status == SENT else None, created_at=moment,
                    updated_at=moment, sent_at=moment if status == SENT else None,
                )
            )  # fmt: skip
    engine.dispose()
