"""The bot's state in a database: SQLAlchemy repositories for the briefing and feedback
ports, and the Alembic migrations of their schema. Open it with `database.Database(url)`."""
