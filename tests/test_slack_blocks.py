"""Block Kit rendering of the reply model: content, limits, fallbacks, buttons."""

from __future__ import annotations

import json
import re

from adapters.slack.blocks import (
    FEEDBACK_DOWN,
    FEEDBACK_UP,
    MAX_BLOCKS,
    MAX_TEXT,
    MAX_VALUE,
    SHARE_ACTION,
    render,
)
from bot.chat.packing import unpack
from bot.chat.replies import Block, Citation, Field, Reply, ReplyKind

CITATION = Citation(
    "000_ab94e0541aefd417",
    "LA JUNTE SOURDE AUX PRESSIONS",
    "DES CONDITIONS STRICTES",
    "2024-04-19",
    "https://example.org/article?id=1&x=2",
)
EXCERPT = "La secrétaire d'État adjointe, Molly Phee, était à Niamey."


def answer(text: str = EXCERPT, **overrides: object) -> Reply:
    fields = {
        "kind": ReplyKind.ANSWER,
        "title": "Qui est Molly Phee ?",
        "blocks": (Block(text, citation=CITATION, url=CITATION.url),),
        "confidence": 0.9,
        "private": True,
        "shareable": True,
        "feedback": True,
    }
    fields.update(overrides)
    return Reply(**fields)  # type: ignore[arg-type]


