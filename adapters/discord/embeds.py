"""The core's `Reply` as Discord messages: embeds within Discord's limits, markup defused.

Discord refuses a message outright when a limit is exceeded, so every size is checked here
rather than discovered as a 400 in production:

* 2,000 characters of content; 10 embeds and 6,000 embed characters per message;
* per embed: title 256, description 4,096, 25 fields (name 256, value 1,024), footer 2,048.

A `Block` is the unit of splitting: it goes whole into one embed, its citation right under
its excerpt (or in the embed's footer when the reply cites a single passage, as answers do),
so no split can separate a passage from its source. Only a block too big for an empty embed
is cut, between its list items, and its text and citation still stay together.

All reply text is untrusted (user questions, article text): it is escaped for Discord's
markdown and anything that would render as a mention, a channel, a slash command or a
timestamp is defused. Messages are also sent with `AllowedMentions.none()` by the adapter;
the escaping only keeps what users *see* honest.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

import discord

from bot.chat.replies import Block, Citation, Reply, ReplyKind, confidence_label

CONTENT_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELDS_PER_EMBED = 25
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
EMBEDS_PER_MESSAGE = 10
EMBED_CHARS_PER_MESSAGE = 6000
BUTTON_LABEL_LIMIT = 80
URL_LIMIT = 512  # a link button's URL
BUTTONS_PER_ROW = 5
LINKS_PER_MESSAGE = BUTTONS_PER_ROW - 1  # one place kept for the "share" button

# Footers are clipped to this, and a message is filled up to MESSAGE_BUDGET before its
# footers are known: a message holds at most two (a cited passage's and the reply's last).
FOOTER_BUDGET = 400
MESSAGE_BUDGET = EMBED_CHARS_PER_MESSAGE - 2 * FOOTER_BUDGET

BLOCK_SEPARATOR = "\n\n"
ELLIPSIS = "…"

COLOURS: dict[ReplyKind, int] = {
    ReplyKind.ANSWER: 0x2B6CB0,
    ReplyKind.NO_ANSWER: 0x718096,
    ReplyKind.ACTOR: 0x805AD5,
    ReplyKind.ACTOR_CHOICES: 0x805AD5,
    ReplyKind.ACTORS: 0x805AD5,
    ReplyKind.DIGEST: 0xDD6B20,
    ReplyKind.TIMELINE: 0x319795,
    ReplyKind.SUBSCRIPTIONS: 0x4A5568,
    ReplyKind.INFO: 0x4A5568,
    ReplyKind.SUCCESS: 0x38A169,
    ReplyKind.ERROR: 0xE53E3E,
    ReplyKind.HELP: 0x4A5568,
}

# Discord renders <@id>, <@&id>, <#id>, </cmd:id>, <t:…>, <:emoji:id> and <id:…> specially.
_ANGLE_MARKUP = re.compile(r"<(?=[@#/:]|a:|t:|id:)", re.IGNORECASE)
_EVERYONE = re.compile(r"@(?=(?:everyone|here)\b)", re.IGNORECASE)
_ZWSP = "\u200b"


# ------------------------------------------------------------------------------ text


def size(text: str | None) -> int:
    """Length as Discord may count it (UTF-16 code units): never less than `len`."""
    if not text:
        return 0
    return len(text.encode("utf-16-le")) // 2


def embed_size(embed: discord.Embed) -> int:
    """Characters an embed counts towards the 6,000 per message, by the `size` measure."""
    total = size(embed.title) + size(embed.description) + size(embed.footer.text)
    total += size(embed.author.name)
    return total + sum(size(f.name) + size(f.value) for f in embed.fields)


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` (by `size`) with an ellipsis; never ends on a lone backslash,
    which would escape the ellipsis."""
    if size(text) <= limit:
        return text
    cut = text[: max(0, limit - 1)]
    while cut and size(cut) > limit - 1:
        cut = cut[:-1]
    cut = cut.rstrip()
    trailing = len(cut) - len(cut.rstrip("\\"))
    if trailing % 2:
        cut = cut[:-1]
    return cut + ELLIPSIS


def defuse(text: str) -> str:
    """Neutralise mention-like markup (@everyone, <@id>, <#id>, </cmd:id>, <t:…>)."""
    return _ANGLE_MARKUP.sub("<" + _ZWSP, _EVERYONE.sub("@" + _ZWSP, text))


