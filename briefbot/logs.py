"""Logging for the program: a readable text format, or one JSON object per line.

Text (the default) is `briefbot: LEVEL: message` on stderr, with newlines and other control
characters in the message escaped and traceback lines indented, so nothing a user typed can
forge a log line. JSON (`BRIEFBOT_LOG_FORMAT=json`) adds the timestamp, the logger and the
context fields given through `extra=` or `log_context(...)`, for log shippers.

Both formats redact, as the last step of formatting, every configured secret value and
anything that looks like a Slack or Discord token or a URL password: a token that reaches a
log call through an SDK's exception text still never reaches the output.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import math
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from types import MappingProxyType
from typing import TextIO
from urllib.parse import urlsplit

from pydantic import SecretStr

LOG_FORMATS = ("text", "json")
REDACTED = "[redacted]"

NOISY_LOGGERS = (
    "alembic",  # "setup plugin …" lines at every database open
    "bm25s",
    "apscheduler.scheduler",
    "discord",
    "slack_bolt",
    "slack_sdk",
    "aiohttp.access",
)
"""Libraries that log every heartbeat or request at INFO: capped at WARNING."""

_TOKEN = re.compile(
    r"(?<![A-Za-z0-9_-])(?:"
    r"xox[a-z](?:\.xox[a-z])?-[A-Za-z0-9-]{4,}"  # Slack bot, user and refresh tokens
    r"|xapp-[A-Za-z0-9-]{4,}"  # Slack app-level (Socket Mode) tokens
    r"|mfa\.[A-Za-z0-9_-]{20,}"  # Discord MFA tokens
    r"|[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{27,}"  # Discord bot tokens, JWTs
    r")"
)
_URL_PASSWORD = re.compile(r"(://[^/\s:@]+:)[^/\s@]+(@)")

# Characters that end or rewrite a line in a terminal, a pager or `str.splitlines`.
_ESCAPES = {i: f"\\x{i:02x}" for i in (*range(0x20), 0x7F, 0x85) if i != 0x09}
_ESCAPES |= {0x0A: "\\n", 0x0D: "\\r", 0x2028: "\\u2028", 0x2029: "\\u2029"}
_JSON_LINE_BREAKS = {0x85: "\\u0085", 0x2028: "\\u2028", 0x2029: "\\u2029"}

# Every attribute a bare LogRecord has: anything else on a record came through `extra=`.
_RECORD_ATTRIBUTES = frozenset(
    {*vars(logging.LogRecord("", 0, "", 0, "", (), None)), "message", "asctime", "taskName"}
)

_context: ContextVar[Mapping[str, object]] = ContextVar(
    "briefbot_log_context", default=MappingProxyType({})
)


@contextlib.contextmanager
def log_context(**fields: object) -> Iterator[None]:
    """Add `fields` (platform, channel, slot…) to every JSON record logged inside the block.

    A contextvar, so each asyncio task keeps its own fields; `extra=` wins on a clash.
    """
    token = _context.set(MappingProxyType({**_context.get(), **fields}))
    try:
        yield
    finally:
        _context.reset(token)


def current_log_context() -> Mapping[str, object]:
    return _context.get()


class Redactor:
    """Replaces configured secrets, token-looking strings and URL passwords by `[redacted]`.

    Empty secrets are ignored (they would match everywhere); longer ones are tried first so a
    secret that contains another is replaced whole.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        values = sorted({s for s in secrets if s}, key=len, reverse=True)
        self._secrets = re.compile("|".join(map(re.escape, values))) if values else None

    def __call__(self, text: str) -> str:
        if self._secrets is not None:
            text = self._secrets.sub(REDACTED, text)
        text = _TOKEN.sub(REDACTED, text)
        return _URL_PASSWORD.sub(rf"\1{REDACTED}\2", text)


def escape_line(text: str) -> str:
    """`text` on one line: newlines and control characters as backslash escapes."""
    return text.translate(_ESCAPES)


class TextFormatter(logging.Formatter):
    """`briefbot: LEVEL: message`; traceback and stack lines follow, indented by two spaces."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        message = escape_line(self._redact(record.getMessage()))
        lines = [f"briefbot: {record.levelname}: {message}"]
        for block in _details(self, record).values():
            lines.extend("  " + escape_line(line) for line in self._redact(block).split("\n"))
        return "\n".join(lines)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: timestamp (ISO 8601, UTC), level, logger, message, then the
    context fields, and `exception` / `stack` when the record has them."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        created = dt.datetime.fromtimestamp(record.created, dt.UTC)
        payload: dict[str, object] = {
            "timestamp": created.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": self._redact(record.getMessage()),
        }
        fields = {**current_log_context(), **_extras(record)}
        for key, value in fields.items():
            payload.setdefault(key, self._value(value))
        for key, block in _details(self, record).items():
            payload[key] = self._redact(block)
        text = json.dumps(payload, ensure_ascii=False, default=str)
        return text.translate(_JSON_LINE_BREAKS)

    def _value(self, value: object) -> object:
        if value is None or isinstance(value, bool | int):
            return value
        if isinstance(value, float):
            return value if math.isfinite(value) else str(value)
        return self._redact(str(value))


def _extras(record: logging.LogRecord) -> dict[str, object]:
    return {k: v for k, v in vars(record).items() if k not in _RECORD_ATTRIBUTES}


def _details(formatter: logging.Formatter, record: logging.LogRecord) -> dict[str, str]:
    """The record's traceback and stack, formatted without caching them on the shared record."""
    details = {}
    if record.exc_info:
        details["exception"] = formatter.formatException(record.exc_info)
    elif record.exc_text:
        details["exception"] = record.exc_text
    if record.stack_info:
        details["stack"] = formatter.formatStack(record.stack_info)
    return details


class _BriefbotHandler(logging.StreamHandler[TextIO]):
    """Marks the handler `setup_logging` owns, so calling it again replaces it."""


class _StderrHandler(_BriefbotHandler):
    """Writes to `sys.stderr` as it is when each record is emitted, not as it was at setup:
    whoever swaps stderr (a test's capture, a daemon's redirection) gets the logs, and a
    closed former stderr never does."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        return None


def setup_logging(
    level: int | str = "INFO",
    fmt: str = "text",
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> logging.Handler:
    """Send every log record to `stream` (stderr by default) in `fmt` ("text" or "json").

    Replaces the handler a previous call installed and leaves others alone (pytest's, say).
    Raises `ValueError` for an unknown format or level.
    """
    fmt = fmt.strip().lower()
    if fmt not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}")
    level_no = _level(level)
    redactor = Redactor(secrets)
    handler = _StderrHandler() if stream is None else _BriefbotHandler(stream)
    handler.setFormatter(JsonFormatter(redactor) if fmt == "json" else TextFormatter(redactor))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _BriefbotHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level_no)
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(max(level_no, logging.WARNING))
    return handler


def _level(level: int | str) -> int:
    if isinstance(level, int):
        return level
    value = logging.getLevelName(level.strip().upper())
    if not isinstance(value, int):
        raise ValueError(f"unknown log level {level!r}")
    return value


def secret_values(*models: object) -> tuple[str, ...]:
    """Every `SecretStr` value of the settings models, and the password of any URL setting:
    what `setup_logging(secrets=...)` should redact."""
    values: list[str] = []
    for value in (v for model in models for v in vars(model).values()):
        if isinstance(value, SecretStr):
            values.append(value.get_secret_value())
        elif isinstance(value, str) and "://" in value:
            with contextlib.suppress(ValueError):
                password = urlsplit(value).password
                if password:
                    values.append(password)
    return tuple(values)
