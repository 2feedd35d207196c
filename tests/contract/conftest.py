from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from server.backends import open_store
from server.backends.store import Store


@pytest.fixture(params=["sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """Every backend the Store protocol has; the Redis one joins this list."""
    opened = await open_store(f"sqlite:///{tmp_path / 'plenaria.db'}")
    yield opened
    await opened.close()
