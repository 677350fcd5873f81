"""Questions to suggest when declining: short, built from the corpus, each answered.

Candidates come from the passages nearest to the declined question first: "Qu’en est-il
de X ?" for each curated actor the passage names, "Qu’en est-il de « <section> » ?" for its
heading.
A candidate is kept only if the answerer answers it above its threshold *from the passage
it was built from*, so a suggestion never leads to another refusal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice

from bot.ask.index import SearchIndex
from bot.corpus.text import fold, words

MAX_TOPIC_CHARS = 60  # longer headings make questions nobody would type


@dataclass(frozen=True, slots=True)
class Suggestion:
    question: str
    passage: int  # the passage it was built from, and must be answered from


def actor_names(aliases: Mapping[str, str]) -> list[str]:
    """Canonical names of the curated actors, longest first."""
    return sorted(set(aliases.values()), key=len, reverse=True)


def candidates(
    index: SearchIndex,
    passage: int,
    names: Sequence[str],
    display: Callable[[str], str],
) -> list[Suggestion]:
    """The questions passage `passage` could answer, in a stable order."""
    p = index.passages[passage]
    text = " ".join(index.sentences[i].text for i in index.sentence_range(passage))
    folded = f" {' '.join(words(text))} "
    out: list[Suggestion] = []
    for name in names:
        if f" {' '.join(words(name))} " in folded:
            # The directory mixes people, groups and places: "Qui est Burkina Faso ?"
            # would be wrong, this form fits all three.
            out.append(Suggestion(f"Qu’en est-il de {name} ?", passage))
    heading = p.section.heading
    if heading and heading != p.article.title and len(heading) <= MAX_TOPIC_CHARS:
        out.append(Suggestion(f"Qu’en est-il de « {display(heading)} » ?", passage))
    return out


def choose(
    near: Iterable[int],
    build: Callable[[int], list[Suggestion]],
    answers_from: Callable[[str], int | None],
    limit: int,
    budget: int = 6,
    passages: int = 200,
) -> list[str]:
    """Up to `limit` distinct questions, nearest passages first, each checked by asking it
    (`answers_from` gives the passage it is answered from, None when declined). At most
    `budget` candidates are asked and `passages` passages read, so declining stays cheap
    on a large corpus."""
    out: list[str] = []
    asked = 0
    seen: set[str] = set()
    for passage in islice(near, passages):
        for s in build(passage):
            key = fold(s.question)
            if key in seen:
                continue
            seen.add(key)
            if asked >= budget or len(out) >= limit:
                return out
            asked += 1
            if answers_from(s.question) == s.passage:
                out.append(s.question)
    return out
