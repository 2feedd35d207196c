"""A WHIP, WHEP, break-out call or HLS request answered by another media node: the request
goes there as it came (the node checks the token again), and its answer comes back as it
went.

Proxying rather than redirecting (RFC 9725 allows a ``307``) keeps one URL for every client:
browsers need no CORS to a second origin, and OBS, GStreamer and FFmpeg, which do not all
follow redirects, publish as before. The media itself flows between the client and the node
(its ICE candidates are in the answer); only the few signalling requests pass through here.
"""

from __future__ import annotations

import datetime as dt
import logging

import aiohttp
from aiohttp import web

from server.keys import BEARER_CODEC, CLOCK, IDENTITY, SETTINGS
from server.media.cluster import PLACED_HEADER, internal_header
from server.media.errors import unreachable
from server.media.placement import NodeRecord

log = logging.getLogger("plenaria.media.proxy")

REQUEST_HEADERS = ("Content-Type", "Authorization")
RESPONSE_HEADERS = (
    "Location", "Retry-After", "Link", "Access-Control-Expose-Headers",
    "Cache-Control", "Access-Control-Allow-Origin",
)  # fmt: skip
TIMEOUT = aiohttp.ClientTimeout(total=15)
VOUCHER_LIFETIME = dt.timedelta(minutes=1)


async def forward(
    http: aiohttp.ClientSession, request: web.Request, node: NodeRecord, body: str | None
) -> web.Response:
    headers = {name: request.headers[name] for name in REQUEST_HEADERS if name in request.headers}
    headers[PLACED_HEADER] = internal_header(
        request.app[SETTINGS].secret_key, PLACED_HEADER, node.id
    )
    identity = request[IDENTITY]
    if "Authorization" not in headers and not identity.is_anonymous:
        # signed in by cookie (the studio page), checked here with its CSRF token: this
        # process vouches for the identity with a short-lived token the node reads
        expires = request.app[CLOCK]() + VOUCHER_LIFETIME
        headers["Authorization"] = f"Bearer {request.app[BEARER_CODEC].dumps(identity, expires)}"
    try:
        async with http.request(
            request.method, f"{node.url}{request.rel_url}", data=body, headers=headers,
            timeout=TIMEOUT,
        ) as answer:  # fmt: skip
            text = await answer.read()
            kept = {n: answer.headers[n] for n in RESPONSE_HEADERS if n in answer.headers}
            if text and "Content-Type" in answer.headers:
                kept["Content-Type"] = answer.headers["Content-Type"]
            return web.Response(status=answer.status, body=text, headers=kept)
    except (aiohttp.ClientError, TimeoutError) as error:
        log.warning("media node unreachable", extra={"node": node.id, "error": str(error)})
        raise unreachable(
            "media.node_unreachable",
            "The media server for this stream cannot be reached; try again shortly.",
        ) from None
