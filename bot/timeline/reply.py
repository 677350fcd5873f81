"""The chronology as a reply: one block per dated event, its date phrase marked."""

from __future__ import annotations

from collections.abc import Sequence

from bot.chat.replies import Block, Reply, ReplyKind
from bot.chat.serial import to_json
from bot.corpus.french import WEEKDAY_NAMES, french_date, of
from bot.corpus.text import fold

from .events import TimelineEvent, sort_key


def timeline_reply(events: Sequence[TimelineEvent], limit: int | None = None) -> Reply:
    """The chronology as a reply: one block per event, its date phrase marked.

    With a `limit`, the latest events are kept (a briefing is about what happened last),
    still shown oldest first.
    """
    ordered = sorted(events, key=sort_key)
    if not ordered:
        return Reply(
            ReplyKind.TIMELINE,
            "Chronologie",
            (Block("Aucune date trouvée dans les articles."),),
            data={"events": []},
        )
    shown = ordered[-limit:] if limit is not None and limit > 0 else ordered
    hidden = len(ordered) - len(shown)
    blocks = tuple(event_block(event) for event in shown)
    footer = None
    if hidden:
        plural = "s" if hidden > 1 else ""
        footer = f"{hidden} date{plural} plus ancienne{plural} non affichée{plural}."
    count = len(ordered)
    return Reply(
        ReplyKind.TIMELINE,
        f"Chronologie ({count} date{'s' if count > 1 else ''})",
        blocks,
        footer=footer,
        data={"events": to_json(ordered)},
    )


def event_block(event: TimelineEvent) -> Block:
    """One event: its French date as heading, its sentence with the date phrase marked."""
    note = None
    if event.relative and event.precision != "day" and _is_weekday_phrase(event.phrase):
        when = french_date(event.citation.date or event.date)
        note = f"jour non précisé : « {event.phrase} » dans un article {of(when)}"
    return Block(
        text=event.text,
        heading=event.label,
        marks=(event.span,) if event.span != (0, 0) else (),
        citation=event.citation,
        note=note,
    )


def _is_weekday_phrase(phrase: str) -> bool:
    return any(word in WEEKDAY_NAMES or word == "hier" for word in fold(phrase).split())
