from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.redis_server import RedisServer

ROOT = Path(__file__).resolve().parents[1]
SCHEDULES = Path(
    os.environ.get("PLENARIA_SCHEDULE_FIXTURES", ROOT / "tests" / "fixtures" / "schedules")
)
"""Public pretalx / frab exports, copied unaltered from the team's shared fixtures (see
SOURCES.md there), so a fresh clone runs its own tests."""


@pytest.fixture(scope="session")
def schedules_dir() -> Path:
    if not (SCHEDULES / "SOURCES.md").is_file():
        pytest.fail(f"the schedule fixtures are missing at {SCHEDULES}")
    return SCHEDULES


@pytest.fixture(scope="session")
def redis_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server for the whole run (AOF, fsync always); tests isolate by key prefix."""
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server.url
