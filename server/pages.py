"""HTML pages: the programme, session pages, joining, and one-time sign-in links."""

from __future__ import annotations

from aiohttp import web

from server import auth
from server.errors import AppError
from server.keys import CLOCK, IDENTITY, IDENTITY_CODEC, LOGIN_LINKS, MEDIA, METRICS, QA, STORE
from server.media.stream_key import StreamKey
from server.middleware import set_cookie
from server.rendering import render
from server.request_body import form_text
from sessions.programme import Programme, Session
from sessions.roles import DisplayNameError, Identity, Role, clean_display_name
from web.pages import humanize_delta, programme_page, session_page
from web.qa_views import participant_snapshot

CODE_PATTERN = "[A-Za-z0-9_-]{1,64}"

routes = web.RouteTableDef()


async def current_programme(request: web.Request) -> Programme | None:
    programme = await request.app[STORE].load_programme()
    request.app[METRICS].programme_sessions.set(len(programme.sessions) if programme else 0)
    return programme


async def find_session(request: web.Request) -> tuple[Programme, Session]:
    programme = await current_programme(request)
    session = programme.session_by_code(request.match_info["code"]) if programme else None
    if programme is None or session is None:
        raise AppError(404, "session.unknown", "There is no session with this code.")
    return programme, session


@routes.get("/", name="programme")
async def programme_view(request: web.Request) -> web.StreamResponse:
    programme = await current_programme(request)
    if programme is None:
        return render(request, "empty_programme.html", {})
    page = programme_page(programme, request.app[CLOCK]())
    media = request.app[MEDIA]
    streams = {s.code: media.state(StreamKey.panel(s.code)) for s in page.now_and_next.live}
    context = {"page": page, "nav": "programme", "streams": streams}
    return render(request, "programme.html", context, programme=programme)


@routes.get(f"/sessions/{{code:{CODE_PATTERN}}}", name="session")
async def session_view(request: web.Request) -> web.StreamResponse:
    programme, session = await find_session(request)
    page = session_page(programme, session, request.app[CLOCK]())
    identity = request[IDENTITY]
    roles = [role.value for role in Role if identity.has_role(session.code, role)]
    await request.app[QA].sync()
    qa = participant_snapshot(
        request.app[QA].session(session.code), identity.participant_id, "votes"
    )
    return render(
        request,
        "session.html",
        {
            "page": page,
            "roles": roles,
            "starts_in": humanize_delta(page.starts_in) if page.starts_in else "",
            "qa": qa,
            "stream": request.app[MEDIA].state(StreamKey.panel(session.code)),
            "broadcast": request.app[QA].delivery.is_broadcast(session.code),
        },
        programme=programme,
    )


def see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


def local_path(value: str, default: str = "/") -> str:
    """Only a path on this site is a safe place to send someone back to."""
    if value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


def display_name_from(raw: str) -> str:
    try:
        return clean_display_name(raw)
    except DisplayNameError as error:
        raise AppError(422, "participant.display_name", f"{str(error).capitalize()}.") from None


def joined(identity: Identity, display_name: str) -> Identity:
    return Identity(
        participant_id=identity.participant_id or auth.new_participant_id(),
        display_name=display_name,
        roles=identity.roles,
    )


def with_identity(request: web.Request, response: web.StreamResponse, identity: Identity) -> None:
    set_cookie(response, request, auth.IDENTITY_COOKIE, request.app[IDENTITY_CODEC].dumps(identity))


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


def login_claims(request: web.Request) -> auth.LoginClaims:
    claims = request.app[LOGIN_LINKS].read(request.match_info["token"])
    if claims is None:
        raise AppError(400, "login.invalid", "This sign-in link is not valid. Ask for a new one.")
    if claims.expires_at <= request.app[CLOCK]():
        raise AppError(410, "login.expired", "This sign-in link has expired. Ask for a new one.")
    return claims


@routes.get("/login/{token}", name="login")
async def login_form(request: web.Request) -> web.StreamResponse:
    claims = login_claims(request)
    programme = await current_programme(request)
    session = programme.session_by_code(claims.session_code) if programme else None
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
        raise AppError(410, "login.used", "This sign-in link was already used or has expired.")
    identity = joined(request[IDENTITY], display_name).with_role(grant.session_code, grant.role)
    landing = {Role.SPEAKER: "/studio", Role.MODERATOR: "/moderate"}.get(grant.role, "")
    response = see_other(f"/sessions/{grant.session_code}{landing}")
    with_identity(request, response, identity)
    return response
