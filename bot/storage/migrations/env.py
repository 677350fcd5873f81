"""Alembic's entry point. `bot.storage.schema` passes the open connection in
`config.attributes["connection"]`; without one (a developer writing a revision with
`command.revision(config, autogenerate=True)`), the config's `sqlalchemy.url` is opened."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from bot.storage.engine import make_engine
from bot.storage.tables import Base


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER much
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("briefbot migrations run online only")

given = context.config.attributes.get("connection")
if given is not None:
    _run(given)
else:
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("set sqlalchemy.url in the Alembic config to the database to compare")
    engine = make_engine(url)
    with engine.begin() as connection:
        _run(connection)
    engine.dispose()
