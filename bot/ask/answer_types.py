"""What kind of answer a French (or English) question expects, and whether a sentence has one.

"Combien …" wants a number, "Quand …" a date, "Qui …" a name. A passage whose best sentence
holds the expected kind of answer is more likely the one that answers; the bonus is small,
so it only breaks near-ties between passages and between sentences.

Names and places come from spaCy's entities when actor discovery has read the article
(`NamedEntities`), from capitalisation patterns otherwise.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from typing import Protocol

from bot.corpus.text import fold, words


class AnswerType(Enum):
    NUMBER = "number"
    DATE = "date"
    PERSON = "person"
    PLACE = "place"
    CAUSE = "cause"
    OTHER = "other"


_MONTHS = "janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre"
_DAYS = "lundi mardi mercredi jeudi vendredi samedi dimanche"
_DATE = re.compile(
    rf"\b(?:{'|'.join(_MONTHS.split())}|{'|'.join(_DAYS.split())}|hier|aujourd|demain"
    r"|(?:1[5-9]|20)\d\d|siecle|annee[s]?)\b"
)
_NUMBER = re.compile(
    r"\d|\b(?:deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|vingt|trente|quarante"
    r"|cinquante|soixante|cent|cents|mille|milliers?|millions?|milliards?|dizaines?|centaines?"
    r"|moitie|tiers|quart)\b"
)
_PROPER = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ]+")
_PLACE = re.compile(r"\b(?:à|au|aux|en|dans|vers|près de|de)\s+[A-ZÀ-ÖØ-Þ]")
# Causal and purpose clauses, folded: what a "pourquoi" answer is made of.
_CAUSE = re.compile(
    r"\b(?:car|parce qu|puisqu|a la demande|estimant|jugeant|considerant|en raison d"
    r"|a cause d|grace a|du fait d|pour|afin d|face a|suite a|apres|en reponse|objectif"
    r"|but|raison|essentiel|because|since|due to)"
)

_QUESTION_TYPES: tuple[tuple[re.Pattern[str], AnswerType], ...] = (
    (
        re.compile(r"\b(?:combien|how (?:many|much)|quel (?:nombre|montant|pourcentage))\b"),
        AnswerType.NUMBER,
    ),
    (
        re.compile(
            r"\b(?:quand|depuis quand|a quelle (?:date|epoque|heure)|en quelle annee"
            r"|quelle annee|quel jour|when|what year)\b"
        ),
        AnswerType.DATE,
    ),
    # "Qu'est-ce qui …" asks what, not who; "Qui est-ce qui …" still asks who.
    (re.compile(r"(?<!est-ce )(?<!est ce )\bqui\b|\bwho\b"), AnswerType.PERSON),
    (
        re.compile(
            r"^(?:ou|where)\b|\b(?:d'ou|dans quel(?:le)? (?:pays|ville|region)|ou (?:est|sont"
            r"|se|a|ont|les|le|la|l'))\b"
        ),
        AnswerType.PLACE,
    ),
    (re.compile(r"\b(?:pourquoi|pour quelle raison|why)\b"), AnswerType.CAUSE),
)


def expected_type(question: str) -> AnswerType:
    folded = fold(question).replace("’", "'")
    for pattern, kind in _QUESTION_TYPES:
        if pattern.search(folded):
            return kind
    return AnswerType.OTHER


def has_type(sentence: str, kind: AnswerType) -> bool:
    if kind is AnswerType.NUMBER:
        return bool(_NUMBER.search(fold(sentence)))
    if kind is AnswerType.DATE:
        return bool(_DATE.search(fold(sentence)))
    if kind is AnswerType.PERSON:
        return bool(_PROPER.search(sentence))
    if kind is AnswerType.PLACE:
        return bool(_PLACE.search(sentence))
    if kind is AnswerType.CAUSE:
        return bool(_CAUSE.search(fold(sentence).replace("’", "'")))
    return False


class Entity(Protocol):
    """A named entity as actor discovery caches it (`bot.actors.discovery.RawEntity`)."""

    @property
    def text(self) -> str: ...

    @property
    def label(self) -> str: ...


# spaCy's French labels that answer each kind of question (MISC answers none).
ENTITY_LABELS: dict[AnswerType, frozenset[str]] = {
    AnswerType.PERSON: frozenset({"PER", "ORG"}),
    AnswerType.PLACE: frozenset({"LOC"}),
}


class NamedEntities:
    """spaCy's entities of each article, found again in its sentences.

    Discovery keeps each entity's text and label, not its offsets; a name is found in a
    sentence as the same folded words, and takes the label spaCy gave it most often in
    that article (the small model calls "Niamey" a place nine times, a person once).
    """

    def __init__(
        self, entities: Mapping[str, Sequence[Entity]] | Callable[[str], Sequence[Entity] | None]
    ) -> None:
        """`entities` by article id, or a function reading them when first asked (None
        for an article discovery has not read yet): at 20,000 articles, reading every
        cached entry took seconds for each new index, and a question reads a few."""
        self._lookup = entities.get if isinstance(entities, Mapping) else entities
        self._patterns: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
        self._found: dict[tuple[str, str], tuple[tuple[str, frozenset[str]], ...]] = {}
        self._lock = threading.Lock()

    def _article(self, article_id: str) -> list[tuple[str, re.Pattern[str]]] | None:
        with self._lock:
            known = self._patterns.get(article_id)
        if known is not None:
            return known
        found = self._lookup(article_id)
        if found is None:
            return None  # asked again next time: discovery may have read it since
        labels: dict[str, Counter[str]] = {}
        for entity in found:
            name = " ".join(words(entity.text))
            if name:
                labels.setdefault(name, Counter())[entity.label] += 1
        by_label: dict[str, list[str]] = {}
        for name, counts in labels.items():
            by_label.setdefault(counts.most_common(1)[0][0], []).append(name)
        patterns = [(label, _phrases(names)) for label, names in sorted(by_label.items())]
        with self._lock:
            self._patterns[article_id] = patterns
        return patterns

    def covers(self, article_id: str) -> bool:
        """True when discovery has read the article (its sentences can be typed by entity)."""
        return self._article(article_id) is not None

    def found(self, article_id: str, sentence: str) -> tuple[tuple[str, frozenset[str]], ...]:
        """(label, words) of each entity of the article that `sentence` names."""
        key = (article_id, sentence)
        cached = self._found.get(key)
        if cached is None:
            folded = " ".join(words(sentence))
            cached = tuple(
                (label, frozenset(m.group().split()))
                for label, pattern in self._article(article_id) or ()
                for m in pattern.finditer(folded)
            )
            if len(self._found) > 50_000:  # bounded on a large corpus
                self._found.clear()
            self._found[key] = cached
        return cached

    def has_type(
        self, article_id: str, sentence: str, kind: AnswerType, asked: frozenset[str]
    ) -> bool | None:
        """Whether the sentence names an entity of the kind asked for, other than those the
        question names itself ("Qui a reçu Molly Phee ?" is not answered by Molly Phee); None
        when entities cannot tell (another kind of question, an article discovery has not
        read)."""
        labels = ENTITY_LABELS.get(kind)
        if labels is None or not self.covers(article_id):
            return None
        return any(
            label in labels and not names <= asked
            for label, names in self.found(article_id, sentence)
        )


def _phrases(names: Sequence[str]) -> re.Pattern[str]:
    ordered = sorted(set(names), key=len, reverse=True)
    return re.compile(rf"(?<!\S)(?:{'|'.join(map(re.escape, ordered))})(?!\S)")


# English function words that French never writes ("a", "on", "as" are left out).
_ENGLISH = frozenset(
    """the of and to is are was were what who whom whose which where when why how did does
    do has have had will would can could should its this that these those there from with
    by at about into than an been being for many much long""".split()
)


def english_share(question: str) -> float:
    """Share of the question's words that are English function words: English questions
    leave their content words unmatched, which is not evidence of a missing topic."""
    found = re.findall(r"[a-z]+", fold(question))
    return sum(w in _ENGLISH for w in found) / len(found) if found else 0.0
