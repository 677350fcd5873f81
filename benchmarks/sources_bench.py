"""Ingest N feed items from the local news site (127.0.0.1): the time to poll and write
them, the process's peak RSS, and the time from the end of the poll until a question
about one of them is answered from a freshly loaded corpus (what the rescan does).

Run alone, in its own process, so the peak RSS is this job's: `python -m
benchmarks.sources_bench --items 1000` prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.ask.answerer import Answerer
from bot.ask.index import SearchIndex
from bot.corpus.library import Library
from bot.settings import Settings
from bot.sources.service import make_poller
from bot.storage.database import Database
from tests.fakes.news_site import NewsSite, rss


def _item(site: NewsSite, i: int) -> dict[str, str]:
    text = (
        f"<p>La commune numéro {i} a inauguré un nouveau forage de {i % 90 + 10} mètres, "
        f"financé par le programme régional d'hydraulique villageoise.</p>"
        f"<p>Le maire de la commune {i} a salué l'arrivée de l'eau potable pour les "
        "écoles et le centre de santé, qui attendaient ce forage depuis des années.</p>"
        "<p>Les habitants participeront à l'entretien de la pompe grâce à un comité de "
        "gestion élu, selon les responsables du programme.</p>"
        "<p>Deux autres forages sont prévus l'an prochain dans les villages voisins, si "
        "les financements annoncés par les partenaires sont confirmés.</p>"
    )
    return {
        "title": f"Forage inauguré dans la commune {i}",
        "link": site.url(f"/a/{i}"),
        "content": text,
    }


async def _run(items: int) -> dict[str, Any]:
    site = await NewsSite().start()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "corpus"
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            corpus=folder,
            data_dir=Path(tmp),
            sources_allow_hosts="127.0.0.1",
        )
        database = Database(settings.effective_database_url)
        poller = make_poller(settings, database.sources)
        feed = site.serve(
            "/rss", rss([_item(site, i) for i in range(items)]), "application/rss+xml"
        )
        started = time.perf_counter()
        _, result = await poller.add(feed, "bench")
        ingest = time.perf_counter() - started
        if result.error or not result.written:
            raise SystemExit(f"ingest failed: {result.error}")
        await poller.fetcher.close()
        started = time.perf_counter()
        library = Library(folder)
        snapshot = library.load()
        answer = Answerer(SearchIndex(snapshot.articles)).answer(
            f"Quelle est la profondeur du forage de la commune numéro {items // 2} ?"
        )
        answerable = time.perf_counter() - started
        database.close()
    await site.stop()
    return {
        "items": items,
        "written": len(result.written),
        "ingest_s": round(ingest, 2),
        "answerable_s": round(answerable, 2),
        "answered": f"commune numéro {items // 2} " in answer.answer,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sources_bench")
    parser.add_argument("--items", type=int, default=1000)
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(_run(args.items))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
