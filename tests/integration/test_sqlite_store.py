"""What only the embedded store does: files, migrations, cross-process visibility."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from server.backends import BackendURLError, open_store, sqlite_path
from server.backends.sqlite import MIGRATIONS, SQLiteStore, migrate
from tests.helpers import at, programme, session


def test_sqlite_urls() -> None:
    assert sqlite_path("sqlite:///var/x.db") == Path("var/x.db")
    assert sqlite_path("sqlite:////abs/x.db") == Path("/abs/x.db")
    with pytest.raises(BackendURLError):
        sqlite_path("sqlite://host/x.db")


async def test_unknown_schemes_are_refused() -> None:
    with pytest.raises(BackendURLError, match="unknown"):
        await open_store("mongodb://x")


async def test_open_creates_a_wal_database_at_the_latest_schema(tmp_path: Path) -> None:
    store = await SQLiteStore.open(tmp_path / "sub" / "p.db")
    await store.close()
    connection = sqlite3.connect(tmp_path / "sub" / "p.db")
    assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert connection.execute("PRAGMA user_version").fetchone() == (len(MIGRATIONS),)
    assert migrate(connection) == len(MIGRATIONS)


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    connection = sqlite3.connect(tmp_path / "p.db")
    connection.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(RuntimeError, match="upgrade Plenaria"):
        migrate(connection)


async def test_a_second_store_on_the_same_file_sees_committed_imports(tmp_path: Path) -> None:
    first = await SQLiteStore.open(tmp_path / "p.db")
    second = await SQLiteStore.open(tmp_path / "p.db")
    plan = programme(session("a", at(11, 10)))
    await first.replace_programme(plan, at(11, 8))
    assert await second.load_programme() == plan
    await first.close()
    await second.close()
