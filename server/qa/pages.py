"""The Q&A pages beside the session page: the moderator console and the projector stage."""

from __future__ import annotations

from typing import Any

import segno
from aiohttp import web
from markupsafe import Markup

from server.http.errors import AppError
from server.http.rendering import render
from server.keys import IDENTITY, QA, SETTINGS
from server.programme.lookup import CODE_PATTERN, find_session
from sessions.programme import Session
from web import i18n
from web.i18n import marked as _
from web.qa_views import ModeratorQuestionView, moderator_snapshot, public_question

routes = web.RouteTableDef()

SESSION_PAGE = f"/sessions/{{code:{CODE_PATTERN}}}"
FILTERS = (
    ("pending", _("Pending")),
    ("visible", _("Live")),
    ("answered", _("Answered")),
    ("archived", _("Archived")),
    ("dismissed", _("Dismissed")),
    ("starred", _("Starred")),
)


def ask_url(request: web.Request, session: Session) -> str:
    """Where the audience asks: the session page's Q&A panel, as an absolute URL."""
    return f"{request.app[SETTINGS].base_url}/sessions/{session.code}#questions"


def display_url(url: str) -> str:
    """The ask URL as people read it off a screen: no scheme, no fragment."""
    return url.split("://", 1)[-1].split("#", 1)[0]


def qr_svg(data: str, title: str) -> Markup:
    """A QR code as an inline SVG element, sized by CSS (no style attributes: CSP)."""
    svg = segno.make(data, error="m").svg_inline(
        omitsize=True, border=2, svgclass="qr-code", title=title
    )
    return Markup(svg)  # noqa: S704 - segno escapes the title; the rest is drawn paths


def filter_counts(questions: list[ModeratorQuestionView]) -> dict[str, int]:
    """How many questions each tab of the console shows (qa-moderator.js counts the same)."""
    counts = {key: 0 for key, _ in FILTERS}
    for question in questions:
        counts[question.state] += 1  # merged questions are archived
        if question.starred and not question.merged_into:
            counts["starred"] += 1
    return counts


def speaker_names(session: Session) -> dict[str, str]:
    return {speaker.key: speaker.name for speaker in session.speakers}


@routes.get(SESSION_PAGE + "/moderate", name="qa_moderate")
async def moderator_console(request: web.Request) -> web.StreamResponse:
    programme, session = await find_session(request)
    identity = request[IDENTITY]
    if identity.is_anonymous:
        raise AppError(
            401, "auth.required", _("Sign in with your moderator link to open this console.")
        )
    if not identity.can_moderate(session.code):
        raise AppError(
            403, "auth.forbidden", _("Only this session's moderators may open its console.")
        )
    await request.app[QA].sync()
    snapshot = moderator_snapshot(request.app[QA].session(session.code), "manual")
    language = i18n.current()
    response = render(
        request,
        "moderator.html",
        {
            "session": session,
            "qa": snapshot,
            "filters": [(key, language.gettext(label)) for key, label in FILTERS],
            "counts": filter_counts(snapshot.questions),
            "ask_url": ask_url(request, session),
        },
        programme=programme,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@routes.get(SESSION_PAGE + "/stage", name="qa_stage")
async def stage(request: web.Request) -> web.StreamResponse:
    programme, session = await find_session(request)
    url = ask_url(request, session)
    await request.app[QA].sync()
    question = request.app[QA].session(session.code).highlighted_question()
    context: dict[str, Any] = {
        "session": session,
        "ask_url": url,
        "display_url": display_url(url),
        "qr": qr_svg(url, i18n.current().gettext("QR code for %(url)s", url=display_url(url))),
        "question": public_question(question, highlighted=question.id) if question else None,
        "speakers": speaker_names(session),
    }
    return render(request, "stage.html", context, programme=programme)
