"""The studio page: a speaker's browser publishes the panel's camera and microphone."""

from __future__ import annotations

from aiohttp import web

from server.http.errors import AppError
from server.http.rendering import render
from server.keys import IDENTITY, MEDIA, QA
from server.media.stream_key import StreamKey
from server.programme.lookup import CODE_PATTERN, find_session
from server.qa.pages import speaker_names
from sessions.roles import Role
from web.i18n import marked as _
from web.qa_views import public_question

routes = web.RouteTableDef()


@routes.get(f"/sessions/{{code:{CODE_PATTERN}}}/studio", name="studio")
async def studio(request: web.Request) -> web.StreamResponse:
    programme, session = await find_session(request)
    identity = request[IDENTITY]
    if identity.is_anonymous:
        raise AppError(
            401, "auth.required", _("Sign in with your speaker link to open the studio.")
        )
    if not (identity.has_role(session.code, Role.SPEAKER) or identity.can_moderate(session.code)):
        raise AppError(
            403,
            "auth.forbidden",
            _("Only this session's speakers and moderators may open its studio."),
        )
    await request.app[QA].sync()
    question = request.app[QA].session(session.code).highlighted_question()
    response = render(
        request,
        "studio.html",
        {
            "session": session,
            # The page opens before this studio publishes: a stream on now is someone else's.
            "stream": request.app[MEDIA].state(StreamKey.panel(session.code), rehearsals=True),
            "question": public_question(question, highlighted=question.id) if question else None,
            "speakers": speaker_names(session),
        },
        programme=programme,
    )
    response.headers["Cache-Control"] = "no-store"
    return response
