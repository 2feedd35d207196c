"""The people registered for the conference, as the organiser's registration system exports
them (pretix, Indico or a spreadsheet), and what a re-import of that export changes.

Pure: reading the export is :mod:`sessions.registration_import`; storing it is the store's
(:class:`server.backends.registrations.RegistrationStore`), which calls :func:`plan_import`
inside its transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

Attends = Literal["in_person", "remote"]

PERSONAL_FIELDS = (
    "name",
    "email",
    "attends",
    "organisation",
    "delegation_type",
    "country",
    "language",
)
"""What an export says about a person: compared on re-import, deleted on erasure."""


@dataclass(frozen=True, slots=True)
class Registration:
    key: str
    """Stable across re-imports: the source's own id (pretix order position, Indico
    registration id), else the e-mail address in lower case."""
    participant_id: str
    """The identity Plenaria gives this person (their personal link signs them in as it), so
    what they do on the platform can be counted against their registration."""
    name: str
    email: str
    attends: Attends
    organisation: str = ""
    delegation_type: str = ""
    country: str = ""
    """ISO 3166-1 alpha-2, upper case; empty when unknown."""
    language: str = ""
    checked_in_at: dt.datetime | None = None

    @property
    def in_person(self) -> bool:
        return self.attends == "in_person"

    def differences(self, other: Registration) -> tuple[str, ...]:
        """The personal fields whose values differ in ``other``."""
        return tuple(f for f in PERSONAL_FIELDS if getattr(self, f) != getattr(other, f))


@dataclass(frozen=True, slots=True)
class RegistrationUpdate:
    before: Registration
    after: Registration
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RegistrationChanges:
    """What an import did (or, in a dry run, would do)."""

    added: tuple[Registration, ...] = ()
    updated: tuple[RegistrationUpdate, ...] = ()
    unchanged: tuple[Registration, ...] = ()
    removed: tuple[Registration, ...] = ()
    """Absent from the new export: deleted, with their personal data."""
    kept: tuple[Registration, ...] = ()
    """Absent from the new export but already checked in: kept (they came)."""

    @property
    def changed_anything(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged, {len(self.removed)} removed, "
            f"{len(self.kept)} kept (checked in, no longer in the export)"
        )


@dataclass(frozen=True, slots=True)
class ImportPlan:
    registrations: tuple[Registration, ...]
    """Everyone registered after the import, in the export's order (kept people last)."""
    changes: RegistrationChanges


def plan_import(
    current: Iterable[Registration],
    incoming: Sequence[Registration],
    new_participant_id: Callable[[], str],
) -> ImportPlan:
    """What storing ``incoming`` over ``current`` makes: each key keeps its participant id
    and check-in; new keys get a fresh participant id; keys no longer listed are removed,
    except people already checked in, who are kept as they were."""
    by_key = {registration.key: registration for registration in current}
    listed = {registration.key for registration in incoming}
    if len(listed) != len(incoming):
        raise ValueError("an import lists each key once")
    stored: list[Registration] = []
    added: list[Registration] = []
    updated: list[RegistrationUpdate] = []
    unchanged: list[Registration] = []
    for registration in incoming:
        before = by_key.get(registration.key)
        if before is None:
            after = replace(registration, participant_id=new_participant_id(), checked_in_at=None)
            added.append(after)
        else:
            after = replace(
                registration,
                participant_id=before.participant_id,
                checked_in_at=before.checked_in_at,
            )
            fields = before.differences(after)
            if fields:
                updated.append(RegistrationUpdate(before, after, fields))
            else:
                unchanged.append(after)
        stored.append(after)
    removed: list[Registration] = []
    kept: list[Registration] = []
    for key, registration in by_key.items():
        if key in listed:
            continue
        if registration.checked_in_at is not None:
            kept.append(registration)
            stored.append(registration)
        else:
            removed.append(registration)
    changes = RegistrationChanges(
        tuple(added), tuple(updated), tuple(unchanged), tuple(removed), tuple(kept)
    )
    return ImportPlan(tuple(stored), changes)


@dataclass(frozen=True, slots=True)
class CheckIn:
    """The answer at the door: who it is, and whether they had already come in."""

    registration: Registration
    """With ``checked_in_at`` set: now, or when they first came in."""
    already: bool
