"""Interpretation over HTTP: interpreters publish their microphone into their language's
booth (WHIP-style: an SDP offer with the session cookie or a bearer token) and take over
the channel from each other; anyone listens to a language's channel over WHEP.

    POST   /api/sessions/CODE/booths/LANG             interpreter's offer → 201 answer
    DELETE /api/sessions/CODE/booths/LANG/RESOURCE    the interpreter leaves the booth
    POST   /api/sessions/CODE/booths/LANG/take-over   go on air (the other is muted)
    GET    /api/sessions/CODE/booths                  languages, interpreters, who is on air
    POST   /whep/CODE/LANG                            a listener (audio only) → 201 answer
    DELETE /whep/CODE/LANG/RESOURCE                   the listener leaves

A booth lives whole on one media node (placed like a break-out room): this process passes
a booth's exchanges on to it, and reads the node's record at once after the answer.
"""

from __future__ import annotations

import msgspec
from aiohttp import web

from server.http.errors import AppError
from server.http.identity import participant
from server.http.rendering import language_page
from server.http.responses import json_of
from server.keys import BOOTHS, CLOCK, CLUSTER, IDENTITY, MEDIA, QA
from server.media import node_proxy
from server.media.booths import booth_room
from server.media.http import (
    RESOURCE,
    WHEP,
    announce,
    on_its_node,
    pass_on,
    passed_on,
    read_offer,
    room_node,
    sdp_answer,
)
from server.media.placement import NodeRecord
from server.media.stream_key import StreamKey
from server.programme.lookup import CODE_PATTERN, find_session
from sessions.captions import language_code
from sessions.roles import Role, language_scope
from web.i18n import current

routes = web.RouteTableDef()

LANGUAGE = "{language:[A-Za-z]{2,3}}"
BOOTHS_PATH = f"/api/sessions/{{code:{CODE_PATTERN}}}/booths"
BOOTH = BOOTHS_PATH + "/" + LANGUAGE
CHANNEL = WHEP + "/" + LANGUAGE


class BoothView(msgspec.Struct, frozen=True):
    language: str
    interpreters: list[str]
    on_air: str | None


class BoothsView(msgspec.Struct, frozen=True):
    booths: list[BoothView]


async def interpreter(request: web.Request) -> tuple[str, str, str]:
    """The session, the booth's language and the interpreter asking."""
    _, session = await find_session(request)
    language = language_code(request.match_info["language"])
    me = participant(request)
    if not me.has_role(language_scope(session.code, language), Role.INTERPRETER):
        raise AppError(
            403, "auth.forbidden", f"Only this session's {language} interpreters may do this."
        )
    return session.code, language, me.participant_id


def booth_node(
    request: web.Request, code: str, language: str, member: str = ""
) -> NodeRecord | None:
    """The other media node this booth exchange belongs on (a new booth goes where the
    session's floor is published, which records it); None to answer it here."""
    return room_node(request, code, booth_room(language), member, near_floor=True)


@routes.post(BOOTH)
async def publish(request: web.Request) -> web.StreamResponse:
    code, language, me = await interpreter(request)
    offer = await read_offer(request)
    if node := booth_node(request, code, language):
        return await pass_on(request, node, offer)
    publication, answer = await request.app[BOOTHS].publish(
        code, language, me, offer, request.app[CLOCK]()
    )
    await announce(request)
    return sdp_answer(request, answer, f"{request.path}/{publication.resource}")


@routes.delete(BOOTH + RESOURCE)
async def leave(request: web.Request) -> web.StreamResponse:
    code, language, me = await interpreter(request)
    if forwarded := await passed_on(request):
        return forwarded
    engine = request.app[MEDIA]
    publication = engine.live(StreamKey.booth(code, language, me))
    if publication is None or publication.resource != request.match_info["resource"]:
        return web.Response(status=204)  # gone already: leaving again is not an error
    await engine.unpublish(publication)
    await announce(request)
    return web.Response(status=200)


@routes.post(BOOTH + "/take-over")
async def take_over(request: web.Request) -> web.StreamResponse:
    code, language, me = await interpreter(request)
    if node := booth_node(request, code, language, me):
        return await pass_on(request, node, None)
    request.app[BOOTHS].take_over(code, language, me)
    await announce(request)
    return json_of(booth_view(request, code, language))


def booth_view(request: web.Request, code: str, language: str) -> BoothView:
    booths = request.app[BOOTHS]
    here = booths.interpreters(code, language)
    if here or CLUSTER not in request.app:
        return BoothView(language, here, booths.on_air(code, language))
    there = request.app[CLUSTER].booth_elsewhere(code, language)
    if there is None:
        return BoothView(language, [], None)
    return BoothView(language, sorted(there.members), there.speaker)


@routes.get(BOOTHS_PATH)
async def booths_state(request: web.Request) -> web.StreamResponse:
    _, session = await find_session(request)
    languages = set(request.app[BOOTHS].languages_with_interpreters(session.code))
    if CLUSTER in request.app:
        await request.app[CLUSTER].refresh()
        languages |= request.app[CLUSTER].booth_languages(session.code)
    return json_of(
        BoothsView([booth_view(request, session.code, lang) for lang in sorted(languages)])
    )


@routes.post(CHANNEL)
async def listen(request: web.Request) -> web.StreamResponse:
    _, session = await find_session(request)
    language = language_code(request.match_info["language"])
    offer = await read_offer(request)
    if node := booth_node(request, session.code, language):
        return await node_proxy.forward(request.app[CLUSTER].http, request, node, offer)
    viewer, answer = await request.app[BOOTHS].watch(session.code, language, offer)
    return sdp_answer(request, answer, f"{request.path}/{viewer.resource}")


@routes.delete(CHANNEL + RESOURCE)
async def stop_listening(request: web.Request) -> web.StreamResponse:
    if forwarded := await on_its_node(request):
        return forwarded
    code = request.match_info["code"]
    language = request.match_info["language"].lower()
    viewer = request.app[MEDIA].viewers.get(request.match_info["resource"])
    if viewer is None or viewer.key != StreamKey.channel(code, language):
        raise AppError(404, "media.unknown_resource", "There is no such listener.")
    await request.app[MEDIA].leave(viewer)
    return web.Response(status=200)


@routes.get(f"/sessions/{{code:{CODE_PATTERN}}}/booth/{{language:[A-Za-z]{{2,3}}}}")
async def booth_page(request: web.Request) -> web.StreamResponse:
    """An interpreter's booth: hear the floor, speak into the language's channel, hand over."""
    programme, session = await find_session(request)
    language = language_code(request.match_info["language"])
    scope = language_scope(session.code, language)
    return language_page(
        request,
        "booth.html",
        programme,
        session,
        language,
        allowed=request[IDENTITY].has_role(scope, Role.INTERPRETER),
        sign_in=current().gettext("Sign in with your interpreter link first."),
        refusal=current().gettext("Only this session's interpreters for this language may enter."),
        context={"declared": language in request.app[QA].delivery.languages(session.code)},
    )
