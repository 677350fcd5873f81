"""HTTP for the sources: one aiohttp session, polite and bounded.

Every request: the URL checked by the SSRF policy (`safety`), redirects followed by hand
up to `max_redirects` so each hop is checked again (the last URL is the canonical one),
at most one request at a time per host, a total timeout, the body streamed and cut off
past `max_bytes`, a User-Agent naming the bot, ETag/Last-Modified sent back when known.
Proxies from the environment are ignored: a proxy would resolve hosts where the policy
cannot see the addresses.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver

from bot import __version__
from bot.sources.safety import AllowList, GuardedResolver, RefusedAddress, UnsafeURL, check_url

USER_AGENT = f"briefbot/{__version__} (news briefing bot; +https://github.com/briefbot)"
REDIRECTS = frozenset({301, 302, 303, 307, 308})
CHUNK = 64 * 1024


class FetchError(Exception):
    """A fetch that gave nothing usable; `reason` is shown to admins in `/source list`."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True, slots=True)
class Limits:
    timeout_seconds: float = 20.0
    max_bytes: int = 5_000_000
    max_redirects: int = 5
    user_agent: str = USER_AGENT


@dataclass(frozen=True, slots=True)
class Fetched:
    """A response: `url` is the final URL after redirects; `status` is 200 or 304."""

    url: str
    status: int
    body: bytes = b""
    content_type: str = ""
    charset: str | None = None
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class Fetcher:
    """`get` never raises anything but FetchError. Open it inside the running loop."""

    def __init__(
        self, allow: AllowList, limits: Limits, *, resolver: AbstractResolver | None = None
    ) -> None:
        self.allow = allow
        self.limits = limits
        self._resolver = resolver
        self._session: aiohttp.ClientSession | None = None
        self._hosts: dict[str, asyncio.Lock] = {}

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                resolver=GuardedResolver(self.allow, self._resolver), limit=16
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                trust_env=False,
                headers={"User-Agent": self.limits.user_agent},
                timeout=aiohttp.ClientTimeout(total=self.limits.timeout_seconds),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _lock(self, url: str) -> asyncio.Lock:
        host = (urlsplit(url).netloc or "").lower()
        return self._hosts.setdefault(host, asyncio.Lock())

    async def get(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> Fetched:
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current = url
        for _hop in range(self.limits.max_redirects + 1):
            try:
                current = check_url(current, self.allow)
            except UnsafeURL as err:
                raise FetchError(f"adresse refusée : {err}") from None
            async with self._lock(current):
                location = await self._one(current, headers)
            if isinstance(location, Fetched):
                return location
            current = urljoin(current, location)
        raise FetchError(f"trop de redirections (plus de {self.limits.max_redirects})")

    async def _one(self, url: str, headers: dict[str, str]) -> Fetched | str:
        """The response, or the Location of a redirect."""
        try:
            async with self._open().get(url, headers=headers, allow_redirects=False) as resp:
                if resp.status in REDIRECTS:
                    location = resp.headers.get("Location")
                    if not location:
                        raise FetchError(f"redirection HTTP {resp.status} sans adresse")
                    return location
                if resp.status == 304:
                    return Fetched(
                        str(resp.url),
                        304,
                        etag=headers.get("If-None-Match"),
                        last_modified=headers.get("If-Modified-Since"),
                    )
                if resp.status != 200:
                    raise FetchError(f"HTTP {resp.status} pour {url[:200]}", resp.status)
                body = await self._read(resp)
                return Fetched(
                    url,
                    200,
                    body,
                    resp.content_type or "",
                    resp.charset,
                    resp.headers.get("ETag"),
                    resp.headers.get("Last-Modified"),
                )
        except FetchError:
            raise
        except TimeoutError:
            raise FetchError(f"délai dépassé ({self.limits.timeout_seconds:g} s)") from None
        except aiohttp.ClientConnectorError as err:
            if isinstance(err.os_error, RefusedAddress):
                raise FetchError(f"adresse refusée : {err.os_error}") from None
            raise FetchError(f"connexion impossible à {err.host}") from None
        except aiohttp.ClientError as err:
            raise FetchError(f"erreur HTTP : {type(err).__name__}") from None

    async def _read(self, resp: aiohttp.ClientResponse) -> bytes:
        limit = self.limits.max_bytes
        if resp.content_length is not None and resp.content_length > limit:
            raise FetchError(f"réponse trop grande (plus de {limit:,} octets)")
        chunks: list[bytes] = []
        total = 0
        async for chunk in resp.content.iter_chunked(CHUNK):
            total += len(chunk)
            if total > limit:
                raise FetchError(f"réponse trop grande (plus de {limit:,} octets)")
            chunks.append(chunk)
        return b"".join(chunks)
