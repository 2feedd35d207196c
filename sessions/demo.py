"""The built-in demo conference: two days in Vienna, scheduled around the moment it starts.

Whenever the demo starts, the first panel is live: it began ten minutes ago (on the
five-minute grid) and runs for another fifty.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sessions.programme import Conference, Day, Programme, Session, Speaker, validate

TIME_ZONE = "Europe/Vienna"
LIVE_PANEL_CODE = "panel-heat"
MAIN_HALL = "Main Hall"
SIDE_ROOM = "Salon Wien"
_NAMESPACE = uuid.UUID("8f6a4a36-3c1e-4c55-9d8e-5b0f0c7d1e21")


def _speaker(key: str, name: str, biography: str) -> Speaker:
    return Speaker(key=key, name=name, biography=biography)


SPEAKERS = {
    "amara": _speaker("amara", "Amara Okafor", "Urban climate researcher, University of Lagos."),
    "lena": _speaker("lena", "Lena Hofbauer", "Head of public space planning, City of Vienna."),
    "tomas": _speaker(
        "tomas", "Tomás Ribeiro", "Architect and co-founder of a Lisbon housing co-op."
    ),
    "yuki": _speaker("yuki", "Yuki Tanaka", "Data journalist covering transport and mobility."),
    "sofia": _speaker("sofia", "Sofia Lindqvist", "Moderator; former EU Parliament correspondent."),
    "jan": _speaker("jan", "Jan Novák", "Open-data lead at a Central European transit authority."),
    "mariam": _speaker("mariam", "Mariam Haddad", "Civic technologist, participatory budgeting."),
    "felix": _speaker("felix", "Felix Gruber", "Conference host and programme chair."),
    "ines": _speaker("ines", "Inês Carvalho", "Researcher in energy poverty and heat policy."),
}


@dataclass(frozen=True, slots=True)
class _Slot:
    code: str
    title: str
    room: str
    day: int
    start: dt.timedelta
    """Offset from the live panel's start (day 2 adds 24 h)."""
    minutes: int
    type: str
    track: str
    speakers: tuple[str, ...]
    abstract: str
    subtitle: str = ""
    language: str = "en"
    do_not_record: bool = False
    do_not_stream: bool = False


def _m(minutes: int) -> dt.timedelta:
    return dt.timedelta(minutes=minutes)


