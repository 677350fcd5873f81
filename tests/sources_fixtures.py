"""Fixtures of the news-source tests: the local news site (on the test's loop, or on a
loop of its own for the CLI's `asyncio.run`), a clock, and the corpus folder."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.fakes.news_site import NewsSite
from tests.sources_support import Clock


@pytest.fixture
async def site() -> AsyncIterator[NewsSite]:
    server = await NewsSite().start()
    yield server
    await server.stop()


@pytest.fixture
def threaded_site() -> Iterator[NewsSite]:
    """The site on its own loop in a thread, for the CLI's own asyncio.run."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = asyncio.run_coroutine_threadsafe(NewsSite().start(), loop).result(10)
    yield server
    asyncio.run_coroutine_threadsafe(server.stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "corpus"
