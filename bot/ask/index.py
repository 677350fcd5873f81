"""The search index: ranked retrieval of sections, tolerant of typos and missing accents.

Two stages, the way a search engine does it:

1. Recall, over postings only: BM25 over stems of the folded content words of title,
   heading and body; BM25 over stem bigrams (questions often copy a phrase); and BM25 over
   whole articles (a question names the article's subject even when the section it wants
   does not repeat it).
2. Precision, over the best `CANDIDATES` of that: BM25 over character 4-grams of the words
   (inflections the stemmer misses, typos the corrector could not fix), a proximity score
   (the question's words close together) and rapidfuzz's token_set_ratio.

Each signal is divided by its best score before the linear fusion, so the weights mean the
same on a tiny corpus and a huge one. Query cost follows the postings of the question's
terms plus a fixed number of candidates.

A long query (a pasted headline and lead, an abstract: 30 to 100 words) is weighed
otherwise: its words are spread over the sections of its article, so the article's BM25
leads and the passage-level signals, tuned on questions, count for less (see
`long_query_share`).

Fuzziness also lives in the query analysis: a query word the corpus has never seen is
corrected against the corpus vocabulary with rapidfuzz (OSA distance), scanning only words
of a similar length that start with the same letter.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import overload

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.corpus.model import Article, Paragraph, Section, Sentence
from bot.corpus.progress import Progress, no_progress
from bot.corpus.text import FRENCH_STOP_WORDS, content_words, stem

from . import index_data
from .index_data import BIGRAM_SHIFT, IndexData, char_ngrams, spelling_groups
from .postings import B, bm25_scores, idf, length_norm

log = logging.getLogger(__name__)

# Fusion weights; the word BM25 weighs 1. Tuned on PIAF with benchmarks/retrieval.py.
BIGRAM_WEIGHT = 0.3
ARTICLE_WEIGHT = 1.0
NGRAM_WEIGHT = 1.5
PROXIMITY_WEIGHT = 0.8
FUZZY_WEIGHT = 0.5
# Passages re-scored by the precise signals: the first stage has ~95% recall at 50 on PIAF.
CANDIDATES = 50
# Removed articles' passages stay in the arrays (skipped) until they are this share of the
# index; past it, an update rebuilds from the live articles.
COMPACT_SHARE = 0.2
WINDOW = 8  # proximity: query words counted together within this many content words
# Weight of a corrected (typo) term relative to an exact one.
CORRECTED_WEIGHT = 0.85
# Weight of question-frame words ("en quelle année", "quel est le nom de").
FRAME_WEIGHT = 0.5
# Distinct words of a question that are looked at: user text is untrusted, and each unknown
# word costs a vocabulary scan; no real question comes near this.
MAX_QUERY_WORDS = 64
# 4-grams saturate faster: a word's grams repeat with every repetition of the word.
NGRAM_K1 = 0.5
# Long queries, by their number of distinct matched terms: the weights above up to
# LONG_FROM (PIAF's questions have at most 13 content words, 99% at most 10), the ones
# below from LONG_TO (a 30-word query has about 18), linear in between. Tuned on long
# queries of a generated 20,000-article corpus (benchmarks/long_queries.py, seed 1).
LONG_FROM = 12
LONG_TO = 24
LONG_ARTICLE_WEIGHT = 3.0
LONG_BIGRAM_WEIGHT = 0.0
LONG_PRECISION_SCALE = 0.5  # of the 4-gram, proximity and fuzzy weights
LONG_CANDIDATES = 20
# From this share on, hits are articles, each by its best section: otherwise the runner-up
# of a long query is a sibling section, and the answer's confidence (its margin over the
# runner-up) sank with the article weight: answered 0.577 -> 0.540 of long queries.
LONG_DISTINCT_SHARE = 0.5

# Words that say what kind of answer is wanted rather than what it is about: in a question
# they are frame far more often than topic, so they count for less (never for nothing).
_FRAME_WORDS = """
    nom noms nomme nommee appelle appelee appeles appelait appellent surnom date dates
    annee annees jour lieu lieux endroit raison raisons cause causes consequence
    consequences role fonction type types sorte nationalite origine origines evenement
    evenements moment epoque periode situe situee trouve trouvent nombre quantite
    pourcentage signifie signification definition exemple
