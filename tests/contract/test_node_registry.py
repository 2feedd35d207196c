"""The media node registry: the same behaviour in memory and in a real Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from server.media.placement import NodeLoad, NodeRecord
from server.media.registry import (
    TIME_TO_LIVE_SECONDS,
    MemoryNodeRegistry,
    NodeRegistry,
    RedisNodeRegistry,
    RegistryUnavailableError,
    SqliteNodeRegistry,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def registry(
    request: pytest.FixtureRequest, clock: Clock, tmp_path: Path
) -> AsyncIterator[NodeRegistry]:
    if request.param == "memory":
        yield MemoryNodeRegistry(clock)
        return
    if request.param == "sqlite":
        in_file = SqliteNodeRegistry(tmp_path / "plenaria.db", clock)
        yield in_file
        await in_file.close()
        return
    server_url: str = request.getfixturevalue("redis_server_url")
    prefix = f"test-{uuid.uuid4().hex}:"
    opened = RedisNodeRegistry(f"{server_url}/0?prefix={prefix}", clock)
    try:
        yield opened
    finally:
        await opened.close()
        cleaner = Redis.from_url(f"{server_url}/0")
        keys = [key async for key in cleaner.scan_iter(match=f"{prefix}*")]
        if keys:
            await cleaner.delete(*keys)
        await cleaner.aclose()


def record(node_id: str, viewers: int = 0) -> NodeRecord:
    return NodeRecord(node_id, f"http://{node_id}:8080", NodeLoad(viewers=viewers))


async def test_nodes_are_alive_while_they_beat(registry: NodeRegistry, clock: Clock) -> None:
    assert await registry.alive() == []
    await registry.beat(record("b"))
    await registry.beat(record("a"))
    assert [n.id for n in await registry.alive()] == ["a", "b"]
    await registry.beat(record("a", viewers=7))
    assert [n.load.viewers for n in await registry.alive()] == [7, 0]


async def test_a_node_that_stops_beating_lapses(registry: NodeRegistry, clock: Clock) -> None:
    await registry.beat(record("a"))
    await registry.beat(record("b"))
    clock.now += TIME_TO_LIVE_SECONDS - 0.5
    await registry.beat(record("b"))
    assert [n.id for n in await registry.alive()] == ["a", "b"]
    clock.now += 0.5
    assert [n.id for n in await registry.alive()] == ["b"]
    clock.now += TIME_TO_LIVE_SECONDS
    assert await registry.alive() == []


async def test_a_node_that_leaves_is_gone_at_once(registry: NodeRegistry) -> None:
    await registry.beat(record("a"))
    await registry.forget("a")
    await registry.forget("never-there")
    assert await registry.alive() == []


async def test_an_unreachable_redis_is_a_typed_error() -> None:
    registry = RedisNodeRegistry("redis://127.0.0.1:1/0")
    with pytest.raises(RegistryUnavailableError):
        await registry.beat(record("a"))
    with pytest.raises(RegistryUnavailableError):
        await registry.alive()
    await registry.close()


async def test_sqlite_nodes_see_each_other_through_the_file(tmp_path: Path, clock: Clock) -> None:
    first = SqliteNodeRegistry(tmp_path / "plenaria.db", clock)
    second = SqliteNodeRegistry(tmp_path / "plenaria.db", clock)
    await first.beat(record("a"))
    await second.beat(record("b"))
    assert [n.id for n in await first.alive()] == ["a", "b"]
    await first.close()
    await second.close()


async def test_an_unusable_sqlite_file_is_a_typed_error(tmp_path: Path) -> None:
    (tmp_path / "plenaria.db").write_bytes(b"not a database" * 100)
    registry = SqliteNodeRegistry(tmp_path / "plenaria.db")
    with pytest.raises(RegistryUnavailableError):
        await registry.beat(record("a"))
    await registry.close()
