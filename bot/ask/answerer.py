"""From a question to an `Answer`: the best passage, its answering sentences, a confidence.

Confidence is about evidence, not rank: how much of the question's weight (idf of its
content words; words the corpus has never seen weigh the most) the chosen passage and
sentences actually contain. A question about something the articles never mention keeps
its strongest words unmatched, so it stays under the threshold however good the rank.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain

from bot.ask.answer_types import (
    AnswerType,
    Entity,
    NamedEntities,
    english_share,
    expected_type,
    has_type,
)
from bot.ask.calibration import Calibration, Features, default_calibration
from bot.ask.embedder import Embedder, EmbeddingCache, Progress
from bot.ask.focus import WrittenForms, focus_match, focus_words
from bot.ask.index import CANDIDATES, Hit, Passage, QueryTerm, SearchIndex
from bot.ask.semantic import PassageVectors
from bot.ask.suggestions import actor_names, candidates, choose
from bot.chat.replies import Citation
from bot.corpus.model import Article
from bot.corpus.text import fold, words
from bot.corpus.text import terms as index_terms

MAX_EXCERPT_CHARS = 450
MAX_EXCERPT_SENTENCES = 2
MAX_CITATIONS = 3
CORRECTED_FACTOR = 0.85  # a typo-corrected word is good evidence, not perfect evidence
BODY_TERMS_CACHE = 50_000  # sentences whose stems are kept between questions
# Weight of a cosine point in the re-rank of the lexical candidates (the lexical score,
# divided by the best one, weighs 1). e5's cosines are compressed (0.75-0.9), hence the
# large weight. Fitted on half of PIAF by benchmarks/tune.py, reported on the other half.
SEMANTIC_WEIGHT = 9.0
SENTENCE_SEMANTIC_WEIGHT = 9.0  # the same trade-off between sentences of the best passage


@dataclass(frozen=True, slots=True)
class Scored:
    """A passage in the final order: its lexical score and, when on, its similarity."""

    passage: int
    lexical: float  # the index's fused score
    semantic: float | None  # cosine similarity to the question
    score: float  # what it is ranked by


@dataclass(frozen=True, slots=True)
class Candidate:
    passage: int
    score: float
    confidence: float
    sentences: list[int]
    features: Features | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    question: str
    answered: bool
    answer: str  # the excerpt ("" when not answered)
    confidence: float
    citations: tuple[Citation, ...] = ()
    suggestions: tuple[str, ...] = ()


class Answerer:
    """Answers questions from one index; cheap to build, thread-safe to share (its caches
    only memoise pure functions)."""

    def __init__(
        self,
        index: SearchIndex,
        *,
        threshold: float = 0.35,
        suggestions: int = 3,
        aliases: Mapping[str, str] | None = None,
        embedder: Embedder | None = None,
        embeddings: EmbeddingCache | None = None,
        calibration: Calibration | None = None,
        entities: Mapping[str, Sequence[Entity]]
        | Callable[[str], Sequence[Entity] | None]
        | None = None,
    ):
        """`embedder` turns on the semantic re-rank once `ensure_embeddings` has run;
        `embeddings` caches the passage vectors on disk; `calibration` maps evidence to a
        confidence (the fitted default for the semantic state when None); `entities`, by
        article id, are spaCy's (from actor discovery): names and places answer "qui" and
        "où" where they are known, capitalisation patterns elsewhere."""
        self.index = index
        self.entities = NamedEntities(entities) if entities else None
        self.vectors = PassageVectors(index, embedder, embeddings) if embedder else None
        self._calibration = calibration
        self._aliases = self._foreign_aliases(aliases or {})
        self.threshold = threshold
        self.max_suggestions = suggestions
        self._cased = CasedForms(index)
        self._titles: dict[str, frozenset[str]] = {}
        self._actor_names = actor_names(aliases or {})
        self._actor_aliases = {" ".join(words(a)): n for a, n in (aliases or {}).items()}
        self._checked: dict[str, int | None] = {}
        self._named: dict[str, bool] = {}
        self._named_lock = threading.Lock()
        self._body_terms: dict[int, frozenset[str]] = {}

    @property
    def semantic(self) -> bool:
        """True when answers use the semantic signal (backend on, passages embedded)."""
        return self.vectors is not None and self.vectors.ready

    @property
    def semantic_status(self) -> str:
        """One line for `briefbot check` and the logs."""
        if self.vectors is None:
            return "semantic ranking off: lexical ranking only"
        if self.vectors.ready:
            return f"semantic ranking on ({self.vectors.embedder.name})"
        return (
            f"semantic ranking pending: {self.vectors.done}/{self.vectors.total} passages "
            "embedded, lexical ranking until then"
        )

    @property
    def calibration(self) -> Calibration:
        if self._calibration is not None:
            return self._calibration
        ready = self.vectors if self.vectors is not None and self.vectors.ready else None
        return default_calibration(ready.embedder.name if ready is not None else None)

    def answer(self, question: str) -> Answer:
        question = question.strip()
        terms, ranked, best = self._best(question)
        if best is None or best.confidence < self.threshold:
            near = [h.passage for h in ranked]
            return self._decline(question, terms, near, best.confidence if best else 0.0)
        excerpt = _join_excerpt([self.index.sentences[i].text for i in best.sentences])
        cited = [best.passage] + [
            h.passage for h in ranked[1:MAX_CITATIONS] if h.score >= 0.6 * ranked[0].score
        ]
        citations = tuple(self._citation(p) for p in cited)
        return Answer(question, True, excerpt, round(best.confidence, 3), citations)

    def features(self, question: str) -> Features | None:
        """The evidence the confidence is computed from, for the best passage (None when
        nothing matched): what the calibration is fitted on."""
        best = self._best(question.strip())[2]
        return best.features if best else None

    def _best(self, question: str) -> tuple[list[QueryTerm], list[Scored], Candidate | None]:
        """Terms, ranked passages and the best one read sentence by sentence (the others
        are only cited)."""
        searched = self.resolve_aliases(question)
        terms = self.index.analyse(searched)
        ranked = self._ranked(question, searched, terms, k=5)
        if not ranked:
            return terms, ranked, None
        wanted = expected_type(searched)
        return terms, ranked, self._candidate(ranked, 0, question, searched, terms, wanted)

    def answered_from(self, question: str) -> int | None:
        """The passage `question` is answered from, or None when it would be declined."""
        cached = self._checked.get(question, -2)
        if cached == -2:
            best = self._best(question)[2]
            cached = best.passage if best and best.confidence >= self.threshold else None
            if len(self._checked) > 10_000:
                self._checked.clear()
            self._checked[question] = cached
        return cached

    def _foreign_aliases(self, aliases: Mapping[str, str]) -> dict[str, str]:
        """Aliases the articles never write (ECOWAS for Cédéao), folded, to the folded
        name they do write; and one pattern finding any of them, longest first."""
        out: dict[str, str] = {}
        for alias, name in aliases.items():
            alias_words = words(alias)
            if alias_words and not all(w in self.index.vocabulary for w in alias_words):
                out[" ".join(alias_words)] = " ".join(words(name))
        ordered = sorted(out, key=len, reverse=True)
        self._alias_pattern = (
            re.compile(rf"(?<!\w)(?:{'|'.join(map(re.escape, ordered))})(?!\w)") if out else None
        )
        return out

    def resolve_aliases(self, question: str) -> str:
        """The question with names the articles spell otherwise replaced by their spelling,
        so "When did Niger leave ECOWAS?" searches for the Cédéao."""
        if self._alias_pattern is None:
            return question
        folded = " ".join(words(question))
        resolved = self._alias_pattern.sub(lambda m: self._aliases[m.group()], folded)
        return resolved if resolved != folded else question

    def rank(
        self, question: str, k: int = 5, terms: Sequence[QueryTerm] | None = None
    ) -> list[Candidate]:
        """Passages that may answer, in the index's order, each with its answering
        sentences and the confidence that they answer.

        (Re-ranking the candidates by best-sentence coverage and expected answer type was
        measured on PIAF: it cost 0.5 point of top-1, the index's proximity scoring already
        captures it; the answer type still picks the sentence inside a passage.)
        """
        searched = self.resolve_aliases(question.strip())
        if terms is None:
            terms = self.index.analyse(searched)
        ranked = self._ranked(question.strip(), searched, terms, k)
        wanted = expected_type(searched)
        return [
            self._candidate(ranked, i, question, searched, terms, wanted)
            for i in range(len(ranked))
        ]

    def _ranked(
        self, question: str, searched: str, terms: Sequence[QueryTerm], k: int
    ) -> list[Scored]:
        """The index's candidates, re-ranked by similarity when the semantic signal is on.

        Fusion: lexical score / best lexical score + SEMANTIC_WEIGHT * (cosine - best
        cosine), over the index's top CANDIDATES.
        """
        if not any(t.term for t in terms):
            return []
        semantic = self.semantic
        hits: list[Hit] = self.index.search(
            terms, k=CANDIDATES if semantic else k, question=searched
        )
        if not hits:
            return []
        if not semantic:
            return [Scored(h.passage, h.score, None, h.score) for h in hits]
        assert self.vectors is not None
        sims = self.vectors.similarities(question, [h.passage for h in hits])
        top_lex = hits[0].score or 1.0
        top_sim = float(sims.max())
        fused = [
            Scored(
                h.passage,
                h.score,
                float(sim),
                h.score / top_lex + SEMANTIC_WEIGHT * (float(sim) - top_sim),
            )
            for h, sim in zip(hits, sims, strict=True)
        ]
        fused.sort(key=lambda s: -s.score)
        return fused[:k]

    def _candidate(
        self,
        ranked: Sequence[Scored],
        at: int,
        question: str,
        searched: str,
        terms: Sequence[QueryTerm],
        wanted: AnswerType,
    ) -> Candidate:
        hit = ranked[at]
        sentences, sentence_cov, sentence_sim = self._pick_sentences(
            hit.passage, terms, wanted, question, searched
        )
        pool = self._passage_terms(hit.passage)
        passage_cov = self._coverage(terms, pool)
        others = [s for i, s in enumerate(ranked) if i != at]
        lex_best_other = max((s.lexical for s in others), default=0.0)
        sem_best_other = max((s.semantic or 0.0 for s in others), default=0.0)
        focus = focus_words(question, self._cased)
        features = Features(
            passage_cov=passage_cov,
            sentence_cov=sentence_cov,
            focus=focus_match(focus, terms, self.index.passage_words(hit.passage)),
            unknown=_unknown_share(terms),
            typed=wanted is not AnswerType.OTHER,
            # Patterns, not entities: the calibration was fitted on them (entity typing
            # moved the confidence of near-topic questions; it needs a refit first).
            type_found=any(has_type(self.index.sentences[i].text, wanted) for i in sentences),
            lexical_margin=(hit.lexical - lex_best_other)
            / (max(hit.lexical, lex_best_other) or 1.0),
            semantic=hit.semantic,
            semantic_margin=(hit.semantic - sem_best_other) if hit.semantic is not None else None,
            missing=max((t.weight for t in terms if t.term not in pool), default=0.0)
            / self.index.max_idf,
            english=english_share(question),
            sentence_semantic=sentence_sim,
        )
        confidence = self.calibration.confidence(features)
        top = ranked[0].score or 1.0
        return Candidate(hit.passage, hit.score / top, confidence, sentences, features)

    # -- choosing the answering sentences ------------------------------------------------

    def _sentence_terms(self, i: int) -> frozenset[str]:
        """Stems of the sentence's own words (the index's also hold its heading's, which
        would make every sentence under "Africa Corps" look like an answer about it)."""
        cached = self._body_terms.get(i)
        if cached is None:
            if len(self._body_terms) >= BODY_TERMS_CACHE:  # bounded on a large corpus
                self._body_terms.clear()
            cached = self._body_terms[i] = frozenset(index_terms(self.index.sentences[i].text))
        return cached

    def _passage_terms(self, passage: int) -> set[str]:
        p = self.index.passages[passage]
        pool: set[str] = set(self._title_terms(p.article))
        pool.update(index_terms(" ".join(p.section.heading_path)))
        for i in self.index.sentence_range(passage):
            pool |= self._sentence_terms(i)
        return pool

    def _coverage(self, terms: Sequence[QueryTerm], pool: set[str] | frozenset[str]) -> float:
        """Share of the question found in `pool`: half idf-weighted, half word count, so
        neither a tiny corpus's noisy idf nor one generic word decides alone."""
        if not terms:
            return 0.0
        total_weight = sum(t.weight for t in terms) or 1.0
        got_weight = got_count = 0.0
        for t in terms:
            if t.term and t.term in pool:
                factor = CORRECTED_FACTOR if t.corrected_from else 1.0
                got_weight += t.weight * factor
                got_count += factor
        return 0.5 * got_weight / total_weight + 0.5 * got_count / len(terms)

    def _pick_sentences(
        self,
        passage: int,
        terms: Sequence[QueryTerm],
        wanted: AnswerType,
        question: str = "",
        searched: str = "",
    ) -> tuple[list[int], float, float | None]:
        """One or two sentences that answer, the best one's coverage of the question and,
        when the semantic signal is on, its cosine similarity to the question.

        The first sentence maximises lexical gain (normalised by the passage's best) plus
        SENTENCE_SEMANTIC_WEIGHT * (cosine - best cosine): a paraphrase or an English
        question has little lexical gain, and then meaning decides.
        """
        ids = list(self.index.sentence_range(passage))
        weights = {
            t.term: t.weight * (CORRECTED_FACTOR if t.corrected_from else 1.0)
            for t in terms
            if t.term
        }
        avg_len = sum(len(self._sentence_terms(i)) for i in ids) / max(len(ids), 1) or 1.0
        article = self.index.passages[passage].article.id
        asked = frozenset(words(searched))
        typed = {i: self._typed(i, article, wanted, asked) for i in ids}

        def score(i: int, covered: frozenset[str] = frozenset()) -> float:
            found = self._sentence_terms(i)
            gain = sum(w for t, w in weights.items() if t in found and t not in covered)
            norm = 0.75 + 0.25 * len(found) / avg_len
            bonus = 1.15 if typed[i] else 1.0
            return gain * bonus / norm

        sims: dict[int, float] = {}
        if self.semantic and question:
            assert self.vectors is not None
            sims = dict(
                zip(ids, self.vectors.sentence_similarities(question, ids).tolist(), strict=True)
            )
        lexical = {i: score(i) for i in ids}
        top_lex = max(lexical.values(), default=0.0) or 1.0
        top_sim = max(sims.values(), default=0.0)

        def first_score(i: int) -> float:
            value = lexical[i] / top_lex
            if sims:
                value += SENTENCE_SEMANTIC_WEIGHT * (sims[i] - top_sim)
            return value

        first = max(ids, key=lambda i: (first_score(i), -ids.index(i)))
        chosen = [first]
        covered = self._sentence_terms(first) & frozenset(weights)
        second = max(
            (i for i in ids if i != first),
            key=lambda i: (score(i, covered), -abs(i - first)),
            default=None,
        )
        length = len(self.index.sentences[first].text)
        if (
            second is not None
            and score(second, covered) > 0
            and length + 1 + len(self.index.sentences[second].text) <= MAX_EXCERPT_CHARS
        ):
            chosen.append(second)
        sentence_cov = self._coverage(terms, self._sentence_terms(first))
        return sorted(chosen), sentence_cov, (sims[first] if sims else None)

    def _typed(
        self, sentence: int, article: str, wanted: AnswerType, asked: frozenset[str]
    ) -> bool:
        """Whether the sentence holds the kind of answer wanted: by spaCy's entities for
        names and places of an article discovery has read, by patterns otherwise."""
        text = self.index.sentences[sentence].text
        if self.entities is not None:
            found = self.entities.has_type(article, text, wanted, asked)
            if found is not None:
                return found
        return has_type(text, wanted)

    def _title_terms(self, article: Article) -> frozenset[str]:
        cached = self._titles.get(article.id)
        if cached is None:
            cached = self._titles[article.id] = frozenset(index_terms(article.title))
        return cached

    # -- citations and suggestions -------------------------------------------------------

    def _citation(self, passage: int) -> Citation:
        p: Passage = self.index.passages[passage]
        return Citation.of(p.article, p.section.label)

    def _decline(
        self, question: str, terms: Sequence[QueryTerm], near: list[int], confidence: float
    ) -> Answer:
        return Answer(
            question, False, "", round(confidence, 3), (), tuple(self.suggest(terms, near))
        )

    def suggest(self, terms: Sequence[QueryTerm], near: Sequence[int]) -> list[str]:
        """Questions the corpus answers, built from the nearest passages first (each one
        checked by asking it); then a pointer for a name the articles only link to or the
        actor directory knows."""
        nearest = set(near)
        order = chain(near, (p for p in range(len(self.index.passages)) if p not in nearest))
        out = choose(
            order,
            lambda p: candidates(self.index, p, self._actor_names, self._display),
            self.answered_from,
            self.max_suggestions,
        )
        wanted = {t.word for t in terms}
        for phrase, name in self._actor_aliases.items():
            if set(phrase.split()) <= wanted and not self._named_in_text(name):
                out.append(f"/actor {name}")
                break
        for article in self.index.articles:
            for link in article.related_links:
                if wanted & set(words(link.title)) and len(out) < self.max_suggestions + 1:
                    out.append(f"Voir aussi : {link.title} <{link.url}>")
        return out

    def _named_in_text(self, name: str) -> bool:
        """True when the articles' own sentences name the actor (memoised). Only the
        passages holding the name's rarest word are read, not the whole corpus."""
        with self._named_lock:
            if name in self._named:
                return self._named[name]
        found = False
        parts = words(name)
        vocabulary = self.index.vocabulary
        if parts and all(w in vocabulary for w in parts):
            phrase = f" {' '.join(parts)} "
            rarest = min(parts, key=lambda w: vocabulary.counts[w])
            index = self.index
            found = any(
                phrase in f" {' '.join(words(index.sentences[i].text))} "
                for p in index.passages_with(rarest, len(index.passages))
                for i in index.sentence_range(p)
            )
        with self._named_lock:
            self._named[name] = found
        return found

    def _display(self, text: str) -> str:
        return _display(text, self._cased)

    def _topic(self, passage: Passage) -> str:
        heading = passage.section.heading
        if heading == passage.article.title or not heading:
            return _display(passage.article.title, self._cased)
        return f"{_display(heading, self._cased)} ({_display(passage.article.title, self._cased)})"