def escape(text: str) -> str:
    """Untrusted text for a place where Discord renders markdown (masked links included:
    `[label](url)` would hide where a link goes)."""
    return discord.utils.escape_markdown(defuse(text)).replace("](", "]\\(")


def plain(text: str) -> str:
    """Untrusted text for a place without markdown (footers, button labels)."""
    return defuse(" ".join(text.split()))


def safe_url(url: str | None) -> str | None:
    """An http(s) URL Discord will accept in a link, with the characters that would break
    a markdown link `[label](url)` percent-encoded; None for anything else."""
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    encoded = quote(url, safe=":/?#[]@!$&'*+,;=%~")
    return encoded if len(encoded) <= URL_LIMIT else None


def marked(text: str, marks: tuple[tuple[int, int], ...]) -> str:
    """Escaped text with the `marks` spans in bold (overlapping or bad spans are ignored)."""
    out: list[str] = []
    pos = 0
    for start, end in sorted(marks):
        if start < pos or end <= start or end > len(text):
            continue
        out.append(escape(text[pos:start]))
        span = text[start:end]
        out.append(f"**{escape(span)}**" if span.strip() else escape(span))
        pos = end
    out.append(escape(text[pos:]))
    return "".join(out)


def citation_markdown(c: Citation) -> str:
    """`— *Article · Section · date* · [source](url)` under an excerpt."""
    line = f"— *{escape(c.label)}*"
    url = safe_url(c.url)
    return f"{line} · [source]({url})" if url else line


def citation_footer(c: Citation) -> str:
    return plain(c.label)


def suggestion_line(text: str) -> str:
    """Commands as inline code (copyable), questions as plain escaped text."""
    text = " ".join(text.split())
    if text.startswith("/"):
        return f"• `{defuse(text).replace('`', 'ˋ')}`"
    return f"• {escape(text)}"


# ------------------------------------------------------------------------------ model


@dataclass(frozen=True, slots=True)
class Link:
    """A link button: Discord opens the URL itself, the bot never sees the click."""

    label: str
    url: str


@dataclass(frozen=True)
class DiscordMessage:
    """One message to send: up to 10 embeds, link buttons, optional content."""

    embeds: tuple[discord.Embed, ...]
    links: tuple[Link, ...] = ()
    content: str | None = None

    @property
    def embed_chars(self) -> int:
        return sum(embed_size(e) for e in self.embeds)


FieldSpec = tuple[str, str, bool]  # name, value, inline — already escaped and clipped


@dataclass
class _Draft:
    """An embed being filled, and the message it will go in. It is `closed` once it has
    fields: text added later would show above them, out of order."""

    message: int
    title: str | None = None
    url: str | None = None
    parts: list[str] = field(default_factory=list)
    fields: list[FieldSpec] = field(default_factory=list)
    footer: list[str] = field(default_factory=list)
    urls: list[tuple[str, str | None]] = field(default_factory=list)  # (url, article title)
    closed: bool = False

    @property
    def untouched(self) -> bool:
        return not self.parts and not self.fields and self.title is None and not self.closed

    def description_size(self, text: str | None = None) -> int:
        return size(BLOCK_SEPARATOR.join([*self.parts, text] if text else self.parts))

    def cost(self, text: str | None = None, fields: Sequence[FieldSpec] = ()) -> int:
        chars = size(self.title) + self.description_size(text)
        return chars + sum(size(n) + size(v) for n, v, _ in [*self.fields, *fields])


