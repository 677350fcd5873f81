"""Shared fixtures: the seeds, isolated settings and logging, a private data directory per
test."""

from __future__ import annotations

import logging
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.settings import Settings
from bot.storage.database import Database
from briefbot.logs import NOISY_LOGGERS
from briefbot.settings import Config
from tests.config import make_config

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
DATA = Path(__file__).resolve().parent / "data"

# The SDKs read proxy variables themselves; every fake listens on 127.0.0.1.
_PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")
_PLATFORM_VARS = (
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_API_URL",
    "DISCORD_TOKEN",
    "DISCORD_GUILD_ID",
    "DISCORD_SHARDS",
    "DISCORD_APPLICATION_ID",
    "DISCORD_API_URL",
    "DISCORD_GATEWAY_URL",
)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No developer token, proxy, .env or config file may leak into a test."""
    for name in list(os.environ):
        if name.startswith("BRIEFBOT_") or name in _PLATFORM_VARS or name in _PROXY_VARS:
            monkeypatch.delenv(name, raising=False)
    (tmp_path / "empty.toml").write_text("")
    monkeypatch.setenv("BRIEFBOT_CONFIG_FILE", str(tmp_path / "empty.toml"))
    monkeypatch.setenv("BRIEFBOT_DATA_DIR", str(tmp_path / "data"))


pytest_plugins = ["tests.sources_fixtures"]


@pytest.fixture(autouse=True)
def _background_work_done() -> Iterator[None]:
    """A library derives actors and the timeline in a worker thread, and the program saves
    its index in another: each test waits for its own, so none logs into the next."""
    yield
    for thread in threading.enumerate():
        if thread.name in ("corpus-derivations", "index-save"):
            thread.join(timeout=120)


@pytest.fixture(autouse=True)
def _isolated_logging() -> Iterator[None]:
    """The CLI installs its log handler on the root logger: a test that runs `main()` must
    not leave it, and its level, to the tests after it."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    noisy = {name: logging.getLogger(name).level for name in NOISY_LOGGERS}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, value in noisy.items():
        logging.getLogger(name).setLevel(value)


@pytest.fixture
def seeds() -> Path:
    return SEEDS


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A writable copy of the seeds."""
    folder = tmp_path / "corpus"
    shutil.copytree(SEEDS, folder)
    return folder


@pytest.fixture
def settings(config: Config) -> Settings:
    return config.core


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(corpus=SEEDS, data_dir=tmp_path / "data")


# Set BRIEFBOT_TEST_POSTGRES_URL (postgresql+psycopg://…, a throwaway database: its public
# schema is dropped before each test) to run the database tests on PostgreSQL as well as
# SQLite. `.ci/run` starts such a server when PostgreSQL is installed.
POSTGRES_URL = os.environ.get("BRIEFBOT_TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'briefbot.db'}"
    assert POSTGRES_URL is not None
    engine = create_engine(POSTGRES_URL)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return POSTGRES_URL


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """The bot's database, migrated, on each database the test run covers."""
    database = Database(db_url)
    yield database
    database.close()
