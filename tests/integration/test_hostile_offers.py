"""Offers aiortc would choke on get a 422 naming the problem; a publisher that never sends
media leaves nothing behind (issue 16)."""

from __future__ import annotations

import asyncio
import logging

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from aiortc import (
    AudioStreamTrack,
    RTCPeerConnection,
    RTCSessionDescription,
    VideoStreamTrack,
)

from server.keys import MEDIA, QA
from server.media import aiortc_glue
from server.media.stream_key import StreamKey
from tests.integration.test_archive_api import until
from tests.integration.test_hostile_http import in_two_parts
from tests.integration.test_media_relay import NO_ICE_SERVERS
from tests.integration.test_whip_whep import SDP, publish, speaker, viewer_offer

Client = TestClient[web.Request, web.Application]


async def audio_video_offer(peers: list[RTCPeerConnection]) -> str:
    peer = RTCPeerConnection(NO_ICE_SERVERS)
    peers.append(peer)
    peer.addTrack(AudioStreamTrack())
    peer.addTrack(VideoStreamTrack())
    await peer.setLocalDescription(await peer.createOffer())
    sdp: str = peer.localDescription.sdp
    return sdp


def edited(sdp: str, old: str, new: str, count: int = 1) -> str:
    assert old in sdp, old
    return sdp.replace(old, new, count)


def without(sdp: str, line: str) -> str:
    lines = sdp.split("\r\n")
    lines.remove(line)
    return "\r\n".join(lines)


async def test_the_reported_offer_without_its_mid_gets_a_422(
    client: Client, peers: list[RTCPeerConnection]
) -> None:
    """Issue 16's reproduction: a=mid:0 removed while a=group:BUNDLE 0 1 still names it
    made aiortc raise in createAnswer and again in close (a 500)."""
    offer = await audio_video_offer(peers)
    assert "a=group:BUNDLE 0 1" in offer
    response = await client.post(
        "/whip/panel", data=without(offer, "a=mid:0"), headers={**SDP, **speaker()}
    )
    assert response.status == 422
    error = (await response.json())["error"]
    assert error["code"] == "media.sdp_mid"
    assert "needs exactly one a=mid line, not 0" in error["message"]
    assert client.app[MEDIA].publications == {}
    await publish(client, peers)  # nothing was left behind


async def test_each_kind_of_broken_offer_is_named(
    client: Client, peers: list[RTCPeerConnection]
) -> None:
    offer = await audio_video_offer(peers)
    fingerprint = next(line for line in offer.split("\r\n") if line.startswith("a=fingerprint:"))
    candidate = next(line for line in offer.split("\r\n") if line.startswith("a=candidate:"))
    cases = {
        "bundle names a missing mid": (
            edited(offer, "a=mid:0", "a=mid:zero"),
            "media.sdp_bundle",
        ),
        "two sections share a mid": (
            edited(edited(offer, "a=mid:1", "a=mid:0"), "BUNDLE 0 1", "BUNDLE 0"),
            "media.sdp_mid",
        ),
        "two mids in one section": (
            edited(offer, "a=mid:0", "a=mid:0\r\na=mid:x"),
            "media.sdp_mid",
        ),
        "two directions": (
            edited(offer, "a=sendrecv", "a=sendrecv\r\na=recvonly"),
            "media.sdp_direction",
        ),
        "only receiving": (
            offer.replace("a=sendrecv", "a=recvonly"),
            "media.sdp_direction",
        ),
        "no codec the server takes": (
            edited(offer, "VP8/90000", "AV1X/90000").replace("H264/90000", "H265/90000"),
            "media.sdp_codecs",
        ),
        "rtpmap for a payload type not offered": (
            edited(offer, "a=rtpmap:", "a=rtpmap:33 VP8/90000\r\na=rtpmap:"),
            "media.sdp_malformed",
        ),
        "no ICE password": (offer.replace("a=ice-pwd:", "a=x-ice-pwd:"), "media.sdp_ice"),
        "no fingerprint": (offer.replace("a=fingerprint:", "a=x-fingerprint:"), "media.sdp_dtls"),
        "a fingerprint of no known hash": (
            edited(offer, fingerprint, fingerprint.replace("sha-", "shb-")),
            "media.sdp_malformed",
        ),
        "no setup": (offer.replace("a=setup:actpass", "a=x-setup"), "media.sdp_dtls"),
        "a candidate with a port out of range": (
            edited(offer, candidate, candidate.replace(" typ ", " 99999 typ ", 1)),
            "media.sdp_malformed",
        ),
        "a hostname candidate": (
            edited(offer, candidate, "a=candidate:1 1 udp 1 evil.example.org 9 typ host"),
            "media.sdp_malformed",
        ),
        "a bad connection line": (edited(offer, "c=IN IP4", "c=IN IPX"), "media.sdp_malformed"),
        "a line separator inside a line": (
            edited(offer, "s=-", "s=-\u2028m=video 9 x 1"),
            "media.sdp_malformed",
        ),
        "an RTCP payload type": (
            edited(offer, "UDP/TLS/RTP/SAVPF 96", "UDP/TLS/RTP/SAVPF 72 96"),
            "media.sdp_malformed",
        ),
        "a text section": (offer + "m=text 9 RTP/AVP 98\r\na=mid:2\r\n", "media.sdp_media"),
        "seventeen sections": (
            offer + "".join(f"m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:x{n}\r\n" for n in range(16)),
            "media.sdp_too_long",
        ),
        "no v=0": (offer.replace("v=0", "v=1", 1), "media.sdp_malformed"),
        "no rtcp-mux": (offer.replace("a=rtcp-mux\r\n", ""), "media.sdp_rtcp_mux"),
        "no direction": (offer.replace("a=sendrecv\r\n", ""), "media.sdp_direction"),
        "a value-less attribute aiortc reads": (
            edited(offer, "s=-", "s=-\r\na=msid-semantic"),
            "media.sdp_malformed",
        ),
    }
    for name, (sdp, code) in cases.items():
        response = await client.post("/whip/panel", data=sdp, headers={**SDP, **speaker()})
        assert response.status == 422, (name, await response.text())
        body = await response.json()
        assert (response.status, body["error"]["code"]) == (422, code), (name, body)
        assert body["error"]["message"], name
    assert client.app[MEDIA].publications == {}