class _Packer:
    """Fills embeds block by block and embeds message by message, opening a new embed (or
    message) when the next block does not fit."""

    def __init__(self, reply: Reply) -> None:
        title = clip(escape(" ".join(reply.title.split())), TITLE_LIMIT) if reply.title else None
        self.drafts: list[_Draft] = [_Draft(0, title=title or None, url=safe_url(reply.url))]

    @property
    def current(self) -> _Draft:
        return self.drafts[-1]

    @property
    def bare(self) -> bool:
        """Nothing placed yet: the first embed holds at most the reply's title."""
        return len(self.drafts) == 1 and not self.current.parts and not self.current.fields

    def _message_cost(self, message: int, besides: _Draft | None = None) -> int:
        return sum(d.cost() for d in self.drafts if d.message == message and d is not besides)

    def _count(self, message: int) -> int:
        return sum(1 for d in self.drafts if d.message == message)

    def fits(
        self,
        draft: _Draft,
        text: str | None,
        fields: Sequence[FieldSpec] = (),
        *,
        same_block: bool = False,
    ) -> bool:
        """Whether `text` (one more description part) and `fields` still fit in `draft`
        and its message. A closed embed takes nothing more, except the rest of the fields
        of the block that closed it."""
        if draft.closed and not same_block and (text or fields):
            return False
        return (
            draft.description_size(text) <= DESCRIPTION_LIMIT
            and len(draft.fields) + len(fields) <= FIELDS_PER_EMBED
            and self._message_cost(draft.message, draft) + draft.cost(text, fields)
            <= MESSAGE_BUDGET
        )

    def new(self, title: str | None = None, url: str | None = None, need: int = 0) -> _Draft:
        """A new embed, in the current message while it has room for `need` more chars."""
        message = self.current.message
        if (
            self._count(message) >= EMBEDS_PER_MESSAGE
            or self._message_cost(message) + size(title) + need > MESSAGE_BUDGET
        ):
            message += 1
        self.drafts.append(_Draft(message, title=title, url=url))
        return self.current

    def open(self, title: str | None = None, url: str | None = None, need: int = 0) -> _Draft:
        """Like `new`, but reuses the current embed while nothing was put in it."""
        current = self.current
        if not current.untouched:
            return self.new(title, url, need)
        current.title, current.url = title, url
        if (
            self._count(current.message) > 1
            and self._message_cost(current.message) + need > MESSAGE_BUDGET
        ):
            current.message += 1
        return current

    def add_block(
        self,
        pieces: list[str],
        fields: list[FieldSpec],
        *,
        title: str | None = None,
        url: str | None = None,
    ) -> _Draft:
        """Place a block (its description pieces, then its fields) and return the embed
        holding its first piece, which is where its citation is."""
        text = "\n".join(pieces) or None
        need = size(text) + sum(size(n) + size(v) for n, v, _ in fields)
        whole = (
            size(text) <= DESCRIPTION_LIMIT
            and len(fields) <= FIELDS_PER_EMBED
            and size(title) + need <= MESSAGE_BUDGET
        )
        if title is not None:  # a titled block (a digest's article) is an embed of its own
            self.open(title, url, min(need, MESSAGE_BUDGET))
        elif whole and not self.fits(self.current, text, fields):
            self.open(need=need)
        if whole:
            if text:
                self.current.parts.append(text)
            first = self.current
        else:  # too big for any embed: cut between pieces, each one kept whole
            first = self._pour(pieces)
        for spec in fields:
            if not self.fits(self.current, None, [spec], same_block=True):
                self.new(need=size(spec[0]) + size(spec[1]))  # the rest of this block's fields
            self.current.fields.append(spec)
            self.current.closed = True
        return first

    def _pour(self, pieces: list[str]) -> _Draft:
        """Fill embeds line by line from the current one; returns the embed of the first."""
        budget = min(DESCRIPTION_LIMIT, MESSAGE_BUDGET - TITLE_LIMIT)
        first = self.current
        buffer: str | None = None
        for i, piece in enumerate(clip(p, budget) for p in pieces):
            candidate = piece if buffer is None else f"{buffer}\n{piece}"
            if not self.fits(self.current, candidate):
                if buffer is not None:
                    self.current.parts.append(buffer)
                self.new(need=size(piece))
                candidate = piece
            buffer = candidate
            if i == 0:
                first = self.current
        if buffer is not None:
            self.current.parts.append(buffer)
        return first


def _block_pieces(block: Block, *, citation_inline: bool, with_heading: bool) -> list[str]:
    """A block's description lines: heading, text, citation, items, note — in that order, so
    the citation sits right under its excerpt whatever follows."""
    head: list[str] = []
    if block.heading and with_heading:
        heading = escape(" ".join(block.heading.split()))
        url = safe_url(block.url)
        head.append(f"**[{heading}]({url})**" if url else f"**{heading}**")
    if block.text.strip():
        head.append(marked(block.text.strip(), block.marks))
    if block.citation is not None and citation_inline:
        head.append(citation_markdown(block.citation))
    pieces = ["\n".join(head)] if head else []
    pieces.extend(f"• {escape(' '.join(item.split()))}" for item in block.items if item.strip())
    if block.note:
        pieces.append(f"*({escape(' '.join(block.note.split()))})*")
    return pieces


