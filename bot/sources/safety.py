"""Which URLs the bot may fetch: the SSRF policy.

Chat users type the URLs, so every request is checked: the scheme must be http or https,
and the host must resolve only to public addresses (not loopback, private, link-local,
multicast, reserved or unspecified ones, IPv4-mapped IPv6 included). The check runs on
the resolved addresses inside the HTTP client's resolver (`GuardedResolver`), so the
connection goes to the very addresses that were checked and a second DNS answer cannot
slip a private address in; a literal IP in the URL is checked by `check_url`, because
aiohttp does not resolve those. Both run again on every redirect.

`AllowList` (`BRIEFBOT_SOURCES_ALLOW_HOSTS`) lifts the address check for the hosts it
names, with or without a port; it never lifts the scheme check.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

SCHEMES = frozenset({"http", "https"})


class UnsafeURL(ValueError):
    """A URL the bot refuses to fetch; the message says why, in French."""


@dataclass(frozen=True, slots=True)
class AllowList:
    """Hosts (`host` or `host:port`) whose addresses are not checked."""

    entries: frozenset[tuple[str, int | None]] = frozenset()

    @classmethod
    def parse(cls, text: str) -> AllowList:
        entries: set[tuple[str, int | None]] = set()
        for raw in text.split(","):
            item = raw.strip().lower()
            if not item:
                continue
            parsed = urlsplit(f"//{item}")
            host = parsed.hostname or ""
            try:
                port = parsed.port
            except ValueError:
                raise ValueError(f"not a host or host:port: {item[:60]!r}") from None
            if not host:
                raise ValueError(f"not a host or host:port: {item[:60]!r}")
            entries.add((host, port))
        return cls(frozenset(entries))

    def allows(self, host: str, port: int | None) -> bool:
        host = host.lower().strip("[]")
        return (host, None) in self.entries or (host, port) in self.entries


def blocked_reason(address: str) -> str | None:
    """Why an IP address may not be fetched from, or None if it is public."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "adresse IP illisible"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for flag, label in (
        (ip.is_loopback, "boucle locale"),
        (ip.is_private, "réseau privé"),
        (ip.is_link_local, "lien local"),
        (ip.is_multicast, "multidiffusion"),
        (ip.is_reserved, "réservée"),
        (ip.is_unspecified, "non spécifiée"),
    ):
        if flag:
            return f"adresse {label}"
    if not ip.is_global:
        return "adresse non publique"
    return None


def default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def check_url(url: str, allow: AllowList) -> str:
    """`url` if its scheme and (literal IP) host may be fetched; UnsafeURL otherwise."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise UnsafeURL("adresse illisible") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise UnsafeURL(f"seuls http et https sont acceptés (pas « {scheme[:20] or '?'} »)")
    host = parts.hostname
    if not host:
        raise UnsafeURL("l'adresse n'a pas de nom d'hôte")
    if parts.username or parts.password:
        raise UnsafeURL("les identifiants dans l'adresse ne sont pas acceptés")
    if allow.allows(host, port or default_port(scheme)):
        return url.strip()
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return url.strip()  # a name: checked once resolved, by GuardedResolver
    reason = blocked_reason(host)
    if reason:
        raise UnsafeURL(f"{host} est une {reason}, refusée")
    return url.strip()


class RefusedAddress(OSError):
    """A host resolved to an address the policy refuses (raised inside the resolver)."""


class GuardedResolver(AbstractResolver):
    """Resolves like aiohttp's threaded resolver, then refuses non-public addresses unless
    the host is allowed; aiohttp connects only to the addresses returned here."""

    def __init__(self, allow: AllowList, inner: AbstractResolver | None = None) -> None:
        self.allow = allow
        self.inner = inner or ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self.inner.resolve(host, port, family)
        if self.allow.allows(host, port):
            return found
        for result in found:
            reason = blocked_reason(str(result["host"]))
            if reason:
                raise RefusedAddress(f"{host} pointe vers une {reason}, refusée")
        return found

    async def close(self) -> None:
        await self.inner.close()
