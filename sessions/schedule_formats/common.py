"""What the frab XML and pretalx JSON parsers share: checked conversions of raw values and the
builder that turns raw days and events into a :class:`Programme`.

Raw values are typed ``object``: frab gives ``str | None``, JSON gives anything. Every converter
either returns a clean value or raises :class:`ScheduleFormatError` naming the event and field.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sessions.programme import Conference, Day, Link, Programme, Session, Speaker

MAX_TITLE_CHARS = 500
MAX_TEXT_CHARS = 100_000
MAX_URL_CHARS = 2_000
MAX_EVENTS = 20_000
MAX_DAYS = 1_000
MAX_ROOMS = 10_000
MAX_MESSAGE_CHARS = 400
DAY_CHANGE = dt.time(4, 0)
URL_SCHEMES = frozenset({"", "http", "https", "mailto"})

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_CODE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_TALK_CODE = re.compile(r"/talk/([^/]+)/?$")
_ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z0-9_+-]+)*")
_INDEX = re.compile(r"\d{1,6}")
_WALL_TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?")
_H_MM = re.compile(r"(\d{1,3}):([0-5]\d)")
_D_HH_MM = re.compile(r"([1-9]):([01]\d|2[0-3]):([0-5]\d)")
_H_MM_SS = re.compile(r"(\d{1,3}):([0-5]\d):([0-5]\d)")


class ScheduleFormatError(ValueError):
    """A schedule that cannot be imported. ``str()`` is one line, written for the organiser."""

    def __init__(self, message: str) -> None:
        line = " ".join(message.split())
        if len(line) > MAX_MESSAGE_CHARS:
            line = line[: MAX_MESSAGE_CHARS - 1] + "…"
        super().__init__(line)


def quote(value: str, limit: int = 60) -> str:
    """``repr`` of a value taken from the schedule, shortened for an error message."""
    return repr(value if len(value) <= limit else value[: limit - 1] + "…")


def kind(value: object) -> str:
    match value:
        case None:
            return "null"
        case bool():
            return "true/false"
        case int():
            return "a number"
        case float():
            return "a decimal number"
        case str():
            return "text"
        case list():
            return "a list"
        case dict():
            return "an object"
    return type(value).__name__


def text(value: object, where: str, name: str, limit: int = MAX_TEXT_CHARS) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ScheduleFormatError(f"{where}: {name} must be text, not {kind(value)}")
    cleaned = clean(value)
    if len(cleaned) > limit:
        raise ScheduleFormatError(
            f"{where}: {name} is {len(cleaned):,} characters long; the limit is {limit:,}"
        )
    return cleaned


def clean(value: str) -> str:
    """Stripped, newlines normalised, control characters and lone surrogates gone."""
    cleaned = _SURROGATE.sub("\ufffd", _CONTROL.sub("", value))
    return cleaned.replace("\r\n", "\n").replace("\r", "\n").strip()


def required_text(value: object, where: str, name: str, limit: int = MAX_TITLE_CHARS) -> str:
    cleaned = text(value, where, name, limit)
    if not cleaned:
        raise ScheduleFormatError(f"{where} has no {name}")
    return cleaned


def identifier(value: object, where: str, name: str) -> str:
    """An id that may be a JSON number or text; "" when absent."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if value is None or isinstance(value, str):
        return text(value, where, name, MAX_TITLE_CHARS)
    raise ScheduleFormatError(f"{where}: {name} must be a whole number or text, not {kind(value)}")


def first_present(*values: object) -> object:
    """The first value that is neither null nor blank text."""
    return next(
        (v for v in values if v is not None and not (isinstance(v, str) and not v.strip())), None
    )


def flag(value: object, where: str, name: str) -> bool:
    if isinstance(value, bool):
        return value
    word = text(value, where, name, MAX_TITLE_CHARS)
    if word.casefold() in ("", "false", "0", "no"):
        return False
    if word.casefold() in ("true", "1", "yes"):
        return True
    raise ScheduleFormatError(f"{where}: {name} {quote(word)} is not true or false")


