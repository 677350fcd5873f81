"""Finds the named entities of each article with spaCy, cached per article content.

Loading spaCy and its French model costs seconds, so its results are kept in the data
directory, one JSON file per article, named by the hash of exactly the text spaCy reads.
A start with an unchanged corpus therefore never imports spaCy, and a changed article is
the only one read again. The entities are raw (text and label); deciding which of them are
actors is `resolve`'s job, which is cheap and can change without invalidating the cache.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

from bot.actors.names import strip_elision
from bot.corpus.loader import Problem
from bot.corpus.model import Article
from bot.corpus.progress import Progress, no_progress

log = logging.getLogger(__name__)

SPACY_MODEL = "fr_core_news_sm"
# Bump when the text given to spaCy or the stored fields change: old entries then miss.
EXTRACTION_VERSION = 1
CHUNK_CHARS = 100_000
CACHE_PREFIX = "entities-"
# Everything but the entity recogniser and the token vectors it listens to.
_UNUSED_COMPONENTS = ("parser", "morphologizer", "lemmatizer", "attribute_ruler", "senter")
# A cache entry unused this long, and not part of the corpus being built, is deleted.
CACHE_MAX_IDLE_SECONDS = 30 * 24 * 3600
_SENTENCE_FINAL = (".", "!", "?", "…", ":", ";", "»", '"', ")")


@dataclass(frozen=True, slots=True)
class RawEntity:
    """A named entity as spaCy found it; `label` is only a hint (PER, ORG, LOC, MISC)."""

    text: str
    label: str


class EntityExtractor(Protocol):
    """Turns an article's plain text into entities; `signature` names the model version."""

    @property
    def signature(self) -> str: ...

    def __call__(self, text: str) -> list[RawEntity]: ...


class DiscoveryUnavailable(RuntimeError):
    """spaCy or its French model cannot be loaded; the bot runs on curated actors only."""


class SpacyExtractor:
    """spaCy's small French pipeline, reduced to the named-entity recogniser.

    Only `tok2vec` and `ner` are loaded: it loads faster, and measured on the seeds it
    finds more people than the full pipeline (whose parser cuts names at bad sentence
    boundaries). spaCy is imported on the first call, never at import time.
    """

    def __init__(self, model: str = SPACY_MODEL) -> None:
        self.model = model

    @property
    def signature(self) -> str:
        try:
            version = metadata.version(self.model.replace("_", "-"))
        except metadata.PackageNotFoundError:
            version = "missing"
        return f"{self.model}-{version}/v{EXTRACTION_VERSION}"

    def __call__(self, text: str) -> list[RawEntity]:
        nlp = _pipeline(self.model)
        out: list[RawEntity] = []
        for doc in nlp.pipe(_chunks(text)):
            for ent in doc.ents:
                if "\n" in ent.text:  # glued across two paragraphs
                    continue
                name = strip_elision(ent.text).strip(" \t-–—,;:.«»\"'“”()")
                if name:
                    out.append(RawEntity(name, ent.label_))
        return out


@lru_cache(maxsize=2)
def _pipeline(model: str) -> Any:
    try:
        import spacy
    except ImportError as err:  # pragma: no cover - spaCy is a dependency
        raise DiscoveryUnavailable(f"spaCy is not installed ({err})") from err
    log.info("loading spaCy model %s for actor discovery", model)
    try:
        return spacy.load(model, exclude=list(_UNUSED_COMPONENTS))
    except OSError as err:
        raise DiscoveryUnavailable(f"spaCy model {model!r} is not installed") from err


def _chunks(text: str) -> list[str]:
    """Paragraph-aligned pieces under spaCy's comfortable length."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for para in text.split("\n\n"):
        if current and size + len(para) > CHUNK_CHARS:
            chunks.append("\n\n".join(current))
            current, size = [], 0
        current.append(para[:CHUNK_CHARS])
        size += len(para) + 2
    if current:
        chunks.append("\n\n".join(current))
    return chunks


def extraction_text(article: Article) -> str:
    """What spaCy reads: the paragraphs (markup, headings and subheads already removed by
    the loader) and the titles of the related links, each closed so names do not run on."""
    parts = [p.text for section in article.sections for p in section.paragraphs]
    for link in article.related_links:
        title = link.title.strip()
        if title:
            parts.append(title if title.endswith(_SENTENCE_FINAL) else title + ".")
    return "\n\n".join(parts)


@dataclass
class DiscoveryResult:
    entities: dict[str, list[RawEntity]] = field(default_factory=dict)  # article id -> entities
    extracted: list[str] = field(default_factory=list)  # article ids read by the extractor
    problems: list[Problem] = field(default_factory=list)


class EntityCache:
    """One JSON file per (article text, extractor) hash; written atomically."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, digest: str) -> Path:
        return self.folder / f"{CACHE_PREFIX}{digest}.json"

    def get(self, digest: str, signature: str) -> list[RawEntity] | None:
        try:
            path = self.path(digest)
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("signature") != signature:
                return None
            entities = [RawEntity(str(t), str(label)) for t, label in data["entities"]]
            os.utime(path)  # still in use: see `prune`
            return entities
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as err:
            log.warning("ignoring unreadable actor cache entry %s: %s", digest[:12], err)
            return None

    def put(self, digest: str, signature: str, entities: Sequence[RawEntity]) -> None:
        payload = {
            "signature": signature,
            "entities": [[e.text, e.label] for e in entities],
        }
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=self.folder)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump(payload, f, ensure_ascii=False)
                os.replace(tmp, self.path(digest))
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as err:  # a read-only data dir slows the next start, nothing more
            log.warning("cannot write actor cache in %s: %s", self.folder, err)

    def prune(self, keep: set[str], max_idle: float = CACHE_MAX_IDLE_SECONDS) -> None:
        """Forget entries of articles that changed or left the corpus long ago.

        Idle entries only: a one-off `briefbot actor --corpus OTHER` shares the folder and
        must not wipe the running bot's entries."""
        now = time.time()
        try:
            for path in self.folder.glob(f"{CACHE_PREFIX}*.json"):
                if path.stem[len(CACHE_PREFIX) :] in keep:
                    continue
                if now - path.stat().st_mtime > max_idle:
                    path.unlink(missing_ok=True)
        except OSError as err:
            log.warning("cannot prune actor cache in %s: %s", self.folder, err)


