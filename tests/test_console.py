"""The console adapter: a piped session answers each line and ends with the input."""

from __future__ import annotations

import io

import pytest

from adapters.console.adapter import CONSOLE_CHANNEL, PROMPT, ConsoleAdapter
from bot.chat.replies import info
from briefbot.app import Application
from briefbot.settings import Config


async def session(config: Config, text: str) -> tuple[str, ConsoleAdapter]:
    app = Application(config, platforms=())
    app.load()
    app.library.settle(60)  # actors and timeline, derived in the background
    out = io.StringIO()
    console = ConsoleAdapter(app.registry, stdin=io.StringIO(text), stdout=out, interactive=False)
    await console.start()
    await console.done.wait()
    await console.stop()
    return out.getvalue(), console


async def test_each_line_is_answered_with_its_source(config: Config) -> None:
    out, _ = await session(config, "Qui est Molly Phee ?\nCombien a coûté la base de drones ?\n")
    assert "Molly Phee" in out and "DES CONDITIONS STRICTES" in out
    assert "100 millions de dollars" in out


async def test_help_lists_the_commands(config: Config) -> None:
    out, _ = await session(config, "/help\n")
    for command in ("/ask", "/actor", "/actors", "/briefing", "/timeline"):
        assert command in out


async def test_unknown_command_suggests_the_closest(config: Config) -> None:
    out, _ = await session(config, "/actr Tiani\n")
    assert "Commande inconnue" in out and "/actor" in out


async def test_quit_ends_the_session_before_later_lines(config: Config) -> None:
    out, _ = await session(config, "/quit\nQui est Molly Phee ?\n")
    assert out == ""


async def test_empty_ask_gets_a_clear_message(config: Config) -> None:
    out, _ = await session(config, "/ask\n")
    assert "La question est vide" in out


@pytest.mark.parametrize("question", ["x" * 1001])
async def test_huge_question_is_refused_politely(config: Config, question: str) -> None:
    out, _ = await session(config, question + "\n")
    assert "trop longue" in out and "Traceback" not in out


async def test_console_is_not_rate_limited(config: Config) -> None:
    limit = config.core.rate_limit_per_minute
    out, _ = await session(config, "Qui est Molly Phee ?\n" * (limit + 2))
    assert out.count("Molly Phee, accompagnée") == limit + 2


async def test_a_briefing_in_a_terminal_redraws_the_prompt(config: Config) -> None:
    app = Application(config, platforms=())
    out = io.StringIO()
    console = ConsoleAdapter(app.registry, stdin=io.StringIO(""), stdout=out, interactive=True)
    await console.publish(CONSOLE_CHANNEL, info("Briefing du jour", "Deux nouveaux articles."))
    assert "Deux nouveaux articles." in out.getvalue()
    assert out.getvalue().endswith(PROMPT)


async def test_help_lists_quit_and_aide_works(config: Config) -> None:
    out, _ = await session(config, "aide\n")
    assert "/quit" in out and "/actor" in out


async def test_a_question_after_mentions_is_answered(config: Config) -> None:
    out, _ = await session(config, "@everyone <@&123> <@456> @here Qui est Molly Phee ?\n")
    assert "Molly Phee" in out and "ne répondent pas" not in out
