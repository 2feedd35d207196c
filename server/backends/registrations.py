"""The registrations part of the store: who registered, and who came in at the door."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from sessions.registrations import CheckIn, Registration, RegistrationChanges


class RegistrationStore(Protocol):
    """The conference's registrations, shared by every process.

    Guarantees every implementation keeps (``tests/contract/test_registrations_store.py``):

    - **Atomic import.** :meth:`import_registrations` stores the whole export or, when it
      raises, nothing; readers in any process never see half an import, and two imports or
      an import and a check-in racing each other end as if one ran after the other.
    - **Identity by key.** A registration is known by its ``key`` (the source's own id, else
      the e-mail address) across imports, and keeps its ``participant_id`` and its check-in
      whatever else a later export changes about it.
    - **Check-in once.** :meth:`check_in` stamps the first arrival only; later ones (from
      any process) answer when that was.
    - **Erasure really deletes.** A registration removed by an import, or erased on request,
      leaves no personal data readable through the store (SQLite overwrites the freed
      pages and truncates its write-ahead log; Redis deletes the fields; a Redis AOF keeps
      old commands until its next rewrite).
    """

    async def import_registrations(
        self, registrations: Sequence[Registration], *, dry_run: bool = False
    ) -> RegistrationChanges:
        """Make ``registrations`` (each key once; ``participant_id`` and ``checked_in_at``
        ignored) the conference's registrations, as :func:`sessions.registrations.plan_import`
        says; with ``dry_run``, only say what that would change."""
        ...

    async def list_registrations(self) -> list[Registration]:
        """Everyone registered, by name."""
        ...

    async def registration(self, key: str) -> Registration | None: ...

    async def registration_of(self, participant_id: str) -> Registration | None: ...

    async def check_in(self, key: str, now: dt.datetime) -> CheckIn | None:
        """Mark the registration checked in at ``now`` unless it already is; ``None`` if
        there is no such registration."""
        ...

    async def erase_registration(self, key: str) -> Registration | None:
        """Delete the registration and its personal data; return what it was, or ``None``
        if there was none."""
        ...
