"""The article cache: a load through it is the load without it, only faster, whatever
state the cache file is in."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.corpus import cache as cache_module
from bot.corpus import loader
from bot.corpus.cache import ArticleCache, decode, encode, open_article_cache
from bot.corpus.library import Library
from bot.corpus.loader import PARSE_VERSION, LoadResult, load_corpus
from bot.corpus.model import Article, Paragraph, Section, Sentence
from bot.settings import Settings

CACHE_LOGGER = "bot.corpus.cache"
GOOD = """---
title: Un titre
date: 2024-04-19
source: AFP
url: https://example.org/a
author: Quelqu'un
---
# Un titre

## Une section

M. Dupont est arrivé. Il a parlé longtemps ! Puis il est reparti.

Lire aussi

- [Un autre article](https://example.org/b)
"""
WIRE = "date 2024-04 Les soldats partiront. Le retrait prendra des mois.\n\n- Suite -\n\nFin.\n"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Good articles and every kind of bad file, including two files with one id."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "good.md").write_text(GOOD, encoding="utf-8")
    (folder / "wire.txt").write_text(WIRE, encoding="utf-8")
    (folder / "dup.md").write_text("# Premier\n\nUn texte.\n", encoding="utf-8")
    (folder / "dup.txt").write_text("# Second\n\nUn autre texte.\n", encoding="utf-8")
    (folder / "latin1.md").write_bytes("# Été\n\nDéjà.\n".encode("latin-1"))
    (folder / "empty.md").write_text("")
    (folder / "binary.md").write_bytes(b"\x00\x01\x02")
    (folder / "front.md").write_text("---\ntitle: [oops\n---\nTexte.\n", encoding="utf-8")
    (folder / "headings.md").write_text("# Seulement un titre\n", encoding="utf-8")
    return folder


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[ArticleCache]:
    """A cache that stores files however recently they changed (the tests write them)."""
    (tmp_path / "data").mkdir()
    cache = ArticleCache(tmp_path / "data" / "articles.sqlite3", settle_seconds=0)
    yield cache
    cache.close()


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the files the loader parses, in order."""
    names: list[str] = []
    real = loader.load_article

    def counting(path: Path) -> Article:
        names.append(path.name)
        return real(path)

    monkeypatch.setattr(loader, "load_article", counting)
    return names


def comparable(result: LoadResult) -> tuple[object, ...]:
    """Everything a load returns; `extra` too, which Article equality leaves out."""
    return (
        [(a, a.extra) for a in result.articles],
        result.problems,
    )


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == CACHE_LOGGER and r.levelno == logging.WARNING
    ]


def rows(cache: ArticleCache) -> dict[str, tuple[object, ...]]:
    with sqlite3.connect(cache.path) as db:
        found = db.execute("SELECT name, format, payload FROM articles").fetchall()
    return {name: rest for name, *rest in found}


# -- the same result --------------------------------------------------------------------


def test_the_seeds_load_the_same_from_the_cache(
    seeds: Path, cache: ArticleCache, parsed: list[str]
) -> None:
    plain = load_corpus(seeds)
    assert comparable(load_corpus(seeds, cache)) == comparable(plain)
    parsed.clear()
    assert comparable(load_corpus(seeds, cache)) == comparable(plain)
    assert parsed == []


def test_files_with_problems_load_the_same_from_the_cache(
    folder: Path, cache: ArticleCache, parsed: list[str]
) -> None:
    plain = load_corpus(folder)
    assert len(plain.articles) == 3 and len(plain.problems) == 6
    assert comparable(load_corpus(folder, cache)) == comparable(plain)
    parsed.clear()
    assert comparable(load_corpus(folder, cache)) == comparable(plain)
    assert parsed == []


def test_an_unchanged_file_is_not_parsed_again(
    folder: Path, cache: ArticleCache, parsed: list[str]
) -> None:
    load_corpus(folder, cache)
    parsed.clear()
    load_corpus(folder, cache)
    assert parsed == []


def test_a_changed_file_alone_is_parsed_again(
    folder: Path, cache: ArticleCache, parsed: list[str]
) -> None:
    load_corpus(folder, cache)
    (folder / "good.md").write_text(GOOD.replace("Dupont", "Durand-Dupont"), encoding="utf-8")
    parsed.clear()
    result = load_corpus(folder, cache)
    assert parsed == ["good.md"]
    assert comparable(result) == comparable(load_corpus(folder))


