"""What is checked before a database is opened, so bad state at start is one sentence.

Measured: an unwritable, file-typed or full data directory, and a corrupt, truncated or
foreign database file, each ended in a SQLAlchemy traceback of up to 139 lines, and a
0-byte database file silently started as an empty one. Every check here raises
StorageError naming the path and the setting to fix, and never modifies a database file.

The data directory keeps a marker listing the SQLite databases created in it, so a
database that vanished or was emptied is an error, not a fresh start.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import uuid
from pathlib import Path

from bot.storage.errors import StorageError

MARKER = ".briefbot-databases"
SQLITE_MAGIC = b"SQLite format 3\x00"
_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_PROBE_BYTES = 64 * 1024  # enough for SQLite to create its journal on a nearly full disk


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL, None for an in-memory database or another dialect."""
    if not url.startswith("sqlite"):
        return None
    database = url.split(":///", 1)[1] if ":///" in url else ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database.split("?", 1)[0]).expanduser()


def check_folder(folder: Path, setting: str) -> None:
    """Create `folder` if missing and prove it writable, or raise StorageError."""
    if folder.exists() and not folder.is_dir():
        raise StorageError(f"{folder} is a file, not a folder: set {setting} to a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise StorageError(
            f"cannot create the folder {folder} ({_reason(err)}): create it or set {setting} "
            "to a writable folder"
        ) from None
    probe = folder / f".briefbot-probe-{uuid.uuid4().hex}"
    try:
        with probe.open("wb") as out:
            out.write(b"\0" * _PROBE_BYTES)
            out.flush()
            os.fsync(out.fileno())
    except OSError as err:
        if err.errno in _FULL:
            raise StorageError(
                f"the disk holding {folder} is full: free some space ({setting})"
            ) from None
        raise StorageError(
            f"the folder {folder} is not writable ({_reason(err)}): fix its permissions or "
            f"set {setting} to a writable folder"
        ) from None
    finally:
        probe.unlink(missing_ok=True)


def check_sqlite_file(path: Path, marker_dir: Path | None, setting: str) -> None:
    """Refuse a database file that is not SQLite, is damaged, or vanished or was emptied
    although `marker_dir` records it; the file itself is never touched."""
    recorded = marker_dir is not None and _recorded(marker_dir, path)
    marker = (marker_dir or path.parent) / MARKER
    if path.exists() and not path.is_file():
        raise StorageError(f"the database {path} is not a file: move it away or set {setting}")
    if not path.exists() or path.stat().st_size == 0:
        if recorded:
            state = "is missing" if not path.exists() else "is empty (0 bytes)"
            raise StorageError(
                f"the database {path} {state} although {marker} records one: restore it "
                f"from a backup, or delete {marker} to start with an empty database"
            )
        return
    with path.open("rb") as source:
        header = source.read(100)
    if not header.startswith(SQLITE_MAGIC):
        raise StorageError(
            f"{path} is not a SQLite database; it was left untouched: move it away or set "
            f"{setting} to another file"
        )
    if len(header) < 100 or path.stat().st_size < _declared_size(header):
        raise StorageError(_damaged(path, "truncated", setting))
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = connection.execute("PRAGMA quick_check").fetchone()
        finally:
            connection.close()
    except sqlite3.Error as err:
        raise StorageError(_damaged(path, str(err), setting)) from None
    if row is None or row[0] != "ok":
        raise StorageError(_damaged(path, "integrity check failed", setting))


def record(marker_dir: Path, path: Path) -> None:
    """Note in `marker_dir` that the database `path` exists from now on."""
    if _recorded(marker_dir, path):
        return
    try:
        with (marker_dir / MARKER).open("a", encoding="utf-8") as out:
            out.write(f"{path.resolve()}\n")
    except OSError as err:
        raise StorageError(f"cannot write {marker_dir / MARKER} ({_reason(err)})") from None


def describe(error: BaseException, where: str, setting: str) -> StorageError:
    """One line for a driver error met while opening the database at `where`."""
    text = str(getattr(error, "orig", None) or error).strip().splitlines()
    reason = (text[0] if text else type(error).__name__)[:200]
    if "disk is full" in reason:
        return StorageError(f"the disk holding {where} is full: free some space ({setting})")
    if "readonly" in reason or "read-only" in reason:
        return StorageError(f"the database {where} is read-only ({reason}): fix its permissions")
    if "not a database" in reason or "malformed" in reason:
        return StorageError(_damaged(Path(where), reason, setting))
    return StorageError(
        f"cannot open the database {where} ({reason}): check {setting} and that the "
        "database server is running"
    )


def _recorded(marker_dir: Path, path: Path) -> bool:
    try:
        lines = (marker_dir / MARKER).read_text(encoding="utf-8").splitlines()
    except OSError:
        return False
    return str(path.resolve()) in lines


def _declared_size(header: bytes) -> int:
    """The size SQLite's header declares (page size x page count), 0 when not valid."""
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    change_counter, valid_for = header[24:28], header[92:96]
    return page_size * pages if change_counter == valid_for else 0


def _damaged(path: Path, reason: str, setting: str) -> str:
    return (
        f"the database {path} is damaged ({reason}); it was left untouched: restore it from "
        f"a backup, or move it away to start with an empty one ({setting})"
    )


def _reason(err: OSError) -> str:
    return err.strerror or type(err).__name__
