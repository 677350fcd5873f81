"""What the program derives from each corpus snapshot, built from the settings once, so
`briefbot run` and the one-shot CLI commands answer from the same derivations."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bot.actors.curated import curated_aliases
from bot.actors.directory import ActorDirectory, DirectoryBuild, build_directory
from bot.actors.discovery import cached_entities
from bot.ask.answerer import Answerer
from bot.ask.embedder import Embedder, EmbeddingCache, load_embedder
from bot.ask.index import SearchIndex
from bot.chat.telemetry import NULL_TELEMETRY, Telemetry
from bot.corpus.library import Derivation, Library, Listener, Snapshot
from bot.settings import Settings
from bot.timeline.events import TimelineEvent, extract_events

log = logging.getLogger(__name__)


class Derived:
    """The answerer, the actor directory and the timeline of a snapshot.

    `telemetry` hears how long each search index build took. With `BRIEFBOT_SEMANTIC`,
    answers are re-ranked by meaning once a snapshot's passages are embedded (cached in
    the data directory); until then, and where the model cannot load, they are lexical.
    The answerer types "qui" and "où" answers by the entities actor discovery cached, so
    the directory is prepared first.
    """

    def __init__(self, settings: Settings, *, telemetry: Telemetry = NULL_TELEMETRY) -> None:
        self.settings = settings
        self.telemetry = telemetry
        self.embedder: Embedder | None = None
        self.embeddings: EmbeddingCache | None = None
        self.semantic_status = "semantic ranking off (BRIEFBOT_SEMANTIC): lexical ranking only"
        if settings.semantic:
            loaded = load_embedder()
            self.embedder, self.semantic_status = loaded.embedder, loaded.status
            if loaded.embedder is not None:
                folder = Path(settings.data_dir) / "embeddings"
                self.embeddings = EmbeddingCache(folder, loaded.embedder.name)
        self.actors_file = Path(settings.config_dir) / "actors.yaml"
        self._actor_cache = Path(settings.data_dir) / "actors"
        self.answerer = Derivation("answerer", self._answerer)
        self.directory = Derivation("actors", self._directory)
        self.events = Derivation("events", lambda snap: extract_events(snap.articles))

    @property
    def all(self) -> tuple[Derivation[Any], ...]:
        return (self.directory, self.answerer, self.events)

    def library(
        self,
        *,
        listeners: Sequence[Listener] = (),
        on_rescan: Callable[[], None] = lambda: None,
    ) -> Library:
        """A library of the configured corpus that prepares all three before serving."""
        return Library(
            self.settings.corpus, prepare=self.all, listeners=listeners, on_rescan=on_rescan
        )

    def _answerer(self, snapshot: Snapshot) -> Answerer:
        started = time.perf_counter()
        index = SearchIndex(snapshot.articles)
        self.telemetry.index_build_seconds(time.perf_counter() - started)
        return Answerer(
            index,
            threshold=self.settings.answer_threshold,
            suggestions=self.settings.suggestions,
            aliases=curated_aliases(self.actors_file),
            embedder=self.embedder,
            embeddings=self.embeddings,
            entities=cached_entities(snapshot.articles, self._actor_cache),
        )

    def _directory(self, snapshot: Snapshot) -> DirectoryBuild:
        build = build_directory(snapshot.articles, self.actors_file, self._actor_cache)
        for problem in build.problems:
            log.warning("actors: %s", problem)
        return build

    def actors(self, snapshot: Snapshot) -> ActorDirectory:
        return self.directory.of(snapshot).directory

    def timeline(self, snapshot: Snapshot) -> list[TimelineEvent]:
        return self.events.of(snapshot)
