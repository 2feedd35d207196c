"""The shared store: one Redis (``redis://host:6379/0?prefix=plenaria:``).

Several ``plenaria serve`` processes pointed at the same Redis and prefix serve one
conference together: they share the programme, the login grants and the command log, and
:meth:`RedisStore.wait` wakes every process when any of them appends.

Key layout, every key under the prefix (default ``plenaria:``):

=============================  =======  ===================================================
``programme:conference``       string   the conference, days and rooms (msgspec JSON)
``programme:sessions``         hash     guid → session (msgspec JSON), every session ever
                                        imported; sessions are never deleted
``programme:removed``          hash     guid → ISO time the session left the programme;
                                        a later import that lists the guid again clears it
``programme:version``          string   counts imports: a process decodes the programme
                                        again only when it changed
``grant:<secret hash>``        string   a login grant (msgspec JSON) with a TTL a little
                                        beyond its expiry; redeemed by GETDEL
``log``                        stream   the command log; entry ``<sequence>-1`` has the
                                        field ``entry`` = :func:`encode_entry` bytes
``log:sequence``               string   the counter behind the log's sequence numbers
=============================  =======  ===================================================

Needs Redis 6.2 or later (GETDEL), a single primary (not Redis Cluster: the append script
touches two keys), and ``maxmemory-policy noeviction``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import msgspec
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError, ResponseError, WatchError
from redis.maint_notifications import MaintNotificationsConfig

from server.backends.log_codec import LogEntry, decode_entry, encode_entry
from server.backends.records import (
    ConferenceRecord,
    assemble_programme,
    conference_record,
    decode_conference,
    decode_session,
    encode,
)
from server.backends.redis_attendance import RedisAttendance
from server.backends.redis_registrations import RedisRegistrations
from server.backends.urls import BackendURLError
from sessions.programme import Programme, ProgrammeError, Session
from sessions.programme_changes import ProgrammeChanges, compare
from sessions.roles import LoginGrant

log = logging.getLogger("plenaria.store")

DEFAULT_PREFIX = "plenaria:"
GRANT_TTL_MARGIN = dt.timedelta(minutes=10)
"""Redis forgets a grant this long after it expired; expiry itself is checked against ``now``."""
CONNECTIONS = 32
"""Connections for ordinary commands; more concurrent commands wait for a free one."""
WAIT_CONNECTIONS = 4
"""Connections reserved for blocking reads, so a blocked :meth:`wait` never holds up others."""
WAIT_BLOCK_CAP = 10.0
"""One blocking read lasts at most this long (``wait`` may return early)."""
MAX_WATCH_ATTEMPTS = 50

_APPEND = """
local sequence = redis.call('INCR', KEYS[1])
redis.call('XADD', KEYS[2], sequence .. '-1', 'entry', ARGV[1])
return sequence
"""
_ENTRY_FIELD = b"entry"

_encode_grant = msgspec.json.Encoder().encode
_decode_grant = msgspec.json.Decoder(LoginGrant).decode


class RedisUnavailableError(ConnectionError):
    """Redis did not answer when the store was opened."""


@dataclass(frozen=True, slots=True)
class RedisLocation:
    """Where a store lives: what redis-py connects to, and the key prefix."""

    connection_url: str
    """The URL without ``prefix``, as redis-py reads it."""
    prefix: str
    db: int
    display: str
    """``host:port/db`` for messages and logs; never the password."""


def parse_redis_url(url: str) -> RedisLocation:
    """``redis[s]://[user:password@]host[:port][/db][?prefix=name:&other redis-py options]``."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        raise BackendURLError(f"not a Redis URL: {url!r} (expected redis://host:6379/0)")
    query = parse_qsl(parts.query, keep_blank_values=True)
    prefixes = [value for name, value in query if name == "prefix"]
    if len(prefixes) > 1:
        raise BackendURLError("a Redis URL takes at most one ?prefix=")
    prefix = prefixes[0] if prefixes else DEFAULT_PREFIX
    if not prefix:
        raise BackendURLError("?prefix= cannot be empty (the default is plenaria:)")
    if any(name == "decode_responses" for name, _ in query):
        raise BackendURLError("the Redis store reads bytes; drop decode_responses from the URL")
    db_texts = [value for name, value in query if name == "db"] or [parts.path.strip("/") or "0"]
    if not db_texts[-1].isdigit():
        raise BackendURLError(f"the Redis database must be a number, not {db_texts[-1]!r}")
    try:
        port = parts.port or 6379
    except ValueError:
        raise BackendURLError(f"bad port in Redis URL {parts.netloc!r}") from None
    rest = [(name, value) for name, value in query if name != "prefix"]
    db = int(db_texts[-1])
    return RedisLocation(
        connection_url=urlunsplit(parts._replace(query=urlencode(rest))),
        prefix=prefix,
        db=db,
        display=f"{parts.hostname or 'localhost'}:{port}/{db}",
    )


