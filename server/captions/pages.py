"""The captioner's page: write a session's live captions in one language."""

from __future__ import annotations

from aiohttp import web

from server.http.rendering import language_page
from server.keys import IDENTITY
from server.programme.lookup import CODE_PATTERN, find_session
from sessions.captions import language_code
from web.i18n import current

routes = web.RouteTableDef()


@routes.get(f"/sessions/{{code:{CODE_PATTERN}}}/captions/{{language:[A-Za-z]{{2,3}}}}")
async def captioner_page(request: web.Request) -> web.StreamResponse:
    programme, session = await find_session(request)
    language = language_code(request.match_info["language"])
    return language_page(
        request,
        "captioner.html",
        programme,
        session,
        language,
        allowed=request[IDENTITY].can_caption(session.code, language),
        sign_in=current().gettext("Sign in with your captioner link first."),
        refusal=current().gettext(
            "Only this session's captioners for this language may write here."
        ),
    )
