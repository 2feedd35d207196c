"""The public replay archive (pages, JSON, Atom feed, media with HTTP Range) and the
moderators' recording controls.

Media is served by recording id from keys the archive holds, never from a path in the
request, so nothing outside the storage root can be named.
"""

from __future__ import annotations

import datetime as dt
import secrets

import msgspec
from aiohttp import web

from recordings.archive import (
    AddMarker,
    QuietStretch,
    Recording,
    SetPublished,
    WantRecording,
    chapters,
    webvtt,
)
from recordings.feed import FeedEntry, atom_feed
from server.archive.recorder import language_key
from server.http.commands import submit
from server.http.errors import AppError
from server.http.identity import moderator
from server.http.rendering import render
from server.http.request_body import read_json
from server.http.responses import json_of
from server.keys import CLOCK, IDENTITY, QA, RECORDINGS, SETTINGS
from server.programme.lookup import CODE_PATTERN, current_programme, find_session
from sessions.captions import language_code
from sessions.consent import session_consent
from sessions.programme import Programme, Session
from web.archive_views import archive_groups, matches, recording_view, with_chapters
from web.i18n import current
from web.i18n import marked as _

routes = web.RouteTableDef()

RECORDING_ID = "{recording_id:[A-Za-z0-9]{1,32}}"
MEDIA_TYPES = {"webm": "video/webm", "mp4": "video/mp4"}
FEED_ENTRIES = 100


class WantBody(msgspec.Struct, forbid_unknown_fields=True):
    recording: bool


class MarkerBody(msgspec.Struct, forbid_unknown_fields=True):
    label: str


class VisibilityBody(msgspec.Struct, forbid_unknown_fields=True):
    published: bool


def session_of(programme: Programme | None, recording: Recording) -> Session | None:
    """The programme session a recording belongs to: by guid, which survives re-imports
    that change codes, else by code."""
    if programme is None:
        return None
    for session in programme.sessions:
        if recording.session_guid and session.guid == recording.session_guid:
            return session
    return programme.session_by_code(recording.session_code)


def answered_during(request: web.Request, recording: Recording) -> list[tuple[dt.datetime, str]]:
    """The session's questions that were marked answered while this recording ran."""
    qa = request.app[QA].session(recording.session_code)
    end = recording.ended_at or request.app[CLOCK]()
    return sorted(
        (q.answered_at, q.text)
        for q in qa.questions.values()
        if q.state == "answered"
        and q.answered_at is not None
        and recording.started_at <= q.answered_at <= end
    )


def recording_chapters(
    request: web.Request, recording: Recording
) -> list[tuple[float, float, str]]:
    archive = request.app[QA].archive
    return chapters(
        recording,
        archive.markers_during(recording),
        answered_during(request, recording),
        off_record_during(request, recording),
        current().gettext("Back on the record"),
    )


def off_record_during(request: web.Request, recording: Recording) -> list[QuietStretch]:
    """The stretches of ``recording`` that were off the record, titled with their length."""
    end = recording.started_at + dt.timedelta(seconds=recording.duration_seconds)
    stretches = []
    for segment in request.app[QA].delivery.off_record_segments(recording.session_code):
        ended = segment.ended_at or end
        if ended <= recording.started_at or segment.started_at >= end:
            continue
        seconds = (ended - segment.started_at).total_seconds()
        title = (
            current().gettext("Off the record (%(seconds)s s)", seconds=max(1, round(seconds)))
            if seconds < 59.5
            else current().ngettext(
                "Off the record (%(num)s min)", "Off the record (%(num)s min)", round(seconds / 60)
            )
        )
        stretches.append(QuietStretch(segment.started_at, ended, title))
    return stretches


async def visible_recording(request: web.Request) -> Recording:
    """The recording the URL names, if the public (or this session's moderators) may see it.

    A published recording this process already knows is served without waiting to catch
    up with the log: replays are many small Range requests, and the wait is a round trip
    to the store."""
    recording_id = request.match_info["recording_id"]
    recording = request.app[QA].archive.recordings.get(recording_id)
    if recording is None or not recording.is_public:
        await request.app[QA].sync()
        recording = request.app[QA].archive.recordings.get(recording_id)
    if recording is None:
        raise AppError(404, "archive.recording_unknown", _("There is no such recording."))
    if not recording.is_public and not request[IDENTITY].can_moderate(recording.session_code):
        raise AppError(404, "archive.recording_unknown", _("There is no such recording."))
    return recording


