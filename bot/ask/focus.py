"""The question's focus: the names it asks about, which the passage must contain as the
same word, not a word that merely shares its stem.

Stems serve recall well but conflate names: "France" and "française" share the stem
"franc", so "Qui est le président de la France ?" matched a sentence about the French
soldiers at full confidence. A focus word is a name: capitalised in the question (not as
its first word), or written capitalised in the corpus's running text. It matches a passage
word that is the same word up to a plural or feminine ending, or up to the typos the
index corrected.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from rapidfuzz.distance import OSA

from bot.ask.index import QueryTerm, max_edits
from bot.corpus.text import FRENCH_STOP_WORDS, fold

_TOKEN = re.compile(r"[^\W\d_]+", re.UNICODE)
_DOUBLED = re.compile(r"([bcdfghjklmnpqrstvwxz])\1$")


class WrittenForms(Protocol):
    """How the corpus most often writes a folded word (None for a word it never has)."""

    def get(self, word: str, /) -> str | None: ...


def focus_words(question: str, cased: WrittenForms) -> tuple[str, ...]:
    """Folded names of the question, in order, without repeats."""
    out: list[str] = []
    for i, m in enumerate(_TOKEN.finditer(question.replace("’", "'"))):
        token = m.group()
        word = fold(token)
        if len(word) < 2 or word in FRENCH_STOP_WORDS or word in out:
            continue
        written = cased.get(word) or ""
        corpus_name = bool(written) and written[0].isupper()
        if corpus_name or (i > 0 and token[0].isupper()):
            out.append(word)
    return tuple(out)


def _base(word: str) -> str:
    """The word without a plural or feminine ending: américaines -> americain."""
    for suffix in ("s", "x"):
        if word.endswith(suffix) and len(word) > 3:
            word = word[:-1]
            break
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    return _DOUBLED.sub(r"\1", word)


def same_name(query_word: str, passage_word: str) -> bool:
    """Same word up to a plural/feminine ending, or up to a typo of one or two letters
    (tiany/tiani) that keeps the first letter and the length within one."""
    if query_word == passage_word or _base(query_word) == _base(passage_word):
        return True
    limit = max_edits(query_word)
    return (
        limit > 0
        and query_word[0] == passage_word[0]
        and abs(len(query_word) - len(passage_word)) <= 1
        and OSA.distance(query_word, passage_word, score_cutoff=limit) <= limit
    )


def focus_match(
    focus: Sequence[str], terms: Sequence[QueryTerm], passage_words: frozenset[str]
) -> float:
    """Share of the focus's weight the passage names as the same word (1.0 without focus).

    Focus words the corpus has never seen, even corrected, are left out: the `unknown`
    feature already counts them, and an English name may be a name the articles translate.
    """
    weights = {t.word: t.weight for t in terms if t.term}
    known = [w for w in focus if w in weights]
    if not known:
        return 1.0
    total = sum(weights[w] for w in known)
    got = sum(
        weights[w]
        for w in known
        if w in passage_words or any(same_name(w, p) for p in passage_words)
    )
    return got / total if total else 1.0
