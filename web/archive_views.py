"""Recordings as the archive pages, the JSON API and the feed show them."""

from __future__ import annotations

from itertools import groupby

import msgspec

from recordings.archive import Recording
from sessions.programme import Session
from web import i18n
from web.templating import long_date


def duration_text(seconds: float) -> str:
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"


class RecordingView(msgspec.Struct, frozen=True, kw_only=True):
    """A recording as the archive's pages, the JSON API and the feed show it: one schema
    for all of them (and for the moderators' console, which reads the JSON)."""

    id: str
    title: str
    subtitle: str
    abstract: str
    speakers: tuple[str, ...]
    track: str
    room: str
    session_code: str
    session_guid: str
    session_url: str
    license: str
    day: str
    day_label: str
    started_at: str
    ended_at: str | None
    duration_seconds: float
    duration: str
    size_bytes: int
    status: str
    error: str
    container: str
    media_type: str
    media_url: str
    poster_url: str
    chapters_url: str
    page_url: str
    languages: tuple[str, ...] = ()
    """The languages one can hear it in: the floor's (when the programme says it) and each
    interpretation channel recorded as an audio track of its own."""


class Chapter(msgspec.Struct, frozen=True):
    start: float
    end: float
    title: str


class RecordingDetail(RecordingView, frozen=True, kw_only=True):
    """One recording with its chapters (``GET /api/recordings/<id>``)."""

    chapters: tuple[Chapter, ...] = ()


def recording_view(recording: Recording, session: Session | None, base_url: str) -> RecordingView:
    """A recording with what the programme says about its session (it may have left the
    programme: then the recording keeps its code). Links start with ``base_url``: the
    public address for the API and the feed, empty (site-relative) for pages."""
    media = f"{base_url}/media/recordings/{recording.id}"
    day = (session.start if session else recording.started_at).date()
    language = i18n.current()
    title = (
        session.title
        if session
        else language.gettext("Recording of %(code)s", code=recording.session_code)
    )
    return RecordingView(
        id=recording.id,
        title=title,
        subtitle=session.subtitle if session else "",
        abstract=session.abstract if session else "",
        speakers=tuple(s.name for s in session.speakers) if session else (),
        track=(session.track if session else "") or language.gettext("Other"),
        room=session.room if session else "",
        session_code=session.code if session else recording.session_code,
        session_guid=recording.session_guid,
        session_url=f"{base_url}/sessions/{session.code}" if session else "",
        license=session.recording_license if session else "",
        day=day.isoformat(),
        day_label=long_date(day),
        started_at=recording.started_at.isoformat(),
        ended_at=recording.ended_at.isoformat() if recording.ended_at else None,
        duration_seconds=round(recording.duration_seconds, 3),
        duration=duration_text(recording.duration_seconds),
        size_bytes=recording.size_bytes,
        status=recording.status,
        error=recording.error,
        container=recording.container,
        media_type="video/webm" if recording.container == "webm" else "video/mp4",
        media_url=f"{media}.{recording.container}",
        poster_url=f"{media}.jpg" if recording.poster_key else "",
        chapters_url=f"{media}.vtt",
        page_url=f"{base_url}/archive/{recording.id}",
        languages=tuple(
            dict.fromkeys(
                ([session.language] if session and session.language else [])
                + list(recording.languages)
            )
        ),
    )


def with_chapters(view: RecordingView, chapters: list[tuple[float, float, str]]) -> RecordingDetail:
    return RecordingDetail(
        **msgspec.structs.asdict(view),
        chapters=tuple(Chapter(start, end, title) for start, end, title in chapters),
    )


def matches(view: RecordingView, query: str) -> bool:
    """Search by title and speaker, every word anywhere, ignoring case."""
    haystack = " ".join([view.title, view.subtitle, *view.speakers]).casefold()
    return all(word in haystack for word in query.casefold().split())


def archive_groups(
    views: list[RecordingView],
) -> list[tuple[str, list[tuple[str, list[RecordingView]]]]]:
    """By day (newest first), then by track (alphabetical), then by start time."""
    ordered = sorted(views, key=lambda v: (v.day, v.track, v.started_at))
    days = []
    for day, in_day in groupby(ordered, key=lambda v: v.day):
        tracks = [(track, list(items)) for track, items in groupby(in_day, key=lambda v: v.track)]
        days.append((day, tracks))
    days.reverse()
    return days
