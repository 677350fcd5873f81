"""Slack's text markup, both ways: untrusted plain text into safe `mrkdwn`, and the markup
Slack puts in user messages back into plain text for the core.

Everything from users and articles goes through `escape` (and nothing else) on its way out,
so no content can form `<!channel>`, `<!here>`, `<!everyone>`, `<!subteam^…>` or `<@U…>`:
the only `<` this module emits opens a link to an http(s) URL it has checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Slack's reserved characters; https://docs.slack.dev/messaging/formatting-message-text
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
# Formatting markers where Slack reads them (next to a word, not inside one): each becomes
# a character that looks the same and formats nothing.
_LOOKALIKES = {"*": "∗", "_": "ˍ", "~": "∼", "`": "ˋ"}
_FORMATTING = re.compile(r"(?<!\w)[*_~`](?=\S)|(?<=\S)[*_~`](?!\w)")

# A URL we are willing to link: http(s), no whitespace and none of Slack's delimiters.
_SAFE_URL = re.compile(r"https?://[^\s<>|\"]+", re.IGNORECASE)
# The core's plain-text convention for a link: "label <https://…>".
_BRACKETED_URL = re.compile(r"<(https?://[^\s<>|\"]+)>", re.IGNORECASE)

# Markup Slack sends in message events: <@U123|name>, <#C123|general>, <!here>,
# <!subteam^S123|@team>, <https://x|label>, <mailto:a@b|a@b>.
_SLACK_TOKEN = re.compile(r"<([^<>]*)>")
_SENTENCE_END = frozenset(".!?…:;")

# Break priorities when a text must be split: lines, then sentences, then words.
LINE, SENTENCE, WORD = 3, 2, 1


def escape(text: str) -> str:
    """The one escaping function for text: `&`, `<`, `>` become entities, so user and
    article text can never be read as Slack markup (mentions, links, special commands), and
    a `*`, `_`, `~` or backquote that could open or close formatting becomes its lookalike
    (Slack has no escape for them), so `*gras*` in a question is echoed as typed."""
    return _FORMATTING.sub(lambda m: _LOOKALIKES[m.group(0)], text.translate(_ESCAPES))


def escape_url(url: str) -> str:
    """A checked URL inside `<…|…>`: only the entities, its characters must stay as they are."""
    return url.translate(_ESCAPES)


def safe_url(url: str | None) -> str | None:
    """`url` if it is a plain http(s) URL Slack can link without ambiguity, else None."""
    if not url:
        return None
    url = url.strip()
    return url if _SAFE_URL.fullmatch(url) else None


def link(url: str | None, label: str) -> str:
    """A mrkdwn link to `url` labelled with escaped `label`; just the label if the URL is
    not safe to link."""
    target = safe_url(url)
    if target is None:
        return escape(label)
    return f"<{escape_url(target)}|{escape(label)}>" if label else f"<{escape_url(target)}>"


def from_slack(text: str | None) -> str:
    """Plain text from a Slack message: mentions become `@name`, links their label, and
    entities are decoded. The core never sees Slack markup; the output is escaped again."""
    if not text:
        return ""

    def token(match: re.Match[str]) -> str:
        inner = match.group(1)
        target, _, label = inner.partition("|")
        if target.startswith("@"):  # user: <@U123> or <@U123|name>
            return "@" + (label or target[1:])
        if target.startswith("#"):  # channel
            return "#" + (label or target[1:])
        if target.startswith("!"):  # <!here>, <!channel>, <!subteam^S1|@team>, <!date^…|x>
            if label:
                return label
            return "@" + target[1:].split("^", 1)[0]
        return label or target

    plain = _SLACK_TOKEN.sub(token, text)
    return plain.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@dataclass
class Mrkdwn:
    """A mrkdwn string under construction that remembers where it may be split.

    Untrusted text only enters through `text` (escaped); markup only through the methods
    that build it. `breaks` are (offset, priority) pairs: a cut at `offset` never falls
    inside an entity, a bold span or a link.
    """

    parts: list[str] = field(default_factory=list)
    breaks: list[tuple[int, int]] = field(default_factory=list)
    length: int = 0

    def _raw(self, markup: str) -> None:
        self.parts.append(markup)
        self.length += len(markup)

    def text(self, raw: str, *, breakable: bool = True, links: bool = False) -> Mrkdwn:
        """Escaped plain text. With `links`, the core's "<https://…>" become real links."""
        pieces = _BRACKETED_URL.split(raw) if links else [raw]
        for i, piece in enumerate(pieces):
            if i % 2:  # a URL captured by the split
                self._raw(f"<{escape_url(piece)}>")
                continue
            escaped = escape(piece)
            if breakable:
                for j, char in enumerate(escaped):
                    if char == "\n":
                        self.breaks.append((self.length + j + 1, LINE))
                    elif char.isspace():
                        before = escaped[j - 1] if j else ""
                        priority = SENTENCE if before in _SENTENCE_END else WORD
                        self.breaks.append((self.length + j + 1, priority))
            self._raw(escaped)
        return self

    def bold(self, raw: str) -> Mrkdwn:
        if raw.strip():
            self._raw(f"*{escape(raw.strip())}*")
        return self

    def italic(self, raw: str) -> Mrkdwn:
        if raw.strip():
            self._raw(f"_{escape(raw.strip())}_")
        return self

    def link(self, url: str | None, label: str, *, bold: bool = False) -> Mrkdwn:
        rendered = link(url, label)
        self._raw(f"*{rendered}*" if bold and label.strip() else rendered)
        return self

    def marked(self, raw: str, marks: tuple[tuple[int, int], ...]) -> Mrkdwn:
        """`raw` with the (start, end) spans in bold; overlapping or bad spans are ignored."""
        position = 0
        for start, end in sorted(marks):
            if start < position or not (0 <= start < end <= len(raw)):
                continue
            span = raw[start:end]
            core = span.strip()
            lead = span[: len(span) - len(span.lstrip())]
            trail = span[len(span.rstrip()) :] if core else ""
            self.text(raw[position:start] + lead)
            self.bold(core)
            self.text(trail)
            position = end
        self.text(raw[position:])
        return self

    def newline(self) -> Mrkdwn:
        if self.length:
            self.breaks.append((self.length + 1, LINE))
            self._raw("\n")
        return self

    def value(self) -> str:
        return "".join(self.parts)

    def split(self, limit: int) -> list[str]:
        """The text in pieces of at most `limit` characters, cut at the best break."""
        text = self.value()
        pieces: list[str] = []
        start = 0
        breaks = sorted(self.breaks)
        while len(text) - start > limit:
            end = start + limit
            window = [(off, pri) for off, pri in breaks if start < off <= end]
            late = [(off, pri) for off, pri in window if off - start >= limit // 2]
            pool = late or window
            if pool:
                cut = max(pool, key=lambda b: (b[1], b[0]))[0]
            else:  # one unbroken run longer than half the limit: cut it, not an entity
                cut = end
                amp = text.rfind("&", max(start, end - 5), end)
                if amp != -1 and ";" not in text[amp:end]:
                    cut = amp
            piece = text[start:cut].strip()
            if piece:
                pieces.append(piece)
            start = cut
        rest = text[start:].strip()
        if rest:
            pieces.append(rest)
        return pieces


def fit(raw: str, limit: int) -> str:
    """`raw` shortened (with "…") so that its escaped form fits in `limit` characters."""
    if len(escape(raw)) <= limit:
        return raw
    budget, used = limit - 1, 0
    for i, char in enumerate(raw):
        used += len(escape(char))
        if used > budget:
            return raw[:i].rstrip() + "…"
    return raw
