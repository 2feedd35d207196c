"""The conference programme: conference, days, rooms, tracks, sessions and speakers.

Sessions are keyed by the schedule's stable ``guid``; ``code`` is the short public key used
in URLs (``/sessions/<code>``). All datetimes are timezone-aware.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal
from zoneinfo import ZoneInfo

SessionState = Literal["upcoming", "live", "ended"]


@dataclass(frozen=True, slots=True)
class Speaker:
    key: str
    """Stable id from the schedule (pretalx speaker code or frab person id)."""
    name: str
    biography: str = ""


@dataclass(frozen=True, slots=True)
class Link:
    url: str
    title: str


@dataclass(frozen=True, slots=True)
class Session:
    guid: str
    code: str
    slug: str
    title: str
    start: dt.datetime
    end: dt.datetime
    room: str
    subtitle: str = ""
    type: str = ""
    track: str = ""
    language: str = ""
    abstract: str = ""
    description: str = ""
    speakers: tuple[Speaker, ...] = ()
    do_not_record: bool = False
    do_not_stream: bool = False
    recording_license: str = ""
    url: str = ""
    logo: str = ""
    links: tuple[Link, ...] = ()

    def state(self, now: dt.datetime) -> SessionState:
        if now < self.start:
            return "upcoming"
        if now < self.end:
            return "live"
        return "ended"

    @property
    def duration(self) -> dt.timedelta:
        # Subtracting in UTC gives elapsed time; within one zone it would be wall-clock time.
        return self.end.astimezone(dt.UTC) - self.start.astimezone(dt.UTC)


@dataclass(frozen=True, slots=True)
class Day:
    index: int
    date: dt.date
    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True, slots=True)
class Conference:
    acronym: str
    title: str
    time_zone: str
    start: dt.date
    end: dt.date
    base_url: str = ""

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


@dataclass(frozen=True, slots=True)
class Programme:
    conference: Conference
    days: tuple[Day, ...]
    rooms: tuple[str, ...]
    sessions: tuple[Session, ...] = field(default=())

    @property
    def tracks(self) -> tuple[str, ...]:
        return tuple(sorted({s.track for s in self.sessions if s.track}))

    @property
    def speakers(self) -> tuple[Speaker, ...]:
        by_key: dict[str, Speaker] = {}
        for session in self.sessions:
            for speaker in session.speakers:
                by_key.setdefault(speaker.key, speaker)
        return tuple(sorted(by_key.values(), key=lambda s: s.name.casefold()))

    def session_by_code(self, code: str) -> Session | None:
        return next((s for s in self.sessions if s.code == code), None)

    def sessions_on(self, day: Day) -> tuple[Session, ...]:
        return tuple(s for s in self.sessions if _within(s.start, day))

    def day_of(self, session: Session) -> Day | None:
        return next((d for d in self.days if _within(session.start, d)), None)


def _instant(moment: dt.datetime) -> dt.datetime:
    """``moment`` in UTC: two times in one zone compare as wall-clock times (``fold``
    ignored), wrong in the hour a DST change repeats."""
    return moment.astimezone(dt.UTC)


def _within(moment: dt.datetime, day: Day) -> bool:
    return _instant(day.start) <= _instant(moment) < _instant(day.end)


@dataclass(frozen=True, slots=True)
class NowAndNext:
    live: tuple[Session, ...]
    next: tuple[Session, ...]
    """The first upcoming session of each room, in start order."""


def now_and_next(programme: Programme, now: dt.datetime) -> NowAndNext:
    live = tuple(s for s in programme.sessions if s.state(now) == "live")
    first_upcoming: dict[str, Session] = {}
    for session in sorted(programme.sessions, key=lambda s: _instant(s.start)):
        if session.start > now:
            first_upcoming.setdefault(session.room, session)
    upcoming = sorted(first_upcoming.values(), key=lambda s: _instant(s.start))
    return NowAndNext(live=live, next=tuple(upcoming))


def sort_key(session: Session) -> tuple[dt.datetime, str, str]:
    return (_instant(session.start), session.room, session.guid)


class ProgrammeError(ValueError):
    """A programme that breaks an invariant (duplicate guid or code, end before start)."""


def validate(programme: Programme) -> Programme:
    """Check the invariants every stored programme keeps; return it sorted by start."""
    seen_guids: set[str] = set()
    seen_codes: set[str] = set()
    for session in programme.sessions:
        if session.guid in seen_guids:
            raise ProgrammeError(f"two sessions share the guid {session.guid!r}")
        if session.code in seen_codes:
            raise ProgrammeError(f"two sessions share the code {session.code!r}")
        seen_guids.add(session.guid)
        seen_codes.add(session.code)
        if session.start.tzinfo is None or session.end.tzinfo is None:
            raise ProgrammeError(f"session {session.code!r} has a start or end without time zone")
        if _instant(session.end) < _instant(session.start):
            raise ProgrammeError(f"session {session.code!r} ends before it starts")
    ZoneInfo(programme.conference.time_zone)
    ordered = tuple(sorted(programme.sessions, key=sort_key))
    if ordered == programme.sessions:
        return programme
    return Programme(
        conference=programme.conference,
        days=programme.days,
        rooms=programme.rooms,
        sessions=ordered,
    )
