"""WHIP ingest (RFC 9725) and WHEP playback over HTTP."""

from __future__ import annotations

from aiohttp import web
from aiortc import RTCPeerConnection

from server.attendance.viewers import watching_webrtc
from server.http.errors import AppError
from server.http.request_body import read_capped
from server.keys import CLOCK, CLUSTER, IDENTITY, MEDIA, QA, SETTINGS
from server.media import aiortc_glue, node_proxy, placement
from server.media.cluster import PLACED_HEADER, RELAY_HEADER, MediaCluster, node_of_header
from server.media.engine import Publication
from server.media.errors import RETRY_AFTER_SECONDS, offline
from server.media.placement import NodeRecord
from server.media.stream_key import StreamKey
from server.programme.lookup import CODE_PATTERN, find_session
from sessions.consent import session_consent
from sessions.roles import Role

routes = web.RouteTableDef()

MAX_SDP = 64 * 1024
SDP = "application/sdp"
TRICKLE = "application/trickle-ice-sdpfrag"
WHIP = f"/whip/{{code:{CODE_PATTERN}}}"
WHEP = f"/whep/{{code:{CODE_PATTERN}}}"
RESOURCE = "/{resource:[A-Za-z0-9_-]{1,32}}"


async def read_offer(request: web.Request) -> str:
    if request.content_type != SDP:
        raise AppError(415, "media.content_type", "Send the offer as application/sdp.")
    return await read_body(request)


async def read_body(request: web.Request) -> str:
    if request.content_length is not None and request.content_length > MAX_SDP:
        raise AppError(413, "media.sdp_too_large", f"An offer has at most {MAX_SDP} bytes.")
    body = await read_capped(request, MAX_SDP + 1)
    if len(body) > MAX_SDP:
        raise AppError(413, "media.sdp_too_large", f"An offer has at most {MAX_SDP} bytes.")
    try:
        return body.decode()
    except UnicodeDecodeError:
        raise AppError(422, "media.sdp_unusable", "The offer is not UTF-8 text.") from None


def from_node(request: web.Request, header: str) -> bool:
    """Whether ``header`` came from another media node (signed with the conference's key);
    sent by anyone else, it is ignored."""
    secret = request.app[SETTINGS].secret_key
    return node_of_header(secret, header, request.headers.get(header)) is not None


def placing(request: web.Request) -> MediaCluster | None:
    """The cluster, when this request is still to be placed on a media node (it was not
    forwarded here by the node that placed it)."""
    if CLUSTER not in request.app or from_node(request, PLACED_HEADER):
        return None
    return request.app[CLUSTER]


async def on_its_node(request: web.Request, *, with_body: bool = False) -> web.Response | None:
    """The answer of the node a resource URL belongs to, when that is another node."""
    cluster = placing(request)
    node = cluster.node_of_resource(request.match_info["resource"]) if cluster else None
    if cluster is None or node is None:
        return None
    body = await read_body(request) if with_body else None
    return await node_proxy.forward(cluster.http, request, node, body)


