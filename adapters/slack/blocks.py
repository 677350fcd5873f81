"""Block Kit rendering of the core's `Reply`, split to Slack's limits.

Each core `Block` becomes one unit of Slack blocks (its sections, then its fields, then the
context line with its citation), and units are packed into messages of at most 50 blocks:
a citation always stays in the same message, right after the last part of its excerpt. A
text longer than a section allows (3,000 characters) is cut at a line, sentence or word
break. Every message carries a plain `text` fallback. Untrusted text goes through
`slack_text.escape` only; `mrkdwn` objects are `verbatim` so Slack parses nothing in them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from adapters.slack.mrkdwn import Mrkdwn, escape, fit, safe_url
from bot.chat.packing import pack
from bot.chat.replies import Block, Citation, Field, Reply, ReplyKind, confidence_label

MAX_BLOCKS = 50  # per message
MAX_TEXT = 3000  # per section text
MAX_HEADER = 150  # header blocks are plain text
MAX_FIELDS = 10  # per section
MAX_FIELD = 2000  # per field text
MAX_VALUE = 2000  # per button value
FALLBACK_CHARS = 3000  # the notification text needs no more

SHARE_ACTION = "briefbot_share"
FEEDBACK_UP = "briefbot_feedback_up"
FEEDBACK_DOWN = "briefbot_feedback_down"
FEEDBACK_VOTES = {FEEDBACK_UP: "up", FEEDBACK_DOWN: "down"}

_DIVIDED = {ReplyKind.DIGEST, ReplyKind.SUBSCRIPTIONS, ReplyKind.ACTORS}
_SPECIAL = frozenset("&<>")

JsonBlock = dict[str, Any]


@dataclass(frozen=True)
class SlackMessage:
    """One message to post: Block Kit blocks and their plain-text fallback."""

    text: str
    blocks: tuple[JsonBlock, ...]

    def payload(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": list(self.blocks)}


def render(
    reply: Reply, *, share: bool = False, feedback: bool | None = None
) -> list[SlackMessage]:
    """The reply as one or more messages. `share` adds the "share in the channel" button,
    `feedback` the 👍/👎 buttons (default: what the reply asks for)."""
    feedback = reply.feedback if feedback is None else feedback
    head = title_blocks(reply.title) if reply.title else []
    units: list[tuple[Block, list[JsonBlock]]] = []
    for i, block in enumerate(reply.blocks):
        unit = block_blocks(block)
        if unit and i and block.heading and reply.kind in _DIVIDED:
            unit.insert(0, {"type": "divider"})
        units.append((block, unit))
    tail = trailer_blocks(reply) + action_blocks(reply, share=share, feedback=feedback)
    return _pack(reply, head, units, tail)


# --- blocks ------------------------------------------------------------------------------


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def section(text: str) -> JsonBlock:
    return {"type": "section", "text": mrkdwn(text)}


def context(*texts: str) -> JsonBlock:
    return {"type": "context", "elements": [mrkdwn(t) for t in texts[:10]]}


def title_blocks(title: str) -> list[JsonBlock]:
    """A header when the title is short and needs no escaping (header text is plain text,
    where entities are not reliably decoded); otherwise a bold line."""
    title = " ".join(title.split())
    if len(title) <= MAX_HEADER and not _SPECIAL & set(title):
        return [{"type": "header", "text": {"type": "plain_text", "text": title}}]
    return [section(Mrkdwn().bold(fit(title, MAX_TEXT - 10)).value())]


def block_blocks(block: Block) -> list[JsonBlock]:
    """One core block as Slack blocks: text sections, field sections, then a context line
    with the citation and the note (so the citation follows the last part of the text)."""
    body = Mrkdwn()
    if block.heading:
        heading = fit(block.heading, 300)
        if safe_url(block.url):
            body.link(block.url, heading, bold=True)
        else:
            body.bold(heading)
    if block.text:
        body.newline()
        body.marked(block.text, block.marks)
    for item in block.items:
        body.newline()
        body.text("• ")
        body.text(item, links=True)
    for f in block.fields:
        if not f.inline:
            body.newline()
            body.bold(fit(f.name, 100))
            body.text(" : ")
            body.text(f.value, links=True)
    out = [section(piece) for piece in body.split(MAX_TEXT)]
    inline = [f for f in block.fields if f.inline]
    for start in range(0, len(inline), MAX_FIELDS):
        chunk = inline[start : start + MAX_FIELDS]
        out.append({"type": "section", "fields": [mrkdwn(field_text(f)) for f in chunk]})
    notes = []
    if block.citation:
        notes.append(citation_text(block.citation))
    if block.note:
        notes.append(Mrkdwn().italic(fit(block.note, MAX_TEXT - 10)).value())
    if notes:
        out.append(context(*notes))
    return out


def field_text(f: Field) -> str:
    name = fit(f.name, 100)
    value = fit(f.value, MAX_FIELD - len(escape(name)) - 10)
    return Mrkdwn().bold(name).newline().text(value, links=True).value()


def citation_text(c: Citation) -> str:
    """ "Source : <url|Title> · Section · date" — the article linked when it has a URL."""
    m = Mrkdwn().text("Source : ").link(c.url, fit(c.title or c.article, 500))
    for part in c.details:
        m.text(" · " + fit(part, 500))
    return m.value()


def trailer_blocks(reply: Reply) -> list[JsonBlock]:
    out: list[JsonBlock] = []
    if reply.confidence is not None:
        out.append(context(escape(f"Confiance : {confidence_label(reply.confidence)}")))
    if reply.suggestions:
        m = Mrkdwn().bold("Vous pouvez demander par exemple :")
        for suggestion in reply.suggestions:
            m.newline().text("• " + fit(suggestion, 500))
        out.extend(section(piece) for piece in m.split(MAX_TEXT))
    if reply.footer:
        out.append(context(Mrkdwn().text(fit(reply.footer, MAX_TEXT - 10), links=True).value()))
    return out


def action_blocks(reply: Reply, *, share: bool, feedback: bool) -> list[JsonBlock]:
    """Share and 👍/👎 buttons for an answer; each button carries the packed reply."""
    if not (share or feedback):
        return []
    value = pack(reply, MAX_VALUE)
    if value is None:
        return []
    elements = []
    if share:
        elements.append(button(SHARE_ACTION, "Partager dans le canal", value, style="primary"))
    if feedback:
        elements.append(button(FEEDBACK_UP, "👍 Utile", value))
        elements.append(button(FEEDBACK_DOWN, "👎 Pas utile", value))
    return [{"type": "actions", "elements": elements}]


def button(action_id: str, label: str, value: str, *, style: str | None = None) -> JsonBlock:
    out: JsonBlock = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": label, "emoji": True},
        "value": value,
    }
    if style:
        out["style"] = style
    return out


# --- packing -----------------------------------------------------------------------------


def _pack(
    reply: Reply,
    head: list[JsonBlock],
    units: Sequence[tuple[Block, list[JsonBlock]]],
    tail: list[JsonBlock],
) -> list[SlackMessage]:
    groups: list[tuple[list[JsonBlock], list[Block]]] = []
    blocks: list[JsonBlock] = list(head)
    core: list[Block] = []

    def flush() -> None:
        nonlocal blocks, core
        if blocks:
            groups.append((blocks, core))
        blocks, core = [], []

    for core_block, unit in units:
        for start in range(0, len(unit), MAX_BLOCKS):  # a unit over 50 blocks: never, really
            piece = unit[start : start + MAX_BLOCKS]
            if blocks and len(blocks) + len(piece) > MAX_BLOCKS:
                flush()
            blocks.extend(piece)
            if not core or core[-1] is not core_block:
                core.append(core_block)
    if tail:
        if blocks and len(blocks) + len(tail) > MAX_BLOCKS:
            flush()
        blocks.extend(tail)
    flush()
    if not groups:
        groups.append(([section(escape(reply.title or "…"))], []))

    messages = []
    last = len(groups) - 1
    for i, (group_blocks, group_core) in enumerate(groups):
        part = Reply(
            reply.kind,
            reply.title if i == 0 else "",
            tuple(group_core),
            confidence=reply.confidence if i == last else None,
            suggestions=reply.suggestions if i == last else (),
            footer=reply.footer if i == last else None,
        )
        fallback = part.plain_text() or reply.title or "…"
        text = Mrkdwn().text(fit(fallback, FALLBACK_CHARS), links=True).value()
        messages.append(SlackMessage(text, tuple(group_blocks)))
    return messages
