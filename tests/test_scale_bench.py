"""The scale benchmark writes article files the loader reads back, and measures through the
program on a tiny corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.datasets import PIAF_DIR
from benchmarks.scale_bench import article_markdown, corpus_folder, measure
from bot.corpus.loader import load_article, load_corpus
from bot.corpus.model import Article, Section
from tests.test_index import _paragraph

ARTICLE = Article(
    id="syn-000001",
    title="Barrage Flouvaison inauguré",
    sections=(
        Section(
            ("Barrage Flouvaison inauguré",),
            (_paragraph("Le barrage a été inauguré lundi. Il produit de l'électricité."),),
        ),
        Section(
            ("Barrage Flouvaison inauguré", "Financement Drapouville"),
            (
                _paragraph("Les travaux ont coûté cher. Un prêt les a financés."),
                _paragraph("La dette sera remboursée en vingt ans."),
            ),
        ),
    ),
    date="2019-03-14",
    source="synthetic",
)


def test_a_generated_article_file_reads_back_as_the_same_article(tmp_path: Path) -> None:
    path = tmp_path / f"{ARTICLE.id}.md"
    path.write_text(article_markdown(ARTICLE), encoding="utf-8")
    loaded = load_article(path)
    assert (loaded.id, loaded.title, loaded.date, loaded.source) == (
        ARTICLE.id,
        ARTICLE.title,
        ARTICLE.date,
        ARTICLE.source,
    )
    assert [s.heading for s in loaded.sections] == [s.heading for s in ARTICLE.sections]
    assert [[p.text for p in s.paragraphs] for s in loaded.sections] == [
        [p.text for p in s.paragraphs] for s in ARTICLE.sections
    ]


needs_piaf = pytest.mark.skipif(
    not (PIAF_DIR / "contexts.jsonl").is_file(), reason="PIAF is not here"
)


@needs_piaf
def test_the_generated_corpus_is_written_once_and_reused(tmp_path: Path) -> None:
    folder = corpus_folder(40, seed=3, cache=tmp_path)
    files = sorted(folder.glob("*.md"))
    assert files and len(load_corpus(folder).articles) == len(files)
    stamp = files[0].stat().st_mtime_ns
    assert corpus_folder(40, seed=3, cache=tmp_path) == folder
    assert files[0].stat().st_mtime_ns == stamp


@needs_piaf
@pytest.mark.slow
def test_the_bench_measures_a_tiny_corpus_through_the_program(tmp_path: Path) -> None:
    result = measure(150, seed=3, queries=5, budget=300, cache=tmp_path)
    assert result["files"] >= 20
    for start in (result["cold"], result["warm"]):
        assert start["status"] == 0 and start["answered"]
        assert start["seconds"] > 0 and start["peak_rss_mb"] > 0
    assert result["add_run"]["searchable_s"] is not None
    assert "add_answer" not in result  # measured only when the run library cannot load
    methods = [m["method"] for m in result["queries"]["long"]]
    assert any(m.startswith("BM25") for m in methods) and "briefbot SearchIndex" in methods