def url(value: object, where: str, name: str, base_url: str = "") -> str:
    """An http(s) or mailto URL, or a relative one resolved against ``base_url`` when given."""
    raw = text(value, where, name, MAX_URL_CHARS)
    if not raw:
        return ""
    try:
        resolved = urljoin(base_url, raw) if base_url else raw
        scheme = urlsplit(resolved).scheme.casefold()
    except ValueError:
        raise ScheduleFormatError(f"{where}: {name} {quote(raw)} is not a URL") from None
    if scheme not in URL_SCHEMES:
        raise ScheduleFormatError(f"{where}: {name} {quote(raw)} is not an http(s) URL")
    return resolved


def session_code(event_url: str, code: object, event_id: object, where: str) -> str:
    """pretalx's code from ``…/talk/<CODE>/``, else an explicit code, else the event id."""
    found = _TALK_CODE.search(urlsplit(event_url).path)
    candidate = found.group(1) if found else identifier(first_present(code, event_id), where, "id")
    if not candidate:
        raise ScheduleFormatError(f"{where} has neither an id nor a pretalx talk URL")
    if not _CODE.fullmatch(candidate):
        raise ScheduleFormatError(
            f"{where}: code {quote(candidate)} may only hold letters, digits, - and _ (1 to 64)"
        )
    return candidate


def load_zone(name: str) -> ZoneInfo:
    if len(name) <= 64 and _ZONE_NAME.fullmatch(name):
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
    raise ScheduleFormatError(f"{quote(name)} is not a known time zone name (like Europe/Berlin)")


def duration(value: object, where: str) -> dt.timedelta:
    """``H:MM``, pretalx's ``D:HH:MM`` (a one-digit first part, 1-9), or ``HH:MM:SS``."""
    raw = text(value, where, "duration", MAX_TITLE_CHARS)
    if not raw:
        raise ScheduleFormatError(f"{where} has no duration")
    if match := _H_MM.fullmatch(raw):
        return dt.timedelta(hours=int(match[1]), minutes=int(match[2]))
    if match := _D_HH_MM.fullmatch(raw):
        return dt.timedelta(days=int(match[1]), hours=int(match[2]), minutes=int(match[3]))
    if match := _H_MM_SS.fullmatch(raw):
        return dt.timedelta(hours=int(match[1]), minutes=int(match[2]), seconds=int(match[3]))
    raise ScheduleFormatError(f"{where}: duration {quote(raw)} is not HH:MM")


def moment(value: object, where: str, name: str, zone: ZoneInfo) -> dt.datetime:
    """An ISO 8601 date and time as given; one without an offset is read in ``zone``."""
    raw = text(value, where, name, MAX_TITLE_CHARS)
    try:
        parsed = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise ScheduleFormatError(
            f"{where}: {name} {quote(raw)} is not an ISO date and time"
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=zone)


def whole_minutes(value: dt.datetime, where: str) -> dt.datetime:
    """``value``, if its UTC offset is whole minutes: a stored programme keeps offsets to the
    minute, so a zone's local mean time from before it kept standard time (Berlin's +00:53:28
    before 1893) would come back some seconds off."""
    offset = value.utcoffset()
    if offset is not None and offset % dt.timedelta(minutes=1):
        raise ScheduleFormatError(
            f"{where}: {value.isoformat()} is in the time zone's local mean time (seconds off "
            "UTC), from before it kept standard time"
        )
    return value


def in_zone(value: dt.datetime, zone: ZoneInfo, where: str) -> dt.datetime:
    try:
        return whole_minutes(value.astimezone(dt.UTC).astimezone(zone), where)
    except OverflowError:
        raise ScheduleFormatError(f"{where}: {value.isoformat()} is out of range") from None


def calendar_date(value: object, where: str, name: str, zone: ZoneInfo) -> dt.date:
    raw = text(value, where, name, MAX_TITLE_CHARS)
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        pass
    try:
        parsed = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise ScheduleFormatError(f"{where}: {name} {quote(raw)} is not an ISO date") from None
    return parsed.date() if parsed.tzinfo is None else in_zone(parsed, zone, where).date()


def wall_time(value: object, where: str) -> dt.time:
    raw = text(value, where, "start", MAX_TITLE_CHARS)
    if not (match := _WALL_TIME.fullmatch(raw)):
        raise ScheduleFormatError(f"{where}: start {quote(raw)} is not HH:MM")
    return dt.time(int(match[1]), int(match[2]), int(match[3] or 0))


