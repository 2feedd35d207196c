"""The import entries, fuzzed: programmes (frab XML, pretalx JSON) and registration CSV.

A programme has no HTTP route: ``plenaria programme import`` reads the export from a file or
a URL (:func:`read_schedule_source`), parses it (:func:`parse_schedule`) and stores it
(``Store.replace_programme``; with ``--dry-run`` it compares instead), then prints
:func:`server.cli.describe` and :func:`server.cli.report`. The programme entries drive
exactly that, in-process on the server's loop against ``server.app[STORE]``, and count the
outcomes themselves: a :class:`ScheduleFormatError` or :class:`ScheduleSourceError` (what
the CLI prints) is noted ``422 schedule.<kind>``, any other exception ``500 <type>`` (a
server error), more than 5 s a hang, and a refusal or a dry run must leave the store's
fingerprint as it was. The bytes read from the file or URL must be the bytes served; after
an accepted import the stored programme must be the one parsed, and a programme page must
answer 200 for it.

Registration exports have two HTTP routes, both fuzzed through ``server.request``: the
API's ``text/csv`` body and the organisers' page's multipart upload (the only other CSV
import in the code; the CLI reads files with the same reader). An accepted import must hold
exactly the people :func:`read_registrations` reads from the bytes sent.

Every strategy is structure-aware: it starts from a real export (``tests/fixtures``) or a
generated valid one, and then mutates it (or not: a fair share stays valid). A valid
document that is refused, a non-organiser who is not refused, an import that is not what
was sent, and a page that fails after an accepted import are contract breaches, noted with
the server errors, so ``tally.failures`` holds them too.
"""

from __future__ import annotations

import asyncio
import copy
import csv
import datetime as dt
import functools
import io
import json
import random
import re
import tempfile
import time
import traceback
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import quote_from_bytes
from zoneinfo import ZoneInfo

import defusedxml.ElementTree as SafeElementTree
from aiohttp import web
from hypothesis import strategies as st

from server.cli import describe, report
from server.keys import STORE
from server.programme.source import ScheduleSourceError, read_schedule_source
from sessions.programme import Programme
from sessions.programme_changes import compare
from sessions.registration_import import (
    COLUMNS,
    MAX_BYTES,
    MAX_ROWS,
    RegistrationImportError,
    attendance,
    country_code,
    language_code,
    normalised,
    read_registrations,
)
from sessions.roles import CONFERENCE_SCOPE, Role
from sessions.schedule_formats import ScheduleFormatError, parse_schedule
from tests.conftest import SCHEDULES
from tests.fuzz.harness import (
    HANG_AFTER,
    Answer,
    FuzzEntry,
    FuzzServer,
    Tally,
    each_answer,
    identity_headers,
    run_examples,
)
from tests.unit.test_schedule_formats_hostile import JSON_VALUES, fixture_bytes

T = TypeVar("T")

REGISTRATION_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "registrations"
FRAB_FIXTURES = ("divoc-r2r-2021.frab.xml", "divoc-ptt-2021.frab.xml", "froscon-2013.frab.xml")
PRETALX_FIXTURE = "pretalx-democon.json"

POSITIONS = st.integers(min_value=0, max_value=1 << 16)
"""Where a mutation acts: an index taken modulo the number of places there are."""


@dataclass(frozen=True)
class Mutation:
    op: str
    at: int = 0
    other: int = 0
    value: object = None

    def __repr__(self) -> str:
        shown = "" if self.value is None else f" {self.value!r:.40}"
        return f"{self.op}@{self.at}/{self.other}{shown}"


# -- hostile values ---------------------------------------------------------------------------

ODD_TEXT: tuple[str, ...] = (
    "", " ", "\t\n", "0", "-1", "true", "false", "null", "NaN", "1e999",
    # dates and times: impossible, out of range, in a DST gap, before standard time
    "2024-02-30", "2024-02-30T10:00:00+01:00", "2024-13-01", "0001-01-01",
    "0001-01-01T00:00:00+14:00", "0001-01-01T00:30:00", "9999-12-31", "9999-12-31T23:59:59-12:00",
    "9999-12-31T23:00:00", "1850-06-01T10:00:00", "1850-06-01", "2024-03-31T02:30:00",
    "2024-10-27T02:30:00", "2024-03-31T02:30:00+02:00", "2024-06-01T10:00:00Z",
    "2024-06-01T10:00:00+25:00", "2024-06-01 10:00", "20240601T100000", "2024-W22-6",
    # durations and wall times
    "10:00", "24:00", "23:60", "-01:00", "00:00", "0:00", "999:59", "9:23:59", "1:00:00",
    "1:00:00:00", "00:30:60", "PT30M",
    # time zones
    "Europe/Atlantis", "../../etc/passwd", "/etc/localtime", "UTC+1", "Etc/GMT+14", "etc/utc",
    "EST5EDT", "Factory",
    # URLs and codes
    "javascript:alert(1)", "http://[::1", "//evil.example/x", "https://example.org/talk/../../admin/",
    "https://example.org/talk/A B/", "https://example.org/talk/" + "X" * 65 + "/",
    # markup, control characters, unicode, sizes
    "<script>alert(1)</script>", "{{ 7*7 }}", "%s%n", "\u202eevil", "\x00", "a\x00b", "\ufeff",
    "\ud800", "Z\u0307\u0301" * 50, "🎤" * 300, "x" * 501, "x" * 2_001, "x" * 100_001,
)  # fmt: skip
ODD_KEYS = (
    "", "ID", "Title", "title ", "tıtle", "schedule", "days", "rooms", "__proto__", "ｔｉｔｌｅ",
)  # fmt: skip
SAFE_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Cn", "Zl", "Zp")), max_size=24
)
"""Text any cell or element may hold: no control characters, surrogates or line breaks."""
SAFE_CHARACTERS = (
    "aZé ßøİıǅ"  # Latin, with case-folding traps
    "ЖжЁё"  # Cyrillic
    "李娜会議"  # CJK
    "محمدעברית"  # right to left
    "\u0301\u0307\u200d\u200b\u00a0\u202e\u2066\ufeff"  # combining, joiners, marks
    "🎤👩🏽\u200d💻🇦🇹"  # emoji, also outside the BMP
    "<>&\"';,]]"  # markup and CSV's own characters
    "\ue000\U0010fffd"  # private use
)


def safe_text(rnd: random.Random, longest: int = 12) -> str:
    """What :data:`SAFE_TEXT` draws, made from a seeded generator: hypothesis draws one
    character at a time, far too slowly for whole documents."""
    return "".join(rnd.choice(SAFE_CHARACTERS) for _ in range(rnd.randint(0, longest)))


BYTE_MUTATIONS = st.one_of(
    st.builds(Mutation, st.just("truncate"), POSITIONS),
    st.builds(Mutation, st.just("insert"), POSITIONS, value=st.binary(min_size=1, max_size=16)),
    st.builds(
        Mutation,
        st.just("replace"),
        POSITIONS,
        st.integers(1, 64),
        value=st.binary(min_size=1, max_size=16),
    ),
    st.builds(Mutation, st.just("splice"), POSITIONS, POSITIONS),
    st.builds(
        Mutation,
        st.just("prefix"),
        value=st.sampled_from(
            (b"\xef\xbb\xbf", b" \n\t", b"\xef\xbb\xbf\xef\xbb\xbf", b"\x00", b"\xff\xfe")
        ),
    ),
)


def mutate_bytes(data: bytes, mutation: Mutation) -> bytes:
    at = mutation.at % (len(data) + 1)
    payload = mutation.value if isinstance(mutation.value, bytes) else b""
    match mutation.op:
        case "truncate":
            return data[:at]
        case "insert":
            return data[:at] + payload + data[at:]
        case "replace":
            return data[:at] + payload + data[at + mutation.other :]
        case "splice":
            other = mutation.other % (len(data) + 1)
            return data[:at] + data[other : other + 64] + data[at:]
        case "prefix":
            return payload + data
    raise AssertionError(mutation.op)


# -- schedules: generated valid documents ----------------------------------------------------

ZONES = (
    "UTC", "Europe/Berlin", "Europe/Vienna", "Europe/Dublin", "America/New_York",
    "America/St_Johns", "America/Sao_Paulo", "Asia/Kathmandu", "Asia/Tehran",
    "Australia/Lord_Howe", "Pacific/Chatham", "Pacific/Kiritimati", "Pacific/Pago_Pago",
    "Africa/Casablanca", "Etc/GMT-14",
)  # fmt: skip
"""Half-hour and quarter-hour offsets, +14 and -11, half-hour DST, negative DST (Dublin)."""
DATES = (
    dt.date(2026, 5, 11),
    dt.date(2024, 3, 31),  # Europe: summer time starts
    dt.date(2024, 10, 27),  # Europe: summer time ends
    dt.date(2024, 3, 10),  # North America: summer time starts
    dt.date(2024, 11, 3),
    dt.date(2024, 4, 7),  # Lord Howe and Chatham: summer time ends
    dt.date(2024, 9, 29),  # Chatham: summer time starts (02:45)
    dt.date(2024, 2, 29),
    dt.date(2024, 12, 31),
    dt.date(2021, 4, 2),
)
TITLES = (
    "Opening", "Closing plenary", "Eröffnung", "Открытие", "Clôture", "Sesión plenaria", "开幕式",
    "افتتاح الجلسة", "Q&A <b>live</b>", "Panel: \"quotes\" & 'apostrophes' ]]>", "🎤 Keynote",
    "Ταυτότητα", "नमस्ते दुनिया", "Verkehrte Welt",
)  # fmt: skip
SPEAKERS = ("Ada Lovelace", "Élodie Martin", "Елена Иванова", "李娜", "محمد علي", "Seán O'Brien")
ROOMS = ("Main Hall", "Salon", "Saal 1", "Зал", "会议室", "Room <A> & B", "HS1/2", "Piscopia")
ACRONYMS = ("democon", "divoc-r2r-2021", "froscon2013", "plenaria-2026", "конф-2026")


