"""What the Slack adapter and slack-bolt may write to the log.

Measured: slack-bolt copies the root logger's level onto its own loggers, so at INFO it
logged every rejected request with its whole body (50 unsigned 1 MB requests added 50 MB
of log in 0.2 s), and a body with newlines wrote a forged `briefbot: ERROR: …` line.
Bolt's loggers here are capped at WARNING, and every record of the adapter and of bolt is
one line (line breaks escaped) of bounded length.
"""

from __future__ import annotations

import logging

from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped

MAX_CHARS = 300
# Bolt reads SLACK_BOT_TOKEN from the environment even when given a client, then warns
# that it ignores it; the adapter always gives its own client, so the notice says nothing.
_IGNORED = frozenset({warning_client_prioritized_and_token_skipped()})


class OneLine(logging.Filter):
    """Formats the record once, escapes CR/LF, cuts it at `limit` characters, and drops
    bolt's notice that the token from the environment is unused."""

    def __init__(self, limit: int = MAX_CHARS) -> None:
        super().__init__()
        self.limit = limit

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message in _IGNORED:
            return False
        message = message.replace("\r", "\\r").replace("\n", "\\n")
        if len(message) > self.limit:
            message = message[: self.limit] + "…"
        record.msg, record.args = message, None
        return True


def bolt_logger() -> logging.Logger:
    """The logger handed to slack-bolt: WARNING and above, one line each. Bolt copies its
    level and filters onto the loggers of its middlewares."""
    logger = logging.getLogger("adapters.slack.bolt")
    logger.setLevel(logging.WARNING)
    if not any(isinstance(f, OneLine) for f in logger.filters):
        logger.addFilter(OneLine())
    return logger
