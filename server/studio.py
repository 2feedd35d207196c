"""The studio page: a speaker's browser publishes the panel's camera and microphone."""

from __future__ import annotations

from aiohttp import web

from server.errors import AppError
from server.keys import IDENTITY, MEDIA
from server.media.stream_key import StreamKey
from server.pages import CODE_PATTERN, find_session
from server.rendering import render
from sessions.roles import Role

routes = web.RouteTableDef()


@routes.get(f"/sessions/{{code:{CODE_PATTERN}}}/studio", name="studio")
async def studio(request: web.Request) -> web.StreamResponse:
    programme, session = await find_session(request)
    identity = request[IDENTITY]
    if identity.is_anonymous:
        raise AppError(401, "auth.required", "Sign in with your speaker link to open the studio.")
    if not (identity.has_role(session.code, Role.SPEAKER) or identity.can_moderate(session.code)):
        raise AppError(403, "auth.forbidden", "Only this session's speakers may open its studio.")
    response = render(
        request,
        "studio.html",
        {"session": session, "stream": request.app[MEDIA].state(StreamKey.panel(session.code))},
        programme=programme,
    )
    response.headers["Cache-Control"] = "no-store"
    return response
