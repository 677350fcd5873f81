"""Prometheus export of the core's telemetry, on a registry of its own.

A private `CollectorRegistry` (not prometheus-client's global one) keeps `/metrics` to
briefbot's own series and lets tests build as many instances as they like. Labelled series
for the configured platforms and every outcome exist from the start at zero, so `rate()` and
alerts work before the first event.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder

from bot.chat.telemetry import (
    BRIEFING_OUTCOMES,
    QUESTION_OUTCOMES,
    BriefingOutcome,
    QuestionOutcome,
)

ANSWER_SECONDS_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass(frozen=True)
class Exposition:
    """A rendered scrape: the body and the content type that describes its format."""

    body: bytes
    content_type: str


class PrometheusTelemetry:
    """The `bot.chat.telemetry.Telemetry` seam, recorded as `briefbot_*` Prometheus series.

    `platforms` pre-creates per-platform series; `clock` (seconds, like `time.time`) is
    injected so the rescan age is testable. Unknown outcomes raise `ValueError`: a typo
    must not create a new series silently.
    """

    def __init__(
        self,
        platforms: Iterable[str] = (),
        *,
        registry: CollectorRegistry | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        self._clock = clock
        self._lock = threading.Lock()
        self._last_rescan = clock()
        self._connection: dict[str, bool] = {}
        r = self.registry
        self._questions = Counter(
            "briefbot_questions",
            "Questions handled, by platform and outcome (answered, declined, error).",
            ["platform", "outcome"],
            registry=r,
        )
        self._answer_seconds = Histogram(
            "briefbot_answer_seconds",
            "Time from receiving a question to having its reply, by platform.",
            ["platform"],
            buckets=ANSWER_SECONDS_BUCKETS,
            registry=r,
        )
        self._actor_lookups = Counter(
            "briefbot_actor_lookups", "Actor look-ups, by platform.", ["platform"], registry=r
        )
        self._briefings = Counter(
            "briefbot_briefings",
            "Scheduled briefing slots, by outcome (sent, late, skipped, failed, paused).",
            ["outcome"],
            registry=r,
        )
        self._rate_limited = Counter(
            "briefbot_rate_limited",
            "Requests refused by the per-person rate limit, by platform.",
            ["platform"],
            registry=r,
        )
        self._subscriptions = Gauge(
            "briefbot_subscriptions", "Scheduled briefing subscriptions.", registry=r
        )
        self._articles = Gauge(
            "briefbot_articles", "Articles in the loaded corpus snapshot.", registry=r
        )
        self._index_build = Gauge(
            "briefbot_index_build_seconds", "Duration of the last search index build.", registry=r
        )
        rescan_age = Gauge(
            "briefbot_rescan_age_seconds",
            "Seconds since the last successful corpus rescan (since start when none yet).",
            registry=r,
        )
        rescan_age.set_function(self._rescan_age)
        self._connected = Gauge(
            "briefbot_adapter_connected",
            "1 while the platform connection is up, 0 otherwise.",
            ["platform"],
            registry=r,
        )
        for outcome in BRIEFING_OUTCOMES:
            self._briefings.labels(outcome=outcome)
        for platform in platforms:
            self._declare_platform(platform)

    def _declare_platform(self, platform: str) -> None:
        for outcome in QUESTION_OUTCOMES:
            self._questions.labels(platform=platform, outcome=outcome)
        self._answer_seconds.labels(platform=platform)
        self._actor_lookups.labels(platform=platform)
        self._rate_limited.labels(platform=platform)
        self._connected.labels(platform=platform).set(0)

    def _rescan_age(self) -> float:
        with self._lock:
            last = self._last_rescan
        return max(0.0, self._clock() - last)

    # -- the Telemetry seam ------------------------------------------------------------

    def question(self, platform: str, outcome: QuestionOutcome, seconds: float) -> None:
        if outcome not in QUESTION_OUTCOMES:
            raise ValueError(f"unknown question outcome {outcome!r}")
        self._questions.labels(platform=platform, outcome=outcome).inc()
        latency = self._answer_seconds.labels(platform=platform)
        if math.isfinite(seconds) and seconds >= 0:  # a broken clock must not skew the sum
            latency.observe(seconds)

    def actor_lookup(self, platform: str) -> None:
        self._actor_lookups.labels(platform=platform).inc()

    def briefing(self, outcome: BriefingOutcome) -> None:
        if outcome not in BRIEFING_OUTCOMES:
            raise ValueError(f"unknown briefing outcome {outcome!r}")
        self._briefings.labels(outcome=outcome).inc()

    def rate_limited(self, platform: str) -> None:
        self._rate_limited.labels(platform=platform).inc()

    def subscriptions(self, count: int) -> None:
        self._subscriptions.set(count)

    def articles(self, count: int) -> None:
        self._articles.set(count)

    def index_build_seconds(self, seconds: float) -> None:
        self._index_build.set(seconds)

    def rescan_succeeded(self) -> None:
        now = self._clock()
        with self._lock:
            self._last_rescan = now

    def adapter_connected(self, platform: str, connected: bool) -> None:
        with self._lock:
            self._connection[platform] = connected
        self._connected.labels(platform=platform).set(1 if connected else 0)

    def is_connected(self, platform: str) -> bool:
        """The last reported state (False before any report): a `/ready` probe for the
        platform can read it, so readiness and the gauge never disagree."""
        with self._lock:
            return self._connection.get(platform, False)

    # -- export ------------------------------------------------------------------------

    def render(self, accept: str = "") -> Exposition:
        """The registry in the format the scraper's `Accept` header asks for.

        Prometheus text format 0.0.4 by default; OpenMetrics when the header prefers it.
        """
        encoder, content_type = choose_encoder(accept)
        return Exposition(encoder(self.registry), content_type)
