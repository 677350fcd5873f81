"""A reply packed into a button value comes back as the same reply, and nothing else does."""

from __future__ import annotations

import json
from dataclasses import replace

from bot.chat.packing import pack, unpack
from bot.chat.replies import Block, Citation, Reply, ReplyKind

CITATION = Citation("000_ab94", "LA JUNTE SOURDE", "DES CONDITIONS STRICTES", "2024-04-19", None)
SECOND = Citation("003_7eb3", "LES ÉTATS-UNIS", "AFRICA CORPS", None, "https://example.org/a")
ANSWER = Reply(
    ReplyKind.ANSWER,
    "Qui est Molly Phee ?",
    (
        Block("La secrétaire d'État adjointe, Molly Phee, était à Niamey.", citation=CITATION),
        Block("Voir aussi", citation=SECOND),
    ),
    confidence=0.9,
    feedback=True,
)


def test_a_packed_reply_comes_back_with_its_title_blocks_and_confidence() -> None:
    back = unpack(pack(ANSWER, 2000))
    assert back is not None
    assert (back.kind, back.title, back.confidence, back.feedback) == (
        ReplyKind.ANSWER,
        "Qui est Molly Phee ?",
        0.9,
        True,
    )
    assert [b.citation for b in back.blocks] == [CITATION, SECOND]


def test_a_huge_reply_keeps_its_first_passage_within_the_limit() -> None:
    huge_cite = replace(CITATION, title="t" * 900, section="s" * 900)
    huge = replace(
        ANSWER,
        title="q" * 5000,
        blocks=(Block("excerpt", citation=huge_cite), *ANSWER.blocks),
    )
    packed = pack(huge, 2000)
    assert packed is not None and len(packed) <= 2000
    back = unpack(packed)
    assert back is not None
    assert back.blocks[0].text == "excerpt"
    assert back.blocks[0].citation is not None
    assert back.blocks[0].citation.article == CITATION.article


def test_a_confidence_out_of_range_is_clamped() -> None:
    packed = json.loads(pack(ANSWER, 2000) or "")
    for forged, clamped in ((7.5, 1.0), (-3, 0.0)):
        back = unpack(json.dumps({**packed, "c": forged}))
        assert back is not None and back.confidence == clamped


def test_values_we_did_not_make_are_rejected() -> None:
    assert unpack("not json") is None
    assert unpack(None) is None
    assert unpack(json.dumps({"v": 1, "q": "<!channel>"})) is None
    packed = json.loads(pack(ANSWER, 2000) or "")
    assert unpack(json.dumps({**packed, "t": 42})) is None
    assert unpack(json.dumps({**packed, "b": [{"x": "y", "c": {"article": 1}}]})) is None
    assert unpack(json.dumps({**packed, "k": "no such kind"})) is None


def test_markup_characters_never_appear_in_a_packed_value() -> None:
    trap = replace(ANSWER, title="<!channel> & <@U123>")
    packed = pack(trap, 2000)
    assert packed is not None and not set("<>&") & set(packed)
    back = unpack(packed)
    assert back is not None and back.title == "<!channel> & <@U123>"
