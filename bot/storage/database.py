"""The bot's database, opened and migrated, with one repository per kind of record.

It lives apart from `engine.py` because the repositories import the engine's helpers.
"""

from __future__ import annotations

from sqlalchemy import text

from bot.storage.deliveries import SqlDeliveries
from bot.storage.engine import Transactions, make_engine, safe_url
from bot.storage.feedback import SqlFeedback
from bot.storage.first_seen import SqlFirstSeen
from bot.storage.schema import migrate
from bot.storage.sources import SqlSources
from bot.storage.subscriptions import SqlSubscriptions


class Database:
    """Opens `url` (SQLite by path or PostgreSQL), brings its schema up to date, and
    serves the briefing, feedback and sources ports. Raises StorageError if the schema cannot be
    brought up to date (a newer briefbot's database, say)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        try:
            migrate(self.engine)
        except BaseException:
            self.engine.dispose()
            raise
        transactions = Transactions(self.engine)
        self.subscriptions = SqlSubscriptions(transactions)
        self.deliveries = SqlDeliveries(transactions)
        self.first_seen = SqlFirstSeen(transactions)
        self.feedback = SqlFeedback(transactions)
        self.sources = SqlSources(transactions)

    def __repr__(self) -> str:
        return f"Database({safe_url(self.engine)!r})"

    def ping(self) -> bool:
        """True when the database answers `SELECT 1`; raises the driver's error otherwise.

        It checks out a pooled connection like any query, so it sees what queries see."""
        with self.engine.connect() as connection:
            return connection.execute(text("SELECT 1")).scalar_one() == 1

    def close(self) -> None:
        self.engine.dispose()
