from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from sessions.programme import Link, Programme, Session
from sessions.schedule_formats import MAX_SCHEDULE_BYTES, ScheduleFormatError, parse_schedule
from sessions.schedule_formats.common import duration

BERLIN = ZoneInfo("Europe/Berlin")
UTC = ZoneInfo("UTC")


def load(schedules_dir: Path, name: str, **options: str) -> Programme:
    return parse_schedule((schedules_dir / name).read_bytes(), **options)


def by_guid(programme: Programme, guid: str) -> Session:
    return next(s for s in programme.sessions if s.guid == guid)


def by_code(programme: Programme, code: str) -> Session:
    session = programme.session_by_code(code)
    assert session is not None
    return session


def democon(schedules_dir: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((schedules_dir / "pretalx-democon.json").read_bytes())
    return document


def first_event(document: dict[str, Any]) -> dict[str, Any]:
    event: dict[str, Any] = document["schedule"]["conference"]["days"][0]["rooms"]["Gray Room"][0]
    return event


def encode(document: dict[str, Any]) -> bytes:
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    ("name", "days", "rooms", "sessions", "speakers", "appearances", "do_not_record"),
    [
        ("divoc-r2r-2021.frab.xml", 4, 1, 45, 48, 56, 10),
        ("divoc-ptt-2021.frab.xml", 3, 1, 23, 18, 26, 8),
        ("froscon-2013.frab.xml", 2, 17, 123, 109, 142, 0),
        ("pretalx-democon.json", 3, 2, 36, 27, 43, 2),
    ],
)
def test_fixture_counts(
    schedules_dir: Path,
    name: str,
    days: int,
    rooms: int,
    sessions: int,
    speakers: int,
    appearances: int,
    do_not_record: int,
) -> None:
    programme = load(schedules_dir, name, default_time_zone="Europe/Berlin")

    assert len(programme.days) == days
    assert len(programme.rooms) == rooms
    assert len(programme.sessions) == sessions
    assert len(programme.speakers) == speakers
    assert sum(len(s.speakers) for s in programme.sessions) == appearances
    assert sum(s.do_not_record for s in programme.sessions) == do_not_record
    assert not any(s.do_not_stream for s in programme.sessions)


@pytest.mark.parametrize(
    "name",
    [
        "divoc-r2r-2021.frab.xml",
        "divoc-ptt-2021.frab.xml",
        "froscon-2013.frab.xml",
        "pretalx-democon.json",
    ],
)
def test_every_session_starts_within_a_day_in_the_conference_zone(
    schedules_dir: Path, name: str
) -> None:
    programme = load(schedules_dir, name, default_time_zone="Europe/Berlin")

    for session in programme.sessions:
        assert programme.day_of(session) is not None, session.code
        assert session.start.tzinfo == programme.conference.zone
        assert session.end > session.start
    assert list(programme.sessions) == sorted(programme.sessions, key=lambda s: s.start)
    assert sum(len(programme.sessions_on(d)) for d in programme.days) == len(programme.sessions)


def test_divoc_r2r_conference_and_days(schedules_dir: Path) -> None:
    programme = load(schedules_dir, "divoc-r2r-2021.frab.xml")

    conference = programme.conference
    assert conference.acronym == "divoc-reboot-to-respawn-2021"
    assert conference.title == "DiVOC - Reboot to Respawn"
    assert conference.time_zone == "Europe/Berlin"
    assert (conference.start, conference.end) == (dt.date(2021, 4, 2), dt.date(2021, 4, 5))
    assert conference.base_url == "https://pretalx.c3voc.de/divoc-reboot-to-respawn-2021/schedule/"
    assert programme.rooms == ("Piscopia",)
    first = programme.days[0]
    assert (first.index, first.date) == (1, dt.date(2021, 4, 2))
    assert first.start == dt.datetime(2021, 4, 2, 4, 0, tzinfo=BERLIN)
    assert first.end == dt.datetime(2021, 4, 3, 4, 0, tzinfo=BERLIN)
    assert [d.index for d in programme.days] == [1, 2, 3, 4]


