"""The SSRF policy: only http(s), and only public addresses unless the host is allowed,
checked after resolution and again on every redirect."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from bot.sources.fetch import Fetcher, FetchError, Limits
from bot.sources.safety import AllowList, UnsafeURL, blocked_reason, check_url
from tests.fakes.news_site import NewsSite


@pytest.fixture
async def site() -> AsyncIterator[NewsSite]:
    server = await NewsSite().start()
    server.serve("/ok", "bonjour", "text/plain")
    yield server
    await server.stop()


async def fetch(url: str, allow: str = "") -> None:
    fetcher = Fetcher(AllowList.parse(allow), Limits(timeout_seconds=5))
    try:
        await fetcher.get(url)
    finally:
        await fetcher.close()


async def test_loopback_is_refused_without_the_allow_list(site: NewsSite) -> None:
    with pytest.raises(FetchError, match="adresse refusée"):
        await fetch(site.url("/ok"))
    assert site.hits("/ok") == 0


async def test_a_name_that_resolves_to_loopback_is_refused_after_resolution(
    site: NewsSite,
) -> None:
    with pytest.raises(FetchError, match="localhost pointe vers une adresse boucle locale"):
        await fetch(f"http://localhost:{site.port}/ok", allow="127.0.0.1")
    assert site.hits("/ok") == 0


async def test_the_allow_list_lets_the_named_host_through(site: NewsSite) -> None:
    await fetch(site.url("/ok"), allow=f"127.0.0.1:{site.port}")
    assert site.hits("/ok") == 1


async def test_a_redirect_to_a_private_address_is_refused(site: NewsSite) -> None:
    site.redirect("/go", "http://10.1.2.3/admin")
    with pytest.raises(FetchError, match="réseau privé"):
        await fetch(site.url("/go"), allow="127.0.0.1")


async def test_a_redirect_to_a_name_of_a_loopback_address_is_refused(site: NewsSite) -> None:
    site.redirect("/go", f"http://localhost:{site.port}/ok")
    with pytest.raises(FetchError, match="boucle locale"):
        await fetch(site.url("/go"), allow="127.0.0.1")
    assert site.hits("/ok") == 0


async def test_a_redirect_to_another_scheme_is_refused(site: NewsSite) -> None:
    site.redirect("/go", "file:///etc/passwd")
    with pytest.raises(FetchError, match="seuls http et https"):
        await fetch(site.url("/go"), allow="127.0.0.1")


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.org/x", "gopher://example.org/", "javascript:1"]
)
def test_schemes_other_than_http_and_https_are_refused(url: str) -> None:
    with pytest.raises(UnsafeURL, match="seuls http et https"):
        check_url(url, AllowList.parse("example.org"))


def test_credentials_in_the_url_are_refused() -> None:
    with pytest.raises(UnsafeURL, match="identifiants"):
        check_url("http://user:pw@example.org/", AllowList())


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.1",
        "192.168.1.1",
        "172.16.0.1",
        "169.254.169.254",
        "224.0.0.1",
        "0.0.0.0",
        "100.64.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "240.0.0.1",
    ],
)
def test_non_public_addresses_are_blocked(address: str) -> None:
    assert blocked_reason(address) is not None


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700:4700::1111", "196.200.1.1"])
def test_public_addresses_are_not_blocked(address: str) -> None:
    assert blocked_reason(address) is None


def test_an_allow_list_entry_with_a_port_allows_that_port_only() -> None:
    allow = AllowList.parse("127.0.0.1:8080, Example.ORG")
    assert allow.allows("127.0.0.1", 8080)
    assert not allow.allows("127.0.0.1", 8081)
    assert allow.allows("example.org", 443)


def test_a_literal_private_address_is_refused_before_any_connection() -> None:
    with pytest.raises(UnsafeURL, match="réseau privé"):
        check_url("http://192.168.0.10/feed", AllowList())


class FixedResolver(AbstractResolver):
    """DNS that answers `address` for every name (a rebinding attacker's second answer)."""

    def __init__(self, address: str) -> None:
        self.address = address

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(
                hostname=host, host=self.address, port=port, family=family, proto=0, flags=0
            )
        ]

    async def close(self) -> None:
        return None


async def test_a_public_name_that_resolves_to_a_private_address_is_refused() -> None:
    fetcher = Fetcher(AllowList(), Limits(timeout_seconds=5), resolver=FixedResolver("10.9.8.7"))
    try:
        with pytest.raises(FetchError, match=r"news\.example pointe vers une adresse réseau privé"):
            await fetcher.get("http://news.example/rss")
    finally:
        await fetcher.close()
