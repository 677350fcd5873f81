"""Finds actors by name: the fuzzy look-up behind `/actor` and the autocomplete behind typing.

Both work on folded names, so case, accents and punctuation never matter. Look-up first
tries an exact name or alias, then scores a few candidates (found through the token
vocabulary with rapidfuzz, never by scoring every actor) word by word: every word the user
typed must match a word of the name, exactly or within a typo. That rule is what keeps an
absent "Emmanuel Dupont" from being answered with "Emmanuel Macron", while "Macron",
"emanuel macron" or "Emmanuel" alone still find him. Several close actors make the answer
ambiguous rather than a guess.

Autocomplete answers in tiers, best first, stopping as soon as the list is full: names
starting with the fragment, names with a word starting with it, names containing it, then
typo-tolerant prefixes. Everything it needs is sorted or precomputed, so a keystroke costs
well under two milliseconds for ten thousand actors.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.actors.names import NAME_PARTICLES, key, query_tokens, tokens
from bot.corpus.text import FRENCH_STOP_WORDS

ACCEPT_SCORE = 80.0  # below this nothing is "found"
AMBIGUITY_MARGIN = 5.0  # a second actor this close makes the answer ambiguous
WHOLE_NAME_CUTOFF = 85.0  # whole-name similarity that counts on its own
PREFIX_SCORE = 86.0  # "abdou" for "Abdourahamane": a clear start of a name word
TYPO_COST = 10.0  # score lost per typo in a word
CANDIDATE_CUTOFF = 70.0  # loose similarity to gather words worth checking for typos
MAX_CANDIDATES = 10
MAX_SUGGESTIONS = 5
SUGGESTION_CUTOFF = 60.0
WORD_CLOSENESS = 0.95  # a shared word makes names close, a bit less than the whole name
LIKE_WORD = 50.0  # "fee" for "phee": a word misspelt by ear, unlike "dupont" for "macron"
_UNBOUNDED = "\U0010ffff"
_WIDE_RANGE = 400  # prefix ranges wider than this are walked in popularity order instead
_MAX_PREFIX = 12  # typed text longer than this is compared with whole names


@dataclass(frozen=True, slots=True)
class SearchResult:
    """Indices of actors: `found` is one index or None; `candidates` when ambiguous."""

    found: int | None
    candidates: tuple[int, ...] = ()
    suggestions: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class _Key:
    actor: int
    text: str  # folded, tokens joined by spaces
    tokens: tuple[str, ...]
    content: tuple[str, ...]  # tokens minus grammatical words
    name_words: frozenset[str]  # words a partial query may match: capitalised name words

    def words_for(self, typed: int) -> frozenset[str]:
        """Words a query of `typed` words may match: all of them for a full name, only
        the capitalised name words for a partial one ("Campbell", not "américain")."""
        if typed >= len(self.content):
            return frozenset(self.content)
        return self.name_words


def max_typos(word: str) -> int:
    """Typos (OSA edits: a wrong, missing, extra or swapped letter) a typed word may hold.

    Counted in edits, not similarity, so "Mahamat" (two edits) does not reach the Premier
    ministre "Mahamane", and short names ("Phee", "Kurt") must be exact: one letter off
    is already someone else ("Rhee")."""
    if len(word) <= 4:
        return 0
    return 1 if len(word) <= 7 else 2


def token_cutoff(word: str) -> float:
    """How close a typed word must be to a name word: short words must be exact."""
    if len(word) <= 3:
        return 100.0
    if len(word) == 4:
        return 75.0
    return 80.0


class _Vocabulary:
    """Distinct strings (whole names or name words) and the actors owning each.

    Sorted for prefix ranges; bucketed by first and second letter so a fuzzy comparison
    only scores strings that share one of the probe's first two letters (a typo rarely
    hits both), which keeps it proportional to a bucket, not to the directory.
    """

    def __init__(self, owners: dict[str, set[int]]) -> None:
        self.texts = sorted(owners)
        self.owners = [tuple(sorted(owners[t])) for t in self.texts]
        self.index = {t: i for i, t in enumerate(self.texts)}
        buckets: dict[tuple[int, str], list[int]] = {}
        for i, t in enumerate(self.texts):
            for position in range(min(2, len(t))):
                buckets.setdefault((position, t[position]), []).append(i)
        self._buckets = buckets
        self._near_cache: dict[str, list[int]] = {}
        self._prefix_cache: dict[tuple[str, int], list[str]] = {}
        starts, pos = [], 0
        for t in self.texts:
            starts.append(pos)
            pos += len(t) + 1
        self._joined = "\n".join(self.texts)
        self._starts = starts

    def prefixed(self, prefix: str) -> range:
        lo = bisect_left(self.texts, prefix)
        return range(lo, bisect_left(self.texts, prefix + _UNBOUNDED, lo))

    def _neighbourhood(self, probe: str) -> list[int]:
        """Strings sharing the probe's first letter or its second one (cached per pair)."""
        head = probe[:2]
        cached = self._near_cache.get(head)
        if cached is None:
            found = set(self._buckets.get((0, head[0]), ()))
            if len(head) > 1:
                found.update(self._buckets.get((1, head[1]), ()))
            cached = sorted(found)
            if len(self._near_cache) < 4096:
                self._near_cache[head] = cached
        return cached

    def _beginnings(self, first: str, length: int) -> list[str]:
        """The strings starting with `first`, cut to `length` characters (cached: this is
        the hot path of autocomplete, and at most letters × MAX_PREFIX lists exist)."""
        cached = self._prefix_cache.get((first, length))
        if cached is None:
            cached = [self.texts[i][:length] for i in self._buckets.get((0, first), ())]
            self._prefix_cache[(first, length)] = cached
        return cached

    def near(self, probe: str, cutoff: float, limit: int) -> list[tuple[int, float]]:
        """(string index, score) of the strings closest to `probe`."""
        if not probe:
            return []
        rows = self._neighbourhood(probe)
        choices = [self.texts[i] for i in rows]
        found = process.extract(probe, choices, scorer=fuzz.ratio, score_cutoff=cutoff, limit=limit)
        return [(rows[j], score) for _, score, j in found]

    def near_start(self, probe: str, cutoff: float, limit: int) -> list[tuple[int, float]]:
        """Like `near`, comparing the probe with the beginning of each string, for text
        still being typed. Only strings with the probe's first letter are considered."""
        if not probe:
            return []
        length = len(probe) + 1 if len(probe) < _MAX_PREFIX else 10_000
        rows = self._buckets.get((0, probe[0]), [])
        choices = self._beginnings(probe[0], length)
        found = process.extract(probe, choices, scorer=fuzz.ratio, score_cutoff=cutoff, limit=limit)
        return [(rows[j], score) for _, score, j in found]

    def containing(self, text: str, limit: int) -> list[int]:
        """Indices of strings containing `text`, found with C-speed `str.find`."""
        out: list[int] = []
        pos = self._joined.find(text)
        while pos != -1 and len(out) < limit:
            row = bisect_left(self._starts, pos + 1) - 1
            out.append(row)
            pos = self._joined.find(text, self._starts[row] + len(self.texts[row]) + 1)
        return out


