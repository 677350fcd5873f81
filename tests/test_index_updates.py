"""Incremental index updates: adding, changing and removing articles ranks exactly as a
full rebuild of the same corpus would, and the index saved in the data directory is
reused, brought up to date, or rebuilt when it cannot be trusted."""

from __future__ import annotations

import logging
import random
from pathlib import Path

import numpy as np
import pytest

from bot.ask import index_store
from bot.ask.index import SearchIndex
from bot.corpus.model import Article, Paragraph, Section, Sentence
from bot.corpus.text import split_sentences

_WORDS = """
    niger junte armée soldats américains base drones agadez accord coopération militaire
    russie instructeurs défense protocole sahel sécurité présidence élection ministre
    gouvernement sanctions cédéao frontière économie pétrole uranium mines exportations
    diplomatie ambassadeur délégation négociations retrait calendrier troupes formation
    paramilitaires wagner propagande réseau médias journalistes manifestations capitale
    niamey bamako ouagadougou tchad mali burkina partenariat développement aide budget
    """.split()


def _paragraph(text: str) -> Paragraph:
    spans = split_sentences(text)
    return Paragraph(text, 0, tuple(Sentence(text[s:e], s, e) for s, e in spans))


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(6, 14))]
    return " ".join(words).capitalize() + "."


def _article(rng: random.Random, article_id: str) -> Article:
    title = " ".join(rng.choice(_WORDS) for _ in range(4)).capitalize()
    sections = []
    for s in range(rng.randint(1, 4)):
        path = (title,) if s == 0 else (title, rng.choice(_WORDS).upper())
        body = " ".join(_sentence(rng) for _ in range(rng.randint(2, 5)))
        sections.append(Section(path, (_paragraph(body),)))
    return Article(id=article_id, title=title, sections=tuple(sections), content_hash=article_id)


def _corpus(n: int, seed: int = 7) -> list[Article]:
    rng = random.Random(seed)
    return [_article(rng, f"a{i:03d}") for i in range(n)]


def _questions(articles: list[Article], seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    out = []
    for article in rng.sample(articles, 20):
        words = rng.choice(article.sentences).text.rstrip(".").split()
        out.append(" ".join(words[:4]) + " ?")
    out += ["agadez drones", "soldats americains retrait", "xyzzy inconnu", "juntte niamay"]
    return out


def _ranking(index: SearchIndex, question: str) -> list[tuple[str, str, float]]:
    hits = index.search(index.analyse(question), k=8, question=question)
    return [
        (
            index.passages[h.passage].article.id,
            index.passages[h.passage].section.label,
            round(h.score, 5),
        )
        for h in hits
    ]


def _same_rankings(a: SearchIndex, b: SearchIndex, questions: list[str]) -> None:
    for q in questions:
        assert _ranking(a, q) == _ranking(b, q), q


def test_adding_articles_ranks_as_a_full_rebuild_does() -> None:
    articles = _corpus(120)
    updated = SearchIndex(articles[:100]).updated(articles[100:], [])
    _same_rankings(updated, SearchIndex(articles), _questions(articles))


def test_removing_articles_ranks_as_a_rebuild_without_them() -> None:
    articles = _corpus(120)
    gone = {"a003", "a050", "a117"}
    updated = SearchIndex(articles).updated([], gone)
    rebuilt = SearchIndex([a for a in articles if a.id not in gone])
    _same_rankings(updated, rebuilt, _questions([a for a in articles if a.id not in gone]))
    assert all(updated.passages[h.passage].article.id not in gone for h in
               updated.search(updated.analyse("agadez drones soldats"), k=200))  # fmt: skip


def test_a_changed_article_ranks_as_its_new_text_alone() -> None:
    articles = _corpus(80)
    rng = random.Random(99)
    changed = _article(rng, "a010")
    after = [changed if a.id == "a010" else a for a in articles]
    updated = SearchIndex(articles).updated([changed], ["a010"])
    _same_rankings(updated, SearchIndex(after), _questions(after))
    assert [a.id for a in updated.articles].count("a010") == 1


def test_updating_leaves_the_served_index_as_it_was() -> None:
    articles = _corpus(60)
    served = SearchIndex(articles)
    before = {q: _ranking(served, q) for q in _questions(articles)}
    served.updated(_corpus(10, seed=3), [a.id for a in articles[:5]])
    assert {q: _ranking(served, q) for q in before} == before


def test_removing_a_large_share_rebuilds_instead_of_keeping_dead_sections() -> None:
    articles = _corpus(50)
    few = SearchIndex(articles).updated([], [a.id for a in articles[:3]])
    many = SearchIndex(articles).updated([], [a.id for a in articles[:20]])
    assert few.dead_share > 0
    assert many.dead_share == 0
    assert len(many.articles) == 30


def test_a_word_only_removed_articles_had_is_no_longer_in_the_vocabulary() -> None:
    base = _corpus(30)
    odd = Article(
        id="odd",
        title="Zanzibar",
        sections=(Section(("Zanzibar",), (_paragraph("Le zanzibarite est rare."),)),),
    )
    index = SearchIndex([*base, odd]).updated([], ["odd"])
    assert "zanzibarite" not in index.vocabulary
    assert index.search(index.analyse("zanzibarite"), question="zanzibarite") == []


# -- the saved index --------------------------------------------------------------------


def test_a_saved_index_loads_and_ranks_as_the_one_saved(tmp_path: Path) -> None:
    articles = _corpus(60)
    index = SearchIndex(articles)
    assert index_store.save(index, tmp_path) is not None
    loaded = index_store.load(tmp_path, articles)
    assert loaded is not None and (loaded.added, loaded.removed) == (0, 0)
    _same_rankings(loaded.index, index, _questions(articles))


def test_a_saved_index_is_brought_up_to_date_with_the_corpus(tmp_path: Path) -> None:
    articles = _corpus(80)
    index_store.save(SearchIndex(articles[:70]), tmp_path)
    now = [a for a in articles if a.id != "a005"]
    loaded = index_store.load(tmp_path, now)
    assert loaded is not None and (loaded.added, loaded.removed) == (10, 1)
    _same_rankings(loaded.index, SearchIndex(now), _questions(now))


def test_a_saved_index_with_removed_articles_keeps_its_numbering(tmp_path: Path) -> None:
    articles = _corpus(60)
    index = SearchIndex(articles).updated([], ["a002"])
    index_store.save(index, tmp_path)
    live = [a for a in articles if a.id != "a002"]
    loaded = index_store.load(tmp_path, live)
    assert loaded is not None and (loaded.added, loaded.removed) == (0, 0)
    assert len(loaded.index.passages) == len(index.passages)
    _same_rankings(loaded.index, SearchIndex(live), _questions(live))


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda p: p.write_bytes(b"not a zip file at all"), id="garbage"),
        pytest.param(lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]), id="torn"),
        pytest.param(
            lambda p: p.write_bytes(_flip(p.read_bytes(), p.stat().st_size // 2)), id="bit-flip"
        ),
    ],
)
def test_a_damaged_saved_index_is_rebuilt_not_served(
    tmp_path: Path, damage: object, caplog: pytest.LogCaptureFixture
) -> None:
    articles = _corpus(40)
    path = index_store.save(SearchIndex(articles), tmp_path)
    assert path is not None
    damage(path)  # type: ignore[operator]
    with caplog.at_level(logging.WARNING):
        assert index_store.load(tmp_path, articles) is None
    assert "unusable" in caplog.text
    assert not path.exists()


