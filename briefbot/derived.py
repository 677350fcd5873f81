"""What the program derives from each corpus snapshot, built from the settings once, so
`briefbot run` and the one-shot CLI commands answer from the same derivations."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bot.actors.curated import curated_aliases
from bot.actors.directory import ActorDirectory, DirectoryBuild, build_directory
from bot.actors.discovery import CachedEntities
from bot.ask import index_store
from bot.ask.answerer import Answerer
from bot.ask.embedder import Embedder, EmbeddingCache, load_embedder
from bot.ask.index import SearchIndex
from bot.chat.telemetry import NULL_TELEMETRY, Telemetry
from bot.corpus.cache import ArticleCache, open_article_cache
from bot.corpus.library import Derivation, Library, Listener, Snapshot
from bot.corpus.progress import ProgressFactory, logged_progress
from bot.settings import Settings
from bot.timeline.events import TimelineEvent, extract_events

log = logging.getLogger(__name__)


class Derived:
    """The answerer, the actor directory and the timeline of a snapshot.

    `telemetry` hears how long each search index build took. With `BRIEFBOT_SEMANTIC`,
    answers are re-ranked by meaning once a snapshot's passages are embedded (cached in
    the data directory); until then, and where the model cannot load, they are lexical.
    The answerer types "qui" and "où" answers by the entities actor discovery cached,
    read per article when a question needs them, so it never waits for discovery: an
    article discovery has not read yet is typed by patterns.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        telemetry: Telemetry = NULL_TELEMETRY,
        progress: ProgressFactory = logged_progress,
    ) -> None:
        """`progress` makes the progress callback of each long task (index build, actor
        discovery): log lines in the bot, a bar on the command line's terminal."""
        self.settings = settings
        self.telemetry = telemetry
        self.progress = progress
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
        self.cache_dir = Path(settings.data_dir) / "cache"
        self._actor_cache = Path(settings.data_dir) / "actors"
        self.answerer = Derivation("answerer", self._answerer, update=self._updated)
        self.directory = Derivation("actors", self._directory)
        self.events = Derivation("events", lambda snap: extract_events(snap.articles))
        self._saved: SearchIndex | None = None  # the index last written to the cache
        self._save_lock = threading.Lock()

    def library(
        self,
        *,
        listeners: Sequence[Listener] = (),
        on_rescan: Callable[[], None] = lambda: None,
    ) -> Library:
        """A library of the configured corpus that serves a snapshot as soon as its answerer
        is ready; the actor directory and the timeline follow in the background."""
        return Library(
            self.settings.corpus,
            prepare=(self.answerer,),
            background=(self.directory, self.events),
            listeners=listeners,
            on_rescan=on_rescan,
            article_cache=article_cache(self.settings),
        )

    def _answerer(self, snapshot: Snapshot) -> Answerer:
        """From the saved index when there is one (updated for what changed since), else
        built from the articles."""
        started = time.perf_counter()
        loaded = index_store.load(self.cache_dir, snapshot.articles)
        if loaded is not None:
            index = loaded.index
            if not (loaded.added or loaded.removed):
                self._saved = index
            log.info(
                "search index loaded from %s in %.1fs (%d added, %d removed since)",
                self.cache_dir,
                time.perf_counter() - started,
                loaded.added,
                loaded.removed,
            )
        else:
            index = SearchIndex(snapshot.articles, progress=self.progress("search index"))
        self.telemetry.index_build_seconds(time.perf_counter() - started)
        return self._answerer_for(index)

    def _updated(self, previous: Answerer, before: Snapshot, after: Snapshot) -> Answerer:
        """The previous snapshot's index with only the changed articles re-read."""
        old = {(a.id, a.content_hash) for a in before.articles}
        new = {(a.id, a.content_hash) for a in after.articles}
        added = [a for a in after.articles if (a.id, a.content_hash) not in old]
        removed = [a.id for a in before.articles if (a.id, a.content_hash) not in new]
        if not added and not removed:
            return previous
        started = time.perf_counter()
        index = previous.index.updated(added, removed)
        self.telemetry.index_build_seconds(time.perf_counter() - started)
        return self._answerer_for(index)

    def _answerer_for(self, index: SearchIndex) -> Answerer:
        return Answerer(
            index,
            threshold=self.settings.answer_threshold,
            suggestions=self.settings.suggestions,
            aliases=curated_aliases(self.actors_file),
            embedder=self.embedder,
            embeddings=self.embeddings,
            entities=CachedEntities(index.articles, self._actor_cache),
        )

    def save_index(self, snapshot: Snapshot) -> None:
        """Write the snapshot's search index to the data directory unless it is already
        there; blocking (about a second per 100 MB), so `briefbot run` calls it from a
        worker thread after the snapshot is served."""
        answerer = self.answerer.peek(snapshot)
        if answerer is None:
            return
        with self._save_lock:
            if answerer.index is self._saved:
                return
            started = time.perf_counter()
            if index_store.save(answerer.index, self.cache_dir) is not None:
                self._saved = answerer.index
                log.info("search index saved in %.1fs", time.perf_counter() - started)

    def _directory(self, snapshot: Snapshot) -> DirectoryBuild:
        build = build_directory(
            snapshot.articles,
            self.actors_file,
            self._actor_cache,
            progress=self.progress("actor discovery"),
        )
        for problem in build.problems:
            log.warning("actors: %s", problem)
        return build

    def actors(self, snapshot: Snapshot) -> ActorDirectory:
        return self.directory.of(snapshot).directory

    def timeline(self, snapshot: Snapshot) -> list[TimelineEvent]:
        return self.events.of(snapshot)


def article_cache(settings: Settings) -> ArticleCache | None:
    """The parsed articles kept in the data directory; None (warned of) if it cannot be
    created, and the articles are then parsed at each load."""
    return open_article_cache(Path(settings.data_dir) / "cache")
