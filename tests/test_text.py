"""Text normalisation: what makes user words and article words compare equal."""

from __future__ import annotations

from bot.corpus.text import (
    FRENCH_STOP_WORDS,
    content_words,
    fold,
    split_sentences,
    stem,
    terms,
    words,
)


def test_fold_lowercases_and_strips_accents() -> None:
    assert fold("Élection À Côté DÉFINITIVE") == "election a cote definitive"


def test_fold_unifies_typographic_apostrophes_and_ligatures() -> None:
    assert fold("L’œuvre d‘Ægidius") == "l'oeuvre d'aegidius"


def test_fold_keeps_letters_of_other_scripts() -> None:
    assert fold("Привет Ἀθῆναι") == "привет αθηναι"


def test_fold_strips_combining_marks_outside_the_basic_plane() -> None:
    assert fold("a\U0001d167b") == "ab"


def test_words_drop_elided_articles_and_pronouns() -> None:
    assert words("l'État d'urgence qu'il jusqu'au") == ["etat", "urgence", "il", "au"]


def test_words_accept_typographic_apostrophes_in_elisions() -> None:
    assert words("l’économie") == ["economie"]


def test_words_split_hyphenated_compounds() -> None:
    assert words("Saint-Étienne a-t-il") == ["saint", "etienne", "a", "t", "il"]


def test_words_join_thousands_and_keep_decimals() -> None:
    assert words("100 000 habitants, 3,5 millions") == ["100000", "habitants", "3,5", "millions"]


def test_content_words_drop_stop_words_and_single_letters_but_keep_digits() -> None:
    assert content_words("Quand a-t-il été élu président en 2 tours ?") == [
        "elu",
        "president",
        "2",
        "tours",
    ]


def test_stop_words_include_question_words() -> None:
    assert {"quel", "quelle", "pourquoi", "comment", "combien"} <= FRENCH_STOP_WORDS


def test_stem_conflates_plural_and_singular() -> None:
    assert stem("elections") == stem("election")


def test_stem_leaves_numbers_alone() -> None:
    assert stem("2024") == "2024"


def test_terms_are_the_stems_of_the_content_words() -> None:
    text = "Les élections présidentielles du pays"
    assert terms(text) == [stem(w) for w in content_words(text)]


def test_accented_and_unaccented_spellings_give_the_same_terms() -> None:
    assert terms("Électricité décentralisée") == terms("electricite decentralisee")


def test_split_sentences_does_not_split_after_an_abbreviated_title() -> None:
    text = "M. Dupont est arrivé. Il a parlé."
    assert [text[s:e] for s, e in split_sentences(text)] == ["M. Dupont est arrivé.", "Il a parlé."]


def test_split_sentences_ignores_blank_text() -> None:
    assert split_sentences("   ") == []
