"""Joining with a display name, signing out, and one-time sign-in links (moderators land on the
console, speakers on the studio)."""

from __future__ import annotations

import msgspec
from aiohttp import web

from server.http import auth
from server.http.errors import AppError
from server.http.identity import display_name_from, joined, login_claims, with_identity
from server.http.rendering import render
from server.http.request_body import form_text, read_json
from server.http.responses import local_path, see_other
from server.keys import (
    CLOCK,
    IDENTITY,
    STORE,
)
from server.programme.lookup import current_programme
from sessions.roles import CONFERENCE_ROLES, Role, scope_session
from web.i18n import marked as _

routes = web.RouteTableDef()


@routes.post("/participants", name="join")
async def join(request: web.Request) -> web.StreamResponse:
    identity = joined(
        request[IDENTITY], display_name_from(await form_text(request, "display_name"))
    )
    response = see_other(local_path(await form_text(request, "next")))
    with_identity(request, response, identity)
    return response


@routes.post("/logout", name="logout")
async def logout(request: web.Request) -> web.StreamResponse:
    response = see_other("/")
    response.del_cookie(auth.IDENTITY_COOKIE, path="/")
    return response


@routes.get("/login/{token}", name="login")
async def login_form(request: web.Request) -> web.StreamResponse:
    claims = login_claims(request)
    programme = await current_programme(request)
    code, _ = scope_session(claims.session_code)
    session = programme.session_by_code(code) if programme else None
    response = render(
        request, "login.html", {"claims": claims, "session": session}, programme=programme
    )
    # The token is in this page's address: keep it out of caches. The site-wide
    # "same-origin" referrer policy already keeps it from other sites; "no-referrer" here
    # would make Chromium post the form with "Origin: null", which the CSRF check refuses.
    response.headers["Cache-Control"] = "no-store"
    return response


@routes.post("/login/{token}", name="login_submit")
async def login_submit(request: web.Request) -> web.StreamResponse:
    claims = login_claims(request)
    display_name = display_name_from(await form_text(request, "display_name"))
    grant = await request.app[STORE].redeem_login_grant(
        auth.hash_secret(claims.secret), request.app[CLOCK]()
    )
    if grant is None or (grant.role, grant.session_code) != (claims.role, claims.session_code):
        raise AppError(410, "login.used", _("This sign-in link was already used or has expired."))
    identity = joined(request[IDENTITY], display_name).with_role(grant.session_code, grant.role)
    if grant.role in CONFERENCE_ROLES:
        response = see_other(
            "/organise/check-in" if grant.role == Role.DOOR else "/organise/report"
        )
        with_identity(request, response, identity)
        return response
    code, language = scope_session(grant.session_code)
    landing = {
        Role.SPEAKER: "/studio",
        Role.MODERATOR: "/moderate",
        Role.CAPTIONER: f"/captions/{language}",
        Role.INTERPRETER: f"/booth/{language}",
    }.get(grant.role, "")
    response = see_other(f"/sessions/{code}{landing}")
    with_identity(request, response, identity)
    return response


class JoinRequest(msgspec.Struct, forbid_unknown_fields=True):
    display_name: str


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
