"""View models: what each page shows, computed from the domain without I/O."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sessions.programme import Day, NowAndNext, Programme, Session, SessionState, now_and_next
from web import i18n


@dataclass(frozen=True, slots=True)
class SessionCard:
    session: Session
    state: SessionState


@dataclass(frozen=True, slots=True)
class RoomColumn:
    room: str
    sessions: tuple[SessionCard, ...]


@dataclass(frozen=True, slots=True)
class DayView:
    day: Day
    rooms: tuple[RoomColumn, ...]
    is_today: bool

    @property
    def anchor(self) -> str:
        return f"day-{self.day.index}"


@dataclass(frozen=True, slots=True)
class ProgrammePage:
    programme: Programme
    days: tuple[DayView, ...]
    now_and_next: NowAndNext
    now: dt.datetime


def programme_page(programme: Programme, now: dt.datetime) -> ProgrammePage:
    today = now.astimezone(programme.conference.zone).date()
    days = []
    for day in programme.days:
        on_day = programme.sessions_on(day)
        columns = tuple(
            RoomColumn(
                room=room,
                sessions=tuple(SessionCard(s, s.state(now)) for s in on_day if s.room == room),
            )
            for room in programme.rooms
            if any(s.room == room for s in on_day)
        )
        days.append(DayView(day=day, rooms=columns, is_today=day.date == today))
    return ProgrammePage(
        programme=programme,
        days=tuple(days),
        now_and_next=now_and_next(programme, now),
        now=now,
    )


@dataclass(frozen=True, slots=True)
class SessionPage:
    programme: Programme
    session: Session
    state: SessionState
    day: Day | None
    starts_in: dt.timedelta | None
    """Time left before an upcoming session starts."""


def session_page(programme: Programme, session: Session, now: dt.datetime) -> SessionPage:
    state = session.state(now)
    return SessionPage(
        programme=programme,
        session=session,
        state=state,
        day=programme.day_of(session),
        starts_in=session.start - now if state == "upcoming" else None,
    )


def humanize_delta(delta: dt.timedelta) -> str:
    """How long ``delta`` is, in the request's language ("30 min", "2 h 5 min", "3 days")."""
    language = i18n.current()
    minutes = int(delta.total_seconds() // 60)
    if minutes < 1:
        return language.gettext("less than a minute")
    if minutes < 60:
        return language.ngettext("%(num)s min", "%(num)s min", minutes)
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        if minutes:
            return language.gettext("%(hours)s h %(minutes)s min", hours=hours, minutes=minutes)
        return language.gettext("%(hours)s h", hours=hours)
    return language.ngettext("%(num)s day", "%(num)s days", hours // 24)
