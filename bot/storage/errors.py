"""The storage's one error for the user, importable without loading SQLAlchemy."""

from __future__ import annotations


class StorageError(Exception):
    """The database cannot be used as it is; the message is one line for the user."""
