"""Live captions over HTTP: a captioner sends lines (and corrects the last), anyone reads the
session's captions, and each recording serves the lines sent while it ran as WebVTT.

Lines go through the command log, so every process and every viewer's socket
(``session:<code>:captions``) has them within the log's round trip; the replay's tracks are
built from the same log.
"""

from __future__ import annotations

import secrets

import msgspec
from aiohttp import web

from recordings.captions import caption_track
from server.archive.routes import RECORDING_ID, visible_recording
from server.http.commands import submit
from server.http.errors import AppError
from server.http.identity import participant
from server.http.request_body import read_json
from server.http.responses import json_of
from server.keys import CLOCK, QA
from server.programme.lookup import CODE_PATTERN, find_session
from sessions.captions import AddCue, CorrectCue, Cue, language_code
from web.caption_views import captions_snapshot, cue_view

routes = web.RouteTableDef()

CAPTIONS = f"/api/sessions/{{code:{CODE_PATTERN}}}/captions"
LANGUAGE = "{language:[A-Za-z]{2,3}}"
CUE_ID = "{cue_id:[A-Za-z0-9_-]{1,32}}"


class LineBody(msgspec.Struct, forbid_unknown_fields=True):
    text: str


async def captioner(request: web.Request) -> tuple[str, str, str]:
    """The session, the language and the captioner writing in it (or a moderator)."""
    _, session = await find_session(request)
    language = language_code(request.match_info["language"])
    me = participant(request)
    if not me.can_caption(session.code, language):
        raise AppError(
            403, "auth.forbidden", f"Only this session's {language} captioners may write here."
        )
    return session.code, language, me.participant_id


def sent_line(request: web.Request, code: str, language: str, cue_id: str) -> Cue:
    """The line just submitted, as the log folded it (found by id: another captioner's line
    may have come after it)."""
    lines = request.app[QA].captions.of(code, language)
    return next(line for line in reversed(lines) if line.cue_id == cue_id)


@routes.post(CAPTIONS + "/" + LANGUAGE)
async def add_line(request: web.Request) -> web.StreamResponse:
    code, language, me = await captioner(request)
    text = (await read_json(request, LineBody)).text
    cue_id = secrets.token_urlsafe(9)
    await submit(request, code, AddCue(cue_id, code, language, text, me))
    return json_of({"cue": cue_view(sent_line(request, code, language, cue_id))}, 201)


@routes.put(CAPTIONS + "/" + LANGUAGE + "/" + CUE_ID)
async def correct_line(request: web.Request) -> web.StreamResponse:
    code, language, me = await captioner(request)
    text = (await read_json(request, LineBody)).text
    cue_id = request.match_info["cue_id"]
    await submit(request, code, CorrectCue(cue_id, code, language, text, me))
    return json_of({"cue": cue_view(sent_line(request, code, language, cue_id))})


@routes.get(CAPTIONS)
async def session_captions(request: web.Request) -> web.StreamResponse:
    _, session = await find_session(request)
    await request.app[QA].sync()
    return json_of(captions_snapshot(request.app[QA].captions, session.code))


@routes.get(f"/media/recordings/{RECORDING_ID}/captions/{LANGUAGE}.vtt")
async def recording_captions(request: web.Request) -> web.StreamResponse:
    recording = await visible_recording(request)
    language = language_code(request.match_info["language"])
    cues = request.app[QA].captions.of(recording.session_code, language)
    if not cues:
        raise AppError(404, "captions.none", f"This recording has no captions in {language}.")
    text = caption_track(cues, recording.started_at, recording.ended_at)
    return web.Response(text=text, content_type="text/vtt", charset="utf-8")


class RecordingCaptions(msgspec.Struct, frozen=True):
    """The languages a recording has captions in, each with its WebVTT track."""

    tracks: list[CaptionTrackView]


class CaptionTrackView(msgspec.Struct, frozen=True):
    language: str
    src: str


@routes.get(f"/api/recordings/{RECORDING_ID}/captions")
async def recording_caption_tracks(request: web.Request) -> web.StreamResponse:
    recording = await visible_recording(request)
    captions = request.app[QA].captions
    end = recording.ended_at or request.app[CLOCK]()
    tracks = [
        CaptionTrackView(language, f"/media/recordings/{recording.id}/captions/{language}.vtt")
        for language in captions.languages(recording.session_code)
        if captions.within(recording.session_code, language, recording.started_at, end)
    ]
    return json_of(RecordingCaptions(tracks))