class NameIndex:
    """Look-up and autocomplete over actors' names and aliases.

    `labels[i]` are the ways actor i is written (name first); `weights[i]` orders equally
    good answers (the number of mentions).
    """

    def __init__(
        self, names: Sequence[str], labels: Sequence[Iterable[str]], weights: Sequence[int]
    ) -> None:
        self.names = list(names)
        self.weights = list(weights)
        self.actor_keys: list[list[_Key]] = [[] for _ in self.names]
        key_owners: dict[str, set[int]] = {}
        word_owners: dict[str, set[int]] = {}
        for actor, actor_labels in enumerate(labels):
            for label in actor_labels:
                toks = tuple(tokens(label))
                text = " ".join(toks)
                if not toks or (text in key_owners and actor in key_owners[text]):
                    continue
                content = tuple(t for t in toks if t not in FRENCH_STOP_WORDS) or toks
                self.actor_keys[actor].append(_Key(actor, text, toks, content, _name_words(label)))
                key_owners.setdefault(text, set()).add(actor)
                for word in toks:
                    word_owners.setdefault(word, set()).add(actor)
        self.keys = _Vocabulary(key_owners)
        self.words = _Vocabulary(word_owners)
        self.actor_words = [
            tuple({t for k in actor_keys for t in k.tokens}) for actor_keys in self.actor_keys
        ]
        # Popularity order: most mentioned first, then alphabetical.
        order = sorted(range(len(self.names)), key=lambda i: (-self.weights[i], key(self.names[i])))
        self.rank = [0] * len(self.names)
        for position, actor in enumerate(order):
            self.rank[actor] = position
        self.popular = order

    # -- look-up -------------------------------------------------------------------------

    def search(self, query: str) -> SearchResult:
        qt = query_tokens(query)
        if not qt:
            return SearchResult(None, suggestions=tuple(self.popular[:MAX_SUGGESTIONS]))
        qtext = " ".join(qt)
        exact = set(self._owners_of_key(" ".join(tokens(query)))) | set(self._owners_of_key(qtext))
        if len(exact) == 1:
            return SearchResult(next(iter(exact)))
        if len(exact) > 1:
            return SearchResult(None, candidates=self._by_rank(exact)[:MAX_CANDIDATES])
        scores = {a: self._score(qt, qtext, a) for a in self._candidates(qt, qtext)}
        ranked = sorted(
            ((s, a) for a, s in scores.items() if s >= ACCEPT_SCORE),
            key=lambda sa: (-sa[0], self.rank[sa[1]]),
        )
        if not ranked:
            suggestions = self._suggest(qt, qtext)
            single = self._single_good(qt, qtext, suggestions)
            if single is not None:
                return SearchResult(single)
            return SearchResult(None, suggestions=suggestions)
        best = ranked[0][0]
        close = [a for s, a in ranked if s >= best - AMBIGUITY_MARGIN]
        if len(close) == 1:
            return SearchResult(close[0])
        return SearchResult(None, candidates=tuple(close[:MAX_CANDIDATES]))

    def _owners_of_key(self, text: str) -> tuple[int, ...]:
        i = self.keys.index.get(text)
        return self.keys.owners[i] if i is not None else ()

    def _candidates(self, qt: list[str], qtext: str) -> set[int]:
        """Actors worth scoring: sharing a word, a close word, a word start or the name."""
        words = self.words
        found: set[int] = set()
        for word in qt:
            rows = [i for i, _ in words.near(word, CANDIDATE_CUTOFF, 50)] if max_typos(word) else []
            if len(word) >= 4:
                rows.extend(words.prefixed(word)[:50])
            for i in rows:
                found.update(words.owners[i])
        for i, _ in self.keys.near(qtext, WHOLE_NAME_CUTOFF, 20):
            found.update(self.keys.owners[i])
        return found

    def _score(self, qt: list[str], qtext: str, actor: int) -> float:
        return max((_key_score(qt, qtext, k) for k in self.actor_keys[actor]), default=0.0)

    def _suggest(self, qt: list[str], qtext: str) -> tuple[int, ...]:
        """Closest names, even when none is close enough to answer with: by whole-name
        similarity or by the best pair of words ("Emmanuel Dupont" → Emmanuel Macron)."""
        pool: set[int] = set()
        for word in qt:
            for i, _ in self.words.near(word, 50, 10):
                pool.update(self.words.owners[i])
        for i, _ in self.keys.near(qtext, 40, 10):
            pool.update(self.keys.owners[i])
        scored = {a: self._closeness(qt, qtext, a) for a in pool}
        ranked = sorted(scored, key=lambda a: (-scored[a], self.rank[a]))
        good = [a for a in ranked if scored[a] >= SUGGESTION_CUTOFF]
        return tuple((good or ranked[:3])[:MAX_SUGGESTIONS])

    def _single_good(self, qt: list[str], qtext: str, suggestions: Sequence[int]) -> int | None:
        """The one suggestion that shares a whole name word with the query while every other
        query word sounds like one of its words ("Molly Fee" → Molly Phee, "Ali" → Ali
        Mahamane Lamine Zeine), when no other suggestion shares a word: offering it as
        the only candidate of a "no match" answered nothing ("Emmanuel Dupont" still
        resolves to no one, "dupont" being like no word of Emmanuel Macron)."""
        sharing = [a for a in suggestions if self._shares_a_name_word(qt, a)]
        if len(sharing) != 1:
            return None
        actor = sharing[0]
        words = {w for k in self.actor_keys[actor] for w in k.content}
        if all(max((fuzz.ratio(q, w) for w in words), default=0.0) >= LIKE_WORD for q in qt):
            return actor
        return None

    def _shares_a_name_word(self, qt: list[str], actor: int) -> bool:
        """A query word is a capitalised word of the actor's name ("américain" in
        "Département d'État américain" describes it and does not count)."""
        return any(q in k.name_words for k in self.actor_keys[actor] for q in qt)

    def _closeness(self, qt: list[str], qtext: str, actor: int) -> float:
        best = 0.0
        for k in self.actor_keys[actor]:
            best = max(best, fuzz.ratio(qtext, k.text))
            for q in qt:
                for w in k.content:
                    best = max(best, fuzz.ratio(q, w) * WORD_CLOSENESS)
        return best

    def _by_rank(self, actors: Iterable[int]) -> tuple[int, ...]:
        return tuple(sorted(actors, key=self.rank.__getitem__))

    # -- autocomplete --------------------------------------------------------------------

    def complete(self, fragment: str, limit: int = 25) -> list[int]:
        limit = max(0, min(limit, 100))
        toks = tokens(fragment)
        if not limit:
            return []
        if not toks:
            return self.popular[:limit]
        text = " ".join(toks)
        out: list[int] = []
        seen: set[int] = set()

        def take(actors: Iterable[int]) -> bool:
            for a in actors:
                if a not in seen:
                    seen.add(a)
                    out.append(a)
                    if len(out) >= limit:
                        return True
            return False

        # 1. a name or alias starting with the fragment
        if take(self._starting(self.keys, text, limit)):
            return out
        # 2. a word of a name starting with each typed word ("tia", "ali zei")
        longest = max(toks, key=len)
        if take(
            a for a in self._starting(self.words, longest, limit * 4) if self._words_start(a, toks)
        ):
            return out
        # 3. the fragment anywhere inside a name
        if len(text) >= 3:
            rows = self.keys.containing(text, limit * 8)
            if take(self._by_rank({a for i in rows for a in self.keys.owners[i]})):
                return out
        # 4. a typo in the beginning of a name or of one of its words
        if len(text) >= 3:
            take(self._fuzzy_start(text, toks[-1], limit))
        return out

    def _starting(self, vocab: _Vocabulary, prefix: str, limit: int) -> list[int]:
        """Actors owning a string that starts with `prefix`, most mentioned first."""
        rows = vocab.prefixed(prefix)
        if len(rows) <= _WIDE_RANGE:
            return list(self._by_rank({a for i in rows for a in vocab.owners[i]}))
        # Many match: walk actors by popularity instead of sorting the whole range.
        out = []
        for actor in self.popular:
            if any(w.startswith(prefix) for w in self._strings(vocab, actor)):
                out.append(actor)
                if len(out) >= limit:
                    break
        return out

    def _strings(self, vocab: _Vocabulary, actor: int) -> Iterable[str]:
        if vocab is self.keys:
            return (k.text for k in self.actor_keys[actor])
        return self.actor_words[actor]

    def _words_start(self, actor: int, toks: list[str]) -> bool:
        words = self.actor_words[actor]
        return all(any(w.startswith(t) for w in words) for t in toks)

    def _fuzzy_start(self, text: str, last: str, limit: int) -> list[int]:
        scored: dict[int, float] = {}
        probes = [(self.keys, text)] + ([(self.words, last)] if len(last) >= 3 else [])
        for vocab, probe in probes:
            cutoff = token_cutoff(probe) - 5
            for i, score in vocab.near_start(probe, cutoff, limit * 2):
                for actor in vocab.owners[i]:
                    scored[actor] = max(score, scored.get(actor, 0.0))
        return sorted(scored, key=lambda a: (-scored[a], self.rank[a]))


