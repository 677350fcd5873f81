"""Alembic's migration scripts for the bot's database; run by `bot.storage.schema`."""
