"""Shared pieces of the sources tests: a settable clock, a poller on the local site."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from bot.sources.poller import SourcePoller
from bot.sources.service import make_poller
from bot.storage.database import Database
from tests.config import make_config

T0 = datetime(2024, 11, 19, 8, 0, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def poller_for(db: Database, corpus: Path, clock: Clock, **settings: object) -> SourcePoller:
    values: dict[str, object] = {
        "sources_allow_hosts": "127.0.0.1",
        "sources_timeout_seconds": 5.0,
        "sources_max_bytes": 200_000,
    }
    values.update(settings)
    config = make_config(corpus=corpus, data_dir=corpus.parent / "data", **values)
    return make_poller(config.core, db.sources, corpus=corpus, clock=clock)


def articles(corpus: Path) -> dict[str, dict[str, object]]:
    """Each article file of the folder: its front matter and its body under "body"."""
    out: dict[str, dict[str, object]] = {}
    for path in sorted(corpus.glob("*.md")):
        _, front, body = path.read_text(encoding="utf-8").split("---\n", 2)
        meta = yaml.safe_load(front)
        meta["body"] = body
        out[path.stem] = meta
    return out


def paragraphs(topic: str, n: int = 3) -> list[str]:
    return [
        f"{topic} : paragraphe {i}. Les autorités ont détaillé les mesures prises cette "
        "semaine, les associations ont réagi, et les habitants attendent la suite avec "
        "intérêt, selon plusieurs témoignages recueillis sur place."
        for i in range(1, n + 1)
    ]
