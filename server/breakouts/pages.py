"""The participant's break-out room page: the room's call and chat."""

from __future__ import annotations

from aiohttp import web

from server.breakouts.views import room_view
from server.http.errors import AppError
from server.http.rendering import render
from server.http.responses import see_other
from server.keys import CLOCK, IDENTITY, QA, ROOM_CALLS
from server.programme.lookup import CODE_PATTERN, find_session
from web.breakout_views import breakouts_view
from web.i18n import marked as _

routes = web.RouteTableDef()


@routes.get(f"/sessions/{{code:{CODE_PATTERN}}}/breakouts/{{room:[a-z0-9][a-z0-9-]{{0,31}}}}")
async def room_page(request: web.Request) -> web.StreamResponse:
    programme, session = await find_session(request)
    identity = request[IDENTITY]
    await request.app[QA].sync()
    rooms = request.app[QA].breakouts(session.code)
    room_id = request.match_info["room"]
    if room_id not in {room.room_id for room in rooms.rooms}:
        raise AppError(404, "breakouts.room_unknown", _("There is no such room."))
    now = request.app[CLOCK]()
    in_room = not identity.is_anonymous and rooms.room_id_of(identity.participant_id) == room_id
    if rooms.phase_at(now) not in ("open", "closing") or not in_room:
        return see_other(f"/sessions/{session.code}#breakouts")
    response = render(
        request,
        "breakout_room.html",
        {
            "session": session,
            "room": room_view(rooms, room_id, request.app[ROOM_CALLS].call(session.code, room_id)),
            "breakouts": breakouts_view(rooms, now),
            "me": identity,
        },
        programme=programme,
    )
    response.headers["Cache-Control"] = "no-store"
    return response
