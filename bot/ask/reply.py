"""Turns an `Answer` into the platform-neutral `Reply` the adapters render."""

from __future__ import annotations

from bot.ask.answerer import Answer
from bot.chat.replies import Block, Citation, Reply, ReplyKind
from bot.chat.serial import to_json

TITLE_MAX_CHARS = 200


def answer_reply(answer: Answer) -> Reply:
    title = _shorten(answer.question)
    if not answer.answered:
        return Reply(
            ReplyKind.NO_ANSWER,
            title,
            (Block("Les articles ne répondent pas à cette question."),),
            confidence=answer.confidence,
            suggestions=answer.suggestions,
            private=True,
            data=to_json(answer),
        )
    first, *others = answer.citations
    blocks = [Block(answer.answer, citation=first, url=first.url)]
    if others:
        blocks.append(
            Block(heading="Voir aussi", citation=None, items=tuple(_see_also(c) for c in others))
        )
    return Reply(
        ReplyKind.ANSWER,
        title,
        tuple(blocks),
        confidence=answer.confidence,
        url=first.url,
        private=True,
        shareable=True,
        feedback=True,
        data=to_json(answer),
    )


def _see_also(c: Citation) -> str:
    label = c.title if c.section == c.title else f"{c.section} — {c.title}"
    return f"{label} <{c.url}>" if c.url else label


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= TITLE_MAX_CHARS else text[: TITLE_MAX_CHARS - 1] + "…"
