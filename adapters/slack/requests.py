"""What the HTTP endpoint checks before slack-bolt sees a request, and the bounded memory
of deliveries already handled.

Measured: a non-numeric timestamp header, a non-UTF-8 body, a `payload` that is not a
JSON object, an invalid JSON body or a string `event` each made bolt raise, answering 500
with a traceback in the log (several before the signature check). These are refused here
with 400 and a short reason. Slack retries an event it thinks unanswered (the
`X-Slack-Retry-Num` header, the same `event_id`): one mention resent three times got four
replies, so deliveries are remembered by id for a while.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any


class BadRequest(Exception):
    """The request cannot be a Slack request; the message is short and holds none of it."""


def checked_body(headers: Mapping[str, str], body: bytes) -> str:
    """The body as text, once its shape is one bolt can read; BadRequest otherwise. The
    JSON-or-form choice is bolt's own (a JSON content type or a body starting with `{`)."""
    timestamp = headers.get("X-Slack-Request-Timestamp")
    if timestamp is not None and not timestamp.strip().isdigit():
        raise BadRequest("X-Slack-Request-Timestamp is not a number")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the body is not UTF-8") from None
    content_type = headers.get("Content-Type", "")
    if content_type.startswith("application/json") or text.startswith("{"):
        envelope = _json_object(text, "the body")
        if "event" in envelope and not isinstance(envelope["event"], dict):
            raise BadRequest("`event` is not a JSON object")
    else:
        fields = urllib.parse.parse_qs(text)
        if "payload" in fields:
            _json_object(fields["payload"][0], "`payload`")
    return text


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        raise BadRequest(f"{what} is not valid JSON") from None
    if not isinstance(value, dict):
        raise BadRequest(f"{what} is not a JSON object")
    return value


class RecentKeys:
    """Remembers keys for `ttl` seconds, at most `capacity` of them (oldest dropped
    first). Slack retries within about five minutes, so the default keeps ten."""

    def __init__(
        self,
        ttl: float = 600.0,
        capacity: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.capacity = capacity
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()

    def first_time(self, key: str) -> bool:
        """True the first time `key` is offered within `ttl`, False for a repeat."""
        now = self._clock()
        seen_at = self._seen.pop(key, None)
        if seen_at is not None and now - seen_at < self.ttl:
            self._seen[key] = seen_at
            return False
        while self._seen:
            oldest, seen_at = next(iter(self._seen.items()))
            if now - seen_at < self.ttl and len(self._seen) < self.capacity:
                break
            del self._seen[oldest]
        self._seen[key] = now
        return True
