"""Discord rendering of replies: the embed layout, Discord's limits, defused markup."""

from __future__ import annotations

import discord
import pytest

from adapters.discord.embeds import (
    BUTTON_LABEL_LIMIT,
    CONTENT_LIMIT,
    DESCRIPTION_LIMIT,
    EMBED_CHARS_PER_MESSAGE,
    EMBEDS_PER_MESSAGE,
    FIELDS_PER_EMBED,
    FOOTER_LIMIT,
    TITLE_LIMIT,
    DiscordMessage,
    clip,
    embed_size,
    escape,
    render_reply,
    safe_url,
    size,
)
from bot.chat.replies import Block, Citation, Field, Reply, ReplyKind, error
from tests.fakes.discord_api import check_message

URL = "https://example.org/niger/retrait"


def cite(n: int = 0, *, url: str | None = URL, date: str | None = "2024-04-19") -> Citation:
    return Citation(f"art{n}", f"Article {n}", f"Section {n}", date, url)


def answer(text: str = "Molly Phee a tenté de dialoguer avec la junte.") -> Reply:
    return Reply(
        ReplyKind.ANSWER,
        "Qui est Molly Phee ?",
        (
            Block(text, citation=cite(), url=URL),
            Block(heading="Voir aussi", items=("Section 2 — Article 2",)),
        ),
        confidence=0.92,
        url=URL,
        private=True,
        shareable=True,
    )


def long_timeline(events: int = 300) -> Reply:
    blocks = tuple(
        Block(
            text=f"Événement {i} :" + " Les soldats américains quittent la base aérienne." * 8,
            heading=f"{i % 28 + 1} avril 2024",
            marks=((0, 9),),
            citation=cite(i % 7, url=f"https://example.org/{i % 7}"),
        )
        for i in range(events)
    )
    return Reply(ReplyKind.TIMELINE, f"Chronologie ({events} dates)", blocks, footer="Fin.")


def long_digest(articles: int = 40) -> Reply:
    entries = tuple(
        Block(
            heading=f"Article {i} — " + "Le Niger et les États-Unis " * 3,
            url=f"https://example.org/a/{i}",
            items=tuple("Point clé de l'article, résumé en une phrase. " * 3 for _ in range(5)),
            fields=(
                Field("Date", "19 avril 2024"),
                Field("Acteurs", ", ".join(f"Acteur {j}" for j in range(60)), inline=False),
            ),
        )
        for i in range(articles)
    )
    return Reply(
        ReplyKind.DIGEST,
        "Briefing du 20 avril",
        (Block(f"{articles} articles. À la une : les soldats partent."), *entries),
        footer="Posté avec 3 minutes de retard.",
    )


def payload(message: DiscordMessage) -> dict:
    return {"content": message.content, "embeds": [e.to_dict() for e in message.embeds]}


def assert_within_limits(messages: list[DiscordMessage]) -> None:
    for message in messages:
        assert len(message.embeds) <= EMBEDS_PER_MESSAGE
        assert sum(embed_size(e) for e in message.embeds) <= EMBED_CHARS_PER_MESSAGE
        assert sum(len(e) for e in message.embeds) <= EMBED_CHARS_PER_MESSAGE
        assert size(message.content) <= CONTENT_LIMIT
        for embed in message.embeds:
            assert size(embed.description) <= DESCRIPTION_LIMIT
            assert size(embed.title) <= TITLE_LIMIT
            assert len(embed.fields) <= FIELDS_PER_EMBED
            assert size(embed.footer.text) <= FOOTER_LIMIT
        assert check_message(payload(message)) is None  # what Discord itself would check


# --- layout ---------------------------------------------------------------------------------


def test_an_answer_is_one_embed_with_title_excerpt_and_source_footer() -> None:
    (message,) = render_reply(answer())
    (embed,) = message.embeds
    assert embed.title == "Qui est Molly Phee ?"
    assert embed.url == URL
    assert embed.description.startswith("Molly Phee a tenté de dialoguer avec la junte.")
    assert embed.footer.text == ("Article 0 · Section 0 · 2024-04-19 · Confiance : élevée (92 %)")


def test_an_answer_links_its_article_with_a_button() -> None:
    (message,) = render_reply(answer())
    assert [(link.label, link.url) for link in message.links] == [("Lire l'article", URL)]


def test_see_also_items_follow_the_excerpt_as_a_list() -> None:
    (message,) = render_reply(answer())
    assert message.embeds[0].description.endswith("**Voir aussi**\n• Section 2 — Article 2")


def test_marked_spans_are_bold() -> None:
    block = Block("Le 19 avril, départ.", marks=((3, 11),))
    reply = Reply(ReplyKind.TIMELINE, "Chronologie", (block,))
    assert render_reply(reply)[0].embeds[0].description == "Le **19 avril**, départ."


