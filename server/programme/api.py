"""The programme as JSON and as an iCalendar feed."""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

from server.http.errors import AppError
from server.keys import (
    CLOCK,
    SETTINGS,
)
from server.programme.lookup import CODE_PATTERN, current_programme, find_session
from sessions.programme import Programme, Session
from web.ics import programme_calendar

routes = web.RouteTableDef()


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
