"""The registrations' pages: the organisers' list and import, a ticket to print, the door's
check-in page, and a registrant's personal link.

Every page here works without JavaScript: the import form previews and imports by itself,
and the check-in page takes a typed or pasted code (or a hand scanner's) and a name search;
with JavaScript the check-in page reads QR codes from the phone's camera.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import segno
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from markupsafe import Markup

from server.http.errors import AppError
from server.http.identity import joined, with_identity
from server.http.rendering import render
from server.http.request_body import form_text
from server.http.responses import see_other
from server.keys import CLOCK, IDENTITY, LOCALE, SETTINGS, STORE
from server.programme.lookup import current_programme
from server.registrations.access import codes, door, organiser
from server.registrations.routes import (
    ImportRefused,
    check_in_registration,
    erase,
    import_export,
)
from server.registrations.tokens import PARTICIPANT
from sessions.programme import Programme
from sessions.registration_import import MAX_BYTES
from sessions.registrations import CheckIn, Registration
from sessions.roles import Identity
from web import i18n
from web.i18n import marked as _
from web.registration_views import (
    SEARCH_RESULTS,
    ImportView,
    ProblemView,
    check_in_view,
    counts,
    registration_view,
    search,
    territory,
)

routes = web.RouteTableDef()

PARTICIPANT_PATH = "{participant:[A-Za-z0-9_-]{1,64}}"
LIST_LIMIT = 500


ResponseT = TypeVar("ResponseT", bound=web.StreamResponse)


def no_store(response: ResponseT) -> ResponseT:
    response.headers["Cache-Control"] = "no-store"
    return response


def personal_link(request: web.Request, registration: Registration) -> str:
    token = codes(request).link_token(registration.participant_id)
    return f"{request.app[SETTINGS].base_url}/r/{token}"


def ticket_svg(code: str, title: str) -> Markup:
    svg = segno.make(code, error="m").svg_inline(
        omitsize=True, border=4, svgclass="qr-code ticket-qr", title=title
    )
    return Markup(svg)  # noqa: S704 - segno escapes the title; the rest is drawn paths


def zone_of(programme: Programme | None) -> dt.tzinfo:
    return ZoneInfo(programme.conference.time_zone) if programme else dt.UTC


async def registrations_page(
    request: web.Request,
    *,
    result: ImportView | None = None,
    problems: list[ProblemView] | None = None,
    status: int = 200,
) -> web.Response:
    programme = await current_programme(request)
    everyone = await request.app[STORE].list_registrations()
    query = request.query.get("q", "")[:200]
    found = search(everyone, query)
    locale = request[LOCALE]
    zone = zone_of(programme)
    rows = [
        {
            "view": registration_view(r, locale),
            "checked_in_at": r.checked_in_at.astimezone(zone) if r.checked_in_at else None,
            "link": personal_link(request, r),
        }
        for r in found[:LIST_LIMIT]
    ]
    context: dict[str, Any] = {
        "counts": counts(everyone),
        "query": query,
        "rows": rows,
        "found": len(found),
        "shown": len(rows),
        "result": result,
        "problems": problems,
        "max_megabytes": MAX_BYTES // (1024 * 1024),
        "erased": bool(request.query.get("erased")),
    }
    return no_store(
        render(request, "registrations.html", context, programme=programme, status=status)
    )


@routes.get("/organise/registrations")
async def registrations(request: web.Request) -> web.StreamResponse:
    organiser(request)
    return await registrations_page(request)


@routes.post("/organise/registrations/import")
async def import_form(request: web.Request) -> web.StreamResponse:
    organiser(request)
    try:
        form = await request.post()
    except (ValueError, LookupError, HttpProcessingError):  # no boundary, another one, cut short
        raise AppError(400, "request.malformed_form", "The form data could not be read.") from None
    upload = form.get("file")
    if isinstance(upload, web.FileField):
        data = upload.file.read(MAX_BYTES + 1)
    else:
        data = str(upload or "").encode()
    if not data:
        problems = [ProblemView(1, i18n.current().gettext("Choose the export's CSV file."))]
        return await registrations_page(request, problems=problems, status=422)
    if len(data) > MAX_BYTES:
        raise AppError(413, "request.too_large", _("An export has at most 2 MB."))
    dry_run = form.get("action") != "import"
    try:
        result = await import_export(request, data, dry_run=dry_run)
    except ImportRefused as refused:
        return await registrations_page(request, problems=refused.problems, status=422)
    return await registrations_page(request, result=result)


async def registration_named(request: web.Request) -> Registration:
    registration = await request.app[STORE].registration_of(request.match_info["participant"])
    if registration is None:
        raise AppError(404, "registrations.unknown", _("There is no such registration."))
    return registration


@routes.post(f"/organise/registrations/{PARTICIPANT_PATH}/erase")
async def erase_form(request: web.Request) -> web.StreamResponse:
    organiser(request)
    await erase(request, await registration_named(request))
    return see_other("/organise/registrations?erased=1")


@routes.get(f"/organise/registrations/{PARTICIPANT_PATH}/ticket")
async def ticket_page(request: web.Request) -> web.StreamResponse:
    organiser(request)
    registration = await registration_named(request)
    programme = await current_programme(request)
    context = {"registration": registration, "ticket": ticket_context(request, registration)}
    return no_store(render(request, "ticket.html", context, programme=programme))


@routes.get(f"/organise/registrations/{PARTICIPANT_PATH}/ticket.svg")
async def ticket_image(request: web.Request) -> web.StreamResponse:
    organiser(request)
    registration = await registration_named(request)
    svg = segno.make(codes(request).ticket_code(registration.participant_id), error="m")
    filename = f"ticket-{registration.participant_id}.svg"
    return no_store(
        web.Response(
            text=svg.svg_inline(border=4, scale=8),
            content_type="image/svg+xml",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    )


def ticket_context(request: web.Request, registration: Registration) -> dict[str, Any]:
    code = codes(request).ticket_code(registration.participant_id)
    title = i18n.current().gettext("Ticket of %(name)s", name=registration.name)
    return {
        "country_name": territory(registration.country, request[LOCALE]),
        "ticket_code": code,
        "qr": ticket_svg(code, title),
    }


# -- the door ------------------------------------------------------------------------------


async def check_in_page(
    request: web.Request,
    *,
    arrived: CheckIn | None = None,
    error: str = "",
    status: int = 200,
) -> web.Response:
    programme = await current_programme(request)
    query = request.query.get("q", "")[:200]
    people: list[Registration] = []
    if query.strip():
        people = search(await request.app[STORE].list_registrations(), query)[:SEARCH_RESULTS]
    zone = zone_of(programme)
    context: dict[str, Any] = {
        "query": query,
        "people": [
            {"registration": p, "country_name": territory(p.country, request[LOCALE])}
            for p in people
        ],
        "searched": bool(query.strip()),
        "arrived": check_in_view(arrived, request[LOCALE]) if arrived else None,
        "arrived_at": (
            arrived.registration.checked_in_at.astimezone(zone)
            if arrived and arrived.registration.checked_in_at
            else None
        ),
        "error": error,
        "time_zone_name": programme.conference.time_zone if programme else "UTC",
    }
    return no_store(render(request, "check_in.html", context, programme=programme, status=status))


@routes.get("/organise/check-in")
async def check_in(request: web.Request) -> web.StreamResponse:
    door(request)
    return await check_in_page(request)


@routes.post("/organise/check-in")
async def check_in_form(request: web.Request) -> web.StreamResponse:
    door(request)
    token = (await form_text(request, "code"))[:1000]
    participant = await form_text(request, "participant")
    if participant and not PARTICIPANT.match(participant):
        participant = "-"
    try:
        registration = await check_in_registration(request, token, participant)
        arrived = await request.app[STORE].check_in(registration.key, request.app[CLOCK]())
        if arrived is None:
            raise AppError(
                410, "check_in.unknown", _("This ticket's registration no longer exists.")
            )
    except AppError as refused:
        message = i18n.current().gettext(refused.message)
        return await check_in_page(request, error=message, status=refused.status)
    return await check_in_page(request, arrived=arrived)


# -- a registrant's personal link ----------------------------------------------------------


async def linked_registration(request: web.Request) -> Registration:
    participant = codes(request).read_link(request.match_info["token"])
    if participant is None:
        raise AppError(
            400,
            "registration.invalid_link",
            _("This personal link is not valid. Check the address."),
        )
    registration = await request.app[STORE].registration_of(participant)
    if registration is None:
        raise AppError(
            410,
            "registration.gone",
            _("This registration no longer exists. Ask the organisers if you think this is wrong."),
        )
    return registration


def personal(response: web.StreamResponse) -> web.StreamResponse:
    """The page's address is the person's key to the conference: no caches, no indexes."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@routes.get("/r/{token}")
async def personal_page(request: web.Request) -> web.StreamResponse:
    registration = await linked_registration(request)
    programme = await current_programme(request)
    identity: Identity = request[IDENTITY]
    context: dict[str, Any] = {
        "registration": registration,
        "signed_in": identity.participant_id == registration.participant_id,
        "ticket": ticket_context(request, registration) if registration.in_person else None,
    }
    return personal(render(request, "personal.html", context, programme=programme))


@routes.post("/r/{token}")
async def personal_sign_in(request: web.Request) -> web.StreamResponse:
    registration = await linked_registration(request)
    mine = Identity(
        participant_id=registration.participant_id,
        display_name=registration.name[:60],
        roles=request[IDENTITY].roles,
    )
    identity = joined(mine, mine.display_name)
    response = see_other("/")
    with_identity(request, response, identity)
    return personal(response)
