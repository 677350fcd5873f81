"""Turns actor look-ups into platform-neutral replies (French, plain text, atomic blocks).

Each mention is its own block carrying its sentence, the name's marks and the citation, so
an adapter that must split a long card never separates a sentence from its source.
"""

from __future__ import annotations

from dataclasses import replace

from bot.actors.directory import ActorDirectory
from bot.actors.model import KIND_LABELS_FR, Actor, ActorKind, ActorLookup, Mention
from bot.chat.replies import Block, Citation, Field, Reply, ReplyKind
from bot.chat.serial import to_json

LIST_CHUNK = 25  # names per block in /actors, so adapters can split long lists
_KIND_ORDER = (ActorKind.PERSON, ActorKind.ORGANISATION, ActorKind.GROUP, ActorKind.STATE)
_KIND_HEADINGS = {
    ActorKind.PERSON: "Personnes",
    ActorKind.ORGANISATION: "Organisations",
    ActorKind.GROUP: "Groupes",
    ActorKind.STATE: "États",
}


def actor_reply(lookup: ActorLookup) -> Reply:
    if lookup.found and lookup.actor is not None:
        return _card(lookup)
    if lookup.candidates:
        return _choices(lookup)
    return _not_found(lookup)


def actors_reply(directory: ActorDirectory) -> Reply:
    summaries = directory.all()
    data = {"actors": to_json(summaries)}
    if not summaries:
        return Reply(
            ReplyKind.ACTORS,
            "Aucun acteur",
            (Block("Les articles ne nomment encore aucune personne ni organisation."),),
            data=data,
        )
    blocks: list[Block] = []
    for kind in _KIND_ORDER:
        rows = [s for s in summaries if s.kind is kind]
        for start in range(0, len(rows), LIST_CHUNK):
            chunk = rows[start : start + LIST_CHUNK]
            heading = _KIND_HEADINGS[kind] + (f" ({len(rows)})" if start == 0 else " (suite)")
            items = tuple(f"{s.name} — {_count(s.mention_count)}" for s in chunk)
            blocks.append(Block(heading=heading, items=items))
    return Reply(
        ReplyKind.ACTORS,
        f"Acteurs cités dans les articles ({len(summaries)})",
        tuple(blocks),
        footer="Tapez /actor <nom> pour voir qui est un acteur et où il est cité.",
        data=data,
    )


def _card(lookup: ActorLookup) -> Reply:
    actor = lookup.actor
    assert actor is not None
    fields = [
        Field("Type", KIND_LABELS_FR[actor.kind]),
        Field("Mentions", str(actor.mention_count)),
    ]
    if actor.aliases:
        fields.append(Field("Autres noms", ", ".join(actor.aliases), inline=False))
    blocks = [
        Block(
            text=actor.description or "Aucune description.",
            heading="Rôle" if actor.curated else "Décrit ainsi dans les articles",
            url=actor.link,
            fields=tuple(fields),
        )
    ]
    mentions = [_mention_block(m) for m in actor.mentions]
    if mentions:
        heading = f"Cité dans les articles ({len(mentions)})"
        mentions[0] = replace(mentions[0], heading=heading)
    blocks.extend(mentions)
    closing: list[Field] = []
    if actor.first_date:
        closing.append(Field("Première mention", actor.first_date))
    if actor.last_date:
        closing.append(Field("Dernière mention", actor.last_date))
    if actor.related or closing:
        blocks.append(
            Block(
                heading="Souvent cités avec" if actor.related else "Dates",
                items=actor.related,
                fields=tuple(closing),
            )
        )
    if not actor.mentions:
        blocks.insert(1, Block("Les articles actuels ne le nomment pas."))
    return Reply(
        ReplyKind.ACTOR,
        actor.name,
        tuple(blocks),
        url=actor.link,
        shareable=True,
        data=to_json(lookup),
    )


def _mention_block(m: Mention) -> Block:
    return Block(
        text=m.excerpt,
        marks=m.marks,
        citation=Citation(m.article, m.title, m.section, m.date, m.url),
    )


def _choices(lookup: ActorLookup) -> Reply:
    actors = lookup.candidate_actors
    items = tuple(_choice_line(a) for a in actors) or lookup.candidates
    return Reply(
        ReplyKind.ACTOR_CHOICES,
        f"Plusieurs acteurs correspondent à « {lookup.query} »",
        (Block("Précisez le nom parmi :", items=items),),
        suggestions=lookup.candidates,
        private=True,
        data=to_json(lookup),
    )


def _choice_line(actor: Actor) -> str:
    return f"{actor.name} ({KIND_LABELS_FR[actor.kind].lower()}, {_count(actor.mention_count)})"


def _not_found(lookup: ActorLookup) -> Reply:
    if lookup.query:
        text = f"Aucun acteur des articles ne correspond à « {lookup.query} »."
    else:
        text = "Donnez un nom à chercher."
    if lookup.suggestions:
        text += " Les noms les plus proches sont proposés ci-dessous."
    return Reply(
        ReplyKind.ERROR,
        "Aucun acteur ne correspond",
        (Block(text),),
        suggestions=lookup.suggestions,
        private=True,
        data=to_json(lookup),
    )


def _count(n: int) -> str:
    return f"{n} mention" + ("s" if n != 1 else "")
