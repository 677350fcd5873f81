"""End to end: a new item in a followed feed is, after one poll, an article the bot
answers from and the next digest lists once; the CLI drives the same commands."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.chat.context import ChannelRef, CommandContext
from briefbot.app import Application
from briefbot.cli import main
from tests.config import make_config
from tests.fakes.news_site import NewsSite, rss
from tests.sources_support import articles

KANDADJI = (
    "<p>Le barrage de Kandadji sera mis en service en 2027, a annoncé jeudi le ministre "
    "de l'Hydraulique, Issa Moussa, lors d'une visite du chantier.</p>"
    "<p>Le chantier emploie plus de deux mille ouvriers. Les travaux de la centrale "
    "hydroélectrique ont repris après une longue interruption, selon l'entreprise chargée "
    "des travaux, qui promet une production d'électricité pour toute la région.</p>"
    "<p>Les habitants déplacés par la retenue d'eau ont reçu de nouvelles terres agricoles, "
    "ont indiqué les autorités régionales, qui suivent la réinstallation des villages.</p>"
)
FIRST = (
    "<p>La saison des pluies a commencé plus tôt que prévu dans le sud du pays, ont "
    "indiqué les services météorologiques, qui recommandent aux agriculteurs de semer.</p>"
    "<p>Les prévisions annoncent des précipitations supérieures à la moyenne pendant trois "
    "mois, avec un risque d'inondations le long du fleuve et de ses affluents.</p>"
    "<p>Les communes riveraines ont commencé à curer les caniveaux et à renforcer les digues "
    "de protection, avec l'aide des comités de quartier.</p>"
)
ADMIN = CommandContext(ChannelRef("console", "local", "console"), user_id="admin")


@pytest.mark.slow
async def test_a_new_feed_item_is_answerable_after_one_poll_and_in_the_next_digest_once(
    site: NewsSite, tmp_path: Path, seeds: Path
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "seed.txt").write_bytes(next(seeds.glob("*.txt")).read_bytes())
    first = {"title": "Les pluies arrivent", "link": site.url("/a/pluies"), "content": FIRST}
    feed = site.serve("/rss", rss([first]), "application/rss+xml")
    config = make_config(corpus=corpus, data_dir=tmp_path / "data", sources_allow_hosts="127.0.0.1")
    app = Application(config, platforms=("console",))
    try:
        added = await app.registry.run(ADMIN, "source add", {"url": feed})
        app.load()
        app.library.settle(60)  # actors and timeline, derived in the background
        since = datetime.now(UTC)
        second = {"title": "Kandadji en 2027", "link": site.url("/a/kandadji"), "content": KANDADJI}
        site.serve("/rss", rss([second, first]), "application/rss+xml")

        [result] = await app.sources.poll_all()
        assert app.library.refresh()
        reply = await app.registry.run(
            ADMIN, "ask", {"question": "Quand le barrage de Kandadji sera-t-il mis en service ?"}
        )
        digest = app.digests.digest(since, "new")
    finally:
        await app.source_scheduler.shutdown()
        app.database.close()
    [new_id] = result.written
    assert len(added.data["written"]) == 1 and added.data["written"] != [new_id]
    assert articles(corpus)[new_id]["title"] == "Kandadji en 2027"
    assert reply.blocks[0].citation is not None
    assert reply.blocks[0].citation.article == new_id
    assert "2027" in reply.blocks[0].text
    assert [a.id for a in digest.articles].count(new_id) == 1


def test_the_cli_adds_lists_polls_and_removes_a_source(
    threaded_site: NewsSite,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    monkeypatch.setenv("BRIEFBOT_CORPUS", str(corpus))
    monkeypatch.setenv("BRIEFBOT_SOURCES_ALLOW_HOSTS", "127.0.0.1")
    site = threaded_site
    first = {"title": "Les pluies arrivent", "link": site.url("/a/pluies"), "content": FIRST}
    feed = site.serve("/rss", rss([first]), "application/rss+xml")

    assert main(["source", "add", feed]) == 0
    second = {"title": "Kandadji", "link": site.url("/a/kandadji"), "content": KANDADJI}
    site.serve("/rss", rss([second, first]), "application/rss+xml")
    assert main(["source", "poll"]) == 0
    capsys.readouterr()
    assert main(["source", "list", "--json"]) == 0
    [listed] = json.loads(capsys.readouterr().out)
    assert main(["source", "remove", feed]) == 0

    assert (listed["url"], listed["articles_taken"]) == (feed, 2)
    assert len(articles(corpus)) == 2
    capsys.readouterr()
    assert main(["source", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_the_cli_refuses_a_url_that_is_not_http(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIEFBOT_CORPUS", str(tmp_path))
    assert main(["source", "add", "file:///etc/passwd"]) == 2
    assert "seuls http et https" in capsys.readouterr().out
