"""The library serves a snapshot as soon as its answerer is ready: slow derivations (actors,
timeline) follow in the background, the newest value is served meanwhile, and the index is
updated for the changed articles rather than rebuilt."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest

from bot.corpus.library import BUILDING, PENDING, READY, Derivation, Library, Snapshot
from briefbot.derived import Derived
from tests.config import make_config

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = """---
title: La lagune de Zorbaville
date: 2026-11-30
---
# La lagune de Zorbaville
Le port de Zorbaville a rouvert le 29 novembre après trois semaines de travaux.
"""


def _wait_for(predicate: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def _count(snapshot: Snapshot) -> int:
    return len(snapshot.articles)


def test_a_snapshot_is_served_before_its_background_derivations_finish(corpus: Path) -> None:
    release = threading.Event()

    def slow(snapshot: Snapshot) -> int:
        release.wait(10)
        return len(snapshot.articles)

    derivation = Derivation("slow", slow)
    library = Library(corpus, background=(derivation,))
    library.load()
    assert library.loaded
    assert library.state()[0].phase in (BUILDING, PENDING)
    release.set()
    _wait_for(lambda: library.state()[0].phase == READY)
    assert library.latest(derivation) == 2


def test_the_previous_value_is_served_while_the_background_catches_up(corpus: Path) -> None:
    release = threading.Event()
    release.set()

    def gated(snapshot: Snapshot) -> int:
        release.wait(10)
        return len(snapshot.articles)

    derivation = Derivation("gated", gated)
    library = Library(corpus, background=(derivation,))
    library.load()
    _wait_for(lambda: library.state()[0].phase == READY)
    release.clear()
    (corpus / "new.md").write_text(ARTICLE, encoding="utf-8")
    assert library.refresh()
    assert library.latest(derivation) == 2  # the previous corpus's, not a wait
    release.set()
    _wait_for(lambda: library.latest(derivation) == 3)


def test_a_failing_background_derivation_keeps_the_previous_value(
    corpus: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fail = threading.Event()

    def flaky(snapshot: Snapshot) -> int:
        if fail.is_set():
            raise RuntimeError("spaCy ran out of memory")
        return len(snapshot.articles)

    derivation = Derivation("flaky", flaky)
    library = Library(corpus, background=(derivation,))
    library.load()
    _wait_for(lambda: library.state()[0].phase == READY)
    fail.set()
    (corpus / "new.md").write_text(ARTICLE, encoding="utf-8")
    with caplog.at_level(logging.ERROR):
        library.refresh()
        _wait_for(lambda: "building flaky failed" in caplog.text)
    assert library.latest(derivation) == 2


def test_a_prepared_derivation_is_updated_from_the_previous_snapshot(corpus: Path) -> None:
    calls: list[str] = []

    def make(snapshot: Snapshot) -> int:
        calls.append("make")
        return len(snapshot.articles)

    def update(value: int, before: Snapshot, after: Snapshot) -> int:
        calls.append("update")
        return value + len(after.articles) - len(before.articles)

    derivation = Derivation("counted", make, update=update)
    library = Library(corpus, prepare=(derivation,))
    library.load()
    (corpus / "new.md").write_text(ARTICLE, encoding="utf-8")
    library.refresh()
    assert derivation.of(library.current) == 3
    assert calls == ["make", "update"]


# -- the program's derivations ------------------------------------------------------------


def _derived(corpus: Path, data: Path) -> Derived:
    settings = make_config(corpus=corpus, data_dir=data, config_dir=ROOT / "config").core
    return Derived(settings)


def test_a_restart_loads_the_saved_index_instead_of_rebuilding_it(
    corpus: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = _derived(corpus, tmp_path / "data")
    library = first.library()
    library.load()
    first.save_index(library.current)
    assert (tmp_path / "data" / "cache" / "search-index.npz").exists()
    again = _derived(corpus, tmp_path / "data")
    with caplog.at_level(logging.INFO):
        restarted = again.library()
        restarted.load()
    assert "search index loaded" in caplog.text
    answer = again.answerer.of(restarted.current).answer("Combien de soldats américains ?")
    assert answer.answered


def test_a_new_article_is_added_to_the_served_index_not_rebuilt(
    corpus: Path, tmp_path: Path
) -> None:
    derived = _derived(corpus, tmp_path / "data")
    library = derived.library()
    library.load()
    (corpus / "aaa-first-by-name.md").write_text(ARTICLE, encoding="utf-8")
    assert library.refresh()
    index = derived.answerer.of(library.current).index
    # A full rebuild reads files in name order; an update appends the new article.
    assert index.data.article_keys[-1][0] == "aaa-first-by-name"
    answer = derived.answerer.of(library.current).answer("Quand le port de Zorbaville a rouvert ?")
    assert answer.answered and answer.citations[0].article == "aaa-first-by-name"


def test_an_edited_article_is_answered_from_its_new_text(corpus: Path, tmp_path: Path) -> None:
    derived = _derived(corpus, tmp_path / "data")
    library = derived.library()
    (corpus / "port.md").write_text(ARTICLE, encoding="utf-8")
    library.load()
    edited = ARTICLE.replace("trois semaines de travaux", "une grève des dockers de Lunaville")
    (corpus / "port.md").write_text(edited, encoding="utf-8")
    assert library.refresh()
    answerer = derived.answerer.of(library.current)
    assert answerer.answer("Quelle grève à Lunaville ?").answered
    assert [a.id for a in answerer.index.articles].count("port") == 1


def test_a_rescan_reads_only_the_files_that_changed(corpus: Path) -> None:
    library = Library(corpus)
    before = library.load()
    (corpus / "new.md").write_text(ARTICLE, encoding="utf-8")
    assert library.refresh()
    after = library.current
    assert len(after.articles) == len(before.articles) + 1
    for article in before.articles:  # the very objects: not read, parsed or decoded again
        assert after.article(article.id) is article
