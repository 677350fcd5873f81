"""What the actor directory knows and answers: actors, their mentions, look-up results.

These are frozen dataclasses so a built directory can be shared between the chat adapters'
threads without locks; `to_json` gives the shapes the CLI prints (the `briefbot actor`
contract) so every front end serialises them the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


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
    in_related_links: bool = field(default=False, metadata={"json": False})


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


@dataclass(frozen=True, slots=True)
class ActorSummary:
    json_properties = ("mentions",)
    name: str
    kind: ActorKind
    mention_count: int = field(metadata={"json": False})

    @property
    def mentions(self) -> int:
        return self.mention_count


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
    candidate_actors: tuple[Actor, ...] = field(default=(), compare=False, metadata={"json": False})

    @property
    def ambiguous(self) -> bool:
        return not self.found and bool(self.candidates)
