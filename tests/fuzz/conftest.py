from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fuzz.harness import FuzzServer


@pytest.fixture
def fuzz_server(tmp_path: Path) -> Iterator[FuzzServer]:
    """The real app on SQLite, for a synchronous test that feeds it hypothesis' inputs."""
    with FuzzServer(tmp_path) as server:
        yield server