def test_a_file_rewritten_with_its_size_and_mtime_kept_is_parsed_again(
    folder: Path, cache: ArticleCache, parsed: list[str]
) -> None:
    """As `cp -p` or `rsync -t` of a same-sized file do: only the ctime tells."""
    path = folder / "good.md"
    load_corpus(folder, cache)
    before = path.stat()
    path.write_text(GOOD.replace("Dupont", "Durant"), encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    parsed.clear()
    result = load_corpus(folder, cache)
    assert parsed == ["good.md"]
    good = next(a for a in result.articles if a.id == "good")
    assert "Durant" in good.sections[-1].text


def test_a_file_changed_just_now_is_not_stored_until_it_settles(
    folder: Path, tmp_path: Path, parsed: list[str]
) -> None:
    cache = ArticleCache(tmp_path / "settling.sqlite3")  # the default 2 s
    load_corpus(folder, cache)
    parsed.clear()
    load_corpus(folder, cache)
    assert "good.md" in parsed
    cache.close()


def test_a_new_file_is_parsed_and_the_others_come_from_the_cache(
    folder: Path, cache: ArticleCache, parsed: list[str]
) -> None:
    load_corpus(folder, cache)
    (folder / "new.md").write_text("# Nouveau\n\nUn fait.\n", encoding="utf-8")
    parsed.clear()
    result = load_corpus(folder, cache)
    assert parsed == ["new.md"]
    assert "new" in [a.id for a in result.articles]


def test_rows_of_removed_files_are_deleted(folder: Path, cache: ArticleCache) -> None:
    load_corpus(folder, cache)
    (folder / "wire.txt").unlink()
    (folder / "empty.md").unlink()
    load_corpus(folder, cache)
    assert "wire.txt" not in rows(cache) and "empty.md" not in rows(cache)
    assert "good.md" in rows(cache)


def test_another_folder_keeps_its_own_rows(
    folder: Path, tmp_path: Path, cache: ArticleCache, parsed: list[str]
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "good.md").write_text("# Autre\n\nUn autre fait.\n", encoding="utf-8")
    load_corpus(folder, cache)
    assert load_corpus(other, cache).articles[0].title == "Autre"
    parsed.clear()
    assert load_corpus(folder, cache).articles[1].title == "Un titre"
    assert parsed == []


def test_paths_are_those_of_the_folder_as_named_now(
    folder: Path, cache: ArticleCache, monkeypatch: pytest.MonkeyPatch, parsed: list[str]
) -> None:
    load_corpus(folder, cache)
    monkeypatch.chdir(folder.parent)
    parsed.clear()
    result = load_corpus(Path("corpus"), cache)
    assert parsed == []
    assert [a.path for a in result.articles] == [
        "corpus/dup.md",
        "corpus/good.md",
        "corpus/wire.txt",
    ]
    assert all(p.path.startswith("corpus/") for p in result.problems)


def test_loads_from_two_threads_at_once_agree(folder: Path, cache: ArticleCache) -> None:
    plain = comparable(load_corpus(folder))
    results: list[tuple[object, ...]] = []

    def load() -> None:
        for _ in range(5):
            results.append(comparable(load_corpus(folder, cache)))

    threads = [threading.Thread(target=load) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 10 and all(r == plain for r in results)


def test_two_caches_on_one_file_as_two_processes_agree(folder: Path, tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    first, second = (ArticleCache(path, settle_seconds=0) for _ in range(2))
    plain = comparable(load_corpus(folder))
    assert comparable(load_corpus(folder, first)) == plain
    (folder / "good.md").write_text(GOOD.replace("Dupont", "Martin"), encoding="utf-8")
    assert comparable(load_corpus(folder, second)) == comparable(load_corpus(folder))
    assert comparable(load_corpus(folder, first)) == comparable(load_corpus(folder))
    first.close()
    second.close()


# -- the encoding -----------------------------------------------------------------------


def test_the_loader_cuts_every_sentence_from_its_paragraph(seeds: Path, folder: Path) -> None:
    """What lets the cache store a sentence as its span."""
    articles = load_corpus(seeds).articles + load_corpus(folder).articles
    sentences = [
        (p.text, s)
        for a in articles
        for sec in a.sections
        for p in sec.paragraphs
        for s in p.sentences
    ]
    assert len(sentences) > 30
    assert all(s.text == text[s.start : s.end] for text, s in sentences)


def test_a_sentence_not_cut_from_its_paragraph_keeps_its_text() -> None:
    paragraph = Paragraph("Un. Deux.", 0, (Sentence("Un.", 0, 3), Sentence("Autre.", 4, 9)))
    article = Article("a", "A", (Section(("A",), (paragraph,)),), path="x/a.md")
    decoded = decode(encode(article), Path("x/a.md"))
    assert decoded == article
    assert isinstance(decoded, Article)
    assert decoded.sections[0].paragraphs[0].sentences[1].text == "Autre."


def test_decoded_objects_are_the_model_classes(seeds: Path) -> None:
    article = load_corpus(seeds).articles[0]
    decoded = decode(encode(article), Path(article.path))
    assert isinstance(decoded, Article)
    section = decoded.sections[0]
    assert type(section) is Section
    assert type(section.paragraphs[0]) is Paragraph
    assert type(section.paragraphs[0].sentences[0]) is Sentence
    with pytest.raises(dataclasses.FrozenInstanceError):
        section.paragraphs[0].sentences[0].text = "changed"  # type: ignore[misc]


# Bump PARSE_VERSION in bot/corpus/loader.py when this digest changes, then pin the new one.
PARSED_DIGEST = {1: "1f2ca833590158011e8a12c7263381d05dade0ff143fbe6c7f2b16d73a3194df"}


def test_the_parse_version_changes_with_what_the_loader_returns(folder: Path) -> None:
    """Cached parses are trusted while PARSE_VERSION is unchanged: a loader that returns
    something else under the same version would serve stale articles."""
    result = load_corpus(folder)
    articles = [(dataclasses.replace(a, path=Path(a.path).name), a.extra) for a in result.articles]
    problems = [dataclasses.replace(p, path=Path(p.path).name) for p in result.problems]
    digest = hashlib.sha256(repr((articles, problems)).encode()).hexdigest()
    assert PARSED_DIGEST.get(PARSE_VERSION) == digest, (
        f"the loader's output changed ({digest}): bump PARSE_VERSION and pin the new digest"
    )


# -- bad states -------------------------------------------------------------------------


def test_a_cache_file_of_garbage_is_rebuilt(
    folder: Path, cache: ArticleCache, caplog: pytest.LogCaptureFixture, parsed: list[str]
) -> None:
    cache.path.write_bytes(b"not a database, just bytes\n" * 200)
    assert comparable(load_corpus(folder, cache)) == comparable(load_corpus(folder))
    assert len(warnings(caplog)) == 1 and "damaged" in warnings(caplog)[0]
    assert "good.md" in rows(cache)
    parsed.clear()
    load_corpus(folder, cache)
    assert parsed == []


def test_a_cache_file_with_damaged_pages_is_rebuilt(
    seeds: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    corpus = tmp_path / "seeds"
    shutil.copytree(seeds, corpus)
    path = tmp_path / "damaged.sqlite3"
    writer = ArticleCache(path, settle_seconds=0)
    load_corpus(corpus, writer)
    writer.close()
    content = bytearray(path.read_bytes())
    content[4096:] = b"\xff" * (len(content) - 4096)
    path.write_bytes(bytes(content))
    reader = ArticleCache(path, settle_seconds=0)
    assert comparable(load_corpus(corpus, reader)) == comparable(load_corpus(corpus))
    assert any("damaged" in w for w in warnings(caplog))
    assert comparable(load_corpus(corpus, reader)) == comparable(load_corpus(corpus))
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA quick_check").fetchone() == ("ok",)
    reader.close()


def test_a_row_that_does_not_decode_is_parsed_again(
    folder: Path, cache: ArticleCache, caplog: pytest.LogCaptureFixture, parsed: list[str]
) -> None:
    load_corpus(folder, cache)
    with sqlite3.connect(cache.path) as db:
        db.execute("UPDATE articles SET payload = ? WHERE name = 'good.md'", (b"\x00garbage",))
    plain = comparable(load_corpus(folder))
    parsed.clear()
    assert comparable(load_corpus(folder, cache)) == plain
    assert parsed == ["good.md"]
    assert len(warnings(caplog)) == 1 and "could not be read" in warnings(caplog)[0]


def test_a_row_of_well_formed_but_foreign_values_is_parsed_again(
    folder: Path, cache: ArticleCache, parsed: list[str]
) -> None:
    load_corpus(folder, cache)
    with sqlite3.connect(cache.path) as db:
        db.execute("UPDATE articles SET payload = ? WHERE name = 'good.md'", (encode_foreign(),))
    plain = comparable(load_corpus(folder))
    parsed.clear()
    assert comparable(load_corpus(folder, cache)) == plain
    assert parsed == ["good.md"]


def encode_foreign() -> bytes:
    import marshal

    return marshal.dumps((1, "too", "short"))


def test_rows_of_another_format_are_parsed_again(
    folder: Path, cache: ArticleCache, caplog: pytest.LogCaptureFixture, parsed: list[str]
) -> None:
    load_corpus(folder, cache)
    with sqlite3.connect(cache.path) as db:
        db.execute("UPDATE articles SET format = 'parse0-py3.10-yaml5-cache1'")
    plain = comparable(load_corpus(folder))
    parsed.clear()
    assert comparable(load_corpus(folder, cache)) == plain
    assert len(parsed) == 9
    assert len(warnings(caplog)) == 1 and "another version" in warnings(caplog)[0]
    assert {fmt for fmt, _ in rows(cache).values()} == {cache_module.FORMAT}


def test_a_table_of_another_cache_version_is_started_afresh(
    folder: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE articles (name TEXT PRIMARY KEY, blob BLOB)")
        db.execute("PRAGMA user_version = 99")
    cache = ArticleCache(path, settle_seconds=0)
    assert comparable(load_corpus(folder, cache)) == comparable(load_corpus(folder))
    assert len(warnings(caplog)) == 1 and "another version" in warnings(caplog)[0]
    assert "good.md" in rows(cache)
    cache.close()


def test_a_cache_that_cannot_be_created_parses_and_warns_once(
    folder: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "plain").write_text("a file where the data directory should be")
    cache = ArticleCache(tmp_path / "plain" / "articles.sqlite3")
    plain = comparable(load_corpus(folder))
    assert comparable(load_corpus(folder, cache)) == plain
    assert comparable(load_corpus(folder, cache)) == plain
    assert len(warnings(caplog)) == 1 and "cannot be used" in warnings(caplog)[0]


def test_a_read_only_cache_serves_what_it_has_and_parses_the_rest(
    folder: Path,
    cache: ArticleCache,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    parsed: list[str],
) -> None:
    """As a read-only file system would: every write is refused."""
    load_corpus(folder, cache)
    cache.close()
    connect = sqlite3.connect

    def read_only(path: Path, **kwargs: object) -> sqlite3.Connection:
        return connect(f"file:{path}?mode=ro", uri=True, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cache_module.sqlite3, "connect", read_only)
    (folder / "good.md").write_text(GOOD.replace("Dupont", "Durand-Dupont"), encoding="utf-8")
    plain = comparable(load_corpus(folder))
    parsed.clear()
    assert comparable(load_corpus(folder, cache)) == plain
    assert parsed == ["good.md"]
    assert len(warnings(caplog)) == 1 and "readonly" in warnings(caplog)[0]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through any permission")
def test_an_unwritable_data_directory_parses_and_warns_once(
    folder: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = tmp_path / "locked-dir"
    data.mkdir()
    data.chmod(0o500)
    try:
        cache = ArticleCache(data / "articles.sqlite3")
        plain = comparable(load_corpus(folder))
        assert comparable(load_corpus(folder, cache)) == plain
        assert comparable(load_corpus(folder, cache)) == plain
        assert len(warnings(caplog)) == 1
    finally:
        data.chmod(0o700)


def test_a_cache_locked_for_writing_still_serves_and_parses(
    folder: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "busy.sqlite3"
    cache = ArticleCache(path, timeout=0.05, settle_seconds=0)
    load_corpus(folder, cache)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process in the middle of its write
    try:
        (folder / "new.md").write_text("# Nouveau\n\nUn fait.\n", encoding="utf-8")
        assert comparable(load_corpus(folder, cache)) == comparable(load_corpus(folder))
        assert len(warnings(caplog)) == 1 and "locked" in warnings(caplog)[0]
    finally:
        other.execute("ROLLBACK")
        other.close()
    cache.close()


def test_a_cache_locked_entirely_falls_back_to_parsing(
    folder: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "exclusive.sqlite3"
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("PRAGMA locking_mode=EXCLUSIVE")
    other.execute("CREATE TABLE hold (x)")  # takes the lock and keeps it
    try:
        cache = ArticleCache(path, timeout=0.05, settle_seconds=0)
        assert comparable(load_corpus(folder, cache)) == comparable(load_corpus(folder))
        assert len(warnings(caplog)) == 1 and "locked" in warnings(caplog)[0]
        cache.close()
    finally:
        other.close()


# -- where it is used -------------------------------------------------------------------


def test_a_library_with_a_cache_serves_the_same_articles(
    folder: Path, cache: ArticleCache, parsed: list[str]
) -> None:
    Library(folder, article_cache=cache).build()
    parsed.clear()
    snapshot = Library(folder, article_cache=cache).build()
    assert parsed == []
    plain = Library(folder).build()
    assert snapshot.articles == plain.articles and snapshot.problems == plain.problems


def test_the_program_keeps_the_cache_in_the_data_directory(settings: Settings) -> None:
    from briefbot.derived import Derived

    library = Derived(settings).library()
    assert library.article_cache is not None
    assert library.article_cache.path == Path(settings.data_dir) / "cache" / "articles.sqlite3"


def test_no_cache_when_its_folder_cannot_be_created(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "plain").write_text("x")
    assert open_article_cache(tmp_path / "plain" / "cache") is None
    assert len(warnings(caplog)) == 1 and "article cache off" in warnings(caplog)[0]


def test_a_cli_call_reads_the_articles_from_the_cache_the_second_time(
    seeds: Path, parsed: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    from briefbot.cli import main

    argv = ["ask", "Qui est Molly Phee ?", "--json", "--corpus", str(seeds)]
    assert main(argv) == 0
    first = capsys.readouterr().out
    parsed.clear()
    assert main(argv) == 0
    assert capsys.readouterr().out == first
    assert parsed == []
