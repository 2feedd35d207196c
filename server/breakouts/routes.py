"""Break-out rooms over HTTP: the moderator's controls, the participant's choices, room chat
and each room's call (WHIP / WHEP-style SDP exchanges with the session cookie).

Commands go through the shared command log like Q&A, so every process sees the same rooms,
timers and assignments; their effects reach clients over the socket. A room's call is
carried whole by one media node: this process passes its exchanges on to that node (as it
does WHIP and WHEP), and reads the node's record as soon as the answer is back, so the
members' sockets here hear of the change at once.
"""

from __future__ import annotations

import secrets

import msgspec
from aiohttp import web

from server.breakouts.requests import (
    MODERATOR_REQUESTS,
    PARTICIPANT_REQUESTS,
    moderator_command,
    participant_command,
)
from server.breakouts.views import room_view
from server.http.commands import submit
from server.http.errors import AppError
from server.http.identity import moderator, participant
from server.http.request_body import read_json
from server.http.responses import json_of
from server.keys import CLOCK, CLUSTER, IDENTITY, QA, ROOM_CALLS
from server.media import node_proxy
from server.media.http import (
    announce,
    on_its_node,
    pass_on,
    passed_on,
    placing,
    read_offer,
    room_node,
    sdp_answer,
)
from server.media.rooms import CallState
from server.programme.lookup import CODE_PATTERN, find_session
from sessions import breakouts as br
from sessions.roles import Identity
from web.breakout_views import ChatLog, YouView, breakouts_for, chat_view

routes = web.RouteTableDef()

BREAKOUTS = f"/api/sessions/{{code:{CODE_PATTERN}}}/breakouts"
ROOM = BREAKOUTS + "/rooms/{room:[a-z0-9][a-z0-9-]{0,31}}"
PARTICIPANT = "{participant:[A-Za-z0-9_-]{1,64}}"
RESOURCE = "{resource:[A-Za-z0-9_-]{1,32}}"


async def session_code(request: web.Request) -> str:
    _, session = await find_session(request)
    return session.code


# -- bodies ----------------------------------------------------------------------------------


class TextBody(msgspec.Struct, forbid_unknown_fields=True):
    text: str


class CallStateBody(msgspec.Struct, forbid_unknown_fields=True):
    muted: bool
    camera_off: bool


# -- reading ---------------------------------------------------------------------------------


@routes.get(BREAKOUTS)
async def breakouts_state(request: web.Request) -> web.StreamResponse:
    code = await session_code(request)
    await request.app[QA].sync()
    rooms = request.app[QA].breakouts(code)
    identity = request[IDENTITY]
    me = identity.participant_id
    you = YouView(
        in_pool=me in rooms.pool,
        room_id=rooms.room_id_of(me) if not identity.is_anonymous else None,
        moderator=identity.can_moderate(code),
    )
    return json_of(breakouts_for(rooms, request.app[CLOCK](), you))


# -- the moderator's controls ----------------------------------------------------------------


@routes.post(BREAKOUTS + f"/{{action:{'|'.join(MODERATOR_REQUESTS)}}}")
async def moderate_breakouts(request: web.Request) -> web.StreamResponse:
    code = await session_code(request)
    me = moderator(request, code)
    body = await read_json(request, MODERATOR_REQUESTS[request.match_info["action"]])
    await submit(request, code, moderator_command(body, me.participant_id, me.display_name))
    return web.json_response({"ok": True})


# -- the participant's side ------------------------------------------------------------------


@routes.post(BREAKOUTS + f"/{{action:{'|'.join(PARTICIPANT_REQUESTS)}}}")
async def take_part(request: web.Request) -> web.StreamResponse:
    code = await session_code(request)
    me = participant(request)
    body = await read_json(request, PARTICIPANT_REQUESTS[request.match_info["action"]])
    await submit(request, code, participant_command(body, me.participant_id, me.display_name))
    return web.json_response({"ok": True})


async def room_member(request: web.Request) -> tuple[str, str, Identity]:
    """The session, room and identity of someone who is in this room right now."""
    code = await session_code(request)
    me = participant(request)
    room_id = request.match_info["room"]
    await request.app[QA].sync()
    rooms = request.app[QA].breakouts(code)
    if room_id not in {room.room_id for room in rooms.rooms}:
        raise AppError(404, "breakouts.room_unknown", "There is no such room.")
    if rooms.phase_at(request.app[CLOCK]()) not in ("open", "closing"):
        raise AppError(409, "breakouts.wrong_phase", "The break-out rooms are not open.")
    if rooms.room_id_of(me.participant_id) != room_id:
        raise AppError(403, "breakouts.not_in_room", "You are not in this room.")
    return code, room_id, me


