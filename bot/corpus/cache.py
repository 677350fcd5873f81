"""Parsed articles on disk, so a start or a rescan parses only the files that changed.

Measured on this 2-core machine with 20,000 generated articles (98 MB of Markdown):
parsing them all takes about 50 s, and a pickle of the `Article`s is 200 MB and 6.5 s to
load. Here each file's parse result is one SQLite row (the file's name, size and mtime,
the format, and a `marshal`led tuple of plain values), and sentences are stored as their
spans in the paragraph rather than as text, so the cache is about the size of the corpus.

A cache in a bad state (damaged, locked, unwritable, another version's rows, a row that
does not decode) is never an error: the affected files are parsed, a warning is logged
once per kind of trouble, and a damaged file is replaced by a fresh one.
"""

from __future__ import annotations

import dataclasses
import gc
import logging
import marshal
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .loader import PARSE_FORMAT, Problem
from .model import Article, Link, Paragraph, Section, Sentence

log = logging.getLogger(__name__)

ENCODING_VERSION = 1  # bump when `encode` or the table changes
FEW_FILES = 2000  # up to this many, rows are read by name; beyond, the folder's in one scan
FORMAT = f"{PARSE_FORMAT}-cache{ENCODING_VERSION}"
_ARTICLE, _PROBLEM = 1, 2
_DAMAGED = {"SQLITE_CORRUPT", "SQLITE_NOTADB"}

Parse = Callable[[Path], Article | Problem]
Stat = tuple[int, int, int]  # size, mtime_ns, ctime_ns

_SCHEMA = """
CREATE TABLE articles (
    folder TEXT NOT NULL,
    name TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    ctime_ns INTEGER NOT NULL,
    format TEXT NOT NULL,
    payload BLOB NOT NULL,
    PRIMARY KEY (folder, name)
)
"""


