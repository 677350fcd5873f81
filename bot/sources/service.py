"""The sources feature assembled from the settings: what the program and the CLI use."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from bot.settings import Settings
from bot.sources.fetch import Fetcher, Limits
from bot.sources.model import utcnow
from bot.sources.poller import Policy, SourcePoller
from bot.sources.ports import SourceStore
from bot.sources.robots import Robots
from bot.sources.safety import AllowList
from bot.sources.writer import ArticleWriter


def make_poller(
    settings: Settings,
    store: SourceStore,
    *,
    corpus: Path | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> SourcePoller:
    """A poller writing into the corpus folder, with the limits the settings give."""
    fetcher = Fetcher(
        AllowList.parse(settings.sources_allow_hosts),
        Limits(
            timeout_seconds=settings.sources_timeout_seconds,
            max_bytes=settings.sources_max_bytes,
            max_redirects=settings.sources_max_redirects,
        ),
    )
    return SourcePoller(
        store,
        fetcher,
        Robots(fetcher),
        ArticleWriter(Path(corpus or settings.corpus)),
        Policy(
            interval_seconds=settings.sources_interval_minutes * 60,
            max_failures=settings.sources_max_failures,
        ),
        clock=clock,
    )
