"""The search index: typo-tolerant query analysis and ranking of sections."""

from __future__ import annotations

import bm25s
import numpy as np
import pytest

from bot.ask import index as index_module
from bot.ask.index import (
    LONG_FROM,
    LONG_TO,
    QueryTerm,
    SearchIndex,
    Vocabulary,
    long_query_share,
)
from bot.ask.postings import bm25_scores, build_postings, idf, length_norm
from bot.corpus.model import Article, Paragraph, Section, Sentence
from bot.corpus.text import fold, split_sentences, stem


def _paragraph(text: str) -> Paragraph:
    spans = split_sentences(text)
    return Paragraph(text, 0, tuple(Sentence(text[s:e], s, e) for s, e in spans))


def _article(article_id: str, title: str, sections: dict[str, str]) -> Article:
    """Sections by heading; the "" heading is the lead, filed under the title alone."""
    return Article(
        id=article_id,
        title=title,
        sections=tuple(
            Section((title, heading) if heading else (title,), (_paragraph(text),))
            for heading, text in sections.items()
        ),
    )


ARTICLES = [
    _article(
        "cacao",
        "Marché mondial du cacao",
        {
            "": "Le cacao est cultivé en Afrique de l'Ouest. Les producteurs vendent leurs "
            "fèves sur le marché de la ville.",
            "Prix": "Le prix du cacao a doublé en un an. Les négociants parlent d'une pénurie.",
        },
    ),
    _article(
        "energie",
        "Réforme de l'électricité",
        {
            "": "Le gouvernement prépare une réforme du marché de l'électricité. Les tarifs "
            "seront révisés dans chaque ville.",
            "Calendrier": "La réforme entrera en vigueur en janvier. Le parlement votera le "
            "texte au printemps.",
        },
    ),
    _article(
        "fleuve",
        "Transport fluvial",
        {
            "": "Le fleuve traverse la région sur vingt kilomètres. Les péniches transportent "
            "des céréales.",
            "Histoire": "Le nom de la ville a changé au siècle dernier. Le nom actuel de la "
            "ville date de la révolution.",
        },
    ),
]


@pytest.fixture(scope="module")
def index() -> SearchIndex:
    return SearchIndex(ARTICLES)


def _top(index: SearchIndex, question: str) -> tuple[str, str]:
    hits = index.search(index.analyse(question), k=5, question=question)
    assert hits, question
    passage = index.passages[hits[0].passage]
    return passage.article.id, passage.section.heading


def _term(index: SearchIndex, question: str) -> QueryTerm:
    [term] = index.analyse(question)
    return term


def test_a_typo_is_corrected_to_the_corpus_word(index: SearchIndex) -> None:
    term = _term(index, "gouvernemnt")
    assert term.term == stem("gouvernement")
    assert term.corrected_from == "gouvernemnt"


def test_missing_accents_match_without_any_correction(index: SearchIndex) -> None:
    term = _term(index, "electricite")
    assert term.term == stem(fold("électricité"))
    assert term.corrected_from is None


def test_a_word_too_far_from_every_corpus_word_stays_unknown(index: SearchIndex) -> None:
    assert _term(index, "zorglubique").term == ""


def test_short_words_are_never_corrected(index: SearchIndex) -> None:
    assert _term(index, "cao").term == ""


def test_unknown_words_weigh_the_maximum_idf(index: SearchIndex) -> None:
    unknown = _term(index, "zorglubique")
    known = [t.weight for t in index.analyse("cacao ville réforme péniches")]
    assert unknown.weight == index.idf("never-indexed")
    assert unknown.weight > max(known)


def test_a_rare_term_outranks_a_term_every_section_shares(index: SearchIndex) -> None:
    assert _top(index, "ville péniches") == ("fleuve", "Transport fluvial")


def test_a_question_with_a_typo_finds_its_section(index: SearchIndex) -> None:
    assert _top(index, "Quel est le prix du cacoa ?") == ("cacao", "Prix")


def test_a_question_without_accents_finds_its_section(index: SearchIndex) -> None:
    assert _top(index, "Quand la reforme entrera-t-elle en vigueur ?") == ("energie", "Calendrier")


def test_search_on_no_terms_returns_nothing(index: SearchIndex) -> None:
    assert index.search([], k=5) == []


def test_a_question_of_stop_words_only_returns_nothing(index: SearchIndex) -> None:
    terms = index.analyse("Quel est le ?")
    assert terms == []
    assert index.search(terms, k=5, question="Quel est le ?") == []


def test_a_question_of_unknown_words_only_returns_nothing(index: SearchIndex) -> None:
    assert index.search(index.analyse("zorglubique"), k=5, question="zorglubique") == []


