"""Which language each request is answered in: the reader's choice (``?lang=`` on any page,
remembered in a cookie for a year), else their browser's ``Accept-Language``, else English.
Pages, error pages and the ES modules' catalog all follow it."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from server.keys import LOCALE, SETTINGS
from web import i18n

LANGUAGE_COOKIE = "plenaria_lang"
LANGUAGE_MAX_AGE = 365 * 24 * 3600


@web.middleware
async def language_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    asked = i18n.supported(request.query.get("lang"))
    remembered = request.cookies.get(LANGUAGE_COOKIE)
    code = i18n.negotiate(asked or remembered, request.headers.get("Accept-Language"))
    request[LOCALE] = code
    token = i18n.use(code)
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _remember(exc, request, asked, remembered)
        raise
    finally:
        i18n.stop_using(token)
    _remember(response, request, asked, remembered)
    if not response.prepared:
        response.headers.setdefault("Content-Language", code)
        response.headers.add("Vary", "Accept-Language, Cookie")
    return response


def _remember(
    response: web.StreamResponse, request: web.Request, asked: str | None, remembered: str | None
) -> None:
    if asked is None or asked == remembered or response.prepared:
        return
    response.set_cookie(
        LANGUAGE_COOKIE,
        asked,
        max_age=LANGUAGE_MAX_AGE,
        path="/",
        samesite="Lax",
        secure=request.app[SETTINGS].secure_cookies,
    )
