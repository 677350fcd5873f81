"""How actor names are compared: one tokenisation shared by matching, merging and look-up.

A name's key is its folded word tokens joined by spaces, so "États-Unis", "Etats Unis" and
"etats-unis" are one key, and "l’AFP" and "l'AFP" both contain the token "afp". Anything
that decides whether two names are the same goes through here.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from bot.corpus.text import FRENCH_STOP_WORDS, fold

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_LEADING_ELISION = re.compile(r"^(?:l|d|qu|j|m|n|s|t|c|jusqu|lorsqu)['’]", re.IGNORECASE)

# Lower-case words allowed inside a proper name ("Jean de La Fontaine", "Ben Ali").
NAME_PARTICLES: frozenset[str] = frozenset(
    (
        "de", "du", "des", "d", "la", "le", "les", "l", "van", "von", "der", "den", "di",
        "da", "dos", "das", "del", "al", "el", "ben", "bin", "ibn", "ould", "ag", "et", "of",
        "the", "y",
    )
)  # fmt: skip

# Titles and honorifics a user may type before a name: "le général Tiani", "M. Bazoum".
HONORIFICS: frozenset[str] = frozenset(
    (
        "m", "mm", "mme", "mmes", "mlle", "monsieur", "madame", "mr", "mrs", "ms", "dr", "pr",
        "general", "generale", "colonel", "capitaine", "commandant", "marechal", "president",
        "presidente", "ministre", "premier", "premiere", "chef", "cheikh", "imam", "roi",
        "reine", "prince", "princesse", "sir", "lord", "docteur", "professeur",
    )
)  # fmt: skip


def tokens(text: str) -> list[str]:
    """Folded word tokens of a name or a sentence (punctuation and hyphens separate)."""
    return _TOKEN.findall(fold(text))


def key(text: str) -> str:
    """The form two names must share to be the same name."""
    return " ".join(tokens(text))


def query_tokens(text: str) -> list[str]:
    """Tokens of a user's query without articles and titles, unless nothing else is left."""
    toks = tokens(text)
    kept = [t for t in toks if t not in FRENCH_STOP_WORDS and t not in HONORIFICS]
    return kept or toks


@lru_cache(maxsize=4096)
def strip_accents(text: str) -> str:
    """Accents removed but case kept: acronyms are matched case-sensitively with this."""
    decomposed = unicodedata.normalize("NFKD", text.replace("’", "'"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def case_tokens(text: str) -> tuple[str, ...]:
    """Word tokens with accents stripped and case kept, to compare acronyms."""
    return tuple(_TOKEN.findall(strip_accents(text)))


def strip_elision(text: str) -> str:
    """'d’Agadez' → 'Agadez', "l'AFP" → 'AFP': the elided article is not part of a name."""
    return _LEADING_ELISION.sub("", text.strip())


def is_acronym(text: str) -> bool:
    """'AFP', 'EI', 'ECOWAS': short all-capital names, which only match in capitals."""
    letters = [ch for ch in text if ch.isalpha()]
    return 2 <= len(letters) <= 8 and all(ch.isupper() for ch in letters) and " " not in text


def word_spans(text: str) -> list[tuple[str, int, int]]:
    """(folded token, start, end) of each word of `text`, offsets in the original text."""
    out: list[tuple[str, int, int]] = []
    for match in _TOKEN.finditer(text):
        folded = fold(match.group())
        # Folding may expand a character ("œ" → "oe") or split a word; keep it one token.
        out.append((folded.replace(" ", ""), match.start(), match.end()))
    return out
