"""The one seam through which the core records operational events.

The core (`bot/`) and the adapters call a `Telemetry` they were given in their
constructor; the program (`briefbot/metrics.py`) exports the events to Prometheus. So no
core module imports prometheus-client, and an object built without telemetry uses
`NullTelemetry`. It lives in the chat contract because the adapters, which may import
nothing else of the core, report their connection state through it.

Every method is cheap, thread-safe in implementations, and never raises for a valid call:
recording an event must not break the reply it describes.
"""

from __future__ import annotations

from typing import Literal, Protocol, runtime_checkable

QuestionOutcome = Literal["answered", "declined", "error"]
BriefingOutcome = Literal["sent", "late", "skipped", "failed", "paused"]

QUESTION_OUTCOMES: tuple[QuestionOutcome, ...] = ("answered", "declined", "error")
BRIEFING_OUTCOMES: tuple[BriefingOutcome, ...] = ("sent", "late", "skipped", "failed", "paused")


@runtime_checkable
class Telemetry(Protocol):
    """Events and levels the core reports. `platform` is "slack", "discord" or "console"."""

    def question(self, platform: str, outcome: QuestionOutcome, seconds: float) -> None:
        """A question was handled in `seconds` (wall time from receipt to reply)."""

    def actor_lookup(self, platform: str) -> None:
        """Someone asked who an actor is."""

    def briefing(self, outcome: BriefingOutcome) -> None:
        """A scheduled briefing slot ended with `outcome`."""

    def rate_limited(self, platform: str) -> None:
        """A request was refused by the per-person rate limit."""

    def subscriptions(self, count: int) -> None:
        """The number of scheduled briefing subscriptions is now `count`."""

    def articles(self, count: int) -> None:
        """The loaded corpus snapshot now holds `count` articles."""

    def index_build_seconds(self, seconds: float) -> None:
        """The last search index build took `seconds`."""

    def rescan_succeeded(self) -> None:
        """A corpus rescan just finished without error."""

    def adapter_connected(self, platform: str, connected: bool) -> None:
        """The platform connection went up (`True`) or down (`False`)."""


class NullTelemetry:
    """Records nothing: the default when no telemetry is wired, e.g. in the CLI and tests."""

    def question(self, platform: str, outcome: QuestionOutcome, seconds: float) -> None:
        return None

    def actor_lookup(self, platform: str) -> None:
        return None

    def briefing(self, outcome: BriefingOutcome) -> None:
        return None

    def rate_limited(self, platform: str) -> None:
        return None

    def subscriptions(self, count: int) -> None:
        return None

    def articles(self, count: int) -> None:
        return None

    def index_build_seconds(self, seconds: float) -> None:
        return None

    def rescan_succeeded(self) -> None:
        return None

    def adapter_connected(self, platform: str, connected: bool) -> None:
        return None


NULL_TELEMETRY: Telemetry = NullTelemetry()
"""A shared no-op instance, safe as a default argument: `telemetry: Telemetry = NULL_TELEMETRY`."""
