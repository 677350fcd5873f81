"""New items into article files of the corpus folder, which the running bot rescans.

The file name is stable: `src-<host of the source>-<16 hex of SHA-256(canonical URL)>.md`,
so writing the same item again replaces the same file instead of adding one. The file is
written to a hidden temporary file beside it (the loader ignores dot files), flushed,
then renamed over the target: a rescan sees the whole article or nothing. Before that,
the text is parsed with the corpus loader, so a file the bot could not read is never
written.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from bot.corpus.loader import ArticleError, parse_article

_HEADING_MARK = re.compile(r"^\s*#+\s*")


@dataclass(frozen=True, slots=True)
class NewArticle:
    """An item ready to be written: `text` is paragraphs separated by blank lines."""

    url: str
    title: str
    text: str
    source_url: str
    source_id: int
    source_name: str
    date: str | None = None
    author: str | None = None
    language: str = "fr"


def host_slug(url: str) -> str:
    host = (urlsplit(url).hostname or "source").lower().removeprefix("www.")
    return re.sub(r"[^a-z0-9]+", "-", host).strip("-")[:40] or "source"


def article_id(source_url: str, canonical_url: str) -> str:
    digest = hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()[:16]
    return f"src-{host_slug(source_url)}-{digest}"


def content_hash(text: str) -> str:
    """The hash that tells the same story reached through two URLs: its folded text."""
    folded = " ".join(text.lower().split())
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()


def render(article: NewArticle) -> str:
    meta: dict[str, object] = {"title": article.title}
    if article.date:
        meta["date"] = article.date
    meta["source"] = article.source_name
    meta["url"] = article.url
    meta["language"] = article.language or "fr"
    if article.author:
        meta["author"] = article.author
    meta["feed"] = article.source_url
    meta["source_id"] = article.source_id
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=1000)
    # Extracted text is plain prose: a line it starts with '#' must not become a heading.
    body = "\n\n".join(
        _HEADING_MARK.sub("", p).strip() for p in article.text.split("\n\n") if p.strip()
    )
    return f"---\n{front}---\n\n# {_one_line(article.title)}\n\n{body}\n"


class ArticleWriter:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def write(self, article: NewArticle) -> str:
        """Write the article atomically; its id. ArticleError if the loader would refuse it."""
        ident = article_id(article.source_url, article.url)
        data = render(article).encode("utf-8")
        parse_article(data, article_id=ident)
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / f"{ident}.md"
        fd, temp = tempfile.mkstemp(dir=self.folder, prefix=f".{ident}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
        return ident

    def exists(self, ident: str) -> bool:
        return (self.folder / f"{ident}.md").is_file()


def _one_line(text: str) -> str:
    return " ".join(text.split()).lstrip("#").strip() or "Sans titre"


__all__ = ["ArticleError", "ArticleWriter", "NewArticle", "article_id", "content_hash"]
