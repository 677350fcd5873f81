"""The platform-neutral reply model that every adapter renders natively.

A `Reply` is a title, an ordered list of `Block`s and a few flags. Each block is an atomic
unit: an excerpt travels with its citation, an actor mention with its source, so adapters
that must split long replies (Slack's 50 blocks, Discord's 6,000 characters) split
between blocks, never inside one. All text here is plain, untrusted text: adapters escape
it for their markup and send it with mentions disabled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class Citable(Protocol):
    """What a citation needs of an article (the corpus model has it; chat needs no import)."""

    @property
    def id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def date(self) -> str | None: ...
    @property
    def url(self) -> str | None: ...


class ReplyKind(StrEnum):
    ANSWER = "answer"
    NO_ANSWER = "no_answer"
    ACTOR = "actor"
    ACTOR_CHOICES = "actor_choices"
    ACTORS = "actors"
    DIGEST = "digest"
    TIMELINE = "timeline"
    SUBSCRIPTIONS = "subscriptions"
    INFO = "info"
    SUCCESS = "success"
    ERROR = "error"
    HELP = "help"


@dataclass(frozen=True, slots=True)
class Citation:
    """Where a passage comes from; `article` is the article id."""

    article: str
    title: str
    section: str
    date: str | None = None
    url: str | None = None

    @classmethod
    def of(cls, article: Citable, section_label: str) -> Citation:
        return cls(article.id, article.title, section_label, article.date, article.url)

    @property
    def details(self) -> tuple[str, ...]:
        """Section (when it is not just the title again) and date: what follows the title."""
        parts = []
        if self.section and self.section != self.title:
            parts.append(self.section)
        if self.date:
            parts.append(self.date)
        return tuple(parts)

    @property
    def label(self) -> str:
        """ "Title · Section · date", the one-line name of a source."""
        return " · ".join((self.title, *self.details))


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    value: str
    inline: bool = True


@dataclass(frozen=True, slots=True)
class Block:
    """One indivisible piece of a reply.

    `text` is the body; `marks` are (start, end) spans of `text` to emphasise (the name of
    an actor in its sentence, say); `citation` is rendered right under the text; `fields`
    are short name/value pairs; `items` a bullet list; `url` links the heading.
    """

    text: str = ""
    heading: str | None = None
    url: str | None = None
    marks: tuple[tuple[int, int], ...] = ()
    citation: Citation | None = None
    fields: tuple[Field, ...] = ()
    items: tuple[str, ...] = ()
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """What the core says back. `private` asks adapters for an ephemeral/only-you reply;
    `shareable` offers a button to post a private reply to the channel; `feedback` offers
    thumbs up/down (answers). `confidence` is shown when set."""

    kind: ReplyKind
    title: str
    blocks: tuple[Block, ...] = ()
    confidence: float | None = None
    suggestions: tuple[str, ...] = ()
    footer: str | None = None
    url: str | None = None
    private: bool = False
    shareable: bool = False
    feedback: bool = False
    data: dict[str, Any] = field(default_factory=dict, compare=False, metadata={"json": False})

    @property
    def is_error(self) -> bool:
        return self.kind is ReplyKind.ERROR

    def plain_text(self) -> str:
        """A readable plain-text rendering: the console's output and every fallback text."""
        lines: list[str] = [self.title] if self.title else []
        for block in self.blocks:
            if block.heading:
                lines.append("")
                lines.append(block.heading + (f" <{block.url}>" if block.url else ""))
            if block.text:
                lines.append(block.text)
            lines.extend(f"  • {item}" for item in block.items)
            lines.extend(f"  {f.name}: {f.value}" for f in block.fields)
            if block.citation:
                lines.append("  — " + citation_line(block.citation))
            if block.note:
                lines.append(f"  ({block.note})")
        if self.confidence is not None:
            lines.append(f"Confiance : {confidence_label(self.confidence)}")
        if self.suggestions:
            lines.append("Vous pouvez demander par exemple :")
            lines.extend(f"  • {s}" for s in self.suggestions)
        if self.footer:
            lines.append(self.footer)
        return "\n".join(lines).strip()


def citation_line(c: Citation) -> str:
    return f"{c.label} <{c.url}>" if c.url else c.label


def confidence_label(confidence: float) -> str:
    """Confidence in words and percent, so a number alone is never the whole story."""
    if confidence >= 0.75:
        word = "élevée"
    elif confidence >= 0.5:
        word = "moyenne"
    else:
        word = "faible"
    return f"{word} ({round(confidence * 100)} %)"


def error(message: str, *, title: str = "Impossible de répondre") -> Reply:
    return Reply(ReplyKind.ERROR, title, (Block(message),), private=True)


def info(title: str, message: str = "", *, kind: ReplyKind = ReplyKind.INFO) -> Reply:
    return Reply(kind, title, (Block(message),) if message else (), private=True)