def local(day: dt.date, time: dt.time, zone: ZoneInfo, where: str, days: int = 0) -> dt.datetime:
    """The wall time on a date in ``zone``; a time skipped by a DST change moves past the gap."""
    try:
        wall = dt.datetime.combine(day + dt.timedelta(days=days), time, tzinfo=zone)
        return whole_minutes(wall.astimezone(dt.UTC).astimezone(zone), where)
    except OverflowError:
        raise ScheduleFormatError(f"{where}: the date {day.isoformat()} is out of range") from None


def later(start: dt.datetime, length: dt.timedelta, where: str) -> dt.datetime:
    """``start + length`` in elapsed time, also across a DST change, shown in start's zone."""
    try:
        return whole_minutes((start.astimezone(dt.UTC) + length).astimezone(start.tzinfo), where)
    except OverflowError:
        raise ScheduleFormatError(f"{where}: it ends after the year 9999") from None


def exclusive_end(end: dt.datetime, where: str) -> dt.datetime:
    """pretalx writes a day's last minute (``03:59:00``); the day really ends a minute later."""
    if end.minute == 59 and end.second == 0 and end.microsecond == 0:
        return later(end, dt.timedelta(minutes=1), where)
    return end


def day_index(value: object, where: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raw = text(value, where, "index", MAX_TITLE_CHARS)
    if not _INDEX.fullmatch(raw):
        raise ScheduleFormatError(f"{where}: index {quote(raw)} is not a whole number")
    return int(raw)


def speaker(key: object, name: object, biography: object, where: str) -> Speaker:
    speaker_key = identifier(key, where, "speaker id")
    if not speaker_key:
        raise ScheduleFormatError(f"{where} has a speaker without an id")
    return Speaker(
        key=speaker_key,
        name=required_text(name, where, f"name for speaker {speaker_key}"),
        biography=text(biography, where, f"biography of speaker {speaker_key}"),
    )


def link(href: object, title: object, where: str) -> Link:
    target = url(href, where, "link")
    if not target:
        raise ScheduleFormatError(f"{where} has a link without a URL")
    return Link(url=target, title=text(title, where, "link title", MAX_TITLE_CHARS) or target)


@dataclass(frozen=True, slots=True, kw_only=True)
class RawEvent:
    """An event's fields as the schedule gives them; ``where`` names it in error messages."""

    where: str
    guid: object
    event_id: object
    title: object
    room: object
    container_room: str
    duration: object
    date: object = None
    start: object = None
    end: object = None
    code: object = None
    url: object = None
    slug: object = None
    subtitle: object = None
    type: object = None
    track: object = None
    language: object = None
    abstract: object = None
    description: object = None
    do_not_record: object = None
    do_not_stream: object = None
    recording_license: object = None
    logo: object = None
    speakers: tuple[Speaker, ...] = ()
    links: tuple[Link, ...] = ()


def _shown(value: int | str, limit: int) -> str:
    return " ".join(clean(str(value)[: limit * 4]).split())[:limit]


class ProgrammeBuilder:
    """Collects days, rooms and sessions in schedule order and enforces the size limits."""

    def __init__(self, zone: ZoneInfo, base_url: str) -> None:
        self.zone = zone
        self.base_url = base_url
        self.days: list[Day] = []
        self.rooms: dict[str, None] = {}
        self.sessions: list[Session] = []
        self._events = 0

    def add_room(self, name: object, where: str) -> str:
        room = text(name, where, "room name", MAX_TITLE_CHARS)
        if room:
            self._remember(room)
        return room

    def _remember(self, room: str) -> None:
        if room not in self.rooms and len(self.rooms) >= MAX_ROOMS:
            raise ScheduleFormatError(f"the schedule has more than {MAX_ROOMS:,} rooms")
        self.rooms.setdefault(room)

    def add_day(self, index: object, date_: object, start: object, end: object) -> Day:
        if len(self.days) >= MAX_DAYS:
            raise ScheduleFormatError(f"the schedule has more than {MAX_DAYS:,} days")
        where = f"day #{len(self.days) + 1}"
        number = day_index(index, where)
        where = f"day {number}"
        day = calendar_date(date_, where, "date", self.zone)
        first = (
            in_zone(moment(start, where, "start", self.zone), self.zone, where)
            if first_present(start)
            else local(day, DAY_CHANGE, self.zone, where)
        )
        last = (
            in_zone(exclusive_end(moment(end, where, "end", self.zone), where), self.zone, where)
            if first_present(end)
            else local(day, DAY_CHANGE, self.zone, where, days=1)
        )
        if last < first:
            raise ScheduleFormatError(f"{where} ends before it starts")
        self.days.append(Day(index=number, date=day, start=first, end=last))
        return self.days[-1]

    def event_label(self, event_id: object, title: object) -> str:
        """Count one more event and name it: ``event 1237 ("Verkehrte Welt")``."""
        self._events += 1
        if self._events > MAX_EVENTS:
            raise ScheduleFormatError(f"the schedule has more than {MAX_EVENTS:,} events")
        number = _shown(event_id, 40) if isinstance(event_id, int | str) else ""
        label = f"event {number}" if number else f"event #{self._events}"
        shown = _shown(title, 60) if isinstance(title, str) else ""
        return f'{label} ("{shown}")' if shown else label

    def add_session(self, raw: RawEvent, day: Day) -> Session:
        session = self._session(raw, day)
        self._remember(session.room)
        self.sessions.append(session)
        return session

    def _session(self, raw: RawEvent, day: Day) -> Session:
        where = raw.where
        event_url = url(raw.url, where, "url")
        start = self._start(raw, day)
        room = text(raw.room, where, "room", MAX_TITLE_CHARS) or raw.container_room
        if not room:
            raise ScheduleFormatError(f"{where} has no room")
        return Session(
            guid=required_text(raw.guid, where, "guid"),
            code=session_code(event_url, raw.code, raw.event_id, where),
            slug=text(raw.slug, where, "slug", MAX_TITLE_CHARS),
            title=required_text(raw.title, where, "title"),
            start=start,
            end=self._end(raw, start),
            room=room,
            subtitle=text(raw.subtitle, where, "subtitle", MAX_TITLE_CHARS),
            type=text(raw.type, where, "type", MAX_TITLE_CHARS),
            track=text(raw.track, where, "track", MAX_TITLE_CHARS),
            language=text(raw.language, where, "language", MAX_TITLE_CHARS),
            abstract=text(raw.abstract, where, "abstract"),
            description=text(raw.description, where, "description"),
            speakers=raw.speakers,
            do_not_record=flag(raw.do_not_record, where, "do_not_record"),
            do_not_stream=flag(raw.do_not_stream, where, "do_not_stream"),
            recording_license=text(raw.recording_license, where, "license", MAX_TITLE_CHARS),
            url=event_url,
            logo=url(raw.logo, where, "logo", self.base_url),
            links=raw.links,
        )

    def _start(self, raw: RawEvent, day: Day) -> dt.datetime:
        if first_present(raw.date):
            return in_zone(moment(raw.date, raw.where, "date", self.zone), self.zone, raw.where)
        if not first_present(raw.start):
            raise ScheduleFormatError(f"{raw.where} has no start time")
        time = wall_time(raw.start, raw.where)
        opening = day.start.astimezone(self.zone)
        start = local(opening.date(), time, self.zone, raw.where)
        return start if start >= opening else local(opening.date(), time, self.zone, raw.where, 1)

    def _end(self, raw: RawEvent, start: dt.datetime) -> dt.datetime:
        if first_present(raw.duration) or not first_present(raw.end):
            return later(start, duration(raw.duration, raw.where), raw.where)
        end = in_zone(moment(raw.end, raw.where, "end", self.zone), self.zone, raw.where)
        if end < start:
            raise ScheduleFormatError(f"{raw.where} ends before it starts")
        return end

    def programme(
        self, *, acronym: object, title: object, time_zone: str, start: object, end: object
    ) -> Programme:
        where = "the conference"
        days = [d.date for d in self.days]
        if not days and not (first_present(start) and first_present(end)):
            raise ScheduleFormatError("the schedule has no days and no conference start and end")
        first = (
            calendar_date(start, where, "start", self.zone) if first_present(start) else min(days)
        )
        last = calendar_date(end, where, "end", self.zone) if first_present(end) else max(days)
        if last < first:
            raise ScheduleFormatError(f"the conference ends ({last}) before it starts ({first})")
        conference = Conference(
            acronym=required_text(acronym, where, "acronym"),
            title=required_text(title, where, "title"),
            time_zone=time_zone,
            start=first,
            end=last,
            base_url=self.base_url,
        )
        return Programme(
            conference=conference,
            days=tuple(self.days),
            rooms=tuple(self.rooms),
            sessions=tuple(self.sessions),
        )
