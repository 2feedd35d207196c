"""A session's stream over HTTP: its state, and the broadcast-mode switch."""

from __future__ import annotations

import msgspec
from aiohttp import web

from server.http.commands import submit
from server.http.errors import AppError
from server.http.identity import moderator
from server.http.request_body import read_json
from server.http.responses import json_of
from server.keys import (
    BOOTHS,
    MEDIA,
    QA,
)
from server.live.views import StreamApiView, live_state
from server.programme.lookup import CODE_PATTERN, find_session
from sessions.consent import session_consent
from sessions.delivery import SetBroadcast, SetInterpretation

routes = web.RouteTableDef()


class BroadcastBody(msgspec.Struct, forbid_unknown_fields=True):
    broadcast: bool


def stream_json(request: web.Request, code: str) -> StreamApiView:
    state = live_state(request.app[MEDIA], request.app[QA].delivery, request.app[BOOTHS], code)
    return StreamApiView(
        **msgspec.structs.asdict(state), whep=f"/whep/{code}", hls=f"/hls/{code}/index.m3u8"
    )


@routes.get(f"/api/sessions/{{code:{CODE_PATTERN}}}/stream")
async def stream_api(request: web.Request) -> web.StreamResponse:
    _, session = await find_session(request)
    await request.app[QA].sync()
    return json_of(stream_json(request, session.code))


@routes.post(f"/api/sessions/{{code:{CODE_PATTERN}}}/stream/broadcast")
async def set_broadcast(request: web.Request) -> web.StreamResponse:
    """A moderator switches every page player to HLS (broadcast mode) or back."""
    _, session = await find_session(request)
    me = moderator(request, session.code)
    await request.app[QA].sync()
    if not session_consent(session, request.app[QA].delivery.consent_edits(session.code)).streamed:
        raise AppError(409, "stream.not_streamed", "This session is not streamed.")
    body = await read_json(request, BroadcastBody)
    command = SetBroadcast(session.code, me.participant_id, body.broadcast)
    await submit(request, session.code, command)
    return json_of(stream_json(request, session.code))


class InterpretationBody(msgspec.Struct, forbid_unknown_fields=True):
    languages: list[str]


@routes.put(f"/api/sessions/{{code:{CODE_PATTERN}}}/interpretation")
async def set_interpretation(request: web.Request) -> web.StreamResponse:
    """A moderator declares the languages the session is interpreted into: each gets a
    booth, and viewers a channel to pick."""
    _, session = await find_session(request)
    me = moderator(request, session.code)
    body = await read_json(request, InterpretationBody)
    command = SetInterpretation(session.code, me.participant_id, tuple(body.languages))
    await submit(request, session.code, command)
    return json_of(stream_json(request, session.code))
