"""Subscription changes made by a command, told to the scheduler of the same process.

The commands and the scheduler are built apart (the scheduler needs the adapters, which
need the commands), so they share this observer instead of a reference to each other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.briefings.subscription import Subscription

Saved = Callable[["Subscription"], None]
Removed = Callable[[int], None]


class SubscriptionChanges:
    def __init__(self) -> None:
        self._saved: list[Saved] = []
        self._removed: list[Removed] = []

    def listen(self, saved: Saved, removed: Removed) -> None:
        self._saved.append(saved)
        self._removed.append(removed)

    def saved(self, subscription: Subscription) -> None:
        for callback in self._saved:
            callback(subscription)

    def removed(self, subscription_id: int) -> None:
        for callback in self._removed:
            callback(subscription_id)