""".split()
FRAME_STEMS: frozenset[str] = frozenset(stem(w) for w in _FRAME_WORDS)


@dataclass(frozen=True, slots=True)
class Passage:
    """A section as the index sees it: where it comes from and its sentences in order."""

    article: Article
    section: Section
    sentence_start: int  # index of its first sentence in SearchIndex.sentences
    sentence_end: int


@dataclass(frozen=True, slots=True)
class QueryTerm:
    word: str  # the folded query word
    term: str  # the index stem it maps to ("" when nothing matched)
    weight: float  # idf-like importance, known even when unmatched
    corrected_from: str | None = None  # set when `term` came from a fuzzy correction


@dataclass(frozen=True, slots=True)
class Hit:
    passage: int
    score: float


def long_query_share(matched_terms: int) -> float:
    """How long a query is, from 0 (a question) to 1 (a pasted paragraph), by its number
    of distinct matched terms.

    A long query's words come from several sections of its article, and the passage-level
    signals reward instead the one section, of any article, where most of them meet: on
    headline-and-sentences queries at 20,000 articles, raising the article's weight from 1
    to 3 and dropping bigrams took top-1 from 0.977 to 0.992 (0.880 to 0.937 without the
    headline), and the precision signals on 20 candidates, not 50, cost half as much.
    """
    return min(1.0, max(0.0, (matched_terms - LONG_FROM) / (LONG_TO - LONG_FROM)))


def _blend(question: float, long: float, share: float) -> float:
    return question + share * (long - question)


def max_edits(word: str) -> int:
    """Typos tolerated for a word of this length: none for short words (too ambiguous)."""
    n = len(word)
    if n < 4:
        return 0
    if n < 7:
        return 1
    return 2


class _WordCounts(Mapping[str, int]):
    """Live occurrences of each word, read from the index's arrays: a dict of the
    vocabulary would be rebuilt (0.25 s at 20,000 articles) on every update."""

    def __init__(self, ids: Mapping[str, int], counts: np.ndarray) -> None:
        self._ids = ids
        self._counts = counts

    def __getitem__(self, word: str) -> int:
        i = self._ids.get(word)
        if i is None or self._counts[i] <= 0:
            raise KeyError(word)
        return int(self._counts[i])

    def __contains__(self, word: object) -> bool:
        i = self._ids.get(word) if isinstance(word, str) else None
        return i is not None and bool(self._counts[i] > 0)

    def __iter__(self) -> Iterator[str]:
        counts = self._counts
        return (w for w, i in self._ids.items() if counts[i] > 0)

    def __len__(self) -> int:
        return int(np.count_nonzero(self._counts > 0))


class Vocabulary:
    """Surface words of the corpus with their frequencies, bucketed for typo correction.

    Buckets are keyed by (first letter, length): typos rarely hit the first letter and an
    edit distance of k only reaches words within k of the length, so a correction scans a
    few thousand words even when the corpus has hundreds of thousands.
    """

    def __init__(
        self,
        word_counts: Mapping[str, int],
        groups: Callable[[], Mapping[tuple[str, int], Sequence[str]]] | None = None,
    ) -> None:
        """`groups` gives the words of each (first letter, length), live or not, when the
        index has them; it is asked on the first correction, and the buckets are sorted
        from it on demand."""
        self.counts = word_counts
        self._groups_of = groups
        self._groups: Mapping[tuple[str, int], Sequence[str]] | None = None
        self._buckets: dict[tuple[str, int], list[str]] = {}
        self._lock = threading.Lock()

    def _bucket(self, key: tuple[str, int]) -> list[str]:
        """Live words of one (first letter, length), most frequent first so that ties in
        edit distance go to the common word. Sorted on the first correction that needs
        them: sorting the whole vocabulary took 1.5 s at 20,000 articles, once per update."""
        with self._lock:
            found = self._buckets.get(key)
        if found is None:
            if self._groups is None:
                made = self._groups_of() if self._groups_of else None
                self._groups = made if made is not None else spelling_groups(list(self.counts))
            counts = self.counts
            found = sorted(
                (w for w in self._groups.get(key, ()) if w in counts),
                key=lambda w: (-counts[w], w),
            )
            with self._lock:
                self._buckets[key] = found
        return found

    def __contains__(self, word: object) -> bool:
        return word in self.counts

    def __len__(self) -> int:
        return len(self.counts)

    def correct(self, word: str) -> str | None:
        """Closest corpus word within the tolerated number of edits, or None."""
        limit = max_edits(word)
        if limit == 0:
            return None
        best: tuple[tuple[int, int], str] | None = None
        for length in range(len(word) - limit, len(word) + limit + 1):
            candidates = self._bucket((word[0], length))
            if not candidates:
                continue
            found = process.extractOne(word, candidates, scorer=OSA.distance, score_cutoff=limit)
            if found is None:
                continue
            candidate, distance, _ = found
            rank = (int(distance), -self.counts[candidate])
            if best is None or rank < best[0]:
                best = (rank, candidate)
        return best[1] if best else None


class PassageTable(Sequence[Passage]):
    """The index's passages, each made when asked for: building 100,000 `Passage`s took
    0.75 s of every warm start, and a question looks at a few dozen."""

    def __init__(
        self, slots: Sequence[Article], data: IndexData, starts: np.ndarray, ends: np.ndarray
    ) -> None:
        self._slots = slots
        self._article = data.passage_article
        self._section = data.passage_section
        self._starts = starts
        self._ends = ends

    def __len__(self) -> int:
        return len(self._article)

    @overload
    def __getitem__(self, i: int) -> Passage: ...
    @overload
    def __getitem__(self, i: slice) -> list[Passage]: ...
    def __getitem__(self, i: int | slice) -> Passage | list[Passage]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        p = range(len(self))[i]
        article = self._slots[int(self._article[p])]
        section = article.sections[int(self._section[p])]
        return Passage(article, section, int(self._starts[p]), int(self._ends[p]))


class SentenceTerms(Sequence[frozenset[str]]):
    """Stems of each sentence plus its section heading, computed on demand.

    A frozenset per sentence would cost hundreds of megabytes on a large corpus; the
    index already holds every sentence's words, so this view rebuilds a set when asked.
    """

    def __init__(self, index: SearchIndex) -> None:
        self._index = index

    def __len__(self) -> int:
        return len(self._index.sentences)

    @overload
    def __getitem__(self, i: int) -> frozenset[str]: ...
    @overload
    def __getitem__(self, i: slice) -> list[frozenset[str]]: ...
    def __getitem__(self, i: int | slice) -> frozenset[str] | list[frozenset[str]]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return self._index._sentence_stems(range(len(self))[i])


class SearchIndex:
    """Sections and sentences of a corpus, indexed for ranked retrieval.

    Every passage is stored once, as the word ids of its title, heading and body in one
    flat array (`IndexData`); the statistics of BM25 are applied at query time, so
    `updated` can add and remove articles without rebuilding the rest.
    """

    def __init__(self, articles: Sequence[Article], progress: Progress = no_progress) -> None:
        """`progress` hears (articles read, articles): reading is most of a build."""
        started = time.perf_counter()
        articles = list(articles)
        self._setup(index_data.read(articles, progress=progress), articles)
        self.build_seconds = time.perf_counter() - started
        log.info(
            "indexed %d sections (%d words, %d stems) in %.1fs",
            len(self.passages),
            len(self._words),
            len(self._stem_ids),
            self.build_seconds,
        )

    @classmethod
    def from_data(cls, data: IndexData, slots: Sequence[Article | None]) -> SearchIndex:
        """An index over arrays read earlier; `slots` are the articles of
        `data.article_keys` in order, None for a dead slot (never shown)."""
        index = cls.__new__(cls)
        index._setup(
            data, [a if a is not None else _tombstone(data, i) for i, a in enumerate(slots)]
        )
        index.build_seconds = 0.0
        return index

    def updated(self, added: Sequence[Article], removed: Iterable[str]) -> SearchIndex:
        """A new index: this one without the articles whose ids are in `removed`, plus
        `added`. This index is unchanged and keeps serving. When dead passages would pass
        `COMPACT_SHARE` of the index, it is rebuilt from the live articles instead."""
        started = time.perf_counter()
        gone = set(removed)
        slots = [
            i for i, a in enumerate(self._slots) if a.id in gone and self.data.article_alive[i]
        ]
        data = index_data.without(self.data, slots) if slots else self.data
        dead = data.dead
        total = data.passages + sum(len(a.sections) for a in added)
        if total and dead / total > COMPACT_SHARE:
            live = [a for i, a in enumerate(self._slots) if data.article_alive[i]]
            return SearchIndex([*live, *added])
        if added:
            data = index_data.merge(data, index_data.read(added, data))
        index = SearchIndex.__new__(SearchIndex)
        index._setup(data, [*self._slots, *added], len(self.passages), self.sentences)
        index.build_seconds = time.perf_counter() - started
        log.info(
            "index updated: %d added, %d removed in %.2fs (%d dead sections)",
            len(added), len(slots), index.build_seconds, data.dead,
        )  # fmt: skip
        return index

    def _setup(
        self,
        data: IndexData,
        slots: Sequence[Article],
        known: int = 0,
        sentences: Sequence[Sentence] = (),
    ) -> None:
        """Views and norms over `data`; the `sentences` of its first `known` passages,
        when an update already has them, are reused rather than gathered again."""
        self.data = data
        self._slots = list(slots)
        lex = data.lexicon
        self._words = lex.words
        self._stem_ids = lex.stem_ids
        self._stem_names = lex.stems
        self._gram_ids = lex.gram_ids
        self._word_stem = lex.word_stem
        self._tokens = data.tokens
        self._passage_start = data.passage_start
        self._heading_start = data.heading_start
        self._body_start = data.body_start
        self._sentence_start = data.sentence_start
        self._sentence_end = data.sentence_end
        self.sentence_passage = data.sentence_passage
        self._passage_article = data.passage_article
        self.articles = [a for i, a in enumerate(self._slots) if data.article_alive[i]]
        self.sentences: list[Sentence] = list(sentences)
        sections = [
            self._slots[a].sections[s]
            for a, s in zip(
                data.passage_article[known:].tolist(),
                data.passage_section[known:].tolist(),
                strict=True,
            )
        ]
        # One C-level pass over the paragraphs: appending 500,000 sentences one section
        # at a time took 0.6 s of a warm start at 20,000 articles.
        self.sentences.extend(
            chain.from_iterable(p.sentences for section in sections for p in section.paragraphs)
        )
        counts = np.bincount(data.sentence_passage, minlength=data.passages)
        ends = np.cumsum(counts)
        self.passages: Sequence[Passage] = PassageTable(self._slots, data, ends - counts, ends)
        self.sentence_terms: Sequence[frozenset[str]] = SentenceTerms(self)
        live = int(data.alive.sum())
        self._n = max(live, 1)
        self._n_articles = max(int(data.article_alive.sum()), 1)
        self._max_idf = float(np.log(1 + (self._n + 0.5) / 0.5))
        self._dead = None if live == data.passages else ~data.alive
        self._dead_articles = None if data.article_alive.all() else ~data.article_alive
        self._df = data.word_df
        passage_length = np.diff(data.passage_start).astype(np.float32)
        self._word_norm = length_norm(passage_length, data.alive)
        self._bigram_norm = length_norm(data.bigram_length, data.alive)
        self._article_norm = length_norm(data.article_length, data.article_alive)
        self._gram_length = data.gram_length
        live_grams = data.gram_length[data.alive]
        self._gram_avg = float(live_grams.mean()) if len(live_grams) else 1.0
        gram_words = index_data.Lexicon.word_grams(lex).T.tocsr() if lex.words else None
        self._gram_words = gram_words
        self.vocabulary = Vocabulary(
            _WordCounts(lex.word_ids, data.word_counts), lex.spelling_groups
        )

    # -- public API -------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.passages)

    @property
    def dead_share(self) -> float:
        """Share of the passages that belong to removed articles (until the next build)."""
        return self.data.dead / max(self.data.passages, 1)

    @property
    def max_idf(self) -> float:
        """The idf of a term no passage contains: the most a question word can weigh."""
        return self._max_idf

    def idf(self, term: str) -> float:
        """BM25 idf; terms absent from the corpus get the highest idf there can be."""
        i = self._stem_ids.get(term)
        return self._idf(int(self._df[i]) if i is not None else 0)

    def _idf(self, df: int) -> float:
        return float(np.log(1 + (self._n - df + 0.5) / (df + 0.5)))

    def analyse(self, question: str) -> list[QueryTerm]:
        """Map the question's content words to index terms, correcting typos."""
        out: list[QueryTerm] = []
        seen: set[str] = set()
        for word in content_words(question):
            if word in seen:
                continue
            if len(seen) >= MAX_QUERY_WORDS:
                break
            seen.add(word)
            term = stem(word)
            if term in self._stem_ids:
                out.append(QueryTerm(word, term, self.idf(term)))
                continue
            corrected = None if word[0].isdigit() else self.vocabulary.correct(word)
            if corrected is not None and corrected not in FRENCH_STOP_WORDS:
                cterm = stem(corrected)
                if cterm in self._stem_ids:
                    out.append(QueryTerm(word, cterm, self.idf(cterm), corrected_from=word))
                    continue
            out.append(QueryTerm(word, "", self._max_idf))
        return out

    def search(
        self, terms: Sequence[QueryTerm], k: int = 5, question: str | None = None
    ) -> list[Hit]:
        """Best `k` passages for the analysed question, best first.

        `question` (the raw text) lets the 4-gram, bigram and fuzzy signals see every word
        in its place, including words that matched no index term; without it the terms'
        words stand in for it.
        """
        weights = self._weights(terms)
        if not weights or k <= 0 or not self.passages:
            return []
        words = content_words(question) if question is not None else [t.word for t in terms]
        words = words[: 4 * MAX_QUERY_WORDS]
        data = self.data
        n_passages = len(self.passages)
        word_idf = _idfs(data.word_df, weights, self._n)
        long = long_query_share(len(weights))
        # Dead passages (removed articles) are zeroed before each signal is normalised,
        # so the scores are those of an index rebuilt without them.
        dead, dead_articles = self._dead, self._dead_articles
        first = _normalised(
            bm25_scores(data.word_postings, weights, word_idf, self._word_norm, n_passages),
            dead,
        )
        bigram_weight = _blend(BIGRAM_WEIGHT, LONG_BIGRAM_WEIGHT, long)
        bigrams = self._query_bigrams(words, terms) if bigram_weight > 0 else {}
        if bigrams:
            bigram_idf = _idfs(data.bigram_df, bigrams, self._n)
            first += bigram_weight * _normalised(
                bm25_scores(
                    data.bigram_postings, bigrams, bigram_idf, self._bigram_norm, n_passages
                ),
                dead,
            )
        article_idf = _idfs(data.article_df, weights, self._n_articles)
        articles = bm25_scores(
            data.article_postings, weights, article_idf, self._article_norm, len(self._slots)
        )
        article_weight = _blend(ARTICLE_WEIGHT, LONG_ARTICLE_WEIGHT, long)
        first += article_weight * _normalised(articles, dead_articles)[self._passage_article]
        if dead is not None:
            first[dead] = 0

        candidates = _top(first, max(k, round(_blend(CANDIDATES, LONG_CANDIDATES, long))))
        candidates = candidates[first[candidates] > 0]
        if not len(candidates):
            return []
        score = first[candidates].astype(np.float64)
        precision = _blend(1.0, LONG_PRECISION_SCALE, long)
        if precision > 0:
            score += precision * NGRAM_WEIGHT * _normalised(self._ngram_scores(candidates, words))
            idf_weights = {s: w * self._idf(int(self._df[s])) for s, w in weights.items()}
            proximity = _normalised(self._proximity(candidates, idf_weights))
            score += precision * PROXIMITY_WEIGHT * proximity
            score += precision * FUZZY_WEIGHT * _normalised(self._fuzzy(candidates, words))
        order = np.argsort(-score, kind="stable")
        if long >= LONG_DISTINCT_SHARE:
            order = _first_per_group(order, self._passage_article[candidates[order]])
        return [Hit(int(candidates[i]), float(score[i])) for i in order[:k]]

    def passages_with(self, word: str, limit: int) -> list[int]:
        """Up to `limit` live passages whose words include `word`'s stem, in corpus order."""
        sid = self._stem_ids.get(stem(word)) if word else None
        if sid is None:
            return []
        postings = self.data.word_postings
        lo, hi = int(postings.indptr[sid]), int(postings.indptr[sid + 1])
        found = postings.indices[lo:hi]
        if self._dead is not None:
            found = found[~self._dead[found]]
        return found[:limit].tolist()

    def passage_words(self, passage: int) -> frozenset[str]:
        """Folded content words of the passage's title, headings and body, unstemmed: what
        tells a name apart from a word that merely shares its stem (France, française)."""
        start, end = self._passage_start[passage], self._passage_start[passage + 1]
        names = self._words
        return frozenset(names[w] for w in self._tokens[start:end].tolist())

    def sentence_range(self, passage: int) -> range:
        p = self.passages[passage]
        return range(p.sentence_start, p.sentence_end)

    # -- scoring ----------------------------------------------------------------------

    def _weights(self, terms: Iterable[QueryTerm]) -> dict[int, float]:
        """Query weight of each matched stem id: corrections and frame words count less."""
        weights: dict[int, float] = {}
        for t in terms:
            sid = self._stem_ids.get(t.term) if t.term else None
            if sid is None:
                continue
            w = CORRECTED_WEIGHT if t.corrected_from else 1.0
            if t.term in FRAME_STEMS:
                w *= FRAME_WEIGHT
            weights[sid] = max(weights.get(sid, 0.0), w)
        return weights

    def _query_bigrams(self, words: Sequence[str], terms: Sequence[QueryTerm]) -> dict[int, float]:
        """Bigram ids of consecutive matched question words (an unmatched word breaks it)."""
        by_word = {t.word: t.term for t in terms}
        keys, ids = self.data.bigram_keys, self.data.bigram_ids
        out: dict[int, float] = {}
        previous: int | None = None
        for word in words:
            term = by_word.get(word)
            if term is None:
                term = stem(word)
            sid = self._stem_ids.get(term) if term else None
            if sid is not None and previous is not None:
                key = previous * BIGRAM_SHIFT + sid
                at = int(np.searchsorted(keys, key))
                if at < len(keys) and keys[at] == key:
                    out[int(ids[at])] = 1.0
            previous = sid
        return out

    def _ngram_scores(self, candidates: np.ndarray, words: Sequence[str]) -> np.ndarray:
        """BM25 of the question's distinct 4-grams in each candidate."""
        grams = {
            gid for w in words for g in char_ngrams(w) if (gid := self._gram_ids.get(g)) is not None
        }
        if not grams or self._gram_words is None:
            return np.zeros(len(candidates))
        rows = np.fromiter(grams, dtype=np.int64, count=len(grams))
        bags = index_data.bags(self._tokens, self._passage_start, candidates, len(self._words))
        tf = (bags @ self._gram_words[rows].T).toarray()
        norm = NGRAM_K1 * (1 - B + B * self._gram_length[candidates] / self._gram_avg)
        return (tf / (tf + norm[:, None])) @ idf(self.data.gram_df[rows], self._n)

    def _proximity(self, candidates: np.ndarray, weights: Mapping[int, float]) -> np.ndarray:
        """Most query weight found within `WINDOW` consecutive content words of a passage.

        Title words sit apart from the body (a window never spans both), so the title
        alone scores the same in every section of an article.
        """
        stem_weight = np.zeros(len(self._stem_ids), dtype=np.float64)
        for sid, w in weights.items():
            stem_weight[sid] = w
        out = np.zeros(len(candidates))
        for i, p in enumerate(candidates.tolist()):
            start, end = self._passage_start[p], self._passage_start[p + 1]
            stems = self._word_stem[self._tokens[start:end]]
            hits = np.flatnonzero(stem_weight[stems] > 0)
            if len(hits):
                positions = hits + np.where(hits >= self._body_start[p] - start, WINDOW, 0)
                out[i] = _best_window(positions.tolist(), stems[hits].tolist(), stem_weight)
        return out

    def _fuzzy(self, candidates: np.ndarray, words: Sequence[str]) -> np.ndarray:
        """rapidfuzz token_set_ratio of the question's words against each candidate's."""
        if not words:
            return np.zeros(len(candidates))
        names, starts = self._words, self._passage_start
        texts = [
            " ".join([names[w] for w in self._tokens[starts[p] : starts[p + 1]].tolist()])
            for p in candidates.tolist()
        ]
        ratios = process.cdist([" ".join(words)], texts, scorer=fuzz.token_set_ratio)
        return ratios[0].astype(np.float64)

    def _sentence_stems(self, i: int) -> frozenset[str]:
        p = int(self.sentence_passage[i])
        ids = np.concatenate(
            (
                self._tokens[self._sentence_start[i] : self._sentence_end[i]],
                self._tokens[self._heading_start[p] : self._body_start[p]],
            )
        )
        names = self._stem_names
        return frozenset(names[s] for s in self._word_stem[ids].tolist())


