"""The vote on an answer (the hidden `feedback` command behind the 👍/👎 buttons): what it
records, read back from the packed answer the button carries."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.ask.answerer import Answerer
from bot.ask.commands import AskCommands
from bot.ask.feedback import FeedbackRecord, FeedbackStore
from bot.chat.context import ChannelRef, CommandContext
from bot.chat.guard import Guard
from bot.chat.packing import pack
from bot.chat.ratelimit import RateLimiter
from bot.chat.registry import Registry
from bot.chat.replies import Block, Citation, Reply, ReplyKind

QUESTION = "Qui finance la base de drones ?"
FIRST = Citation("article-1", "La base de drones", "LE FINANCEMENT", "2023-07-26")
SECOND = Citation("article-2", "Le budget", "LES CHIFFRES", "2023-08-01")


class MemoryFeedback:
    """The feedback port in memory."""

    def __init__(self) -> None:
        self.records: list[FeedbackRecord] = []

    def record(
        self,
        *,
        platform: str,
        user_id: str,
        question: str,
        article: str | None,
        section: str | None,
        value: int,
        now: datetime | None = None,
    ) -> FeedbackRecord:
        if value not in (1, -1):
            raise ValueError(f"a vote is +1 or -1, not {value}")
        saved = FeedbackRecord(
            len(self.records) + 1,
            platform,
            user_id,
            question,
            article,
            section,
            value,
            now or datetime.now(UTC),
        )
        self.records.append(saved)
        return saved

    def all(self) -> list[FeedbackRecord]:
        return list(self.records)


def no_answerer() -> Answerer:
    raise AssertionError("a vote never asks the answerer")


def registry_with(store: FeedbackStore) -> Registry:
    commands = AskCommands(no_answerer, store, question_limit=1000)
    return Registry([commands], guard=Guard(), limiter=RateLimiter(100, 60.0))


def voter() -> CommandContext:
    return CommandContext(ChannelRef("slack", "T1", "C1"), "U-voter", "Ada")


def packed(*blocks: Block) -> str:
    reply = Reply(ReplyKind.ANSWER, QUESTION, blocks, confidence=0.8, feedback=True)
    value = pack(reply, 2000)
    assert value is not None
    return value


def two_cited_blocks() -> str:
    return packed(
        Block("La base est financée par les États-Unis.", citation=FIRST),
        Block("Elle a coûté 100 millions de dollars.", citation=SECOND),
    )


async def test_a_vote_records_the_first_citation_of_several() -> None:
    store = MemoryFeedback()
    reply = await registry_with(store).run(
        voter(), "feedback", {"vote": "up", "answer": two_cited_blocks()}
    )
    assert reply.kind is ReplyKind.SUCCESS
    [vote] = store.records
    assert (vote.article, vote.section) == ("article-1", "LE FINANCEMENT")


async def test_a_vote_records_the_voter_the_question_and_its_value() -> None:
    store = MemoryFeedback()
    await registry_with(store).run(
        voter(), "feedback", {"vote": "down", "answer": two_cited_blocks()}
    )
    [vote] = store.records
    assert (vote.platform, vote.user_id, vote.question, vote.value) == (
        "slack",
        "U-voter",
        QUESTION,
        -1,
    )


async def test_a_vote_skips_blocks_without_a_citation() -> None:
    store = MemoryFeedback()
    answer = packed(
        Block("Réponse en une phrase."),
        Block("Passage cité.", citation=SECOND),
        Block("Autre passage.", citation=FIRST),
    )
    await registry_with(store).run(voter(), "feedback", {"vote": "up", "answer": answer})
    [vote] = store.records
    assert vote.article == "article-2"


@pytest.mark.parametrize(
    ("vote", "answer"),
    [
        ("sideways", "cited"),
        (None, "cited"),
        ("up", "{not json"),
        ("up", '{"v": 1, "t": "an old button"}'),
        ("up", None),
    ],
    ids=["unknown-vote", "no-vote", "not-json", "old-version", "no-answer"],
)
async def test_a_vote_with_an_unreadable_value_records_nothing(
    vote: str | None, answer: str | None
) -> None:
    store = MemoryFeedback()
    value = two_cited_blocks() if answer == "cited" else answer
    reply = await registry_with(store).run(voter(), "feedback", {"vote": vote, "answer": value})
    assert reply.is_error and "illisible" in reply.plain_text()
    assert store.records == []


async def test_the_vote_is_a_hidden_command() -> None:
    registry = registry_with(MemoryFeedback())
    assert "feedback" not in [e.name for e in registry.entries()]
    typed = await registry.dispatch(voter(), "/feedback up")
    assert typed.title == "Commande inconnue"
