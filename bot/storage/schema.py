"""Bring a database to the schema this briefbot expects, with Alembic, at open.

* empty database: upgrade to head;
* a database from before migrations (its tables, no `alembic_version`): stamp 0001 (its
  schema), then upgrade;
* a database at an older revision: upgrade;
* a database at a revision this briefbot does not know (written by a newer one): refuse
  with a StorageError rather than guess.

On PostgreSQL the whole check-and-upgrade holds a transaction-level advisory lock, so
several processes opening one database at once migrate it once.

A new revision: change `tables.py`, then, against a database at head,
`config = alembic_config(); config.set_main_option("sqlalchemy.url", url)` and
`alembic.command.revision(config, "what changes", rev_id="0002", autogenerate=True)`;
review the script (SQLite gets batch operations).
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import Engine

from bot.storage.engine import safe_url
from bot.storage.errors import StorageError

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BASELINE = "0001"  # the schema briefbot 0.1.0 created without migrations
LEGACY_TABLES = frozenset({"subscriptions", "deliveries", "articles_seen", "feedback"})
# pg_advisory_xact_lock key: any constant shared by every briefbot process.
_LOCK_KEY = 0x62726965  # "brie"


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, from the package alone (no alembic.ini)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def migrate(engine: Engine) -> None:
    """Upgrade the database to head, or raise StorageError saying why it cannot be."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        config = alembic_config(connection)
        script = ScriptDirectory.from_config(config)
        current = MigrationContext.configure(connection).get_current_revision()
        if current is None:
            present = LEGACY_TABLES & set(inspect(connection).get_table_names())
            if present == LEGACY_TABLES:
                log.info("database %s predates migrations: stamping %s", safe_url(engine), BASELINE)
                command.stamp(config, BASELINE)
            elif present:
                raise StorageError(
                    f"the database {safe_url(engine)} has some of briefbot's tables "
                    f"({', '.join(sorted(present))}) but not all: restore it or use another one"
                )
        elif current not in {s.revision for s in script.walk_revisions()}:
            raise StorageError(
                f"the database {safe_url(engine)} was set up by a newer briefbot (schema "
                f"revision {current}, this one knows up to {script.get_current_head()}): "
                "upgrade briefbot"
            )
        command.upgrade(config, "head")
