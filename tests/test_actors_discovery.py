"""Discovery with spaCy's French model, its cache, and what a broken actors.yaml leaves.

The model is loaded once per test session (the pipeline is kept in memory); this module
caches the seeds' entities in a folder of its own, as the bot does in its data directory.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.actors import RawEntity, build_directory
from bot.actors.discovery import CACHE_PREFIX, SpacyExtractor, discover
from bot.actors.model import ActorKind
from bot.corpus.loader import load_corpus
from tests.conftest import SEEDS

ROOT = Path(__file__).resolve().parent.parent
ACTORS_YAML = ROOT / "config" / "actors.yaml"
NEW_ARTICLE = ROOT / "tests" / "data" / "actors" / "010_forum_niamey.md"


@pytest.fixture(scope="module")
def seed_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A discovery cache holding exactly the seeds."""
    folder = tmp_path_factory.mktemp("seed-cache")
    build_directory(load_corpus(SEEDS).articles, ACTORS_YAML, folder)
    return folder


@pytest.fixture
def cache_dir(seed_cache: Path, tmp_path: Path) -> Path:
    """A private copy of the seeds' cache, so a test adding articles affects no other."""
    return Path(shutil.copytree(seed_cache, tmp_path / "cache"))


class CountingExtractor:
    """Stands in for spaCy and counts which texts it was asked to read."""

    signature = "counting/v1"

    def __init__(self) -> None:
        self.texts: list[str] = []

    def __call__(self, text: str) -> list[RawEntity]:
        self.texts.append(text)
        return [RawEntity("Kurt Campbell", "PER")] if "Kurt Campbell" in text else []


def test_spacy_finds_the_people_of_the_seeds_without_the_editors_file() -> None:
    articles = load_corpus(SEEDS).articles
    found = discover(articles, None, SpacyExtractor())
    people = {e.text for ents in found.entities.values() for e in ents if e.label == "PER"}
    assert {
        "Mohamed Bazoum",
        "Molly Phee",
        "Kurt Campbell",
        "Ali Mahamane Lamine Zeine",
        "Abdourahamane Tiani",
        "Vladimir Poutine",
        "Antony Blinken",
        "Emmanuel Macron",
    } <= people


def test_the_cache_holds_one_file_per_article(cache_dir: Path) -> None:
    files = sorted(cache_dir.glob(f"{CACHE_PREFIX}*.json"))
    assert len(files) == 2
    entry = json.loads(files[0].read_text(encoding="utf-8"))
    assert entry["signature"].startswith("fr_core_news_sm-")
    assert entry["entities"]


def test_a_new_article_brings_its_actors_without_editing_the_yaml(
    cache_dir: Path, tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    shutil.copy(NEW_ARTICLE, corpus)
    build = build_directory(load_corpus(corpus).articles, ACTORS_YAML, cache_dir)
    assert build.problems == []
    assert build.extracted == ["010_forum_niamey"]  # the seeds came from the cache
    directory = build.directory
    for name in ("Mariama Kandé Issoufou", "Mohamed Karimou Saley"):
        actor = directory.get(name)
        assert actor is not None and not actor.curated
        assert actor.kind is ActorKind.PERSON
        assert {m.article for m in actor.mentions} == {"010_forum_niamey"}
    observatory = directory.get("Observatoire sahélien des libertés publiques")
    assert observatory is not None and observatory.kind is ActorKind.ORGANISATION
    assert directory.lookup("Karimou").actor.name == "Mohamed Karimou Saley"
    tiani = directory.lookup("Tiani").actor
    assert "010_forum_niamey" in {m.article for m in tiani.mentions}


def test_a_discovered_person_is_described_by_the_sentence_that_introduces_them(
    cache_dir: Path, tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(NEW_ARTICLE, corpus)
    directory = build_directory(load_corpus(corpus).articles, None, cache_dir).directory
    actor = directory.get("Mariama Kandé Issoufou")
    assert actor.description.startswith("La présidente de l'observatoire, Mariama Kandé Issoufou")


def test_a_warm_start_does_not_import_spacy(cache_dir: Path) -> None:
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from bot.actors import build_directory\n"
        "from bot.corpus.loader import load_corpus\n"
        f"build = build_directory(load_corpus(Path({str(SEEDS)!r})).articles, "
        f"Path({str(ACTORS_YAML)!r}), Path({str(cache_dir)!r}))\n"
        "print(json.dumps({'spacy': 'spacy' in sys.modules, 'extracted': build.extracted,"
        " 'tiani': build.directory.lookup('Tiani').found}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"spacy": False, "extracted": [], "tiani": True}


def test_only_a_changed_article_is_read_again(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    cache = tmp_path / "cache"
    extractor = CountingExtractor()
    first = build_directory(load_corpus(corpus).articles, None, cache, extractor=extractor)
    assert len(extractor.texts) == 2 and len(first.extracted) == 2

    wire = corpus / "003_7eb3dd99e69e60ff.txt"
    wire.write_text(wire.read_text(encoding="utf-8") + "\n\nUn paragraphe ajouté.\n", "utf-8")
    again = build_directory(load_corpus(corpus).articles, None, cache, extractor=extractor)
    assert again.extracted == ["003_7eb3dd99e69e60ff"]
    assert len(extractor.texts) == 3 and extractor.texts[-1].endswith("Un paragraphe ajouté.")
    assert again.directory.get("Kurt Campbell") is not None


def test_an_unreadable_cache_entry_is_simply_recomputed(tmp_path: Path) -> None:
    articles = load_corpus(SEEDS).articles
    extractor = CountingExtractor()
    discover(articles, tmp_path, extractor)
    for path in tmp_path.glob(f"{CACHE_PREFIX}*.json"):
        path.write_text("{not json", encoding="utf-8")
    again = discover(articles, tmp_path, extractor)
    assert len(again.extracted) == 2 and again.problems == []


def test_a_broken_actors_file_leaves_the_discovered_actors(cache_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "actors.yaml"
    broken.write_text("actors:\n  - name: Tiani\n    kind: [person\n", encoding="utf-8")
    build = build_directory(load_corpus(SEEDS).articles, broken, cache_dir)
    (problem,) = build.problems
    assert problem.path == str(broken) and problem.line is not None
    tiani = build.directory.lookup("Tiani").actor
    assert tiani.name == "Abdourahamane Tiani" and not tiani.curated
    assert build.directory.get("Kurt Campbell") is not None


def test_a_bad_entry_is_ignored_and_the_rest_of_the_file_kept(
    cache_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "actors.yaml"
    path.write_text(
        "actors:\n"
        "  - name: Groupe Wagner\n    kind: militia\n    aliases: [Wagner]\n"
        "  - name: Cédéao\n    kind: organisation\n    aliases: [ECOWAS]\n",
        encoding="utf-8",
    )
    build = build_directory(load_corpus(SEEDS).articles, path, cache_dir)
    assert [(p.line, "unknown kind" in p.reason) for p in build.problems] == [(3, True)]
    assert build.directory.lookup("ECOWAS").actor.name == "Cédéao"
    wagner = build.directory.lookup("Wagner").actor  # discovered instead
    assert wagner.name == "Wagner" and not wagner.curated


def test_when_spacy_is_unavailable_the_curated_actors_still_work(tmp_path: Path) -> None:
    build = build_directory(
        load_corpus(SEEDS).articles, ACTORS_YAML, tmp_path, extractor=SpacyExtractor("xx_none")
    )
    assert len(build.problems) == 1 and "discovery off" in build.problems[0].reason
    assert build.directory.lookup("Tiani").actor.name == "Abdourahamane Tiani"
