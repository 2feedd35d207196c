"""pretalx ``schedule.json`` (the C3VOC schedule.json schema).

Rooms are keyed by name: pretalx has exported the same room guid for every room. Event ``date``
keeps its absolute instant and is shown in the conference's zone.
"""

from __future__ import annotations

import json
from typing import cast

from sessions.programme import Link, Programme, Speaker
from sessions.schedule_formats.common import (
    ProgrammeBuilder,
    RawEvent,
    ScheduleFormatError,
    first_present,
    kind,
    link,
    load_zone,
    quote,
    speaker,
    text,
    url,
)

JsonObject = dict[str, object]


def parse_pretalx_json(data: bytes, default_time_zone: str) -> Programme:
    document = _object(_load(data), "the schedule")
    schedule = _object(document.get("schedule", document), "the schedule")
    conference = _object(schedule.get("conference"), "the conference")
    zone_name = (
        text(conference.get("time_zone_name"), "the conference", "time_zone_name", 64)
        or default_time_zone
    )
    base_url = first_present(schedule.get("base_url"), conference.get("base_url"))
    builder = ProgrammeBuilder(load_zone(zone_name), url(base_url, "the schedule", "base_url"))
    for position, room in enumerate(_list(conference.get("rooms"), "the conference's rooms")):
        name = room.get("name") if isinstance(room, dict) else room
        builder.add_room(name, f"the conference's room #{position + 1}")
    for day in _list(conference.get("days"), "the conference's days"):
        _add_day(builder, _object(day, "a day"))
    return builder.programme(
        acronym=conference.get("acronym"),
        title=conference.get("title"),
        time_zone=zone_name,
        start=conference.get("start"),
        end=conference.get("end"),
    )


def _load(data: bytes) -> object:
    try:
        decoded = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ScheduleFormatError(
            f"the schedule is not valid UTF-8 (byte {error.start:,})"
        ) from None
    try:
        return cast(object, json.loads(decoded))
    except json.JSONDecodeError as error:
        raise ScheduleFormatError(
            f"the schedule is not valid JSON ({error.msg} at line {error.lineno},"
            f" column {error.colno})"
        ) from None
    except RecursionError:
        raise ScheduleFormatError("the schedule's JSON is nested too deeply") from None
    except ValueError as error:
        raise ScheduleFormatError(f"the schedule is not valid JSON ({error})") from None


def _object(value: object, where: str) -> JsonObject:
    if not isinstance(value, dict):
        raise ScheduleFormatError(f"{where} must be a JSON object, not {kind(value)}")
    return cast(JsonObject, value)


def _list(value: object, where: str) -> list[object]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ScheduleFormatError(f"{where} must be a JSON list, not {kind(value)}")
    return cast(list[object], value)


def _add_day(builder: ProgrammeBuilder, element: JsonObject) -> None:
    day = builder.add_day(
        element.get("index"), element.get("date"), element.get("day_start"), element.get("day_end")
    )
    where = f"day {day.index}"
    for name, events in _object(element.get("rooms", {}), f"{where}: rooms").items():
        room = builder.add_room(name, where)
        for event in _list(events, f"{where}: room {quote(name)}"):
            raw = _object(event, f"{where}: an event in room {quote(name)}")
            builder.add_session(_raw_event(builder, raw, room), day)


def _raw_event(builder: ProgrammeBuilder, event: JsonObject, room: str) -> RawEvent:
    where = builder.event_label(event.get("id"), event.get("title"))
    return RawEvent(
        where=where,
        guid=event.get("guid"),
        event_id=event.get("id"),
        code=event.get("code"),
        title=event.get("title"),
        room=event.get("room"),
        container_room=room,
        duration=event.get("duration"),
        date=event.get("date"),
        start=event.get("start"),
        end=event.get("end"),
        url=event.get("url"),
        slug=event.get("slug"),
        subtitle=event.get("subtitle"),
        type=event.get("type"),
        track=event.get("track"),
        language=event.get("language"),
        abstract=event.get("abstract"),
        description=event.get("description"),
        do_not_record=event.get("do_not_record"),
        do_not_stream=event.get("do_not_stream"),
        recording_license=event.get("recording_license"),
        logo=event.get("logo"),
        speakers=_speakers(event.get("persons"), where),
        links=_links(event.get("links"), where),
    )


def _speakers(value: object, where: str) -> tuple[Speaker, ...]:
    persons = (_object(p, f"{where}: a speaker") for p in _list(value, f"{where}: persons"))
    return tuple(
        speaker(
            first_present(p.get("code"), p.get("id"), p.get("guid")),
            first_present(p.get("public_name"), p.get("name")),
            p.get("biography"),
            where,
        )
        for p in persons
    )


def _links(value: object, where: str) -> tuple[Link, ...]:
    found: list[Link] = []
    for item in _list(value, f"{where}: links"):
        if isinstance(item, dict):
            found.append(link(item.get("url"), item.get("title"), where))
        elif isinstance(item, str):
            found.append(link(item, None, where))
        else:
            raise ScheduleFormatError(
                f"{where}: a link must be a URL or an object, not {kind(item)}"
            )
    return tuple(found)
