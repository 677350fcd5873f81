"""The core's telemetry seam: a no-op default and a recording fake that both fit it."""

from __future__ import annotations

import ast
from pathlib import Path

from bot.chat.telemetry import NULL_TELEMETRY, NullTelemetry, Telemetry
from tests.fakes.telemetry import Event, RecordingTelemetry

BOT = Path(__file__).resolve().parent.parent / "bot"


def _exercise(telemetry: Telemetry) -> None:
    telemetry.question("slack", "answered", 0.2)
    telemetry.actor_lookup("discord")
    telemetry.briefing("late")
    telemetry.rate_limited("slack")
    telemetry.subscriptions(3)
    telemetry.articles(42)
    telemetry.index_build_seconds(1.5)
    telemetry.rescan_succeeded()
    telemetry.adapter_connected("discord", False)


def test_null_telemetry_fits_the_protocol_and_accepts_every_event() -> None:
    assert isinstance(NullTelemetry(), Telemetry)
    _exercise(NULL_TELEMETRY)


def test_recording_fake_fits_the_protocol_and_keeps_calls_in_order() -> None:
    fake = RecordingTelemetry()
    assert isinstance(fake, Telemetry)
    _exercise(fake)
    assert fake.events[0] == Event("question", ("slack", "answered", 0.2))
    assert fake.named("adapter_connected") == [("discord", False)]
    assert len(fake.events) == 9


def test_no_core_module_imports_prometheus_client() -> None:
    offenders = []
    for path in BOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(n.split(".")[0] == "prometheus_client" for n in names):
                offenders.append(str(path.relative_to(BOT)))
    assert offenders == []
