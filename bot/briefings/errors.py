"""The error a schedule the user typed raises: shared by the schedule parser and the
time zone reader, so neither has to import the other."""

from __future__ import annotations

from collections.abc import Sequence


class ScheduleError(ValueError):
    """A schedule the user typed that we cannot use. `option` names the faulty option and
    `suggestions` are replacement values for it, best first, so the caller can offer the
    corrected command."""

    def __init__(
        self, message: str, suggestions: Sequence[str] = (), *, option: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.suggestions = tuple(suggestions)
        self.option = option

    @property
    def text(self) -> str:
        """The message plus a "did you mean" sentence when we have a guess."""
        if not self.suggestions:
            return self.message
        return f"{self.message} Vouliez-vous dire {join_or(self.suggestions)} ?"

    def __str__(self) -> str:
        return self.text


def clip(text: str, limit: int = 40) -> str:
    """User input quoted back in a message, on one line and at most `limit` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def join_and(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} et {items[-1]}"


def join_or(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} ou {items[-1]}"
