"""LL-HLS over HTTP: a panel's playlist, init segments, segments and parts.

``/hls/<code>/index.m3u8`` is the one address players need. Everything it lists lies under
``/hls/<code>/<run>/``, where the run names one packaging of one publication: a segment's
address never means two different things, so parts, segments and init segments are cached
for good, and playlists for a second (a blocking reload's answer, which names the part it
waited for, for a segment's length). With several media processes, any process answers:
the request goes to the panel's origin, which packages it once for everyone.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from server.attendance.viewers import watching_hls
from server.http.errors import AppError
from server.keys import CLUSTER, HLS
from server.media import node_proxy, placement
from server.media.cluster import PLACED_HEADER
from server.media.errors import RETRY_AFTER_SECONDS
from server.media.hls.playlist import LivePlaylist, OutOfRangeError
from server.media.hls.segmenter import TARGET_DURATION
from server.media.hls.service import Channel, UnsupportedCodecError
from server.media.http import from_node
from server.media.stream_key import StreamKey
from server.programme.lookup import CODE_PATTERN, find_session

routes = web.RouteTableDef()

HLS_PATH = f"/hls/{{code:{CODE_PATTERN}}}"
RUN = "/{run:[0-9a-f]{8}}"
PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
MEDIA_TYPE = "video/mp4"
FIRST_SEGMENT_SECONDS = 10.0
"""How long the first request waits for a new channel's first segment."""
BLOCK_SECONDS = 3 * TARGET_DURATION
"""A blocking request not answerable by then gets a 503 (as the LL-HLS draft says)."""
MAX_SEQUENCE = 10**9

LIVE_PLAYLIST_CACHE = "public, max-age=1"
BLOCKING_PLAYLIST_CACHE = f"public, max-age={TARGET_DURATION}"
MEDIA_CACHE = "public, max-age=31536000, immutable"
MISSING_CACHE = "public, max-age=1"
CROSS_ORIGIN = {"Access-Control-Allow-Origin": "*"}


def hls_error(status: int, code: str, message: str, **headers: str) -> AppError:
    return AppError(
        status, code, message, {"Cache-Control": MISSING_CACHE, **CROSS_ORIGIN, **headers}
    )


def not_live() -> AppError:
    return hls_error(
        404, "media.offline", "Nothing is being published here right now.",
        **{"Retry-After": str(RETRY_AFTER_SECONDS)},
    )  # fmt: skip


def not_here() -> AppError:
    return hls_error(404, "hls.gone", "This part of the stream is not (or no longer) here.")


def sequence(request: web.Request, name: str) -> int | None:
    value = request.query.get(name)
    if value is None:
        return None
    if not value.isdigit() or int(value) > MAX_SEQUENCE:
        raise hls_error(400, "hls.bad_request", f"{name} must be a whole number.")
    return int(value)


async def origin_answer(request: web.Request) -> web.Response | None:
    """The origin's answer when another media process publishes this panel."""
    if CLUSTER not in request.app or from_node(request, PLACED_HEADER):
        return None
    cluster = request.app[CLUSTER]
    code = request.match_info["code"]
    publication = cluster.engine.live(StreamKey.panel(code))
    if publication is not None and publication.relay_of is None:
        return None
    origin = placement.origin(cluster.others(), code)
    if origin is None:
        await cluster.refresh()
        origin = placement.origin(cluster.others(), code)
    if origin is None:
        return None
    return await node_proxy.forward(cluster.http, request, origin, None)


async def live_channel(request: web.Request) -> Channel:
    # A live publication here means WHIP accepted it for this session (streamed, known), so
    # the programme is read only on the way to a 404: parts come several times a second
    # per player.
    key = StreamKey.panel(request.match_info["code"])
    publication = request.app[HLS].engine.live(key)
    if publication is None or publication.relay_of is not None or publication.rehearsal:
        await find_session(request)
        raise not_live()
    if publication.withheld_kinds() >= set(publication.streams):
        raise hls_error(
            409,
            "hls.off_record",
            "This part is off the record; the stream resumes when it ends.",
            **{"Retry-After": "5"},
        )
    try:
        channel = await request.app[HLS].channel(key)
    except UnsupportedCodecError as error:
        raise hls_error(
            409, "hls.unsupported_codec", f"This stream cannot be packaged for HLS ({error})."
        ) from None
    if channel is None:
        raise not_live()
    return channel


