"""What only the Redis store does: URLs, several processes on one Redis, Redis crashes.

The Store guarantees themselves are checked for every backend in tests/contract.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from redis.asyncio import Redis

from server.backends import BackendURLError, open_store
from server.backends.log_codec import LogEntry
from server.backends.redis_store import (
    DEFAULT_PREFIX,
    GRANT_TTL_MARGIN,
    WAIT_CONNECTIONS,
    RedisStore,
    RedisUnavailableError,
    parse_redis_url,
)
from server.http.auth import hash_secret
from sessions.programme import Programme
from sessions.qa import Vote
from sessions.roles import LoginGrant, Role
from tests.helpers import at, programme, session
from tests.processes import free_port
from tests.redis_server import RedisServer

NOW = at(11, 8)
T0 = dt.datetime(2026, 5, 11, 10, tzinfo=dt.UTC)


def entry(n: int) -> LogEntry:
    return LogEntry("panel", T0 + dt.timedelta(seconds=n), Vote(f"q{n}", f"p{n}"))


def grant(secret: str) -> LoginGrant:
    return LoginGrant(
        secret_hash=hash_secret(secret),
        role=Role.MODERATOR,
        session_code="a",
        created_at=NOW,
        expires_at=NOW + dt.timedelta(hours=1),
    )


def sample() -> Programme:
    return programme(session("a", at(11, 10)), session("b", at(11, 11)), session("c", at(12, 9)))


async def eventually(check: Callable[[], Awaitable[bool]]) -> None:
    """Poll ``check`` (each poll is a Redis round trip) until it holds; fail after 5 s."""
    async with asyncio.timeout(5):
        while not await check():
            pass


async def blocked_clients(raw: Redis) -> int:
    info = await raw.info("clients")
    return int(info["blocked_clients"])


@pytest.fixture
def prefix() -> str:
    return f"test-{uuid.uuid4().hex}:"


@pytest.fixture
async def raw(redis_server_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(f"{redis_server_url}/0")
    yield client
    await client.aclose()


@pytest.fixture
async def two_stores(
    redis_server_url: str, prefix: str
) -> AsyncIterator[tuple[RedisStore, RedisStore]]:
    """Two stores on one Redis and prefix: what two ``plenaria serve`` processes hold."""
    first = await RedisStore.open(f"{redis_server_url}/0?prefix={prefix}")
    second = await RedisStore.open(f"{redis_server_url}/0?prefix={prefix}")
    yield first, second
    await first.close()
    await second.close()


# -- URLs ----------------------------------------------------------------------------------


def test_url_defaults_and_options() -> None:
    plain = parse_redis_url("redis://cache.example:6380")
    assert (plain.prefix, plain.db, plain.display) == (DEFAULT_PREFIX, 0, "cache.example:6380/0")

    chosen = parse_redis_url("rediss://:hunter2@cache.example/3?prefix=conf-a:&socket_timeout=2")
    assert (chosen.prefix, chosen.db) == ("conf-a:", 3)
    assert chosen.connection_url == "rediss://:hunter2@cache.example/3?socket_timeout=2"
    assert "hunter2" not in chosen.display
    assert parse_redis_url("redis://localhost/1?db=4").db == 4  # as redis-py: ?db= wins


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("redis://localhost/0?prefix=", "cannot be empty"),
        ("redis://localhost/0?prefix=a:&prefix=b:", "at most one"),
        ("redis://localhost/zero", "must be a number"),
        ("redis://localhost:port/0", "bad port"),
        ("redis://localhost/0?decode_responses=true", "decode_responses"),
        ("http://localhost/0", "not a Redis URL"),
    ],
)
def test_bad_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(BackendURLError, match=message):
        parse_redis_url(url)


@pytest.mark.parametrize(
    ("option", "message"),
    [("socket_timeout=soon", "Invalid value for 'socket_timeout'"), ("colour=blue", "colour")],
)
async def test_bad_redis_options_are_url_errors(
    redis_server_url: str, option: str, message: str
) -> None:
    with pytest.raises(BackendURLError, match=message):
        await open_store(f"{redis_server_url}/0?{option}")


async def test_the_url_chooses_database_and_prefix(
    redis_server_url: str, prefix: str, raw: Redis
) -> None:
    store = await open_store(f"{redis_server_url}/3?prefix={prefix}")
    assert isinstance(store, RedisStore)
    other_prefix = await open_store(f"{redis_server_url}/3?prefix=other-{prefix}")
    database_3 = Redis.from_url(f"{redis_server_url}/3")
    try:
        await store.replace_programme(sample(), NOW)
        await store.replace_programme(programme(session("a", at(11, 10))), NOW)
        await store.add_login_grant(grant("s1"))
        await store.append(entry(1))

        keys = {key.decode() async for key in database_3.scan_iter(match=f"{prefix}*")}
        assert keys == {
            f"{prefix}programme:conference",
            f"{prefix}programme:sessions",
            f"{prefix}programme:removed",
            f"{prefix}programme:version",
            f"{prefix}grant:{hash_secret('s1')}",
            f"{prefix}log",
            f"{prefix}log:sequence",
        }
        assert [key async for key in raw.scan_iter(match=f"{prefix}*")] == []  # not in db 0
        assert await database_3.hkeys(f"{prefix}programme:removed") == [b"guid-b", b"guid-c"]
        assert await database_3.hlen(f"{prefix}programme:sessions") == 3

        # The grant's key outlives the grant a little, and no more.
        ttl = dt.timedelta(milliseconds=await database_3.pttl(f"{prefix}grant:{hash_secret('s1')}"))
        assert dt.timedelta(hours=1) < ttl <= dt.timedelta(hours=1) + GRANT_TTL_MARGIN

        # Another prefix on the same database is another conference.
        assert await other_prefix.load_programme() is None
        assert await other_prefix.last_sequence() == 0
        assert await other_prefix.redeem_login_grant(hash_secret("s1"), NOW) is None
    finally:
        await store.close()
        await other_prefix.close()
        await database_3.flushdb()
        await database_3.aclose()


# -- several processes on one Redis --------------------------------------------------------


async def test_two_stores_share_the_log_programme_and_grants(
    two_stores: tuple[RedisStore, RedisStore],
) -> None:
    first, second = two_stores
    sequences = await asyncio.gather(
        *((first if n % 2 else second).append(entry(n)) for n in range(40))
    )
    assert len(set(sequences)) == 40
    expected = sorted(zip(sequences, (entry(n) for n in range(40)), strict=True))
    assert await first.read(0) == expected
    assert await second.read(0) == expected
    assert await first.last_sequence() == await second.last_sequence() == max(sequences)

    await first.replace_programme(sample(), NOW)
    assert await second.load_programme() == sample()

    await first.add_login_grant(grant("shared"))
    results = await asyncio.gather(
        *(store.redeem_login_grant(hash_secret("shared"), NOW) for store in two_stores * 10)
    )
    assert [r for r in results if r is not None] == [grant("shared")]


async def test_wait_wakes_up_when_another_store_appends(
    two_stores: tuple[RedisStore, RedisStore], raw: Redis
) -> None:
    first, second = two_stores
    before = await blocked_clients(raw)
    waiter = asyncio.create_task(second.wait(await second.last_sequence(), max_wait=30))

    async def waiter_is_blocked() -> bool:
        return await blocked_clients(raw) > before

    await eventually(waiter_is_blocked)
    assert not waiter.done()
    await first.append(entry(1))
    await asyncio.wait_for(waiter, timeout=2)


async def test_blocked_waiters_do_not_stall_other_commands(
    two_stores: tuple[RedisStore, RedisStore], raw: Redis
) -> None:
    first, _ = two_stores
    before = await blocked_clients(raw)
    last = await first.last_sequence()
    # More waiters than connections set aside for them: the extra ones queue.
    waiters = [
        asyncio.create_task(first.wait(last, max_wait=30)) for _ in range(WAIT_CONNECTIONS + 2)
    ]

    async def all_wait_connections_blocked() -> bool:
        return await blocked_clients(raw) >= before + WAIT_CONNECTIONS

    await eventually(all_wait_connections_blocked)
    async with asyncio.timeout(1):
        await first.ping()
        sequence = await first.append(entry(1))
        assert await first.read(last) == [(sequence, entry(1))]
    await asyncio.wait_for(asyncio.gather(*waiters), timeout=2)


async def test_a_cancelled_wait_keeps_its_connection(
    two_stores: tuple[RedisStore, RedisStore], raw: Redis
) -> None:
    """Followers cancel waits all the time; that must not cost a reconnect each time."""
    first, second = two_stores
    before = await blocked_clients(raw)
    connections = int((await raw.info("stats"))["total_connections_received"])
    for n in range(20):
        waiter = asyncio.create_task(second.wait(await second.last_sequence(), max_wait=30))

        async def waiter_is_blocked() -> bool:
            return await blocked_clients(raw) > before

        await eventually(waiter_is_blocked)
        waiter.cancel()
        await first.append(entry(n))  # ends the abandoned read
    opened = int((await raw.info("stats"))["total_connections_received"]) - connections
    assert opened <= WAIT_CONNECTIONS


async def test_concurrent_imports_never_lose_a_removal(
    two_stores: tuple[RedisStore, RedisStore],
) -> None:
    """Each import is compared with the one committed just before it, even when racing."""
    base = (session("a", at(11, 10)), session("b", at(11, 11)))
    imports = [programme(*base, session(f"x{n}", at(12, 9 + n % 8))) for n in range(12)]
    changes = await asyncio.gather(
        *(two_stores[n % 2].replace_programme(plan, NOW) for n, plan in enumerate(imports))
    )
    removed = [r.session.code for c in changes for r in c.removed]
    assert len(removed) == len(set(removed)) == len(imports) - 1
    loaded = await two_stores[0].load_programme()
    assert loaded is not None
    extras = [s.code for s in loaded.sessions if s.code.startswith("x")]
    assert len(extras) == 1 and extras[0] not in removed


# -- Redis crashes -------------------------------------------------------------------------


async def test_acknowledged_writes_survive_kill_9_of_redis(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis").start()
    try:
        store = await RedisStore.open(f"{server.url}/0")
        await store.replace_programme(sample(), NOW)
        await store.add_login_grant(grant("kept"))
        sequences = await asyncio.gather(*(store.append(entry(n)) for n in range(200)))

        server.kill()  # no shutdown, no final rewrite: only the fsynced AOF is left
        server.start()  # same directory and port

        reopened = await RedisStore.open(f"{server.url}/0")
        try:
            expected = sorted(zip(sequences, (entry(n) for n in range(200)), strict=True))
            assert await reopened.read(0) == expected
            assert await reopened.last_sequence() == max(sequences)
            assert await reopened.load_programme() == sample()
            assert await reopened.redeem_login_grant(hash_secret("kept"), NOW) == grant("kept")
            assert await reopened.append(entry(200)) == max(sequences) + 1
            # The store that lived through the crash replaces its dead connections.
            assert await store.last_sequence() == max(sequences) + 1
        finally:
            await reopened.close()
            await store.close()
    finally:
        server.stop()


async def test_unreachable_redis_is_a_clear_error_from_open() -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(RedisUnavailableError) as caught:
        await open_store(f"redis://:hunter2@127.0.0.1:{port}/2")
    message = str(caught.value)
    assert message.startswith(f"cannot reach Redis at 127.0.0.1:{port}/2: ")
    assert "is redis-server running" in message
    assert "hunter2" not in message


async def test_open_warns_when_redis_does_not_persist(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with RedisServer(tmp_path / "redis") as server:
        store = await RedisStore.open(server.url)
        await store.close()
        assert "appendonly off" not in caplog.text

        admin = Redis.from_url(server.url)
        await admin.config_set("appendonly", "no")
        await admin.aclose()
        with caplog.at_level(logging.WARNING, logger="plenaria.store"):
            store = await RedisStore.open(server.url)
            await store.close()
        assert "appendonly off" in caplog.text