def test_hits_are_distinct_passages_best_first_and_at_most_k(index: SearchIndex) -> None:
    hits = index.search(index.analyse("marché ville"), k=3, question="marché ville")
    assert 0 < len(hits) <= 3
    assert len({h.passage for h in hits}) == len(hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_the_raw_question_is_optional(index: SearchIndex) -> None:
    terms = index.analyse("prix du cacao")
    assert (
        index.search(terms, k=1)[0].passage
        == index.search(terms, k=1, question="prix du cacao")[0].passage
    )


def test_every_section_is_a_passage_with_its_sentences_in_order(index: SearchIndex) -> None:
    assert len(index) == sum(len(a.sections) for a in ARTICLES)
    for i, passage in enumerate(index.passages):
        texts = [index.sentences[s].text for s in index.sentence_range(i)]
        assert texts == [s.text for s in passage.section.sentences]


def test_sentence_terms_hold_the_sentence_stems_and_its_heading(index: SearchIndex) -> None:
    passage = next(i for i, p in enumerate(index.passages) if p.section.heading == "Prix")
    first = index.sentence_range(passage)[0]
    assert {stem("prix"), stem("cacao"), stem("double")} <= index.sentence_terms[first]
    assert stem("negociants") not in index.sentence_terms[first]
    assert len(index.sentence_terms) == len(index.sentences)


def test_an_empty_corpus_answers_nothing() -> None:
    empty = SearchIndex([])
    assert len(empty) == 0
    assert empty.search(empty.analyse("cacao"), k=5, question="cacao") == []


def test_a_section_without_text_is_indexed_but_never_found() -> None:
    index = SearchIndex([_article("vide", "Article vide", {"": ""}), *ARTICLES])
    assert len(index) == 7
    assert all(h.passage != 0 for h in index.search(index.analyse("cacao"), k=7))


def test_correction_prefers_the_more_frequent_of_two_equally_close_words() -> None:
    assert Vocabulary({"marin": 1, "marie": 9}).correct("marix") == "marie"


def test_bm25_weights_are_those_of_bm25s() -> None:
    docs = [[0, 1, 1, 2], [2, 3], [0, 3, 3, 3, 1], [4]]
    reference = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
    reference.index((docs, {i: i for i in range(5)}), show_progress=False, create_empty_token=False)
    doc_of = np.repeat(np.arange(len(docs)), [len(d) for d in docs])
    ours = build_postings(doc_of, np.concatenate([np.asarray(d) for d in docs]), len(docs), 5)
    df = ours.counts(5)
    norm = length_norm(np.asarray([len(d) for d in docs], dtype=np.float32), None)
    for term in range(5):
        expected = reference.get_scores([term])
        idfs = {term: float(idf(df[term : term + 1], len(docs))[0])}
        got = bm25_scores(ours, {term: 1.0}, idfs, norm, len(docs))
        np.testing.assert_allclose(got, expected, rtol=1e-6)


# -- long queries -------------------------------------------------------------------------

PECHEURS = (
    "Les pêcheurs déplacés par la retenue réclament toujours des indemnités à l'État. "
    "Leurs villages ont été reconstruits sur les collines autour du lac."
)
SECHERESSE = (
    "La sécheresse a fait baisser le niveau du lac de six mètres cette année. "
    "Les turbines tournent au ralenti et les délestages se multiplient."
)
KOSSOU = _article(
    "kossou",
    "Le barrage de Kossou",
    {
        "": "Le barrage de Kossou, sur le Bandama, alimente le pays en électricité depuis 1972.",
        "Les pêcheurs": PECHEURS,
        "La sécheresse": SECHERESSE,
    },
)
# A follow-up that repeats the background of the story in one section, as news does.
FOLLOW_UP = _article(
    "suite",
    "Le lac baisse encore",
    {
        "": f"Un an après, rien n'a changé. {PECHEURS} {SECHERESSE}",
        "Les filets": "Les filets sont vendus au marché de la ville.",
    },
)
PASTED = f"Le barrage de Kossou sur le Bandama. {SECHERESSE} {PECHEURS}"


def test_a_pasted_paragraph_finds_its_article_not_a_follow_up_that_repeats_its_words() -> None:
    index = SearchIndex([KOSSOU, FOLLOW_UP, *ARTICLES])
    assert long_query_share(len({t.term for t in index.analyse(PASTED) if t.term})) == 1.0
    hits = index.search(index.analyse(PASTED), k=3, question=PASTED)
    assert index.passages[hits[0].passage].article.id == "kossou"


def test_a_pasted_paragraph_hits_each_article_once_by_its_best_section() -> None:
    index = SearchIndex([KOSSOU, FOLLOW_UP, *ARTICLES])
    hits = index.search(index.analyse(PASTED), k=3, question=PASTED)
    articles = [index.passages[h.passage].article.id for h in hits]
    assert articles[:2] == ["kossou", "suite"]
    assert len(set(articles)) == len(articles)


def test_a_question_is_untouched_by_the_long_query_weights(
    index: SearchIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    question = "Quel est le prix du cacao au marché de la ville ?"
    before = index.search(index.analyse(question), k=5, question=question)
    monkeypatch.setattr(index_module, "LONG_ARTICLE_WEIGHT", 50.0)
    monkeypatch.setattr(index_module, "LONG_BIGRAM_WEIGHT", 5.0)
    monkeypatch.setattr(index_module, "LONG_PRECISION_SCALE", 0.0)
    monkeypatch.setattr(index_module, "LONG_CANDIDATES", 1)
    assert index.search(index.analyse(question), k=5, question=question) == before


def test_queries_count_as_long_gradually_by_their_matched_terms() -> None:
    shares = [long_query_share(n) for n in range(LONG_TO + 5)]
    assert shares[: LONG_FROM + 1] == [0.0] * (LONG_FROM + 1)
    assert shares[LONG_TO:] == [1.0] * 5
    assert shares == sorted(shares)
    assert 0.0 < long_query_share((LONG_FROM + LONG_TO) // 2) < 1.0
