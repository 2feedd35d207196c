"""The SQLite store's attendance (a mixin of :class:`~server.backends.sqlite.SQLiteStore`)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from abc import abstractmethod
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from sessions.attendance import (
    UNTIED_PREFIX,
    Participation,
    Replay,
    Viewing,
    participant_key,
    untied_key,
)

T = TypeVar("T")

ATTENDANCE_SCHEMA = """
CREATE TABLE IF NOT EXISTS attendance_viewings (
    id TEXT PRIMARY KEY,
    session TEXT NOT NULL,
    viewer TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('webrtc', 'hls')),
    started_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    ended INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS attendance_viewings_viewer ON attendance_viewings (viewer);
CREATE TABLE IF NOT EXISTS attendance_replays (
    recording TEXT NOT NULL,
    day TEXT NOT NULL,
    viewer TEXT NOT NULL,
    played_at TEXT NOT NULL,
    PRIMARY KEY (recording, day, viewer)
);
CREATE INDEX IF NOT EXISTS attendance_replays_viewer ON attendance_replays (viewer);
CREATE TABLE IF NOT EXISTS attendance_breakouts (
    session TEXT NOT NULL,
    round TEXT NOT NULL,
    viewer TEXT NOT NULL,
    seated_at TEXT NOT NULL,
    PRIMARY KEY (session, round, viewer)
);
CREATE INDEX IF NOT EXISTS attendance_breakouts_viewer ON attendance_breakouts (viewer);
"""
"""The migration that creates the attendance tables (one entry of ``sqlite.MIGRATIONS``)."""


def stamp(moment: dt.datetime) -> str:
    """UTC, always with microseconds: stamps compare as text in time order."""
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _rekey(connection: sqlite3.Connection, keys: set[str]) -> None:
    for key in keys:
        fresh = untied_key()
        for table in ("attendance_viewings", "attendance_replays", "attendance_breakouts"):
            connection.execute(f"UPDATE {table} SET viewer = ? WHERE viewer = ?", (fresh, key))  # noqa: S608


class SQLiteAttendance:
    """Viewings and replays in two tables; a key is replaced in one transaction."""

    if TYPE_CHECKING:

        @abstractmethod
        async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T: ...

    async def record_viewings(self, viewings: Sequence[Viewing]) -> None:
        rows = [
            (v.id, v.session, v.viewer, v.channel, stamp(v.started_at), stamp(v.last_seen_at),
             int(v.ended))
            for v in viewings
        ]  # fmt: skip

        def write(connection: sqlite3.Connection) -> None:
            with connection:
                connection.execute("BEGIN IMMEDIATE")
                connection.executemany(
                    "INSERT INTO attendance_viewings (id, session, viewer, channel, started_at, "
                    "last_seen_at, ended) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE "
                    "SET last_seen_at = max(last_seen_at, excluded.last_seen_at), "
                    "ended = max(ended, excluded.ended)",
                    rows,
                )

        if rows:
            await self._run(write)

    async def record_replays(self, replays: Sequence[Replay]) -> list[bool]:
        def write(connection: sqlite3.Connection) -> list[bool]:
            new = []
            with connection:
                connection.execute("BEGIN IMMEDIATE")
                for replay in replays:
                    cursor = connection.execute(
                        "INSERT INTO attendance_replays (recording, day, viewer, played_at) "
                        "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                        (replay.recording_id, replay.day.isoformat(), replay.viewer,
                         stamp(replay.played_at)),
                    )  # fmt: skip
                    new.append(cursor.rowcount == 1)
            return new

        return await self._run(write) if replays else []

    async def record_participations(self, participations: Sequence[Participation]) -> None:
        rows = [(p.session, p.round, p.viewer, stamp(p.seated_at)) for p in participations]

        def write(connection: sqlite3.Connection) -> None:
            with connection:
                connection.execute("BEGIN IMMEDIATE")
                connection.executemany(
                    "INSERT INTO attendance_breakouts (session, round, viewer, seated_at) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    rows,
                )

        if rows:
            await self._run(write)

    async def list_participations(self) -> list[Participation]:
        def read(connection: sqlite3.Connection) -> list[Participation]:
            rows = connection.execute(
                "SELECT session, round, viewer, seated_at FROM attendance_breakouts"
            ).fetchall()
            return [Participation(s, r, v, dt.datetime.fromisoformat(at)) for s, r, v, at in rows]

        return await self._run(read)

    async def list_viewings(self) -> list[Viewing]:
        def read(connection: sqlite3.Connection) -> list[Viewing]:
            rows = connection.execute(
                "SELECT id, session, viewer, channel, started_at, last_seen_at, ended "
                "FROM attendance_viewings"
            ).fetchall()
            return [
                Viewing(
                    id=row[0],
                    session=row[1],
                    viewer=row[2],
                    channel="hls" if row[3] == "hls" else "webrtc",
                    started_at=dt.datetime.fromisoformat(row[4]),
                    last_seen_at=dt.datetime.fromisoformat(row[5]),
                    ended=bool(row[6]),
                )
                for row in rows
            ]

        return await self._run(read)

    async def count_replays(self) -> dict[str, int]:
        def read(connection: sqlite3.Connection) -> dict[str, int]:
            rows = connection.execute(
                "SELECT recording, count(*) FROM attendance_replays GROUP BY recording"
            ).fetchall()
            return {recording: count for recording, count in rows}

        return await self._run(read)

    async def forget_attendance(self, participant_id: str) -> None:
        def write(connection: sqlite3.Connection) -> None:
            connection.execute("PRAGMA secure_delete = ON")  # the old keys' bytes overwritten
            with connection:
                connection.execute("BEGIN IMMEDIATE")
                _rekey(connection, {participant_key(participant_id)})
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()  # and no copy kept

        await self._run(write)

    async def untie_attendance(self, before: dt.datetime) -> int:
        cut_off = stamp(before)

        def write(connection: sqlite3.Connection) -> int:
            connection.execute("PRAGMA secure_delete = ON")
            with connection:
                connection.execute("BEGIN IMMEDIATE")
                keys = {
                    key
                    for (key,) in connection.execute(
                        "SELECT viewer FROM attendance_viewings WHERE started_at < ? "
                        "UNION SELECT viewer FROM attendance_replays WHERE played_at < ? "
                        "UNION SELECT viewer FROM attendance_breakouts WHERE seated_at < ?",
                        (cut_off, cut_off, cut_off),
                    )
                    if not key.startswith(UNTIED_PREFIX)
                }
                _rekey(connection, keys)
            if keys:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            return len(keys)

        return await self._run(write)
