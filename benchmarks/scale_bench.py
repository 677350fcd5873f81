"""The scale benchmark of issue #11: a generated corpus of article files, measured through
the real program.

- `briefbot ask --json` in a fresh process, with an empty data directory (cold) and then
  the same one again (warm): time from process start to the printed answer, and the
  process's peak RSS;
- in one worker process, the corpus loaded as the CLI loads it: query latency of
  `Answerer.answer` for short questions and 60-word queries, and long-query retrieval
  against plain BM25 (benchmarks/long_queries.py);
- in another, the library `briefbot run` builds (`Derived.library()`, every derivation
  prepared): time from writing one new article file into the folder to an answer citing
  it, rescanning with `library.refresh()` as the running bot does;
- the size of the data directory after the warm start.

The corpus is `synthetic_articles(sections, seed)` written as Markdown files (front matter,
`#` title, `##` sections, paragraphs), cached in data/bench-scale/ by size, seed and
generator version, so a second `make bench` reuses it. Every run works on a temporary
hard-linked copy, so the added article never reaches the cache.

`python -m benchmarks.scale_bench --sections 1000` prints the figures as one JSON object.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.datasets import long_queries, synthetic_articles, synthetic_questions
from bot.corpus.model import Article

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "data" / "bench-scale"
NEW_ID = "zz-scale-bench-new"
NEW_WORD = "Quenstrelaville"  # 'q' starts no invented word: no generated article has it
NEW_ARTICLE = f"""---
title: Un barrage inauguré à {NEW_WORD}
date: 2025-06-01
source: bench
---

# Un barrage inauguré à {NEW_WORD}

Le barrage de {NEW_WORD} a été inauguré lundi par le ministre de l'hydraulique. Il doit
fournir de l'électricité à trois cent mille foyers de la région.

## Le financement

Les travaux ont coûté quatre cents millions d'euros, financés par un prêt international.
"""
NEW_QUESTION = f"Quand le barrage de {NEW_WORD} a-t-il été inauguré ?"


# -- the corpus as files -----------------------------------------------------------------


def article_markdown(article: Article) -> str:
    """One article as a Markdown file the loader reads back into the same sections."""
    lines = [
        "---",
        f"title: {json.dumps(article.title, ensure_ascii=False)}",  # JSON strings are YAML
        *([f"date: {article.date}"] if article.date else []),
        *([f"source: {article.source}"] if article.source else []),
        "---",
        "",
        f"# {article.title}",
        "",
    ]
    for section in article.sections:
        if len(section.heading_path) > 1:
            lines += [f"## {section.heading}", ""]
        for paragraph in section.paragraphs:
            lines += [paragraph.text, ""]
    return "\n".join(lines)


def _generator_version() -> str:
    """Changes when the generator or the file format does, so a stale cache is remade."""
    digest = hashlib.sha256(Path(__file__).with_name("datasets.py").read_bytes())
    digest.update(article_markdown.__code__.co_code)
    return digest.hexdigest()[:10]


def corpus_folder(n_sections: int, seed: int, cache: Path = CACHE) -> Path:
    """The generated corpus's folder, written once (about 20 s for 100,000 sections, most
    of it generating the text) and reused while the generator is unchanged."""
    folder = cache / f"synthetic-{n_sections}-seed{seed}-{_generator_version()}"
    if (folder / ".complete").is_file():
        return folder
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    articles = synthetic_articles(n_sections, seed)
    for article in articles:
        (partial / f"{article.id}.md").write_text(article_markdown(article), encoding="utf-8")
    [question] = synthetic_questions(articles, 1, seed)
    (partial / ".question").write_text(question.question, encoding="utf-8")
    (partial / ".complete").write_text(f"{len(articles)} articles\n", encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
    return folder


def linked_copy(source: Path, target: Path) -> Path:
    """`source`'s article files hard-linked into `target` (copied where links fail)."""
    target.mkdir(parents=True)
    for path in source.iterdir():
        if path.name.startswith("."):
            continue
        try:
            os.link(path, target / path.name)
        except OSError:
            shutil.copy2(path, target / path.name)
    return target