def ensure_embeddings(answerer: Answerer, progress: Progress | None = None) -> bool:
    """Embed every passage the cache lacks, so `answerer` ranks semantically from then on.

    Blocking and CPU-bound (about 6 passages a second on 2 cores; cached ones are free):
    run it in a worker thread (`asyncio.to_thread`), never on the event loop. `progress`
    gets (done, total) passages after each batch. False when there is no backend.
    """
    if answerer.vectors is None:
        return False
    answerer.vectors.ensure(progress)
    return True


def _unknown_share(terms: Sequence[QueryTerm]) -> float:
    """Share of the question's weight in words the corpus has never seen, even corrected."""
    total = sum(t.weight for t in terms) or 1.0
    return sum(t.weight for t in terms if not t.term) / total


def _join_excerpt(sentences: list[str]) -> str:
    text = " ".join(s.strip() for s in sentences)
    if len(text) <= MAX_EXCERPT_CHARS:
        return text
    cut = text.rfind(" ", 0, MAX_EXCERPT_CHARS - 1)
    return text[: cut if cut > 0 else MAX_EXCERPT_CHARS - 1].rstrip(" ,;:") + "…"


_WORD_RE = re.compile(r"[^\W\d_]+", re.UNICODE)


class CasedForms:
    """Most frequent written form of a folded word in running text (to de-shout headings
    and to tell names from common words), read from a sample of the passages that hold it.

    Computed per word on demand: counting every word of a 20,000-article corpus took
    about 8 s for each new index, and a question looks up ten words.
    """

    SAMPLE = 24  # passages read per word: enough for a stable majority

    def __init__(self, index: SearchIndex) -> None:
        self._index = index
        self._forms: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def get(self, word: str) -> str | None:
        with self._lock:
            if word in self._forms:
                return self._forms[word]
        form = self._count(word)
        with self._lock:
            self._forms[word] = form
        return form

    def _count(self, word: str) -> str | None:
        index = self._index
        counts: Counter[str] = Counter()
        for p in index.passages_with(word, self.SAMPLE):
            for i in index.sentence_range(p):
                for m in _WORD_RE.finditer(index.sentences[i].text):
                    w = m.group()
                    # folding keeps the length but for ligatures (œ): skip the rest unfolded
                    if abs(len(w) - len(word)) > 1 or (w.isupper() and len(w) > 1):
                        continue
                    if fold(w) == word:
                        counts[w] += 1
        return counts.most_common(1)[0][0] if counts else None


def _display(text: str, cased: WrittenForms) -> str:
    """ALL-CAPS headings in sentence case, keeping proper nouns as the articles write them."""
    letters = [c for c in text if c.isalpha()]
    if not letters or sum(c.isupper() for c in letters) < 0.8 * len(letters):
        return text
    out: list[str] = []
    first = True

    def repl(m: re.Match[str]) -> str:
        nonlocal first
        w = m.group()
        form = cased.get(fold(w))
        if form and form[0].isupper():
            res = form
        elif first:
            res = w.capitalize()
        else:
            res = form or w.lower()
        first = False
        return res

    out.append(_WORD_RE.sub(repl, text))
    return "".join(out)
