"""The /briefing command every adapter shares."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from bot.briefings.changes import SubscriptionChanges
from bot.briefings.commands import BriefingCommands, list_subscriptions_json
from bot.briefings.subscription import Subscription
from bot.chat.context import ChannelRef, CommandContext
from bot.chat.guard import Guard
from bot.chat.ratelimit import RateLimiter
from bot.chat.registry import Registry
from bot.chat.replies import Block, Reply, ReplyKind
from bot.storage.database import Database

NOW = datetime(2024, 1, 8, 10, 0, tzinfo=UTC)  # a Monday
GENERAL = ChannelRef("slack", "T1", "C-general")
NEWS = ChannelRef("slack", "T1", "C-news")


class RecordingScheduler:
    """Listens to the changes the commands announce, as BriefingScheduler does."""

    def __init__(self, changes: SubscriptionChanges) -> None:
        self.added: list[int] = []
        self.removed: list[int] = []
        changes.listen(self.add, self.remove)

    def add(self, subscription: Subscription) -> None:
        self.added.append(subscription.id)

    def remove(self, subscription_id: int) -> None:
        self.removed.append(subscription_id)


class DigestSpy:
    def __init__(self) -> None:
        self.calls: list[tuple[int | None, datetime | None, str]] = []

    async def __call__(self, sub: Subscription | None, since: datetime | None, mode: str) -> Reply:
        self.calls.append((sub.id if sub else None, since, mode))
        return Reply(ReplyKind.DIGEST, "Briefing du jour", (Block("Deux nouveaux articles."),))


def context(
    channel: ChannelRef = GENERAL,
    *,
    admin: bool = True,
    direct: bool = False,
    user: str = "U1",
) -> CommandContext:
    async def is_admin() -> bool:
        return admin

    return CommandContext(
        channel=channel,
        user_id=user,
        user_name="Awa",
        is_admin=is_admin,
        is_direct=direct,
        can_subscribe_here=not direct,
    )


class Briefings:
    """The /briefing commands as users type them, through the registry that serves them."""

    def __init__(self, commands: BriefingCommands) -> None:
        self.registry = Registry(
            [commands], guard=Guard(unavailable=(SQLAlchemyError,)), limiter=RateLimiter(10)
        )

    async def handle(self, ctx: CommandContext, text: str) -> Reply:
        return await self.registry.run_text(ctx, "briefing", text)


@pytest.fixture
def changes() -> SubscriptionChanges:
    return SubscriptionChanges()


@pytest.fixture
def scheduler(changes: SubscriptionChanges) -> RecordingScheduler:
    return RecordingScheduler(changes)


@pytest.fixture
def digest() -> DigestSpy:
    return DigestSpy()


@pytest.fixture
def service(
    db: Database, changes: SubscriptionChanges, scheduler: RecordingScheduler, digest: DigestSpy
) -> Briefings:
    commands = BriefingCommands(db.subscriptions, db.deliveries, changes, digest, clock=lambda: NOW)
    return Briefings(commands)


async def test_subscribing_stores_schedules_and_confirms_publicly(
    service: Briefings, db: Database, scheduler: RecordingScheduler
) -> None:
    reply = await service.handle(context(), "subscribe at=08:00 days=mon-fri tz=Europe/Paris")

    assert reply.kind is ReplyKind.SUCCESS and not reply.private
    text = reply.plain_text()
    assert "Ce canal recevra un briefing du lundi au vendredi à 08:00 (Europe/Paris)." in text
    assert "Prochain envoi : mardi 9 janvier 2024 à 08:00." in text
    sub = db.subscriptions.find(GENERAL)
    assert sub is not None and (sub.created_by, sub.created_by_name) == ("U1", "Awa")
    assert scheduler.added == [sub.id]


async def test_subscribe_options_may_also_come_as_a_mapping(service: Briefings) -> None:
    """Adapters with forms (Discord slash options) skip the text parsing."""
    reply = await service.registry.run(
        context(), "briefing subscribe", {"at": "7h", "days": "lun-ven"}
    )
    assert reply.kind is ReplyKind.SUCCESS


async def test_a_second_subscription_replaces_the_first_and_says_so(
    service: Briefings, db: Database
) -> None:
    await service.handle(context(), "subscribe at=08:00 tz=Europe/Paris")
    reply = await service.handle(context(), "subscribe at=18h tz=Europe/Paris")

    assert reply.title == "Briefing modifié"
    assert "remplace le précédent (tous les jours à 08:00 (Europe/Paris))" in reply.plain_text()
    assert len(db.subscriptions.list()) == 1
    assert db.subscriptions.find(GENERAL).times == "18:00"


async def test_without_a_time_zone_the_confirmation_says_utc(service: Briefings) -> None:
    reply = await service.handle(context(), "subscribe at=08:00")
    assert "les heures sont en UTC" in reply.plain_text()


async def test_only_channel_admins_may_subscribe(service: Briefings, db: Database) -> None:
    reply = await service.handle(context(admin=False), "subscribe at=08:00")
    assert reply.is_error and reply.private
    assert "Seuls les administrateurs" in reply.plain_text()
    assert db.subscriptions.list() == []


async def test_only_channel_admins_may_unsubscribe(service: Briefings, db: Database) -> None:
    await service.handle(context(), "subscribe at=08:00")
    reply = await service.handle(context(admin=False), "unsubscribe")
    assert reply.is_error
    assert db.subscriptions.find(GENERAL) is not None


async def test_a_failing_permission_check_is_a_clear_refusal(service: Briefings) -> None:
    async def broken() -> bool:
        raise ConnectionError("slack down")

    ctx = CommandContext(channel=GENERAL, user_id="U1", is_admin=broken)
    reply = await service.handle(ctx, "subscribe at=08:00")
    assert reply.is_error and "Impossible de vérifier vos droits" in reply.plain_text()


async def test_direct_messages_cannot_be_subscribed(service: Briefings) -> None:
    reply = await service.handle(context(direct=True), "subscribe at=08:00")
    assert reply.is_error and "pas en message privé" in reply.plain_text()


async def test_a_misspelt_time_zone_offers_the_corrected_command(
    service: Briefings, db: Database
) -> None:
    reply = await service.handle(context(), "subscribe at=08:00 tz=Europe/Pariss")
    assert reply.is_error
    assert "Vouliez-vous dire Europe/Paris ?" in reply.plain_text()
    assert reply.suggestions == ("/briefing subscribe at=08:00 tz=Europe/Paris",)
    assert db.subscriptions.list() == []


async def test_an_impossible_hour_is_explained(service: Briefings) -> None:
    reply = await service.handle(context(), "subscribe at=25:00")
    assert "« 25:00 » n'est pas une heure valide (HH:MM, de 00:00 à 23:59)." in reply.plain_text()


async def test_an_unknown_day_suggests_the_closest(service: Briefings) -> None:
    reply = await service.handle(context(), "subscribe days=lun-vendredo")
    assert "Vouliez-vous dire vendredi ?" in reply.plain_text()


async def test_an_unknown_subcommand_lists_them_and_suggests_the_closest(
    service: Briefings,
) -> None:
    reply = await service.handle(context(), "subscibe at=08:00")
    text = reply.plain_text()
    assert reply.is_error
    assert "subscribe, unsubscribe, list, now, preview" in text
    assert "Vouliez-vous dire « subscribe » ?" in text


async def test_no_subcommand_shows_the_help(service: Briefings) -> None:
    reply = await service.handle(context(), "  ")
    assert reply.kind is ReplyKind.HELP
    assert len(reply.blocks[0].items) == 5


async def test_french_subcommands_work_too(service: Briefings, db: Database) -> None:
    await service.handle(context(), "abonner heure=7h jours=semaine fuseau=Europe/Paris")
    assert db.subscriptions.find(GENERAL).days == "mon,tue,wed,thu,fri"


async def test_unsubscribing_removes_the_subscription_and_its_job(
    service: Briefings, db: Database, scheduler: RecordingScheduler
) -> None:
    await service.handle(context(), "subscribe at=08:00")
    sub_id = db.subscriptions.find(GENERAL).id
    reply = await service.handle(context(), "unsubscribe")
    assert reply.kind is ReplyKind.SUCCESS
    assert db.subscriptions.find(GENERAL) is None
    assert scheduler.removed == [sub_id]


async def test_unsubscribing_a_channel_without_subscription_says_so(
    service: Briefings,
) -> None:
    reply = await service.handle(context(), "unsubscribe")
    assert not reply.is_error and "n'est abonné à aucun briefing" in reply.plain_text()


async def test_list_shows_this_workspace_and_marks_this_channel(
    service: Briefings,
) -> None:
    await service.handle(context(GENERAL), "subscribe at=08:00 tz=Europe/Paris")
    await service.handle(context(NEWS), "subscribe at=18h days=lun,mer tz=Europe/Paris")
    await service.handle(context(ChannelRef("slack", "T2", "C-other")), "subscribe at=9h")

    reply = await service.handle(context(NEWS), "list")

    assert reply.kind is ReplyKind.SUBSCRIPTIONS and reply.private
    assert [b.heading for b in reply.blocks] == ["Canal C-general", "Canal C-news (ce canal)"]
    assert reply.blocks[1].text == "chaque lundi et mercredi à 18:00 (Europe/Paris)"
    assert {"Prochain envoi", "État", "Contenu"} <= {f.name for f in reply.blocks[1].fields}
    assert [s["channel"] for s in reply.data["subscriptions"]] == ["C-general", "C-news"]


async def test_list_with_no_subscription_shows_an_example(service: Briefings) -> None:
    reply = await service.handle(context(), "list")
    assert "/briefing subscribe at=08:00" in reply.plain_text()


async def test_now_returns_the_briefing_publicly_and_counts_as_the_last_one(
    service: Briefings, db: Database, digest: DigestSpy
) -> None:
    await service.handle(context(), "subscribe at=08:00 tz=Europe/Paris")
    reply = await service.handle(context(admin=False), "now")

    assert reply.kind is ReplyKind.DIGEST and not reply.private
    sub = db.subscriptions.find(GENERAL)
    assert sub.last_delivery == NOW
    assert db.deliveries.latest(sub.id).kind == "manual"
    await service.handle(context(), "now")
    assert [since for _, since, _ in digest.calls] == [None, NOW]


async def test_now_works_in_a_channel_without_subscription(
    service: Briefings, digest: DigestSpy
) -> None:
    reply = await service.handle(context(), "now")
    assert reply.kind is ReplyKind.DIGEST and not reply.private
    assert digest.calls == [(None, None, "new")]


async def test_preview_is_private_says_when_and_records_nothing(
    service: Briefings, db: Database
) -> None:
    await service.handle(context(), "subscribe at=08:00 days=mon-fri tz=Europe/Paris mode=full")
    reply = await service.handle(context(), "preview")

    assert reply.private and reply.kind is ReplyKind.DIGEST
    assert reply.title == "Aperçu — Briefing du jour"
    assert reply.footer == "Sera posté le mardi 9 janvier 2024 à 08:00 si rien ne change d'ici là."
    sub = db.subscriptions.find(GENERAL)
    assert sub.last_delivery is None and db.deliveries.for_subscription(sub.id) == []


async def test_preview_passes_the_subscription_mode(service: Briefings, digest: DigestSpy) -> None:
    await service.handle(context(), "subscribe mode=full")
    await service.handle(context(), "preview")
    assert digest.calls[-1][2] == "full"


async def test_preview_without_subscription_explains_how_to_subscribe(
    service: Briefings,
) -> None:
    reply = await service.handle(context(), "preview")
    assert reply.private and "n'est abonné à aucun briefing" in reply.footer


async def test_a_database_failure_gives_a_clear_message(
    service: Briefings, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(**_: object) -> None:
        raise OperationalError("SELECT", {}, Exception("database is locked"))

    monkeypatch.setattr(db.subscriptions, "list", down)
    reply = await service.handle(context(), "list")
    assert reply.is_error and "momentanément indisponible" in reply.plain_text()
    assert "locked" not in reply.plain_text()


async def test_the_commands_work_without_a_scheduler(db: Database, digest: DigestSpy) -> None:
    commands = BriefingCommands(
        db.subscriptions, db.deliveries, SubscriptionChanges(), digest, clock=lambda: NOW
    )
    service = Briefings(commands)
    reply = await service.handle(context(), "subscribe at=08:00")
    assert reply.kind is ReplyKind.SUCCESS


async def test_subscriptions_export_as_json_for_the_cli(service: Briefings, db: Database) -> None:
    await service.handle(context(), "subscribe at=08:00 days=mon-fri tz=Europe/Paris")
    [row] = list_subscriptions_json(db.subscriptions, now=NOW)
    assert row["channel"] == "C-general"
    assert row["schedule"] == "du lundi au vendredi à 08:00 (Europe/Paris)"
    assert row["next_run"] == "2024-01-09T08:00:00+01:00"  # local time, offset included
    assert datetime.fromisoformat(row["next_run"]) == NOW + timedelta(hours=21)
    assert row["paused"] is False


async def test_a_write_the_database_refuses_says_the_service_is_unavailable(
    service: Briefings, db: Database
) -> None:
    """`query_only` makes SQLite refuse every write, as a full or read-only disk does."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("query_only is SQLite's")

    def no_room(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA query_only = ON")

    event.listen(db.engine, "connect", no_room)
    db.engine.dispose()
    reply = await service.handle(context(), "subscribe at=08:00 days=mon-fri tz=Europe/Paris")
    assert reply.is_error and "momentanément indisponible" in reply.plain_text()
    assert db.subscriptions.find(GENERAL) is None
