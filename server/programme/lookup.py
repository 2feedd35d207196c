"""The programme as requests see it: the session a URL names."""

from __future__ import annotations

from aiohttp import web

from server.http.errors import AppError
from server.keys import (
    METRICS,
    STORE,
)
from sessions.programme import Programme, Session
from web.i18n import marked as _

CODE_PATTERN = "[A-Za-z0-9_-]{1,64}"
"""A session code as it appears in URLs."""


async def current_programme(request: web.Request) -> Programme | None:
    programme = await request.app[STORE].load_programme()
    request.app[METRICS].programme_sessions.set(len(programme.sessions) if programme else 0)
    return programme


async def find_session(request: web.Request) -> tuple[Programme, Session]:
    programme = await current_programme(request)
    session = programme.session_by_code(request.match_info["code"]) if programme else None
    if programme is None or session is None:
        raise AppError(404, "session.unknown", _("There is no session with this code."))
    return programme, session