@dataclass(frozen=True)
class GeneratedSpeaker:
    number: int
    name: str
    biography: str


@dataclass(frozen=True)
class GeneratedEvent:
    serial: int
    guid: str
    number: int
    code: str
    title: str
    subtitle: str
    room: str
    start: dt.datetime
    minutes: int
    speakers: tuple[GeneratedSpeaker, ...]
    links: tuple[tuple[str, str], ...]
    do_not_record: bool
    do_not_stream: bool
    language: str
    track: str
    abstract: str


@dataclass(frozen=True)
class GeneratedDay:
    index: int
    date: dt.date
    events: tuple[GeneratedEvent, ...]


@dataclass(frozen=True)
class GeneratedSchedule:
    acronym: str
    title: str
    zone: str
    rooms: tuple[str, ...]
    days: tuple[GeneratedDay, ...]

    @property
    def base_url(self) -> str:
        return f"https://pretalx.example.org/{self.acronym}/"


def _guid(base: int, serial: int) -> str:
    """Guids from a bounded pool, so that a long run re-imports the same sessions instead of
    piling up removed ones."""
    return str(uuid.UUID(int=(base + serial) % 4096 + 1))


@st.composite
def generated_schedules(draw: st.DrawFn, big: bool = False) -> GeneratedSchedule:
    """A valid schedule: its shape drawn (zone, dates, rooms, events per room and day, their
    times), the words in it from a generator seeded by the draw."""
    rnd = random.Random(draw(st.integers(0, 1 << 32)))
    zone_name: str = draw(st.sampled_from(ZONES))
    zone = ZoneInfo(zone_name)
    first: dt.date = draw(
        st.sampled_from(DATES) | st.dates(dt.date(1990, 1, 1), dt.date(2090, 12, 31))
    )
    rooms: list[str] = draw(st.lists(st.sampled_from(ROOMS), min_size=1, max_size=3, unique=True))
    guid_base: int = draw(st.integers(0, 63))
    id_base: int = draw(st.integers(1, 5_000))
    prefix: str = draw(st.sampled_from(("G9JGW", "T", "X_", "talk-", "Z")))
    serial = 0
    days: list[GeneratedDay] = []
    for index in range(draw(st.integers(1, 3))):
        date = first + dt.timedelta(days=index)
        events: list[GeneratedEvent] = []
        for room in rooms:
            # Any minute of the day (also before the day's 04:00 start, and in a DST gap),
            # up to ten hours long (also past midnight).
            slots = draw(st.lists(st.tuples(st.integers(0, 1439), st.integers(1, 600)), max_size=4))
            for minute, length in slots:
                start = dt.datetime.combine(date, dt.time(minute // 60, minute % 60), tzinfo=zone)
                speakers = tuple(
                    GeneratedSpeaker(
                        rnd.randint(1, 400),
                        rnd.choice(SPEAKERS) + safe_text(rnd),
                        rnd.choice(("", "Works on <b>things</b>.\n\nMore.")),
                    )
                    for _ in range(rnd.randint(0, 3))
                )
                events.append(
                    GeneratedEvent(
                        serial=serial,
                        guid=_guid(guid_base, serial),
                        number=id_base + serial,
                        code=f"{prefix}{serial}",
                        title=rnd.choice(TITLES) + safe_text(rnd),
                        subtitle=safe_text(rnd),
                        room=room,
                        start=start,
                        minutes=length,
                        speakers=speakers,
                        links=tuple(
                            (f"https://example.org/slides/{serial}/{n}", safe_text(rnd))
                            for n in range(rnd.randint(0, 2))
                        ),
                        do_not_record=rnd.random() < 0.3,
                        do_not_stream=rnd.random() < 0.1,
                        language=rnd.choice(("en", "de", "fr", "ru", "")),
                        track=rnd.choice(("", "Policy", "Technik", "Общество")),
                        abstract=safe_text(rnd, 40),
                    )
                )
                serial += 1
        days.append(GeneratedDay(index + 1, date, tuple(events)))
    if big:  # a few hundred events (100 to 300 KB): every day's events, copied and shifted
        copies: int = draw(st.integers(20, 50))
        grown = []
        for day in days:
            events = list(day.events)
            for copy_number in range(1, copies):
                for event in day.events:
                    serial += 1
                    events.append(
                        replace(
                            event,
                            serial=serial,
                            guid=_guid(guid_base, serial),
                            number=id_base + serial,
                            code=f"{prefix}{serial}",
                            start=event.start + dt.timedelta(minutes=copy_number),
                        )
                    )
            grown.append(replace(day, events=tuple(events)))
        days = grown
    return GeneratedSchedule(
        acronym=rnd.choice(ACRONYMS),
        title=rnd.choice(TITLES) + safe_text(rnd),
        zone=zone_name,
        rooms=tuple(rooms),
        days=tuple(days),
    )


def _hh_mm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _day_bounds(schedule: GeneratedSchedule, day: GeneratedDay) -> tuple[str, str]:
    zone = ZoneInfo(schedule.zone)
    start = dt.datetime.combine(day.date, dt.time(4, 0), tzinfo=zone)
    end = dt.datetime.combine(day.date + dt.timedelta(days=1), dt.time(3, 59), tzinfo=zone)
    return start.isoformat(), end.isoformat()


def pretalx_document(schedule: GeneratedSchedule) -> dict[str, Any]:
    """The schedule as pretalx exports schedule.json (the C3VOC schema)."""

    def event(e: GeneratedEvent) -> dict[str, Any]:
        return {
            "id": e.number,
            "guid": e.guid,
            "logo": "",
            "date": e.start.isoformat(),
            "start": e.start.strftime("%H:%M"),
            "duration": _hh_mm(e.minutes),
            "room": e.room,
            "slug": f"{schedule.acronym}-{e.number}",
            "url": f"{schedule.base_url}talk/{e.code}/",
            "title": e.title,
            "subtitle": e.subtitle,
            "track": e.track,
            "type": "Talk",
            "language": e.language,
            "abstract": e.abstract,
            "description": "",
            "recording_license": "",
            "do_not_record": e.do_not_record,
            "do_not_stream": e.do_not_stream,
            "persons": [
                {
                    "id": s.number,
                    "code": f"SP{s.number}",
                    "public_name": s.name,
                    "biography": s.biography,
                    "answers": [],
                }
                for s in e.speakers
            ],
            "links": [{"url": url, "title": title, "type": "related"} for url, title in e.links],
            "attachments": [],
        }

    def day(d: GeneratedDay) -> dict[str, Any]:
        start, end = _day_bounds(schedule, d)
        return {
            "index": d.index,
            "date": d.date.isoformat(),
            "day_start": start,
            "day_end": end,
            "rooms": {
                room: [event(e) for e in d.events if e.room == room] for room in schedule.rooms
            },
        }

    return {
        "$schema": "https://c3voc.de/schedule/schema.json",
        "generator": {"name": "pretalx", "version": "2024.1.0"},
        "schedule": {
            "version": "0.1",
            "base_url": schedule.base_url,
            "conference": {
                "acronym": schedule.acronym,
                "title": schedule.title,
                "start": schedule.days[0].date.isoformat(),
                "end": schedule.days[-1].date.isoformat(),
                "daysCount": len(schedule.days),
                "timeslot_duration": "00:05",
                "time_zone_name": schedule.zone,
                "rooms": [
                    {"name": room, "guid": str(uuid.uuid5(uuid.NAMESPACE_URL, room))}
                    for room in schedule.rooms
                ],
                "days": [day(d) for d in schedule.days],
            },
        },
    }


FrabStyle = Literal["pretalx", "frab"]


def frab_document(schedule: GeneratedSchedule, style: FrabStyle) -> ET.Element:
    """The schedule as frab XML: pretalx's export (zone, dates, talk URLs) or frab's own older
    files (no zone: the importer's default; only a wall-clock ``<start>``; ids as codes)."""

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrib: str) -> ET.Element:
        element = ET.SubElement(parent, tag, attrib)
        element.text = text
        return element

    root = ET.Element("schedule")
    if style == "pretalx":
        sub(root, "generator", name="pretalx", version="2024.1.0")
        sub(root, "version", "0.1")
    conference = sub(root, "conference")
    sub(conference, "acronym", schedule.acronym)
    sub(conference, "title", schedule.title)
    sub(conference, "start", schedule.days[0].date.isoformat())
    sub(conference, "end", schedule.days[-1].date.isoformat())
    sub(conference, "days", str(len(schedule.days)))
    sub(conference, "timeslot_duration", "00:05")
    if style == "pretalx":
        sub(conference, "base_url", schedule.base_url)
        sub(conference, "time_zone_name", schedule.zone)
    for d in schedule.days:
        attributes = {"index": str(d.index), "date": d.date.isoformat()}
        if style == "pretalx":
            attributes["start"], attributes["end"] = _day_bounds(schedule, d)
        day = sub(root, "day", **attributes)
        for room in schedule.rooms:
            room_element = sub(day, "room", name=room)
            for e in (e for e in d.events if e.room == room):
                event = sub(room_element, "event", guid=e.guid, id=str(e.number))
                if style == "pretalx":
                    sub(event, "date", e.start.isoformat())
                sub(event, "start", e.start.strftime("%H:%M"))
                sub(event, "duration", _hh_mm(e.minutes))
                sub(event, "room", e.room)
                sub(event, "slug", f"{schedule.acronym}-{e.number}")
                if style == "pretalx":
                    sub(event, "url", f"{schedule.base_url}talk/{e.code}/")
                recording = sub(event, "recording")
                sub(recording, "license", "")
                sub(recording, "optout", "true" if e.do_not_record else "false")
                sub(event, "title", e.title)
                sub(event, "subtitle", e.subtitle)
                sub(event, "track", e.track)
                sub(event, "type", "Talk")
                sub(event, "language", e.language)
                sub(event, "abstract", e.abstract)
                sub(event, "description", "")
                persons = sub(event, "persons")
                for s in e.speakers:
                    sub(persons, "person", s.name, id=str(s.number))
                links = sub(event, "links")
                for url, title in e.links:
                    sub(links, "link", title, href=url)
    return root


# -- schedules: mutations --------------------------------------------------------------------

RAW_JSON: tuple[bytes, ...] = (
    b"[" * 40 + b"]" * 40, b"[" * 5_000 + b"]" * 5_000, b'{"a":' * 3_000 + b"1" + b"}" * 3_000,
    b"NaN", b"Infinity", b"-Infinity", b"1e999", b"-0", b"1" * 4_301, b'"\\ud800"',
    b'"\\udfff\\ud800"', b'"\\u0000"', b'"\\u2028\\u2029"', b'{"id": 1, "id": 2}', b'{"": ""}',
    b'"\\x41"', b"true", b"null", b"{}", b"[]", b"12345678901234567890123", b"1.5",
    b'"' + b"a" * 100_001 + b'"',
)  # fmt: skip
"""What no JSON encoder writes: deep nesting, non-finite numbers, over-long integers, lone
surrogates, duplicate keys, invalid escapes."""
RAW_XML: tuple[bytes, ...] = (
    b"&amp;&lt;&gt;&quot;&apos;", b"&#233;&#x1F600;", b"&#0;", b"&#xD800;", b"&#xFFFE;",
    b"&undefined;", b"<![CDATA[<event>&amp;</event>]]>", b"<!-- a comment -->", b"<?pi target?>",
    b"]]>", b"<", b"&", b"<x/>", b"<x xmlns='urn:x'>t</x>", b"<p:x xmlns:p='urn:p'>t</p:x>",
    b"<a>" * 40 + b"</a>" * 40, b"\x00", b"\xc3\x28", b"x" * 100_001,
)  # fmt: skip
"""Entities and character references (valid and not), CDATA, comments, processing
instructions, namespaces, nesting past the parser's limit, bytes XML forbids."""
PROLOGS: tuple[bytes, ...] = (
    b'<?xml version="1.0" encoding="UTF-16"?>',
    b'<?xml version="1.1" encoding="utf-8"?>',
    b'<?xml version="1.0" standalone="yes"?>',
    b'<!DOCTYPE schedule [<!ENTITY a "x">]>',
    b'<!DOCTYPE schedule SYSTEM "http://example.org/schedule.dtd">',
    b'<!DOCTYPE schedule [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
    b'<!DOCTYPE schedule [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;">]>',
    b" \n<!-- before the declaration -->",
    b"<?xml-stylesheet href='x.xsl'?>",
)
EVENT_OPS = ("clone", "same guid", "same code", "drop", "odd", "odd", "move")
"""Edits of one event: another with its guid and code, a guid or code taken from another
event, a field left out or spoiled, the event moved to another room or day."""
JSON_EVENT_FIELDS = (
    "guid", "id", "code", "title", "date", "start", "end", "duration", "room", "url", "persons",
    "links", "do_not_record", "logo",
)  # fmt: skip
XML_EVENT_FIELDS = (
    "@guid", "@id", "title", "date", "start", "duration", "room", "url", "persons",
    "persons/person", "links/link", "recording/optout", "logo",
)  # fmt: skip
XML_ATTRIBUTES = ("guid", "id", "index", "date", "start", "end", "name", "href")
XML_TAGS = (
    "event", "day", "room", "conference", "title", "persons", "person", "schedule", "x",
    "{urn:x}title", "Title",
)  # fmt: skip

JSON_MUTATIONS = st.one_of(
    st.builds(
        Mutation,
        st.sampled_from(EVENT_OPS),
        POSITIONS,
        POSITIONS,
        st.tuples(st.sampled_from(JSON_EVENT_FIELDS), st.sampled_from(ODD_TEXT) | JSON_VALUES),
    ),
    st.builds(Mutation, st.sampled_from(("delete", "duplicate", "empty")), POSITIONS),
    st.builds(Mutation, st.just("swap"), POSITIONS, POSITIONS),
    st.builds(Mutation, st.just("retype"), POSITIONS, value=JSON_VALUES),
    st.builds(Mutation, st.just("odd"), POSITIONS, value=st.sampled_from(ODD_TEXT) | SAFE_TEXT),
    st.builds(Mutation, st.just("raw"), POSITIONS, value=st.sampled_from(RAW_JSON)),
    st.builds(Mutation, st.just("rename"), POSITIONS, value=st.sampled_from(ODD_KEYS)),
)
XML_MUTATIONS = st.one_of(
    st.builds(
        Mutation,
        st.sampled_from(EVENT_OPS),
        POSITIONS,
        POSITIONS,
        st.tuples(st.sampled_from(XML_EVENT_FIELDS), st.sampled_from(ODD_TEXT) | SAFE_TEXT),
    ),
    st.builds(Mutation, st.sampled_from(("delete", "duplicate", "empty")), POSITIONS),
    st.builds(Mutation, st.sampled_from(("swap", "nest")), POSITIONS, POSITIONS),
    st.builds(Mutation, st.just("odd"), POSITIONS, value=st.sampled_from(ODD_TEXT) | SAFE_TEXT),
    st.builds(
        Mutation,
        st.just("attribute"),
        POSITIONS,
        st.integers(0, len(XML_ATTRIBUTES) - 1),
        value=st.none() | st.sampled_from(ODD_TEXT) | SAFE_TEXT,
    ),
    st.builds(Mutation, st.just("rename"), POSITIONS, value=st.sampled_from(XML_TAGS)),
    st.builds(Mutation, st.just("raw"), POSITIONS, value=st.sampled_from(RAW_XML)),
)

Container = dict[str, Any] | list[Any]


def _json_places(document: Container) -> list[tuple[Container, Any]]:
    """Every (container, key) of a JSON tree, in a stable order."""
    found: list[tuple[Container, Any]] = []
    stack: list[Container] = [document]
    while stack:
        node = stack.pop()
        keys: Sequence[Any] = list(node) if isinstance(node, dict) else range(len(node))
        for key in keys:
            found.append((node, key))
            value = node[key]
            if isinstance(value, dict | list):
                stack.append(value)
    return found


def _contains(tree: object, node: object) -> bool:
    if tree is node:
        return True
    if isinstance(tree, dict):
        return any(_contains(value, node) for value in tree.values())
    if isinstance(tree, list):
        return any(_contains(value, node) for value in tree)
    return False


def _event_edit(mutation: Mutation) -> tuple[str, object]:
    field, value = mutation.value if isinstance(mutation.value, tuple) else ("title", "")
    return str(field), value


def mutate_json_event(document: dict[str, Any], mutation: Mutation) -> None:
    places = [
        (container, key)
        for container, key in _json_places(document)
        if isinstance(container, list)
        and isinstance(container[key], dict)
        and "guid" in container[key]
    ]
    if not places:
        return
    events, index = places[mutation.at % len(places)]
    event: dict[str, Any] = events[index]
    other_events, other_index = places[mutation.other % len(places)]
    other: dict[str, Any] = other_events[other_index]
    field, value = _event_edit(mutation)
    match mutation.op:
        case "clone":
            events.insert(index, copy.deepcopy(event))
        case "same guid":
            event["guid"] = other.get("guid")
        case "same code":
            for key in ("url", "code", "id"):
                if key in other:
                    event[key] = other[key]
        case "drop":
            event.pop(field, None)
        case "odd":
            event[field] = value
        case "move":
            del events[index]
            other_events.append(event)


def mutate_json(document: dict[str, Any], mutation: Mutation, raw: dict[str, bytes]) -> None:
    """Change ``document`` in place; a ``raw`` mutation leaves a marker that :func:`json_bytes`
    replaces with bytes no JSON encoder writes."""
    if mutation.op in EVENT_OPS:
        mutate_json_event(document, mutation)
        return
    places = _json_places(document)
    if not places:
        return
    container, key = places[mutation.at % len(places)]
    value = container[key]
    match mutation.op:
        case "delete":
            del container[key]
        case "duplicate":
            if isinstance(container, list):
                container.insert(key, copy.deepcopy(value))
            else:
                keys = list(container)
                sibling = keys[(keys.index(key) + 1) % len(keys)]
                container[sibling] = copy.deepcopy(value)
        case "swap":
            other_container, other_key = places[mutation.other % len(places)]
            other = other_container[other_key]
            if _contains(value, other_container) or _contains(other, container):
                container[key] = copy.deepcopy(other)  # a transplant: no cycles
            else:
                container[key], other_container[other_key] = other, value
        case "retype" | "odd":
            container[key] = mutation.value
        case "raw":
            marker = f"@@raw{len(raw)}@@"
            raw[marker] = mutation.value if isinstance(mutation.value, bytes) else b""
            container[key] = marker
        case "rename":
            if isinstance(container, dict):
                del container[key]
                container[str(mutation.value)] = value
        case "empty":
            container[key] = type(value)() if isinstance(value, dict | list) else ""
        case _:
            raise AssertionError(mutation.op)


def json_bytes(
    document: object, raw: dict[str, bytes], *, indent: int | None, ascii_only: bool
) -> bytes:
    text = json.dumps(document, indent=indent, ensure_ascii=ascii_only)
    data = text.encode("utf-8", "surrogatepass")
    for marker, fragment in raw.items():
        data = data.replace(f'"{marker}"'.encode(), fragment)
    return data


def mutate_xml_event(root: ET.Element, mutation: Mutation) -> None:
    rooms = [room for room in root.iter() if any(child.tag == "event" for child in room)]
    places = [(room, event) for room in rooms for event in room if event.tag == "event"]
    if not places:
        return
    room, event = places[mutation.at % len(places)]
    other_room, other = places[mutation.other % len(places)]
    field, value = _event_edit(mutation)
    text = str(value)
    match mutation.op:
        case "clone":
            room.insert(list(room).index(event), copy.deepcopy(event))
        case "same guid":
            event.set("guid", other.get("guid", ""))
        case "same code":
            event.set("id", other.get("id", ""))
            url, other_url = event.find("url"), other.find("url")
            if url is not None and other_url is not None:
                url.text = other_url.text
        case "drop" if field.startswith("@"):
            event.attrib.pop(field[1:], None)
        case "drop":
            for child in event.findall(field):
                for parent in event.iter():
                    if child in list(parent):
                        parent.remove(child)
        case "odd" if field.startswith("@"):
            event.set(field[1:], text)
        case "odd":
            found = event.find(field)
            if found is None:
                found = event
                for tag in field.split("/"):
                    found = ET.SubElement(found, tag)
            found.text = text
        case "move":
            room.remove(event)
            other_room.append(event)


def mutate_xml(root: ET.Element, mutation: Mutation, raw: dict[str, bytes]) -> None:
    if mutation.op in EVENT_OPS:
        mutate_xml_event(root, mutation)
        return
    elements = list(root.iter())
    parents = {child: parent for parent in elements for child in parent}
    element = elements[mutation.at % len(elements)]
    parent = parents.get(element)
    match mutation.op:
        case "delete":
            if parent is not None:
                parent.remove(element)
        case "duplicate":
            if parent is not None:
                parent.insert(list(parent).index(element), copy.deepcopy(element))
        case "swap":  # move the element elsewhere (not into itself)
            target = elements[mutation.other % len(elements)]
            if parent is not None and not any(e is target for e in element.iter()):
                parent.remove(element)
                target.insert(mutation.other % (len(target) + 1), element)
        case "odd":
            element.text = str(mutation.value)
        case "attribute":
            name = XML_ATTRIBUTES[mutation.other % len(XML_ATTRIBUTES)]
            if mutation.value is None:
                element.attrib.pop(name, None)
            else:
                element.set(name, str(mutation.value))
        case "rename":
            element.tag = str(mutation.value)
        case "nest":
            if parent is not None:
                outer = inner = ET.Element("nest")
                for _ in range(mutation.other % 40):
                    inner = ET.SubElement(inner, "nest")
                index = list(parent).index(element)
                parent.remove(element)
                inner.append(element)
                parent.insert(index, outer)
        case "raw":
            marker = f"@@raw{len(raw)}@@"
            raw[marker] = mutation.value if isinstance(mutation.value, bytes) else b""
            element.text = marker
        case "empty":
            element.clear()
        case _:
            raise AssertionError(mutation.op)


XML_DECLARATION = b"<?xml version='1.0' encoding='utf-8' ?>\n"


def xml_bytes(root: ET.Element, raw: dict[str, bytes], *, prolog: bytes = b"") -> bytes:
    body = ET.tostring(root, encoding="unicode").encode("utf-8", "surrogatepass")
    for marker, fragment in raw.items():
        body = body.replace(marker.encode(), fragment)
    return XML_DECLARATION + prolog + body


def benign_xml(root: ET.Element, change: int) -> tuple[ET.Element, bytes]:
    """What an export may vary without being wrong: comments and unknown elements, white space,
    ISO-8859-1 with character references."""
    match change % 4:
        case 0:
            root.insert(0, ET.Comment(" made by a fuzzer "))
            for event in root.iter("event"):
                ET.SubElement(event, "answers").text = "ignored"
                ET.SubElement(event, "attachments")
        case 1:
            ET.indent(root)
        case 2:
            text = ET.tostring(root, encoding="unicode")
            latin = text.encode("iso-8859-1", "xmlcharrefreplace")
            return root, b"<?xml version='1.0' encoding='ISO-8859-1'?>\n" + latin
        case _:
            return root, b"\xef\xbb\xbf" + xml_bytes(root, {})
    return root, xml_bytes(root, {})


# -- schedules: inputs -----------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleInput:
    data: bytes
    default_time_zone: str
    dry_run: bool
    valid: bool
    """Generated (or a real export) and left valid: it must be accepted."""
    origin: str
    mutations: tuple[Mutation, ...] = ()
    page: str = "/"
    """The page fetched after the import, if it is accepted (one a time keeps inputs cheap)."""
    source: str = "bytes"
    """Where the CLI reads it from: ``file``, ``url`` or ``chunked url`` (no Content-Length);
    ``bytes`` hands the bytes to the parser."""

    def __repr__(self) -> str:
        return (
            f"ScheduleInput({self.origin}, {self.source}, valid={self.valid}, "
            f"dry_run={self.dry_run}, "
            f"zone={self.default_time_zone!r}, mutations={list(self.mutations)}, "
            f"{len(self.data):,} bytes: {self.data[:160]!r})"
        )


KINDS = ("valid", "valid", "valid", "benign", "tree", "tree", "tree", "tree+bytes", "bytes")
SIZES = ("small",) * 11 + ("big",)
PROGRAMME_PAGES = ("/", "/api/programme", "/programme.ics", "session", "api session")
SOURCES = ("bytes", "bytes", "bytes", "file", "url", "chunked url")
DEFAULT_ZONES = ("UTC", "Europe/Berlin", "Mars/Olympus", "", "../../etc/passwd", "Etc/GMT+12")


@st.composite
def pretalx_inputs(draw: st.DrawFn) -> ScheduleInput:
    """pretalx schedule.json: the DemoCon export or a generated one, then mutated (or not)."""
    kind: str = draw(st.sampled_from(KINDS))
    fixture = draw(st.integers(0, 7)) == 0
    if fixture:
        origin = PRETALX_FIXTURE
        document: dict[str, Any] = json.loads(fixture_bytes(SCHEDULES, PRETALX_FIXTURE))
    else:
        big = draw(st.sampled_from(SIZES)) == "big"
        origin = "generated" + (" (big)" if big else "")
        document = pretalx_document(draw(generated_schedules(big=big)))
    raw: dict[str, bytes] = {}
    mutations: list[Mutation] = []
    indent: int | None = None
    ascii_only = True
    if kind == "benign":
        document["x-fuzz"] = {"unknown": [1, 2.5, None]}
        indent = draw(st.sampled_from((None, 2)))
        ascii_only = draw(st.booleans())
    if kind.startswith("tree"):
        for mutation in draw(st.lists(JSON_MUTATIONS, min_size=1, max_size=3)):
            mutate_json(document, mutation, raw)
            mutations.append(mutation)
    data = json_bytes(document, raw, indent=indent, ascii_only=ascii_only)
    if kind == "valid" and fixture:  # the export exactly as it was made
        data = fixture_bytes(SCHEDULES, PRETALX_FIXTURE)
    if kind == "benign" and draw(st.booleans()):
        data = b"\xef\xbb\xbf\n " + data
    if kind.endswith("bytes"):
        for mutation in draw(st.lists(BYTE_MUTATIONS, min_size=1, max_size=3)):
            data = mutate_bytes(data, mutation)
            mutations.append(mutation)
    zone = "UTC" if kind in ("valid", "benign") else draw(st.sampled_from(DEFAULT_ZONES))
    return ScheduleInput(
        data=data,
        default_time_zone=zone,
        dry_run=draw(st.sampled_from((False, False, False, True))),
        valid=kind in ("valid", "benign"),
        origin=origin,
        mutations=tuple(mutations),
        page=draw(st.sampled_from(PROGRAMME_PAGES)),
        source=draw(st.sampled_from(SOURCES)),
    )


@st.composite
def frab_inputs(draw: st.DrawFn) -> ScheduleInput:
    """frab schedule.xml: a real export or a generated one (pretalx's or frab's own style),
    then mutated (or not)."""
    kind: str = draw(st.sampled_from(KINDS))
    zone = "UTC"
    if draw(st.integers(0, 7)) == 0:
        origin = draw(st.sampled_from(FRAB_FIXTURES))
        root = SafeElementTree.fromstring(fixture_bytes(SCHEDULES, origin))
    else:
        big = draw(st.sampled_from(SIZES)) == "big"
        style: FrabStyle = draw(st.sampled_from(("pretalx", "frab")))
        schedule = draw(generated_schedules(big=big))
        origin = f"generated {style}-style" + (" (big)" if big else "")
        root = frab_document(schedule, style)
        zone = schedule.zone  # frab's own files name no zone: the organiser passes it
    raw: dict[str, bytes] = {}
    mutations: list[Mutation] = []
    if kind == "benign":
        root, data = benign_xml(root, draw(st.integers(0, 3)))
    elif kind == "valid" and origin in FRAB_FIXTURES:  # the export exactly as it was made
        data = fixture_bytes(SCHEDULES, origin)
    else:
        if kind.startswith("tree"):
            for mutation in draw(st.lists(XML_MUTATIONS, min_size=1, max_size=3)):
                mutate_xml(root, mutation, raw)
                mutations.append(mutation)
        prolog = b""
        if kind.startswith("tree") and draw(st.integers(0, 3)) == 0:
            prolog = draw(st.sampled_from(PROLOGS))
        if prolog.startswith(b"<?xml "):  # in place of the declaration
            data = prolog + xml_bytes(root, raw).removeprefix(XML_DECLARATION[:-1])
        elif prolog.startswith(b" "):  # before it
            data = prolog + xml_bytes(root, raw)
        else:
            data = xml_bytes(root, raw, prolog=prolog)
    if kind.endswith("bytes"):
        for mutation in draw(st.lists(BYTE_MUTATIONS, min_size=1, max_size=3)):
            data = mutate_bytes(data, mutation)
            mutations.append(mutation)
    if kind not in ("valid", "benign") and draw(st.integers(0, 3)) == 0:
        zone = draw(st.sampled_from(DEFAULT_ZONES))
    return ScheduleInput(
        data=data,
        default_time_zone=zone,
        dry_run=draw(st.sampled_from((False, False, False, True))),
        valid=kind in ("valid", "benign"),
        origin=origin,
        mutations=tuple(mutations),
        page=draw(st.sampled_from(PROGRAMME_PAGES)),
        source=draw(st.sampled_from(SOURCES)),
    )


# -- schedules: the import, as the CLI runs it -----------------------------------------------

REFUSAL_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern))
    for kind, pattern in (
        ("schedule.empty", r"^the schedule is empty$"),
        ("schedule.too_large", r"bytes; the limit is|more than [\d,]+ (events|days|rooms)"),
        ("schedule.unreadable", r"could not be read \("),
        (
            "schedule.not_a_schedule",
            r"neither pretalx JSON|JSON list|not a frab schedule|no <conference>|"
            r"has no XML element|^the schedule must be",
        ),
        ("schedule.malformed", r"not well-formed XML|not valid JSON|not valid UTF-8"),
        ("schedule.forbidden_xml", r"DTDs|external references"),
        ("schedule.nested", r"nested"),
        ("schedule.time_zone", r"time zone name"),
        ("schedule.inconsistent", r"inconsistent|ends before it starts|after the year|range"),
        ("schedule.too_long", r"characters long; the limit"),
        ("schedule.missing", r" has no |has neither"),
        ("schedule.invalid_value", r""),
    )
)
"""The kinds of refusal, from the one-line message the CLI prints; ``unreadable`` is the
parser's last guard catching an exception nothing else expected."""


