"""Rendering a page with what every template needs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from server.http import auth
from server.http.errors import AppError
from server.keys import CSRF_SECRET, IDENTITY, LOCALE, SETTINGS
from sessions.programme import Programme, Session
from sessions.roles import Identity
from web import i18n


def base_context(request: web.Request, programme: Programme | None) -> dict[str, Any]:
    settings = request.app[SETTINGS]
    locale = request.get(LOCALE, i18n.SOURCE_LOCALE)
    return {
        "identity": request.get(IDENTITY, Identity()),
        "csrf_token": auth.csrf_token(settings.secret_key, request.get(CSRF_SECRET, "")),
        "conference_title": programme.conference.title if programme else "Plenaria",
        "time_zone": programme.conference.time_zone if programme else "UTC",
        "nav": "",
        "base_url": settings.base_url,
        "locale": locale,
        "languages": i18n.languages(),
        "js_messages": i18n.js_messages(locale),
        "query_kept": [(k, v) for k, v in request.query.items() if k != "lang"],
    }


def render(
    request: web.Request,
    template: str,
    context: Mapping[str, Any],
    *,
    programme: Programme | None = None,
    status: int = 200,
) -> web.Response:
    response = aiohttp_jinja2.render_template(
        template, request, {**base_context(request, programme), **context}, status=status
    )
    response.headers["Cache-Control"] = "no-cache"
    return response


def language_page(
    request: web.Request,
    template: str,
    programme: Programme,
    session: Session,
    language: str,
    *,
    allowed: bool,
    sign_in: str,
    refusal: str,
    context: Mapping[str, Any] | None = None,
) -> web.Response:
    """A page for one language of a session (the captioner's, the booth): refused with
    ``sign_in`` to the anonymous and ``refusal`` to those not ``allowed``; never cached."""
    if request[IDENTITY].is_anonymous:
        raise AppError(401, "auth.required", sign_in)
    if not allowed:
        raise AppError(403, "auth.forbidden", refusal)
    response = render(
        request,
        template,
        {
            "session": session,
            "language": language,
            "language_name": i18n.language_name(language, request[LOCALE]),
            **(context or {}),
        },
        programme=programme,
    )
    response.headers["Cache-Control"] = "no-store"
    return response
