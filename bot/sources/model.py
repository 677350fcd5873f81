"""The records of the sources feature: a source, its state, and what one poll did."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

FEED = "feed"
PAGE = "page"

# States of a seen URL: claimed by a poll, written into the corpus, or a duplicate of
# content already written (the same story reached through another URL).
PENDING = "pending"
WRITTEN = "written"
DUPLICATE = "duplicate"


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Source:
    """A followed feed, or an article page fetched once (`kind` PAGE).

    `next_poll` is also the slot key two processes claim before polling; `paused_reason`
    is shown by `/source list` once `consecutive_failures` reached the limit.
    """

    id: int
    url: str
    kind: str
    interval_seconds: int
    added_by: str
    added_at: datetime
    next_poll: datetime | None = None
    last_fetch: datetime | None = None
    last_success: datetime | None = None
    etag: str | None = None
    last_modified: str | None = None
    title: str | None = None
    articles_taken: int = 0
    consecutive_failures: int = 0
    last_error: str | None = None
    paused: bool = False
    paused_reason: str | None = None


@dataclass(frozen=True, slots=True)
class PollResult:
    """What one poll of one source did; `error` is None when it succeeded."""

    source_id: int
    url: str
    polled: bool
    written: tuple[str, ...] = ()
    skipped: int = 0
    not_modified: bool = False
    error: str | None = None
    paused: bool = False
