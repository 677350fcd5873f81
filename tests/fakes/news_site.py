"""A news site on 127.0.0.1 (aiohttp `web`, in-process): feeds and article pages in the
shapes real sites serve, with ETags, redirects, slow and oversized responses."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from html import escape

from aiohttp import web

LOREM = (
    "Le gouvernement de transition a annoncé mardi un calendrier pour les élections. "
    "Les partenaires régionaux ont salué une étape importante, tout en demandant des "
    "garanties sur la participation des partis. Les observateurs restent prudents."
)


@dataclass
class Route:
    body: bytes = b""
    content_type: str = "text/html"
    charset: str | None = "utf-8"
    status: int = 200
    etag: str | None = None
    location: str | None = None
    delay: float = 0.0
    chunked: bool = False


@dataclass
class NewsSite:
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    port: int = 0
    _runner: web.AppRunner | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def serve(
        self, path: str, body: str | bytes, content_type: str = "text/html", **kw: object
    ) -> str:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[path] = Route(data, content_type, **kw)  # type: ignore[arg-type]
        return self.url(path)

    def redirect(self, path: str, to: str, status: int = 301) -> str:
        self.routes[path] = Route(status=status, location=to)
        return self.url(path)

    def hits(self, path: str) -> int:
        return sum(1 for p, _ in self.requests if p == path)

    async def start(self) -> NewsSite:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append((request.path, dict(request.headers)))
        route = self.routes.get(request.path)
        if route is None:
            return web.Response(status=404, text="not found")
        if route.delay:
            await asyncio.sleep(route.delay)
        if route.location is not None:
            return web.Response(status=route.status, headers={"Location": route.location})
        headers = {"ETag": route.etag} if route.etag else {}
        if route.etag and request.headers.get("If-None-Match") == route.etag:
            return web.Response(status=304, headers=headers)
        if route.chunked:
            stream = web.StreamResponse(status=route.status, headers=headers)
            stream.content_type = route.content_type
            stream.enable_chunked_encoding()
            await stream.prepare(request)
            for start in range(0, len(route.body), 65536):
                await stream.write(route.body[start : start + 65536])
            await stream.write_eof()
            return stream
        return web.Response(
            status=route.status,
            body=route.body,
            content_type=route.content_type,
            charset=route.charset,
            headers=headers,
        )


def rss(items: list[dict[str, str]], title: str = "Le Journal — Afrique") -> str:
    """RSS 2.0 with `content:encoded` when an item has `content`."""
    entries = []
    for item in items:
        content = (
            f"<content:encoded><![CDATA[{item['content']}]]></content:encoded>"
            if "content" in item
            else ""
        )
        entries.append(
            f"<item><title>{escape(item['title'])}</title><link>{escape(item['link'])}</link>"
            f"<guid>{escape(item['link'])}</guid>"
            f"<pubDate>{item.get('date', 'Tue, 19 Nov 2024 08:00:00 GMT')}</pubDate>"
            f"<description>{escape(item.get('summary', 'Résumé.'))}</description>{content}</item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>{escape(title)}</title><link>http://example.org/</link>"
        f"<description>Actualités</description>{''.join(entries)}</channel></rss>"
    )


def atom(entries: list[dict[str, str]], title: str = "Le Fil Atom") -> str:
    """Atom 1.0 with `xml:base` and relative links, as many CMSs publish."""
    parts = [
        f'<entry><title>{escape(e["title"])}</title><link href="{escape(e["link"])}"/>'
        f"<id>urn:uuid:{abs(hash(e['link']))}</id><updated>{e.get('date', '2024-11-19T08:00:00Z')}"
        f"</updated><summary>{escape(e.get('summary', 'Résumé court.'))}</summary></entry>"
        for e in entries
    ]
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{escape(title)}</title><id>urn:feed</id><updated>2024-11-19T08:00:00Z</updated>"
        f"{''.join(parts)}</feed>"
    )


def article_page(title: str, paragraphs: list[str], date: str = "2024-11-19") -> str:
    """An article page with the boilerplate real sites put around the text."""
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return (
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">'
        f"<title>{escape(title)} | Le Journal</title>"
        f'<meta property="article:published_time" content="{date}T08:00:00Z">'
        "</head><body>"
        '<header><nav><a href="/">Accueil</a> <a href="/monde">Monde</a> '
        '<a href="/sport">Sport</a> <a href="/abonnement">S\'abonner</a></nav></header>'
        '<aside class="ads">Publicité — Découvrez nos offres exceptionnelles !</aside>'
        f"<main><article><h1>{escape(title)}</h1>"
        f'<p class="byline">Par Awa Diallo</p>{body}</article></main>'
        '<section class="comments"><h2>Commentaires</h2><p>Super article !!!</p></section>'
        "<footer><p>© 2019 Le Journal. Tous droits réservés. Mentions légales. "
        "Politique de confidentialité.</p></footer></body></html>"
    )
