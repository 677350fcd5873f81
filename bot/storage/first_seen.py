"""When the bot first saw each article version: the `FirstSeenStore` port."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.briefings.ports import HasVersion
from bot.briefings.subscription import utcnow
from bot.storage.engine import Transactions
from bot.storage.tables import ArticleSeenRow

_CHUNK = 500  # ids per IN (…): well under every dialect's parameter limit


class SqlFirstSeen:
    def __init__(self, transactions: Transactions) -> None:
        self._tx = transactions

    def record(
        self, articles: Iterable[HasVersion], *, now: datetime | None = None
    ) -> dict[str, datetime]:
        """Keyed on (id, content_hash): an edited article counts as seen anew."""
        now = now or utcnow()
        wanted = {a.id: a.content_hash for a in articles}
        seen: dict[str, datetime] = {}
        ids = list(wanted)
        with self._tx() as s:
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                for row in s.scalars(
                    select(ArticleSeenRow).where(ArticleSeenRow.article_id.in_(chunk))
                ):
                    if wanted[row.article_id] == row.content_hash:
                        seen[row.article_id] = row.first_seen
        missing = [aid for aid in ids if aid not in seen]
        if not missing:
            return seen
        try:  # one transaction for the lot: a new corpus is thousands of articles
            with self._tx() as s:
                s.add_all(
                    ArticleSeenRow(article_id=aid, content_hash=wanted[aid], first_seen=now)
                    for aid in missing
                )
            seen.update(dict.fromkeys(missing, now))
        except IntegrityError:  # another process recorded some first: go one by one
            for aid in missing:
                seen[aid] = self._record_one(aid, wanted[aid], now)
        return seen

    def _record_one(self, article_id: str, content_hash: str, now: datetime) -> datetime:
        try:
            with self._tx() as s:
                s.add(
                    ArticleSeenRow(article_id=article_id, content_hash=content_hash, first_seen=now)
                )
            return now
        except IntegrityError:  # recorded by someone else meanwhile: theirs is first
            with self._tx() as s:
                return s.get_one(ArticleSeenRow, (article_id, content_hash)).first_seen