def refusal_kind(message: str) -> str:
    return next(kind for kind, pattern in REFUSAL_KINDS if pattern.search(message))


def _where(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    last = frames[-1] if frames else None
    return f"{last.filename}:{last.lineno}" if last else "?"


async def follow_up(
    server: FuzzServer,
    tally: Tally,
    path: str,
    sample: object,
    headers: dict[str, str] | None = None,
) -> None:
    """What an accepted import stored must show: the page answers 200 (counted apart from
    the inputs, as ``then 200``)."""
    answer = await server.request(
        tally, "GET", path, headers=headers, sample=sample, follow_up=True
    )
    if answer is not None and answer.status < 500 and answer.status != 200:
        tally.server_errors.append(
            f"GET {path} → {answer.status} after an accepted import: {sample!r:.300}"
        )


class ScheduleSources:
    """Where ``plenaria programme import`` reads a schedule from: a file, or a URL served
    here (with a Content-Length, or chunked without one)."""

    def __init__(self) -> None:
        self._directory = tempfile.TemporaryDirectory(prefix="plenaria-fuzz-")
        self._file = Path(self._directory.name) / "schedule"
        self._body = b""
        self._runner: web.AppRunner | None = None
        self._url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/schedule", self._serve)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/schedule"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        self._directory.cleanup()

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        if not request.query.get("chunked"):
            return web.Response(body=self._body, content_type="application/octet-stream")
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for at in range(0, len(self._body), 50_000):
            await response.write(self._body[at : at + 50_000])
        await response.write_eof()
        return response

    async def read(self, sample: ScheduleInput) -> bytes:
        """What the CLI reads, from where the sample says."""
        if sample.source == "bytes":
            return sample.data
        if sample.source == "file":
            await asyncio.to_thread(self._file.write_bytes, sample.data)
            return await read_schedule_source(str(self._file))
        self._body = sample.data
        query = "?chunked=1" if sample.source == "chunked url" else ""
        return await read_schedule_source(self._url + query, time_limit=HANG_AFTER)


async def import_schedule(
    server: FuzzServer, tally: Tally, sources: ScheduleSources, sample: ScheduleInput
) -> None:
    """One ``plenaria programme import``: read, parse, then store (or compare, in a dry
    run)."""
    store = server.app[STORE]
    await server.settle()
    before = await server.fingerprint()
    started = time.monotonic()
    try:
        data = await sources.read(sample)
        if data != sample.data:
            tally.server_errors.append(
                f"read {len(data):,} bytes of the {len(sample.data):,} the {sample.source} "
                f"holds: {sample!r:.300}"
            )
        programme: Programme = await asyncio.wait_for(
            asyncio.to_thread(parse_schedule, data, default_time_zone=sample.default_time_zone),
            HANG_AFTER,
        )
        if sample.dry_run:
            changes = compare(await store.load_programme(), programme)
        else:
            changes = await asyncio.wait_for(
                store.replace_programme(programme, server.now()), HANG_AFTER
            )
        describe(programme)
        report(changes)
        for logged in server.errors.take():
            tally.server_errors.append(f"programme import logged {logged}: {sample!r:.300}")
    except (ScheduleSourceError, ScheduleFormatError) as refused:
        kind = "schedule.source" if isinstance(refused, ScheduleSourceError) else None
        tally.note(422, kind or refusal_kind(str(refused)), time.monotonic() - started)
        for logged in server.errors.take():
            tally.server_errors.append(f"programme import logged {logged}: {sample!r:.300}")
        if sample.valid:
            tally.server_errors.append(f"a valid schedule was refused ({refused}): {sample!r:.300}")
        if await server.fingerprint() != before:
            tally.store_changes.append(f"refused ({refused}) yet stored: {sample!r:.300}")
        return
    except TimeoutError:
        tally.note(0, "hang", HANG_AFTER)
        tally.hangs.append(f"programme import: no answer in {HANG_AFTER} s: {sample!r:.300}")
        return
    except Exception as error:  # what the CLI would die of with a traceback
        tally.note(500, type(error).__name__, time.monotonic() - started)
        tally.server_errors.append(
            f"programme import raised {type(error).__name__} at {_where(error)}: {error!s:.200}: "
            f"{sample!r:.300}"
        )
        return
    elapsed = time.monotonic() - started
    tally.note(200, "dry_run" if sample.dry_run else "imported", elapsed)
    if elapsed > HANG_AFTER:
        tally.hangs.append(f"programme import took {elapsed:.1f} s: {sample!r:.300}")
    if sample.dry_run:
        if await server.fingerprint() != before:
            tally.store_changes.append(f"a dry run changed the store: {sample!r:.300}")
        return
    stored = await store.load_programme()
    if stored != programme:
        tally.server_errors.append(f"the stored programme is not the one imported: {sample!r:.300}")
    path = sample.page
    if path in ("session", "api session"):
        if not programme.sessions:
            return
        code = programme.sessions[len(sample.data) % len(programme.sessions)].code
        path = f"/sessions/{code}" if path == "session" else f"/api/sessions/{code}"
    await follow_up(server, tally, path, sample)


def _fuzz_schedules(
    name: str,
    strategy: st.SearchStrategy[ScheduleInput],
    server: FuzzServer,
    examples: int,
    seed: int,
) -> Tally:
    tally = Tally(name)
    sources = ScheduleSources()
    server.run(sources.start())

    async def send(sample: ScheduleInput) -> None:
        await import_schedule(server, tally, sources, sample)

    try:
        run_examples(strategy, each_answer(server, send), examples=examples, seed_value=seed)
    finally:  # the conference's own programme back, for whatever runs next on this server
        server.run(server.app[STORE].replace_programme(server.programme, server.now()))
        server.run(sources.stop())
    return tally


def fuzz_frab_import(server: FuzzServer, examples: int, seed: int) -> Tally:
    return _fuzz_schedules("programme import: frab XML", frab_inputs(), server, examples, seed)


def fuzz_pretalx_import(server: FuzzServer, examples: int, seed: int) -> Tally:
    return _fuzz_schedules(
        "programme import: pretalx JSON", pretalx_inputs(), server, examples, seed
    )


# -- registration CSV: generated valid exports -----------------------------------------------

Language = Literal["en", "fr", "de", "it", "es", "ru"]
LANGUAGES: tuple[Language, ...] = ("en", "fr", "de", "it", "es", "ru")

SPREADSHEET_HEADERS: dict[Language, dict[str, tuple[str, ...]]] = {
    "en": {
        "name": ("Name", "Full name", "Participant name"),
        "given": ("First name", "Given name", "Forename"),
        "family": ("Last name", "Surname", "Family name"),
        "email": ("Email", "E-mail", "Email address"),
        "organisation": ("Organisation", "Organization", "Affiliation", "Company"),
        "delegation_type": ("Delegation type", "Participant type", "Category"),
        "country": ("Country", "Country/Region", "Nation"),
        "attends": ("Attendance", "In person or remote", "Mode of participation"),
        "language": ("Language", "Preferred language"),
        "key": ("ID", "Registration ID", "Reference"),
        "status": ("Status", "Registration status"),
    },
    "fr": {
        "name": ("Nom complet",),
        "given": ("Prénom",),
        "family": ("Nom", "Nom de famille"),
        "email": ("Courriel", "Adresse e-mail", "Adresse électronique"),
        "organisation": ("Organisme",),
        "delegation_type": ("Type de délégation", "Catégorie", "Type de participant"),
        "country": ("Pays", "Code pays"),
        "attends": ("Mode de participation", "Présence"),
        "language": ("Langue", "Langue de travail"),
        "key": ("Identifiant",),
        "status": ("Statut", "État"),
    },
    "de": {
        "name": ("Vollständiger Name",),
        "given": ("Vorname",),
        "family": ("Nachname",),
        "email": ("E-Mail", "E-Mail-Adresse"),
        "organisation": ("Unternehmen", "Firma"),
        "delegation_type": ("Delegationstyp", "Kategorie", "Teilnehmertyp"),
        "country": ("Land", "Staat"),
        "attends": ("Teilnahme", "Teilnahmeart", "Teilnahmeform"),
        "language": ("Sprache", "Arbeitssprache"),
        "key": ("Kennung",),
        "status": ("Status",),
    },
    "it": {
        "name": ("Nome completo",),
        "given": ("Nome",),
        "family": ("Cognome",),
        "email": ("Posta elettronica", "Indirizzo email"),
        "organisation": ("Organizzazione", "Ente", "Affiliazione"),
        "delegation_type": ("Tipo di delegazione", "Categoria", "Tipo di partecipante"),
        "country": ("Paese", "Nazione"),
        "attends": ("Partecipazione", "Modalità di partecipazione"),
        "language": ("Lingua",),
        "key": ("Identificativo",),
        "status": ("Stato",),
    },
    "es": {
        "name": ("Nombre completo",),
        "given": ("Nombre",),
        "family": ("Apellido", "Apellidos"),
        "email": ("Correo", "Correo electrónico"),
        "organisation": ("Organización", "Empresa", "Institución"),
        "delegation_type": ("Tipo de delegación", "Categoría", "Tipo de participante"),
        "country": ("País",),
        "attends": ("Asistencia", "Modalidad", "Modalidad de participación"),
        "language": ("Idioma",),
        "key": ("Identificador",),
        "status": ("Estado",),
    },
    "ru": {
        "name": ("ФИО", "Полное имя", "Имя и фамилия"),
        "given": ("Имя",),
        "family": ("Фамилия",),
        "email": ("Электронная почта", "Эл. почта"),
        "organisation": ("Организация", "Делегация"),
        "delegation_type": ("Тип делегации", "Категория"),
        "country": ("Страна",),
        "attends": ("Формат участия", "Участие"),
        "language": ("Язык",),
        "key": ("Идентификатор",),
        "status": ("Статус",),
    },
}
ATTENDS: dict[Language, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "en": (("in person", "In-person", "on-site", "Onsite", "at the venue"), ("remote", "Online")),
    "fr": (("présentiel", "en présentiel", "sur place"), ("distanciel", "à distance", "en ligne")),
    "de": (("vor Ort", "Präsenz", "in Präsenz"), ("online", "virtuell", "Fernteilnahme")),
    "it": (("in presenza", "presenziale"), ("da remoto", "a distanza", "online")),
    "es": (("presencial", "en persona"), ("en línea", "a distancia", "virtual")),
    "ru": (("очно", "лично"), ("онлайн", "дистанционно", "удалённо")),
}
COUNTRY_CODES = ("AT", "DE", "FR", "IT", "ES", "RU", "CH", "BE", "US", "GB", "JP", "GH", "TR", "VA")
LANGUAGE_CELLS = ("en", "fr", "de", "it", "es", "ru", "pt", "da", "EN", "fr-CH", "pt_BR", "French")
PEOPLE = (
    ("Anna", "Gruber"),
    ("Élodie", "Martin"),
    ("Giulia", "Rossi"),
    ("Carlos", "García López"),
    ("Елена", "Иванова"),
    ("Kwame", "Mensah"),
    ("Mehmet", "Yılmaz"),
    ("Seán", "O'Brien"),
    ("娜", "李"),
    ("محمد", "علي"),
)
DOMAINS = ("bmeia.gv.at", "diplomatie.gouv.fr", "esteri.it", "mid.ru", "example.org", "例え.jp")
ORGANISATIONS = (
    "Permanent Mission of Austria",
    "Ministère de l'Europe et des Affaires étrangères",
    "Ministerio de Asuntos Exteriores, Unión Europea y Cooperación",
    "МИД России",
    '"Quoted" Org; Ltd.',
    "",
)
DELEGATION_TYPES = ("Delegate", "Observer", "Participating State", "État participant", "Делегат")
ACTIVE = {"pretix": ("paid", "pending"), "indico": ("Complete",), "spreadsheet": ("", "confirmed")}
CANCELLED = {
    "pretix": ("canceled", "expired"),
    "indico": ("Withdrawn", "Rejected"),
    "spreadsheet": ("cancelled", "storniert", "annulé", "отменено"),
}
PRETIX_HEADER = (
    "Order code", "Position ID", "Status", "Email", "Order date", "Product", "Variation", "Price",
    "Tax rate", "Attendee name", "Attendee name: Given name", "Attendee name: Family name",
    "Attendee email", "Company", "Address", "ZIP code", "City", "Country", "State", "Voucher",
    "How will you attend?", "Preferred language",
)  # fmt: skip
INDICO_HEADER = (
    "ID", "First Name", "Last Name", "Email", "Affiliation", "Position", "Country", "Phone",
    "Registration date", "Registration state", "Attendance", "Language",
)  # fmt: skip
UNKNOWN_COLUMNS = ("Notes", "Phone", "Dietary requirements", "Bemerkungen", "Примечания")


@functools.cache
def country_cells(language: Language) -> tuple[str, ...]:
    """Ways an export names a country that the importer reads back as that country."""
    from babel import Locale

    names = Locale(language).territories
    cells = [*COUNTRY_CODES, *(code.lower() for code in COUNTRY_CODES), "USA", "UK", "Holy See", ""]
    cells += [str(names[code]) for code in COUNTRY_CODES if code in names]
    return tuple(cell for cell in cells if country_code(cell) is not None)


def _check_pools() -> None:
    """The pools above must read as what they stand for, or the 'valid' exports are not."""
    for language, fields in SPREADSHEET_HEADERS.items():
        for name, spellings in fields.items():
            for spelling in spellings:
                read_as = next(f for f, names in COLUMNS.items() if normalised(spelling) in names)
                assert read_as == name, (language, name, spelling)
        present, remote = ATTENDS[language]
        assert all(attendance(value) == "in_person" for value in present), language
        assert all(attendance(value) == "remote" for value in remote), language
    assert all(language_code(cell) for cell in LANGUAGE_CELLS)


_check_pools()

CsvFormat = Literal["pretix", "indico", "spreadsheet"]


@dataclass(frozen=True)
class Person:
    serial: int
    given: str
    family: str
    email: str
    attendee_email: str
    organisation: str
    delegation_type: str
    country: str
    attends: str
    language: str
    status: str
    order: str
    position: str

    def renumbered(self, serial: int) -> Person:
        local, _, domain = self.email.partition("@")
        email = f"{local.rstrip('0123456789')}{serial}@{domain}"
        return Person(  # not dataclasses.replace: twenty thousand times over, it is slow
            serial,
            self.given,
            self.family,
            email,
            email if self.attendee_email else "",
            self.organisation,
            self.delegation_type,
            self.country,
            self.attends,
            self.language,
            self.status,
            f"Q{serial // 3:05d}",
            str(serial % 3 + 1),
        )


@st.composite
def people(draw: st.DrawFn, fmt: CsvFormat, language: Language) -> list[Person]:
    """A few people, everyone's key unique, at least one of them coming."""
    rnd = random.Random(draw(st.integers(0, 1 << 32)))
    present, remote = ATTENDS[language if fmt == "spreadsheet" else "en"]
    found: list[Person] = []
    for serial in range(draw(st.integers(1, 8))):
        given, family = rnd.choice(PEOPLE)
        local = rnd.choice(("anna.gruber", "elodie", "g.rossi", "елена", "o'brien", "a+b"))
        email = f"{local}{serial}@{rnd.choice(DOMAINS)}"
        coming = serial == 0 or rnd.random() < 0.8
        found.append(
            Person(
                serial=serial,
                given=given + safe_text(rnd, 6),
                family=family,
                email=email,
                attendee_email=email if rnd.random() < 0.5 else "",
                organisation=rnd.choice(ORGANISATIONS),
                delegation_type=rnd.choice(DELEGATION_TYPES),
                country=rnd.choice(country_cells(language)),
                attends=rnd.choice(present + remote),
                language=rnd.choice(LANGUAGE_CELLS),
                status=rnd.choice(ACTIVE[fmt] if coming else CANCELLED[fmt]),
                order=f"Q{serial // 3:05d}",
                position=str(serial % 3 + 1),
            )
        )
    return found


def pretix_table(everyone: Sequence[Person]) -> list[list[str]]:
    rows = [list(PRETIX_HEADER)]
    for p in everyone:
        rows.append(
            [
                p.order,
                p.position,
                p.status,
                p.email,
                "2026-03-02",
                p.delegation_type,
                "",
                "0.00",
                "0.00",
                f"{p.given} {p.family}",
                p.given,
                p.family,
                p.attendee_email,
                p.organisation,
                "Wagramer Straße 5",
                "1220",
                "Wien",
                p.country,
                "",
                "",
                p.attends,
                p.language,
            ]
        )
    return rows


def indico_table(everyone: Sequence[Person]) -> list[list[str]]:
    rows = [list(INDICO_HEADER)]
    for p in everyone:
        rows.append(
            [
                str(100 + p.serial),
                p.given,
                p.family,
                p.email,
                p.organisation,
                "Counsellor",
                p.country,
                "+43 1 234",
                "2026-03-01 10:12",
                p.status,
                p.attends,
                p.language,
            ]
        )
    return rows


SPREADSHEET_FIELDS = ("organisation", "delegation_type", "country", "attends", "language", "key")


@st.composite
def spreadsheet_table(
    draw: st.DrawFn, everyone: Sequence[Person], language: Language
) -> list[list[str]]:
    spellings = SPREADSHEET_HEADERS[language]
    split = draw(st.booleans())
    fields = ["given", "family"] if split else ["name"]
    fields += ["email", *(f for f in SPREADSHEET_FIELDS if draw(st.booleans()))]
    if any(p.status for p in everyone):
        fields.append("status")
    fields = draw(st.permutations(fields))
    header = [draw(st.sampled_from(spellings[f])) for f in fields]

    def cell(p: Person, name: str) -> str:
        match name:
            case "name":
                return f"{p.given} {p.family}"
            case "key":
                return f"R-{p.serial}"
            case _:
                value: str = getattr(p, name)
                return value

    return [header, *([cell(p, f) for f in fields] for p in everyone)]


@dataclass(frozen=True)
class CsvExport:
    data: bytes
    valid: bool
    origin: str
    mutations: tuple[Mutation, ...] = ()

    def __repr__(self) -> str:
        return (
            f"CsvExport({self.origin}, valid={self.valid}, mutations={list(self.mutations)}, "
            f"{len(self.data):,} bytes: {self.data[:200]!r})"
        )


# -- registration CSV: mutations -------------------------------------------------------------

FORMULAS = (
    "=cmd|' /C calc'!A0", '=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(1,2)",
    "\t=1", "\r=1",
)  # fmt: skip
BAD_EMAILS = (
    "not-an-address", "a@b", "@example.org", "a b@example.org", "a@@example.org", "a@example.",
    "a@example..org", "x" * 250 + "@example.org", "<a@example.org>", "mailto:a@example.org",
    "ANNA.GRUBER0@BMEIA.GV.AT",
)  # fmt: skip
ODD_CELLS: tuple[str, ...] = (
    *FORMULAS, *BAD_EMAILS, "", " ", "\x00", "a\x00b", "\u2028", "\x85", "line\nbreak",
    'quote"inside', '"', "semi;colon", "tab\there", "N/A", "cancelled", "Atlantis", "klingon",
    "by carrier pigeon", "XX", "  AT  ", "🇦🇹", "Österreich", "in person ", "REMOTE", "x" * 129,
    "x" * 201, "é" * 255, "x" * 10_000, "x" * 131_073,
)  # fmt: skip
TABLE_OPS = (
    "drop_column", "duplicate_column", "move_column", "rename_header", "drop_row",
    "duplicate_row", "swap_rows", "set_cell", "extra_cells", "short_row", "blank_row",
    "header_only",
)  # fmt: skip
TABLE_MUTATIONS = st.one_of(
    st.builds(Mutation, st.sampled_from(TABLE_OPS), POSITIONS, POSITIONS),
    st.builds(
        Mutation,
        st.just("set_cell"),
        POSITIONS,
        POSITIONS,
        st.sampled_from(ODD_CELLS) | st.text(max_size=20),
    ),
    st.builds(
        Mutation,
        st.just("rename_header"),
        POSITIONS,
        POSITIONS,
        st.sampled_from(("", "Name", "E-mail", "Status", "ID", "Attendance", "x")) | SAFE_TEXT,
    ),
)
TEXT_MUTATIONS = st.one_of(
    st.builds(
        Mutation,
        st.just("insert_text"),
        POSITIONS,
        value=st.sampled_from(
            ('"', "\x00", "\r", "\x85", "\u2028", "\ufeff", ";", ",", "\t", "\n\n", "\\", "\x1c")
        ),
    ),
    st.builds(Mutation, st.just("delimiter_line"), POSITIONS, value=st.sampled_from(",;\t|")),
    st.builds(Mutation, st.just("line_endings"), value=st.sampled_from(("\r", "\r\n", "\n\r"))),
)
ENCODINGS = ("utf-8", "utf-8", "utf-8", "utf-8-sig", "utf-16", "utf-16-be")
ODD_ENCODINGS = ("latin-1", "cp1252", "utf-16-le", "utf-32", "utf-16 truncated", "utf-7")


def mutate_table(table: list[list[str]], mutation: Mutation) -> None:
    header = table[0]
    width = max(len(header), 1)
    column = mutation.at % width
    row_index = 1 + mutation.other % max(len(table) - 1, 1)
    has_rows = len(table) > 1
    match mutation.op:
        case "drop_column":
            for row in table:
                if column < len(row):
                    del row[column]
        case "duplicate_column":
            for row in table:
                if column < len(row):
                    row.insert(column, row[column])
        case "move_column":
            target = mutation.other % width
            for row in table:
                if column < len(row):
                    row.insert(target, row.pop(column))
        case "rename_header":
            if header:
                header[column] = str(mutation.value if mutation.value is not None else "x")
        case "drop_row" if has_rows:
            del table[row_index]
        case "duplicate_row" if has_rows:
            table.insert(row_index, list(table[row_index]))
        case "swap_rows" if has_rows:
            other = 1 + mutation.at % (len(table) - 1)
            table[row_index], table[other] = table[other], table[row_index]
        case "set_cell":
            row = table[row_index if has_rows else 0]
            if row:
                row[column % len(row)] = str(mutation.value if mutation.value is not None else "")
        case "extra_cells" if has_rows:
            table[row_index].extend(["extra", "cells"])
        case "short_row" if has_rows:
            del table[row_index][column:]
        case "blank_row":
            table.insert(row_index, [])
        case "header_only":
            del table[1:]
        case _:
            pass


def mutate_text(text: str, mutation: Mutation, delimiter: str) -> str:
    at = mutation.at % (len(text) + 1)
    match mutation.op:
        case "insert_text":
            return text[:at] + str(mutation.value) + text[at:]
        case "delimiter_line":
            lines = text.split("\n")
            index = mutation.at % len(lines)
            lines[index] = lines[index].replace(delimiter, str(mutation.value))
            return "\n".join(lines)
        case "line_endings":
            return text.replace("\r\n", "\n").replace("\n", str(mutation.value))
    raise AssertionError(mutation.op)


def encode(text: str, encoding: str) -> bytes:
    match encoding:
        case "utf-16-be":
            return b"\xfe\xff" + text.encode("utf-16-be", "surrogatepass")
        case "utf-16 truncated":
            return text.encode("utf-16", "surrogatepass")[:-1]
        case "latin-1" | "cp1252":
            return text.encode(encoding, "replace")
    return text.encode(encoding, "surrogatepass")


def write_csv(table: Sequence[Sequence[str]], delimiter: str, quote_all: bool, newline: str) -> str:
    buffer = io.StringIO()
    if quote_all:
        writer = csv.writer(
            buffer, delimiter=delimiter, quoting=csv.QUOTE_ALL, lineterminator=newline
        )
    else:
        writer = csv.writer(buffer, delimiter=delimiter, lineterminator=newline)
    writer.writerows(table)
    return buffer.getvalue()


CSV_KINDS = (
    ("valid",) * 6
    + ("benign",) * 2
    + ("table",) * 4
    + ("table+text",) * 2
    + (
        "bytes",
        "bytes",
        "many",
    )
)


@st.composite
def csv_exports(draw: st.DrawFn, *, max_rows: int = 3_000) -> CsvExport:
    """A pretix, Indico or spreadsheet export (six languages): valid, then mutated (or not)."""
    kind: str = draw(st.sampled_from(CSV_KINDS))
    fmt: CsvFormat = draw(st.sampled_from(("pretix", "indico", "spreadsheet", "spreadsheet")))
    language: Language = draw(st.sampled_from(LANGUAGES)) if fmt == "spreadsheet" else "en"
    everyone = draw(people(fmt, language))
    if kind == "many":  # the same people many times over, renumbered: keys stay unique
        # Over the row cap within 2 MB takes a narrow spreadsheet (pretix's rows are wide).
        over = MAX_ROWS + 1 if fmt == "spreadsheet" else max_rows
        rows = draw(st.sampled_from((50, 100, 200, 500, max_rows, over)))
        everyone = [everyone[n % len(everyone)].renumbered(n) for n in range(rows)]
    if fmt == "pretix":
        table = pretix_table(everyone)
    elif fmt == "indico":
        table = indico_table(everyone)
    else:
        table = draw(spreadsheet_table(everyone, language))
    mutations: list[Mutation] = []
    if kind == "benign":  # an unknown column, blank lines at the end
        at = draw(st.integers(0, len(table[0])))
        table[0].insert(at, draw(st.sampled_from(UNKNOWN_COLUMNS)))
        for row in table[1:]:
            row.insert(at, draw(st.sampled_from(("", "vegetarian", "n/a"))))
        table += [[], []]
    if kind.startswith("table"):
        for mutation in draw(st.lists(TABLE_MUTATIONS, min_size=1, max_size=3)):
            mutate_table(table, mutation)
            mutations.append(mutation)
    delimiter: str = draw(st.sampled_from((",", ",", ";", "\t")))
    text = write_csv(
        table, delimiter, draw(st.booleans()), draw(st.sampled_from(("\n", "\r\n", "\r\n")))
    )
    if kind.endswith("text"):
        for mutation in draw(st.lists(TEXT_MUTATIONS, min_size=1, max_size=2)):
            text = mutate_text(text, mutation, delimiter)
            mutations.append(mutation)
    encoding: str = draw(st.sampled_from(ENCODINGS))
    if kind == "bytes" and draw(st.booleans()):
        encoding = draw(st.sampled_from(ODD_ENCODINGS))
    data = encode(text, encoding)
    if kind == "bytes":
        for mutation in draw(st.lists(BYTE_MUTATIONS, min_size=1, max_size=3)):
            data = mutate_bytes(data, mutation)
            mutations.append(mutation)
    valid = kind in ("valid", "benign") or (kind == "many" and len(everyone) <= MAX_ROWS)
    return CsvExport(
        data=data,
        valid=valid and len(data) <= MAX_BYTES,
        origin=f"{fmt} ({language}, {encoding}, {delimiter!r}, {len(everyone)} people, {kind})",
        mutations=tuple(mutations),
    )


@functools.cache
def registration_fixtures() -> tuple[tuple[str, bytes], ...]:
    return tuple(
        (path.name, path.read_bytes()) for path in sorted(REGISTRATION_FIXTURES.glob("*.csv"))
    )


@st.composite
def fixture_exports(draw: st.DrawFn) -> CsvExport:
    """The real exports in tests/fixtures/registrations, as they are or with bytes changed."""
    name, data = draw(st.sampled_from(registration_fixtures()))
    mutations: tuple[Mutation, ...] = ()
    if draw(st.booleans()):
        mutations = tuple(draw(st.lists(BYTE_MUTATIONS, min_size=1, max_size=2)))
        for mutation in mutations:
            data = mutate_bytes(data, mutation)
    valid = not mutations and name != "malformed.csv"
    return CsvExport(data=data, valid=valid, origin=name, mutations=mutations)


def exports(max_rows: int) -> st.SearchStrategy[CsvExport]:
    return st.one_of(
        csv_exports(max_rows=max_rows),
        csv_exports(max_rows=max_rows),
        csv_exports(max_rows=max_rows),
        fixture_exports(),
    )


# -- registration CSV: the requests ----------------------------------------------------------

Who = Literal["organiser", "door", "moderator", "participant", "anonymous", "forged"]
WHO: tuple[Who, ...] = ("organiser",) * 12 + (
    "door",
    "moderator",
    "participant",
    "anonymous",
    "forged",
)


@functools.cache
def _identities() -> dict[Who, dict[str, str]]:
    return {
        "organiser": identity_headers("olga", (CONFERENCE_SCOPE, Role.ORGANISER)),
        "door": identity_headers("dan", (CONFERENCE_SCOPE, Role.DOOR)),
        "moderator": identity_headers("mia", ("panel", Role.MODERATOR)),
        "participant": identity_headers("pat"),
        "anonymous": {},
        "forged": {"Authorization": "Bearer eyJ.forged.token"},
    }


def headers_of(who: Who) -> dict[str, str]:
    return dict(_identities()[who])


def _check_access(tally: Tally, who: Who, status: int, sample: object) -> None:
    """Anyone but an organiser is refused 401 or 403. Only without a bearer token may it be
    a 400 or 413: the CSRF check reads a form body first, and a malformed one is refused
    before anyone is asked who they are."""
    allowed = (401, 403, 400, 413) if who == "anonymous" else (401, 403)
    if who != "organiser" and status not in allowed:
        tally.server_errors.append(f"{who} was answered {status}, not 401/403: {sample!r:.300}")


CSV_TYPES = ("text/csv",) * 8 + (
    "text/csv; charset=utf-8",
    "application/csv",
    "text/plain",
    "TEXT/CSV",
    "application/json",
    "application/octet-stream",
    "multipart/form-data; boundary=x",
)
ACCEPTED_TYPES = frozenset(
    {"text/csv", "text/csv; charset=utf-8", "application/csv", "text/plain", "TEXT/CSV"}
)
QUERIES = ("",) * 6 + (
    "?dry_run=1",
    "?dry_run=0",
    "?dry_run=false",
    "?dry_run=yes",
    "?dry_run=",
    "?dry_run=%00",
    "?dry_run=1&dry_run=0",
)


@dataclass(frozen=True)
class ApiImport:
    export: CsvExport
    who: Who
    content_type: str
    query: str

    @property
    def dry_run(self) -> bool:
        first = self.query.partition("dry_run=")[2].partition("&")[0]
        return bool(self.query) and first not in ("", "0", "false")

    @property
    def must_succeed(self) -> bool:
        return self.export.valid and self.who == "organiser" and self.content_type in ACCEPTED_TYPES


API_IMPORTS = st.builds(
    ApiImport,
    exports(max_rows=3_000),
    st.sampled_from(WHO),
    st.sampled_from(CSV_TYPES),
    st.sampled_from(QUERIES),
)


async def _invalid_csv_lines(tally: Tally, body: bytes, sample: object) -> None:
    """A refusal lists every problem with a line from 1."""
    lines = json.loads(body)["error"].get("lines")
    if not lines or not all(isinstance(p["line"], int) and p["line"] >= 1 for p in lines):
        tally.server_errors.append(f"a refusal without lines ({body[:200]!r}): {sample!r:.300}")


def listed_keys(data: bytes) -> set[str] | None:
    """The keys of everyone the export lists, as the importer reads it; None if refused."""
    try:
        return {r.key for r in read_registrations(data).registrations}
    except RegistrationImportError:
        return None


def _check_import(tally: Tally, data: bytes, status: int, body: bytes, sample: object) -> None:
    """The answer is what reading the bytes sent gives: refused if the reader refuses them,
    and otherwise everyone they list, no more and no fewer. (A large refused export is not
    read again here: reading is most of the cost of an input, and a valid one refused is
    caught by ``must_succeed``.)"""
    if status not in (200, 422) or (status == 422 and len(data) > 256 * 1024):
        return
    keys = listed_keys(data) if len(data) <= MAX_BYTES else None
    if status == 200:
        changes = json.loads(body)["changes"]
        counted = changes["added"] + changes["updated"] + changes["unchanged"]
        if keys is None or counted != len(keys):
            tally.server_errors.append(
                f"imported {counted} people of the {len(keys or ())} the export lists: "
                f"{sample!r:.300}"
            )
    elif status == 422 and keys is not None:
        tally.server_errors.append(
            f"refused an export the reader takes ({body[:300]!r}): {sample!r:.300}"
        )


async def upload(
    server: FuzzServer,
    tally: Tally,
    sample: ApiImport | FormImport,
    path: str,
    body: bytes,
    content_type: str,
    dry_run: bool,
) -> Answer | None:
    """Send one export and check what every upload must hold: who may import, a valid
    export taken, and a dry run (a preview) leaving the store as it was."""
    before = await server.fingerprint() if dry_run else ""
    answer = await server.request(
        tally,
        "POST",
        path,
        data=body,
        headers={**headers_of(sample.who), "Content-Type": content_type},
        sample=sample,
    )
    if answer is None:
        return None
    _check_access(tally, sample.who, answer.status, sample)
    if sample.must_succeed and answer.status != 200:
        tally.server_errors.append(
            f"a valid export was refused ({answer.status} {answer.body[:300]!r}): {sample!r:.300}"
        )
    if answer.status == 200 and dry_run and await server.fingerprint() != before:
        tally.store_changes.append(f"a dry run changed the store: {sample!r:.300}")
    return answer


async def send_api_import(server: FuzzServer, tally: Tally, sample: ApiImport) -> None:
    path = "/api/registrations/import" + sample.query
    data = sample.export.data
    answer = await upload(server, tally, sample, path, data, sample.content_type, sample.dry_run)
    if answer is None:
        return
    if answer.code == "registrations.invalid_csv":
        await _invalid_csv_lines(tally, answer.body, sample)
    if sample.who == "organiser" and sample.content_type in ACCEPTED_TYPES:
        _check_import(tally, sample.export.data, answer.status, answer.body, sample)
    if answer.status == 200 and not sample.dry_run:
        await follow_up(server, tally, "/api/registrations", sample, headers_of("organiser"))


@dataclass(frozen=True)
class FormImport:
    export: CsvExport
    who: Who
    shape: str
    action: str | None

    @property
    def must_succeed(self) -> bool:
        return (
            self.export.valid
            and self.who == "organiser"
            and self.shape in ("file", "file without type", "two files")
            and len(self.export.data) <= MAX_FORM_BYTES
        )


FORM_SHAPES = (
    "file", "file", "file", "file without type", "two files", "field", "no file", "empty file",
    "urlencoded", "truncated", "no boundary", "wrong boundary",
)  # fmt: skip
ACTIONS = (None, "preview", "preview", "import", "import", "import", "", "IMPORT", "delete")
MAX_FORM_BYTES = 1024 * 1024 - 4096
"""What fits in a multipart body within the app's request limit (1 MiB)."""
BOUNDARY = "fuzzBoundary7MA4YWxkTrZu0gW"


def form_body(sample: FormImport) -> tuple[bytes, str]:
    """The body and its Content-Type, as a browser (or something else) sends the form."""
    data = sample.export.data
    if sample.shape == "urlencoded":
        action = f"action={sample.action}&" if sample.action is not None else ""
        return (f"{action}file=".encode() + quote_from_bytes(data).encode()), (
            "application/x-www-form-urlencoded"
        )
    parts: list[tuple[str, bytes]] = []
    if sample.action is not None:
        parts.append(('name="action"', sample.action.encode()))
    file_type = "\r\nContent-Type: text/csv"
    match sample.shape:
        case "file" | "truncated" | "no boundary" | "wrong boundary":
            parts.append(('name="file"; filename="export.csv"' + file_type, data))
        case "file without type":
            parts.append(('name="file"; filename="export.csv"', data))
        case "two files":
            parts.append(('name="file"; filename="export.csv"' + file_type, data))
            parts.append(('name="file"; filename="other.csv"' + file_type, b"x,y\n"))
        case "field":
            parts.append(('name="file"', data))
        case "empty file":
            parts.append(('name="file"; filename="export.csv"' + file_type, b""))
    body = b"".join(
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; {disposition}\r\n\r\n".encode()
        + content
        + b"\r\n"
        for disposition, content in parts
    )
    body += f"--{BOUNDARY}--\r\n".encode()
    content_type = f"multipart/form-data; boundary={BOUNDARY}"
    if sample.shape == "truncated":
        body = body[: len(body) * 2 // 3]
    elif sample.shape == "no boundary":
        content_type = "multipart/form-data"
    elif sample.shape == "wrong boundary":
        content_type = "multipart/form-data; boundary=another"
    return body, content_type


FORM_IMPORTS = st.builds(
    FormImport,
    exports(max_rows=200),
    st.sampled_from(WHO),
    st.sampled_from(FORM_SHAPES),
    st.sampled_from(ACTIONS),
)


async def send_form_import(server: FuzzServer, tally: Tally, sample: FormImport) -> None:
    dry_run = sample.action != "import"
    body, content_type = form_body(sample)
    path = "/organise/registrations/import"
    answer = await upload(server, tally, sample, path, body, content_type, dry_run)
    if answer is None:
        return
    if answer.status == 200 and not dry_run and sample.shape != "urlencoded":
        keys = listed_keys(sample.export.data) or set()
        stored = await server.app[STORE].list_registrations()
        if {r.key for r in stored if r.checked_in_at is None} != keys:
            tally.server_errors.append(
                f"stored {len(stored)} people, the file lists {len(keys)}: {sample!r:.300}"
            )


def _fuzz_registrations(
    name: str,
    strategy: st.SearchStrategy[T],
    send: Callable[[FuzzServer, Tally, T], Any],
    server: FuzzServer,
    examples: int,
    seed: int,
) -> Tally:
    tally = Tally(name)
    store = server.app[STORE]
    before = server.run(store.list_registrations())

    async def check(sample: T) -> None:
        await send(server, tally, sample)

    try:
        run_examples(strategy, each_answer(server, check), examples=examples, seed_value=seed)
    finally:  # the registrations as they were (who was added since is removed again)
        server.run(store.import_registrations(before))
    return tally


def fuzz_registrations_api(server: FuzzServer, examples: int, seed: int) -> Tally:
    return _fuzz_registrations(
        "registrations import: API (text/csv)",
        API_IMPORTS,
        send_api_import,
        server,
        examples,
        seed,
    )


def fuzz_registrations_form(server: FuzzServer, examples: int, seed: int) -> Tally:
    return _fuzz_registrations(
        "registrations import: organisers' form (multipart)",
        FORM_IMPORTS,
        send_form_import,
        server,
        examples,
        seed,
    )


ENTRIES: tuple[FuzzEntry, ...] = (
    FuzzEntry("programme import: frab XML", fuzz_frab_import),
    FuzzEntry("programme import: pretalx JSON", fuzz_pretalx_import),
    FuzzEntry("registrations import: API (text/csv)", fuzz_registrations_api),
    FuzzEntry("registrations import: organisers' form (multipart)", fuzz_registrations_form),
)
