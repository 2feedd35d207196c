"""The programme as an iCalendar feed: one VEVENT per session."""

from __future__ import annotations

import datetime as dt

import icalendar

from sessions.programme import Programme


def programme_calendar(programme: Programme, base_url: str, now: dt.datetime) -> bytes:
    conference = programme.conference
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Plenaria//Programme//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", conference.title)
    calendar.add("x-wr-timezone", conference.time_zone)
    stamp = now.astimezone(dt.UTC)
    for session in programme.sessions:
        event = icalendar.Event()
        event.add("uid", f"{session.guid}@plenaria")
        event.add("dtstamp", stamp)
        event.add("dtstart", session.start.astimezone(dt.UTC))
        event.add("dtend", session.end.astimezone(dt.UTC))
        event.add("summary", session.title)
        event.add("location", session.room)
        page = f"{base_url}/sessions/{session.code}"
        event.add("url", page)
        speakers = ", ".join(s.name for s in session.speakers)
        lines = [session.subtitle, speakers and f"With {speakers}", session.abstract, page]
        event.add("description", "\n\n".join(line for line in lines if line))
        if session.track:
            event.add("categories", [session.track])
        calendar.add_component(event)
    body: bytes = calendar.to_ical()
    return body