def _name_words(label: str) -> frozenset[str]:
    """Words of a label that identify the actor alone: capitalised and not grammatical.

    "Kurt Campbell" gives both words; "département d'État américain" only "etat", so
    "/actor américain" does not answer with the State Department.
    """
    out = set()
    for word in label.replace("-", " ").replace("'", " ").replace("’", " ").split():
        folded = key(word)
        if not folded or " " in folded:
            continue
        if folded in FRENCH_STOP_WORDS or folded in NAME_PARTICLES:
            continue
        if word[:1].isupper() or word[:1].isdigit():
            out.add(folded)
    return frozenset(out)


def _key_score(qt: list[str], qtext: str, k: _Key) -> float:
    """How well a query names this key: whole-name similarity, or every typed word
    matching its own word of the name (exactly, as a clear prefix, or within a typo)."""
    if qt == list(k.tokens) or qt == list(k.content):
        return 100.0
    whole = fuzz.ratio(qtext, " ".join(k.content))
    best = whole if whole >= WHOLE_NAME_CUTOFF else 0.0
    free = set(k.words_for(len(qt)))
    total = 0.0
    for q in qt:
        score, match = 0.0, None
        for w in free:
            s = _word_score(q, w)
            if s > score:
                score, match = s, w
        if match is None:
            return best
        free.discard(match)
        total += score
    return max(best, total / len(qt))


def _word_score(q: str, w: str) -> float:
    """100 for the same word, less for a clear start of it or each typo, 0 beyond."""
    if q == w:
        return 100.0
    if len(q) >= 4 and w.startswith(q):
        return PREFIX_SCORE
    allowed = max_typos(q)
    if not allowed:
        return 0.0
    typos = OSA.distance(q, w, score_cutoff=allowed)
    return 100.0 - TYPO_COST * typos if typos <= allowed else 0.0
