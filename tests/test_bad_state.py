"""Bad state at start: one line on stderr naming the path or setting, exit 2, and `check`
reports it; a damaged database is never modified."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.storage.database import Database
from bot.storage.preflight import MARKER
from briefbot.cli import main
from tests.conftest import ROOT

COMMANDS = ["run", "chat", "digest", "subscriptions", "feedback"]
UNREACHABLE = "postgresql+psycopg://briefbot@127.0.0.1:1/briefbot"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def data_dir() -> Path:
    return Path(os.environ["BRIEFBOT_DATA_DIR"])


def make_database() -> Path:
    """A real database in the data directory, created the way the bot creates it."""
    folder = data_dir()
    Database(f"sqlite:///{folder / 'briefbot.db'}", marker_dir=folder).close()
    return folder / "briefbot.db"


def data_dir_is_a_file(tmp_path: Path) -> str:
    data_dir().write_text("not a folder")
    return str(data_dir())


def data_dir_under_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "plain").write_text("x")
    monkeypatch.setenv("BRIEFBOT_DATA_DIR", str(tmp_path / "plain" / "data"))
    return str(tmp_path / "plain" / "data")


def not_sqlite(tmp_path: Path) -> str:
    data_dir().mkdir()
    (data_dir() / "briefbot.db").write_text("hello, this is not a database\n" * 10)
    return str(data_dir() / "briefbot.db")


def truncated(tmp_path: Path) -> str:
    path = make_database()
    content = path.read_bytes()
    path.write_bytes(content[: len(content) // 2])
    return str(path)


def corrupt_pages(tmp_path: Path) -> str:
    path = make_database()
    content = bytearray(path.read_bytes())
    content[4096 + 8 : 4096 + 200] = b"\xff" * 192  # the second page's header and cells
    path.write_bytes(bytes(content))
    return str(path)


def emptied(tmp_path: Path) -> str:
    path = make_database()
    path.write_bytes(b"")
    return str(path)


def vanished(tmp_path: Path) -> str:
    path = make_database()
    path.unlink()
    return str(path)


def unreachable_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("BRIEFBOT_DATABASE_URL", UNREACHABLE)
    return "BRIEFBOT_DATABASE_URL"


BAD_STATES: dict[str, Callable[..., str]] = {
    "data dir is a file": data_dir_is_a_file,
    "data dir under a file": data_dir_under_a_file,
    "not a SQLite file": not_sqlite,
    "truncated database": truncated,
    "corrupt pages": corrupt_pages,
    "0-byte database that existed": emptied,
    "missing database that existed": vanished,
    "unreachable PostgreSQL": unreachable_server,
}


def arrange(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    arranger = BAD_STATES[name]
    if arranger in (data_dir_under_a_file, unreachable_server):
        return arranger(tmp_path, monkeypatch)
    return arranger(tmp_path)


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("state", list(BAD_STATES))
def test_bad_state_is_one_line_naming_what_to_fix_and_status_2(
    command: str,
    state: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    where = arrange(state, tmp_path, monkeypatch)
    code, _, err = run([command], capsys)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("briefbot: error: database: ")
    assert where in err


@pytest.mark.parametrize("state", list(BAD_STATES))
def test_check_reports_each_bad_state(
    state: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    where = arrange(state, tmp_path, monkeypatch)
    code, out, _ = run(["check"], capsys)
    assert code == 1
    assert any(line.startswith("problem: ") and where in line for line in out.splitlines())


@pytest.mark.parametrize("state", ["not a SQLite file", "truncated database", "corrupt pages"])
def test_a_damaged_database_is_left_untouched(
    state: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = Path(arrange(state, tmp_path, monkeypatch))
    before = path.read_bytes()
    run(["subscriptions"], capsys)
    run(["check"], capsys)
    assert path.read_bytes() == before


def test_a_new_database_is_recorded_and_opens_again(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["subscriptions"], capsys)[0] == 0
    assert str((data_dir() / "briefbot.db").resolve()) in (data_dir() / MARKER).read_text()
    assert run(["subscriptions"], capsys)[0] == 0


def test_a_0_byte_database_never_recorded_starts_empty(capsys: pytest.CaptureFixture[str]) -> None:
    data_dir().mkdir()
    (data_dir() / "briefbot.db").write_bytes(b"")
    assert run(["subscriptions"], capsys)[0] == 0


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through any permission")
def test_an_unwritable_data_dir_is_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    data_dir().mkdir()
    data_dir().chmod(0o500)
    try:
        code, _, err = run(["subscriptions"], capsys)
        assert code == 2 and "not writable" in err and str(data_dir()) in err
    finally:
        data_dir().chmod(0o700)


def test_a_full_disk_at_start_is_one_line(tmp_path: Path) -> None:
    """The file size limit makes every write past 1 KiB fail as on a full disk."""
    script = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))\n"
        "from briefbot.cli import main\n"
        "sys.exit(main(['subscriptions']))\n"
    )
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, env=env
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "is full" in proc.stderr
    assert os.environ["BRIEFBOT_DATA_DIR"] in proc.stderr


def test_a_database_the_bot_created_passes_the_integrity_check() -> None:
    path = make_database()
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA quick_check").fetchone() == ("ok",)