@routes.get(ROOM)
async def room_state(request: web.Request) -> web.StreamResponse:
    code, room_id, _ = await room_member(request)
    rooms = request.app[QA].breakouts(code)
    return json_of(room_view(rooms, room_id, request.app[ROOM_CALLS].call(code, room_id)))


@routes.post(ROOM + "/chat")
async def say(request: web.Request) -> web.StreamResponse:
    code, _, me = await room_member(request)
    text = (await read_json(request, TextBody)).text
    message_id = secrets.token_urlsafe(9)
    await submit(request, code, br.Say(message_id, me.participant_id, me.display_name, text))
    return web.json_response({"id": message_id}, status=201)


@routes.get(ROOM + "/chat")
async def chat(request: web.Request) -> web.StreamResponse:
    code, room_id, _ = await room_member(request)
    messages = request.app[QA].breakouts(code).chat_of(room_id)
    return json_of(ChatLog([chat_view(m) for m in messages]))


# -- the room's call -------------------------------------------------------------------------


@routes.post(ROOM + "/publish")
async def publish(request: web.Request) -> web.StreamResponse:
    code, room_id, me = await room_member(request)
    offer = await read_offer(request)
    if node := room_node(request, code, room_id):
        return await pass_on(request, node, offer)
    calls = request.app[ROOM_CALLS]
    publication, answer = await calls.publish(
        code, room_id, me.participant_id, offer, request.app[CLOCK]()
    )
    await announce(request)
    location = f"/api/sessions/{code}/breakouts/rooms/{room_id}/publish/{publication.resource}"
    return sdp_answer(request, answer, location)


@routes.delete(ROOM + "/publish/" + RESOURCE)
async def unpublish(request: web.Request) -> web.StreamResponse:
    code = await session_code(request)
    me = participant(request)
    if forwarded := await passed_on(request):
        return forwarded
    calls = request.app[ROOM_CALLS]
    room_id = request.match_info["room"]
    publications = calls.publications(code, room_id)
    mine = publications.get(me.participant_id)
    if mine is None or mine.resource != request.match_info["resource"]:
        # Already ended (closed, moved, dropped): ending it again is not an error.
        return web.Response(status=204)
    await calls.end_member(code, room_id, me.participant_id)
    await announce(request)
    return web.Response(status=200)


@routes.post(ROOM + "/members/" + PARTICIPANT + "/watch")
async def watch(request: web.Request) -> web.StreamResponse:
    code, room_id, me = await room_member(request)
    offer = await read_offer(request)
    member = request.match_info["participant"]
    if node := room_node(request, code, room_id, member):
        return await node_proxy.forward(request.app[CLUSTER].http, request, node, offer)
    viewer, answer = await request.app[ROOM_CALLS].watch(
        code, room_id, member, offer, me.participant_id
    )
    location = f"/api/sessions/{code}/breakouts/rooms/{room_id}/watch/{viewer.resource}"
    return sdp_answer(request, answer, location)


@routes.delete(ROOM + "/watch/" + RESOURCE)
async def stop_watching(request: web.Request) -> web.StreamResponse:
    code = await session_code(request)
    me = participant(request)
    if forwarded := await on_its_node(request):
        return forwarded
    engine = request.app[ROOM_CALLS].engine
    viewer = engine.viewers.get(request.match_info["resource"])
    if viewer is None:
        return web.Response(status=204)  # already ended, like a publication above
    in_room = viewer.key.in_room(code, request.match_info["room"])
    if not in_room or viewer.owner != me.participant_id:  # only the watcher ends it
        raise AppError(404, "media.unknown_resource", "There is no such viewer.")
    await engine.leave(viewer)
    return web.Response(status=200)


@routes.post(ROOM + "/call-state")
async def call_state(request: web.Request) -> web.StreamResponse:
    code, room_id, me = await room_member(request)
    body = await read_json(request, CallStateBody)
    cluster = placing(request)
    node = cluster.member_node(code, room_id, me.participant_id) if cluster else None
    if node is not None and cluster is not None and node.id != cluster.id:
        return await pass_on(request, node, msgspec.json.encode(body).decode())
    request.app[ROOM_CALLS].set_state(
        code, room_id, me.participant_id, CallState(body.muted, body.camera_off)
    )
    await announce(request)
    return web.json_response({"ok": True})
