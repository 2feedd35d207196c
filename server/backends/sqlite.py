"""The embedded default store: one SQLite file in WAL mode.

Every call runs on one dedicated thread holding one connection, so the event loop never
blocks on disk and writes are serialised within the process; SQLite's own locking
serialises them across processes. ``synchronous=FULL`` makes each commit durable (fsynced)
before the awaiting coroutine resumes, so an acknowledged write survives ``kill -9`` and a
power cut. Command-log appends are group-committed: appends that arrive while a commit is
under way share the next transaction, which is what makes a thousand durable votes a
second possible on one disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import TypeVar

from server.backends.log_codec import LogEntry, decode_entry, encode_entry
from server.backends.records import ConferenceRecord as _ConferenceRecord
from server.backends.records import assemble_programme
from server.backends.records import decode_conference as _decode_conference
from server.backends.records import decode_session as _decode_session
from server.backends.records import encode as _encode
from server.backends.sqlite_attendance import ATTENDANCE_SCHEMA, SQLiteAttendance
from server.backends.sqlite_registrations import REGISTRATIONS_SCHEMA, SQLiteRegistrations
from sessions.programme import Programme
from sessions.programme_changes import ProgrammeChanges, compare
from sessions.roles import LoginGrant, Role

T = TypeVar("T")

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE conference (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        data BLOB NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE programme_sessions (
        guid TEXT PRIMARY KEY,
        code TEXT NOT NULL,
        data BLOB NOT NULL,
        removed_at TEXT,
        updated_at TEXT NOT NULL
    );
    CREATE UNIQUE INDEX programme_sessions_active_code
        ON programme_sessions (code) WHERE removed_at IS NULL;
    CREATE TABLE login_grants (
        secret_hash TEXT PRIMARY KEY,
        role TEXT NOT NULL,
        session_code TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        redeemed_at TEXT
    );
    """,
    """
    CREATE TABLE command_log (
        sequence INTEGER PRIMARY KEY AUTOINCREMENT,
        entry BLOB NOT NULL
    );
    """,
    """
    ALTER TABLE conference ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
    """,
    REGISTRATIONS_SCHEMA,
    ATTENDANCE_SCHEMA,
)


def migrate(connection: sqlite3.Connection) -> int:
    """Apply the migrations this file has not seen yet; return the schema version."""
    (version,) = connection.execute("PRAGMA user_version").fetchone()
    if version > len(MIGRATIONS):
        raise RuntimeError(
            f"the database has schema version {version}, newer than this Plenaria "
            f"({len(MIGRATIONS)}); upgrade Plenaria"
        )
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        with connection:
            connection.executescript(f"BEGIN IMMEDIATE; {script}; PRAGMA user_version = {number};")
    return len(MIGRATIONS)


MAX_GROUP_COMMIT = 1024
WAKE_UP_POLL = 0.25
"""Another process may append to the same file; waiters look again this often."""