def test_several_citations_each_sit_right_under_their_excerpt() -> None:
    reply = Reply(
        ReplyKind.TIMELINE,
        "Chronologie",
        (Block("Premier fait.", citation=cite(1)), Block("Second fait.", citation=cite(2))),
    )
    description = render_reply(reply)[0].embeds[0].description
    assert description == (
        f"Premier fait.\n— *Article 1 · Section 1 · 2024-04-19* · [source]({URL})"
        f"\n\nSecond fait.\n— *Article 2 · Section 2 · 2024-04-19* · [source]({URL})"
    )


def test_an_actor_card_keeps_its_role_and_fields_in_the_first_embed() -> None:
    reply = Reply(
        ReplyKind.ACTOR,
        "Mohamed Bazoum",
        (
            Block("Président renversé en juillet 2023.", heading="Rôle",
                  fields=(Field("Type", "Personne"), Field("Mentions", "2"))),
            Block("Le président Mohamed Bazoum a été renversé.", marks=((14, 28),),
                  citation=cite(1), heading="Cité dans les articles (2)"),
            Block("Mohamed Bazoum reste détenu.", marks=((0, 14),), citation=cite(2)),
            Block(heading="Souvent cités avec", items=("Abdourahamane Tiani",),
                  fields=(Field("Première mention", "juillet 2023"),)),
        ),
        shareable=True,
    )  # fmt: skip
    (message,) = render_reply(reply)
    card, mentions, related = message.embeds
    assert card.title == "Mohamed Bazoum"
    assert card.description == "**Rôle**\nPrésident renversé en juillet 2023."
    assert [(f.name, f.value) for f in card.fields] == [("Type", "Personne"), ("Mentions", "2")]
    assert "**Mohamed Bazoum**" in mentions.description
    assert mentions.description.count("— *Article") == 2
    assert related.title == "Souvent cités avec"
    assert related.description == "• Abdourahamane Tiani"
    assert [f.name for f in related.fields] == ["Première mention"]


def test_a_digest_gives_each_article_its_own_embed_with_its_fields() -> None:
    (first, *_) = render_reply(long_digest(3))
    headline, *articles = first.embeds
    assert headline.title == "Briefing du 20 avril"
    assert len(articles) == 3
    assert articles[0].title.startswith("Article 0 — ")
    assert articles[0].url == "https://example.org/a/0"
    assert [f.name for f in articles[0].fields] == ["Date", "Acteurs"]
    assert articles[-1].footer.text == "Posté avec 3 minutes de retard."


def test_suggested_commands_are_shown_as_code_and_questions_as_text() -> None:
    reply = Reply(
        ReplyKind.NO_ANSWER,
        "Qui a gagné ?",
        (Block("Les articles ne répondent pas à cette question."),),
        suggestions=("Qui est Molly Phee ?", "/briefing subscribe tz=Europe/Paris"),
    )
    description = render_reply(reply)[0].embeds[0].description
    assert description.endswith(
        "**Vous pouvez demander par exemple :**\n• Qui est Molly Phee ?"
        "\n• `/briefing subscribe tz=Europe/Paris`"
    )


def test_errors_are_red_and_answers_blue() -> None:
    assert render_reply(error("Non."))[0].embeds[0].colour == discord.Colour(0xE53E3E)
    assert render_reply(answer())[0].embeds[0].colour == discord.Colour(0x2B6CB0)


# --- limits ---------------------------------------------------------------------------------


def test_a_very_long_timeline_is_split_within_every_discord_limit() -> None:
    messages = render_reply(long_timeline(300))
    assert len(messages) > 1
    assert_within_limits(messages)


def test_splitting_never_separates_an_excerpt_from_its_citation() -> None:
    reply = long_timeline(300)
    messages = render_reply(reply)
    descriptions = [e.description or "" for m in messages for e in m.embeds]
    for block in reply.blocks:
        excerpt = f"**Événement**{escape(block.text[9:])}"
        (holder,) = [d for d in descriptions if excerpt + "\n" in d]
        after = holder[holder.index(excerpt) + len(excerpt) :]
        assert after.startswith(f"\n— *{block.citation.title} · ")


def test_splitting_keeps_the_blocks_in_order() -> None:
    reply = long_timeline(60)
    text = "\n".join(e.description or "" for m in render_reply(reply) for e in m.embeds)
    positions = [text.index(f"**Événement** {i} :") for i in range(60)]
    assert positions == sorted(positions)


def test_a_long_digest_is_split_within_every_discord_limit() -> None:
    messages = render_reply(long_digest(40))
    assert len(messages) > 1
    assert_within_limits(messages)
    titles = [e.title for m in messages for e in m.embeds if e.title]
    assert sum(1 for t in titles if t.startswith("Article ")) == 40


