"""The search index saved in the data directory, so a restart loads it instead of
re-reading every article (at 20,000 articles: under a second against about 40 s).

One uncompressed `.npz` file: numpy writes and reads it at disk speed, and the zip
format's CRC-32 of every member turns a torn or corrupted file into an error on load
rather than wrong answers. It is written to a temporary file and renamed, so a crash
mid-save leaves the previous file. A file of another format, or one that fails a
consistency check, is logged, deleted and rebuilt. The file records which article
version (id and content hash) each slot holds; a corpus that changed since is brought
up to date with `SearchIndex.updated`, so only the changed articles are re-read.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import logging
import os
import tempfile
import time
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.corpus.model import Article

from .index import SearchIndex
from .index_data import IndexData

log = logging.getLogger(__name__)

# Bump when what `index_data.read` produces changes (tokenisation, stop words, arrays).
INDEX_FORMAT = 1
_STEMMER = importlib.metadata.version("PyStemmer")  # its stems are in the file


@dataclass(frozen=True)
class Loaded:
    """A loaded index and how much of it had to be brought up to date."""

    index: SearchIndex
    added: int
    removed: int


def index_file(folder: Path) -> Path:
    return Path(folder) / "search-index.npz"


def save(index: SearchIndex, folder: Path) -> Path | None:
    """Write `index` (atomically); None and a warning when the folder is not writable."""
    data = index.data
    path = index_file(folder)
    meta = {
        "format": INDEX_FORMAT,
        "stemmer": _STEMMER,
        "article_keys": [list(k) for k in data.article_keys],
    }
    arrays: dict[str, Any] = dict(data.arrays())
    arrays["meta.json"] = _text(json.dumps(meta))
    arrays["lexicon.words"] = _text("\n".join(data.lexicon.words))
    arrays["lexicon.stems"] = _text("\n".join(data.lexicon.stems))
    arrays["lexicon.grams"] = _text("\n".join(data.lexicon.grams))
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_temporaries(path.parent)
        fd, tmp = tempfile.mkstemp(prefix=".search-index-", suffix=".npz", dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            np.savez(f, allow_pickle=False, **arrays)
        os.replace(tmp, path)
        tmp = None
    except OSError as err:
        log.warning("cannot save the search index in %s: %s", path.parent, err)
        return None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
    return path


def _remove_stale_temporaries(folder: Path) -> None:
    """Temporary files of saves a crash interrupted (an hour old: not a save running now)."""
    cutoff = time.time() - 3600
    for stale in folder.glob(".search-index-*.npz"):
        with contextlib.suppress(OSError):
            if stale.stat().st_mtime < cutoff:
                stale.unlink()


def load(folder: Path, articles: Sequence[Article]) -> Loaded | None:
    """The saved index brought up to date with `articles`, or None (and a warning, and
    the file removed) when there is none usable."""
    path = index_file(folder)
    if not path.exists():
        return None
    try:
        data = _read(path)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as err:
        log.warning("search index cache %s is unusable (%s): rebuilding it", path, err)
        path.unlink(missing_ok=True)
        return None
    if data is None:
        log.info("search index cache %s is of another version: rebuilding it", path)
        path.unlink(missing_ok=True)
        return None
    current = {(a.id, a.content_hash): a for a in articles}
    slots: list[Article | None] = []
    stale: list[str] = []
    for i, key in enumerate(data.article_keys):
        article = current.pop(key, None) if data.article_alive[i] else None
        slots.append(article)
        if article is None and data.article_alive[i]:
            stale.append(key[0])
    index = SearchIndex.from_data(data, slots)
    added = [a for a in articles if (a.id, a.content_hash) in current]
    if added or stale:
        index = index.updated(added, stale)
    return Loaded(index, len(added), len(stale))


@dataclass(frozen=True)
class SavedState:
    """What `briefbot check` says of the saved index, read from its metadata alone."""

    path: Path
    size: int
    articles: int  # live articles it holds
    stale: int  # of `articles` given to `describe`, how many it lacks or holds an old version of
    usable: bool


def describe(folder: Path, articles: Sequence[Article]) -> SavedState | None:
    """The saved index's state against `articles`, without loading its arrays."""
    path = index_file(folder)
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            meta = json.loads(_untext(npz["meta.json"]))
            alive = npz["article_alive"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error):
        return SavedState(path, path.stat().st_size, 0, len(articles), False)
    usable = meta.get("format") == INDEX_FORMAT and meta.get("stemmer") == _STEMMER
    held = {tuple(k) for k, live in zip(meta.get("article_keys", []), alive, strict=False) if live}
    stale = sum(1 for a in articles if (a.id, a.content_hash) not in held)
    return SavedState(path, path.stat().st_size, len(held), stale, usable)


def _read(path: Path) -> IndexData | None:
    with np.load(path, allow_pickle=False) as npz:
        meta = json.loads(_untext(npz["meta.json"]))
        if meta.get("format") != INDEX_FORMAT or meta.get("stemmer") != _STEMMER:
            return None
        arrays = {name: npz[name] for name in npz.files}
    keys = tuple((str(k[0]), str(k[1])) for k in meta["article_keys"])
    words = _lines(arrays.pop("lexicon.words"))
    stems = _lines(arrays.pop("lexicon.stems"))
    grams = _lines(arrays.pop("lexicon.grams"))
    data = IndexData.from_arrays(arrays, words, stems, grams, keys)
    _check(data)
    return data


def _check(data: IndexData) -> None:
    """Invariants a file of the right format may still break (a bug, a hand edit)."""
    lex = data.lexicon
    problems = []
    if len(data.passage_article) != data.passages or len(data.alive) != data.passages:
        problems.append("passage arrays disagree")
    if len(data.article_alive) != len(data.article_keys):
        problems.append("article arrays disagree")
    if len(data.tokens) and int(data.tokens.max()) >= len(lex.words):
        problems.append("token outside the vocabulary")
    if len(lex.word_stem) != len(lex.words) or len(lex.word_gram_ptr) != len(lex.words) + 1:
        problems.append("lexicon arrays disagree")
    if data.word_postings.terms != len(lex.stems) or data.article_postings.terms != len(lex.stems):
        problems.append("postings disagree with the stems")
    if len(data.bigram_keys) != len(data.bigram_ids) or len(data.gram_df) != len(lex.grams):
        problems.append("bigram or 4-gram arrays disagree")
    if len(data.passage_start) and data.passage_start[-1] != len(data.tokens):
        problems.append("passages do not cover the tokens")
    if problems:
        raise ValueError("; ".join(problems))


def _text(value: str) -> np.ndarray:
    return np.frombuffer(value.encode("utf-8"), dtype=np.uint8)


def _untext(array: np.ndarray) -> str:
    return array.tobytes().decode("utf-8")


def _lines(array: np.ndarray) -> list[str]:
    text = _untext(array)
    return text.split("\n") if text else []
