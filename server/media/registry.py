"""Which media nodes are alive: each node writes its record on a heartbeat, and a node whose
heartbeats stop is forgotten once its record's time to live runs out.

Three implementations of one protocol: :class:`RedisNodeRegistry` for nodes in several
processes or machines (the conference's Redis), :class:`SqliteNodeRegistry` for the media
processes of one machine on the embedded default (a table in the conference's SQLite file),
:class:`MemoryNodeRegistry` for nodes in one process (tests of the layers above).

Redis keys, under the store's prefix:

=====================  ==========  ============================================================
``media:nodes``        hash        node id → its :class:`~server.media.placement.NodeRecord`
                                   (msgspec JSON)
``media:expiry``       sorted set  node id, scored by the Unix time in ms its record lapses
=====================  ==========  ============================================================

A reader drops lapsed nodes from both, so a killed node disappears within its time to live
without anyone cleaning up after it.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol, TypeVar, cast

import msgspec
from redis.asyncio import Redis
from redis.exceptions import RedisError

from server.backends.redis_store import parse_redis_url
from server.media.placement import NodeRecord

HEARTBEAT_SECONDS = 1.0
TIME_TO_LIVE_SECONDS = 3.0
"""A node missing this long (three heartbeats) is dead to the others."""

T = TypeVar("T")

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(NodeRecord).decode


class RegistryUnavailableError(Exception):
    """The registry could not be reached; the node carries on serving what it has."""


class NodeRegistry(Protocol):
    async def beat(self, record: NodeRecord) -> None:
        """Write ``record`` and keep it alive for :data:`TIME_TO_LIVE_SECONDS`."""

    async def alive(self) -> list[NodeRecord]:
        """Every node whose record has not lapsed, by id."""

    async def forget(self, node_id: str) -> None:
        """A node that stops cleanly leaves at once."""

    async def close(self) -> None: ...


class MemoryNodeRegistry:
    """The registry in one process's memory."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._records: dict[str, tuple[NodeRecord, float]] = {}

    async def beat(self, record: NodeRecord) -> None:
        self._records[record.id] = (record, self._clock() + TIME_TO_LIVE_SECONDS)

    async def alive(self) -> list[NodeRecord]:
        now = self._clock()
        for node_id in [i for i, (_, lapses) in self._records.items() if lapses <= now]:
            del self._records[node_id]
        return [record for _, (record, _) in sorted(self._records.items())]

    async def forget(self, node_id: str) -> None:
        self._records.pop(node_id, None)

    async def close(self) -> None:
        self._records.clear()


class RedisNodeRegistry:
    """The registry in the conference's Redis (the store's URL and prefix)."""

    def __init__(self, url: str, clock: Callable[[], float] = time.time) -> None:
        location = parse_redis_url(url)
        self._redis: Redis = Redis.from_url(location.connection_url, socket_timeout=5)
        self._clock = clock
        self._nodes = f"{location.prefix}media:nodes"
        self._expiry = f"{location.prefix}media:expiry"

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    async def beat(self, record: NodeRecord) -> None:
        lapses = self._now_ms() + int(TIME_TO_LIVE_SECONDS * 1000)
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hset(self._nodes, record.id, _encode(record))
                pipe.zadd(self._expiry, {record.id: lapses})
                await pipe.execute()
        except RedisError as error:
            raise RegistryUnavailableError(str(error)) from error

    async def alive(self) -> list[NodeRecord]:
        now = self._now_ms()
        try:
            lapsed = await self._redis.zrangebyscore(self._expiry, "-inf", now)
            if lapsed:
                async with self._redis.pipeline(transaction=True) as pipe:
                    pipe.zrem(self._expiry, *lapsed)
                    pipe.hdel(self._nodes, *lapsed)
                    await pipe.execute()
            ids = cast(
                list[bytes], await self._redis.zrangebyscore(self._expiry, f"({now}", "+inf")
            )
            values = await self._redis.hmget(self._nodes, ids) if ids else []
        except RedisError as error:
            raise RegistryUnavailableError(str(error)) from error
        records = []
        for value in values:
            if value is None:
                continue
            try:
                records.append(_decode(value))
            except msgspec.DecodeError:
                continue  # written by a newer release: not ours to place on
        return sorted(records, key=lambda r: r.id)

    async def forget(self, node_id: str) -> None:
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.zrem(self._expiry, node_id)
                pipe.hdel(self._nodes, node_id)
                await pipe.execute()
        except RedisError as error:
            raise RegistryUnavailableError(str(error)) from error

    async def close(self) -> None:
        await self._redis.aclose()


class SqliteNodeRegistry:
    """The registry in a table of the conference's SQLite file (WAL: the processes of one
    machine read and write it at once)."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        self._path = path
        self._clock = clock
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="node-registry")
        self._connection: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(
                self._path, isolation_level=None, check_same_thread=False, timeout=5
            )
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute(
                "CREATE TABLE IF NOT EXISTS media_nodes"
                " (id TEXT PRIMARY KEY, record BLOB NOT NULL, lapses_ms INTEGER NOT NULL)"
            )
            self._connection = connection
        return self._connection

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        def attempt() -> T:
            return work(self._connect())

        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, attempt)
        except sqlite3.Error as error:
            raise RegistryUnavailableError(str(error)) from error

    async def beat(self, record: NodeRecord) -> None:
        lapses = int((self._clock() + TIME_TO_LIVE_SECONDS) * 1000)
        encoded = _encode(record)
        await self._run(
            lambda c: c.execute(
                "INSERT INTO media_nodes (id, record, lapses_ms) VALUES (?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET record = excluded.record,"
                " lapses_ms = excluded.lapses_ms",
                (record.id, encoded, lapses),
            )
        )

    async def alive(self) -> list[NodeRecord]:
        now = int(self._clock() * 1000)

        def read(connection: sqlite3.Connection) -> list[bytes]:
            connection.execute("DELETE FROM media_nodes WHERE lapses_ms <= ?", (now,))
            rows = connection.execute("SELECT record FROM media_nodes ORDER BY id").fetchall()
            return [bytes(row[0]) for row in rows]

        records = []
        for value in await self._run(read):
            try:
                records.append(_decode(value))
            except msgspec.DecodeError:
                continue
        return records

    async def forget(self, node_id: str) -> None:
        await self._run(lambda c: c.execute("DELETE FROM media_nodes WHERE id = ?", (node_id,)))

    async def close(self) -> None:
        def close() -> None:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

        await asyncio.get_running_loop().run_in_executor(self._executor, close)
        self._executor.shutdown(wait=True)
