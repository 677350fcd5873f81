"""The corpus as the bot currently serves it, and its replacement when files change.

A `Snapshot` is immutable: the articles of one reading of the folder. What features
compute from it (the answerer, the actor directory, the timeline) are `Derivation`s,
cached on the snapshot, so a new snapshot refreshes them and the corpus knows nothing of
the features. The `Library` swaps snapshots atomically, so a question is always answered
from one coherent corpus while the next one is built in a worker thread; the derivations
it was given are computed before the swap, so no question waits for them. A rebuild that
fails keeps the old snapshot; a broken new file is reported and skipped by the loader.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from .cache import ArticleCache
from .loader import Problem, article_files, load_corpus
from .model import Article

log = logging.getLogger(__name__)

T = TypeVar("T")
Fingerprint = tuple[tuple[str, int, int], ...]
Listener = Callable[["Snapshot", "Snapshot | None"], None]


@dataclass(frozen=True)
class Snapshot:
    articles: tuple[Article, ...]
    problems: tuple[Problem, ...]
    fingerprint: Fingerprint
    built_at: dt.datetime
    _derived: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    _locks: dict[str, threading.Lock] = field(default_factory=dict, compare=False, repr=False)
    _guard: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    def article(self, article_id: str) -> Article | None:
        return next((a for a in self.articles if a.id == article_id), None)


class Derivation(Generic[T]):
    """Something computed once per snapshot from its articles.

    Each derivation of each snapshot has its own lock, so building the next snapshot's
    actor directory (spaCy, seconds) never blocks look-ups in the one being served.
    """

    def __init__(self, name: str, make: Callable[[Snapshot], T]) -> None:
        self.name = name
        self.make = make

    def of(self, snapshot: Snapshot) -> T:
        derived = snapshot._derived
        if self.name in derived:
            return derived[self.name]
        with snapshot._guard:
            lock = snapshot._locks.setdefault(self.name, threading.Lock())
        with lock:
            if self.name not in derived:
                derived[self.name] = self.make(snapshot)
            return derived[self.name]


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


class Library:
    """Owns the current snapshot of `folder`.

    `prepare` are the derivations computed for each new snapshot before it is served;
    `listeners` are told of every new snapshot (and the one it replaces); `on_rescan` is
    called after each rescan that read the folder without error, changed or not, so an
    operator can tell a quiet folder from a rescan that keeps failing. With
    `article_cache`, a build parses only the files changed since they were cached.
    """

    def __init__(
        self,
        folder: Path,
        *,
        prepare: Sequence[Derivation[Any]] = (),
        listeners: Sequence[Listener] = (),
        on_rescan: Callable[[], None] = lambda: None,
        article_cache: ArticleCache | None = None,
    ) -> None:
        self.folder = Path(folder)
        self.article_cache = article_cache
        self.prepare = tuple(prepare)
        self._listeners: list[Listener] = list(listeners)
        self._on_rescan = on_rescan
        self._current: Snapshot | None = None
        self._lock = threading.Lock()

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    @property
    def loaded(self) -> bool:
        """Whether a snapshot is served yet (`current` would read the folder otherwise)."""
        return self._current is not None

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
        result = load_corpus(self.folder, self.article_cache)
        snapshot = Snapshot(
            tuple(result.articles), tuple(result.problems), before, dt.datetime.now(dt.UTC)
        )
        for derivation in self.prepare:
            derivation.of(snapshot)
        return snapshot

    def load(self) -> Snapshot:
        """Build and serve a snapshot, warning of each of its problems."""
        snapshot = self.build()
        for problem in snapshot.problems:
            log.warning("skipped %s", problem)
        self._swap(snapshot)
        return snapshot

    def _swap(self, snapshot: Snapshot) -> None:
        with self._lock:
            previous, self._current = self._current, snapshot
        for listener in self._listeners:
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
        try:
            changed = fingerprint(self.folder) != self.current.fingerprint
        except OSError:  # the folder is gone or unreadable: keep serving, not a success
            return False
        if not changed:
            self._on_rescan()
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
        known = {_problem_key(p, self.current) for p in self.current.problems}
        for problem in snapshot.problems:
            if _problem_key(problem, snapshot) not in known:  # new, or its file changed
                log.warning("skipped %s", problem)
        self._swap(snapshot)
        self._on_rescan()
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


def _problem_key(problem: Problem, snapshot: Snapshot) -> tuple[str, str, object]:
    """A problem and the state of its file: each rescan warns of a problem once, until
    the file changes (measured: the same warning on every rescan, every 5 s)."""
    name = Path(problem.path).name
    stamp = next((entry[1:] for entry in snapshot.fingerprint if entry[0] == name), None)
    return (problem.path, problem.reason, stamp)
