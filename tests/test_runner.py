"""`briefbot run` as one process: a growing corpus, derived data, a clean stop."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

from bot.briefings.subscription import utcnow
from bot.chat.context import ChannelRef, CommandContext
from bot.chat.replies import Reply, ReplyKind
from briefbot.app import Application, configured_platforms
from briefbot.settings import Config
from tests.config import make_config

CTX = CommandContext(ChannelRef("console", "local", "console"), user_id="tester")
NEW_ARTICLE = (
    "---\ntitle: Un barrage inauguré sur le fleuve\ndate: 2024-05-02\n"
    "url: https://example.org/barrage\n---\n"
    "Le barrage de Kandadji a été inauguré jeudi par le ministre de l'Hydraulique, "
    "Abdoulaye Maïga, en présence de milliers d'habitants.\n"
)
QUESTION = "Quel barrage a été inauguré ?"


def app_for(corpus: Path, tmp_path: Path) -> Application:
    app = Application(make_config(corpus=corpus, data_dir=tmp_path / "data"), platforms=())
    app.load()
    app.library.settle(60)  # actors and timeline, derived in the background
    return app


async def ask(app: Application, question: str) -> Reply:
    return await app.registry.run(CTX, "ask", {"question": question})


def test_console_is_the_default_without_platform_credentials(config: Config) -> None:
    assert configured_platforms(config) == ("console",)


async def test_new_article_is_answered_after_a_rescan(corpus: Path, tmp_path: Path) -> None:
    app = app_for(corpus, tmp_path)
    assert (await ask(app, QUESTION)).kind is ReplyKind.NO_ANSWER
    (corpus / "new.md").write_text(NEW_ARTICLE, encoding="utf-8")
    assert app.library.refresh() is True
    reply = await ask(app, QUESTION)
    assert reply.kind is ReplyKind.ANSWER
    assert "Kandadji" in reply.blocks[0].text


async def test_new_article_is_in_the_next_digest_and_old_ones_are_not(
    corpus: Path, tmp_path: Path
) -> None:
    app = app_for(corpus, tmp_path)
    last_briefing = utcnow()
    (corpus / "new.md").write_text(NEW_ARTICLE, encoding="utf-8")
    app.library.refresh()
    digest = app.digests.digest(last_briefing, "new")
    assert [a.id for a in digest.articles] == ["new"]


async def test_new_article_actors_appear_without_editing_the_yaml(
    corpus: Path, tmp_path: Path
) -> None:
    app = app_for(corpus, tmp_path)
    (corpus / "new.md").write_text(NEW_ARTICLE, encoding="utf-8")
    app.library.refresh()
    assert app.library.settle(60)  # the directory follows the answers, in the background
    reply = await app.registry.run(CTX, "actor", {"name": "Abdoulaye Maiga"})
    assert reply.kind is ReplyKind.ACTOR
    assert reply.title == "Abdoulaye Maïga"


async def test_broken_new_file_is_reported_and_the_rest_still_served(
    corpus: Path, tmp_path: Path
) -> None:
    app = app_for(corpus, tmp_path)
    (corpus / "broken.md").write_bytes(b"\xff\xfe\xfa not utf-8")
    assert app.library.refresh() is True
    snapshot = app.library.current
    assert [p.path.endswith("broken.md") for p in snapshot.problems] == [True]
    assert len(snapshot.articles) == 2
    assert (await ask(app, "Qui est Molly Phee ?")).kind is ReplyKind.ANSWER


async def test_removed_article_is_no_longer_cited(corpus: Path, tmp_path: Path) -> None:
    app = app_for(corpus, tmp_path)
    (corpus / "003_7eb3dd99e69e60ff.txt").unlink()
    app.library.refresh()
    reply = await ask(app, "Qui est Kurt Campbell ?")
    assert reply.kind is ReplyKind.NO_ANSWER


async def test_unchanged_folder_is_not_rebuilt(corpus: Path, tmp_path: Path) -> None:
    app = app_for(corpus, tmp_path)
    before = app.library.current
    assert app.library.refresh() is False
    assert app.library.current is before


async def test_watcher_picks_up_a_new_file_in_the_background(corpus: Path, tmp_path: Path) -> None:
    app = app_for(corpus, tmp_path)
    stop = asyncio.Event()
    swapped = asyncio.Event()
    loop = asyncio.get_running_loop()
    app.library.add_listener(lambda *_: loop.call_soon_threadsafe(swapped.set))
    watcher = asyncio.create_task(app.library.watch(0.01, stop))
    (corpus / "new.md").write_text(NEW_ARTICLE, encoding="utf-8")
    await asyncio.wait_for(swapped.wait(), timeout=30)
    stop.set()
    await watcher
    assert any(a.id == "new" for a in app.library.current.articles)


async def test_sigterm_stops_the_bot_cleanly(config: Config) -> None:
    app = Application(config, platforms=())
    task = asyncio.create_task(app.run())
    while app.scheduler is None or not app.scheduler.running:
        await asyncio.sleep(0.01)
    os.kill(os.getpid(), signal.SIGTERM)
    assert await asyncio.wait_for(task, timeout=30) == 0
    assert not app.scheduler.running
