"""What the sources feature needs from storage, as a protocol it owns.

`bot/storage/sources.py` implements it with SQLAlchemy. Every method is one short
transaction, safe from several tasks and several processes sharing one database.
Datetimes are timezone-aware UTC both ways.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.sources.model import Source


class SourceStore(Protocol):
    def add(
        self, url: str, kind: str, *, interval_seconds: int, added_by: str, now: datetime
    ) -> Source:
        """Store a new source, due at once; ValueError if the URL is already followed."""
        ...

    def get(self, source_id: int) -> Source | None: ...

    def find(self, url: str) -> Source | None: ...

    def list(self) -> list[Source]:
        """Every source, oldest first."""
        ...

    def remove(self, url: str) -> Source | None:
        """Stop following `url` (its seen URLs stay, so its articles are never re-taken)."""
        ...

    def resume(self, url: str, *, now: datetime) -> tuple[Source, bool] | None:
        """Take `url` out of its pause: pause, failure count and back-off cleared, due at
        `now`. The source as it is then, and whether it was paused (one that was not is
        left as is); None if `url` is not followed."""
        ...

    def claim(self, source_id: int, slot: str, *, now: datetime) -> bool:
        """Insert the (source, slot) claim row; False if another poll already owns it."""
        ...

    def record_success(
        self,
        source_id: int,
        *,
        now: datetime,
        next_poll: datetime | None,
        etag: str | None,
        last_modified: str | None,
        title: str | None,
        taken: int,
        error: str | None = None,
    ) -> None:
        """A poll that fetched the source: failures reset, `taken` added to its count;
        `error` keeps an item's failure visible without counting against the source."""
        ...

    def record_failure(
        self,
        source_id: int,
        error: str,
        *,
        now: datetime,
        next_poll: datetime | None,
        pause_after: int,
    ) -> Source | None:
        """A failed poll: failures + 1, paused once they reach `pause_after`."""
        ...

    def claim_url(self, url: str, source_id: int, *, now: datetime) -> bool:
        """Claim a canonical URL for this source. True if it is new, or still pending
        from an earlier poll of this same source (a poll that died before writing)."""
        ...

    def known_url(self, url: str) -> bool:
        """Whether the canonical URL was already claimed by any source."""
        ...

    def release_url(self, url: str) -> None:
        """Forget a pending claim whose article could not be taken (retried next poll)."""
        ...

    def reserve_content(self, url: str, content_hash: str) -> bool:
        """Attach the content's hash to the claimed URL before its file is written. False
        (and the URL marked a duplicate) when another URL already brought that content."""
        ...

    def mark_written(self, url: str, article_id: str, *, now: datetime) -> None:
        """The article file of the claimed URL is in the corpus folder."""
        ...
