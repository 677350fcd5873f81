"""Feeds into items: RSS 0.9x/1.0/2.0 and Atom with feedparser, JSON Feed 1.x by hand
(a JSON document with a few documented keys; feedparser does not read it).

feedparser is imported when a feed is parsed: `briefbot ask` never pays for it. A
document that is not a feed, or whose XML is malformed, raises NotAFeed: nothing of it
is taken, even entries a lenient parser could salvage, so no partial article is written.
Relative links are resolved against the feed's final URL.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

JSON_FEED_VERSION = "https://jsonfeed.org/version/"


class NotAFeed(ValueError):
    """The document is not a feed this bot can read; the message says why, in French."""


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One entry: its link, and what the feed itself says (`html` may be a summary)."""

    url: str
    title: str | None = None
    date: str | None = None
    author: str | None = None
    html: str | None = None


@dataclass(frozen=True, slots=True)
class Feed:
    title: str | None
    items: tuple[FeedItem, ...]


def looks_like_json(body: bytes) -> bool:
    return body.lstrip()[:1] == b"{"


def parse_feed(body: bytes, url: str, content_type: str = "") -> Feed:
    """The feed at `url` (its final URL); NotAFeed if `body` is not a readable feed."""
    if looks_like_json(body):
        return _json_feed(body, url)
    import feedparser

    parsed: Any = feedparser.parse(
        body,
        response_headers={"content-location": url, "content-type": content_type or "text/xml"},
        sanitize_html=True,
        resolve_relative_uris=True,
    )
    if not parsed.get("version"):
        raise NotAFeed("ce document n'est pas un flux RSS, Atom ou JSON Feed")
    if parsed.bozo:
        problem = parsed.get("bozo_exception")
        # A served charset that disagrees with the document (text/xml defaults to
        # us-ascii) is common and harmless: feedparser parsed it with the right one.
        harmless = (feedparser.NonXMLContentType, feedparser.CharacterEncodingOverride)
        if not isinstance(problem, harmless):
            raise NotAFeed(f"flux illisible ({_describe(problem)})")
    items = []
    for entry in parsed.entries:
        link = entry.get("link") or _alternate(entry)
        if not link:
            continue
        html = None
        if entry.get("content"):
            html = max((c.get("value") or "" for c in entry.content), key=len) or None
        html = html or entry.get("summary") or None
        items.append(
            FeedItem(
                url=urljoin(url, link),
                title=_clean(entry.get("title")),
                # dict.get: feedparser's own get warns when it maps one key to the other.
                date=_date(
                    dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")
                ),
                author=_clean(entry.get("author")),
                html=html,
            )
        )
    return Feed(_clean(parsed.feed.get("title")), tuple(items))


def _json_feed(body: bytes, url: str) -> Feed:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise NotAFeed(f"JSON illisible ({type(err).__name__})") from None
    if not isinstance(data, dict) or not str(data.get("version", "")).startswith(JSON_FEED_VERSION):
        raise NotAFeed("ce document JSON n'est pas un JSON Feed")
    items = []
    for entry in data.get("items") or ():
        if not isinstance(entry, dict):
            continue
        link = entry.get("url") or entry.get("external_url")
        if not isinstance(link, str) or not link:
            continue
        authors = entry.get("authors") or ([entry["author"]] if entry.get("author") else [])
        author = next((a.get("name") for a in authors if isinstance(a, dict)), None)
        html = entry.get("content_html") or _escape(entry.get("content_text"))
        published = str(entry.get("date_published") or "")[:10]
        items.append(
            FeedItem(
                url=urljoin(url, link),
                title=_clean(entry.get("title")),
                date=published if _is_iso_day(published) else None,
                author=_clean(author),
                html=html if isinstance(html, str) else None,
            )
        )
    return Feed(_clean(data.get("title")), tuple(items))


def _alternate(entry: Any) -> str | None:
    for link in entry.get("links") or ():
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return str(link["href"])
    return None


def _date(parsed: time.struct_time | None) -> str | None:
    """An ISO day from feedparser's parsed date; None when the feed's date was unreadable."""
    if not parsed:
        return None
    try:
        return time.strftime("%Y-%m-%d", parsed)
    except (ValueError, TypeError):
        return None


def _is_iso_day(text: str) -> bool:
    return len(text) == 10 and text[4] == "-" and text[7] == "-" and text.replace("-", "").isdigit()


def _clean(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())
    return text or None


def _escape(text: object) -> str | None:
    if not isinstance(text, str) or not text.strip():
        return None
    import html

    return "".join(f"<p>{html.escape(p)}</p>" for p in text.split("\n\n") if p.strip())


def _describe(problem: object) -> str:
    text = " ".join(str(problem).split()) if problem is not None else "erreur inconnue"
    return text[:160] or type(problem).__name__
