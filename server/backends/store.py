"""The durable store behind a conference."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from server.backends.attendance import AttendanceStore
from server.backends.command_log import CommandLog
from server.backends.registrations import RegistrationStore
from sessions.programme import Programme
from sessions.programme_changes import ProgrammeChanges
from sessions.roles import LoginGrant


class StoreUnavailable(Exception):
    """The store cannot serve this request just now (Redis unreachable, the log not
    moving): it may be asked again, and a write it carried may or may not be stored."""


class Store(CommandLog, RegistrationStore, AttendanceStore, Protocol):
    """Durable conference state, shared by every process serving one conference.

    A store is also the conference's :class:`CommandLog`, its
    :class:`~server.backends.registrations.RegistrationStore` and its
    :class:`~server.backends.attendance.AttendanceStore`.

    Guarantees every implementation keeps (the contract suite checks them):

    - **Durability.** When an awaited write returns, its effect survives a crash or
      ``kill -9`` of the process.
    - **Atomicity.** :meth:`replace_programme` stores the whole new programme or, when it
      raises, leaves the previous one untouched; readers never see a half-imported programme.
    - **Identity by guid.** A programme session keeps its identity (its ``guid``) across
      imports. A session absent from a new programme is marked removed, never deleted, so
      what hangs off it (questions, recordings) is never orphaned; it comes back if a later
      import lists it again.
    - **Single use.** :meth:`redeem_login_grant` hands a grant out at most once, even when
      several processes race for it.
    - **Read-your-writes.** A read that starts after a write returned sees that write.
    """

    async def load_programme(self) -> Programme | None:
        """The current programme without removed sessions, or ``None`` before any import."""
        ...

    async def replace_programme(self, programme: Programme, now: dt.datetime) -> ProgrammeChanges:
        """Store ``programme`` as the current one and report what changed."""
        ...

    async def add_login_grant(self, grant: LoginGrant) -> None: ...

    async def redeem_login_grant(self, secret_hash: str, now: dt.datetime) -> LoginGrant | None:
        """Mark the grant used and return it; ``None`` if unknown, used or expired."""
        ...

    async def ping(self) -> None:
        """Raise if the backend cannot serve requests."""
        ...

    async def close(self) -> None: ...
