"""How every backend stores a programme: msgspec JSON records, re-zoned when loaded.

Shared by the SQLite and Redis stores so that both encode the same bytes and load
programmes that compare equal and carry the conference's time zone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

import msgspec

from sessions.programme import Conference, Day, Programme, Session, sort_key


@dataclass(frozen=True, slots=True)
class ConferenceRecord:
    """The programme without its sessions: what a store keeps as one record."""

    conference: Conference
    days: tuple[Day, ...]
    rooms: tuple[str, ...]


encode = msgspec.json.Encoder().encode
decode_conference = msgspec.json.Decoder(ConferenceRecord).decode
decode_session = msgspec.json.Decoder(Session).decode


def conference_record(programme: Programme) -> ConferenceRecord:
    return ConferenceRecord(programme.conference, programme.days, programme.rooms)


def in_zone(session: Session, conference: Conference) -> Session:
    """JSON keeps only a UTC offset; put the session back into the conference's zone."""
    zone = conference.zone
    return replace(session, start=session.start.astimezone(zone), end=session.end.astimezone(zone))


def assemble_programme(record: ConferenceRecord, sessions: Iterable[Session]) -> Programme:
    """The programme of ``record`` with ``sessions`` (the active ones), re-zoned and sorted."""
    conference = record.conference
    zone = conference.zone
    return Programme(
        conference=conference,
        days=tuple(
            replace(day, start=day.start.astimezone(zone), end=day.end.astimezone(zone))
            for day in record.days
        ),
        rooms=record.rooms,
        sessions=tuple(sorted((in_zone(s, conference) for s in sessions), key=sort_key)),
    )