PROGRESS_STEP = 20  # articles between two progress reports (spaCy: about 20 a second)


def discover(
    articles: Sequence[Article],
    cache_dir: Path | None,
    extractor: EntityExtractor | None = None,
    *,
    languages: tuple[str, ...] = ("fr",),
    progress: Progress = no_progress,
) -> DiscoveryResult:
    """Entities of every article, from the cache when its text is unchanged.

    The extractor is only touched (and spaCy only imported) for articles missing from the
    cache. If it cannot run, the articles it should have read get no entities and one
    problem says why: discovery is an extra, never a reason not to start.
    """
    extractor = extractor or SpacyExtractor()
    result = DiscoveryResult()
    cache = EntityCache(cache_dir) if cache_dir is not None else None
    signature: str | None = None
    digests: set[str] = set()
    failed = False
    for done, article in enumerate(articles):
        if done % PROGRESS_STEP == 0:
            progress(done, len(articles))
        if not article.language.lower().startswith(languages):
            continue
        text = extraction_text(article)
        if signature is None:
            signature = extractor.signature
        digest = _digest(text, signature)
        digests.add(digest)
        cached = cache.get(digest, signature) if cache else None
        if cached is not None:
            result.entities[article.id] = cached
            continue
        if failed:
            continue
        where = article.path or article.id
        try:
            entities = extractor(text)
        except DiscoveryUnavailable as err:
            failed = True
            reason = f"actor discovery off, curated actors only: {err}"
            result.problems.append(Problem("actor discovery", reason))
            continue
        except Exception as err:  # one odd article must not stop the others
            log.exception("actor discovery failed on %s", article.id)
            result.problems.append(Problem(where, f"actor discovery failed ({type(err).__name__})"))
            continue
        result.extracted.append(article.id)
        result.entities[article.id] = entities
        if cache:
            cache.put(digest, signature, entities)
    progress(len(articles), len(articles))
    if cache and not failed:
        cache.prune(digests)
    return result


def cached_entities(
    articles: Sequence[Article],
    cache_dir: Path,
    extractor: EntityExtractor | None = None,
    *,
    languages: tuple[str, ...] = ("fr",),
) -> dict[str, list[RawEntity]]:
    """The entities discovery has already cached for `articles`, by article id; an article
    it has not read (yet) is absent. Read-only and never loads spaCy: for answering,
    which must not wait seconds for a model when it can fall back on regexes."""
    read = CachedEntities(articles, cache_dir, extractor, languages=languages)
    return {a.id: found for a in articles if (found := read(a.id)) is not None}


class CachedEntities:
    """The entities discovery has cached for one article, read when first asked: what
    `cached_entities` does for a whole corpus, for answering from a large one (reading
    20,000 entries took seconds for each new index; a question reads a few). None for an
    article discovery has not read yet, so the caller asks again later."""

    def __init__(
        self,
        articles: Sequence[Article],
        cache_dir: Path,
        extractor: EntityExtractor | None = None,
        *,
        languages: tuple[str, ...] = ("fr",),
    ) -> None:
        self._articles = {a.id: a for a in articles if a.language.lower().startswith(languages)}
        self._cache = EntityCache(cache_dir)
        self._extractor = extractor
        self._signature: str | None = None

    def __call__(self, article_id: str) -> list[RawEntity] | None:
        article = self._articles.get(article_id)
        if article is None:
            return None
        if self._signature is None:
            self._signature = (self._extractor or SpacyExtractor()).signature
        digest = _digest(extraction_text(article), self._signature)
        return self._cache.get(digest, self._signature)


def _digest(text: str, signature: str) -> str:
    h = hashlib.sha256(signature.encode("utf-8"))
    h.update(b"\0")
    h.update(text.encode("utf-8"))
    return h.hexdigest()
