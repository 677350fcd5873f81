"""News sources: RSS/Atom/JSON feeds and single article pages, fetched politely and
safely, their items written into the corpus folder as ordinary article files.

One module per job: `model` (records), `ports` (what storage provides), `safety` (which
URLs may be fetched), `fetch` (HTTP), `robots`, `feeds` (feedparser), `extract`
(trafilatura), `writer` (article files), `poller` (one poll of one source),
`scheduler` (APScheduler), `commands` (`/source`).
"""
