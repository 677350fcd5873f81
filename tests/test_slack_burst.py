"""The burst benchmark runs end to end on the fake and reports what it promises."""

from __future__ import annotations

import pytest

from benchmarks.slack_burst import slack_burst


@pytest.mark.slow
def test_a_small_burst_is_fully_acknowledged_and_answered() -> None:
    result = slack_burst(5)
    assert result["n"] == 5
    assert result["acked_200"] == 5
    for key in ("ack_ms", "answer_ms"):
        stats = result[key]
        assert set(stats) == {"p50", "p95", "max"}
        assert 0 < stats["p50"] <= stats["p95"] <= stats["max"]