@routes.get(HLS_PATH + "/index.m3u8")
async def playlist(request: web.Request) -> web.StreamResponse:
    msn = sequence(request, "_HLS_msn")
    part = sequence(request, "_HLS_part")
    if part is not None and msn is None:
        raise hls_error(400, "hls.bad_request", "_HLS_part needs _HLS_msn.")
    if forwarded := await origin_answer(request):
        watching_hls(request, forwarded, request.match_info["code"])
        return forwarded
    channel = await live_channel(request)
    live = channel.playlist
    if not await channel.wait_for(lambda: live.ready, FIRST_SEGMENT_SECONDS):
        if channel.ended:
            raise not_live()
        raise hls_error(
            503, "hls.starting", "The stream is being prepared; try again in a moment.",
            **{"Retry-After": "2"},
        )  # fmt: skip
    cache = LIVE_PLAYLIST_CACHE
    if msn is not None:
        cache = BLOCKING_PLAYLIST_CACHE
        try:
            live.has(msn, part)
        except OutOfRangeError:
            raise hls_error(400, "hls.too_far_ahead", "_HLS_msn is beyond the live edge.") from None
        if not await channel.wait_for(lambda: live.has(msn, part), BLOCK_SECONDS):
            raise hls_error(503, "hls.not_yet", "That part did not come in time.")
    response = web.Response(
        text=live.render(),
        content_type=PLAYLIST_TYPE,
        headers={"Cache-Control": cache, **CROSS_ORIGIN},
    )
    if not from_node(request, PLACED_HEADER):  # counted where the player asked
        watching_hls(request, response, request.match_info["code"])
    return response


async def media_of(
    request: web.Request,
    read: Callable[[LivePlaylist], bytes | None],
    *,
    hinted: Callable[[LivePlaylist], bool] | None = None,
) -> web.Response:
    """What ``read`` finds in the current run of the panel's playlist, from its origin; when
    ``hinted`` (the preload hint's part) it waits for it to exist, as LL-HLS players expect."""
    if forwarded := await origin_answer(request):
        return forwarded
    channel = await live_channel(request)
    live = channel.playlist
    if request.match_info["run"] != live.run:
        raise not_here()
    if hinted is not None and read(live) is None and hinted(live):
        # held while it may still come (a segment can end before its hinted part)
        await channel.wait_for(lambda: read(live) is not None or not hinted(live), BLOCK_SECONDS)
    data = read(live)
    if data is None:
        raise not_here()
    return web.Response(
        body=data, content_type=MEDIA_TYPE, headers={"Cache-Control": MEDIA_CACHE, **CROSS_ORIGIN}
    )


@routes.get(HLS_PATH + RUN + r"/init-{init:\d{1,9}}.mp4")
async def init_segment(request: web.Request) -> web.StreamResponse:
    init = int(request.match_info["init"])
    return await media_of(request, lambda live: live.init(init))


@routes.get(HLS_PATH + RUN + r"/{msn:\d{1,9}}.m4s")
async def segment(request: web.Request) -> web.StreamResponse:
    msn = int(request.match_info["msn"])
    return await media_of(request, lambda live: live.segment(msn))


@routes.get(HLS_PATH + RUN + r"/{msn:\d{1,9}}.{part:\d{1,4}}.m4s")
async def part(request: web.Request) -> web.StreamResponse:
    msn, index = int(request.match_info["msn"]), int(request.match_info["part"])
    return await media_of(
        request, lambda live: live.part(msn, index), hinted=lambda live: live.hinted(msn, index)
    )
