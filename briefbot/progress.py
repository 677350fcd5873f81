"""The progress bar of a one-off command that embeds the corpus before answering.

The core reports progress through a plain `(done, total)` callback; drawing it is the
program's business, and only where a person is watching: a terminal, not a pipe, a log
file or a program reading `--json`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgress

    from bot.ask.embedder import Progress  # numpy: not for every command's start-up


def wants_bar(stream: TextIO, *, as_json: bool) -> bool:
    """True when `stream` is a terminal and the output is not for a program."""
    if as_json:
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):  # closed, or not a real file
        return False


@contextlib.contextmanager
def embedding_bar(stream: TextIO, *, enabled: bool) -> Iterator[Progress | None]:
    """A progress callback drawing a bar on `stream`, or None when not `enabled`.

    The bar appears only once there is something to embed (a warm cache draws nothing)
    and is erased when done, so the answer is the only thing left on the screen. rich is
    imported only then: `briefbot ask` does not pay for it otherwise.
    """
    if not enabled:
        yield None
        return
    bar: RichProgress | None = None
    task = None

    def report(done: int, total: int) -> None:
        nonlocal bar, task
        if bar is None:
            if done >= total:
                return
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            bar = Progress(
                TextColumn("embedding the corpus"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=Console(file=stream),
                transient=True,
            )
            bar.start()
            task = bar.add_task("embedding", total=total)
        assert task is not None
        bar.update(task, completed=done, total=total)

    try:
        yield report
    finally:
        if bar is not None:
            bar.stop()
