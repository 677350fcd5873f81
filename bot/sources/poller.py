"""One poll of one source, and the sources that are due: fetch, parse, extract, write.

A poll first claims its slot (the source's `next_poll`, or a one-off key for "now"), so
two processes sharing the database poll a source once per interval. Each item's
canonical URL is claimed before anything is fetched for it and its content hash is
reserved before its file is written, so no article is written twice, by this process,
another one, or another source carrying the same story. A poll that dies half-way
leaves its items pending; the next poll of the same source takes them again, and the
stable file name means a file already written is replaced, not duplicated.

Parsing, extraction and writing run in worker threads: trafilatura takes tens of
milliseconds a page, which would otherwise hold up every chat reply of the process.

A failed poll (the feed unreachable, not a feed, malformed) backs off exponentially from
the source's interval and pauses the source after `max_failures` in a row. An item that
cannot be taken (404, no text, robots.txt) is shown as the source's last error and is
retried at the next poll; it does not count against the source.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urldefrag, urlsplit

from bot.corpus.french import count
from bot.corpus.loader import ArticleError
from bot.sources.extract import Extracted, NoText, extract_article, html_text
from bot.sources.feeds import Feed, FeedItem, NotAFeed, looks_like_json, parse_feed
from bot.sources.fetch import Fetched, Fetcher, FetchError
from bot.sources.model import FEED, PAGE, PollResult, Source, utcnow
from bot.sources.ports import SourceStore
from bot.sources.robots import Robots
from bot.sources.safety import UnsafeURL, check_url
from bot.sources.writer import ArticleWriter, NewArticle, content_hash

log = logging.getLogger(__name__)

HTML_TYPES = ("text/html", "application/xhtml+xml")
MAX_URL_CHARS = 2000
MIN_INTERVAL_MINUTES = 5


@dataclass(frozen=True, slots=True)
class Policy:
    """`feed_text_chars`: a feed entry whose own HTML has this much text is taken as is;
    shorter ones (summaries) send the bot to the article page."""

    interval_seconds: int = 900
    jitter: float = 0.1
    max_failures: int = 5
    backoff_cap_seconds: int = 6 * 3600
    feed_text_chars: int = 400


class SourceError(ValueError):
    """A URL that cannot be added as a source; the message is for the user, in French."""


def canonical(url: str) -> str:
    """The URL without its fragment; what dedupe by URL compares."""
    return urldefrag(url.strip())[0]


class SourcePoller:
    def __init__(
        self,
        store: SourceStore,
        fetcher: Fetcher,
        robots: Robots,
        writer: ArticleWriter,
        policy: Policy,
        *,
        clock: Callable[[], datetime] = utcnow,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.store = store
        self.fetcher = fetcher
        self.robots = robots
        self.writer = writer
        self.policy = policy
        self.clock = clock
        self.jitter = jitter

    # -- adding ---------------------------------------------------------------------------

    async def add(
        self, url: str, added_by: str, *, interval_minutes: int | None = None
    ) -> tuple[Source, PollResult]:
        """Follow a feed (every `interval_minutes`, the policy's default when None), or
        take one article page; SourceError says why it cannot be."""
        url = url.strip().strip("<>")
        interval = self.policy.interval_seconds
        if interval_minutes is not None:
            if interval_minutes < MIN_INTERVAL_MINUTES:
                raise SourceError(
                    f"Intervalle trop court : {MIN_INTERVAL_MINUTES} minutes au moins."
                )
            interval = interval_minutes * 60
        if len(url) > MAX_URL_CHARS:
            raise SourceError(f"adresse trop longue (plus de {MAX_URL_CHARS} caractères)")
        try:
            url = check_url(url, self.fetcher.allow)
        except UnsafeURL as err:
            raise SourceError(f"Adresse refusée : {err}.") from None
        if self.store.find(url) is not None:
            raise SourceError(f"Cette source est déjà suivie : {url}")
        if not await self.robots.allowed(url):
            raise SourceError(f"Le robots.txt de ce site interdit à briefbot de lire {url}.")
        try:
            fetched = await self.fetcher.get(url)
        except FetchError as err:
            raise SourceError(f"Impossible de lire {url} : {err.reason}.") from None
        kind = self._kind(fetched)
        now = self.clock()
        try:
            source = self.store.add(
                url,
                kind,
                interval_seconds=interval,
                added_by=added_by,
                now=now,
            )
        except ValueError:
            raise SourceError(f"Cette source est déjà suivie : {url}") from None
        result = await self.poll(source, slot=f"add:{uuid.uuid4().hex}", prefetched=fetched)
        return self.store.get(source.id) or source, result

    def _kind(self, fetched: Fetched) -> str:
        """A page when served as HTML and not a feed by its first tag (feeds are often
        served as text/html); a feed otherwise, which parsing confirms or refuses."""
        head = fetched.body[:1024].lstrip().lower()
        sniffed = looks_like_json(fetched.body) or any(
            tag in head for tag in (b"<rss", b"<feed", b"<rdf:rdf")
        )
        return PAGE if fetched.content_type in HTML_TYPES and not sniffed else FEED

    # -- polling --------------------------------------------------------------------------

    async def poll_due(self) -> list[PollResult]:
        """Poll every active source whose next poll has come, concurrently (one request
        at a time per host, the fetcher sees to that)."""
        now = self.clock()
        due = [
            s
            for s in self.store.list()
            if not s.paused and s.next_poll is not None and s.next_poll <= now
        ]
        return list(await asyncio.gather(*(self.poll(s) for s in due)))

    async def poll_all(self) -> list[PollResult]:
        """Poll every active source once now, due or not (`briefbot source poll`)."""
        sources = [s for s in self.store.list() if not s.paused and s.next_poll is not None]
        return list(
            await asyncio.gather(*(self.poll(s, slot=f"now:{uuid.uuid4().hex}") for s in sources))
        )

    async def poll(
        self, source: Source, *, slot: str | None = None, prefetched: Fetched | None = None
    ) -> PollResult:
        """One poll of `source`, if this process wins its slot; never raises for the
        source's own failures (they are recorded)."""
        now = self.clock()
        key = slot or (source.next_poll or now).isoformat()
        if not self.store.claim(source.id, key, now=now):
            return PollResult(source.id, source.url, polled=False)
        try:
            if source.kind == PAGE:
                return await self._poll_page(source, prefetched)
            return await self._poll_feed(source, prefetched)
        except (FetchError, NotAFeed, NoText, ArticleError, UnicodeDecodeError) as err:
            return self._failed(source, _reason(err))
        except Exception as err:  # a bug, or a library's surprise: still the source's error
            log.exception("source %s: unexpected error", source.id)
            return self._failed(source, f"erreur interne ({type(err).__name__})")

    async def _poll_feed(self, source: Source, prefetched: Fetched | None) -> PollResult:
        fetched = prefetched or await self.fetcher.get(
            source.url, etag=source.etag, last_modified=source.last_modified
        )
        if fetched.not_modified:
            self._succeeded(source, fetched, source.title, taken=0)
            return PollResult(source.id, source.url, polled=True, not_modified=True)
        served = fetched.content_type
        if fetched.charset:
            served += f"; charset={fetched.charset}"
        feed = await asyncio.to_thread(parse_feed, fetched.body, fetched.url, served)
        written: list[str] = []
        skipped = 0
        problems: list[str] = []
        for item in feed.items:
            try:
                ident = await self._take_item(source, feed, item)
            except (FetchError, NoText, ArticleError, UnicodeDecodeError) as err:
                problems.append(f"{item.url[:200]} : {_reason(err)}")
                continue
            if ident is None:
                skipped += 1
            else:
                written.append(ident)
        error = (
            f"{count(len(problems), 'article')} non repris — {problems[0]}" if problems else None
        )
        self._succeeded(source, fetched, feed.title, taken=len(written), error=error)
        return PollResult(
            source.id,
            source.url,
            polled=True,
            written=tuple(written),
            skipped=skipped,
            error=error,
        )

    async def _poll_page(self, source: Source, prefetched: Fetched | None) -> PollResult:
        fetched = prefetched or await self.fetcher.get(source.url)
        url = canonical(fetched.url)
        if not self.store.claim_url(url, source.id, now=self.clock()):
            self._succeeded(source, fetched, source.title, taken=0, once=True)
            return PollResult(source.id, source.url, polled=True, skipped=1)
        try:
            extracted = await asyncio.to_thread(self._extract, fetched)
            name = host_name(source.url)
            ident = await asyncio.to_thread(
                self._write, source, url, name, extracted.title, extracted, None
            )
        except BaseException:
            self.store.release_url(url)
            raise
        self._succeeded(source, fetched, extracted.title, taken=int(ident is not None), once=True)
        written = (ident,) if ident else ()
        return PollResult(
            source.id, source.url, polled=True, written=written, skipped=1 - len(written)
        )

    async def _take_item(self, source: Source, feed: Feed, item: FeedItem) -> str | None:
        """The id of the article written for `item`, or None when it was already taken."""
        url = canonical(item.url)
        now = self.clock()
        if not self.store.claim_url(url, source.id, now=now):
            return None
        try:
            text = await asyncio.to_thread(html_text, item.html) if item.html else ""
            name = feed.title or host_name(source.url)
            if len(text) >= self.policy.feed_text_chars:
                extracted = Extracted(text=text, title=item.title, date=item.date)
                return await asyncio.to_thread(
                    self._write, source, url, name, item.title, extracted, item
                )
            if not await self.robots.allowed(url):
                raise FetchError("page interdite par robots.txt")
            fetched = await self.fetcher.get(url)
            final = canonical(fetched.url)
            if final != url and not self.store.claim_url(final, source.id, now=now):
                self.store.mark_written(url, "", now=now)  # an alias of a page already taken
                return None
            extracted = await asyncio.to_thread(self._extract, fetched)
            ident = await asyncio.to_thread(
                self._write, source, final, name, item.title, extracted, item
            )
            if final != url:
                self.store.mark_written(url, ident or "", now=now)
            return ident
        except BaseException:
            self.store.release_url(url)
            raise

    def _extract(self, fetched: Fetched) -> Extracted:
        """The page's article. Bytes that do not match the charset the server declared
        are an encoding error; without a declared charset, trafilatura reads the page's
        own `<meta charset>`."""
        if fetched.content_type and fetched.content_type not in HTML_TYPES:
            raise NoText(f"pas une page HTML ({fetched.content_type[:60]})")
        html: str | bytes = fetched.body
        if fetched.charset:
            try:
                html = fetched.body.decode(fetched.charset)
            except LookupError:
                raise NoText(f"encodage inconnu ({fetched.charset[:30]})") from None
        return extract_article(html, fetched.url)

    def _write(
        self,
        source: Source,
        url: str,
        name: str,
        title: str | None,
        extracted: Extracted,
        item: FeedItem | None,
    ) -> str | None:
        """Write the article unless its content was already taken; its id, or None."""
        if not self.store.reserve_content(url, content_hash(extracted.text)):
            return None
        article = NewArticle(
            url=url,
            title=title or extracted.title or _first_words(extracted.text),
            text=extracted.text,
            source_url=source.url,
            source_id=source.id,
            source_name=name,
            date=(item.date if item else None) or extracted.date,
            author=(item.author if item else None) or extracted.author,
            language=_language(extracted.language),
        )
        ident = self.writer.write(article)
        self.store.mark_written(url, ident, now=self.clock())
        log.info("source %s: wrote %s", source.id, ident)
        return ident

    # -- bookkeeping ----------------------------------------------------------------------

    def _next(self, now: datetime, seconds: float) -> datetime:
        return now + timedelta(seconds=seconds * (1 + self.policy.jitter * self.jitter()))

    def _succeeded(
        self,
        source: Source,
        fetched: Fetched,
        title: str | None,
        *,
        taken: int,
        error: str | None = None,
        once: bool = False,
    ) -> None:
        now = self.clock()
        self.store.record_success(
            source.id,
            now=now,
            next_poll=None if once else self._next(now, source.interval_seconds),
            etag=fetched.etag,
            last_modified=fetched.last_modified,
            title=title,
            taken=taken,
            error=error,
        )

    def _failed(self, source: Source, reason: str) -> PollResult:
        now = self.clock()
        delay = min(
            source.interval_seconds * 2 ** (source.consecutive_failures + 1),
            max(self.policy.backoff_cap_seconds, source.interval_seconds),
        )
        updated = self.store.record_failure(
            source.id,
            reason,
            now=now,
            next_poll=self._next(now, delay),
            pause_after=self.policy.max_failures,
        )
        paused = bool(updated and updated.paused)
        log.warning("source %s failed%s: %s", source.id, " (paused)" if paused else "", reason)
        return PollResult(source.id, source.url, polled=True, error=reason, paused=paused)


def host_name(url: str) -> str:
    return (urlsplit(url).hostname or url).removeprefix("www.")


def _reason(err: BaseException) -> str:
    if isinstance(err, FetchError):
        return err.reason
    if isinstance(err, ArticleError):
        return f"article illisible ({err.reason})"
    if isinstance(err, UnicodeDecodeError):
        return f"encodage illisible ({err.encoding}, octet {err.start})"
    return str(err)


def _first_words(text: str, limit: int = 100) -> str:
    first = text.split("\n", 1)[0]
    return first if len(first) <= limit else first[:limit].rsplit(" ", 1)[0] + "…"


def _language(value: str | None) -> str:
    return (value or "fr")[:2].lower() or "fr"
