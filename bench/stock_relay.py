"""The baseline for bench/fanout.py: stock aiortc, as its examples relay media.

WHIP in (video and audio), WHEP out, but the receiver decodes and `MediaRelay` hands
decoded frames to each viewer's sender, which encodes them again: one encoder per viewer
and track.

    .venv/bin/python bench/stock_relay.py PORT
"""

from __future__ import annotations

import asyncio
import sys

from aiohttp import web
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamTrack

NO_ICE = RTCConfiguration(iceServers=[])
SOURCE = web.AppKey("source", dict)
PEERS = web.AppKey("peers", list)


async def answer(request: web.Request, peer: RTCPeerConnection) -> web.Response:
    await peer.setLocalDescription(await peer.createAnswer())
    return web.Response(status=201, text=peer.localDescription.sdp, content_type="application/sdp")


async def whip(request: web.Request) -> web.Response:
    peer = RTCPeerConnection(NO_ICE)
    request.app[PEERS].append(peer)
    tracks: list[MediaStreamTrack] = []
    peer.on("track", tracks.append)
    await peer.setRemoteDescription(RTCSessionDescription(await request.text(), "offer"))
    for track in tracks:
        request.app[SOURCE][track.kind] = track
    request.app[SOURCE]["relay"] = MediaRelay()
    return await answer(request, peer)


async def whep(request: web.Request) -> web.Response:
    source = request.app[SOURCE]
    if "video" not in source:
        return web.Response(status=409)
    peer = RTCPeerConnection(NO_ICE)
    request.app[PEERS].append(peer)
    await peer.setRemoteDescription(RTCSessionDescription(await request.text(), "offer"))
    for transceiver in peer.getTransceivers():
        if transceiver.kind in source:
            transceiver.sender.replaceTrack(source["relay"].subscribe(source[transceiver.kind]))
            transceiver.direction = "sendonly"
    return await answer(request, peer)


async def close_peers(app: web.Application) -> None:
    await asyncio.gather(*(peer.close() for peer in app[PEERS]))


def main() -> None:
    app = web.Application()
    app[SOURCE] = {}
    app[PEERS] = []
    app.router.add_post("/whip/{code}", whip)
    app.router.add_post("/whep/{code}", whep)
    app.on_shutdown.append(close_peers)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)


if __name__ == "__main__":
    main()
