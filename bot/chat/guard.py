"""The one error funnel between the platforms and the handlers, like discord.py's
`CommandTree.on_error`: whatever a handler raises, the user gets a sentence and the log
gets the traceback, so no adapter needs a catch-all of its own."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from .replies import Reply, error

log = logging.getLogger(__name__)

INTERNAL_ERROR = "Une erreur interne s'est produite ; elle a été journalisée."
UNAVAILABLE = "Le service est momentanément indisponible. Réessayez dans un instant."


class Guard:
    """Runs a handler and turns any exception into an error reply.

    `unavailable` are the exception types that mean "a dependency is down for a moment"
    (the database, say): the composition root names them, so the core needs no driver.
    """

    def __init__(self, unavailable: tuple[type[BaseException], ...] = ()) -> None:
        self.unavailable = unavailable

    async def run(self, name: str, call: Callable[[], Awaitable[Reply]]) -> Reply:
        try:
            return await call()
        except Exception as err:
            return self.failure(name, err)

    def failure(self, name: str, err: Exception) -> Reply:
        """The reply for an exception that escaped `/name`, logged with its traceback."""
        if isinstance(err, self.unavailable):
            log.error("/%s failed: a dependency is unavailable", name, exc_info=err)
            return error(UNAVAILABLE, title="Service indisponible")
        log.error("/%s failed", name, exc_info=err)
        return error(INTERNAL_ERROR)
