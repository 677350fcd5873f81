"""`/status`: admins see the corpus served and how far its background derivations are;
other members are refused."""

from __future__ import annotations

import datetime as dt

from bot.chat.context import ChannelRef, CommandContext
from bot.chat.guard import Guard
from bot.chat.ratelimit import RateLimiter
from bot.chat.registry import Registry
from bot.chat.replies import Reply, ReplyKind
from bot.corpus.library import BUILDING, PENDING, READY, DerivationState
from bot.status.commands import CorpusStatus, StatusCommands

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def _registry(status: CorpusStatus) -> Registry:
    commands = StatusCommands(lambda: status, clock=lambda: NOW)
    return Registry([commands], guard=Guard(), limiter=RateLimiter(100, 60.0))


def _caller(admin: bool) -> CommandContext:
    async def is_admin() -> bool:
        return admin

    return CommandContext(ChannelRef("slack", "T1", "C1"), "U1", "Ada", is_admin=is_admin)


def _fields(reply: Reply) -> dict[str, str]:
    return {f.name: f.value for block in reply.blocks for f in block.fields}


async def test_an_admin_sees_what_is_still_building() -> None:
    status = CorpusStatus(
        20_000,
        3,
        NOW - dt.timedelta(seconds=40),
        (DerivationState("actors", BUILDING, 75.0), DerivationState("events", READY)),
        (("Index de recherche", "99 764 sections"),),
    )
    reply = await _registry(status).run(_caller(True), "status", {})
    assert reply.title == "Construction en cours"
    fields = _fields(reply)
    assert fields["Annuaire des acteurs"] == "en construction depuis 75 secondes"
    assert fields["Chronologie"] == "prête"

    ready = CorpusStatus(1, 0, NOW, (DerivationState("actors", READY),))
    reply = await _registry(ready).run(_caller(True), "status", {})
    assert _fields(reply)["Annuaire des acteurs"] == "prêt"
    assert fields["Articles"] == "20000"
    assert fields["Corpus relu"] == "il y a 40 secondes"
    assert reply.private


async def test_a_stale_derivation_says_the_previous_one_serves_meanwhile() -> None:
    status = CorpusStatus(5, 0, NOW, (DerivationState("actors", PENDING, stale=True),))
    reply = await _registry(status).run(_caller(True), "status", {})
    assert _fields(reply)["Annuaire des acteurs"] == (
        "en attente (la version précédente sert en attendant)"
    )


async def test_everything_ready_says_so() -> None:
    status = CorpusStatus(5, 0, NOW, (DerivationState("actors", READY),))
    reply = await _registry(status).run(_caller(True), "status", {})
    assert reply.title == "Tout est prêt"


async def test_a_member_who_is_not_an_admin_is_refused() -> None:
    status = CorpusStatus(5, 0, NOW)
    reply = await _registry(status).run(_caller(False), "status", {})
    assert reply.kind is ReplyKind.ERROR
    assert "Construction" not in reply.title and "prêt" not in reply.title
