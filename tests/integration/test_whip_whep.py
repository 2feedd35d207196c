"""WHIP ingest and WHEP playback with real aiortc peers, and every failure status."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import struct
import time
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from aiortc import RTCPeerConnection, RTCRtpSender, RTCSessionDescription, VideoStreamTrack
from aiortc.mediastreams import MediaStreamTrack
from prometheus_client.parser import text_string_to_metric_families

from server.app import create_app
from server.http.auth import bearer_codec
from server.keys import MEDIA, QA, RECORDER
from server.media import aiortc_glue
from server.media.cluster import RELAY_HEADER, internal_header
from server.media.engine import StreamState
from server.media.stream_key import StreamKey
from server.media.synthetic import start_synthetic_panel
from sessions.roles import Identity, Role
from tests.helpers import SECRET, settings_for
from tests.integration.conftest import NOW, ClientFactory
from tests.integration.test_media_relay import NO_ICE_SERVERS
from tests.integration.test_qa_api import BOB, MOD

Client = TestClient[web.Request, web.Application]
SDP = {"Content-Type": "application/sdp"}


def speaker(code: str = "panel") -> dict[str, str]:
    identity = Identity("id-speaker", "Speaker").with_role(code, Role.SPEAKER)
    token = bearer_codec(SECRET).dumps(identity, NOW + dt.timedelta(hours=1))
    return {"Authorization": f"Bearer {token}"}


async def publisher_offer(peers: list[RTCPeerConnection]) -> RTCPeerConnection:
    peer = RTCPeerConnection(NO_ICE_SERVERS)
    peers.append(peer)
    peer.addTrack(VideoStreamTrack())
    await peer.setLocalDescription(await peer.createOffer())
    return peer


async def publish(client: Client, peers: list[RTCPeerConnection], query: str = "") -> str:
    peer = await publisher_offer(peers)
    response = await client.post(
        f"/whip/panel{query}", data=peer.localDescription.sdp, headers={**SDP, **speaker()}
    )
    assert response.status == 201, await response.text()
    assert response.content_type == "application/sdp"
    answer = await response.text()
    assert "a=setup:passive" in answer, "the server is the DTLS server"
    await peer.setRemoteDescription(RTCSessionDescription(answer, "answer"))
    location: str = response.headers["Location"]
    return location


async def test_whip_statuses(client: Client, peers: list[RTCPeerConnection]) -> None:
    options = await client.options("/whip/panel")
    assert options.status == 204
    assert options.headers["Accept-Post"] == "application/sdp"
    offer = (await publisher_offer(peers)).localDescription.sdp
    cases: list[tuple[str, dict[str, str], Any, int]] = [
        ("/whip/panel", SDP, offer, 401),
        ("/whip/panel", {**SDP, **BOB}, offer, 403),
        ("/whip/panel", {**SDP, **speaker("side")}, offer, 403),
        ("/whip/nope", {**SDP, **speaker("nope")}, offer, 404),
        ("/whip/panel", {"Content-Type": "text/plain", **speaker()}, offer, 415),
        ("/whip/panel", {**SDP, **speaker()}, "v=0\r\n" + "a=x\r\n" * 20_000, 413),
        ("/whip/panel", {**SDP, **speaker()}, "this is not sdp", 422),
        ("/whip/panel", {**SDP, **speaker()}, b"\xff\xfe", 422),
    ]
    for path, headers, body, status in cases:
        response = await client.post(path, data=body, headers=headers)
        assert response.status == status, (path, status, await response.text())
        assert "code" in (await response.json())["error"]

    location = await publish(client, peers)
    assert location.startswith("/whip/panel/")
    again = await client.post("/whip/panel", data=offer, headers={**SDP, **speaker()})
    assert again.status == 409
    trickle = {"Content-Type": "application/trickle-ice-sdpfrag", **speaker()}
    candidates = [line for line in offer.splitlines() if line.startswith("a=candidate:")]
    fragment = "\r\n".join(["a=mid:0", *candidates[:1]]) + "\r\n"
    assert (await client.patch(location, data=fragment, headers=trickle)).status == 204
    restart = "a=ice-ufrag:brandnew\r\na=ice-pwd:brandnewpasswordbrandnew\r\n"
    assert (await client.patch(location, data=restart, headers=trickle)).status == 422
    garbage = "a=mid:0\r\na=candidate:x\r\n"
    assert (await client.patch(location, data=garbage, headers=trickle)).status == 400
    wrong_type = {"Content-Type": "text/plain", **speaker()}
    assert (await client.patch(location, data=fragment, headers=wrong_type)).status == 415
    assert (await client.patch("/whip/panel/nope", data=fragment, headers=trickle)).status == 404
    assert (await client.delete(location, headers=BOB)).status == 403
    assert (await client.delete("/whip/panel/nope", headers=speaker())).status == 404
    assert (await client.delete(location, headers=speaker())).status == 200
    assert client.app[MEDIA].live(StreamKey.panel("panel")) is None


async def viewer_offer(peers: list[RTCPeerConnection]) -> RTCPeerConnection:
    peer = RTCPeerConnection(NO_ICE_SERVERS)
    peers.append(peer)
    peer.addTransceiver("video", direction="recvonly")
    await peer.setLocalDescription(await peer.createOffer())
    return peer


async def test_whep_viewers_receive_the_published_video(
    client: Client, peers: list[RTCPeerConnection]
) -> None:
    offline = await client.post(
        "/whep/panel", data=(await viewer_offer(peers)).localDescription.sdp, headers=SDP
    )
    assert offline.status == 409
    assert offline.headers["Retry-After"] == "5"
    await publish(client, peers)

    async def watch() -> list[Any]:
        viewer = await viewer_offer(peers)
        arrived: asyncio.Future[MediaStreamTrack] = asyncio.get_running_loop().create_future()
        viewer.on("track", lambda track: arrived.set_result(track))
        response = await client.post("/whep/panel", data=viewer.localDescription.sdp, headers=SDP)
        assert response.status == 201, await response.text()
        assert response.headers["Location"].startswith("/whep/panel/")
        await viewer.setRemoteDescription(RTCSessionDescription(await response.text(), "answer"))
        track = await asyncio.wait_for(arrived, 10)
        return [await asyncio.wait_for(track.recv(), 5) for _ in range(20)]

    received = await asyncio.gather(*(watch() for _ in range(3)))
    assert all(packets[0].is_keyframe for packets in received)
    assert client.app[MEDIA].viewer_count(StreamKey.panel("panel")) == 3
    metrics = await (await client.get("/metrics")).text()
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(metrics)
        for sample in family.samples
    }
    assert samples[("plenaria_media_viewers", ())] == 3
    assert samples[("plenaria_media_publications", (("stream", "panel"),))] == 1
    received_video = samples[("plenaria_media_packets_received_total", (("kind", "video"),))]
    forwarded_video = samples[("plenaria_media_packets_forwarded_total", (("kind", "video"),))]
    assert received_video >= 20
    assert forwarded_video >= 3 * 20
    garbage = await client.post("/whep/panel", data="nonsense", headers=SDP)
    assert garbage.status == 422


async def test_the_synthetic_panel_reaches_a_whep_viewer(
    client: Client, peers: list[RTCPeerConnection]
) -> None:
    start_synthetic_panel(client.app[MEDIA], "panel", NOW)
    viewer = RTCPeerConnection(NO_ICE_SERVERS)
    peers.append(viewer)
    viewer.addTransceiver("video", direction="recvonly")
    viewer.addTransceiver("audio", direction="recvonly")
    tracks: dict[str, MediaStreamTrack] = {}
    both = asyncio.Event()

    def on_track(track: MediaStreamTrack) -> None:
        tracks[track.kind] = track
        if len(tracks) == 2:
            both.set()

    viewer.on("track", on_track)
    await viewer.setLocalDescription(await viewer.createOffer())
    response = await client.post("/whep/panel", data=viewer.localDescription.sdp, headers=SDP)
    assert response.status == 201, await response.text()
    await viewer.setRemoteDescription(RTCSessionDescription(await response.text(), "answer"))
    await asyncio.wait_for(both.wait(), 10)
    video: list[Any] = [await asyncio.wait_for(tracks["video"].recv(), 5) for _ in range(10)]
    audio: list[Any] = [await asyncio.wait_for(tracks["audio"].recv(), 5) for _ in range(10)]
    assert video[0].is_keyframe
    assert len({p.pts for p in video}) == 10
    assert all(p.size > 0 for p in audio)
    await client.app[MEDIA].close()
    assert client.app[MEDIA].live(StreamKey.panel("panel")) is None


async def test_stream_state_api(client: Client, peers: list[RTCPeerConnection]) -> None:
    offline = await (await client.get("/api/sessions/panel/stream")).json()
    assert offline == {
        "state": "offline", "started_at": None, "viewers": 0, "rehearsal": False,
        "broadcast": False, "cut": False, "whep": "/whep/panel", "hls": "/hls/panel/index.m3u8",
    }  # fmt: skip
    await publish(client, peers)
    live = await (await client.get("/api/sessions/panel/stream")).json()
    assert live["state"] == "live"
    assert live["started_at"] == NOW.isoformat()
    page = await (await client.get("/sessions/panel")).text()
    assert 'data-stream-state="live"' in page


async def test_stream_state_reaches_the_live_topic(
    client: Client, peers: list[RTCPeerConnection]
) -> None:
    async with client.ws_connect("/ws") as socket:
        await socket.send_json(["subscribe", 1, {"topic": "session:panel:live", "since": 5}])
        verb, _, body = await socket.receive_json(timeout=5)
        assert verb == "ok"
        assert body["snapshot"]["state"] == "offline"
        location = await publish(client, peers)
        event = await socket.receive_json(timeout=5)
        assert event[0] == "event"
        assert event[2]["changes"] == [
            {
                "type": "stream",
                "stream": {
                    "state": "live",
                    "started_at": NOW.isoformat(),
                    "viewers": 0,
                    "rehearsal": False,
                    "broadcast": False,
                    "cut": False,
                },
            }
        ]
        assert (await client.delete(location, headers=speaker())).status == 200
        event = await socket.receive_json(timeout=5)
        assert event[2]["changes"][0]["stream"]["state"] == "offline"


async def wait_for_state(client: Client, state: str) -> StreamState:
    """The stream state of ``panel`` once it is ``state`` (and, when live, connected)."""
    deadline = time.monotonic() + 10
    while True:
        stream = client.app[MEDIA].state(StreamKey.panel("panel"))
        publication = client.app[MEDIA].live(StreamKey.panel("panel"))
        peer = publication.peer if publication else None
        if stream.state == state and (peer is None or peer.connectionState == "connected"):
            return stream
        assert time.monotonic() < deadline, f"still {stream} instead of {state}"
        await asyncio.sleep(0.05)


async def test_a_dropped_publisher_pauses_the_session_until_it_returns(
    client: Client, peers: list[RTCPeerConnection], clock: list[dt.datetime]
) -> None:
    first = await publish(client, peers)
    await wait_for_state(client, "live")
    await peers[-1].close()  # the encoder's network goes away: no DELETE
    paused = await wait_for_state(client, "paused")
    assert paused.started_at == NOW
    api = await (await client.get("/api/sessions/panel/stream")).json()
    assert api["state"] == "paused"
    assert 'data-stream-state="paused"' in await (await client.get("/sessions/panel")).text()

    clock[0] = NOW + dt.timedelta(minutes=3)
    second = await publish(client, peers)
    resumed = await wait_for_state(client, "live")
    assert resumed.started_at == NOW, "a return continues the same stream"
    assert (await client.delete(first, headers=speaker())).status == 404

    await peers[-1].close()
    await wait_for_state(client, "paused")
    # the DELETE of a publisher that dropped just before it still ends the stream
    assert (await client.delete(second, headers=BOB)).status == 403
    assert (await client.delete(second, headers=speaker())).status == 200
    await wait_for_state(client, "offline")
    await publish(client, peers)
    fresh = await wait_for_state(client, "live")
    assert fresh.started_at == clock[0]


async def test_the_studio_is_for_the_sessions_speakers(client: Client) -> None:
    assert (await client.get("/sessions/panel/studio")).status == 401
    assert (await client.get("/sessions/panel/studio", headers=BOB)).status == 403
    assert (await client.get("/sessions/panel/studio", headers=speaker("side"))).status == 403
    page = await client.get("/sessions/panel/studio", headers=speaker())
    assert page.status == 200
    assert 'data-whip="/whip/panel"' in await page.text()
    assert page.headers["Cache-Control"] == "no-store"


async def test_whep_head_and_ice_server_links(
    client: Client, peers: list[RTCPeerConnection], aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    offline = await client.head("/whep/panel")
    assert offline.status == 409
    assert offline.headers["Retry-After"] == "5"
    assert (await client.head("/whep/nope")).status == 404
    await publish(client, peers)
    assert (await client.head("/whep/panel")).status == 200
    assert "Link" not in (await client.options("/whep/panel")).headers

    settings = settings_for(tmp_path, ice_servers=("stun:stun.example.org:3478",))
    with_ice = await aiohttp_client(create_app(settings, clock=lambda: NOW))
    response = await with_ice.options("/whip/panel")
    assert response.headers["Link"] == '<stun:stun.example.org:3478>; rel="ice-server"'


async def publish_h264(client: Client, peers: list[RTCPeerConnection]) -> None:
    """Publish a test pattern as H.264 (aiortc's encoder) to the panel."""
    publisher = RTCPeerConnection(NO_ICE_SERVERS)
    peers.append(publisher)
    transceiver = publisher.addTransceiver(VideoStreamTrack(), direction="sendonly")
    transceiver.setCodecPreferences(
        [c for c in RTCRtpSender.getCapabilities("video").codecs if c.mimeType == "video/H264"]
    )
    await publisher.setLocalDescription(await publisher.createOffer())
    response = await client.post(
        "/whip/panel", data=publisher.localDescription.sdp, headers={**SDP, **speaker()}
    )
    assert response.status == 201
    await publisher.setRemoteDescription(RTCSessionDescription(await response.text(), "answer"))


async def test_an_h264_publisher_gets_h264_viewers(
    client: Client, peers: list[RTCPeerConnection]
) -> None:
    await publish_h264(client, peers)

    viewer = await viewer_offer(peers)  # offers VP8 first, then H.264
    arrived: asyncio.Future[MediaStreamTrack] = asyncio.get_running_loop().create_future()
    viewer.on("track", arrived.set_result)
    answer = await client.post("/whep/panel", data=viewer.localDescription.sdp, headers=SDP)
    answer_sdp = await answer.text()
    video_codecs = [line for line in answer_sdp.splitlines() if line.startswith("a=rtpmap:")]
    assert all("H264" in line or "rtx" in line for line in video_codecs), video_codecs
    await viewer.setRemoteDescription(RTCSessionDescription(answer_sdp, "answer"))
    track = await asyncio.wait_for(arrived, 10)
    first: Any = await asyncio.wait_for(track.recv(), 5)
    assert first.is_keyframe
    assert aiortc_glue.h264_is_keyframe(bytes(first))


async def test_relays_are_pulled_from_an_origin_only(
    client: Client, peers: list[RTCPeerConnection]
) -> None:
    relay = {**SDP, RELAY_HEADER: internal_header(SECRET, RELAY_HEADER, "another-node")}
    offer = (await viewer_offer(peers)).localDescription.sdp
    refused = await client.post("/whep/panel", data=offer, headers=relay)
    assert refused.status == 409
    assert (await refused.json())["error"]["code"] == "media.not_origin"
    # a client sending the header itself is just a viewer (nothing to watch yet)
    forged = await client.post("/whep/panel", data=offer, headers={**SDP, RELAY_HEADER: "x.y"})
    assert (await forged.json())["error"]["code"] == "media.offline"
    await publish(client, peers)
    pulled = await client.post("/whep/panel", data=offer, headers=relay)
    assert pulled.status == 201, await pulled.text()
    assert client.app[MEDIA].viewers[pulled.headers["Location"].rsplit("/", 1)[1]].relay


async def test_a_rehearsal_is_seen_by_moderators_and_speakers_only_and_never_recorded(
    client: Client, peers: list[RTCPeerConnection]
) -> None:
    refused = await client.post(
        "/whip/panel?rehearsal=yes",
        data=(await publisher_offer(peers)).localDescription.sdp,
        headers={**SDP, **speaker()},
    )
    assert refused.status == 400
    assert (await refused.json())["error"]["code"] == "media.bad_query"
    location = await publish(client, peers, "?rehearsal=1")

    # to the public, nothing is live: the state, WHEP, HLS and the page's live topic
    assert (await (await client.get("/api/sessions/panel/stream")).json())["state"] == "offline"
    public = await client.post(
        "/whep/panel", data=(await viewer_offer(peers)).localDescription.sdp, headers=SDP
    )
    assert public.status == 409
    assert (await public.json())["error"]["code"] == "media.offline"
    assert (await client.get("/hls/panel/index.m3u8")).status in (404, 409)
    async with client.ws_connect("/ws") as socket:
        await socket.send_json(["subscribe", 1, {"topic": "session:panel:live"}])
        assert (await socket.receive_json(timeout=5))[2]["snapshot"]["state"] == "offline"
        await socket.send_json(["subscribe", 2, {"topic": "session:panel:studio"}])
        verb, _, body = await socket.receive_json(timeout=5)
        assert (verb, body["code"]) == ("error", "auth.required")
    async with client.ws_connect("/ws", headers=MOD) as socket:
        await socket.send_json(["subscribe", 1, {"topic": "session:panel:studio"}])
        verb, _, body = await socket.receive_json(timeout=5)
        assert verb == "ok"
        assert (body["snapshot"]["state"], body["snapshot"]["rehearsal"]) == ("live", True)

    # the session's moderator watches it
    viewer = await viewer_offer(peers)
    arrived: asyncio.Future[MediaStreamTrack] = asyncio.get_running_loop().create_future()
    viewer.on("track", arrived.set_result)
    response = await client.post(
        "/whep/panel", data=viewer.localDescription.sdp, headers={**SDP, **MOD}
    )
    assert response.status == 201, await response.text()
    await viewer.setRemoteDescription(RTCSessionDescription(await response.text(), "answer"))
    track = await asyncio.wait_for(arrived, 10)
    assert (await asyncio.wait_for(track.recv(), 5)) is not None
    assert client.app[RECORDER].active.get("panel") is None, "a rehearsal is never recorded"
    assert client.app[QA].archive.of_session("panel") == []
    assert (await client.delete(location, headers=speaker())).status == 200


async def test_a_moderator_cuts_the_stream_and_lets_speakers_back_on(
    client: Client, peers: list[RTCPeerConnection]
) -> None:
    await publish(client, peers)
    cut = "/api/sessions/panel/stream/cut"
    assert (await client.post(cut, json={"cut": True}, headers=speaker())).status == 403
    assert (await client.post(cut, json={"cut": True}, headers=BOB)).status == 403
    assert (await client.post(cut, json={"cut": "yes"}, headers=MOD)).status == 422
    response = await client.post(cut, json={"cut": True}, headers=MOD)
    assert response.status == 200, await response.text()
    await wait_for_state(client, "offline")  # at once, not paused
    stream = await (await client.get("/api/sessions/panel/stream")).json()
    assert (stream["state"], stream["cut"]) == ("offline", True)

    again = await client.post(
        "/whip/panel",
        data=(await publisher_offer(peers)).localDescription.sdp,
        headers={**SDP, **speaker()},
    )
    assert again.status == 409
    assert (await again.json())["error"]["code"] == "media.cut"

    assert (await client.post(cut, json={"cut": False}, headers=MOD)).status == 200
    await publish(client, peers)
    await wait_for_state(client, "live")
    assert (await (await client.get("/api/sessions/panel/stream")).json())["cut"] is False


async def watch(client: Client, peers: list[RTCPeerConnection]) -> MediaStreamTrack:
    """A WHEP viewer of the panel, connected; its video track."""
    viewer = await viewer_offer(peers)
    arrived: asyncio.Future[MediaStreamTrack] = asyncio.get_running_loop().create_future()
    viewer.on("track", arrived.set_result)
    response = await client.post("/whep/panel", data=viewer.localDescription.sdp, headers=SDP)
    assert response.status == 201, await response.text()
    await viewer.setRemoteDescription(RTCSessionDescription(await response.text(), "answer"))
    track = await asyncio.wait_for(arrived, 10)
    await asyncio.wait_for(track.recv(), 5)
    return track


def media_address(server_peer: RTCPeerConnection) -> tuple[Any, ...]:
    """The socket a server-side peer takes media on (its selected candidate pair's)."""
    ice = server_peer.getTransceivers()[0].receiver.transport.transport
    address: tuple[Any, ...] = ice._connection._nominated[1].protocol.transport.get_extra_info(
        "sockname"
    )
    return address


async def test_no_datagram_ends_a_publication_or_a_viewing(
    client: Client, peers: list[RTCPeerConnection]
) -> None:
    """aiortc's reading task ended the connection (so the publication, or the viewing) on
    an empty datagram or one over 1,500 bytes, both from anyone who can reach the port
    (aioice takes data from any address), on a header extension value of the wrong length
    and on a REMB that lists fewer SSRCs than it says (issue 16's fuzzing found them)."""
    await publish(client, peers)
    await wait_for_state(client, "live")
    publisher = peers[-1]
    track = await watch(client, peers)
    viewer = peers[-1]
    engine = client.app[MEDIA]
    publication = engine.live(StreamKey.panel("panel"))
    assert publication is not None
    assert publication.peer is not None
    watching = next(iter(engine.viewers.values()))
    dropped = sum(aiortc_glue.dropped_datagrams.values())

    for server_peer in (publication.peer, watching.peer):
        address = media_address(server_peer)
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        with socket.socket(family, socket.SOCK_DGRAM) as stranger:
            stranger.sendto(b"", address)
            stranger.sendto(bytes([0x80, 200]) + bytes(1600), address)
    video = next(t for t in publisher.getTransceivers() if t.kind == "video")
    abs_send_time_of_one_byte = b"\xbe\xde\x00\x01" + bytes([3 << 4, 0x55, 0, 0])
    await video.sender.transport._send_rtp(
        struct.pack("!BBHII", 0x90, video._codecs[0].payloadType, 1, 0, 0xF00D)
        + abs_send_time_of_one_byte
        + b"\x10\x01"
    )
    sender = watching.subscriptions[0].transceiver.sender._ssrc
    remb_of_four_listing_one = (
        struct.pack("!BBHII", 0x8F, 206, 5, 0xBEEF, 0) + b"REMB\x04\x04\x00\x00"
    ) + struct.pack("!I", sender)
    await viewer.getTransceivers()[0].sender.transport._send_rtp(remb_of_four_listing_one)
    deadline = time.monotonic() + 5
    while sum(aiortc_glue.dropped_datagrams.values()) - dropped < 6:
        assert time.monotonic() < deadline, aiortc_glue.dropped_datagrams
        await asyncio.sleep(0.02)

    assert engine.live(StreamKey.panel("panel")) is publication
    assert publication.peer.connectionState == "connected"
    assert engine.viewers.get(watching.resource) is watching
    assert watching.peer.connectionState == "connected"
    assert await asyncio.wait_for(track.recv(), 5) is not None, "the video goes on"
    metrics = await (await client.get("/metrics")).text()
    counted = {
        sample.labels["error"]: sample.value
        for family in text_string_to_metric_families(metrics)
        if family.name == "plenaria_media_datagrams_dropped"
        for sample in family.samples
        if sample.name.endswith("_total")
    }
    assert sum(counted.values()) - dropped >= 6, counted


async def test_a_publisher_sending_from_many_ssrcs_still_ends(
    client: Client, peers: list[RTCPeerConnection]
) -> None:
    """aiortc routes a packet from an unknown SSRC by its payload type, learns the SSRC and
    reports on it in every receiver report: past about 57 SSRCs the report outgrew SRTP's
    buffer, the receiver's RTCP task died, and the publisher's DELETE waited forever."""
    location = await publish(client, peers)
    await wait_for_state(client, "live")
    video = next(t for t in peers[-1].getTransceivers() if t.kind == "video")
    for index in range(100):
        await video.sender.transport._send_rtp(
            struct.pack("!BBHII", 0x80, video._codecs[0].payloadType, index, 0, 0xA000 + index)
            + b"\x10\x01"
        )
    await asyncio.sleep(1.6)  # aiortc reports every 0.5 to 1.5 s
    publication = client.app[MEDIA].live(StreamKey.panel("panel"))
    assert publication is not None
    assert publication.peer is not None
    transceivers = publication.peer.getTransceivers()
    receiver: Any = next(t for t in transceivers if t.kind == "video").receiver
    assert len(receiver._RTCRtpReceiver__remote_streams) <= 2 + aiortc_glue.MAX_LEARNED_SSRCS
    assert not receiver._RTCRtpReceiver__rtcp_task.done(), "it still reports"
    response = await asyncio.wait_for(client.delete(location, headers=speaker()), 5)
    assert response.status == 200


async def test_a_bye_from_the_publisher_does_not_end_the_recording(
    client: Client, peers: list[RTCPeerConnection]
) -> None:
    """aiortc stops a receiver's decoder on an RTCP BYE: the track ended, and with it the
    recording's frames for good, while the viewers went on getting the stream."""
    await publish(client, peers)
    await wait_for_state(client, "live")
    publication = client.app[MEDIA].live(StreamKey.panel("panel"))
    assert publication is not None
    frames = publication.broadcasts["video"]
    deadline = time.monotonic() + 10
    while client.app[RECORDER].active.get("panel") is None or frames.packets == 0:
        assert time.monotonic() < deadline, "the recording never started"
        await asyncio.sleep(0.05)
    video = next(t for t in peers[-1].getTransceivers() if t.kind == "video")
    await video.sender.transport._send_rtp(struct.pack("!BBHI", 0x81, 203, 1, video.sender._ssrc))
    await asyncio.sleep(0.2)  # lets aiortc read the BYE before the count is taken
    before = frames.packets
    deadline = time.monotonic() + 5
    while frames.packets <= before:
        assert time.monotonic() < deadline, "the recording no longer gets the video"
        await asyncio.sleep(0.02)