def test_divoc_r2r_opening(schedules_dir: Path) -> None:
    programme = load(schedules_dir, "divoc-r2r-2021.frab.xml")

    opening = by_guid(programme, "13f65e09-37ea-5475-b396-f09e52baf295")
    assert opening.code == "38PPT7"
    assert opening.title == "Opening"
    assert opening.start == dt.datetime(2021, 4, 2, 10, 0, tzinfo=BERLIN)
    assert opening.start.isoformat() == "2021-04-02T10:00:00+02:00"
    assert opening.start.tzinfo == BERLIN
    assert opening.duration == dt.timedelta(minutes=15)
    assert opening.room == "Piscopia"
    assert opening.slug == "divoc-reboot-to-respawn-2021-33-opening"
    assert opening.url == "https://pretalx.c3voc.de/divoc-reboot-to-respawn-2021/talk/38PPT7/"
    assert opening.track == "Other"
    assert opening.type == "Talk/Performance (10 minutes + Q&A)"
    assert opening.language == "de"
    assert opening.abstract.startswith("Im Opening erzählen wir euch")
    assert opening.abstract.endswith("https://di.c3voc.de/r2r:start")
    assert (opening.subtitle, opening.description, opening.logo) == ("", "", "")
    assert [(s.key, s.name, s.biography) for s in opening.speakers] == [
        ("10", "hexchen", ""),
        ("5", "NicKira", ""),
    ]
    assert opening.links == ()
    assert not opening.do_not_record


def test_divoc_r2r_relative_logos_become_absolute(schedules_dir: Path) -> None:
    programme = load(schedules_dir, "divoc-r2r-2021.frab.xml")

    logos = [s.logo for s in programme.sessions if s.logo]
    assert len(logos) == 17
    assert all(logo.startswith("https://pretalx.c3voc.de/media/") for logo in logos)


def test_divoc_ptt_days_and_logos(schedules_dir: Path) -> None:
    programme = load(schedules_dir, "divoc-ptt-2021.frab.xml")

    assert programme.conference.title == "DiVOC – Push To Talk"
    assert [d.date for d in programme.days] == [
        dt.date(2020, 9, 4),
        dt.date(2020, 9, 5),
        dt.date(2020, 9, 6),
    ]
    assert all(
        s.logo.startswith("https://talks.mrmcd.net/media/ptt/")
        for s in programme.sessions
        if s.logo
    )
    opening = by_code(programme, "CKHNL9")
    assert opening.start == dt.datetime(2020, 9, 4, 18, 0, tzinfo=BERLIN)


def test_froscon_old_frab_uses_the_default_time_zone(schedules_dir: Path) -> None:
    programme = load(schedules_dir, "froscon-2013.frab.xml", default_time_zone="Europe/Berlin")

    assert programme.conference.time_zone == "Europe/Berlin"
    assert programme.conference.base_url == ""
    talk = by_code(programme, "1212")
    assert talk.guid == "8tXkx-Ci8nmdmvZneMp93g"
    assert talk.title == "Verkehrte Welt"
    assert talk.subtitle == "Linux im High Performance Computing"
    assert talk.start == dt.datetime(2013, 8, 24, 10, 0, tzinfo=BERLIN)
    assert talk.start.astimezone(UTC) == dt.datetime(2013, 8, 24, 8, 0, tzinfo=UTC)
    assert talk.duration == dt.timedelta(hours=1)
    assert talk.room == "HS1/2"
    assert talk.speakers[0].key == "805"
    assert talk.speakers[0].name == "Holger Gantikow"
    assert programme.days[0].start == dt.datetime(2013, 8, 24, 4, 0, tzinfo=BERLIN)
    assert programme.days[1].end == dt.datetime(2013, 8, 26, 4, 0, tzinfo=BERLIN)


def test_froscon_without_a_default_zone_is_utc(schedules_dir: Path) -> None:
    programme = load(schedules_dir, "froscon-2013.frab.xml")

    assert programme.conference.time_zone == "UTC"
    assert by_code(programme, "1212").start == dt.datetime(2013, 8, 24, 10, 0, tzinfo=UTC)


def test_froscon_rooms_in_order_of_first_appearance(schedules_dir: Path) -> None:
    programme = load(schedules_dir, "froscon-2013.frab.xml")

    assert programme.rooms[:4] == ("HS1/2", "HS3", "HS4", "HS5")
    assert programme.rooms[-1] == "C177/FrogLabs 2"
    assert "C119/Hauptkonferenz" in programme.rooms
    assert len(set(programme.rooms)) == len(programme.rooms)


