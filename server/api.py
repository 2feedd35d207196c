"""The JSON API, the iCalendar feed, health and metrics."""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from server.commands import submit
from server.errors import AppError
from server.keys import CLOCK, IDENTITY, MEDIA, METRICS, QA, SETTINGS, STORE
from server.pages import (
    CODE_PATTERN,
    current_programme,
    display_name_from,
    find_session,
    joined,
    with_identity,
)
from server.qa_api import moderator
from server.request_body import read_json
from server.topics import live_state
from sessions.delivery import SetBroadcast
from sessions.programme import Programme, Session
from web.ics import programme_calendar

routes = web.RouteTableDef()


class JoinRequest(msgspec.Struct, forbid_unknown_fields=True):
    display_name: str


def session_json(session: Session, request: web.Request) -> dict[str, Any]:
    data: dict[str, Any] = msgspec.to_builtins(session)
    data["state"] = session.state(request.app[CLOCK]())
    data["page_url"] = f"{request.app[SETTINGS].base_url}/sessions/{session.code}"
    return data


def programme_json(programme: Programme, request: web.Request) -> dict[str, Any]:
    return {
        "conference": msgspec.to_builtins(programme.conference),
        "days": msgspec.to_builtins(programme.days),
        "rooms": list(programme.rooms),
        "tracks": list(programme.tracks),
        "speakers": msgspec.to_builtins(programme.speakers),
        "sessions": [session_json(s, request) for s in programme.sessions],
    }


async def require_programme(request: web.Request) -> Programme:
    programme = await current_programme(request)
    if programme is None:
        raise AppError(404, "programme.missing", "No programme has been imported yet.")
    return programme


@routes.get("/api/programme")
async def programme_api(request: web.Request) -> web.StreamResponse:
    return web.json_response(programme_json(await require_programme(request), request))


@routes.get(f"/api/sessions/{{code:{CODE_PATTERN}}}")
async def session_api(request: web.Request) -> web.StreamResponse:
    _, session = await find_session(request)
    return web.json_response({"session": session_json(session, request)})


class BroadcastBody(msgspec.Struct, forbid_unknown_fields=True):
    broadcast: bool


def stream_json(request: web.Request, code: str) -> dict[str, object]:
    return {
        **live_state(request.app[MEDIA], request.app[QA].delivery, code),
        "whep": f"/whep/{code}",
        "hls": f"/hls/{code}/index.m3u8",
    }


@routes.get(f"/api/sessions/{{code:{CODE_PATTERN}}}/stream")
async def stream_api(request: web.Request) -> web.StreamResponse:
    _, session = await find_session(request)
    await request.app[QA].sync()
    return web.json_response(stream_json(request, session.code))


@routes.post(f"/api/sessions/{{code:{CODE_PATTERN}}}/stream/broadcast")
async def set_broadcast(request: web.Request) -> web.StreamResponse:
    """A moderator switches every page player to HLS (broadcast mode) or back."""
    _, session = await find_session(request)
    me = moderator(request, session.code)
    if session.do_not_stream:
        raise AppError(409, "stream.not_streamed", "The programme marks this session not streamed.")
    body = await read_json(request, BroadcastBody)
    command = SetBroadcast(session.code, me.participant_id, body.broadcast)
    await submit(request, session.code, command)
    return web.json_response(stream_json(request, session.code))


@routes.post("/api/participants")
async def join_api(request: web.Request) -> web.StreamResponse:
    join = await read_json(request, JoinRequest)
    identity = joined(request[IDENTITY], display_name_from(join.display_name))
    response = web.json_response(
        {"participant": {"id": identity.participant_id, "display_name": identity.display_name}},
        status=201,
    )
    with_identity(request, response, identity)
    return response


@routes.get("/programme.ics")
async def calendar(request: web.Request) -> web.StreamResponse:
    programme = await require_programme(request)
    body = programme_calendar(programme, request.app[SETTINGS].base_url, request.app[CLOCK]())
    return web.Response(
        body=body,
        content_type="text/calendar",
        charset="utf-8",
        headers={"Content-Disposition": 'inline; filename="programme.ics"'},
    )


@routes.get("/healthz")
async def health(request: web.Request) -> web.StreamResponse:
    try:
        await request.app[STORE].ping()
    except Exception as error:  # any failure of the backend means "not healthy"
        return web.json_response({"status": "unavailable", "store": str(error)}, status=503)
    return web.json_response({"status": "ok"})


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.StreamResponse:
    response = web.Response(body=generate_latest(request.app[METRICS].registry))
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response
