"""robots.txt for article pages, with `urllib.robotparser`, one reading per site an hour.

A missing robots.txt (HTTP 4xx) allows everything; one that cannot be fetched at all
(timeout, 5xx, refused address) disallows the site for now, as RFC 9309 asks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from bot.sources.fetch import Fetcher, FetchError

AGENT = "briefbot"
TTL_SECONDS = 3600.0


class Robots:
    def __init__(self, fetcher: Fetcher, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.fetcher = fetcher
        self.clock = clock
        self._cache: dict[str, tuple[float, RobotFileParser | None, bool]] = {}

    async def allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        site = f"{parts.scheme}://{parts.netloc}"
        cached = self._cache.get(site)
        if cached is None or self.clock() - cached[0] > TTL_SECONDS:
            cached = (self.clock(), *await self._read(site))
            self._cache[site] = cached
        _, parser, allow_all = cached
        if parser is None:
            return allow_all
        return parser.can_fetch(AGENT, url)

    async def _read(self, site: str) -> tuple[RobotFileParser | None, bool]:
        try:
            fetched = await self.fetcher.get(f"{site}/robots.txt")
        except FetchError as err:
            return None, err.status is not None and 400 <= err.status < 500
        parser = RobotFileParser()
        parser.parse(fetched.body.decode("utf-8", errors="replace").splitlines())
        return parser, True
