"""A `Telemetry` that remembers every call, for tests of core code that reports events."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.chat.telemetry import BriefingOutcome, QuestionOutcome


@dataclass(frozen=True)
class Event:
    """One call: the method name and its arguments, in order."""

    name: str
    args: tuple[object, ...]


@dataclass
class RecordingTelemetry:
    """Appends an `Event` per call; `named(...)` filters them."""

    events: list[Event] = field(default_factory=list)

    def named(self, name: str) -> list[tuple[object, ...]]:
        return [e.args for e in self.events if e.name == name]

    def _record(self, name: str, *args: object) -> None:
        self.events.append(Event(name, args))

    def question(self, platform: str, outcome: QuestionOutcome, seconds: float) -> None:
        self._record("question", platform, outcome, seconds)

    def actor_lookup(self, platform: str) -> None:
        self._record("actor_lookup", platform)

    def briefing(self, outcome: BriefingOutcome) -> None:
        self._record("briefing", outcome)

    def rate_limited(self, platform: str) -> None:
        self._record("rate_limited", platform)

    def subscriptions(self, count: int) -> None:
        self._record("subscriptions", count)

    def articles(self, count: int) -> None:
        self._record("articles", count)

    def index_build_seconds(self, seconds: float) -> None:
        self._record("index_build_seconds", seconds)

    def rescan_succeeded(self) -> None:
        self._record("rescan_succeeded")

    def adapter_connected(self, platform: str, connected: bool) -> None:
        self._record("adapter_connected", platform, connected)
