from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from redis.asyncio import Redis

from server.backends import open_store
from server.backends.command_log import CommandLog
from server.backends.memory_log import MemoryCommandLog
from server.backends.store import Store


@asynccontextmanager
async def fresh_store(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Store]:
    """A store of ``kind`` on fresh, private storage, closed (and its keys deleted) after."""
    if kind == "sqlite":
        opened = await open_store(f"sqlite:///{tmp_path / 'plenaria.db'}")
        try:
            yield opened
        finally:
            await opened.close()
        return
    # One server for the run; each test gets its own key prefix, so tests never see each
    # other's data, and its keys are deleted afterwards.
    server_url: str = request.getfixturevalue("redis_server_url")
    prefix = f"test-{uuid.uuid4().hex}:"
    opened = await open_store(f"{server_url}/0?prefix={prefix}")
    try:
        yield opened
    finally:
        await opened.close()
        cleaner = Redis.from_url(f"{server_url}/0")
        try:
            keys = [key async for key in cleaner.scan_iter(match=f"{prefix}*")]
            if keys:
                await cleaner.delete(*keys)
        finally:
            await cleaner.aclose()


@pytest.fixture(params=["sqlite", "redis"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """Every backend the Store protocol has, each test on fresh, private storage."""
    async with fresh_store(request.param, request, tmp_path) as opened:
        yield opened


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def command_log(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[CommandLog]:
    """Every CommandLog: the stores', and the in-memory one unit tests fold through."""
    if request.param == "memory":
        yield MemoryCommandLog()
        return
    async with fresh_store(request.param, request, tmp_path) as opened:
        yield opened
