"""spaCy's entities for the benchmark corpora, as the bot gets them: actor discovery, with
its per-article cache in data/bench-entities (PIAF takes about 20 s the first time)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bot.actors.discovery import RawEntity, discover
from bot.corpus.model import Article

BENCH_ENTITIES = Path(__file__).resolve().parent.parent / "data" / "bench-entities"


def entities_for(articles: Sequence[Article]) -> dict[str, list[RawEntity]]:
    """Entities by article id; none (patterns decide) where spaCy cannot load."""
    return discover(articles, BENCH_ENTITIES).entities
