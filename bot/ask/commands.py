"""`/ask` and the vote on an answer: the ask feature's entry points in the registry."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import replace

from bot.chat.context import CommandContext
from bot.chat.packing import unpack
from bot.chat.registry import InputError, Option, command
from bot.chat.replies import Reply, ReplyKind, error, info
from bot.corpus.french import count, number

from .answerer import Answerer
from .feedback import FeedbackStore
from .reply import answer_reply

log = logging.getLogger(__name__)

VOTES = {"up": 1, "down": -1}


# Mentions of every platform (Discord's @everyone, <@&role>, <@user>, Slack's <!channel>,
# <@U…>): measured, a question starting with four of them was declined as unanswerable.
_MENTION = re.compile(r"<(?:@[!&]?|!|#)[^<>\s]*>|(?<![\w@])@(?:everyone|here|channel)\b", re.I)
# Mentions an adapter already turned into words ("@alice", "@devs"), where they lead the
# message: someone addressed, not something asked about.
_LEADING_NAMES = re.compile(r"^(?:\s*@[\w.\-]+[\s,:;]*)+")


def strip_mentions(text: str) -> str:
    """`text` without mention tokens, which never help answering."""
    return _LEADING_NAMES.sub(" ", _MENTION.sub(" ", text))


def check_question(question: str | None, limit: int) -> str:
    """The question with its spacing normalised, or InputError saying what is wrong (a
    question made only of mentions is empty)."""
    text = " ".join((question or "").split())
    if text and not strip_mentions(text).strip():
        text = ""
    if not text:
        raise InputError(
            "La question est vide. Exemple : /ask Qui est le Premier ministre ?",
            title="Question invalide",
        )
    if len(text) > limit:
        raise InputError(
            f"La question est trop longue ({count(len(text), 'caractère')}, maximum "
            f"{number(limit)}). "
            "Posez une question plus courte.",
            title="Question invalide",
        )
    return text


class AskCommands:
    """Answers from the corpus currently served (`answerer()` is the current snapshot's)."""

    def __init__(
        self,
        answerer: Callable[[], Answerer],
        feedback: FeedbackStore | None,
        *,
        question_limit: int,
    ) -> None:
        self.answerer = answerer
        self.feedback_store = feedback
        self.question_limit = question_limit

    @command(
        "ask",
        "Poser une question sur les articles",
        options=(
            Option(
                "question",
                "Votre question, en français",
                required=True,
                rest=True,
                max_length="question_limit",
            ),
        ),
        usage="<question>",
        slow=True,
        rate_limited=True,
        default=True,
        records="question",
    )
    async def ask(self, ctx: CommandContext, question: str | None = None) -> Reply:
        text = check_question(question, self.question_limit)
        asked = " ".join(strip_mentions(text).split())  # mentions never help answering
        answer = await asyncio.to_thread(self.answerer().answer, asked)
        return answer_reply(replace(answer, question=text))  # echoed as typed, escaped

    @command(
        "feedback",
        "Donner un avis sur une réponse",
        options=(Option("vote", "up ou down", required=True), Option("answer", "la réponse")),
        hidden=True,
    )
    async def vote(
        self, ctx: CommandContext, vote: str | None = None, answer: str | None = None
    ) -> Reply:
        """A 👍/👎 on an answer: recorded with its question and the passage it cited first."""
        value = VOTES.get(vote or "")
        voted = unpack(answer)
        if value is None or voted is None:
            return error("Cet avis ne peut pas être enregistré : réponse illisible.")
        if self.feedback_store is None:
            return error("Les avis ne sont pas enregistrés ici.")
        cited = next((b.citation for b in voted.blocks if b.citation), None)
        await asyncio.to_thread(
            self.feedback_store.record,
            platform=ctx.channel.platform,
            user_id=ctx.user_id,
            question=voted.title[:1000],
            article=cited.article if cited else None,
            section=cited.section if cited else None,
            value=value,
        )
        thanks = "Merci pour votre avis 👍" if value > 0 else "Merci, nous allons améliorer cela 👎"
        return info(thanks, kind=ReplyKind.SUCCESS)
