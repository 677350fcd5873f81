"""The question's focus: names must match as the same word, not through a shared stem."""

from __future__ import annotations

from bot.ask.answer_types import AnswerType, english_share, expected_type, has_type
from bot.ask.focus import focus_match, focus_words, same_name
from bot.ask.index import QueryTerm


def test_a_country_and_its_adjective_are_not_the_same_name() -> None:
    assert not same_name("france", "francaise")
    assert not same_name("france", "francais")


def test_plural_and_feminine_forms_are_the_same_name() -> None:
    assert same_name("americains", "americaine")
    assert same_name("nigeriens", "nigerienne")


def test_a_one_letter_typo_of_a_name_is_the_same_name() -> None:
    assert same_name("tiany", "tiani")


def test_names_are_capitalised_words_after_the_first_or_names_the_corpus_capitalises() -> None:
    cased = {"niger": "Niger", "soldats": "soldats"}
    assert focus_words("Qui est le président de la France ?", cased) == ("france",)
    assert focus_words("combien de soldats au niger", cased) == ("niger",)
    assert focus_words("Combien de soldats ?", cased) == ()


def test_focus_match_is_the_share_of_name_weight_found() -> None:
    terms = [QueryTerm("france", "franc", 2.0), QueryTerm("president", "president", 1.0)]
    assert focus_match(("france",), terms, frozenset({"francaise", "president"})) == 0.0
    assert focus_match(("france",), terms, frozenset({"france"})) == 1.0
    assert focus_match((), terms, frozenset()) == 1.0


def test_why_questions_expect_a_cause_and_find_it_in_a_purpose_clause() -> None:
    assert expected_type("Pourquoi les Américains quittent-ils le Niger ?") is AnswerType.CAUSE
    assert expected_type("Why did the United States agree?") is AnswerType.CAUSE
    assert has_type("Ils partent à la demande du régime de Niamey.", AnswerType.CAUSE)
    assert not has_type("Les derniers soldats ont quitté le pays fin décembre.", AnswerType.CAUSE)


def test_where_questions_expect_a_place() -> None:
    assert expected_type("Où est retenu Mohamed Bazoum ?") is AnswerType.PLACE
    assert has_type("Il est retenu au palais présidentiel à Niamey.", AnswerType.PLACE)


def test_qu_est_ce_qui_asks_what_not_who() -> None:
    assert expected_type("Qu'est-ce qui inquiète les chancelleries ?") is AnswerType.OTHER
    assert expected_type("Qu’est ce qui a causé sa mort ?") is AnswerType.OTHER
    assert expected_type("Qui est-ce qui a signé l'accord ?") is AnswerType.PERSON
    assert expected_type("Qui a signé l'accord ?") is AnswerType.PERSON


def test_english_share_tells_an_english_question_from_a_french_one() -> None:
    assert english_share("Why did the United States agree to withdraw?") > 0.3
    assert english_share("Pourquoi les Américains quittent-ils le Niger ?") == 0.0


def test_fitted_semantic_weights_apply_only_to_the_model_they_were_fitted_with() -> None:
    from bot.ask.calibration import LEXICAL, SEMANTIC, SEMANTIC_MODEL, default_calibration

    assert default_calibration(SEMANTIC_MODEL) is SEMANTIC
    assert default_calibration("another-model") is LEXICAL
    assert default_calibration(None) is LEXICAL
