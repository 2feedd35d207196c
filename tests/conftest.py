from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCHEDULES = Path(
    os.environ.get("PLENARIA_SCHEDULE_FIXTURES", ROOT.parent / "shared" / "fixtures" / "schedules")
)


@pytest.fixture(scope="session")
def schedules_dir() -> Path:
    if not (SCHEDULES / "SOURCES.md").is_file():
        pytest.fail(f"the shared schedule fixtures are missing at {SCHEDULES}")
    return SCHEDULES
