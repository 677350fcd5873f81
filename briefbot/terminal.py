"""Progress bars for the command line, on a terminal only: a pipe or `--json` gets none,
so scripts read clean output."""

from __future__ import annotations

import sys
import threading
import time
from typing import TYPE_CHECKING, TextIO

from bot.corpus.progress import Progress, ProgressFactory, no_progress

if TYPE_CHECKING:
    from rich.progress import TaskID

SHOW_AFTER = 2.0  # seconds: quick work stays quiet


def shows_progress(stream: TextIO, *, json_output: bool) -> bool:
    """A bar only for a person watching a terminal."""
    isatty = getattr(stream, "isatty", None)
    return not json_output and callable(isatty) and bool(isatty())


class TerminalProgress:
    """One rich bar per task (search index, actor discovery, embeddings), drawn on
    `stream` once a task has run for `SHOW_AFTER` seconds and removed when it ends."""

    def __init__(self, stream: TextIO | None = None) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        self._bars = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=Console(file=stream or sys.stderr),
            transient=True,
        )
        self._lock = threading.Lock()
        self._shown = 0

    def __call__(self, task: str) -> Progress:
        started = time.monotonic()
        task_id: list[TaskID] = []

        def report(done: int, total: int) -> None:
            with self._lock:
                if not task_id:
                    if done >= total or time.monotonic() - started < SHOW_AFTER:
                        return
                    if self._shown == 0:
                        self._bars.start()
                    self._shown += 1
                    task_id.append(self._bars.add_task(task, total=total))
                self._bars.update(task_id[0], completed=done, total=total)
                if done >= total:
                    self._bars.remove_task(task_id[0])
                    task_id.clear()
                    self._shown -= 1
                    if self._shown == 0:
                        self._bars.stop()

        return report


def progress_for(stream: TextIO, *, json_output: bool) -> ProgressFactory:
    """Bars on a terminal, silence elsewhere (the logs still say how far work is)."""
    if shows_progress(stream, json_output=json_output):
        return TerminalProgress(stream)
    return lambda _task: no_progress
