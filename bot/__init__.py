"""briefbot: briefs a team on a body of news articles, in the chat tools it lives in."""

__version__ = "0.1.0"
