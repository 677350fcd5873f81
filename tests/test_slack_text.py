"""Slack markup both ways: escaping untrusted text, reading users' messages, splitting."""

from __future__ import annotations

import pytest

from adapters.slack.mrkdwn import Mrkdwn, escape, fit, from_slack, link, safe_url


def test_escape_turns_slacks_three_reserved_characters_into_entities() -> None:
    assert escape("a & b <c> d") == "a &amp; b &lt;c&gt; d"


@pytest.mark.parametrize(
    "hostile", ["<!channel>", "<!here>", "<!everyone>", "<!subteam^S123|@devs>", "<@U123>"]
)
def test_escaped_text_can_never_form_a_special_mention(hostile: str) -> None:
    assert "<" not in escape(f"Bonjour {hostile} !")


def test_only_plain_http_urls_are_linked() -> None:
    assert safe_url("https://example.org/a?b=1&c=2") == "https://example.org/a?b=1&c=2"
    assert safe_url("javascript:alert(1)") is None
    assert safe_url("https://x.org/|<!channel>") is None
    assert safe_url("https://x.org/a b") is None


def test_link_escapes_the_url_and_the_label() -> None:
    assert (
        link("https://x.org/?a=1&b=2", "R&D <test>")
        == "<https://x.org/?a=1&amp;b=2|R&amp;D &lt;test&gt;>"
    )


def test_a_label_with_an_unsafe_url_is_shown_without_link() -> None:
    assert link("https://x.org/|<!here>", "Titre") == "Titre"


def test_from_slack_turns_mentions_and_links_into_plain_words() -> None:
    text = (
        "<@U123|alice> <!here> <#C1|general> <!subteam^S1|@devs> <https://x.org|site> "
        "&lt;b&gt; &amp;"
    )
    assert from_slack(text) == "@alice @here #general @devs site <b> &"


def test_from_slack_keeps_a_bare_mention_readable() -> None:
    assert from_slack("<@U123> et <!channel>") == "@U123 et @channel"


def test_core_bracketed_urls_become_links_when_asked() -> None:
    m = Mrkdwn().text("Voir <https://x.org/a> et <!channel>", links=True)
    assert m.value() == "Voir <https://x.org/a> et &lt;!channel&gt;"


def test_marked_spans_are_bold_and_escaped() -> None:
    m = Mrkdwn().marked("Le 3 mai <b>, Tiani parle.", ((0, 8),))
    assert m.value() == "*Le 3 mai* &lt;b&gt;, Tiani parle."


def test_split_prefers_sentence_ends_and_respects_the_limit() -> None:
    text = " ".join(f"Phrase numéro {i} assez longue pour compter." for i in range(200))
    pieces = Mrkdwn().text(text).split(3000)
    assert len(pieces) > 1
    assert all(len(p) <= 3000 for p in pieces)
    assert all(p.endswith(".") for p in pieces)
    assert " ".join(pieces) == text


def test_split_never_cuts_an_entity_or_a_bold_span() -> None:
    text = ("a&b " * 900) + "fin"
    m = Mrkdwn().text(text).bold("Tiani Tiani Tiani")
    pieces = m.split(1000)
    assert all(len(p) <= 1000 for p in pieces)
    assert all(not p.endswith("&") and not p.endswith("&amp") for p in pieces)
    assert "*Tiani Tiani Tiani*" in pieces[-1]


def test_an_unbroken_run_is_cut_hard_but_outside_entities() -> None:
    pieces = Mrkdwn().text("&" * 1000).split(998)
    assert all(len(p) <= 998 for p in pieces)
    assert "".join(pieces) == "&amp;" * 1000


def test_fit_measures_the_escaped_length() -> None:
    shortened = fit("<" * 100, 41)
    assert len(escape(shortened)) <= 41
    assert shortened.endswith("…")
    assert fit("court", 10) == "court"


def test_formatting_a_user_typed_is_echoed_as_typed_not_applied() -> None:
    shown = escape("*gras* _penché_ ~barré~ `code`")
    assert not set("*_~`") & set(shown)
    assert shown == "∗gras∗ ˍpenchéˍ ∼barré∼ ˋcodeˋ"


def test_markers_inside_words_and_urls_are_left_alone() -> None:
    assert escape("snake_case a*b") == "snake_case a*b"
    assert link("https://example.org/a_b*c", "x") == "<https://example.org/a_b*c|x>"
