"""Decides who the actors are: curated entries first, then the discovered names worth keeping.

spaCy's labels are hints, not facts: the small French model tags "Washington" and
"Samedi" as people and "Al-Qaïda" as a place. A discovered name is kept when the corpus
itself supports it being a name: written with capitals where position does not explain
them, never used as a lower-case word, not a place ("à Washington"), not a heading shouted
in capitals. Kept names then merge: a curated entry absorbs every discovered variant of
itself ("Zeine", "Ali Mahamane Lamine"), a long discovered name absorbs its own fragments,
and a fragment that fits several actors ("Mohamed") is dropped rather than guessed.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.actors.curated import CuratedActor
from bot.actors.discovery import RawEntity
from bot.actors.model import ActorKind
from bot.actors.names import NAME_PARTICLES, case_tokens, is_acronym, key, word_spans
from bot.corpus.model import Article
from bot.corpus.text import FRENCH_STOP_WORDS

KEPT_LABELS = frozenset({"PER", "ORG", "MISC"})
MAX_NAME_TOKENS = 6
# Words after which a capitalised single word is a place: "à Washington", "vers Niamey".
_LOCATIVES = frozenset({"à", "depuis", "vers"})
_HAS_DIGIT = re.compile(r"\d")


@dataclass(frozen=True, slots=True)
class MatchForm:
    """A way an actor is written. `case` (accents stripped, case kept) must equal the text
    for acronyms such as "EI"; `capitalized` requires an upper-case first letter, for names
    only known from discovery (so "Blanc" never matches "blanc")."""

    tokens: tuple[str, ...]
    case: tuple[str, ...] | None = None
    capitalized: bool = False


@dataclass(slots=True)
class ActorSpec:
    """An actor before its mentions are found."""

    name: str
    kind: ActorKind
    description: str = ""
    aliases: list[str] = field(default_factory=list)
    link: str | None = None
    curated: bool = False
    forms: dict[tuple[str, ...], MatchForm] = field(default_factory=dict)

    def add_form(self, text: str, *, capitalized: bool) -> None:
        toks = tuple(key(text).split())
        if not toks:
            return
        case = case_tokens(text) if is_acronym(text) else None
        form = MatchForm(toks, case, capitalized and case is None)
        old = self.forms.get(toks)
        if old is None:
            self.forms[toks] = form
        else:  # the most permissive spelling of a form wins
            self.forms[toks] = MatchForm(
                toks,
                old.case if (old.case and case) else None,
                old.capitalized and form.capitalized,
            )

    @property
    def keys(self) -> list[tuple[str, ...]]:
        return list(self.forms)


@dataclass(slots=True)
class _Candidate:
    tokens: tuple[str, ...]
    surfaces: Counter[str] = field(default_factory=Counter)
    labels: Counter[str] = field(default_factory=Counter)

    @property
    def count(self) -> int:
        return sum(self.surfaces.values())

    @property
    def surface(self) -> str:
        """The most used spelling; on a tie, the accented and longer one."""
        return max(
            self.surfaces,
            key=lambda s: (self.surfaces[s], sum(not ch.isascii() for ch in s), len(s), s),
        )

    @property
    def kind(self) -> ActorKind:
        person = self.labels["PER"]
        org = self.labels["ORG"] + self.labels["MISC"]
        return ActorKind.PERSON if person > org else ActorKind.ORGANISATION


@dataclass(slots=True)
class _WordUse:
    """How a word is written across the corpus."""

    lower: bool = False  # seen in lower case: a common word
    capital_inside: bool = False  # capitalised away from the start of a sentence
    after_locative: bool = False  # "à Washington"


def curated_specs(entries: Iterable[CuratedActor]) -> list[ActorSpec]:
    specs = []
    for entry in entries:
        spec = ActorSpec(
            entry.name, entry.kind, entry.description, list(entry.aliases), entry.link, True
        )
        for label in (entry.name, *entry.aliases):
            spec.add_form(label, capitalized=False)
        specs.append(spec)
    return specs


def resolve_actors(
    curated: Sequence[ActorSpec],
    entities: Mapping[str, Sequence[RawEntity]],
    articles: Sequence[Article],
) -> list[ActorSpec]:
    """Curated actors (enriched with their discovered variants) plus discovered ones."""
    candidates = _gather(entities)
    firsts = {c.tokens[0] for c in candidates}  # single words, and institutions' first words
    uses = _word_uses(articles, firsts)
    kinds = {c.tokens: _kind_of(c, uses) for c in candidates}
    kept = [c for c in candidates if kinds[c.tokens] is not None]
    kept.sort(key=lambda c: (-len(c.tokens), -c.count, c.tokens))

    actors: list[ActorSpec] = list(curated)
    by_key: dict[tuple[str, ...], ActorSpec] = {}
    for spec in curated:
        for toks in spec.keys:
            by_key.setdefault(toks, spec)
    for cand in kept:
        owner = by_key.get(cand.tokens)
        if owner is None:
            owners = {id(s): s for s in actors for toks in s.keys if _inside(cand.tokens, toks)}
            if len(owners) > 1:
                continue  # a fragment of several actors' names: which one is unknowable
            owner = next(iter(owners.values()), None)
        if owner is not None:
            for surface in cand.surfaces:
                owner.add_form(surface, capitalized=True)
            if not owner.curated and cand.surface != owner.name:
                _add_alias(owner, cand.surface)
            continue
        spec = ActorSpec(cand.surface, kinds[cand.tokens] or cand.kind)
        for surface in cand.surfaces:
            spec.add_form(surface, capitalized=True)
        actors.append(spec)
        by_key[cand.tokens] = spec
    _add_surnames(actors)
    return actors


def _gather(entities: Mapping[str, Sequence[RawEntity]]) -> list[_Candidate]:
    groups: dict[tuple[str, ...], _Candidate] = {}
    for found in entities.values():
        for ent in found:
            toks = tuple(key(ent.text).split())
            if not toks:
                continue
            cand = groups.setdefault(toks, _Candidate(toks))
            cand.surfaces[" ".join(ent.text.split())] += 1
            cand.labels[ent.label] += 1
    return list(groups.values())


def _kind_of(cand: _Candidate, uses: Mapping[str, _WordUse]) -> ActorKind | None:
    """The kind of a discovered entity worth an entry, None for noise (see the module
    docstring for the rules)."""
    kept_votes = sum(cand.labels[label] for label in KEPT_LABELS)
    institution = False
    if kept_votes == 0 or cand.labels["LOC"] >= kept_votes:
        if not _institution(cand, uses):
            return None
        institution = True
    if len(cand.tokens) > MAX_NAME_TOKENS or any(_HAS_DIGIT.search(t) for t in cand.tokens):
        return None
    surface = cand.surface
    words = surface.replace("-", " ").replace("'", " ").replace("’", " ").split()
    if not words or not words[0][:1].isupper():
        return None
    if len(words) > 1 and all(w.isupper() for w in words if len(w) > 1):
        return None  # a heading in capitals, not a name
    strict = not institution and cand.labels["PER"] + cand.labels["MISC"] >= cand.labels["ORG"]
    if strict and any(
        w[:1].islower() and key(w) not in NAME_PARTICLES and len(w) > 1 for w in words
    ):
        return None  # "Premier ministre", "coup d'Etat de juillet"
    if len(cand.tokens) == 1:
        word = cand.tokens[0]
        if word in FRENCH_STOP_WORDS or word in NAME_PARTICLES or len(word) < 2:
            return None
        if surface.isupper() and len(surface) > 8:
            return None
        use = uses.get(word, _WordUse())
        if cand.labels["LOC"] or use.after_locative or use.lower or not use.capital_inside:
            return None
    return ActorKind.ORGANISATION if institution else cand.kind


def _institution(cand: _Candidate, uses: Mapping[str, _WordUse]) -> bool:
    """A "place" named like an institution: a capitalised common noun then lower-case
    words ("Observatoire sahélien des libertés", "Cour suprême"). The small model often
    tags these LOC; real places rarely look like this ("Burkina Faso", "Afrique")."""
    words = cand.surface.replace("'", " ").replace("’", " ").split()
    if len(words) < 2 or not words[0][:1].isupper() or words[0].isupper():
        return False
    if not any(w[:1].islower() and key(w) not in NAME_PARTICLES for w in words[1:]):
        return False
    return uses.get(cand.tokens[0], _WordUse()).lower


def _word_uses(articles: Sequence[Article], words: set[str]) -> dict[str, _WordUse]:
    """One pass over the corpus recording how each of `words` is written."""
    uses: dict[str, _WordUse] = defaultdict(_WordUse)
    if not words:
        return uses
    for text in _sentences(articles):
        spans = word_spans(text)
        for i, (folded, start, end) in enumerate(spans):
            if folded not in words:
                continue
            use = uses[folded]
            original = text[start:end]
            if original[:1].islower():
                use.lower = True
            elif i > 0:
                use.capital_inside = True
                before = text[spans[i - 1][1] : spans[i - 1][2]].lower()
                if before in _LOCATIVES and text[spans[i - 1][2] : start].strip() == "":
                    use.after_locative = True
    return uses


def _sentences(articles: Sequence[Article]) -> Iterable[str]:
    for article in articles:
        for section in article.sections:
            for sentence in section.sentences:
                yield sentence.text
        for link in article.related_links:
            yield link.title


def _inside(part: tuple[str, ...], whole: tuple[str, ...]) -> bool:
    """`part` is a run of consecutive words of `whole` (and shorter)."""
    n = len(part)
    if n >= len(whole):
        return False
    return any(whole[i : i + n] == part for i in range(len(whole) - n + 1))


def _add_alias(spec: ActorSpec, alias: str) -> None:
    if key(alias) not in {key(a) for a in (spec.name, *spec.aliases)}:
        spec.aliases.append(alias)


def _add_surnames(actors: Sequence[ActorSpec]) -> None:
    """Discovered people are also matched by their last name, when no one else bears it:
    articles name them in full once, then by surname."""
    owners: dict[str, set[int]] = defaultdict(set)
    for i, spec in enumerate(actors):
        for toks in spec.keys:
            for tok in toks:
                owners[tok].add(i)
    for i, spec in enumerate(actors):
        if spec.curated or spec.kind is not ActorKind.PERSON:
            continue
        names = key(spec.name).split()
        if len(names) < 2:
            continue
        last = names[-1]
        if (
            len(last) >= 3
            and last not in FRENCH_STOP_WORDS
            and last not in NAME_PARTICLES
            and owners[last] == {i}
        ):
            spec.forms.setdefault((last,), MatchForm((last,), None, True))