class SQLiteStore(SQLiteRegistrations, SQLiteAttendance):
    def __init__(self, connection: sqlite3.Connection, executor: ThreadPoolExecutor) -> None:
        self._connection = connection
        self._executor = executor
        self._pending: list[tuple[bytes, asyncio.Future[int]]] = []
        self._committer: asyncio.Task[None] | None = None
        self._appended = asyncio.Condition()
        self._programme: tuple[int, Programme] | None = None
        """The programme as last decoded, with its version: decoded again only when an
        import (by any process on the file) changed the version."""

    @classmethod
    async def open(cls, path: Path) -> SQLiteStore:
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-store")

        def connect() -> sqlite3.Connection:
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(
                path, isolation_level=None, check_same_thread=False, timeout=30
            )
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = FULL")
            connection.execute("PRAGMA foreign_keys = ON")
            migrate(connection)
            return connection

        loop = asyncio.get_running_loop()
        try:
            connection = await loop.run_in_executor(executor, connect)
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return cls(connection, executor)

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, work, self._connection)

    async def load_programme(self) -> Programme | None:
        def load(connection: sqlite3.Connection) -> Programme | None:
            row = connection.execute("SELECT version FROM conference WHERE id = 1").fetchone()
            if row is None:
                return None
            cached = self._programme
            if cached is not None and cached[0] == row[0]:
                return cached[1]
            connection.execute("BEGIN")  # the version and the rows it stands for, together
            try:
                (version,) = connection.execute(
                    "SELECT version FROM conference WHERE id = 1"
                ).fetchone()
                programme = _load_programme(connection)
            finally:
                connection.execute("COMMIT")
            if programme is not None:
                self._programme = (version, programme)
            return programme

        return await self._run(load)

    async def replace_programme(self, programme: Programme, now: dt.datetime) -> ProgrammeChanges:
        def write(connection: sqlite3.Connection) -> ProgrammeChanges:
            stamp = now.isoformat()
            connection.execute("BEGIN IMMEDIATE")
            try:
                changes = compare(_load_programme(connection), programme)
                record = _ConferenceRecord(programme.conference, programme.days, programme.rooms)
                connection.execute(
                    "INSERT INTO conference (id, data, updated_at) VALUES (1, ?, ?) "
                    "ON CONFLICT (id) DO UPDATE SET data = excluded.data, "
                    "updated_at = excluded.updated_at, version = version + 1",
                    (_encode(record), stamp),
                )
                for removed in changes.removed:
                    connection.execute(
                        "UPDATE programme_sessions SET removed_at = ?, updated_at = ? "
                        "WHERE guid = ?",
                        (stamp, stamp, removed.session.guid),
                    )
                # Every active row is rewritten below; freeing the codes first lets two
                # sessions swap codes (the unique index is checked per statement).
                connection.execute(
                    "UPDATE programme_sessions SET code = '~' || guid WHERE removed_at IS NULL"
                )
                for session in programme.sessions:
                    connection.execute(
                        "INSERT INTO programme_sessions (guid, code, data, removed_at, updated_at) "
                        "VALUES (?, ?, ?, NULL, ?) ON CONFLICT (guid) DO UPDATE SET "
                        "code = excluded.code, data = excluded.data, removed_at = NULL, "
                        "updated_at = excluded.updated_at",
                        (session.guid, session.code, _encode(session), stamp),
                    )
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
            return changes

        return await self._run(write)

    async def add_login_grant(self, grant: LoginGrant) -> None:
        def write(connection: sqlite3.Connection) -> None:
            connection.execute(
                "INSERT INTO login_grants (secret_hash, role, session_code, created_at, "
                "expires_at) VALUES (?, ?, ?, ?, ?)",
                (
                    grant.secret_hash,
                    grant.role.value,
                    grant.session_code,
                    grant.created_at.isoformat(),
                    grant.expires_at.isoformat(),
                ),
            )

        await self._run(write)

    async def redeem_login_grant(self, secret_hash: str, now: dt.datetime) -> LoginGrant | None:
        def redeem(connection: sqlite3.Connection) -> LoginGrant | None:
            row = connection.execute(
                "UPDATE login_grants SET redeemed_at = ? "
                "WHERE secret_hash = ? AND redeemed_at IS NULL "
                "RETURNING role, session_code, created_at, expires_at",
                (now.isoformat(), secret_hash),
            ).fetchone()
            if row is None:
                return None
            role, code, created_at, expires_at = row
            grant = LoginGrant(
                secret_hash=secret_hash,
                role=Role(role),
                session_code=code,
                created_at=dt.datetime.fromisoformat(created_at),
                expires_at=dt.datetime.fromisoformat(expires_at),
            )
            return grant if grant.usable(now) else None

        return await self._run(redeem)

    async def append(self, entry: LogEntry) -> int:
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._pending.append((encode_entry(entry), future))
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_pending())
        return await future

    async def _commit_pending(self) -> None:
        while self._pending:
            batch = self._pending[:MAX_GROUP_COMMIT]
            del self._pending[: len(batch)]
            try:
                sequences = await self._run(partial(_append_batch, [b for b, _ in batch]))
            except Exception as error:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            for (_, future), sequence in zip(batch, sequences, strict=True):
                if not future.done():
                    future.set_result(sequence)
            async with self._appended:
                self._appended.notify_all()

    async def read(self, after: int, limit: int = 1000) -> list[tuple[int, LogEntry]]:
        rows = await self._run(
            lambda c: c.execute(
                "SELECT sequence, entry FROM command_log WHERE sequence > ? "
                "ORDER BY sequence LIMIT ?",
                (after, limit),
            ).fetchall()
        )
        return [(sequence, decode_entry(entry)) for sequence, entry in rows]

    async def wait(self, after: int, max_wait: float) -> None:
        if await self.last_sequence() > after:
            return
        async with self._appended:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._appended.wait(), min(max_wait, WAKE_UP_POLL))

    async def last_sequence(self) -> int:
        row = await self._run(
            lambda c: c.execute("SELECT COALESCE(MAX(sequence), 0) FROM command_log").fetchone()
        )
        return int(row[0])

    async def ping(self) -> None:
        await self._run(lambda connection: connection.execute("SELECT 1").fetchone())

    async def close(self) -> None:
        if self._committer is not None:
            await self._committer
        await self._run(lambda connection: connection.close())
        self._executor.shutdown(wait=True)


def _append_batch(entries: list[bytes], connection: sqlite3.Connection) -> list[int]:
    connection.execute("BEGIN IMMEDIATE")
    try:
        sequences = [
            int(
                connection.execute(
                    "INSERT INTO command_log (entry) VALUES (?) RETURNING sequence", (entry,)
                ).fetchone()[0]
            )
            for entry in entries
        ]
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
    return sequences


def _load_programme(connection: sqlite3.Connection) -> Programme | None:
    row = connection.execute("SELECT data FROM conference WHERE id = 1").fetchone()
    if row is None:
        return None
    return assemble_programme(
        _decode_conference(row[0]),
        (
            _decode_session(data)
            for (data,) in connection.execute(
                "SELECT data FROM programme_sessions WHERE removed_at IS NULL"
            )
        ),
    )
