"""Builders shared by the tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from server.settings import Settings
from sessions.programme import Conference, Day, Programme, Session, Speaker

VIENNA = ZoneInfo("Europe/Vienna")
SECRET = b"test-secret-key-0123456789abcdef0123456789"


def settings_for(data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {"data_dir": data_dir, "secret_key": SECRET, "port": 0}
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 5, day, hour, minute, tzinfo=VIENNA)


def session(code: str, start: dt.datetime, minutes: int = 60, **fields: object) -> Session:
    values: dict[str, object] = {
        "guid": f"guid-{code}",
        "code": code,
        "slug": code,
        "title": f"Session {code}",
        "start": start,
        "end": start + dt.timedelta(minutes=minutes),
        "room": "Main Hall",
        "speakers": (Speaker("s1", "Ada Example"),),
    }
    values.update(fields)
    return Session(**values)  # type: ignore[arg-type]


def programme(*sessions: Session, title: str = "Test Conference") -> Programme:
    days = tuple(
        Day(index=i, date=at(d, 0).date(), start=at(d, 4), end=at(d + 1, 4))
        for i, d in enumerate((11, 12), start=1)
    )
    return Programme(
        conference=Conference(
            acronym="test",
            title=title,
            time_zone="Europe/Vienna",
            start=days[0].date,
            end=days[-1].date,
        ),
        days=days,
        rooms=tuple(dict.fromkeys(s.room for s in sessions)) or ("Main Hall",),
        sessions=tuple(sessions),
    )