def _fields(block: Block) -> list[tuple[str, str, bool]]:
    return [
        (
            clip(escape(f.name.strip()), FIELD_NAME_LIMIT) or _ZWSP,
            clip(escape(f.value.strip()), FIELD_VALUE_LIMIT) or "—",
            f.inline,
        )
        for f in block.fields
    ]


def render_reply(reply: Reply) -> list[DiscordMessage]:
    """The reply as one or more messages, each within every Discord limit."""
    cited = [b for b in reply.blocks if b.citation is not None]
    footer_citation = cited[0] if len(cited) == 1 else None

    packer = _Packer(reply)
    for block in reply.blocks:
        fields = _fields(block)
        # A block with a heading and fields (a digest's article) is an embed of its own,
        # titled by its heading, unless the reply's first embed is still empty.
        heading = block.heading or ""
        own_embed = bool(fields and heading) and not packer.bare
        title = clip(escape(" ".join(heading.split())), TITLE_LIMIT) if own_embed else None
        pieces = _block_pieces(
            block, citation_inline=block is not footer_citation, with_heading=not own_embed
        )
        if not pieces and not fields and not own_embed:
            continue
        holder = packer.add_block(
            pieces, fields, title=title, url=safe_url(block.url) if own_embed else None
        )
        holder.urls.extend(_block_links(block))
        if block is footer_citation and block.citation is not None:
            holder.footer.append(citation_footer(block.citation))
    if reply.suggestions:
        lines = [suggestion_line(s) for s in reply.suggestions if s.strip()]
        packer.add_block(["**Vous pouvez demander par exemple :**", *lines], [])

    reply_url = safe_url(reply.url)
    if reply_url and all(u != reply_url for d in packer.drafts for u, _ in d.urls):
        packer.drafts[0].urls.insert(0, (reply_url, None))
    last = packer.current
    if reply.confidence is not None:
        last.footer.append(f"Confiance : {confidence_label(reply.confidence)}")
    if reply.footer and reply.footer.strip():
        last.footer.append(plain(reply.footer))

    colour = COLOURS.get(reply.kind, 0x4A5568)
    messages: dict[int, tuple[list[discord.Embed], list[tuple[str, str | None]]]] = {}
    for draft in packer.drafts:
        embed = discord.Embed(
            title=draft.title,
            url=draft.url if draft.title else None,
            description=BLOCK_SEPARATOR.join(draft.parts) or None,
            colour=colour,
        )
        for name, value, inline in draft.fields:
            embed.add_field(name=name, value=value, inline=inline)
        if draft.footer:
            embed.set_footer(text=clip(" · ".join(draft.footer), FOOTER_BUDGET))
        if not embed.title and not embed.description and not embed.fields:
            embed.description = ELLIPSIS
        embeds, urls = messages.setdefault(draft.message, ([], []))
        embeds.append(embed)
        urls.extend(draft.urls)
    return [DiscordMessage(tuple(e), _links(u)) for _, (e, u) in sorted(messages.items())]


def _block_links(block: Block) -> list[tuple[str, str | None]]:
    """A block's links: its article (with the article's title), then its heading's link
    (an actor's page, say; no title: it is not an article)."""
    out: list[tuple[str, str | None]] = []
    if block.citation is not None:
        url = safe_url(block.citation.url)
        if url:
            out.append((url, block.citation.title))
    url = safe_url(block.url)
    if url and all(u != url for u, _ in out):
        out.append((url, None))
    return out


def _links(urls: list[tuple[str, str | None]]) -> tuple[Link, ...]:
    """Up to four link buttons: "Lire l'article" when the message cites one article,
    the articles' titles when several, "En savoir plus" for a link that is no article."""
    unique: dict[str, str | None] = {}
    for url, title in urls:
        if unique.get(url) is None:
            unique[url] = title
    shown = list(unique.items())[:LINKS_PER_MESSAGE]
    articles = [url for url, title in shown if title is not None]
    links: list[Link] = []
    for url, title in shown:
        if title is None:
            label = "En savoir plus"
        elif len(articles) == 1:
            label = "Lire l'article"
        else:
            label = clip(plain(title), BUTTON_LABEL_LIMIT) or "Lire l'article"
        links.append(Link(label, url))
    return tuple(links)
