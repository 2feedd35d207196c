"""The registrations API: the organisers' import, list and erasure, and the door's check-in.

``POST /api/registrations/import`` takes the export as the body (``text/csv``) and answers
what it changed, or with ``?dry_run=1`` what it would change; a file with bad rows is
refused whole, 422 with every (line, message). ``POST /api/check-ins`` answers who a ticket
belongs to and whether they had already come in: a second scan is an answer, not an error.
"""

from __future__ import annotations

import msgspec
from aiohttp import web

from server.http.errors import AppError
from server.http.request_body import read_capped, read_json
from server.http.responses import json_of
from server.keys import CLOCK, LOCALE, STORE
from server.registrations.access import codes, door, organiser
from sessions.registration_import import (
    MAX_BYTES,
    ImportedFile,
    RegistrationImportError,
    read_registrations,
)
from sessions.registrations import Registration
from web import i18n
from web.i18n import marked as _
from web.registration_views import (
    SEARCH_RESULTS,
    ImportView,
    ProblemView,
    arrival_view,
    changes_view,
    check_in_view,
    counts,
    registration_view,
    search,
)

routes = web.RouteTableDef()

CSV_TYPES = frozenset({"text/csv", "application/csv", "text/plain"})


class ImportRefused(Exception):
    """The export has problems: nothing of it was stored."""

    def __init__(self, problems: list[ProblemView]) -> None:
        super().__init__(f"{len(problems)} problems")
        self.problems = problems


async def import_export(request: web.Request, data: bytes, *, dry_run: bool) -> ImportView:
    """Read and store (or, in a dry run, compare) an export; :class:`ImportRefused` if it has
    problems."""
    try:
        imported: ImportedFile = read_registrations(data)
    except RegistrationImportError as error:
        problems = [ProblemView(line, message) for line, message in error.problems]
        raise ImportRefused(problems) from None
    changes = await request.app[STORE].import_registrations(imported.registrations, dry_run=dry_run)
    if not dry_run:
        for gone in changes.removed:
            await request.app[STORE].forget_attendance(gone.participant_id)
    return ImportView(
        dry_run=dry_run,
        changes=changes_view(changes),
        skipped_lines=list(imported.skipped),
        attendance_assumed=imported.attendance_assumed,
    )


def refusal_body(problems: list[ProblemView]) -> dict[str, object]:
    language = i18n.current()
    return {
        "error": {
            "code": "registrations.invalid_csv",
            "message": language.ngettext(
                "The export has %(num)s problem: nothing was imported.",
                "The export has %(num)s problems: nothing was imported.",
                len(problems),
            ),
            "lines": problems,
        }
    }


@routes.post("/api/registrations/import")
async def import_api(request: web.Request) -> web.StreamResponse:
    organiser(request)
    if request.content_type not in CSV_TYPES:
        raise AppError(415, "request.content_type", _("Send the export as text/csv."))
    if request.content_length is not None and request.content_length > MAX_BYTES:
        raise AppError(413, "request.too_large", _("An export has at most 2 MB."))
    data = await read_capped(request, MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise AppError(413, "request.too_large", _("An export has at most 2 MB."))
    dry_run = request.query.get("dry_run", "") not in ("", "0", "false")
    try:
        view = await import_export(request, data, dry_run=dry_run)
    except ImportRefused as refused:
        return json_of(refusal_body(refused.problems), status=422)
    return json_of(view)


@routes.get("/api/registrations")
async def list_api(request: web.Request) -> web.StreamResponse:
    organiser(request)
    everyone = await request.app[STORE].list_registrations()
    found = search(everyone, request.query.get("q", "")[:200])
    locale = request[LOCALE]
    return json_of(
        {
            "counts": counts(everyone),
            "registrations": [registration_view(r, locale) for r in found],
        }
    )


async def erase(request: web.Request, registration: Registration) -> None:
    """Erasure on request: the registration and its personal data, and every tie between
    the person and what was recorded of their attendance."""
    await request.app[STORE].erase_registration(registration.key)
    await request.app[STORE].forget_attendance(registration.participant_id)


@routes.delete("/api/registrations/{key:.+}")
async def erase_api(request: web.Request) -> web.StreamResponse:
    organiser(request)
    registration = await request.app[STORE].registration(request.match_info["key"])
    if registration is None:
        raise AppError(404, "registrations.unknown", _("There is no registration with this key."))
    await erase(request, registration)
    return json_of({"erased": registration.key})


class CheckInBody(msgspec.Struct, forbid_unknown_fields=True):
    token: str = ""
    """What the ticket's QR code holds."""
    participant: str = ""
    """Or the person, found by name (someone without their ticket)."""


async def check_in_registration(request: web.Request, token: str, participant: str) -> Registration:
    """The registration a scanned code (or a chosen person) names, refused with a code."""
    if token:
        participant = codes(request).read_ticket(token) or ""
        if not participant:
            raise AppError(
                400, "check_in.invalid_code", _("This is not a ticket of this conference.")
            )
    if not participant:
        raise AppError(422, "check_in.missing", _("Scan a ticket or choose a person."))
    registration = await request.app[STORE].registration_of(participant[:64])
    if registration is None:
        raise AppError(410, "check_in.unknown", _("This ticket's registration no longer exists."))
    return registration


@routes.post("/api/check-ins")
async def check_in_api(request: web.Request) -> web.StreamResponse:
    door(request)
    body = await read_json(request, CheckInBody)
    registration = await check_in_registration(request, body.token, body.participant)
    arrived = await request.app[STORE].check_in(registration.key, request.app[CLOCK]())
    if arrived is None:
        raise AppError(410, "check_in.unknown", _("This ticket's registration no longer exists."))
    return json_of({"check_in": check_in_view(arrived, request[LOCALE])})


@routes.get("/api/check-ins/search")
async def check_in_search(request: web.Request) -> web.StreamResponse:
    door(request)
    query = request.query.get("q", "")[:200]
    found = search(await request.app[STORE].list_registrations(), query) if query.strip() else []
    locale = request[LOCALE]
    return json_of({"people": [arrival_view(r, locale) for r in found[:SEARCH_RESULTS]]})
