"""The console adapter: a terminal chat session, or a line-by-line filter when piped."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from adapters.base import Adapter
from bot.chat.context import ChannelRef, CommandContext
from bot.chat.publishing import Accepted
from bot.chat.registry import Registry
from bot.chat.replies import Reply, ReplyKind
from bot.chat.telemetry import NULL_TELEMETRY, Telemetry

log = logging.getLogger(__name__)

CONSOLE_CHANNEL = ChannelRef("console", "local", "console")
PROMPT = "vous> "
BANNER = (
    "briefbot — posez une question sur les articles ({n} chargés). "
    "/help pour l'aide, /quit pour sortir."
)
QUIT = {"/quit", "/exit", "/q", "quit", "exit"}


class ConsoleAdapter(Adapter):
    """Reads questions from stdin and prints replies; scheduled briefings print here too.

    `history` is where an interactive session keeps its readline history;
    `article_count` tells the banner how many articles are loaded. The console is connected
    from `start` to `stop`: there is no platform connection to lose."""

    platform = "console"

    def __init__(
        self,
        registry: Registry,
        *,
        history: Path | None = None,
        article_count: Callable[[], int] = lambda: 0,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        interactive: bool | None = None,
        telemetry: Telemetry = NULL_TELEMETRY,
    ) -> None:
        super().__init__(telemetry)
        self.registry = registry
        self.history_file = history
        self.article_count = article_count
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.interactive = self.stdin.isatty() if interactive is None else interactive
        self.context = CommandContext(CONSOLE_CHANNEL, user_id="local", user_name="console")
        self._task: asyncio.Task[None] | None = None
        self._history: Path | None = None

    async def start(self) -> None:
        if self.interactive:
            self._setup_readline()
            self._print(BANNER.format(n=self.article_count()))
        self._task = asyncio.create_task(self._loop(), name="console")
        self.report_connected(True)

    async def stop(self) -> None:
        self.report_connected(False)
        if self._task and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._save_history()

    async def publish(
        self,
        channel: ChannelRef,
        reply: Reply,
        *,
        key: str = "",
        skip: int = 0,
        check: bool = False,
        accepted: Accepted | None = None,
    ) -> int:
        """One message: the whole reply, printed (nothing to resume on a terminal)."""
        if skip < 1:
            self._print(self.render(reply))
            if accepted is not None:
                await accepted(1)
        return 1

    async def notify_paused(self, channel: ChannelRef, reason: str) -> None:
        self._print(f"(briefings en pause : {reason})")

    def render(self, reply: Reply) -> str:
        text = reply.plain_text()
        if self.interactive and reply.kind in (ReplyKind.ANSWER, ReplyKind.NO_ANSWER):
            # The question is the title; on a terminal it is already on screen.
            text = text.removeprefix(reply.title).lstrip("\n")
        return text

    async def handle_line(self, line: str) -> Reply:
        return await self.registry.dispatch(self.context, line)

    async def _loop(self) -> None:
        try:
            while True:
                line = await asyncio.to_thread(self._read_line)
                if line is None or line.strip().lower() in QUIT:
                    break
                if not line.strip():
                    continue
                reply = await self.handle_line(line)
                self._print(self.render(reply))
                if not self.interactive:
                    self._print("")
        except UnicodeDecodeError:
            print("briefbot: error: input is not valid UTF-8", file=sys.stderr)
            self.exit_code = 2
        finally:
            self.done.set()

    def _read_line(self) -> str | None:
        if self.interactive:
            try:
                return input(PROMPT)
            except EOFError:
                return None
        line = self.stdin.readline()
        return line if line else None

    def _print(self, text: str) -> None:
        print(text, file=self.stdout, flush=True)

    def _setup_readline(self) -> None:
        try:
            import readline
        except ImportError:  # not on every platform; the session works without history
            return
        if self.history_file is None:
            return
        self._history = self.history_file
        with contextlib.suppress(OSError):
            readline.read_history_file(self._history)
        readline.set_history_length(1000)

    def _save_history(self) -> None:
        if self._history is None:
            return
        import readline

        with contextlib.suppress(OSError):
            self._history.parent.mkdir(parents=True, exist_ok=True)
            readline.write_history_file(self._history)
