"""`briefbot run` polls on its own: one APScheduler job looks for due sources every
`tick` seconds (each source's own interval and jitter live in its `next_poll`; the claim
row keeps two processes from polling the same slot).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.sources.poller import SourcePoller

log = logging.getLogger(__name__)

JOB_ID = "sources-poll"


class SourceScheduler:
    def __init__(self, poller: SourcePoller, *, tick_seconds: float = 60.0) -> None:
        self.poller = poller
        self.tick_seconds = tick_seconds
        self._scheduler: Any = None
        self._polling: asyncio.Task[Any] | None = None

    @property
    def running(self) -> bool:
        return self._scheduler is not None and bool(self._scheduler.running)

    async def start(self) -> None:
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        if self.running:
            return
        self._scheduler = AsyncIOScheduler(timezone=UTC, event_loop=asyncio.get_running_loop())
        self._scheduler.add_job(
            self.tick,
            "interval",
            seconds=self.tick_seconds,
            id=JOB_ID,
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC) + timedelta(seconds=1),
        )
        self._scheduler.start()

    async def tick(self) -> None:
        """Poll what is due; a bug here is logged, never fatal to the bot."""
        self._polling = asyncio.current_task()
        try:
            results = await self.poller.poll_due()
        except Exception:
            log.exception("polling the sources failed")
            return
        finally:
            self._polling = None
        taken = sum(len(r.written) for r in results)
        if taken:
            log.info("sources: %d new article(s)", taken)

    async def shutdown(self) -> None:
        """Stop polling. A poll in flight is cancelled, not failed: its items stay pending
        and the next poll of that source (this process or another) takes them again."""
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)
            await asyncio.sleep(0)
        polling = self._polling
        if polling is not None and polling is not asyncio.current_task():
            polling.cancel()
            await asyncio.gather(polling, return_exceptions=True)
        await self.poller.fetcher.close()
