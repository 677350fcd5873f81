"""News sources in the database: the `SourceStore` port of `bot.sources`.

"Once" rests on primary keys: a poll slot is claimed by INSERTing (source_id, slot), an
item by INSERTing the hash of its canonical URL, and its content by setting a UNIQUE
content hash; whoever gets the IntegrityError backs off. A slot claimed by a process
that died is taken over once its claim is older than `lease` (a conditional UPDATE, so
only one process takes it over).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from bot.sources.model import DUPLICATE, PENDING, WRITTEN, Source
from bot.storage.engine import Transactions
from bot.storage.tables import SourceItemRow, SourcePollRow, SourceRow, clip, to_record


def url_key(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()


class SqlSources:
    def __init__(self, transactions: Transactions, *, lease: timedelta = timedelta(minutes=15)):
        self._tx = transactions
        self.lease = lease

    def add(
        self, url: str, kind: str, *, interval_seconds: int, added_by: str, now: datetime
    ) -> Source:
        row = SourceRow(
            url=url,
            kind=kind,
            interval_seconds=interval_seconds,
            added_by=clip(added_by, 200),
            added_at=now,
            next_poll=now,
            articles_taken=0,
            consecutive_failures=0,
            paused=False,
        )
        try:
            with self._tx() as s:
                s.add(row)
                s.flush()
                return to_record(Source, row)
        except IntegrityError:
            raise ValueError(f"already followed: {url}") from None

    def get(self, source_id: int) -> Source | None:
        with self._tx() as s:
            row = s.get(SourceRow, source_id)
            return to_record(Source, row) if row else None

    def find(self, url: str) -> Source | None:
        with self._tx() as s:
            row = s.scalars(select(SourceRow).where(SourceRow.url == url)).one_or_none()
            return to_record(Source, row) if row else None

    def list(self) -> list[Source]:
        with self._tx() as s:
            return [
                to_record(Source, r) for r in s.scalars(select(SourceRow).order_by(SourceRow.id))
            ]

    def remove(self, url: str) -> Source | None:
        with self._tx() as s:
            row = s.scalars(select(SourceRow).where(SourceRow.url == url)).one_or_none()
            if row is None:
                return None
            gone = to_record(Source, row)
            s.execute(delete(SourcePollRow).where(SourcePollRow.source_id == row.id))
            s.delete(row)
            return gone

    def resume(self, url: str, *, now: datetime) -> tuple[Source, bool] | None:
        # FOR UPDATE (PostgreSQL): of two admins resuming at once, the second is told
        # the source is no longer paused.
        with self._tx() as s:
            row = s.scalars(
                select(SourceRow).where(SourceRow.url == url).with_for_update()
            ).one_or_none()
            if row is None:
                return None
            was_paused = bool(row.paused)
            if was_paused:
                # No poll of a paused source is in flight, so its claims only stand in the
                # way: one made for the instant `now` would hold the resumed poll off.
                # last_error stays: it is still the last error, until a poll succeeds.
                s.execute(delete(SourcePollRow).where(SourcePollRow.source_id == row.id))
                row.paused = False
                row.paused_reason = None
                row.consecutive_failures = 0
                row.next_poll = now
            return to_record(Source, row), was_paused

    def claim(self, source_id: int, slot: str, *, now: datetime) -> bool:
        try:
            with self._tx() as s:
                s.add(SourcePollRow(source_id=source_id, slot=slot[:64], claimed_at=now))
            return True
        except IntegrityError:
            pass
        with self._tx() as s:
            result = s.execute(
                update(SourcePollRow)
                .where(
                    SourcePollRow.source_id == source_id,
                    SourcePollRow.slot == slot[:64],
                    SourcePollRow.claimed_at < now - self.lease,
                )
                .values(claimed_at=now)
            )
            return bool(result.rowcount == 1)  # type: ignore[attr-defined]

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
        with self._tx() as s:
            row = s.get(SourceRow, source_id)
            if row is None:
                return
            row.last_fetch = row.last_success = now
            row.next_poll = next_poll
            row.etag = clip(etag) if etag else None
            row.last_modified = clip(last_modified, 100) if last_modified else None
            row.title = clip(title) if title else row.title
            row.articles_taken += taken
            row.consecutive_failures = 0
            row.last_error = clip(error) if error else None

    def record_failure(
        self,
        source_id: int,
        error: str,
        *,
        now: datetime,
        next_poll: datetime | None,
        pause_after: int,
    ) -> Source | None:
        with self._tx() as s:
            row = s.get(SourceRow, source_id)
            if row is None:
                return None
            row.last_fetch = now
            row.next_poll = next_poll
            row.consecutive_failures += 1
            row.last_error = clip(error)
            if row.consecutive_failures >= pause_after:
                row.paused = True
                row.paused_reason = clip(
                    f"En pause après {row.consecutive_failures} échecs de suite : {error}"
                )
            return to_record(Source, row)

    def claim_url(self, url: str, source_id: int, *, now: datetime) -> bool:
        key = url_key(url)
        try:
            with self._tx() as s:
                s.add(
                    SourceItemRow(
                        url_hash=key,
                        url=url,
                        source_id=source_id,
                        status=PENDING,
                        created_at=now,
                        updated_at=now,
                    )
                )
            return True
        except IntegrityError:
            pass
        with self._tx() as s:
            row = s.get(SourceItemRow, key)
            return bool(row and row.status == PENDING and row.source_id == source_id)

    def known_url(self, url: str) -> bool:
        with self._tx() as s:
            return s.get(SourceItemRow, url_key(url)) is not None

    def release_url(self, url: str) -> None:
        with self._tx() as s:
            s.execute(
                delete(SourceItemRow).where(
                    SourceItemRow.url_hash == url_key(url), SourceItemRow.status == PENDING
                )
            )

    def reserve_content(self, url: str, content_hash: str) -> bool:
        key = url_key(url)
        try:
            with self._tx() as s:
                row = s.get_one(SourceItemRow, key)
                if row.content_hash == content_hash:
                    return True
                row.content_hash = content_hash
            return True
        except IntegrityError:
            pass
        with self._tx() as s:
            s.execute(
                update(SourceItemRow).where(SourceItemRow.url_hash == key).values(status=DUPLICATE)
            )
        return False

    def mark_written(self, url: str, article_id: str, *, now: datetime) -> None:
        with self._tx() as s:
            s.execute(
                update(SourceItemRow)
                .where(SourceItemRow.url_hash == url_key(url))
                .values(status=WRITTEN, article_id=article_id or None, updated_at=now)
            )
