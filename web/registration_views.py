"""Registrations as the organisers' pages and API, the door and the CLI see them."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence

import msgspec

from sessions.registration_import import normalised
from sessions.registrations import CheckIn, Registration, RegistrationChanges

LISTED_CHANGES = 200
"""People named per kind of change in an import's answer (the counts are always whole)."""
SEARCH_RESULTS = 20


class RegistrationView(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    participant_id: str
    name: str
    email: str
    attends: str
    organisation: str
    delegation_type: str
    country: str
    country_name: str
    language: str
    checked_in_at: str | None


class ArrivalView(msgspec.Struct, frozen=True, kw_only=True):
    """Who came to the door: no e-mail address, the door staff need none."""

    participant_id: str
    name: str
    organisation: str
    delegation_type: str
    country: str
    country_name: str
    attends: str
    checked_in_at: str | None


class CheckInView(msgspec.Struct, frozen=True, kw_only=True):
    already: bool
    """Checked in before this scan (``at`` says when), else just now."""
    at: str
    person: ArrivalView


class UpdateView(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    name: str
    fields: list[str]


class PersonChange(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    name: str


class ChangesView(msgspec.Struct, frozen=True, kw_only=True):
    added: int
    updated: int
    unchanged: int
    removed: int
    kept: int
    """Absent from the export but checked in already: kept."""
    added_people: list[PersonChange]
    updated_people: list[UpdateView]
    removed_people: list[PersonChange]
    kept_people: list[PersonChange]


class ImportView(msgspec.Struct, frozen=True, kw_only=True):
    dry_run: bool
    changes: ChangesView
    skipped_lines: list[int]
    """Rows of people whose status says they are not coming (cancelled, withdrawn)."""
    attendance_assumed: bool
    """The export says nothing of in person or remote: everyone counts as in person."""


class ProblemView(msgspec.Struct, frozen=True):
    line: int
    message: str


class Counts(msgspec.Struct, frozen=True, kw_only=True):
    total: int
    in_person: int
    remote: int
    checked_in: int
    by_delegation_type: list[tuple[str, int]]


def registration_view(registration: Registration, locale: str = "en") -> RegistrationView:
    return RegistrationView(
        key=registration.key,
        participant_id=registration.participant_id,
        name=registration.name,
        email=registration.email,
        attends=registration.attends,
        organisation=registration.organisation,
        delegation_type=registration.delegation_type,
        country=registration.country,
        country_name=territory(registration.country, locale),
        language=registration.language,
        checked_in_at=_iso(registration.checked_in_at),
    )


def arrival_view(registration: Registration, locale: str = "en") -> ArrivalView:
    return ArrivalView(
        participant_id=registration.participant_id,
        name=registration.name,
        organisation=registration.organisation,
        delegation_type=registration.delegation_type,
        country=registration.country,
        country_name=territory(registration.country, locale),
        attends=registration.attends,
        checked_in_at=_iso(registration.checked_in_at),
    )


def check_in_view(check_in: CheckIn, locale: str = "en") -> CheckInView:
    at = check_in.registration.checked_in_at
    assert at is not None
    return CheckInView(
        already=check_in.already,
        at=at.isoformat(),
        person=arrival_view(check_in.registration, locale),
    )


def _people(registrations: Iterable[Registration]) -> list[PersonChange]:
    return [PersonChange(key=r.key, name=r.name) for r in registrations][:LISTED_CHANGES]


def changes_view(changes: RegistrationChanges) -> ChangesView:
    return ChangesView(
        added=len(changes.added),
        updated=len(changes.updated),
        unchanged=len(changes.unchanged),
        removed=len(changes.removed),
        kept=len(changes.kept),
        added_people=_people(changes.added),
        updated_people=[
            UpdateView(key=u.after.key, name=u.after.name, fields=list(u.fields))
            for u in changes.updated[:LISTED_CHANGES]
        ],
        removed_people=_people(changes.removed),
        kept_people=_people(changes.kept),
    )


def counts(registrations: Sequence[Registration]) -> Counts:
    kinds = Counter(r.delegation_type for r in registrations)
    return Counts(
        total=len(registrations),
        in_person=sum(r.in_person for r in registrations),
        remote=sum(not r.in_person for r in registrations),
        checked_in=sum(r.checked_in_at is not None for r in registrations),
        by_delegation_type=sorted(kinds.items(), key=lambda item: (-item[1], item[0])),
    )


def search(registrations: Sequence[Registration], query: str) -> list[Registration]:
    """Those whose name, e-mail, organisation, delegation type or country matches every
    word of ``query`` (case and accents ignored)."""
    words = [normalised(word) for word in query.split()]
    words = [word for word in words if word]
    if not words:
        return list(registrations)

    def text(r: Registration) -> str:
        return " ".join(
            normalised(value)
            for value in (r.name, r.email, r.organisation, r.delegation_type, r.country)
        )

    return [r for r in registrations if all(word in text(r) for word in words)]


def territory(code: str, locale: str = "en") -> str:
    """A country's name in ``locale`` (Babel's CLDR data); the code if Babel has none."""
    if not code:
        return ""
    from babel import Locale

    return str(Locale.parse(locale).territories.get(code, code))


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None
