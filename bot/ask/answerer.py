"""From a question to an `Answer`: the best passage, its answering sentences, a confidence.

Confidence is about evidence, not rank: how much of the question's weight (idf of its
content words; words the corpus has never seen weigh the most) the chosen passage and
sentences actually contain. A question about something the articles never mention keeps
its strongest words unmatched, so it stays under the threshold however good the rank.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.ask.answer_types import AnswerType, expected_type, has_type
from bot.ask.index import Hit, Passage, QueryTerm, SearchIndex
from bot.chat.replies import Citation
from bot.corpus.model import Article
from bot.corpus.text import fold, words
from bot.corpus.text import terms as index_terms

MAX_EXCERPT_CHARS = 450
MAX_EXCERPT_SENTENCES = 2
MAX_CITATIONS = 3
CORRECTED_FACTOR = 0.85  # a typo-corrected word is good evidence, not perfect evidence
BODY_TERMS_CACHE = 50_000  # sentences whose stems are kept between questions


@dataclass(frozen=True, slots=True)
class Candidate:
    passage: int
    score: float
    confidence: float
    sentences: list[int]


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
    ):
        self.index = index
        self._aliases = self._foreign_aliases(aliases or {})
        self.threshold = threshold
        self.max_suggestions = suggestions
        self._cased = _cased_forms(index.articles)
        self._titles: dict[str, frozenset[str]] = {}
        self._body_terms: dict[int, frozenset[str]] = {}

    def answer(self, question: str) -> Answer:
        question = question.strip()
        searched = self.resolve_aliases(question)
        terms = self.index.analyse(searched)
        hits = self._hits(searched, terms, k=5)
        if not hits:
            return self._decline(question, terms, [], 0.0)
        # Only the best passage is read sentence by sentence: the others are only cited.
        best = self._candidate(hits[0], terms, expected_type(searched), hits[0].score)
        if best.confidence < self.threshold:
            return self._decline(question, terms, [h.passage for h in hits], best.confidence)
        excerpt = _join_excerpt([self.index.sentences[i].text for i in best.sentences])
        cited = [best.passage] + [
            h.passage for h in hits[1:MAX_CITATIONS] if h.score >= 0.6 * hits[0].score
        ]
        citations = tuple(self._citation(p) for p in cited)
        return Answer(question, True, excerpt, round(best.confidence, 3), citations)

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
        if terms is None:
            terms = self.index.analyse(question)
        hits = self._hits(question, terms, k)
        wanted = expected_type(question)
        return [self._candidate(hit, terms, wanted, hits[0].score) for hit in hits]

    def _hits(self, question: str, terms: Sequence[QueryTerm], k: int) -> list[Hit]:
        if not any(t.term for t in terms):
            return []
        return self.index.search(terms, k=k, question=question)

    def _candidate(
        self, hit: Hit, terms: Sequence[QueryTerm], wanted: AnswerType, top: float
    ) -> Candidate:
        sentences, sentence_cov = self._pick_sentences(hit.passage, terms, wanted)
        passage_cov = self._coverage(terms, self._passage_terms(hit.passage))
        confidence = max(0.0, min(1.0, 0.4 * passage_cov + 0.6 * sentence_cov))
        return Candidate(hit.passage, hit.score / (top or 1.0), confidence, sentences)

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
        self, passage: int, terms: Sequence[QueryTerm], wanted: AnswerType
    ) -> tuple[list[int], float]:
        """One or two sentences that answer, and the best one's coverage of the question."""
        ids = list(self.index.sentence_range(passage))
        weights = {
            t.term: t.weight * (CORRECTED_FACTOR if t.corrected_from else 1.0)
            for t in terms
            if t.term
        }
        avg_len = sum(len(self._sentence_terms(i)) for i in ids) / max(len(ids), 1) or 1.0

        def score(i: int, covered: frozenset[str] = frozenset()) -> float:
            found = self._sentence_terms(i)
            gain = sum(w for t, w in weights.items() if t in found and t not in covered)
            norm = 0.75 + 0.25 * len(found) / avg_len
            bonus = 1.15 if has_type(self.index.sentences[i].text, wanted) else 1.0
            return gain * bonus / norm

        first = max(ids, key=lambda i: (score(i), -ids.index(i)))
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
        return sorted(chosen), sentence_cov

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
        """Topics the corpus can answer: the nearest sections first, then other sections."""
        out: list[str] = []
        seen_sections: set[int] = set()
        for p in [*near, *range(len(self.index.passages))]:
            if p in seen_sections:
                continue
            seen_sections.add(p)
            passage = self.index.passages[p]
            topic = self._topic(passage)
            if topic and topic not in out:
                out.append(topic)
            if len(out) >= self.max_suggestions:
                break
        wanted = {t.word for t in terms}
        for article in self.index.articles:
            for link in article.related_links:
                if wanted & set(words(link.title)) and len(out) < self.max_suggestions + 1:
                    out.append(f"Voir aussi : {link.title} <{link.url}>")
        return out

    def _topic(self, passage: Passage) -> str:
        heading = passage.section.heading
        if heading == passage.article.title or not heading:
            return _display(passage.article.title, self._cased)
        return f"{_display(heading, self._cased)} ({_display(passage.article.title, self._cased)})"


def _join_excerpt(sentences: list[str]) -> str:
    text = " ".join(s.strip() for s in sentences)
    if len(text) <= MAX_EXCERPT_CHARS:
        return text
    cut = text.rfind(" ", 0, MAX_EXCERPT_CHARS - 1)
    return text[: cut if cut > 0 else MAX_EXCERPT_CHARS - 1].rstrip(" ,;:") + "…"


_WORD_RE = re.compile(r"[^\W\d_]+", re.UNICODE)


def _cased_forms(articles: Sequence[Article]) -> dict[str, str]:
    """Most frequent written form of each word in running text (to de-shout headings)."""
    counts: dict[str, Counter[str]] = {}
    for article in articles:
        for section in article.sections:
            for paragraph in section.paragraphs:
                for m in _WORD_RE.finditer(paragraph.text):
                    w = m.group()
                    if not w.isupper() or len(w) == 1:
                        counts.setdefault(fold(w), Counter())[w] += 1
    return {k: c.most_common(1)[0][0] for k, c in counts.items()}


def _display(text: str, cased: dict[str, str]) -> str:
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
