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

Fuzziness also lives in the query analysis: a query word the corpus has never seen is
corrected against the corpus vocabulary with rapidfuzz (OSA distance), scanning only words
of a similar length that start with the same letter.
"""

from __future__ import annotations

import logging
import time
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import overload

import numpy as np
import scipy.sparse as sp
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.corpus.model import Article, Section, Sentence
from bot.corpus.text import FRENCH_STOP_WORDS, content_words, stem

log = logging.getLogger(__name__)

# Fusion weights; the word BM25 weighs 1. Tuned on PIAF with benchmarks/retrieval.py.
BIGRAM_WEIGHT = 0.3
ARTICLE_WEIGHT = 1.0
NGRAM_WEIGHT = 1.5
PROXIMITY_WEIGHT = 0.8
FUZZY_WEIGHT = 0.5
# Passages re-scored by the precise signals: the first stage has ~95% recall at 50 on PIAF.
CANDIDATES = 50
NGRAM = 4
WINDOW = 8  # proximity: query words counted together within this many content words
# Weight of a corrected (typo) term relative to an exact one.
CORRECTED_WEIGHT = 0.85
# Weight of question-frame words ("en quelle année", "quel est le nom de").
FRAME_WEIGHT = 0.5
K1, B = 1.2, 0.75
# Distinct words of a question that are looked at: user text is untrusted, and each unknown
# word costs a vocabulary scan; no real question comes near this.
MAX_QUERY_WORDS = 64
# 4-grams saturate faster: a word's grams repeat with every repetition of the word.
NGRAM_K1 = 0.5

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


def max_edits(word: str) -> int:
    """Typos tolerated for a word of this length: none for short words (too ambiguous)."""
    n = len(word)
    if n < 4:
        return 0
    if n < 7:
        return 1
    return 2


def char_ngrams(word: str, n: int = NGRAM) -> list[str]:
    """Character n-grams of a word with boundary marks, so prefixes and suffixes count."""
    marked = f"_{word}_"
    if len(marked) <= n:
        return [marked]
    return [marked[i : i + n] for i in range(len(marked) - n + 1)]


class Vocabulary:
    """Surface words of the corpus with their frequencies, bucketed for typo correction.

    Buckets are keyed by (first letter, length): typos rarely hit the first letter and an
    edit distance of k only reaches words within k of the length, so a correction scans a
    few thousand words even when the corpus has hundreds of thousands.
    """

    def __init__(self, word_counts: Mapping[str, int]) -> None:
        self.counts = word_counts
        # Most frequent first so that ties in edit distance go to the common word.
        ordered = sorted(word_counts, key=lambda w: (-word_counts[w], w))
        self._buckets: dict[tuple[str, int], list[str]] = {}
        for word in ordered:
            if word and not word[0].isdigit():
                self._buckets.setdefault((word[0], len(word)), []).append(word)

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
            candidates = self._buckets.get((word[0], length))
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


@dataclass(frozen=True, slots=True)
class Postings:
    """A BM25 index stored term-major: term t's documents and scores are [indptr[t], ...)."""

    data: np.ndarray  # float32 BM25 contribution of the term to the document
    indices: np.ndarray  # int32 document
    indptr: np.ndarray  # int64, len = terms + 1
    num_docs: int

    @property
    def document_frequency(self) -> np.ndarray:
        return np.diff(self.indptr)