def folder_mb(folder: Path) -> float:
    total = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    return total / 2**20


def _environment(corpus: Path, data_dir: Path, config_file: Path) -> dict[str, str]:
    """The bench's own settings only: no developer token, .env or config file leaks in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFBOT_")}
    env.update(
        BRIEFBOT_CORPUS=str(corpus),
        BRIEFBOT_DATA_DIR=str(data_dir),
        BRIEFBOT_CONFIG_DIR=str(ROOT / "config"),
        BRIEFBOT_CONFIG_FILE=str(config_file),
        PYTHONPATH=str(ROOT),  # this checkout's code, whatever the venv was installed from
    )
    return env


# -- start through the CLI ----------------------------------------------------------------


@dataclass(frozen=True)
class Start:
    seconds: float  # process start to exit, the answer printed
    peak_rss_mb: float  # of that process alone (wait4)
    answered: bool
    status: int


def cli_start(env: dict[str, str], cwd: Path, question: str, timeout: float) -> Start:
    """`briefbot ask --json QUESTION` in a fresh process; its own peak RSS from wait4."""
    command = [sys.executable, "-m", "briefbot", "ask", "--json", question]
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.DEVNULL, env=env, cwd=cwd)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        printed = out.read().decode("utf-8", "replace")
    try:
        answered = bool(json.loads(printed)["answered"])
    except (ValueError, KeyError, TypeError):
        answered = False
    rss = usage.ru_maxrss / (2**20 if sys.platform == "darwin" else 2**10)
    return Start(round(seconds, 2), round(rss), answered, proc.returncode)


# -- in a worker process ------------------------------------------------------------------


def _settings(corpus: Path, data_dir: Path) -> Any:
    from bot.settings import Settings

    return Settings(  # type: ignore[call-arg]
        _env_file=None, corpus=corpus, data_dir=data_dir, config_dir=ROOT / "config"
    )


def _percentiles(seconds: Sequence[float]) -> tuple[float, float]:
    ms = np.asarray(seconds or [0.0]) * 1000
    return round(float(np.percentile(ms, 50)), 2), round(float(np.percentile(ms, 95)), 2)


def _timed(fn: Any, inputs: Sequence[str]) -> tuple[float, float]:
    seconds = []
    for text in inputs:
        started = time.perf_counter()
        fn(text)
        seconds.append(time.perf_counter() - started)
    return _percentiles(seconds)


def queries_worker(corpus: Path, data_dir: Path, n: int, seed: int) -> dict[str, Any]:
    """Load as `briefbot ask` does, then time answers and compare long-query ranking."""
    from benchmarks.long_queries import long_table
    from briefbot.cli import open_library

    started = time.perf_counter()
    library, derived = open_library(_settings(corpus, data_dir))
    answerer = derived.answerer.of(library.current)
    load = time.perf_counter() - started
    articles = list(library.current.articles)
    short = [q.question for q in synthetic_questions(articles, n, seed)]
    sixty = [q.question for q in long_queries(articles, n, seed, words=(60, 60))]
    for q in short[:5] + sixty[:5]:  # caches warm, as in a running bot
        answerer.answer(q)
    index = answerer.index
    out: dict[str, Any] = {
        "articles": len(articles),
        "sections": len(index),
        "load_s": round(load, 1),
        "short": _timed(answerer.answer, short),
        "sixty": _timed(answerer.answer, sixty),
        "short_search": _timed(lambda q: index.search(index.analyse(q), question=q), short),
        "sixty_search": _timed(lambda q: index.search(index.analyse(q), question=q), sixty),
    }
    long = long_queries(articles, n, seed + 1)
    out["long"] = [asdict(m) for m in long_table(articles, long, answerer=answerer)]
    return out


def add_worker(corpus: Path, data_dir: Path, budget: float, path: str) -> dict[str, Any]:
    """Load, write one article, rescan until an answer cites it. `path` "run": the library
    `briefbot run` builds, every derivation prepared before a snapshot is served;
    "answer": only the answerer prepared (the fallback when the first cannot load)."""
    from bot.corpus.library import Library
    from briefbot.derived import Derived

    settings = _settings(corpus, data_dir)
    derived = Derived(settings)
    if path == "run":
        library = derived.library()
    else:
        library = Library(settings.corpus, prepare=(derived.answerer,))
    new = corpus / f"{NEW_ID}.md"
    new.unlink(missing_ok=True)  # left by a worker that ran out of time
    started = time.perf_counter()
    library.load()
    load = time.perf_counter() - started
    new.write_text(NEW_ARTICLE, encoding="utf-8")
    written = time.perf_counter()
    rescans = 0
    while True:
        library.refresh()
        rescans += 1
        answer = derived.answerer.of(library.current).answer(NEW_QUESTION)
        cited = any(c.article == NEW_ID for c in answer.citations)
        if cited or time.perf_counter() - written > budget:
            break
        time.sleep(0.05)
    new.unlink()
    return {
        "load_s": round(load, 1),
        "searchable_s": round(time.perf_counter() - written, 2) if cited else None,
        "rescans": rescans,
    }


def _worker(kind: str, args: list[str], env: dict[str, str], timeout: float) -> dict[str, Any]:
    """A worker in its own process, so its memory is not the bench's: its JSON, or why not."""
    command = [sys.executable, "-m", "benchmarks.scale_bench", "--worker", kind, *args]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return {"error": f"did not finish within {timeout:.0f} s"}
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"exit {done.returncode}: {tail}"}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# -- the whole bench ----------------------------------------------------------------------