def _flip(raw: bytes, at: int) -> bytes:
    return raw[:at] + bytes([raw[at] ^ 0xFF]) + raw[at + 1 :]


def test_an_index_saved_by_another_version_is_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    articles = _corpus(20)
    path = index_store.save(SearchIndex(articles), tmp_path)
    monkeypatch.setattr(index_store, "INDEX_FORMAT", index_store.INDEX_FORMAT + 1)
    assert index_store.load(tmp_path, articles) is None
    assert path is not None and not path.exists()


def test_an_inconsistent_saved_index_is_rebuilt(tmp_path: Path) -> None:
    articles = _corpus(20)
    path = index_store.save(SearchIndex(articles), tmp_path)
    assert path is not None
    with np.load(path) as npz:
        arrays = {name: npz[name] for name in npz.files}
    arrays["tokens"] = arrays["tokens"] + 10**6  # ids past the vocabulary
    np.savez(path, **arrays)
    assert index_store.load(tmp_path, articles) is None


def test_an_unwritable_cache_folder_is_reported_and_nothing_is_saved(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the folder should be")
    with caplog.at_level(logging.WARNING):
        assert index_store.save(SearchIndex(_corpus(5)), blocker) is None
    assert "cannot save the search index" in caplog.text


def test_an_interrupted_save_keeps_the_previous_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    articles = _corpus(30)
    index_store.save(SearchIndex(articles[:20]), tmp_path)

    def crash(*_args: object, **_kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", crash)
    assert index_store.save(SearchIndex(articles), tmp_path) is None
    monkeypatch.undo()
    loaded = index_store.load(tmp_path, articles[:20])
    assert loaded is not None and (loaded.added, loaded.removed) == (0, 0)
    assert list(tmp_path.glob(".search-index-*")) == []


def test_inserting_at_sorted_points_is_numpy_insert() -> None:
    from bot.ask.postings import insert_sorted

    rng = np.random.default_rng(3)
    base = rng.integers(0, 1000, 500).astype(np.int32)
    at = np.sort(rng.integers(0, 501, 40))
    values = rng.integers(0, 1000, 40).astype(np.int32)
    assert np.array_equal(insert_sorted(base, at, values), np.insert(base, at, values))
    assert np.array_equal(insert_sorted(base, at[:0], values[:0]), base)