def all_text(blocks: list[dict]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def test_an_answer_shows_title_excerpt_citation_link_and_confidence() -> None:
    [message] = render(answer())
    kinds = [b["type"] for b in message.blocks]
    assert kinds == ["header", "section", "context", "context", "actions"]
    assert message.blocks[0]["text"]["text"] == "Qui est Molly Phee ?"
    assert message.blocks[1]["text"]["text"] == EXCERPT
    source = message.blocks[2]["elements"][0]["text"]
    assert source == (
        "Source : <https://example.org/article?id=1&amp;x=2|LA JUNTE SOURDE AUX PRESSIONS>"
        " · DES CONDITIONS STRICTES · 2024-04-19"
    )
    assert message.blocks[3]["elements"][0]["text"] == "Confiance : élevée (90 %)"


def test_every_mrkdwn_text_is_verbatim_so_slack_parses_nothing() -> None:
    [message] = render(answer())
    texts = re.findall(r'\{"type": "mrkdwn"[^}]*\}', all_text(list(message.blocks)))
    assert texts and all('"verbatim": true' in t for t in texts)


def test_a_plain_text_fallback_accompanies_the_blocks() -> None:
    [message] = render(answer())
    assert message.text.startswith("Qui est Molly Phee ?\nLa secrétaire d'État adjointe")
    assert "<https://example.org/article?id=1&amp;x=2>" in message.text
    assert message.payload()["text"] == message.text


def test_the_answer_buttons_share_and_rate_with_the_packed_answer() -> None:
    [message] = render(answer(), share=True)
    actions = message.blocks[-1]["elements"]
    assert [a["action_id"] for a in actions] == [SHARE_ACTION, FEEDBACK_UP, FEEDBACK_DOWN]
    shared = unpack(actions[0]["value"])
    assert shared is not None
    assert (shared.title, shared.blocks[0].text) == ("Qui est Molly Phee ?", EXCERPT)
    assert shared.blocks[0].citation == CITATION
    assert all(len(a["value"]) <= MAX_VALUE for a in actions)


def test_no_share_button_unless_asked_and_no_buttons_without_feedback() -> None:
    [message] = render(answer())
    assert [a["action_id"] for a in message.blocks[-1]["elements"]] == [FEEDBACK_UP, FEEDBACK_DOWN]
    [quiet] = render(answer(feedback=False))
    assert all(b["type"] != "actions" for b in quiet.blocks)


def test_an_unanswered_question_lists_suggestions() -> None:
    reply = Reply(
        ReplyKind.NO_ANSWER,
        "Quelle est la capitale de l'Australie ?",
        (Block("Les articles ne répondent pas à cette question."),),
        confidence=0.1,
        suggestions=("Qui est Molly Phee ?", "Quand les soldats partent-ils ?"),
        private=True,
    )
    [message] = render(reply)
    text = all_text(list(message.blocks))
    assert "*Vous pouvez demander par exemple :*\\n• Qui est Molly Phee ?\\n• Quand" in text
    assert "Confiance : faible (10 %)" in text


def test_an_actor_card_shows_heading_fields_and_mentions() -> None:
    reply = Reply(
        ReplyKind.ACTOR,
        "Abdourahamane Tiani",
        (
            Block(
                "Chef de la junte.",
                heading="Abdourahamane Tiani",
                url="https://fr.wikipedia.org/wiki/Abdourahamane_Tiani",
                fields=(
                    Field("Type", "personne"),
                    Field("Mentions", "4"),
                    Field("Aussi", "x, y", inline=False),
                ),
            ),
            Block("Le général Tiani a reçu Molly Phee.", marks=((11, 16),), citation=CITATION),
        ),
    )
    [message] = render(reply)
    blocks = list(message.blocks)
    assert blocks[1]["text"]["text"] == (
        "*<https://fr.wikipedia.org/wiki/Abdourahamane_Tiani|Abdourahamane Tiani>*\n"
        "Chef de la junte.\n*Aussi* : x, y"
    )
    assert blocks[2]["fields"][0]["text"] == "*Type*\npersonne"
    assert blocks[3]["text"]["text"] == "Le général *Tiani* a reçu Molly Phee."
    assert blocks[4]["type"] == "context"


def test_a_digest_has_a_header_a_section_per_article_and_its_timeline() -> None:
    articles = tuple(
        Block(
            heading=f"Article {i}",
            url=f"https://example.org/{i}",
            items=("Point clé.",),
            fields=(Field("Date", "19 avril 2024"),),
        )
        for i in range(3)
    )
    reply = Reply(
        ReplyKind.DIGEST,
        "Briefing du 19 avril",
        (
            Block("3 articles. À la une : …"),
            *articles,
            Block(heading="Chronologie", items=("19 avril 2024 : départ",)),
        ),
        footer="Prochain briefing demain.",
    )
    [message] = render(reply)
    kinds = [b["type"] for b in message.blocks]
    assert kinds[0] == "header"
    assert kinds.count("divider") == 4
    assert message.blocks[-1]["elements"][0]["text"] == "Prochain briefing demain."
    assert "*Chronologie*\\n• 19 avril 2024 : départ" in all_text(list(message.blocks))


def test_long_replies_are_split_into_messages_of_at_most_50_blocks() -> None:
    events = tuple(
        Block(f"Événement {i}.", heading=f"{i} mai", citation=CITATION) for i in range(60)
    )
    reply = Reply(ReplyKind.TIMELINE, "Chronologie (60 dates)", events, footer="fin")
    messages = render(reply)
    assert len(messages) == 3
    assert all(len(m.blocks) <= MAX_BLOCKS for m in messages)
    sections = [b for m in messages for b in m.blocks if b["type"] == "section"]
    assert len(sections) == 60
    for m in messages:  # each excerpt is followed by its citation, in the same message
        for i, block in enumerate(m.blocks):
            if block["type"] == "section":
                assert m.blocks[i + 1]["type"] == "context"
    assert messages[0].text.startswith("Chronologie (60 dates)")
    assert messages[-1].text.endswith("fin")


def test_an_over_long_excerpt_is_split_and_keeps_its_citation_after_the_last_part() -> None:
    text = " ".join(f"Phrase {i} de l'article, avec quelques mots." for i in range(300))
    [message] = render(answer(text))
    sections = [b for b in message.blocks if b["type"] == "section"]
    assert len(sections) >= 5
    assert all(len(s["text"]["text"]) <= MAX_TEXT for s in sections)
    last = max(i for i, b in enumerate(message.blocks) if b["type"] == "section")
    assert "Source :" in message.blocks[last + 1]["elements"][0]["text"]
    assert len(message.text) <= 3000


def test_injection_in_article_text_or_titles_never_reaches_slack_as_markup() -> None:
    hostile = "<!channel> <!here> <!everyone> <!subteam^S1|@devs> <@U123> <https://evil|x>"
    cited = Citation(
        "a1", f"Titre {hostile}", f"Section {hostile}", None, "https://ok.org/|<!here>"
    )
    reply = Reply(
        ReplyKind.ANSWER,
        f"Question {hostile}",
        (
            Block(
                f"Texte {hostile}",
                heading=hostile,
                citation=cited,
                items=(hostile,),
                fields=(Field(hostile, hostile),),
                note=hostile,
            ),
        ),
        suggestions=(hostile,),
        footer=hostile,
    )
    for message in render(reply, share=True):
        payload = json.dumps(message.payload(), ensure_ascii=False)
        for mention in ("<!channel>", "<!here>", "<!everyone>", "<!subteam^", "<@U"):
            assert mention not in payload
        # the only "<" left open links to URLs that we checked
        assert re.findall(r"<(?!https?://)", payload) == []


def test_a_header_is_used_only_for_titles_that_need_no_escaping() -> None:
    [plain] = render(Reply(ReplyKind.INFO, "Titre simple"))
    [escaped] = render(Reply(ReplyKind.INFO, "R&D <équipe>"))
    assert plain.blocks[0]["type"] == "header"
    assert escaped.blocks[0] == {
        "type": "section",
        "text": {"type": "mrkdwn", "text": "*R&amp;D &lt;équipe&gt;*", "verbatim": True},
    }