def no_media_node() -> AppError:
    return AppError(
        503,
        "media.no_node",
        "No media process is up yet; try again shortly.",
        {"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def room_node(
    request: web.Request, code: str, room_id: str, member: str = "", *, near_floor: bool = False
) -> NodeRecord | None:
    """The other media node this exchange of a room (a break-out room's call, an
    interpretation booth) belongs on: the node carrying ``member``'s stream, else the
    room's node (placing the room when it has none yet); None to answer it here."""
    cluster = placing(request)
    if cluster is None:
        return None
    node = (cluster.member_node(code, room_id, member) if member else None) or cluster.place_room(
        code, room_id, near_floor=near_floor
    )
    if node is None and cluster.places_only:
        raise no_media_node()
    return None if node is None or node.id == cluster.id else node


async def pass_on(request: web.Request, node: NodeRecord, body: str | None) -> web.Response:
    """The node's answer to this exchange; its record (written before it answered) read
    at once, so the change reaches the sockets here."""
    cluster = request.app[CLUSTER]
    answer = await node_proxy.forward(cluster.http, request, node, body)
    await cluster.refresh()
    return answer


async def passed_on(request: web.Request) -> web.Response | None:
    """The answer of the node a resource URL names, when that is another node."""
    answer = await on_its_node(request)
    if answer is not None:
        await request.app[CLUSTER].refresh()
    return answer


def require_speaker(request: web.Request, code: str) -> None:
    identity = request[IDENTITY]
    if identity.is_anonymous:
        raise AppError(401, "auth.required", "Send the speaker's token as a bearer token.")
    if not (identity.has_role(code, Role.SPEAKER) or identity.can_moderate(code)):
        raise AppError(403, "auth.forbidden", "This token may not publish to this session.")


def ice_server_links(request: web.Request) -> dict[str, str]:
    """RFC 9725 4.6: the ICE servers a client should use, as Link headers."""
    urls = request.app[SETTINGS].ice_servers
    if not urls:
        return {}
    return {"Link": ", ".join(f'<{url}>; rel="ice-server"' for url in urls)}


def sdp_answer(request: web.Request, sdp: str, location: str) -> web.Response:
    return web.Response(
        status=201,
        text=sdp,
        content_type=SDP,
        headers={
            "Location": location,
            "Access-Control-Expose-Headers": "Location, Link",
            **ice_server_links(request),
        },
    )


@routes.options(WHIP)
@routes.options(WHEP)
async def sdp_options(request: web.Request) -> web.StreamResponse:
    return web.Response(
        status=204,
        headers={"Accept-Post": SDP, "Allow": "OPTIONS, POST", **ice_server_links(request)},
    )


@routes.head(WHEP)
async def whep_head(request: web.Request) -> web.StreamResponse:
    """Whether there is anything to watch, without negotiating."""
    await find_session(request)
    if request.app[MEDIA].state(StreamKey.panel(request.match_info["code"])).state != "live":
        return web.Response(status=409, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    return web.Response(status=200)


@routes.post(WHIP)
async def whip_publish(request: web.Request) -> web.StreamResponse:
    code = request.match_info["code"]
    require_speaker(request, code)
    _, session = await find_session(request)
    await request.app[QA].sync()
    delivery = request.app[QA].delivery
    if not session_consent(session, delivery.consent_edits(code)).streamed:
        raise AppError(
            403,
            "media.not_streamed",
            "This session is not streamed: the programme, or someone on its panel, did not "
            "agree to it.",
        )
    if delivery.is_cut(code):
        raise AppError(
            409,
            "media.cut",
            "A moderator ended this stream; they can let speakers back on from the console.",
        )
    offer = await read_offer(request)
    rehearsal = rehearsing(request)
    if cluster := placing(request):
        await cluster.refresh()
        live_here = request.app[MEDIA].live(StreamKey.panel(code)) is not None
        if live_here or placement.origin(cluster.others(), code) is not None:
            raise AppError(409, "media.already_live", "Someone is already publishing here.")
        node = cluster.place_publication()
        if node is None and cluster.places_only:
            raise no_media_node()
        if node is not None and node.id != cluster.id:
            return await node_proxy.forward(cluster.http, request, node, offer)
    publication, answer = await request.app[MEDIA].publish(
        StreamKey.panel(code), offer, request.app[CLOCK](), rehearsal=rehearsal
    )
    await announce(request)
    return sdp_answer(request, answer, f"/whip/{code}/{publication.resource}")


async def announce(request: web.Request) -> None:
    """Write this node's record before answering: whoever reads the records after the
    answer (a viewer's first request, through any process) finds the change there."""
    if CLUSTER in request.app:
        await request.app[CLUSTER].announce()


def rehearsing(request: web.Request) -> bool:
    """``?rehearsal=1`` on a WHIP request: the speaker rehearses (watched by the session's
    moderators and speakers only, never recorded)."""
    value = request.query.get("rehearsal", "0")
    if value not in ("0", "1"):
        raise AppError(400, "media.bad_query", "rehearsal is 0 or 1.")
    return value == "1"


def may_watch_rehearsal(request: web.Request, code: str) -> bool:
    identity = request[IDENTITY]
    return identity.has_role(code, Role.SPEAKER) or identity.can_moderate(code)


def own_publication(request: web.Request) -> Publication:
    """The publication a WHIP resource URL names, for its speaker only."""
    code = request.match_info["code"]
    require_speaker(request, code)
    publication = request.app[MEDIA].live(StreamKey.panel(code))
    if publication is None or publication.resource != request.match_info["resource"]:
        raise AppError(404, "media.unknown_resource", "There is no such publication.")
    return publication


@routes.delete(WHIP + RESOURCE)
async def whip_stop(request: web.Request) -> web.StreamResponse:
    code, resource = request.match_info["code"], request.match_info["resource"]
    require_speaker(request, code)
    if forwarded := await on_its_node(request):
        return forwarded
    if not await request.app[MEDIA].end_pause(
        StreamKey.panel(code), resource
    ):  # else it dropped before the DELETE
        await request.app[MEDIA].unpublish(own_publication(request))
    await announce(request)
    return web.Response(status=200)


@routes.patch(WHIP + RESOURCE)
async def whip_trickle(request: web.Request) -> web.StreamResponse:
    require_speaker(request, request.match_info["code"])
    if forwarded := await on_its_node(request, with_body=True):
        return forwarded
    peer = own_publication(request).peer
    if peer is None:
        raise AppError(404, "media.unknown_resource", "This publication has no peer.")
    await trickle(request, peer)
    return web.Response(status=204)


@routes.patch(WHEP + RESOURCE)
async def whep_trickle(request: web.Request) -> web.StreamResponse:
    if forwarded := await on_its_node(request, with_body=True):
        return forwarded
    viewer = request.app[MEDIA].viewers.get(request.match_info["resource"])
    if viewer is None or viewer.key != StreamKey.panel(request.match_info["code"]):
        raise AppError(404, "media.unknown_resource", "There is no such viewer.")
    await trickle(request, viewer.peer)
    return web.Response(status=204)


async def trickle(request: web.Request, peer: RTCPeerConnection) -> None:
    """RFC 9725 4.3.1: add the client's trickled candidates; an ICE restart is refused,
    since aiortc cannot restart ICE."""
    if request.content_type != TRICKLE:
        raise AppError(415, "media.content_type", f"Send candidates as {TRICKLE}.")
    fragment = await read_body(request)
    try:
        await aiortc_glue.add_trickled_candidates(peer, fragment)
    except aiortc_glue.IceRestartError:
        raise AppError(422, "media.ice_restart", "ICE restarts are not supported.") from None
    except ValueError as error:
        raise AppError(400, "media.sdpfrag", f"The candidates cannot be read: {error}") from None


@routes.post(WHEP)
async def whep_watch(request: web.Request) -> web.StreamResponse:
    code = request.match_info["code"]
    key = StreamKey.panel(code)
    await find_session(request)
    offer = await read_offer(request)
    engine = request.app[MEDIA]
    relay = from_node(request, RELAY_HEADER)
    if relay:  # another node pulls a relay: from an origin only
        publication = engine.live(key)
        if publication is None or publication.relay_of is not None or publication.rehearsal:
            raise AppError(409, "media.not_origin", "This node does not publish this session.")
    elif CLUSTER in request.app:
        cluster = request.app[CLUSTER]
        if not from_node(request, PLACED_HEADER):
            placed = cluster.place_viewer(code)
            if placed is None:  # published since this node last heard, perhaps
                await cluster.refresh()
                placed = cluster.place_viewer(code)
            if placed is not None and placed.node.id != cluster.id:
                return await node_proxy.forward(cluster.http, request, placed.node, offer)
        await cluster.carry(key)
    publication = engine.live(key)
    if publication is not None and publication.rehearsal and not may_watch_rehearsal(request, code):
        raise offline()  # to everyone else, a rehearsal is nothing live
    viewer, answer = await engine.watch(key, offer, relay=relay)
    response = sdp_answer(request, answer, f"/whep/{code}/{viewer.resource}")
    if not relay and not (publication is not None and publication.rehearsal):
        watching_webrtc(request, response, code, viewer.resource)  # audience, counted
    return response


@routes.delete(WHEP + RESOURCE)
async def whep_stop(request: web.Request) -> web.StreamResponse:
    if forwarded := await on_its_node(request):
        return forwarded
    viewer = request.app[MEDIA].viewers.get(request.match_info["resource"])
    if viewer is None or viewer.key != StreamKey.panel(request.match_info["code"]):
        raise AppError(404, "media.unknown_resource", "There is no such viewer.")
    await request.app[MEDIA].leave(viewer)
    return web.Response(status=200)