def _best_window(positions: list[int], stems: list[int], weight: np.ndarray) -> float:
    """Largest weight of distinct stems inside any run of `WINDOW` positions."""
    counts: dict[int, int] = {}
    current = best = 0.0
    lo = 0
    for hi, pos in enumerate(positions):
        s = stems[hi]
        if counts.get(s, 0) == 0:
            current += weight[s]
        counts[s] = counts.get(s, 0) + 1
        while positions[lo] <= pos - WINDOW:
            old = stems[lo]
            counts[old] -= 1
            if counts[old] == 0:
                current -= weight[old]
            lo += 1
        best = max(best, current)
    return float(best)


def _first_per_group(order: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """`order` keeping only the first item of each group (`groups[i]` is order[i]'s)."""
    _, first = np.unique(groups, return_index=True)
    return order[np.sort(first)]


def _idfs(df: np.ndarray, terms: Mapping[int, float], n_docs: int) -> dict[int, float]:
    ids = list(terms)
    return dict(zip(ids, idf(df[ids], n_docs).tolist(), strict=True))


def _normalised(scores: np.ndarray, dead: np.ndarray | None = None) -> np.ndarray:
    """Scores divided by the best one, so signals of different scales can be added;
    `dead` documents count for nothing."""
    if dead is not None:
        scores[dead] = 0
    best = float(scores.max()) if len(scores) else 0.0
    return scores / best if best > 0 else scores


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the `k` highest scores, best first (stable on ties)."""
    k = min(k, len(scores))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    top = np.argpartition(-scores, k - 1)[:k]
    return top[np.argsort(-scores[top], kind="stable")]


def _tombstone(data: IndexData, slot: int) -> Article:
    """A removed article's place in the arrays: sections of empty sentences, so passage
    and sentence numbers stay aligned; scoring never returns them."""
    passages = np.flatnonzero(data.passage_article == slot)
    sizes = np.bincount(data.sentence_passage, minlength=data.passages)[passages]
    empty = Sentence("", 0, 0)
    sections = tuple(Section((), (Paragraph("", 0, (empty,) * int(n)),)) for n in sizes.tolist())
    return Article(id=data.article_keys[slot][0], title="", sections=sections)
