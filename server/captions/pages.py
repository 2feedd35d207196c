"""The captioner's page: write a session's live captions in one language."""

from __future__ import annotations

from aiohttp import web

from server.http.errors import AppError
from server.http.rendering import render
from server.keys import IDENTITY, LOCALE
from server.programme.lookup import CODE_PATTERN, find_session
from sessions.captions import language_code
from web.i18n import current, language_name

routes = web.RouteTableDef()


@routes.get(f"/sessions/{{code:{CODE_PATTERN}}}/captions/{{language:[A-Za-z]{{2,3}}}}")
async def captioner_page(request: web.Request) -> web.StreamResponse:
    programme, session = await find_session(request)
    language = language_code(request.match_info["language"])
    identity = request[IDENTITY]
    if identity.is_anonymous:
        raise AppError(
            401, "auth.required", current().gettext("Sign in with your captioner link first.")
        )
    if not identity.can_caption(session.code, language):
        raise AppError(
            403,
            "auth.forbidden",
            current().gettext("Only this session's captioners for this language may write here."),
        )
    response = render(
        request,
        "captioner.html",
        {
            "session": session,
            "language": language,
            "language_name": language_name(language, request[LOCALE]),
        },
        programme=programme,
    )
    response.headers["Cache-Control"] = "no-store"
    return response