async def test_a_viewer_offer_without_its_mid_gets_a_422(
    client: Client, peers: list[RTCPeerConnection]
) -> None:
    await publish(client, peers)
    offer = (await viewer_offer(peers)).localDescription.sdp
    response = await client.post("/whep/panel", data=without(offer, "a=mid:0"), headers=SDP)
    assert response.status == 422
    assert (await response.json())["error"]["code"] == "media.sdp_mid"
    assert client.app[MEDIA].viewers == {}


async def test_a_half_built_peer_closes_once_and_for_all(peers: list[RTCPeerConnection]) -> None:
    """Behind the checks, what aiortc does with such an offer: the close that follows must
    neither raise nor leave later closes waiting forever."""
    offer = without(await audio_video_offer(peers), "a=mid:0")
    peer = RTCPeerConnection(NO_ICE_SERVERS)
    await peer.setRemoteDescription(RTCSessionDescription(offer, "offer"))
    with pytest.raises(AttributeError):
        await peer.createAnswer()
    await aiortc_glue.close_half_built(peer)
    await asyncio.wait_for(peer.close(), 2)
    assert peer.signalingState == "closed"


async def test_a_publisher_that_sends_nothing_is_ended_without_a_failed_recording(
    client: Client, peers: list[RTCPeerConnection], caplog: pytest.LogCaptureFixture
) -> None:
    engine = client.app[MEDIA]
    engine.first_media_seconds = 0.5
    offer = await audio_video_offer(peers)
    with caplog.at_level(logging.INFO):
        response = await client.post("/whip/panel", data=offer, headers={**SDP, **speaker()})
        assert response.status == 201  # and the client never takes the answer: no media
        assert engine.live(StreamKey.panel("panel")) is not None
        await until(lambda: engine.live(StreamKey.panel("panel")) is None)
        await until(lambda: not client.app[MEDIA].publications)
    assert client.app[QA].archive.recordings == {}, "nothing was filed"
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert any("sent no media" in r.getMessage() for r in caplog.records)
    assert engine.paused(StreamKey.panel("panel")) is None, "not a pause: it never started"
    await publish(client, peers)  # and the session can go live again at once


async def test_an_offer_that_arrives_in_parts_is_read_whole(
    client: Client, peers: list[RTCPeerConnection]
) -> None:
    offer = (await audio_video_offer(peers)).encode()
    response = await client.post(
        "/whip/panel", data=in_two_parts(offer), headers={**SDP, **speaker()}
    )
    assert response.status == 201, await response.text()
