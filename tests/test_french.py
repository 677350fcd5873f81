"""French as the bot writes it to users: digit grouping and agreeing plurals."""

from __future__ import annotations

import pytest

from bot.ask.commands import check_question
from bot.chat.registry import InputError
from bot.corpus.french import count, number


def test_thousands_are_grouped_the_french_way() -> None:
    assert number(5021) == "5\u202f021"
    assert number(1_000_000) == "1\u202f000\u202f000"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, "0 article"), (1, "1 article"), (2, "2 articles"), (1500, "1\u202f500 articles")],
)
def test_the_noun_agrees_with_its_number(value: int, expected: str) -> None:
    assert count(value, "article") == expected


def test_an_irregular_plural_is_given(value: int = 3) -> None:
    assert count(value, "travail", "travaux") == "3 travaux"


def test_a_too_long_question_is_measured_in_french() -> None:
    with pytest.raises(InputError) as refused:
        check_question("x" * 5021, 1000)
    assert "5\u202f021 caractères, maximum 1\u202f000" in refused.value.message
