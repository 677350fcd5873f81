"""What the actor directory knows and answers: actors, their mentions, look-up results.

These are frozen dataclasses so a built directory can be shared between the chat adapters'
threads without locks; `to_json` gives the shapes the CLI prints (the `briefbot actor`
contract) so every front end serialises them the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ActorKind(StrEnum):
    PERSON = "person"
    ORGANISATION = "organisation"
    STATE = "state"
    GROUP = "group"


# Spellings editors may write for a kind; anything else is reported as an unknown kind.
KIND_SYNONYMS: dict[str, ActorKind] = {
    "person": ActorKind.PERSON,
    "organisation": ActorKind.ORGANISATION,
    "organization": ActorKind.ORGANISATION,
    "state": ActorKind.STATE,
    "group": ActorKind.GROUP,
}

KIND_LABELS_FR: dict[ActorKind, str] = {
    ActorKind.PERSON: "Personne",
    ActorKind.ORGANISATION: "Organisation",
    ActorKind.STATE: "État",
    ActorKind.GROUP: "Groupe",
}


@dataclass(frozen=True, slots=True)
class Mention:
    """One sentence naming an actor; `marks` are the name's (start, end) spans in `excerpt`."""

    article: str
    title: str
    section: str
    date: str | None
    excerpt: str
    marks: tuple[tuple[int, int], ...]
    url: str | None = None
    in_related_links: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "article": self.article,
            "title": self.title,
            "section": self.section,
            "date": self.date,
            "excerpt": self.excerpt,
            "marks": [list(m) for m in self.marks],
            "url": self.url,
        }


@dataclass(frozen=True, slots=True)
class Actor:
    """A person, organisation, state or group, with everything the articles say of them.

    `curated` tells an editor's entry from a discovered one; `description` is the editor's
    text or, for discovered actors, the sentence where the articles first describe them.
    `related` is ranked by how often the other actor is named in the same sentences
    (weight 2) and sections (weight 1).
    """

    name: str
    kind: ActorKind
    description: str = ""
    aliases: tuple[str, ...] = ()
    link: str | None = None
    curated: bool = False
    mentions: tuple[Mention, ...] = ()
    related: tuple[str, ...] = ()
    first_date: str | None = None
    last_date: str | None = None

    @property
    def mention_count(self) -> int:
        return len(self.mentions)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind.value,
            "description": self.description,
            "aliases": list(self.aliases),
            "link": self.link,
            "curated": self.curated,
            "mentions": [m.to_json() for m in self.mentions],
            "related": list(self.related),
            "first_date": self.first_date,
            "last_date": self.last_date,
        }


@dataclass(frozen=True, slots=True)
class ActorSummary:
    name: str
    kind: ActorKind
    mention_count: int

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind.value, "mentions": self.mention_count}


@dataclass(frozen=True, slots=True)
class ActorLookup:
    """The answer to `/actor QUERY`.

    Exactly one of three outcomes: `found` with `actor`; ambiguous, with `candidates` to
    choose from; or nothing close enough, with `suggestions` (the closest names).
    """

    query: str
    found: bool
    actor: Actor | None = None
    candidates: tuple[str, ...] = ()
    suggestions: tuple[str, ...] = ()
    candidate_actors: tuple[Actor, ...] = field(default=(), compare=False)

    @property
    def ambiguous(self) -> bool:
        return not self.found and bool(self.candidates)

    def to_json(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "found": self.found,
            "actor": self.actor.to_json() if self.actor else None,
            "candidates": list(self.candidates),
            "suggestions": list(self.suggestions),
        }
