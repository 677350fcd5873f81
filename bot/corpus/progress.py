"""How long work says how far along it is: a callback of (done, total), so the core can
report progress without knowing whether a terminal bar or the log shows it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

Progress = Callable[[int, int], None]
# Given the name of a task ("index", "actors", …), the callback its progress goes to.
ProgressFactory = Callable[[str], Progress]

log = logging.getLogger(__name__)


def no_progress(_done: int, _total: int) -> None:
    """For work nobody watches."""


def logged_progress(task: str, *, every: float = 10.0, minimum: int = 500) -> Progress:
    """Progress as log lines, at most one per `every` seconds, for work on more than
    `minimum` items (a restart of a large corpus: the log says the bot is not stuck)."""
    last = time.monotonic()

    def report(done: int, total: int) -> None:
        nonlocal last
        now = time.monotonic()
        if total >= minimum and (now - last >= every or done == total) and done:
            last = now
            log.info("%s: %d/%d (%d%%)", task, done, total, 100 * done // max(total, 1))

    return report
