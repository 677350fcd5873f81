"""`briefbot check`: every problem in the corpus and the configuration, in one report."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bot.actors import check_actors_file
from bot.corpus.loader import Problem, load_corpus
from bot.corpus.model import Article
from bot.settings import Settings
from bot.storage.database import check_database
from bot.storage.errors import StorageError
from bot.storage.preflight import check_folder


def run_checks(settings: Settings) -> tuple[list[Problem], list[str]]:
    """Problems found, and a short summary of what was checked."""
    problems: list[Problem] = []
    summary: list[str] = []
    corpus = Path(settings.corpus)
    if not corpus.is_dir():
        problems.append(Problem(str(corpus), "corpus folder not found"))
    else:
        result = load_corpus(corpus)
        problems.extend(result.problems)
        summary.append(f"corpus {corpus}: {len(result.articles)} article(s) loaded")
        if not result.articles:
            problems.append(Problem(str(corpus), "no article could be loaded"))
        summary.append(_index_line(Path(settings.data_dir) / "cache", result.articles))
    summary.append(_semantic_line(settings))
    data_dir = Path(settings.data_dir)
    try:
        check_folder(data_dir, "BRIEFBOT_DATA_DIR")
    except StorageError as err:
        problems.append(Problem("data directory", str(err)))
    else:
        trouble = check_database(
            settings.effective_database_url,
            marker_dir=data_dir,
            setting=settings.database_setting,
        )
        if trouble is None:
            summary.append("database: usable")
        else:
            problems.append(Problem("database", trouble))
    actors = Path(settings.config_dir) / "actors.yaml"
    if actors.exists():
        actor_problems = check_actors_file(actors)
        problems.extend(actor_problems)
        found = len(actor_problems)
        summary.append(f"actors file {actors}: {found} problem{'s' if found != 1 else ''}")
    else:
        problems.append(
            Problem(
                str(actors.resolve()),
                "the editors' actors file is not there: run briefbot from the project folder "
                "or set BRIEFBOT_CONFIG_DIR (actors are then only discovered, with no aliases)",
            )
        )
    return problems, summary


def _index_line(folder: Path, articles: Sequence[Article]) -> str:
    """Whether the next start loads the saved search index, and how much it must update
    (never a problem: a missing or unusable one is rebuilt)."""
    from bot.ask.index_store import describe

    state = describe(folder, articles)
    if state is None:
        return "search index: not saved yet (the first start builds it)"
    size = f"{state.size / 2**20:.0f} MB"
    if not state.usable:
        return f"search index {state.path}: unusable ({size}), the next start rebuilds it"
    todo = "up to date" if not state.stale else f"{state.stale} article(s) to add or update"
    return f"search index {state.path}: {state.articles} article(s), {size}, {todo}"


def _semantic_line(settings: Settings) -> str:
    """Whether answers can be ranked by meaning here, and if not why (never a problem:
    the lexical ranking works everywhere)."""
    if not settings.semantic:
        return "answers: lexical ranking (BRIEFBOT_SEMANTIC is off)"
    from bot.ask.embedder import load_embedder

    return f"answers: {load_embedder().status}"