def test_froscon_links(schedules_dir: Path) -> None:
    programme = load(schedules_dir, "froscon-2013.frab.xml")

    persona = by_code(programme, "1131")
    assert persona.title.startswith("Persona:")
    assert persona.links == (
        Link("https://login.persona.org/about", "About Mozilla Persona"),
        Link("https://github.com/mozilla/browserid/", "Source code"),
        Link("https://developer.mozilla.org/docs/persona", "Documentation"),
    )
    assert sum(len(s.links) for s in programme.sessions) == 61


def test_democon_keeps_the_instant_in_the_conference_zone(schedules_dir: Path) -> None:
    programme = load(schedules_dir, "pretalx-democon.json", default_time_zone="Europe/Berlin")

    talk = by_guid(programme, "8079583e-8321-506c-95af-fd2903a5f075")
    assert talk.start == dt.datetime(2020, 12, 14, 8, 0, tzinfo=UTC)
    assert talk.start.tzinfo == UTC
    assert talk.duration == dt.timedelta(minutes=30)
    assert talk.code == "G9JGWY"
    assert talk.room == "Gray Room"
    assert talk.speakers[0].key == "NQTF8Y"
    assert talk.speakers[0].name == "Brian Robinson"
    assert talk.speakers[0].biography.startswith("Break through direction.")
    assert programme.conference.time_zone == "UTC"
    assert programme.conference.base_url == "http://localhost/democon/schedule/"
    assert programme.rooms == ("Gray Room", "Tan Room")
    assert programme.days[0].start == dt.datetime(2020, 12, 14, 3, 0, tzinfo=UTC)
    assert programme.days[0].end == dt.datetime(2020, 12, 15, 3, 0, tzinfo=UTC)


def test_a_utf8_bom_and_leading_whitespace_are_ignored(schedules_dir: Path) -> None:
    data = (schedules_dir / "pretalx-democon.json").read_bytes()

    programme = parse_schedule(b"\xef\xbb\xbf \n" + data)

    assert len(programme.sessions) == 36


def test_json_links_may_be_objects_or_strings(schedules_dir: Path) -> None:
    document = democon(schedules_dir)
    first_event(document)["links"] = [
        {"url": "https://example.org/slides.pdf", "title": "Slides", "type": "slides"},
        "https://example.org/paper",
        {"url": "/media/x.png"},
    ]

    talk = by_guid(parse_schedule(encode(document)), "8079583e-8321-506c-95af-fd2903a5f075")

    assert talk.links == (
        Link("https://example.org/slides.pdf", "Slides"),
        Link("https://example.org/paper", "https://example.org/paper"),
        Link("/media/x.png", "/media/x.png"),
    )


def test_json_code_falls_back_to_the_event_id(schedules_dir: Path) -> None:
    document = democon(schedules_dir)
    event = first_event(document)
    del event["url"]
    event["logo"] = "media/logo.png"
    event["title"] = "  Spaced\r\n out  "
    event["subtitle"] = None

    talk = by_guid(parse_schedule(encode(document)), "8079583e-8321-506c-95af-fd2903a5f075")

    assert talk.code == "25"
    assert talk.url == ""
    assert talk.logo == "http://localhost/democon/schedule/media/logo.png"
    assert talk.title == "Spaced\n out"
    assert talk.subtitle == ""


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ("03:30", dt.datetime(2020, 12, 14, 3, 30, tzinfo=UTC)),
        ("02:30", dt.datetime(2020, 12, 15, 2, 30, tzinfo=UTC)),
    ],
)
def test_json_event_without_date_uses_the_day_and_its_day_change(
    schedules_dir: Path, start: str, expected: dt.datetime
) -> None:
    document = democon(schedules_dir)
    event = first_event(document)
    del event["date"]
    event["start"] = start

    talk = by_guid(parse_schedule(encode(document)), "8079583e-8321-506c-95af-fd2903a5f075")

    assert talk.start == expected


def test_json_recording_fields(schedules_dir: Path) -> None:
    document = democon(schedules_dir)
    event = first_event(document)
    event["do_not_record"] = True
    event["recording_license"] = "CC BY 4.0"

    talk = by_guid(parse_schedule(encode(document)), "8079583e-8321-506c-95af-fd2903a5f075")

    assert talk.do_not_record
    assert talk.recording_license == "CC BY 4.0"


