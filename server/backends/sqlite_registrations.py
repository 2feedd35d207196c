"""The SQLite store's registrations (a mixin of :class:`~server.backends.sqlite.SQLiteStore`)."""

from __future__ import annotations

import datetime as dt
import secrets
import sqlite3
from abc import abstractmethod
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from sessions.registrations import (
    Attends,
    CheckIn,
    Registration,
    RegistrationChanges,
    plan_import,
)

T = TypeVar("T")

REGISTRATIONS_SCHEMA = """
CREATE TABLE registrations (
    key TEXT PRIMARY KEY,
    participant_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    attends TEXT NOT NULL CHECK (attends IN ('in_person', 'remote')),
    organisation TEXT NOT NULL,
    delegation_type TEXT NOT NULL,
    country TEXT NOT NULL,
    language TEXT NOT NULL,
    checked_in_at TEXT
);
"""
"""The migration that creates the registrations tables (one entry of ``sqlite.MIGRATIONS``)."""

_COLUMNS = (
    "key, participant_id, name, email, attends, organisation, delegation_type, country, "
    "language, checked_in_at"
)


class SQLiteRegistrations:
    """Registrations in one table. Personal data is deleted for real: ``secure_delete``
    overwrites the freed content, and the write-ahead log is checkpointed and truncated
    after every deletion, so no copy is left in the file or beside it."""

    if TYPE_CHECKING:

        @abstractmethod
        async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T: ...

    async def import_registrations(
        self, registrations: Sequence[Registration], *, dry_run: bool = False
    ) -> RegistrationChanges:
        def write(connection: sqlite3.Connection) -> RegistrationChanges:
            connection.execute("PRAGMA secure_delete = ON")
            connection.execute("BEGIN IMMEDIATE")
            try:
                current = _select(connection, "")
                plan = plan_import(current, registrations, _new_participant_id)
                if dry_run:
                    connection.execute("ROLLBACK")
                    return plan.changes
                changes = plan.changes
                for gone in changes.removed:
                    connection.execute("DELETE FROM registrations WHERE key = ?", (gone.key,))
                for update in changes.updated:
                    connection.execute(
                        "UPDATE registrations SET name = ?, email = ?, attends = ?, "
                        "organisation = ?, delegation_type = ?, country = ?, language = ? "
                        "WHERE key = ?",
                        (*_personal(update.after), update.after.key),
                    )
                for new in changes.added:
                    connection.execute(
                        "INSERT INTO registrations (key, participant_id, name, email, attends, "
                        "organisation, delegation_type, country, language) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (new.key, new.participant_id, *_personal(new)),
                    )
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
            if changes.removed or changes.updated:
                _truncate_wal(connection)
            return changes

        return await self._run(write)

    async def list_registrations(self) -> list[Registration]:
        rows = await self._run(lambda connection: _select(connection, ""))
        return sorted(rows, key=lambda r: (r.name.casefold(), r.key))

    async def registration(self, key: str) -> Registration | None:
        found = await self._run(lambda connection: _select(connection, "WHERE key = ?", key))
        return found[0] if found else None

    async def registration_of(self, participant_id: str) -> Registration | None:
        found = await self._run(
            lambda connection: _select(connection, "WHERE participant_id = ?", participant_id)
        )
        return found[0] if found else None

    async def check_in(self, key: str, now: dt.datetime) -> CheckIn | None:
        def write(connection: sqlite3.Connection) -> CheckIn | None:
            connection.execute("BEGIN IMMEDIATE")
            try:
                stamped = connection.execute(
                    "UPDATE registrations SET checked_in_at = ? "
                    "WHERE key = ? AND checked_in_at IS NULL",
                    (now.isoformat(), key),
                ).rowcount
                found = _select(connection, "WHERE key = ?", key)
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
            return CheckIn(found[0], already=not stamped) if found else None

        return await self._run(write)

    async def erase_registration(self, key: str) -> Registration | None:
        def erase(connection: sqlite3.Connection) -> Registration | None:
            connection.execute("PRAGMA secure_delete = ON")
            connection.execute("BEGIN IMMEDIATE")
            try:
                found = _select(connection, "WHERE key = ?", key)
                connection.execute("DELETE FROM registrations WHERE key = ?", (key,))
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
            if found:
                _truncate_wal(connection)
            return found[0] if found else None

        return await self._run(erase)


def _new_participant_id() -> str:
    return secrets.token_urlsafe(12)


def _personal(r: Registration) -> tuple[str, ...]:
    return (
        r.name,
        r.email,
        r.attends,
        r.organisation,
        r.delegation_type,
        r.country,
        r.language,
    )


def _select(connection: sqlite3.Connection, where: str, *args: str) -> list[Registration]:
    """``where`` is one of this module's own clauses, never text from outside."""
    query = f"SELECT {_COLUMNS} FROM registrations {where}"  # noqa: S608
    rows = connection.execute(query, args).fetchall()
    return [_registration(row) for row in rows]


def _registration(row: tuple[str, ...]) -> Registration:
    key, participant_id, name, email, attends, organisation, kind, country, language, at = row
    attending: Attends = "remote" if attends == "remote" else "in_person"
    return Registration(
        key=key,
        participant_id=participant_id,
        name=name,
        email=email,
        attends=attending,
        organisation=organisation,
        delegation_type=kind,
        country=country,
        language=language,
        checked_in_at=dt.datetime.fromisoformat(at) if at else None,
    )


def _truncate_wal(connection: sqlite3.Connection) -> None:
    """Copy the log into the database and empty it: the deleted rows' old pages go with it.
    Another process reading at this moment may keep the log from being emptied; its pages
    are overwritten by later writes, and the next deletion tries again."""
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
