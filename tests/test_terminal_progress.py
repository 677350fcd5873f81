"""Progress bars on the command line: drawn for a person at a terminal, never on a pipe
or in JSON output, and only for work that lasts."""

from __future__ import annotations

import io

import pytest

from briefbot import terminal
from briefbot.terminal import TerminalProgress, progress_for, shows_progress


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_bar() -> None:
    assert shows_progress(Tty(), json_output=False)


def test_a_pipe_gets_no_bar() -> None:
    assert not shows_progress(io.StringIO(), json_output=False)


def test_json_output_gets_no_bar_even_on_a_terminal() -> None:
    assert not shows_progress(Tty(), json_output=True)


def test_a_pipe_hears_nothing_of_progress() -> None:
    stream = io.StringIO()
    report = progress_for(stream, json_output=False)("search index")
    for done in range(0, 1001, 100):
        report(done, 1000)
    assert stream.getvalue() == ""


def test_long_work_draws_its_bar_and_names_the_task(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(terminal, "SHOW_AFTER", 0.0)
    stream = Tty()
    report = TerminalProgress(stream)("actor discovery")
    report(10, 100)
    report(100, 100)
    assert "actor discovery" in stream.getvalue()


def test_quick_work_draws_nothing() -> None:
    stream = Tty()
    report = TerminalProgress(stream)("search index")
    report(0, 100)
    report(100, 100)
    assert stream.getvalue() == ""
