"""Q&A commands over HTTP. Their effects reach every client as events over the socket."""

from __future__ import annotations

import csv
import io
import secrets
from typing import Literal

import msgspec
from aiohttp import web

from server.http.commands import submit
from server.http.errors import AppError
from server.http.identity import moderator, participant
from server.http.request_body import read_json
from server.http.responses import json_of
from server.keys import CLOCK, IDENTITY, QA, QA_RATE_LIMITS
from server.programme.lookup import CODE_PATTERN, find_session
from sessions.qa import (
    AddNote,
    Ask,
    Configure,
    Moderate,
    ModerationAction,
    QueueOrder,
    Unvote,
    Vote,
    ordered,
    within_rate,
)
from sessions.ratelimit import SlidingWindow
from web.qa_views import (
    moderator_question,
    moderator_snapshot,
    note_view,
    participant_snapshot,
    public_question,
)

routes = web.RouteTableDef()

SESSION = f"/api/sessions/{{code:{CODE_PATTERN}}}"
QUESTION = "/api/questions/{question_id:[A-Za-z0-9_-]{1,32}}"


class AskBody(msgspec.Struct, forbid_unknown_fields=True):
    text: str
    anonymous: bool = False
    addressed_to: str = ""


class ModerationBody(msgspec.Struct, forbid_unknown_fields=True):
    action: ModerationAction
    text: str = ""
    into: str = ""
    position: float | None = None


class QASettingsBody(msgspec.Struct, forbid_unknown_fields=True):
    open: bool | None = None
    moderation: Literal["pre", "post"] | None = None


class NoteBody(msgspec.Struct, forbid_unknown_fields=True):
    text: str


def new_id() -> str:
    """A question's id: URL-safe, and never starting with "-" or "_" (a CSV export would
    have to quote such an id against formula injection, and it reads oddly)."""
    while True:
        candidate = secrets.token_urlsafe(9)
        if candidate[0].isalnum():
            return candidate


def order_from(request: web.Request, default: QueueOrder) -> QueueOrder:
    order = request.query.get("order", default)
    if order not in ("votes", "time", "manual"):
        raise AppError(400, "request.invalid_query", "order is votes, time or manual.")
    return order  # type: ignore[return-value]


def question_session(request: web.Request) -> tuple[str, str]:
    question_id = request.match_info["question_id"]
    code = request.app[QA].session_of_question(question_id)
    if code is None:
        raise AppError(404, "qa.question_unknown", "There is no such question.")
    return question_id, code


def within_limit(request: web.Request, window: SlidingWindow, what: str) -> None:
    within_rate(window, request[IDENTITY].participant_id, request.app[CLOCK](), what)


@routes.get(SESSION + "/questions")
async def list_questions(request: web.Request) -> web.StreamResponse:
    _, session = await find_session(request)
    await request.app[QA].sync()
    qa = request.app[QA].session(session.code)
    identity = request[IDENTITY]
    if request.query.get("view") == "moderation":
        moderator(request, session.code)
        return json_of(moderator_snapshot(qa, order_from(request, "manual")))
    return json_of(participant_snapshot(qa, identity.participant_id, order_from(request, "votes")))


@routes.post(SESSION + "/questions")
async def ask(request: web.Request) -> web.StreamResponse:
    _, session = await find_session(request)
    identity = participant(request)
    body = await read_json(request, AskBody)
    if body.addressed_to and body.addressed_to not in {s.key for s in session.speakers}:
        raise AppError(422, "qa.speaker_unknown", "That speaker is not in this session.")
    within_limit(request, request.app[QA_RATE_LIMITS].questions, "questions")
    question_id = new_id()
    command = Ask(
        question_id=question_id,
        author_id=identity.participant_id,
        author_name=identity.display_name,
        text=body.text,
        anonymous=body.anonymous,
        addressed_to=body.addressed_to,
    )
    await submit(request, session.code, command)
    question = request.app[QA].session(session.code).question(question_id)
    return json_of({"question": public_question(question, identity.participant_id)}, status=201)


async def vote(request: web.Request, up: bool) -> web.StreamResponse:
    identity = participant(request)
    question_id, code = question_session(request)
    within_limit(request, request.app[QA_RATE_LIMITS].votes, "votes")
    command = (Vote if up else Unvote)(question_id, identity.participant_id)
    await submit(request, code, command)
    question = request.app[QA].session(code).question(question_id)
    return web.json_response({"question_id": question_id, "votes": question.votes, "voted": up})


@routes.post(QUESTION + "/vote")
async def add_vote(request: web.Request) -> web.StreamResponse:
    return await vote(request, True)


@routes.delete(QUESTION + "/vote")
async def remove_vote(request: web.Request) -> web.StreamResponse:
    return await vote(request, False)


@routes.post(QUESTION + "/moderation")
async def moderate(request: web.Request) -> web.StreamResponse:
    question_id, code = question_session(request)
    identity = moderator(request, code)
    body = await read_json(request, ModerationBody)
    command = Moderate(
        question_id=question_id,
        moderator_id=identity.participant_id,
        action=body.action,
        text=body.text,
        into=body.into,
        position=body.position,
    )
    await submit(request, code, command)
    qa = request.app[QA].session(code)
    return json_of({"question": moderator_question(qa.question(question_id), qa.highlighted)})


@routes.post(SESSION + "/qa")
async def configure(request: web.Request) -> web.StreamResponse:
    _, session = await find_session(request)
    identity = moderator(request, session.code)
    body = await read_json(request, QASettingsBody)
    await submit(
        request, session.code, Configure(identity.participant_id, body.open, body.moderation)
    )
    settings = request.app[QA].session(session.code).settings
    return web.json_response({"open": settings.open, "moderation": settings.moderation})


@routes.post(SESSION + "/notes")
async def add_note(request: web.Request) -> web.StreamResponse:
    _, session = await find_session(request)
    identity = moderator(request, session.code)
    body = await read_json(request, NoteBody)
    command = AddNote(new_id(), identity.participant_id, identity.display_name, body.text)
    await submit(request, session.code, command)
    note = next(n for n in request.app[QA].session(session.code).notes if n.id == command.note_id)
    return json_of({"note": note_view(note)}, status=201)


EXPORT_FIELDS = ["id", "state", "votes", "author", "text", "asked_at", "answered_at", "starred"]


@routes.get(SESSION + "/questions/export.{format:csv|json}")
async def export(request: web.Request) -> web.StreamResponse:
    _, session = await find_session(request)
    moderator(request, session.code)
    await request.app[QA].sync()
    qa = request.app[QA].session(session.code)
    rows = [
        moderator_question(q, qa.highlighted) for q in ordered(list(qa.questions.values()), "time")
    ]
    filename = f"questions-{session.code}.{request.match_info['format']}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if request.match_info["format"] == "json":
        response = json_of({"session": session.code, "questions": rows})
        response.headers.update(headers)
        return response
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_FIELDS, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        fields = msgspec.structs.asdict(row)
        writer.writerow({k: _spreadsheet_cell(fields[k]) for k in EXPORT_FIELDS})
    return web.Response(text=buffer.getvalue(), content_type="text/csv", headers=headers)


def _spreadsheet_cell(value: object) -> object:
    """A value as a spreadsheet user reads it: yes/no for booleans, and never a formula
    (CSV injection)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
