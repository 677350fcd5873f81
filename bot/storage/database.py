"""The bot's database, opened and migrated, with one repository per kind of record.

It lives apart from `engine.py` because the repositories import the engine's helpers.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bot.storage import preflight
from bot.storage.deliveries import SqlDeliveries
from bot.storage.engine import Transactions, make_engine, safe_url
from bot.storage.errors import StorageError
from bot.storage.feedback import SqlFeedback
from bot.storage.first_seen import SqlFirstSeen
from bot.storage.schema import migrate
from bot.storage.sources import SqlSources
from bot.storage.subscriptions import SqlSubscriptions


class Database:
    """Opens `url` (SQLite by path or PostgreSQL), brings its schema up to date, and
    serves the briefing, feedback and sources ports.

    Raises StorageError, one line naming the path and `setting`, when the database cannot
    be used: its folder unwritable or full, the file damaged or not SQLite, the server
    unreachable, a newer briefbot's schema. With `marker_dir`, a SQLite database is
    recorded there once created, and one that later vanished or was emptied is refused."""

    def __init__(
        self,
        url: str,
        *,
        marker_dir: Path | None = None,
        setting: str = "BRIEFBOT_DATABASE_URL",
    ) -> None:
        self.url = url
        path = preflight.sqlite_path(url)
        if path is not None:
            preflight.check_folder(path.parent, setting)
            preflight.check_sqlite_file(path, marker_dir, setting)
        try:
            self.engine = make_engine(url)
        except ModuleNotFoundError as err:
            raise StorageError(
                f"{setting}: the driver {err.name} is not installed (pip install "
                "'briefbot[postgres]' for PostgreSQL)"
            ) from None
        try:
            migrate(self.engine)
        except SQLAlchemyError as err:
            self.engine.dispose()
            raise preflight.describe(err, str(path or safe_url(self.engine)), setting) from None
        except BaseException:
            self.engine.dispose()
            raise
        if path is not None and marker_dir is not None:
            preflight.record(marker_dir, path)
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


def check_database(url: str, *, marker_dir: Path | None, setting: str) -> str | None:
    """What `briefbot check` says about the database: None when it opens, else why not.
    An existing SQLite file is only read; a server is only connected to."""
    path = preflight.sqlite_path(url)
    try:
        if path is not None:
            preflight.check_folder(path.parent, setting)
            preflight.check_sqlite_file(path, marker_dir, setting)
            return None
        engine = make_engine(url)
        try:
            with engine.connect():
                pass
        except SQLAlchemyError as err:
            raise preflight.describe(err, safe_url(engine), setting) from None
        finally:
            engine.dispose()
    except ModuleNotFoundError as err:
        return f"{setting}: the driver {err.name} is not installed"
    except StorageError as err:
        return str(err)
    return None
