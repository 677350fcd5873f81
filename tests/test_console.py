"""The console adapter: a piped session answers each line and ends with the input."""

from __future__ import annotations

import io

import pytest

from adapters.console.adapter import ConsoleAdapter
from bot.settings import Settings
from briefbot.app import Application


async def session(settings: Settings, text: str) -> tuple[str, ConsoleAdapter]:
    app = Application(settings, platforms=())
    app.load_core()
    out = io.StringIO()
    console = ConsoleAdapter(
        app.commands, settings, stdin=io.StringIO(text), stdout=out, interactive=False
    )
    await console.start()
    await console.done.wait()
    await console.stop()
    return out.getvalue(), console


async def test_each_line_is_answered_with_its_source(settings: Settings) -> None:
    out, _ = await session(settings, "Qui est Molly Phee ?\nCombien a coûté la base de drones ?\n")
    assert "Molly Phee" in out and "DES CONDITIONS STRICTES" in out
    assert "100 millions de dollars" in out


async def test_help_lists_the_commands(settings: Settings) -> None:
    out, _ = await session(settings, "/help\n")
    for command in ("/ask", "/actor", "/actors", "/briefing", "/timeline"):
        assert command in out


async def test_unknown_command_suggests_the_closest(settings: Settings) -> None:
    out, _ = await session(settings, "/actr Tiani\n")
    assert "Commande inconnue" in out and "/actor" in out


async def test_quit_ends_the_session_before_later_lines(settings: Settings) -> None:
    out, console = await session(settings, "/quit\nQui est Molly Phee ?\n")
    assert "Molly Phee" not in out
    assert console.done.is_set()


async def test_empty_ask_gets_a_clear_message(settings: Settings) -> None:
    out, _ = await session(settings, "/ask\n")
    assert "La question est vide" in out


@pytest.mark.parametrize("question", ["x" * 1001])
async def test_huge_question_is_refused_politely(settings: Settings, question: str) -> None:
    out, _ = await session(settings, question + "\n")
    assert "trop longue" in out and "Traceback" not in out


async def test_console_is_not_rate_limited(settings: Settings) -> None:
    lines = "Qui est Molly Phee ?\n" * (settings.rate_limit_per_minute + 2)
    out, _ = await session(settings, lines)
    assert out.count("Molly Phee, accompagnée") == settings.rate_limit_per_minute + 2