OLD_FRAB = """<?xml version='1.0' encoding='utf-8' ?>
<schedule>
<conference><acronym>late</acronym><title>Late Night</title>
<start>2024-03-30</start><end>2024-03-30</end></conference>
<day date='2024-03-30' index='1'>
<room name='Bar'>
<event guid='late-1' id='7'><start>{start}</start><duration>{duration}</duration>
<room>Bar</room><title>After midnight</title>
<recording><license>CC0</license><optout>true</optout></recording>
<logo>https://example.org/logo.png</logo>
<persons><person id='1'> Ada </person></persons>
<links><link href='https://example.org'></link></links>
</event>
</room>
</day>
</schedule>
"""


def old_frab(start: str = "01:30", length: str = "00:45") -> bytes:
    """One event on the night Berlin moves its clocks from 02:00 to 03:00."""
    return OLD_FRAB.format(start=start, duration=length).encode()


def test_old_frab_start_before_four_belongs_to_the_next_date() -> None:
    programme = parse_schedule(old_frab(), default_time_zone="Europe/Berlin")

    (session,) = programme.sessions
    assert session.start == dt.datetime(2024, 3, 31, 1, 30, tzinfo=BERLIN)
    assert session.end.astimezone(UTC) == dt.datetime(2024, 3, 31, 1, 15, tzinfo=UTC)
    assert session.end.isoformat() == "2024-03-31T03:15:00+02:00"
    assert programme.day_of(session) == programme.days[0]
    assert session.code == "7"
    assert session.do_not_record
    assert session.recording_license == "CC0"
    assert session.logo == "https://example.org/logo.png"
    assert session.speakers[0].name == "Ada"
    assert session.links == (Link("https://example.org", "https://example.org"),)


def test_a_start_in_the_dst_gap_moves_past_it() -> None:
    (session,) = parse_schedule(old_frab(start="02:30"), default_time_zone="Europe/Berlin").sessions

    assert session.start.isoformat() == "2024-03-31T03:30:00+02:00"


def test_old_frab_start_after_four_stays_on_the_day() -> None:
    (session,) = parse_schedule(old_frab(start="23:00")).sessions

    assert session.start == dt.datetime(2024, 3, 30, 23, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("00:30", dt.timedelta(minutes=30)),
        ("01:30", dt.timedelta(hours=1, minutes=30)),
        ("26:00", dt.timedelta(hours=26)),
        ("01:30:15", dt.timedelta(hours=1, minutes=30, seconds=15)),
        ("00:45:00", dt.timedelta(minutes=45)),
        ("1:02:30", dt.timedelta(days=1, hours=2, minutes=30)),
        (" 00:05 ", dt.timedelta(minutes=5)),
    ],
)
def test_duration_formats(text: str, expected: dt.timedelta) -> None:
    assert duration(text, "event 1") == expected


@pytest.mark.parametrize("text", ["abc", "1:60", "-0:30", "00:30:00:00", "1h", "0.5:00"])
def test_duration_rejects(text: str) -> None:
    with pytest.raises(ScheduleFormatError, match="is not HH:MM"):
        duration(text, "event 1")


def test_an_unused_default_zone_is_not_checked(schedules_dir: Path) -> None:
    programme = load(schedules_dir, "divoc-ptt-2021.frab.xml", default_time_zone="Nowhere/Town")

    assert programme.conference.time_zone == "Europe/Berlin"


def test_public_limit() -> None:
    assert MAX_SCHEDULE_BYTES == 16 * 1024 * 1024
    assert issubclass(ScheduleFormatError, ValueError)


def test_pretalx_json_do_not_stream_is_read(schedules_dir: Path) -> None:
    document = json.loads((schedules_dir / "pretalx-democon.json").read_bytes())
    first_room = next(iter(document["schedule"]["conference"]["days"][0]["rooms"].values()))
    first_room[0]["do_not_stream"] = True
    parsed = parse_schedule(json.dumps(document).encode())
    flagged = [s.guid for s in parsed.sessions if s.do_not_stream]
    assert flagged == [first_room[0]["guid"]]
