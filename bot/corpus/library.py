"""The corpus as the bot currently serves it, and its replacement when files change.

A `Snapshot` is immutable: the articles, their index and everything derived from them. The
`Library` swaps snapshots atomically, so a question is always answered from one coherent
corpus while a new one is built in a worker thread. A rebuild that fails keeps the old
snapshot; a broken new file is reported and skipped by the loader like at start-up.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.ask.answerer import Answerer
from bot.ask.index import SearchIndex
from bot.corpus.loader import Problem, article_files, load_corpus
from bot.corpus.model import Article
from bot.settings import Settings

log = logging.getLogger(__name__)

Fingerprint = tuple[tuple[str, int, int], ...]


@dataclass(frozen=True)
class Snapshot:
    articles: tuple[Article, ...]
    problems: tuple[Problem, ...]
    index: SearchIndex
    answerer: Answerer
    fingerprint: Fingerprint
    built_at: dt.datetime
    extras: dict = field(default_factory=dict, compare=False)

    def article(self, article_id: str) -> Article | None:
        return next((a for a in self.articles if a.id == article_id), None)


def fingerprint(folder: Path) -> Fingerprint:
    """Names, sizes and modification times of the article files: cheap change detection."""
    out = []
    for path in article_files(folder):
        try:
            st = path.stat()
        except OSError:
            continue
        out.append((path.name, st.st_size, st.st_mtime_ns))
    return tuple(out)


SnapshotHook = Callable[[Snapshot], None]


def curated_aliases(path: Path) -> dict[str, str]:
    """alias -> canonical name from the editors' actors file (cheap: YAML only, no spaCy)."""
    from bot.actors.curated import load_curated

    curated = load_curated(path, missing_ok=True)
    return {alias: actor.name for actor in curated.actors for alias in actor.aliases}


class Library:
    """Owns the current snapshot. `hooks` run on each new snapshot (derived data, caches)."""

    def __init__(self, settings: Settings, *, hooks: list[SnapshotHook] | None = None) -> None:
        self.settings = settings
        self.folder = Path(settings.corpus)
        self.hooks: list[SnapshotHook] = list(hooks or [])
        self._current: Snapshot | None = None
        self._lock = threading.Lock()
        self.listeners: list[Callable[[Snapshot, Snapshot | None], None]] = []

    @property
    def current(self) -> Snapshot:
        if self._current is None:
            self.load()
        assert self._current is not None
        return self._current

    def build(self) -> Snapshot:
        """Read the folder and build a snapshot (raises FileNotFoundError if it is missing)."""
        # Taken before reading, so a file changed during the build triggers another one.
        before = fingerprint(self.folder) if self.folder.is_dir() else ()
        result = load_corpus(self.folder)
        index = SearchIndex(result.articles)
        answerer = Answerer(
            index,
            threshold=self.settings.answer_threshold,
            suggestions=self.settings.suggestions,
            aliases=curated_aliases(Path(self.settings.config_dir) / "actors.yaml"),
        )
        snapshot = Snapshot(
            tuple(result.articles),
            tuple(result.problems),
            index,
            answerer,
            before,
            dt.datetime.now(dt.UTC),
        )
        for hook in self.hooks:
            hook(snapshot)
        return snapshot

    def load(self) -> Snapshot:
        snapshot = self.build()
        self._swap(snapshot)
        return snapshot

    def _swap(self, snapshot: Snapshot) -> None:
        with self._lock:
            previous, self._current = self._current, snapshot
        for listener in self.listeners:
            try:
                listener(snapshot, previous)
            except Exception:  # a listener's bug must not stop the corpus from updating
                log.exception("corpus listener failed")

    def changed(self) -> bool:
        try:
            return fingerprint(self.folder) != self.current.fingerprint
        except OSError:
            return False

    def refresh(self) -> bool:
        """Rebuild if the folder changed; True when a new snapshot is served."""
        if not self.changed():
            return False
        try:
            snapshot = self.build()
        except Exception as err:  # keep serving the old corpus, say why
            log.error("corpus rebuild failed, keeping the previous one: %s", err)
            return False
        before = {a.id for a in self.current.articles}
        after = {a.id for a in snapshot.articles}
        log.info(
            "corpus reloaded: %d articles (%d added, %d removed), %d problems",
            len(after),
            len(after - before),
            len(before - after),
            len(snapshot.problems),
        )
        for problem in snapshot.problems:
            log.warning("skipped %s", problem)
        self._swap(snapshot)
        return True

    async def watch(self, interval: float, stop: asyncio.Event) -> None:
        """Rescan every `interval` seconds until `stop` is set; rebuilds run off the loop."""
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval)
                return
            except TimeoutError:
                pass
            try:
                await asyncio.to_thread(self.refresh)
            except Exception:
                log.exception("corpus rescan failed")
