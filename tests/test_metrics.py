"""Prometheus export: each telemetry event moves the series an operator alerts on."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.chat.telemetry import BRIEFING_OUTCOMES, QUESTION_OUTCOMES, Telemetry
from briefbot.metrics import PrometheusTelemetry


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _value(t: PrometheusTelemetry, name: str, **labels: str) -> float | None:
    return t.registry.get_sample_value(name, labels)


def test_it_fits_the_core_seam() -> None:
    telemetry: Telemetry = PrometheusTelemetry()
    assert isinstance(telemetry, Telemetry)


def test_questions_count_by_platform_and_outcome() -> None:
    t = PrometheusTelemetry()
    t.question("slack", "answered", 0.1)
    t.question("slack", "answered", 0.2)
    t.question("discord", "declined", 0.1)
    assert _value(t, "briefbot_questions_total", platform="slack", outcome="answered") == 2
    assert _value(t, "briefbot_questions_total", platform="discord", outcome="declined") == 1


def test_answer_latency_lands_in_the_histogram_buckets() -> None:
    t = PrometheusTelemetry()
    t.question("console", "answered", 0.03)
    t.question("console", "error", 4.0)
    assert _value(t, "briefbot_answer_seconds_count", platform="console") == 2
    assert _value(t, "briefbot_answer_seconds_bucket", platform="console", le="0.05") == 1
    assert _value(t, "briefbot_answer_seconds_bucket", platform="console", le="5.0") == 2
    assert _value(t, "briefbot_answer_seconds_sum", platform="console") == pytest.approx(4.03)


def test_a_nonsense_duration_still_counts_the_question_but_not_the_latency() -> None:
    t = PrometheusTelemetry()
    t.question("slack", "answered", float("nan"))
    t.question("slack", "answered", -1.0)
    assert _value(t, "briefbot_questions_total", platform="slack", outcome="answered") == 2
    assert _value(t, "briefbot_answer_seconds_count", platform="slack") == 0


def test_unknown_outcomes_are_refused_rather_than_creating_series() -> None:
    t = PrometheusTelemetry()
    with pytest.raises(ValueError):
        t.question("slack", "maybe", 0.1)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        t.briefing("lost")  # type: ignore[arg-type]


def test_actor_lookups_briefings_and_rate_limits_are_counted() -> None:
    t = PrometheusTelemetry()
    t.actor_lookup("discord")
    t.briefing("sent")
    t.briefing("paused")
    t.briefing("paused")
    t.rate_limited("slack")
    assert _value(t, "briefbot_actor_lookups_total", platform="discord") == 1
    assert _value(t, "briefbot_briefings_total", outcome="sent") == 1
    assert _value(t, "briefbot_briefings_total", outcome="paused") == 2
    assert _value(t, "briefbot_rate_limited_total", platform="slack") == 1


def test_gauges_hold_the_last_value_set() -> None:
    t = PrometheusTelemetry()
    t.subscriptions(4)
    t.subscriptions(3)
    t.articles(120)
    t.index_build_seconds(2.5)
    assert _value(t, "briefbot_subscriptions") == 3
    assert _value(t, "briefbot_articles") == 120
    assert _value(t, "briefbot_index_build_seconds") == 2.5


def test_rescan_age_counts_from_start_then_from_the_last_success() -> None:
    clock = FakeClock(1000.0)
    t = PrometheusTelemetry(clock=clock)
    clock.now = 1030.0
    assert _value(t, "briefbot_rescan_age_seconds") == 30
    t.rescan_succeeded()
    clock.now = 1035.0
    assert _value(t, "briefbot_rescan_age_seconds") == 5


def test_adapter_connection_state_follows_the_last_report() -> None:
    t = PrometheusTelemetry(["slack"])
    assert _value(t, "briefbot_adapter_connected", platform="slack") == 0
    t.adapter_connected("slack", True)
    assert _value(t, "briefbot_adapter_connected", platform="slack") == 1
    t.adapter_connected("slack", False)
    assert _value(t, "briefbot_adapter_connected", platform="slack") == 0


def test_connection_state_is_readable_for_a_readiness_probe() -> None:
    t = PrometheusTelemetry(["discord"])
    assert t.is_connected("discord") is False
    t.adapter_connected("discord", True)
    assert t.is_connected("discord") is True
    assert t.is_connected("slack") is False


def test_configured_platforms_and_every_outcome_exist_at_zero_before_any_event() -> None:
    t = PrometheusTelemetry(["slack", "discord"])
    for platform in ("slack", "discord"):
        for outcome in QUESTION_OUTCOMES:
            assert _value(t, "briefbot_questions_total", platform=platform, outcome=outcome) == 0
        assert _value(t, "briefbot_rate_limited_total", platform=platform) == 0
    for outcome in BRIEFING_OUTCOMES:
        assert _value(t, "briefbot_briefings_total", outcome=outcome) == 0


def test_instances_do_not_share_series() -> None:
    first, second = PrometheusTelemetry(), PrometheusTelemetry()
    first.briefing("sent")
    assert _value(second, "briefbot_briefings_total", outcome="sent") == 0


def test_render_is_prometheus_text_by_default_with_only_briefbot_series() -> None:
    t = PrometheusTelemetry(["console"])
    t.question("console", "answered", 0.1)
    exposition = t.render()
    assert exposition.content_type.startswith("text/plain; version=0.0.4")
    families = list(text_string_to_metric_families(exposition.body.decode()))
    assert families
    assert all(f.name.startswith("briefbot_") for f in families)
    assert "briefbot_questions" in {f.name for f in families}


def test_render_speaks_openmetrics_when_the_scraper_asks_for_it() -> None:
    exposition = PrometheusTelemetry().render("application/openmetrics-text; version=1.0.0")
    assert exposition.content_type.startswith("application/openmetrics-text")
    assert exposition.body.rstrip().endswith(b"# EOF")