def bm25_postings(
    docs: np.ndarray, terms: np.ndarray, n_docs: int, n_terms: int, k1: float = K1, b: float = B
) -> Postings:
    """BM25 weights of every (term, document) pair, as bm25s computes them ("lucene").

    Built with one numpy sort instead of bm25s's loop over documents: at 100,000 sections
    that is about a second instead of tens of seconds, and no per-document Python lists.
    """
    n = max(n_docs, 1)
    keys = terms.astype(np.int64)  # (term, doc) pairs as one sortable key, sorted in place
    keys *= n
    keys += docs
    keys.sort()
    first = np.flatnonzero(np.diff(keys, prepend=-1))  # first occurrence of each pair
    tf = np.diff(first, append=len(keys)).astype(np.float32)
    keys = keys[first]
    del first
    term = (keys // n).astype(np.int32)
    doc = (keys % n).astype(np.int32)
    del keys
    df = np.bincount(term, minlength=n_terms)
    length = np.bincount(docs, minlength=n_docs).astype(np.float64)
    avg = float(length.mean()) if n_docs and length.any() else 1.0
    idf = np.log(1 + (n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
    norm = (k1 * (1 - b + b * length / avg)).astype(np.float32)
    data = norm[doc]
    data += tf
    np.divide(tf, data, out=data)
    data *= idf[term]
    indptr = np.zeros(n_terms + 1, dtype=np.int64)
    np.cumsum(df, out=indptr[1:])
    return Postings(data, doc, indptr, n_docs)


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
    flat array; the postings, the 4-gram statistics and the sentence terms derive from it.
    """

    def __init__(self, articles: Sequence[Article]) -> None:
        started = time.perf_counter()
        self.articles = list(articles)
        self.passages: list[Passage] = []
        self.sentences: list[Sentence] = []
        self._read(self.articles)
        self.sentence_terms: Sequence[frozenset[str]] = SentenceTerms(self)
        self._n = max(len(self.passages), 1)
        self._max_idf = float(np.log(1 + (self._n + 0.5) / 0.5))

        counts = np.bincount(self._tokens, minlength=len(self._words))
        self.vocabulary = Vocabulary(dict(zip(self._words, counts.tolist(), strict=True)))
        stem_ids: dict[str, int] = {}
        self._word_stem = np.fromiter(
            (stem_ids.setdefault(stem(w), len(stem_ids)) for w in self._words),
            dtype=np.int32,
            count=len(self._words),
        )
        self._stem_ids = stem_ids
        self._stem_names = list(stem_ids)

        lengths = np.diff(self._passage_start)
        self._owner = np.repeat(np.arange(len(self.passages), dtype=np.int32), lengths)
        stems = self._word_stem[self._tokens]
        self._word_bm25 = bm25_postings(self._owner, stems, len(self.passages), len(stem_ids))
        self._df = self._word_bm25.document_frequency
        self._build_bigrams(stems)
        self._build_articles(stems)
        self._build_ngrams()
        del self._owner  # only needed to build: as big as the corpus's token array
        self.build_seconds = time.perf_counter() - started
        log.info(
            "indexed %d sections (%d words, %d stems) in %.1fs",
            len(self.passages),
            len(self._words),
            len(stem_ids),
            self.build_seconds,
        )

    # -- building ---------------------------------------------------------------------

    def _read(self, articles: Sequence[Article]) -> None:
        """Word ids of every passage (title, heading, body) and where each part starts."""
        word_ids: dict[str, int] = {}
        tokens = array("i")
        passage_start, heading_start, body_start = array("q"), array("q"), array("q")
        sentence_start, sentence_end = array("q"), array("q")
        sentence_passage, passage_article = array("i"), array("i")

        def ids(text: str) -> list[int]:
            return [word_ids.setdefault(w, len(word_ids)) for w in content_words(text)]

        for a, article in enumerate(articles):
            title_ids = ids(article.title)
            for section in article.sections:
                path = section.heading_path
                own_path = path[1:] if path and path[0] == article.title else path
                first_sentence = len(self.sentences)
                passage_start.append(len(tokens))
                tokens.extend(title_ids)
                heading_start.append(len(tokens))
                tokens.extend(ids(" ".join(own_path)))
                body_start.append(len(tokens))
                for sentence in section.sentences:
                    sentence_start.append(len(tokens))
                    tokens.extend(ids(sentence.text))
                    sentence_end.append(len(tokens))
                    self.sentences.append(sentence)
                    sentence_passage.append(len(self.passages))
                passage_article.append(a)
                self.passages.append(Passage(article, section, first_sentence, len(self.sentences)))
        passage_start.append(len(tokens))
        self._words = list(word_ids)
        self._tokens = np.array(tokens, dtype=np.int32)
        self._passage_start = np.array(passage_start, dtype=np.int64)
        self._heading_start = np.array(heading_start, dtype=np.int64)
        self._body_start = np.array(body_start, dtype=np.int64)
        self._sentence_start = np.array(sentence_start, dtype=np.int64)
        self._sentence_end = np.array(sentence_end, dtype=np.int64)
        self.sentence_passage = np.array(sentence_passage, dtype=np.int32)
        self._passage_article = np.array(passage_article, dtype=np.int32)

    def _build_bigrams(self, stems: np.ndarray) -> None:
        """Adjacent stems inside the title, the heading and the body of each passage."""
        n_stems = max(len(self._stem_ids), 1)
        starts = np.zeros(len(stems) + 1, dtype=bool)
        starts[self._passage_start] = True
        starts[self._heading_start] = True
        starts[self._body_start] = True
        positions = np.flatnonzero(~starts[1:-1]).astype(np.int32)  # pair (i, i + 1) in one part
        keys = stems[positions].astype(np.int64) * n_stems + stems[positions + 1]
        self._bigram_keys, bigram_ids = np.unique(keys, return_inverse=True)
        self._bigram_bm25 = bm25_postings(
            self._owner[positions], bigram_ids, len(self.passages), len(self._bigram_keys)
        )

    def _build_articles(self, stems: np.ndarray) -> None:
        """One document per article: its title once, then every heading and body."""
        first_of_article = np.ones(len(self.passages), dtype=bool)
        first_of_article[1:] = self._passage_article[1:] != self._passage_article[:-1]
        position = np.arange(len(stems))
        in_title = position < self._heading_start[self._owner]
        keep = ~in_title | first_of_article[self._owner]
        self._article_bm25 = bm25_postings(
            self._passage_article[self._owner[keep]],
            stems[keep],
            len(self.articles),
            len(self._stem_ids),
        )

    def _build_ngrams(self) -> None:
        """Word -> 4-gram counts, 4-gram document frequencies, passage lengths in 4-grams.

        Passages are never stored as 4-grams: at query time the candidates' word counts
        are multiplied by this word -> 4-gram matrix, which has one row per word.
        """
        gram_ids: dict[str, int] = {}
        rows, cols = array("i"), array("i")
        for w, word in enumerate(self._words):
            grams = char_ngrams(word)
            rows.extend([w] * len(grams))
            cols.extend([gram_ids.setdefault(g, len(gram_ids)) for g in grams])
        self._gram_ids = gram_ids
        shape = (max(len(self._words), 1), max(len(gram_ids), 1))
        word_grams = sp.csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (np.asarray(rows), np.asarray(cols))),
            shape=shape,
        )
        word_grams.sum_duplicates()
        self._gram_words = word_grams.T.tocsr()  # gram -> words, rows sliced per query
        per_word = np.asarray(word_grams.sum(axis=1)).ravel()
        self._gram_length = np.bincount(
            self._owner, weights=per_word[self._tokens], minlength=len(self.passages)
        ).astype(np.float32)
        self._gram_avg = float(self._gram_length.mean()) if len(self.passages) else 1.0
        present = word_grams.copy()
        present.data[:] = 1
        df = np.zeros(shape[1], dtype=np.int64)
        chunk = 10_000
        for lo in range(0, len(self.passages), chunk):
            block = np.arange(lo, min(lo + chunk, len(self.passages)))
            df += np.diff((self._bags(block) @ present).tocsc().indptr)
        self._gram_idf = np.log(1 + (len(self.passages) - df + 0.5) / (df + 0.5))

    def _bags(self, passages: np.ndarray) -> sp.csr_matrix:
        """Word counts of the given passages, one row each."""
        starts = self._passage_start[passages]
        lengths = self._passage_start[passages + 1] - starts
        rows = np.repeat(np.arange(len(passages)), lengths)
        offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        cols = self._tokens[np.repeat(starts, lengths) + offsets]
        return sp.csr_matrix(
            (np.ones(len(cols), dtype=np.float32), (rows, cols)),
            shape=(len(passages), max(len(self._words), 1)),
        )

    # -- public API -------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.passages)

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
        first = _normalised(_weighted_scores(self._word_bm25, weights))
        bigrams = self._query_bigrams(words, terms)
        if bigrams:
            first += BIGRAM_WEIGHT * _normalised(_weighted_scores(self._bigram_bm25, bigrams))
        articles = _normalised(_weighted_scores(self._article_bm25, weights))
        first += ARTICLE_WEIGHT * articles[self._passage_article]

        candidates = _top(first, CANDIDATES)
        candidates = candidates[first[candidates] > 0]
        if not len(candidates):
            return []
        score = first[candidates].astype(np.float64)
        score += NGRAM_WEIGHT * _normalised(self._ngram_scores(candidates, words))
        idf_weights = {s: w * self._idf(int(self._df[s])) for s, w in weights.items()}
        score += PROXIMITY_WEIGHT * _normalised(self._proximity(candidates, idf_weights))
        score += FUZZY_WEIGHT * _normalised(self._fuzzy(candidates, words))
        order = np.argsort(-score, kind="stable")[:k]
        return [Hit(int(candidates[i]), float(score[i])) for i in order]

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
        n_stems = max(len(self._stem_ids), 1)
        out: dict[int, float] = {}
        previous: int | None = None
        for word in words:
            term = by_word.get(word)
            if term is None:
                term = stem(word)
            sid = self._stem_ids.get(term) if term else None
            if sid is not None and previous is not None:
                key = previous * n_stems + sid
                at = int(np.searchsorted(self._bigram_keys, key))
                if at < len(self._bigram_keys) and self._bigram_keys[at] == key:
                    out[at] = 1.0
            previous = sid
        return out

    def _ngram_scores(self, candidates: np.ndarray, words: Sequence[str]) -> np.ndarray:
        """BM25 of the question's distinct 4-grams in each candidate."""
        grams = {
            gid for w in words for g in char_ngrams(w) if (gid := self._gram_ids.get(g)) is not None
        }
        if not grams:
            return np.zeros(len(candidates))
        rows = np.fromiter(grams, dtype=np.int64, count=len(grams))
        tf = (self._bags(candidates) @ self._gram_words[rows].T).toarray()
        norm = NGRAM_K1 * (1 - B + B * self._gram_length[candidates] / self._gram_avg)
        return (tf / (tf + norm[:, None])) @ self._gram_idf[rows]

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


def _weighted_scores(postings: Postings, weights: Mapping[int, float]) -> np.ndarray:
    """Sum of per-term BM25 contributions, each scaled by its query weight."""
    out = np.zeros(postings.num_docs, dtype=np.float32)
    for term, weight in weights.items():
        lo, hi = postings.indptr[term], postings.indptr[term + 1]
        out[postings.indices[lo:hi]] += weight * postings.data[lo:hi]
    return out


def _normalised(scores: np.ndarray) -> np.ndarray:
    """Scores divided by the best one, so signals of different scales can be added."""
    best = float(scores.max()) if len(scores) else 0.0
    return scores / best if best > 0 else scores


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the `k` highest scores, best first (stable on ties)."""
    k = min(k, len(scores))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    top = np.argpartition(-scores, k - 1)[:k]
    return top[np.argsort(-scores[top], kind="stable")]