class ArticleCache:
    """One SQLite file (WAL, so a process reads while another writes) holding the parse
    result of every article file, keyed by the folder and the file name.

    A row is used while the file's size, mtime and ctime are those it was parsed with:
    the ctime too, since a copy that keeps the mtime (`cp -p`, `rsync -t`) of a file of
    the same size still changes it. A file changed less than `settle_seconds` ago may
    change again within the same timestamp tick (2 s on FAT), unseen: it is parsed but
    stored only once it is older.

    Safe to share between threads: one connection behind a lock. `timeout` is how long a
    write waits for another process's write before giving up (the parses are then simply
    not saved this time).
    """

    def __init__(self, path: Path, *, timeout: float = 2.0, settle_seconds: float = 2.0) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self.settle_ns = int(settle_seconds * 1e9)
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._warned: set[str] = set()

    def results(
        self,
        folder: Path,
        paths: Sequence[Path],
        parse: Parse,
        *,
        keep: Iterable[str] = (),
    ) -> list[Article | Problem]:
        """`parse(path)` for each of `paths` (files of `folder`), in order: from the cache
        when the file is unchanged since it was cached, otherwise parsed and stored. Rows
        of files neither in `paths` nor named in `keep` (files the caller already holds)
        are deleted, in the same transaction."""
        key = str(Path(folder).resolve())
        stats: dict[str, Stat] = {}
        for path in paths:
            try:
                st = path.stat()
            except OSError:  # gone since it was listed: parse reports it, nothing is stored
                continue
            stats[path.name] = (st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        with self._lock:
            cached, rows = self._read(key, paths, stats)
        out: list[Article | Problem] = []
        fresh: list[tuple[str, Stat, bytes]] = []
        now = time.time_ns()
        for path in paths:
            hit = cached.get(path.name)
            if hit is not None:
                out.append(hit)
                continue
            result = parse(path)
            out.append(result)
            stat = stats.get(path.name)
            if stat is not None and now - max(stat[1:]) >= self.settle_ns:
                fresh.append((path.name, stat, encode(result)))
        kept = set(cached) | {name for name, _, _ in fresh} | set(keep)
        with self._lock:
            self._write(key, fresh, rows - kept)
        log.debug("article cache: %d of %d files unchanged", len(cached), len(paths))
        return out

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    # -- the database ------------------------------------------------------------------

    def _read(
        self, key: str, paths: Sequence[Path], stats: dict[str, Stat]
    ) -> tuple[dict[str, Article | Problem], set[str]]:
        """Decoded results of the unchanged files, and the names of every row of `key`."""
        cached: dict[str, Article | Problem] = {}
        names: set[str] = set()
        where = {path.name: path for path in paths}
        other_version = undecodable = 0
        db = self._connect()
        if db is None:
            return {}, set()
        try:
            names = {name for (name,) in db.execute(
                "SELECT name FROM articles WHERE folder = ?", (key,)
            )}  # fmt: skip
            with _gc_paused():
                for name, size, mtime_ns, ctime_ns, fmt, payload in self._rows(db, key, paths):
                    if stats.get(name) != (size, mtime_ns, ctime_ns):
                        continue
                    if fmt != FORMAT:
                        other_version += 1
                        continue
                    try:
                        cached[name] = decode(payload, where[name])
                    except Exception:  # whatever a damaged row holds, the file is parsed
                        undecodable += 1
        except sqlite3.Error as err:
            self._failed(err, "read")
            return {}, set()
        if other_version:
            self._warn(
                "version",
                f"article cache {self.path}: {other_version} articles were cached by another "
                "version of briefbot; parsing them again",
            )
        if undecodable:
            self._warn(
                "decode",
                f"article cache {self.path}: {undecodable} cached articles could not be read; "
                "parsing them again",
            )
        return cached, names

    @staticmethod
    def _rows(db: sqlite3.Connection, key: str, paths: Sequence[Path]) -> Iterable[Any]:
        """The rows of `paths`: by name for a few (a rescan that found one new file), the
        whole folder otherwise (one scan beats thousands of look-ups)."""
        columns = "SELECT name, size, mtime_ns, ctime_ns, format, payload FROM articles"
        if len(paths) > FEW_FILES:
            yield from db.execute(f"{columns} WHERE folder = ?", (key,))
            return
        names = [path.name for path in paths]
        for lo in range(0, len(names), 500):
            chunk = names[lo : lo + 500]
            marks = ",".join("?" * len(chunk))
            yield from db.execute(
                f"{columns} WHERE folder = ? AND name IN ({marks})", (key, *chunk)
            )

    def _write(self, key: str, fresh: list[tuple[str, Stat, bytes]], gone: set[str]) -> None:
        if not fresh and not gone:
            return
        db = self._connect()
        if db is None:
            return
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany(
                    "INSERT OR REPLACE INTO articles (folder, name, size, mtime_ns, ctime_ns, "
                    "format, payload) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(key, name, *stat, FORMAT, blob) for name, stat, blob in fresh],
                )
                db.executemany(
                    "DELETE FROM articles WHERE folder = ? AND name = ?",
                    [(key, name) for name in gone],
                )
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        except sqlite3.Error as err:
            self._failed(err, "write")
            return
        try:  # measured: the WAL stayed at the cache's size (127 MB) after a first build
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as err:  # a reader in another process: shrunk at a later write
            log.debug("article cache checkpoint: %s", err)

    def _connect(self) -> sqlite3.Connection | None:
        """The open connection, opening it (and replacing a damaged file) if needed; None
        when the cache cannot be used now (warned of), to be tried again next time."""
        if self._db is not None:
            return self._db
        for retry in (False, True):
            try:
                self._db = self._open()
            except sqlite3.Error as err:
                if retry or not _damaged(err) or not self._discard(err):
                    self._warn(
                        "unusable",
                        f"article cache {self.path} cannot be used ({err}); articles are parsed",
                    )
                    return None
            else:
                break
        return self._db

    def _open(self) -> sqlite3.Connection:
        """Connect, and start the table afresh if another version of the cache made it
        (`user_version` is the encoding version that made the table)."""
        db = sqlite3.connect(
            self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
        )
        try:
            db.execute("PRAGMA journal_mode=WAL")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version != ENCODING_VERSION:
                if version:
                    self._warn(
                        "version",
                        f"article cache {self.path} was made by another version of briefbot; "
                        "starting it afresh",
                    )
                db.execute("BEGIN IMMEDIATE")
                # Another process may have made the table since: then it is kept.
                if db.execute("PRAGMA user_version").fetchone()[0] != ENCODING_VERSION:
                    db.execute("DROP TABLE IF EXISTS articles")
                    db.execute(_SCHEMA)
                    db.execute(f"PRAGMA user_version = {ENCODING_VERSION}")
                db.execute("COMMIT")
        except BaseException:
            db.close()
            raise
        return db

    def _failed(self, err: sqlite3.Error, doing: str) -> None:
        """A query failed: a damaged file is dropped (rebuilt at the next use), anything
        else (locked, read-only, disk full) only costs this load its cache."""
        if _damaged(err):
            if self._db is not None:
                self._db.close()
                self._db = None
            self._discard(err)
            return
        consequence = {
            "read": "parsing every article",
            "write": "what was parsed now is parsed again next time",
        }[doing]
        self._warn(
            f"{doing}:{getattr(err, 'sqlite_errorname', type(err).__name__)}",
            f"article cache {self.path}: cannot {doing} ({err}); {consequence}",
        )

    def _discard(self, err: sqlite3.Error) -> bool:
        """Delete a damaged cache file and its WAL, to start a new one; False if it cannot
        be deleted."""
        self._warn("damaged", f"article cache {self.path} is damaged ({err}); rebuilding it")
        try:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        except OSError as unlink_err:
            log.debug("cannot delete %s: %s", self.path, unlink_err)
            return False
        return True

    def _warn(self, kind: str, message: str) -> None:
        """Each kind of trouble is logged once at WARNING (a rescan every 5 s would repeat
        it), then at DEBUG."""
        if kind in self._warned:
            log.debug(message)
            return
        self._warned.add(kind)
        log.warning(message)


def open_article_cache(folder: Path) -> ArticleCache | None:
    """The cache in `folder` (created if missing), or None, with a warning, if the folder
    cannot be created: the articles are then parsed at every load."""
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
    except OSError as err:
        log.warning("article cache off: cannot create %s (%s)", folder, err.strerror or err)
        return None
    return ArticleCache(Path(folder) / "articles.sqlite3")


def _damaged(err: sqlite3.Error) -> bool:
    return getattr(err, "sqlite_errorname", None) in _DAMAGED


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic collection while decoding, and the decoded objects then join the oldest
    generation untraversed (`freeze` then `unfreeze` is a list splice). Measured, loading
    20,000 cached articles: 3.3 s CPU with the collector running (it traverses the growing
    heap again and again), 2.1 s paused but then 0.6 s at the next collection, 1.7 s so.
    Nothing decoded is cyclic, so this frees nothing later than it would be; objects
    another thread made meanwhile are collected at the next full collection."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if gc.get_freeze_count() == 0:  # never unfreeze what someone else froze
            gc.freeze()
            gc.unfreeze()
        if enabled:
            gc.enable()


# -- encoding ----------------------------------------------------------------------------


def encode(result: Article | Problem) -> bytes:
    """A parse result as marshalled plain tuples. The path is not stored: it is where the
    file is read from now (the same folder may be named otherwise), so `decode` takes it.
    A sentence is its (start, end) in the paragraph, since the loader cuts each sentence
    from its paragraph; one that is not (any other builder) keeps its text as well."""
    if isinstance(result, Problem):
        return marshal.dumps((_PROBLEM, result.reason, result.line))
    a = result
    sections = tuple(
        (s.heading_path, tuple(_encode_paragraph(p) for p in s.paragraphs)) for s in a.sections
    )
    links = tuple(part for link in a.related_links for part in (link.title, link.url))
    fields = (a.id, a.title, a.date, a.source, a.url, a.language, a.content_hash)
    payload = (_ARTICLE, *fields, links, tuple(a.extra.items()), sections)
    return marshal.dumps(payload)


def _encode_paragraph(p: Paragraph) -> tuple[Any, ...]:
    spans = tuple(bound for s in p.sentences for bound in (s.start, s.end))
    if all(s.text == p.text[s.start : s.end] for s in p.sentences):
        return (p.text, p.offset, spans)
    return (p.text, p.offset, spans, tuple(s.text for s in p.sentences))


class _SentenceBuilder:
    __slots__ = ("end", "start", "text")


class _ParagraphBuilder:
    __slots__ = ("offset", "sentences", "text")


class _SectionBuilder:
    __slots__ = ("heading_path", "paragraphs")


def _check_builder(model: type[Any], builder: type[Any]) -> None:
    """`decode` fills a plain slotted twin of each model class and then gives the object
    the model's class: measured for 20,000 articles, 0.89 s CPU, against 1.26 s setting
    the frozen dataclasses' slots through their descriptors and 1.6 s through __init__.
    Python refuses the class change unless the layouts are the same; this refuses, at
    import, a model whose fields the decoder does not set."""
    names = sorted(f.name for f in dataclasses.fields(model))
    if sorted(builder.__slots__) != names:
        raise TypeError(f"the article cache decodes {model.__name__} as {builder.__slots__}")
    probe = builder()
    for name in names:
        setattr(probe, name, None)
    probe.__class__ = model


for _model, _builder in (
    (Sentence, _SentenceBuilder),
    (Paragraph, _ParagraphBuilder),
    (Section, _SectionBuilder),
):
    _check_builder(_model, _builder)


def decode(payload: bytes, path: Path) -> Article | Problem:
    """The parse result `encode` stored, for the file now at `path`; raises on a payload
    it did not write (ValueError, TypeError, EOFError...)."""
    data = marshal.loads(payload)
    tag = data[0]
    if tag == _PROBLEM:
        _, reason, line = data
        if not isinstance(reason, str) or not (line is None or isinstance(line, int)):
            raise TypeError("not a problem")
        return Problem(str(path), reason, line)
    if tag != _ARTICLE:
        raise ValueError(f"unknown payload tag {tag!r}")
    _, id_, title, date, source, url, language, content_hash, links, extra, encoded = data
    sections = []
    for heading_path, paragraphs in encoded:
        built = []
        for encoded_paragraph in paragraphs:
            text, offset, spans = encoded_paragraph[:3]
            starts, ends = spans[::2], spans[1::2]
            sentences = []
            if len(encoded_paragraph) == 3:
                for start, end in zip(starts, ends, strict=True):
                    s: Any = _SentenceBuilder()
                    s.text = text[start:end]
                    s.start = start
                    s.end = end
                    s.__class__ = Sentence
                    sentences.append(s)
            else:
                texts = encoded_paragraph[3]
                for sentence_text, start, end in zip(texts, starts, ends, strict=True):
                    sentences.append(Sentence(sentence_text, start, end))
            p: Any = _ParagraphBuilder()
            p.text = text
            p.offset = offset
            p.sentences = tuple(sentences)
            p.__class__ = Paragraph
            built.append(p)
        section: Any = _SectionBuilder()
        section.heading_path = heading_path
        section.paragraphs = tuple(built)
        section.__class__ = Section
        sections.append(section)
    return Article(
        id=id_,
        title=title,
        sections=tuple(sections),
        date=date,
        source=source,
        url=url,
        language=language,
        related_links=tuple(Link(links[i], links[i + 1]) for i in range(0, len(links), 2)),
        path=str(path),
        content_hash=content_hash,
        extra=dict(extra),
    )