SLOTS: tuple[_Slot, ...] = (
    _Slot(
        "opening",
        "Opening: cities for everyone, in the room and at home",
        MAIN_HALL,
        1,
        _m(-40),
        25,
        "Opening",
        "Plenary",
        ("felix", "sofia"),
        "Welcome to two days on how cities adapt: how the programme works, how to ask "
        "questions from the hall and from home, and where the break-outs happen.",
    ),
    _Slot(
        LIVE_PANEL_CODE,
        "Cities after the heat: adapting public space",
        MAIN_HALL,
        1,
        _m(0),
        60,
        "Panel",
        "Climate adaptation",
        ("sofia", "amara", "lena", "tomas"),
        "Summers are getting hotter. Three practitioners discuss shade, water and trees "
        "in dense neighbourhoods, and who pays for it.",
        subtitle="Panel 1",
    ),
    _Slot(
        "newcomers",
        "Newcomers' meetup",
        SIDE_ROOM,
        1,
        _m(25),
        30,
        "Side event",
        "Community",
        ("felix",),
        "First time at the forum? Meet other participants, in the salon and online.",
    ),
    _Slot(
        "talk-open-data",
        "Open data for public transport: a moderated talk",
        MAIN_HALL,
        1,
        _m(75),
        45,
        "Talk",
        "Mobility",
        ("jan", "yuki"),
        "How timetable and ridership data became public in six cities, and what "
        "journalists did with it. Moderated by Yuki Tanaka.",
    ),
    _Slot(
        "panel-housing",
        "Affordable homes in a growing city",
        MAIN_HALL,
        1,
        _m(135),
        60,
        "Panel",
        "Housing",
        ("sofia", "tomas", "lena", "ines"),
        "Co-ops, municipal housing and renovation without displacement: lessons from "
        "Vienna and Lisbon.",
        subtitle="Panel 2",
    ),
    _Slot(
        "workshop-budgets",
        "Workshop: designing a participatory budget",
        SIDE_ROOM,
        1,
        _m(150),
        90,
        "Workshop",
        "Participation",
        ("mariam",),
        "A hands-on session in small groups: from a citizens' idea to a funded project.",
        do_not_record=True,
    ),
    _Slot(
        "reception",
        "Evening reception at the City Hall",
        "Rathaus",
        1,
        _m(300),
        120,
        "Side event",
        "Community",
        (),
        "Drinks and conversation for everyone in Vienna. Not streamed.",
        language="de",
        do_not_record=True,
        do_not_stream=True,
    ),
    _Slot(
        "panel-energy",
        "Heat, energy and the people who cannot pay",
        MAIN_HALL,
        2,
        _m(0),
        60,
        "Panel",
        "Climate adaptation",
        ("sofia", "ines", "amara", "jan"),
        "Energy poverty meets heat waves: what social policy and building codes can do.",
        subtitle="Panel 3",
    ),
    _Slot(
        "side-interpretation",
        "Behind the booth: conference interpretation",
        SIDE_ROOM,
        2,
        _m(15),
        30,
        "Side event",
        "Community",
        ("felix",),
        "A look at how the interpreters work in a hybrid conference.",
        language="de",
    ),
    _Slot(
        "closing",
        "Closing and what comes next",
        MAIN_HALL,
        2,
        _m(75),
        30,
        "Closing",
        "Plenary",
        ("felix", "sofia"),
        "Highlights from two days, the questions we could not take, and next year's forum.",
    ),
)


def live_panel_start(now: dt.datetime) -> dt.datetime:
    """Ten minutes before the last five-minute mark, in UTC: arithmetic on a local time is
    wall-clock arithmetic, an hour off across a DST change (Vienna's offsets are whole
    hours, so the five-minute marks are the same)."""
    utc = now.astimezone(dt.UTC).replace(second=0, microsecond=0)
    return utc - dt.timedelta(minutes=utc.minute % 5) - dt.timedelta(minutes=10)


def demo_programme(now: dt.datetime) -> Programme:
    zone = ZoneInfo(TIME_ZONE)
    anchor = live_panel_start(now)
    first_day_start = anchor - dt.timedelta(hours=2)
    days = tuple(
        Day(
            index=index,
            date=(first_day_start + dt.timedelta(days=index - 1)).astimezone(zone).date(),
            start=(first_day_start + dt.timedelta(days=index - 1)).astimezone(zone),
            end=(first_day_start + dt.timedelta(days=index)).astimezone(zone),
        )
        for index in (1, 2)
    )
    sessions = tuple(
        Session(
            guid=str(uuid.uuid5(_NAMESPACE, slot.code)),
            code=slot.code,
            slug=f"hfv26-{slot.code}",
            title=slot.title,
            subtitle=slot.subtitle,
            # In UTC (``anchor`` is), then to the conference's zone.
            start=(start := anchor + dt.timedelta(days=slot.day - 1) + slot.start).astimezone(zone),
            end=(start + dt.timedelta(minutes=slot.minutes)).astimezone(zone),
            room=slot.room,
            type=slot.type,
            track=slot.track,
            language=slot.language,
            abstract=slot.abstract,
            speakers=tuple(SPEAKERS[key] for key in slot.speakers),
            do_not_record=slot.do_not_record,
            do_not_stream=slot.do_not_stream,
        )
        for slot in SLOTS
    )
    conference = Conference(
        acronym="hfv26",
        title="Hybrid Futures Vienna 2026",
        time_zone=TIME_ZONE,
        start=days[0].date,
        end=days[-1].date,
    )
    return validate(
        Programme(
            conference=conference,
            days=days,
            rooms=(MAIN_HALL, SIDE_ROOM, "Rathaus"),
            sessions=sessions,
        )
    )