# -- public ----------------------------------------------------------------------------------


@routes.get("/api/recordings")
async def recordings_json(request: web.Request) -> web.StreamResponse:
    """Published recordings, newest first; ``?session=<code>`` for one session's."""
    await request.app[QA].sync()
    programme = await current_programme(request)
    base = request.app[SETTINGS].base_url
    views = [
        recording_view(r, session_of(programme, r), base)
        for r in request.app[QA].archive.published()
    ]
    if wanted := request.query.get("session", ""):
        views = [view for view in views if view.session_code == wanted]
    return json_of({"recordings": views})


@routes.get(f"/api/recordings/{RECORDING_ID}")
async def recording_json(request: web.Request) -> web.StreamResponse:
    recording = await visible_recording(request)
    programme = await current_programme(request)
    view = recording_view(
        recording, session_of(programme, recording), request.app[SETTINGS].base_url
    )
    return json_of(with_chapters(view, recording_chapters(request, recording)))


@routes.get("/archive", name="archive")
async def archive_page(request: web.Request) -> web.StreamResponse:
    await request.app[QA].sync()
    programme = await current_programme(request)
    query = request.query.get("q", "")[:200]
    views = [
        recording_view(r, session_of(programme, r), "") for r in request.app[QA].archive.published()
    ]
    found = [view for view in views if matches(view, query)]
    context = {
        "groups": archive_groups(found),
        "query": query,
        "total": len(views),
        "nav": "archive",
    }
    return render(request, "archive.html", context, programme=programme)


@routes.get(f"/archive/{RECORDING_ID}")
async def replay_page(request: web.Request) -> web.StreamResponse:
    recording = await visible_recording(request)
    programme = await current_programme(request)
    session = session_of(programme, recording)
    view = recording_view(recording, session, "")
    answered = [
        {"offset": max(0.0, (at - recording.started_at).total_seconds()), "text": text}
        for at, text in answered_during(request, recording)
    ]
    context = {
        "recording": view,
        "session": session,
        "chapters": recording_chapters(request, recording),
        "answered": answered,
        "nav": "archive",
    }
    return render(request, "replay.html", context, programme=programme)


@routes.get(f"/media/recordings/{RECORDING_ID}.{{kind:webm|mp4|jpg|vtt}}")
async def recording_media(request: web.Request) -> web.StreamResponse:
    recording = await visible_recording(request)
    kind = request.match_info["kind"]
    storage = request.app[RECORDINGS]
    if kind == "vtt":
        text = webvtt(recording_chapters(request, recording))
        return web.Response(text=text, content_type="text/vtt", charset="utf-8")
    if kind == "jpg":
        if not recording.poster_key:
            raise AppError(404, "archive.no_poster", "This recording has no poster.")
        return web.FileResponse(storage.local_path(recording.poster_key))
    if kind != recording.container or recording.status == "recording":
        raise AppError(404, "archive.no_media", "This recording has no such file.")
    response = web.FileResponse(storage.local_path(recording.key))
    response.content_type = MEDIA_TYPES[kind]
    return response


@routes.get("/feeds/recordings.atom")
async def recordings_feed(request: web.Request) -> web.StreamResponse:
    await request.app[QA].sync()
    programme = await current_programme(request)
    base = request.app[SETTINGS].base_url
    entries = []
    for recording in request.app[QA].archive.published()[:FEED_ENTRIES]:
        view = recording_view(recording, session_of(programme, recording), base)
        entries.append(
            FeedEntry(
                id=recording.id,
                title=view.title,
                summary=view.abstract,
                authors=view.speakers,
                published=recording.started_at,
                updated=recording.ended_at or recording.started_at,
                page_url=view.page_url,
                media_url=view.media_url,
                media_type=view.media_type,
                media_bytes=recording.size_bytes,
                languages=view.languages,
            )
        )
    title = f"{programme.conference.title if programme else 'Plenaria'}: recordings"
    body = atom_feed(title, base, entries, request.app[CLOCK]())
    return web.Response(text=body, content_type="application/atom+xml", charset="utf-8")


