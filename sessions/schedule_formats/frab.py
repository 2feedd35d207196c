"""frab ``schedule.xml``: pretalx's frab export (``<version>``, ``<time_zone_name>``, per-event
``<date>``) and older files from frab itself (only ``<start>`` HH:MM on the day's date).

The XML is read with defusedxml and DTDs forbidden, so entity bombs and external entities are
refused before any entity is expanded; nesting deeper than a schedule needs is refused too.
"""

from __future__ import annotations

import io
from functools import partial
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeElementTree
from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

from sessions.programme import Programme
from sessions.schedule_formats.common import (
    ProgrammeBuilder,
    RawEvent,
    ScheduleFormatError,
    first_present,
    link,
    load_zone,
    quote,
    speaker,
    text,
    url,
)

MAX_DEPTH = 32
_DTD_MESSAGE = "DTDs (<!DOCTYPE …>) and XML entities are not allowed in a schedule (entity bomb?)"


def parse_frab(data: bytes, default_time_zone: str) -> Programme:
    root = _read_xml(data)
    if root.tag != "schedule":
        raise ScheduleFormatError(
            f"the XML is not a frab schedule: its root element is {quote(root.tag)}, not 'schedule'"
        )
    conference = root.find("conference")
    if conference is None:
        raise ScheduleFormatError("the schedule has no <conference> element")
    conference_text = partial(_child_text, conference)
    zone_name = (
        text(conference_text("time_zone_name"), "the conference", "time_zone_name", 64)
        or default_time_zone
    )
    builder = ProgrammeBuilder(
        load_zone(zone_name), url(conference_text("base_url"), "the conference", "base_url")
    )
    for day in root.iterfind("day"):
        _add_day(builder, day)
    return builder.programme(
        acronym=conference_text("acronym"),
        title=conference_text("title"),
        time_zone=zone_name,
        start=conference_text("start"),
        end=conference_text("end"),
    )


def _read_xml(data: bytes) -> Element:
    root: Element | None = None
    depth = 0
    try:
        events = SafeElementTree.iterparse(
            io.BytesIO(data), events=("start", "end"), forbid_dtd=True
        )
        for event, element in events:
            depth += 1 if event == "start" else -1
            if depth > MAX_DEPTH:
                raise ScheduleFormatError(
                    f"the schedule's XML is nested more than {MAX_DEPTH} elements deep"
                )
            if root is None:
                root = element
    except ParseError as error:
        line, column = getattr(error, "position", (0, -1))
        raise ScheduleFormatError(
            f"the schedule is not well-formed XML (line {line}, column {column + 1})"
        ) from None
    except (DTDForbidden, EntitiesForbidden):
        raise ScheduleFormatError(_DTD_MESSAGE) from None
    except ExternalReferenceForbidden:
        raise ScheduleFormatError("external references are not allowed in a schedule") from None
    if root is None:
        raise ScheduleFormatError("the schedule has no XML element")
    return root


def _add_day(builder: ProgrammeBuilder, element: Element) -> None:
    day = builder.add_day(
        element.get("index"), element.get("date"), element.get("start"), element.get("end")
    )
    for room in element.iterfind("room"):
        name = builder.add_room(room.get("name"), f"day {day.index}")
        for event in room.iterfind("event"):
            builder.add_session(_raw_event(builder, event, name), day)


def _raw_event(builder: ProgrammeBuilder, event: Element, room: str) -> RawEvent:
    field = partial(_child_text, event)
    where = builder.event_label(event.get("id"), field("title"))
    return RawEvent(
        where=where,
        guid=event.get("guid"),
        event_id=event.get("id"),
        title=field("title"),
        room=field("room"),
        container_room=room,
        duration=field("duration"),
        date=field("date"),
        start=field("start"),
        url=field("url"),
        slug=field("slug"),
        subtitle=field("subtitle"),
        type=field("type"),
        track=field("track"),
        language=field("language"),
        abstract=field("abstract"),
        description=field("description"),
        do_not_record=field("recording/optout"),
        recording_license=field("recording/license"),
        logo=field("logo"),
        speakers=tuple(
            speaker(first_present(p.get("id"), p.get("guid")), _all_text(p), None, where)
            for p in event.iterfind("persons/person")
        ),
        links=tuple(
            link(each.get("href"), _all_text(each), where) for each in event.iterfind("links/link")
        ),
    )


def _child_text(element: Element, path: str) -> str | None:
    child = element.find(path)
    return None if child is None else _all_text(child)


def _all_text(element: Element) -> str:
    return "".join(element.itertext())
