"""A reply small enough to travel in a button and come back: sharing an answer with the
channel, or voting on it, needs the answer again when the button is clicked, and the
bot keeps no memory of what it sent (a restart must not break old buttons).

The packed form is the reply's JSON (`serial.to_json`) without its flags and secondary
blocks; it is untrusted when it comes back, so `unpack` checks every field and clamps
the confidence, and returns None for anything it did not make.
"""

from __future__ import annotations

import json
from typing import Any

from .replies import Block, Citation, Reply, ReplyKind
from .serial import to_json

VERSION = 2
# Button values are opaque to the platforms, but keep even them free of markup characters:
# inside JSON strings "<" and "\\u003c" are the same character.
_JSON_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def pack(reply: Reply, limit: int) -> str | None:
    """The reply in at most `limit` characters: its first block alone, then shortened
    texts, before giving up (None: the platform shows no button)."""
    blocks = [b for b in reply.blocks if b.text or b.citation]
    attempts = (
        (reply.title, blocks, 10_000),
        (reply.title, blocks[:1], 10_000),
        (reply.title[:300], blocks[:1], 150),
        (reply.title[:100], blocks[:1], 80),
    )
    for title, kept, clip in attempts:
        data = {
            "v": VERSION,
            "k": reply.kind.value,
            "t": title,
            "c": None if reply.confidence is None else round(reply.confidence, 3),
            "u": reply.url,
            "f": reply.feedback,
            "b": [_block(b, clip) for b in kept],
        }
        packed = json.dumps(data, ensure_ascii=False, separators=(",", ":")).translate(_JSON_SAFE)
        if len(packed) <= limit:
            return packed
    return None


def unpack(value: str | None) -> Reply | None:
    """The reply a `pack`ed value stands for, or None when the value is not one of ours."""
    try:
        raw = json.loads(value or "")
        if not isinstance(raw, dict) or raw.get("v") != VERSION:
            return None
        title = _text(raw["t"])
        if not title.strip():
            return None
        confidence = raw.get("c")
        return Reply(
            ReplyKind(raw["k"]),
            title,
            tuple(_unblock(b) for b in raw["b"]),
            confidence=None if confidence is None else max(0.0, min(1.0, float(confidence))),
            url=_optional(raw.get("u")),
            feedback=raw.get("f") is True,
        )
    except (ValueError, TypeError, KeyError):
        return None


def _block(block: Block, clip: int) -> dict[str, Any]:
    cite = to_json(block.citation) if block.citation else None
    if cite is not None:
        cite = {
            k: (v[:clip] if isinstance(v, str) and k in ("title", "section") else v)
            for k, v in cite.items()
        }
    return {"x": block.text, "c": cite, "u": block.url}


def _unblock(raw: Any) -> Block:
    cite = raw.get("c")
    citation = None
    if cite is not None:
        citation = Citation(
            _text(cite["article"]),
            _text(cite["title"]),
            _text(cite["section"]),
            _optional(cite.get("date")),
            _optional(cite.get("url")),
        )
    return Block(_text(raw.get("x", "")), citation=citation, url=_optional(raw.get("u")))


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value


def _optional(value: Any) -> str | None:
    return value if isinstance(value, str) else None
