"""HTML pages: the programme and the session pages."""

from __future__ import annotations

from aiohttp import web

from server.attendance.viewers import hand_out, viewer_key
from server.http.rendering import render
from server.keys import (
    CLOCK,
    IDENTITY,
    MEDIA,
    QA,
)
from server.media.stream_key import StreamKey
from server.programme.lookup import CODE_PATTERN, current_programme, find_session
from sessions.roles import Role
from web.pages import humanize_delta, programme_page, session_page
from web.qa_views import (
    participant_snapshot,
)

routes = web.RouteTableDef()


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
    response = render(
        request,
        "session.html",
        {
            "page": page,
            "roles": roles,
            "starts_in": humanize_delta(page.starts_in) if page.starts_in else "",
            "qa": qa,
            "stream": request.app[MEDIA].state(StreamKey.panel(session.code)),
            "broadcast": request.app[QA].delivery.is_broadcast(session.code),
            "off_record": request.app[QA].delivery.is_off_record(session.code),
        },
        programme=programme,
    )
    # The page's player may turn to HLS, whose cacheable playlists hand out no cookie: the
    # page does, so an anonymous viewer counts once however they watch.
    hand_out(request, response, viewer_key(request)[1])
    return response