def test_a_block_larger_than_an_embed_is_cut_between_its_items() -> None:
    items = tuple(f"Acteur {i} — président de quelque chose" for i in range(2000))
    reply = Reply(ReplyKind.ACTORS, "Acteurs", (Block("Tous les acteurs :", items=items),))
    messages = render_reply(reply)
    assert_within_limits(messages)
    text = "\n".join(e.description or "" for m in messages for e in m.embeds)
    assert text.count("• Acteur ") == 2000
    assert messages[0].embeds[0].description.startswith("Tous les acteurs :\n• Acteur 0 ")


def test_a_block_with_more_than_25_fields_continues_in_another_embed() -> None:
    fields = tuple(Field(f"Champ {i}", "valeur " * 50) for i in range(60))
    reply = Reply(ReplyKind.INFO, "Beaucoup de champs", (Block("Texte", fields=fields),))
    messages = render_reply(reply)
    assert_within_limits(messages)
    assert sum(len(e.fields) for m in messages for e in m.embeds) == 60


def test_huge_titles_excerpts_and_footers_are_clipped() -> None:
    reply = Reply(
        ReplyKind.ANSWER,
        "Q" * 5000,
        (Block("x" * 10_000, citation=cite()),),
        confidence=0.5,
        footer="f" * 5000,
    )
    messages = render_reply(reply)
    assert_within_limits(messages)
    assert messages[0].embeds[0].title.endswith("…")
    assert messages[-1].embeds[-1].footer.text.endswith("…")


def test_link_button_labels_are_clipped_to_80_characters() -> None:
    blocks = tuple(
        Block(f"Fait {i}.", citation=Citation("a", "Titre " * 40, "S", None, f"{URL}/{i}"))
        for i in range(2)
    )
    (message,) = render_reply(Reply(ReplyKind.TIMELINE, "T", blocks))
    assert len(message.links) == 2
    assert all(len(link.label) <= BUTTON_LABEL_LIMIT for link in message.links)


def test_a_message_has_at_most_four_link_buttons() -> None:
    blocks = tuple(Block(f"Fait {i}.", citation=cite(i, url=f"{URL}/{i}")) for i in range(9))
    (message,) = render_reply(Reply(ReplyKind.TIMELINE, "T", blocks))
    assert len(message.links) == 4  # the fifth place of the row is for "share"


# --- untrusted text -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "forbidden"),
    [
        ("@everyone regardez", "@everyone"),
        ("@here vite", "@here"),
        ("salut <@&123456789012345678>", "<@&"),
        ("salut <@123456789012345678>", "<@1"),
        ("voir <#123456789012345678>", "<#1"),
        ("</ask:123456789012345678>", "</ask"),
        ("[cliquez ici](https://evil.example)", "]("),
        ("**gras** et __souligné__", "**gras**"),
        ("# Gros titre", "\n# Gros"),
        ("> citation piégée", "\n> citation"),
        ("```code```", "```"),
        ("||spoiler||", "||spoiler||"),
    ],
)
def test_article_markup_cannot_format_ping_or_link(raw: str, forbidden: str) -> None:
    reply = Reply(ReplyKind.ANSWER, raw, (Block("Avant\n" + raw, citation=cite()),))
    embed = render_reply(reply)[0].embeds[0]
    assert forbidden not in embed.description
    assert forbidden not in embed.title


def test_a_question_with_markup_is_shown_as_typed() -> None:
    (message,) = render_reply(answer())
    reply = Reply(ReplyKind.NO_ANSWER, "**Qui** est _Tiani_ ?", ())
    assert render_reply(reply)[0].embeds[0].title == r"\*\*Qui\*\* est \_Tiani\_ ?"
    assert message.embeds[0].title == "Qui est Molly Phee ?"


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "ftp://example.org/x", "example.org/x", "https://", "x" * 600],
)
def test_only_http_links_are_kept(url: str) -> None:
    assert safe_url(url) is None
    reply = Reply(ReplyKind.ANSWER, "Q", (Block("R", citation=cite(url=url), url=url),), url=url)
    (message,) = render_reply(reply)
    assert message.links == ()
    assert message.embeds[0].url is None
    assert "](" not in message.embeds[0].description


def test_a_url_cannot_break_out_of_its_markdown_link() -> None:
    assert safe_url("https://example.org/a (b)") == "https://example.org/a%20%28b%29"


def test_clip_never_leaves_a_backslash_escaping_the_ellipsis() -> None:
    assert clip("ab\\*cd", 4) == "ab…"
    assert clip("abc", 4) == "abc"


def test_sizes_count_utf16_units_like_discord() -> None:
    assert size("é") == 1
    assert size("🇳🇪") == 4
