"""The console adapter: a terminal chat session, or a line-by-line filter when piped.

Input is read by a daemon thread, so Ctrl-C stops the session at once (with the executor
of `asyncio.to_thread`, the process waited for the next Enter and exited 0); the terminal
settings are restored on the way out. In a terminal the log goes to a file, named in the
banner, instead of into the conversation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

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
LOG_NOTE = "Journal : {path}"
QUIT = {"/quit", "/exit", "/q", "quit", "exit"}


class ConsoleAdapter(Adapter):
    """Reads questions from stdin and prints replies; scheduled briefings print here too.

    `history` is where an interactive session keeps its readline history; `log_file` is
    where its log goes while it runs; `article_count` tells the banner how many articles
    are loaded. The console is connected from `start` to `stop`: there is no platform
    connection to lose."""

    platform = "console"

    def __init__(
        self,
        registry: Registry,
        *,
        history: Path | None = None,
        log_file: Path | None = None,
        article_count: Callable[[], int] = lambda: 0,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        interactive: bool | None = None,
        telemetry: Telemetry = NULL_TELEMETRY,
    ) -> None:
        super().__init__(telemetry)
        self.registry = registry
        self.history_file = history
        self.log_file = log_file
        self.article_count = article_count
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.interactive = self.stdin.isatty() if interactive is None else interactive
        self.context = CommandContext(CONSOLE_CHANNEL, user_id="local", user_name="console")
        self._task: asyncio.Task[None] | None = None
        self._history: Path | None = None
        self._terminal: list[Any] | None = None
        self._log_moves: list[tuple[logging.Handler, logging.Handler]] = []

    async def start(self) -> None:
        if self.interactive:
            self._save_terminal()
            self._setup_readline()
            self._print(BANNER.format(n=self.article_count()))
            if self._log_to_file():
                self._print(LOG_NOTE.format(path=self.log_file))
        self._task = asyncio.create_task(self._loop(), name="console")
        self.report_connected(True)

    async def stop(self) -> None:
        self.report_connected(False)
        if self._task and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._save_history()
        self._restore_terminal()
        self._restore_logging()

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
        """One message: the whole reply, printed (nothing to resume on a terminal). On a
        terminal it goes below the prompt's line and the prompt is drawn again with what
        was typed so far."""
        if skip < 1:
            if self.interactive:
                self._print("\n" + self.render(reply))
                self.stdout.write(PROMPT + _typed_so_far())
                self.stdout.flush()
            else:
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
                line = await self._next_line()
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

    async def _next_line(self) -> str | None:
        """One line from a daemon thread: a pending read never holds the process up."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str | None] = loop.create_future()

        def read() -> None:
            try:
                result: str | None = self._read_line()
            except BaseException as err:  # handed to the loop, which re-raises it
                loop.call_soon_threadsafe(_settle, future, None, err)
            else:
                loop.call_soon_threadsafe(_settle, future, result, None)

        threading.Thread(target=read, name="console-input", daemon=True).start()
        return await future

    def _read_line(self) -> str | None:
        """A line, or None at the end of input; UnicodeDecodeError when it is not UTF-8."""
        if self.interactive:
            try:
                return input(PROMPT)
            except EOFError:  # Ctrl-D: end the prompt's line so the shell's starts clean
                self._print("")
                return None
        buffer = getattr(self.stdin, "buffer", None)
        if buffer is not None:  # strict decoding, whatever the locale's error handler
            raw = buffer.readline()
            return raw.decode("utf-8") if raw else None
        line = self.stdin.readline()
        return line if line else None

    def _log_to_file(self) -> bool:
        """Send the terminal's log handlers to `log_file` until `stop`."""
        if self.log_file is None:
            return False
        root = logging.getLogger()
        streams = (sys.stderr, sys.stdout)
        handlers = [
            h
            for h in root.handlers
            if isinstance(h, logging.StreamHandler)
            and not isinstance(h, logging.FileHandler)
            and getattr(h, "stream", None) in streams
        ]
        try:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            for handler in handlers:
                replacement = logging.FileHandler(self.log_file, encoding="utf-8")
                replacement.setLevel(handler.level)
                replacement.setFormatter(handler.formatter)
                root.removeHandler(handler)
                root.addHandler(replacement)
                self._log_moves.append((handler, replacement))
        except OSError as err:
            log.warning("console log stays on the terminal: %s", err)
            self._restore_logging()
            return False
        return True

    def _restore_logging(self) -> None:
        root = logging.getLogger()
        for original, replacement in self._log_moves:
            root.removeHandler(replacement)
            replacement.close()
            root.addHandler(original)
        self._log_moves = []

    def _save_terminal(self) -> None:
        with contextlib.suppress(ImportError, OSError, ValueError):
            import termios

            self._terminal = termios.tcgetattr(self.stdin.fileno())

    def _restore_terminal(self) -> None:
        """A read cut short by Ctrl-C leaves readline's terminal modes behind."""
        if self._terminal is None:
            return
        with contextlib.suppress(ImportError, OSError, ValueError):
            import termios

            termios.tcsetattr(self.stdin.fileno(), termios.TCSADRAIN, self._terminal)

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


def _typed_so_far() -> str:
    try:
        import readline
    except ImportError:
        return ""
    return readline.get_line_buffer()


def _settle(
    future: asyncio.Future[str | None], result: str | None, err: BaseException | None
) -> None:
    if future.done():
        return
    if err is not None:
        future.set_exception(err)
    else:
        future.set_result(result)
