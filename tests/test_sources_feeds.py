"""Feeds and article pages from a local news site become article files in the corpus."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.sources.extract import extract_article
from bot.sources.model import PAGE
from bot.sources.poller import SourceError, SourcePoller
from bot.storage.database import Database
from tests.fakes.news_site import NewsSite, article_page, atom, rss
from tests.sources_support import Clock, articles, paragraphs, poller_for

CONTENT = "".join(f"<p>{p}</p>" for p in paragraphs("Le barrage de Kandadji", 4))


@pytest.fixture
async def poller(db: Database, folder: Path, clock: Clock) -> AsyncIterator[SourcePoller]:
    made = poller_for(db, folder, clock)
    yield made
    await made.fetcher.close()


async def test_rss_content_encoded_items_are_written_without_fetching_their_pages(
    site: NewsSite, poller: SourcePoller, folder: Path
) -> None:
    feed = site.serve(
        "/rss",
        rss([{"title": "Kandadji avance", "link": site.url("/a/1"), "content": CONTENT}]),
        "application/rss+xml",
    )
    source, result = await poller.add(feed, "admin")
    [meta] = articles(folder).values()
    assert len(result.written) == 1
    assert meta["title"] == "Kandadji avance"
    assert meta["url"] == site.url("/a/1")
    assert meta["source"] == "Le Journal — Afrique"
    assert meta["feed"] == feed
    assert meta["source_id"] == source.id
    assert meta["date"] == "2024-11-19"
    assert "Le barrage de Kandadji : paragraphe 4." in str(meta["body"])
    assert site.hits("/a/1") == 0


async def test_atom_relative_links_lead_to_pages_whose_boilerplate_is_left_out(
    site: NewsSite, poller: SourcePoller, folder: Path
) -> None:
    site.serve("/afrique/niamey", article_page("Niamey", paragraphs("La ville de Niamey")))
    feed = site.serve(
        "/fil/atom.xml",
        atom([{"title": "Niamey", "link": "/afrique/niamey"}]),
        "application/atom+xml",
    )
    await poller.add(feed, "admin")
    [meta] = articles(folder).values()
    body = str(meta["body"])
    assert meta["url"] == site.url("/afrique/niamey")
    assert "La ville de Niamey : paragraphe 3." in body
    for boilerplate in ("Publicité", "Commentaires", "Super article", "Tous droits", "S'abonner"):
        assert boilerplate not in body


async def test_an_item_with_a_broken_date_is_written_without_a_date(
    site: NewsSite, poller: SourcePoller, folder: Path
) -> None:
    item = {"title": "Sans date", "link": site.url("/a/2"), "content": CONTENT, "date": "mardi?"}
    feed = site.serve("/rss", rss([item]), "application/rss+xml")
    await poller.add(feed, "admin")
    [meta] = articles(folder).values()
    assert "date" not in meta


async def test_an_unchanged_feed_is_asked_with_its_etag_and_answers_304(
    site: NewsSite, poller: SourcePoller, clock: Clock
) -> None:
    body = rss([{"title": "Kandadji", "link": site.url("/a/1"), "content": CONTENT}])
    feed = site.serve("/rss", body, "application/rss+xml", etag='"v1"')
    _source, _ = await poller.add(feed, "admin")
    clock.advance(minutes=20)
    [result] = await poller.poll_due()
    assert result.not_modified
    assert site.requests[-1][1].get("If-None-Match") == '"v1"'


async def test_a_redirect_chain_ends_at_the_url_written_as_canonical(
    site: NewsSite, poller: SourcePoller, folder: Path
) -> None:
    site.redirect("/r/1", site.url("/r/2"), 302)
    site.redirect("/r/2", "/articles/final", 301)
    site.serve("/articles/final", article_page("Final", paragraphs("Le dernier lien")))
    feed = site.serve("/rss", rss([{"title": "Final", "link": site.url("/r/1")}]), "text/xml")
    await poller.add(feed, "admin")
    [meta] = articles(folder).values()
    assert meta["url"] == site.url("/articles/final")


async def test_more_redirects_than_the_limit_are_an_error(
    site: NewsSite, poller: SourcePoller
) -> None:
    for hop in range(8):
        site.redirect(f"/loop/{hop}", f"/loop/{hop + 1}")
    with pytest.raises(SourceError, match="trop de redirections"):
        await poller.add(site.url("/loop/0"), "admin")


@pytest.mark.slow
async def test_a_feed_slower_than_the_timeout_is_recorded_as_the_sources_error(
    site: NewsSite, db: Database, folder: Path, clock: Clock
) -> None:
    poller = poller_for(db, folder, clock, sources_timeout_seconds=0.5)
    body = rss([{"title": "Kandadji", "link": site.url("/a/1"), "content": CONTENT}])
    feed = site.serve("/rss", body, "application/rss+xml")
    source, _ = await poller.add(feed, "admin")
    site.serve("/rss", body, "application/rss+xml", delay=2.0)
    clock.advance(minutes=20)
    [result] = await poller.poll_due()
    await poller.fetcher.close()
    assert result.error is not None and "délai dépassé" in result.error
    assert "délai dépassé" in (db.sources.get(source.id).last_error or "")  # type: ignore[union-attr]


async def test_a_body_over_the_size_limit_is_refused_while_streaming(
    site: NewsSite, poller: SourcePoller, folder: Path
) -> None:
    huge = rss(
        [{"title": f"n{i}", "link": site.url(f"/a/{i}"), "content": CONTENT} for i in range(400)]
    )
    feed = site.serve("/rss", huge, "application/rss+xml", chunked=True)
    with pytest.raises(SourceError, match="trop grande"):
        await poller.add(feed, "admin")
    assert not folder.exists() or not list(folder.iterdir())


async def test_malformed_xml_is_the_sources_error_and_nothing_is_written(
    site: NewsSite, poller: SourcePoller, folder: Path, clock: Clock
) -> None:
    good = rss([{"title": "Kandadji", "link": site.url("/a/1"), "content": CONTENT}])
    feed = site.serve("/rss", good, "application/rss+xml")
    await poller.add(feed, "admin")
    before = articles(folder)
    broken = rss([{"title": "Autre", "link": site.url("/a/9"), "content": CONTENT}])[:-40]
    site.serve("/rss", broken, "application/rss+xml")
    clock.advance(minutes=20)
    [result] = await poller.poll_due()
    assert result.error is not None and "flux illisible" in result.error
    assert articles(folder) == before


async def test_a_document_that_is_not_a_feed_is_the_sources_error(
    site: NewsSite, poller: SourcePoller
) -> None:
    url = site.serve("/notes.txt", "Bonjour, ceci n'est pas un flux.", "text/plain")
    _source, result = await poller.add(url, "admin")
    assert result.error == "ce document n'est pas un flux RSS, Atom ou JSON Feed"


async def test_a_json_feed_is_followed(site: NewsSite, poller: SourcePoller, folder: Path) -> None:
    body = (
        '{"version": "https://jsonfeed.org/version/1.1", "title": "Le Fil JSON", "items": '
        f'[{{"id": "1", "url": "{site.url("/j/1")}", "title": "En JSON", '
        f'"content_html": "{CONTENT}", "date_published": "2024-11-18T10:00:00Z"}}]}}'
    )
    feed = site.serve("/feed.json", body, "application/feed+json")
    await poller.add(feed, "admin")
    [meta] = articles(folder).values()
    assert (meta["title"], meta["source"], meta["date"]) == ("En JSON", "Le Fil JSON", "2024-11-18")


async def test_an_article_page_added_as_a_source_is_taken_once(
    site: NewsSite, poller: SourcePoller, folder: Path, clock: Clock
) -> None:
    page = site.serve("/a/seul", article_page("Un seul article", paragraphs("Une page seule")))
    source, result = await poller.add(page, "admin")
    clock.advance(days=1)
    assert await poller.poll_due() == []
    assert source.kind == PAGE and source.next_poll is None
    assert len(result.written) == 1 and len(articles(folder)) == 1


async def test_a_page_with_no_article_text_is_an_error_and_writes_nothing(
    site: NewsSite, poller: SourcePoller, folder: Path
) -> None:
    page = site.serve("/vide", "<html><body><nav>Accueil | Monde</nav></body></html>")
    _source, result = await poller.add(page, "admin")
    assert result.error is not None and "aucun texte" in result.error
    assert not folder.exists() or not list(folder.iterdir())


async def test_a_page_whose_bytes_do_not_match_its_charset_is_an_encoding_error(
    site: NewsSite, poller: SourcePoller, folder: Path
) -> None:
    html = article_page("Édition spéciale", paragraphs("Une édition spéciale")).encode("cp1252")
    page = site.serve("/latin", html, "text/html", charset="utf-8")
    _source, result = await poller.add(page, "admin")
    assert result.error is not None and result.error.startswith("encodage illisible")
    assert not folder.exists() or not list(folder.iterdir())


async def test_an_item_whose_page_is_missing_is_shown_and_retried_at_the_next_poll(
    site: NewsSite, poller: SourcePoller, folder: Path, clock: Clock
) -> None:
    feed = site.serve("/rss", rss([{"title": "Bientôt", "link": site.url("/a/404")}]), "text/xml")
    _source, result = await poller.add(feed, "admin")
    assert result.error is not None and "HTTP 404" in result.error
    site.serve("/a/404", article_page("Bientôt", paragraphs("Enfin publié")))
    clock.advance(minutes=20)
    [again] = await poller.poll_due()
    assert len(again.written) == 1 and again.error is None


async def test_pages_robots_txt_disallows_are_not_fetched(
    site: NewsSite, poller: SourcePoller, folder: Path
) -> None:
    site.serve("/robots.txt", "User-agent: *\nDisallow: /prive/\n", "text/plain")
    site.serve("/prive/1", article_page("Privé", paragraphs("Texte privé")))
    feed = site.serve("/rss", rss([{"title": "Privé", "link": site.url("/prive/1")}]), "text/xml")
    _source, result = await poller.add(feed, "admin")
    assert result.error is not None and "robots.txt" in result.error
    assert site.hits("/prive/1") == 0


async def test_the_same_story_in_two_feeds_is_written_once(
    site: NewsSite, poller: SourcePoller, folder: Path
) -> None:
    one = site.serve("/un.xml", rss([{"title": "A", "link": site.url("/a"), "content": CONTENT}]))
    two = site.serve("/deux.xml", rss([{"title": "B", "link": site.url("/b"), "content": CONTENT}]))
    await poller.add(one, "admin")
    _, result = await poller.add(two, "admin")
    assert result.written == () and result.skipped == 1
    assert len(articles(folder)) == 1


async def test_failures_back_off_then_pause_the_source_with_the_reason(
    site: NewsSite, poller: SourcePoller, clock: Clock, db: Database
) -> None:
    feed = site.serve("/rss", rss([{"title": "A", "link": site.url("/a"), "content": CONTENT}]))
    source, _ = await poller.add(feed, "admin")
    del site.routes["/rss"]
    delays = []
    for _ in range(5):
        current = db.sources.get(source.id)
        assert current is not None and current.next_poll is not None
        clock.now = current.next_poll
        await poller.poll_due()
        after = db.sources.get(source.id)
        assert after is not None
        if after.next_poll and not after.paused:
            delays.append(after.next_poll - clock.now)
    final = db.sources.get(source.id)
    assert final is not None and final.paused
    assert final.paused_reason is not None and "5 échecs" in final.paused_reason
    assert "HTTP 404" in final.paused_reason
    assert delays == sorted(delays) and delays[0] < delays[-1]


def test_a_page_extracted_twice_gives_its_text_twice() -> None:
    page = article_page("Deux fois", paragraphs("Le même article"))
    first = extract_article(page, "http://example.org/a")
    assert extract_article(page, "http://example.org/a").text == first.text


async def test_an_article_page_robots_txt_disallows_is_not_added(
    site: NewsSite, poller: SourcePoller
) -> None:
    site.serve("/robots.txt", "User-agent: briefbot\nDisallow: /prive/\n", "text/plain")
    page = site.serve("/prive/2", article_page("Privé", paragraphs("Texte privé")))
    with pytest.raises(SourceError, match=r"robots\.txt"):
        await poller.add(page, "admin")
    assert site.hits("/prive/2") == 0


async def test_a_page_without_a_declared_charset_is_read_with_its_meta_charset(
    site: NewsSite, poller: SourcePoller, folder: Path
) -> None:
    html = article_page("Édition spéciale", paragraphs("Une édition spéciale"))
    html = html.replace('<meta charset="utf-8">', '<meta charset="windows-1252">')
    page = site.serve("/cp1252", html.encode("cp1252"), "text/html", charset=None)
    _source, result = await poller.add(page, "admin")
    [meta] = articles(folder).values()
    assert result.error is None
    assert "Une édition spéciale : paragraphe 1." in str(meta["body"])
