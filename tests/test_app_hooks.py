"""The kill test's hooks in the composition root: off unless their variable is set."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from briefbot.app import test_hooks as hooks_from

SLOT = datetime(2024, 1, 8, 7, 0, tzinfo=UTC)


def test_no_hook_is_installed_without_its_variable() -> None:
    assert hooks_from({}) == {}


def test_the_slot_hook_makes_every_subscription_due_every_n_seconds() -> None:
    trigger = hooks_from({"BRIEFBOT_TEST_SLOT_SECONDS": "5"})["trigger_of"](None)
    after = datetime(2024, 1, 8, 7, 0, 1, tzinfo=UTC)
    assert trigger.get_next_fire_time(None, after) == datetime(2024, 1, 8, 7, 0, 5, tzinfo=UTC)


async def test_the_pause_hook_writes_its_marker_and_waits_at_its_point(tmp_path: Path) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    pause = hooks_from(
        {"BRIEFBOT_TEST_PAUSE_AT": "post", "BRIEFBOT_TEST_MARKER_DIR": str(markers)}
    )["checkpoint"]

    await pause("claim", 1, SLOT)  # not a chosen point: passes through
    waiting = asyncio.create_task(pause("post", 1, SLOT))
    while not list(markers.iterdir()):
        await asyncio.sleep(0.01)

    [marker] = markers.iterdir()
    assert marker.name.startswith("post-") and marker.name.endswith("-1-070000")
    assert not waiting.done()
    waiting.cancel()