@dataclass(frozen=True, slots=True)
class _Keys:
    conference: str
    sessions: str
    removed: str
    version: str
    log: str
    sequence: str
    grant_prefix: str

    @classmethod
    def under(cls, prefix: str) -> _Keys:
        return cls(
            conference=f"{prefix}programme:conference",
            sessions=f"{prefix}programme:sessions",
            removed=f"{prefix}programme:removed",
            version=f"{prefix}programme:version",
            log=f"{prefix}log",
            sequence=f"{prefix}log:sequence",
            grant_prefix=f"{prefix}grant:",
        )

    def grant(self, secret_hash: str) -> str:
        return self.grant_prefix + secret_hash


class RedisStore(RedisRegistrations, RedisAttendance):
    """The :class:`~server.backends.store.Store` on Redis, shared by several processes.

    **Durability** is Redis's: an awaited write returns once Redis has acknowledged it, and
    what an acknowledgement is worth depends on how Redis persists.

    - ``appendonly yes`` + ``appendfsync always`` (recommended): Redis fsyncs the AOF before
      it answers, so an acknowledged write survives ``kill -9`` of Plenaria **and** of Redis,
      and a power cut.
    - ``appendfsync everysec`` (Redis's default when the AOF is on): an acknowledged write
      survives ``kill -9`` of Plenaria, but up to about one second of acknowledged writes is
      lost if Redis itself (or its machine) dies.
    - persistence off (``appendonly no`` and no snapshots): everything is lost when Redis
      restarts. :meth:`open` logs a warning when ``appendonly`` is off.

    Replicas do not add durability: a write acknowledged by the primary can be lost on
    fail-over. Keys must never be evicted (``maxmemory-policy noeviction``).

    **Ordering.** :meth:`append` runs one Lua script that increments ``log:sequence`` and
    adds the entry to the ``log`` stream with the id ``<sequence>-1``, atomically, so
    sequences are strictly increasing across every process and a reader that sees
    sequence *n* sees every entry below it.

    **Retries.** Commands are never re-sent automatically: an append whose connection breaks
    mid-flight raises (it may or may not have been stored) instead of possibly being logged
    twice. Connections that went stale (say, after Redis restarted) are replaced before use.
    """

    def __init__(self, location: RedisLocation) -> None:
        self.location = location
        self._keys = _Keys.under(location.prefix)
        self._programme: tuple[bytes, Programme] | None = None
        """The programme as last decoded, with its version (``programme:version``)."""
        # A bounded pool: a burst of commands queues for a connection instead of failing.
        self._redis: Redis = Redis.from_pool(
            BlockingConnectionPool.from_url(
                location.connection_url,
                max_connections=CONNECTIONS,
                **_connection_options(),
            )
        )
        # Blocking reads get their own connections, and a socket timeout longer than the
        # longest block, so they neither starve nor are cut short by other commands.
        self._blocking: Redis = Redis.from_pool(
            BlockingConnectionPool.from_url(
                location.connection_url,
                max_connections=WAIT_CONNECTIONS,
                timeout=None,
                **_connection_options(),
                socket_timeout=WAIT_BLOCK_CAP + 5,
            )
        )
        # A socket_timeout in the URL wins over ours; a block must end before it does.
        read_timeout = self._blocking.connection_pool.connection_kwargs.get("socket_timeout")
        self._block_cap = (
            WAIT_BLOCK_CAP
            if not read_timeout
            else min(WAIT_BLOCK_CAP, max(float(read_timeout) - 1, float(read_timeout) / 2))
        )
        self._waiters = asyncio.Semaphore(WAIT_CONNECTIONS)
        self._reads: set[asyncio.Task[None]] = set()
        self._append_script: Any = self._redis.register_script(_APPEND)

    @classmethod
    async def open(cls, url: str) -> RedisStore:
        location = parse_redis_url(url)
        try:
            store = cls(location)
        except ValueError as error:  # redis-py checks the URL's options here
            raise BackendURLError(f"Redis URL for {location.display}: {error}") from None
        try:
            await store._check_server()
        except BaseException:
            await store.close()
            raise
        return store

    async def _check_server(self) -> None:
        where = self.location.display
        try:
            await self._redis.ping()
        except TypeError as error:  # an option redis-py does not know, found on connecting
            raise BackendURLError(f"Redis URL for {where}: {error}") from None
        except RedisError as error:
            raise RedisUnavailableError(
                f"cannot reach Redis at {where}: {error} (is redis-server running, "
                "and are the host, port, database and password in the URL right?)"
            ) from error
        try:
            config: Mapping[Any, Any] = await self._redis.config_get("appendonly")
            policy: Mapping[Any, Any] = await self._redis.config_get("maxmemory-policy")
        except ResponseError:  # CONFIG is disabled or not permitted: nothing to check
            return
        if _text(config.get("appendonly")) == "no":
            log.warning(
                "Redis at %s has appendonly off: acknowledged writes are lost when Redis "
                "restarts; set appendonly yes and appendfsync always",
                where,
                extra={"store": where},
            )
        if _text(policy.get("maxmemory-policy")).startswith("allkeys"):
            log.warning(
                "Redis at %s may evict any key (maxmemory-policy %s); use noeviction",
                where,
                _text(policy.get("maxmemory-policy")),
                extra={"store": where},
            )

    # -- programme -----------------------------------------------------------------------

    async def load_programme(self) -> Programme | None:
        """The programme, decoded again only when an import (by any process) changed its
        version."""
        keys = self._keys
        version = await self._redis.get(keys.version)
        cached = self._programme
        if cached is not None and version is not None and cached[0] == version:
            return cached[1]
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.get(keys.version)
            pipe.get(keys.conference)
            pipe.hgetall(keys.sessions)
            pipe.hkeys(keys.removed)
            version, conference, sessions, removed = await pipe.execute()
        programme = _programme(conference, sessions, removed)
        if programme is not None and version is not None:
            self._programme = (version, programme)
        return programme

    async def replace_programme(self, programme: Programme, now: dt.datetime) -> ProgrammeChanges:
        keys = self._keys
        stamp = now.isoformat()
        incoming = {session.guid: session for session in programme.sessions}
        _refuse_shared_codes(incoming.values())
        async with self._redis.pipeline(transaction=True) as pipe:
            for _ in range(MAX_WATCH_ATTEMPTS):
                try:
                    await pipe.watch(keys.conference, keys.sessions, keys.removed)
                    old = _programme(
                        await pipe.get(keys.conference),
                        await pipe.hgetall(keys.sessions),
                        await pipe.hkeys(keys.removed),
                    )
                    changes = compare(old, programme)
                    pipe.multi()  # type: ignore[no-untyped-call]
                    pipe.set(keys.conference, encode(conference_record(programme)))
                    pipe.incr(keys.version)
                    if changes.removed:
                        pipe.hset(
                            keys.removed,
                            mapping={r.session.guid: stamp for r in changes.removed},
                        )
                    if incoming:
                        pipe.hset(
                            keys.sessions,
                            mapping={guid: encode(s) for guid, s in incoming.items()},
                        )
                        pipe.hdel(keys.removed, *incoming)
                    await pipe.execute()
                except WatchError:
                    continue
                return changes
        raise RuntimeError(
            f"the programme kept changing under this import ({MAX_WATCH_ATTEMPTS} attempts)"
        )

    # -- login grants --------------------------------------------------------------------

    async def add_login_grant(self, grant: LoginGrant) -> None:
        # Relative to Redis's clock, not ours: the grant's own expiry is checked on redeem.
        lifetime = max(grant.expires_at - grant.created_at, dt.timedelta(0)) + GRANT_TTL_MARGIN
        added = await self._redis.set(
            self._keys.grant(grant.secret_hash),
            _encode_grant(grant),
            nx=True,
            px=int(lifetime.total_seconds() * 1000),
        )
        if not added:
            raise ValueError("a login grant with this secret hash exists already")

    async def redeem_login_grant(self, secret_hash: str, now: dt.datetime) -> LoginGrant | None:
        data = await self._redis.getdel(self._keys.grant(secret_hash))
        if data is None:
            return None
        grant = _decode_grant(data)
        return grant if grant.usable(now) else None

    # -- command log ---------------------------------------------------------------------

    async def append(self, entry: LogEntry) -> int:
        keys = self._keys
        sequence = await self._append_script(
            keys=[keys.sequence, keys.log], args=[encode_entry(entry)]
        )
        return int(sequence)

    async def read(self, after: int, limit: int = 1000) -> list[tuple[int, LogEntry]]:
        if limit == 0:
            return []
        rows = await self._redis.xrange(
            self._keys.log,
            min=f"{max(after, 0) + 1}-0",
            max="+",
            count=None if limit < 0 else limit,  # a negative limit is none, as in SQLite
        )
        return [
            (int(_text(entry_id).split("-", 1)[0]), decode_entry(_bytes(fields[_ENTRY_FIELD])))
            for entry_id, fields in rows or ()
            if entry_id is not None and fields is not None
        ]

    async def wait(self, after: int, max_wait: float) -> None:
        if await self.last_sequence() > after or max_wait <= 0:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max_wait
        try:
            async with asyncio.timeout(max_wait):
                await self._waiters.acquire()
        except TimeoutError:
            return
        block = min(deadline - loop.time(), self._block_cap)
        if block < 0.001:
            self._waiters.release()
            return
        read = asyncio.create_task(self._blocking_read(after, block))
        self._reads.add(read)
        read.add_done_callback(self._read_done)
        # Cancelling a command that Redis is blocking on costs its connection (redis-py drops
        # it), and callers cancel waits whenever they have news of their own, which usually
        # means an append that ends the read at once anyway: a cancelled ``wait`` lets its
        # read finish by itself.
        await asyncio.shield(read)

    async def _blocking_read(self, after: int, block: float) -> None:
        try:
            # Returns at once if an entry above ``after`` exists, else when one arrives.
            await self._blocking.xread(
                {self._keys.log: f"{after}-1"}, count=1, block=int(block * 1000)
            )
        finally:
            self._waiters.release()

    def _read_done(self, read: asyncio.Task[None]) -> None:
        self._reads.discard(read)
        if not read.cancelled():
            read.exception()  # retrieve it: a cancelled ``wait`` no longer looks

    async def last_sequence(self) -> int:
        value = await self._redis.get(self._keys.sequence)
        return 0 if value is None else int(value)

    # -- lifecycle -----------------------------------------------------------------------

    async def ping(self) -> None:
        await self._redis.ping()

    async def close(self) -> None:
        reads = list(self._reads)
        for read in reads:
            read.cancel()
        await asyncio.gather(*reads, return_exceptions=True)
        try:
            await self._redis.aclose()
        finally:
            await self._blocking.aclose()


def _connection_options() -> dict[str, Any]:
    return {
        "retry": Retry(NoBackoff(), 0),
        # With maintenance notifications on (redis-py's default under RESP3) the pool stops
        # checking a connection before handing it out, and hands out dead ones after Redis
        # restarts. They are for managed clusters that announce fail-overs; Plenaria
        # does not use them.
        "maint_notifications_config": MaintNotificationsConfig(enabled=False),
    }


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode()
    return "" if value is None else str(value)


def _bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode()


def _refuse_shared_codes(sessions: Iterable[Session]) -> None:
    """After an import exactly its sessions are active, and their codes must be unique."""
    seen: set[str] = set()
    for session in sessions:
        if session.code in seen:
            raise ProgrammeError(f"two sessions share the code {session.code!r}")
        seen.add(session.code)


def _programme(
    conference: bytes | str | None,
    sessions: Mapping[bytes | str, bytes | str],
    removed: Iterable[bytes | str],
) -> Programme | None:
    if conference is None:
        return None
    record: ConferenceRecord = decode_conference(conference)
    gone = set(removed)
    return assemble_programme(
        record, (decode_session(data) for guid, data in sessions.items() if guid not in gone)
    )
