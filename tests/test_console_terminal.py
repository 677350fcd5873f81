"""`briefbot chat` in a real terminal (a pseudo-terminal) and with undecodable input."""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, SEEDS

PROMPT = b"vous> "
GUARD = 120.0  # a hang fails the test instead of blocking the run; nothing is timed


class Terminal:
    """`briefbot chat` on the slave side of a pty; the test types on the master side."""

    def __init__(self, data_dir: Path) -> None:
        self.master, slave = pty.openpty()
        env = {**os.environ, "BRIEFBOT_DATA_DIR": str(data_dir), "BRIEFBOT_CORPUS": str(SEEDS)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "briefbot", "chat"],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        os.close(slave)
        self.output = b""

    def read_until(self, needle: bytes) -> bytes:
        deadline = time.monotonic() + GUARD
        while needle not in self.output:
            if time.monotonic() > deadline:
                raise AssertionError(f"never saw {needle!r} in {self.output[-500:]!r}")
            try:
                chunk = os.read(self.master, 4096)
            except OSError:  # the child closed the terminal
                break
            self.output += chunk
        return self.output

    def drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 4096)
            except OSError:
                return
            if not chunk:
                return
            self.output += chunk

    def type(self, data: bytes) -> None:
        os.write(self.master, data)

    def wait(self) -> int:
        code = self.proc.wait(timeout=GUARD)
        self.drain()
        return code


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    term = Terminal(tmp_path / "data")
    yield term
    if term.proc.poll() is None:
        term.proc.kill()
        term.proc.wait()
    os.close(term.master)


def test_ctrl_c_at_the_prompt_exits_at_once_with_130(terminal: Terminal) -> None:
    terminal.read_until(PROMPT)
    os.killpg(terminal.proc.pid, signal.SIGINT)  # what the terminal sends on Ctrl-C
    assert terminal.wait() == 130


def test_ctrl_d_ends_the_prompt_line(terminal: Terminal) -> None:
    terminal.read_until(PROMPT)
    terminal.type(b"\x04")
    assert terminal.wait() == 0
    assert terminal.output.endswith(PROMPT + b"\r\n")


def test_logs_go_to_a_file_named_in_the_banner(terminal: Terminal, tmp_path: Path) -> None:
    log_file = tmp_path / "data" / "console.log"
    banner = terminal.read_until(PROMPT)
    assert f"Journal : {log_file}".encode() in banner
    terminal.type(b"/quit\n")
    assert terminal.wait() == 0
    conversation = terminal.output.split(b"Journal : ", 1)[1]
    assert b"INFO" not in conversation
    assert "console adapter started" in log_file.read_text()


def test_non_utf8_stdin_exits_2(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "briefbot", "chat", "--corpus", str(SEEDS)],
        input=b"Qui est \xff\xfe ?\n",
        capture_output=True,
        cwd=tmp_path,
        timeout=GUARD,
    )
    assert proc.returncode == 2
    assert proc.stderr.decode().splitlines()[-1] == "briefbot: error: input is not valid UTF-8"