def measure(
    n_sections: int,
    seed: int = 0,
    *,
    queries: int = 300,
    budget: float = 600.0,
    cache: Path = CACHE,
) -> dict[str, Any]:
    """Every figure of the bench, for `synthetic_articles(n_sections, seed)` as files.

    `budget` bounds each step in seconds: a start, a worker's load, the wait for the new
    article (today a start at 20,000 articles rebuilds everything, minutes of it).
    """
    source = corpus_folder(n_sections, seed, cache)
    question = (source / ".question").read_text(encoding="utf-8")
    out: dict[str, Any] = {"sections": n_sections, "seed": seed, "question": question}
    with tempfile.TemporaryDirectory(prefix="briefbot-scale-") as tmp:
        base = Path(tmp)
        corpus = linked_copy(source, base / "corpus")
        out["files"] = sum(1 for _ in corpus.glob("*.md"))
        out["corpus_mb"] = round(folder_mb(corpus), 1)
        config_file = base / "empty.toml"
        config_file.write_text("")
        data = base / "data"
        env = _environment(corpus, data, config_file)
        out["cold"] = asdict(cli_start(env, base, question, budget))
        out["warm"] = asdict(cli_start(env, base, question, budget))
        out["data_mb"] = round(folder_mb(data), 1) if data.is_dir() else 0.0
        out["queries"] = _worker(
            "queries", [str(corpus), str(data), str(queries), str(seed)], env, 3 * budget
        )
        # Their own data directories: what they write must not change the figures above.
        for path in ("run", "answer"):
            live = base / f"live-{path}"
            out[f"add_{path}"] = _worker(
                "add",
                [str(corpus), str(live), str(budget), path],
                _environment(corpus, live, config_file),
                budget,
            )
            if "error" not in out[f"add_{path}"]:
                break  # the answer path alone is measured only when the run path cannot be
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale_bench")
    parser.add_argument("--sections", type=int, default=100_000, help="about 5 per article")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--budget", type=float, default=600.0, help="seconds allowed a step")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        kind, *rest = args.worker
        if kind == "queries":
            result = queries_worker(Path(rest[0]), Path(rest[1]), int(rest[2]), int(rest[3]))
        else:
            result = add_worker(Path(rest[0]), Path(rest[1]), float(rest[2]), rest[3])
        result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        print(json.dumps(result))
        return 0
    print(json.dumps(measure(args.sections, args.seed, queries=args.queries, budget=args.budget)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