# -- moderators ------------------------------------------------------------------------------


SESSION = f"/api/sessions/{{code:{CODE_PATTERN}}}"


@routes.get(SESSION + "/recordings")
async def session_recordings(request: web.Request) -> web.StreamResponse:
    _, session = await find_session(request)
    moderator(request, session.code)
    await request.app[QA].sync()
    archive = request.app[QA].archive
    base = request.app[SETTINGS].base_url
    return json_of(
        {
            "recording": archive.wants_recording(session.code),
            "do_not_record": not session_consent(
                session, request.app[QA].delivery.consent_edits(session.code)
            ).recorded,
            "recordings": [
                recording_view(r, session, base)
                for r in archive.of_session(session.code, session.guid)
            ],
            "markers": [
                {"id": m.id, "label": m.label, "at": m.at.isoformat()}
                for m in archive.markers.get(session.code, [])
            ],
        }
    )


@routes.post(SESSION + "/recording")
async def want_recording(request: web.Request) -> web.StreamResponse:
    _, session = await find_session(request)
    me = moderator(request, session.code)
    body = await read_json(request, WantBody)
    await request.app[QA].sync()
    consent = session_consent(session, request.app[QA].delivery.consent_edits(session.code))
    if body.recording and not consent.recorded:
        raise AppError(
            409,
            "archive.do_not_record",
            "This session is not recorded: the programme, or someone on its panel, did not "
            "agree to it.",
        )
    await submit(
        request, session.code, WantRecording(session.code, me.participant_id, body.recording)
    )
    return web.json_response({"recording": body.recording})


@routes.post(SESSION + "/markers")
async def add_marker(request: web.Request) -> web.StreamResponse:
    _, session = await find_session(request)
    me = moderator(request, session.code)
    label = (await read_json(request, MarkerBody)).label
    marker_id = secrets.token_urlsafe(9)
    await submit(
        request, session.code, AddMarker(marker_id, session.code, me.participant_id, label)
    )
    return web.json_response({"id": marker_id}, status=201)


@routes.post(f"/api/recordings/{RECORDING_ID}/visibility")
async def set_visibility(request: web.Request) -> web.StreamResponse:
    await request.app[QA].sync()
    recording = request.app[QA].archive.recordings.get(request.match_info["recording_id"])
    if recording is None:
        raise AppError(404, "archive.recording_unknown", _("There is no such recording."))
    me = moderator(request, recording.session_code)
    published = (await read_json(request, VisibilityBody)).published
    await submit(
        request, recording.session_code, SetPublished(recording.id, me.participant_id, published)
    )
    return web.json_response({"published": published})


class AudioTrackView(msgspec.Struct, frozen=True):
    language: str
    src: str


class RecordingAudio(msgspec.Struct, frozen=True):
    """A recording's interpretation channels, each an audio file the replay plays in step
    with the video."""

    tracks: list[AudioTrackView]


@routes.get(f"/api/recordings/{RECORDING_ID}/audio")
async def recording_audio_tracks(request: web.Request) -> web.StreamResponse:
    recording = await visible_recording(request)
    storage = request.app[RECORDINGS]
    return json_of(
        RecordingAudio(
            [
                AudioTrackView(language, f"/media/recordings/{recording.id}/audio/{language}.webm")
                for language in recording.languages
                if storage.exists(language_key(recording.key, language))
            ]
        )
    )


@routes.get(f"/media/recordings/{RECORDING_ID}/audio/{{language:[A-Za-z]{{2,3}}}}.webm")
async def recording_audio(request: web.Request) -> web.StreamResponse:
    recording = await visible_recording(request)
    language = language_code(request.match_info["language"])
    key = language_key(recording.key, language)
    if language not in recording.languages or not request.app[RECORDINGS].exists(key):
        raise AppError(404, "archive.no_language", f"This recording has no {language} audio.")
    response = web.FileResponse(request.app[RECORDINGS].local_path(key))
    response.content_type = "audio/webm"
    return response
