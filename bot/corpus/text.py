"""French text normalisation shared by the index, the answer picker and the actor directory.

Everything that compares user text with article text goes through `fold` so that case,
accents, typographic apostrophes and ligatures never decide whether two words match.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer

_UNIFIED = {
    "’": "'",
    "‘": "'",
    "ʼ": "'",
    "´": "'",
    "`": "'",
    "œ": "oe",
    "Œ": "OE",
    "æ": "ae",
    "Æ": "AE",
}
_APOSTROPHES = str.maketrans(_UNIFIED)
# Accents left by NFKD, as one regex character class: much faster than a loop over
# characters (indexing 100,000 sections folds some 100 million of them). Astral-plane
# marks are rare and handled by the slow path.
_COMBINING = re.compile(
    "[" + "".join(re.escape(chr(c)) for c in range(0x10000) if unicodedata.combining(chr(c))) + "]"
)

# Elided articles, pronouns and conjunctions: "l'État" is about "État", not "l".
_ELISION = re.compile(
    r"\b(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu|quoiqu|presqu)'(?=\w)", re.IGNORECASE
)
_FOLDED_ELISION = re.compile(_ELISION.pattern)  # folded text is lower case: twice as fast
_WORD = re.compile(r"\d+(?:[.,\u202f\u00a0 ]\d{3})*(?:[.,]\d+)?|[^\W\d_]+", re.UNICODE)
_THOUSANDS = re.compile(r"[\s\u202f\u00a0.,](?=\d{3}\b)")

# Question words, auxiliaries and grammatical words carry no topic. The list is the
# usual French IR stop list plus interrogatives, since questions are what we read.
FRENCH_STOP_WORDS: frozenset[str] = frozenset(
    """
    a afin ai aie aient aies ait alors as au aucun aucune aupres auquel aura aurai auraient
    aurais aurait auras aurez auriez aurions aurons auront aussi autre autres aux auxquelles
    auxquels avaient avais avait avant avec avez aviez avions avoir avons ayant ayez ayons
    c ca car ce ceci cela celle celles celui cependant certain certaine certaines certains ces
    cet cette ceux chacun chacune chaque chez ci comme comment d dans de des desquelles
    desquels dessous dessus deux doit donc dont du duquel durant elle elles en encore entre
    es est et etaient etais etait etant ete etes etiez etions etre eu eue eues eumes eurent
    eus eusse eussent eusses eussiez eussions eut eutes eux fait faites fais faut fumes furent
    fus fusse fussent fusses fussiez fussions fut futes ici il ils j je jusqu l la laquelle
    le lequel les lesquelles lesquels leur leurs lors lorsque lui m ma mais me meme memes mes
    moi mon n ne ni non nos notre nous on ont ou par parce pas peu peut plupart pour pourquoi
    qu quand que quel quelle quelles quels qui quoi sa sans se sera serai seraient serais
    serait seras serez seriez serions serons seront ses si sien sienne siennes siens soi soient
    sois soit sommes son sont sous soyez soyons suis sur t ta te tes toi ton tous tout toute
    toutes tres tu un une unes uns vers voici voila vos votre vous vu y
    combien quoi lequel laquelle dit dire selon etc
    what who whom whose which where when why how is are was were be been being the of and
    to in on for did does do has have had will would can could should it its this
    that these those there from with by at as about into than
    """.split()
)

_SENTENCE_END = re.compile(r"([.!?…][\"»”)]*)\s+(?=[«\"“(]?[A-ZÀ-ÖØ-Þ0-9])")
_ABBREVIATIONS = frozenset(
    "m mm mme mmes mlle dr pr st ste gal gen col cf etc ex env av apr jr sr no p vol art".split()
)


def fold(text: str) -> str:
    """Lower-case, strip accents and unify apostrophes: the form every comparison uses."""
    for mark, plain in _UNIFIED.items():
        if mark in text:
            text = text.replace(mark, plain)
    bare = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
    if not bare.isascii() and max(bare) > "\uffff":
        bare = "".join(ch for ch in bare if not unicodedata.combining(ch))
    return bare.casefold()


def words(text: str) -> list[str]:
    """Folded words of `text`, elisions removed, hyphenated compounds split, numbers joined."""
    tokens = _WORD.findall(_FOLDED_ELISION.sub("", fold(text)))
    return [_THOUSANDS.sub("", t) if t[0].isdigit() else t for t in tokens]


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("french")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Snowball French stem of an already folded word (cached: vocabularies repeat a lot)."""
    if word[0].isdigit():
        return word
    return _stemmer().stemWord(word)


def content_words(text: str) -> list[str]:
    """Folded words minus stop words and one-letter leftovers."""
    return [w for w in words(text) if w not in FRENCH_STOP_WORDS and (len(w) > 1 or w.isdigit())]


def terms(text: str) -> list[str]:
    """Index terms: stems of the content words."""
    return [stem(w) for w in content_words(text)]


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans (start, end) in `text`, careful with French abbreviations like "M."."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end(1)
        last_word = re.search(r"(\w+)\.$", text[start:end])
        if last_word and (
            last_word.group(1).casefold() in _ABBREVIATIONS or len(last_word.group(1)) == 1
        ):
            continue
        spans.append((start, end))
        start = match.end()
    if start < len(text) and text[start:].strip():
        spans.append((start, len(text.rstrip())))
    return [(s, e) for s, e in spans if text[s:e].strip()]
