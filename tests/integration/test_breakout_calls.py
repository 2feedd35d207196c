"""Break-out rooms end to end over HTTP with real aiortc peers: a moderator plans, assigns and
opens the rooms; three participants each publish once and receive the other two; moving a
participant or closing the rooms ends their calls."""

from __future__ import annotations

import array
import asyncio
import fractions
import math
import time
from typing import Any

import av
from aiohttp import web
from aiohttp.test_utils import TestClient
from aiortc import RTCPeerConnection, RTCSessionDescription, VideoStreamTrack
from aiortc.mediastreams import AudioStreamTrack, MediaStreamTrack

from server.keys import MEDIA, QA, ROOM_CALLS
from server.media import aiortc_glue
from server.media.stream_key import StreamKey
from tests.integration.test_media_relay import NO_ICE_SERVERS
from tests.integration.test_qa_api import MOD, token

Client = TestClient[web.Request, web.Application]
SDP = {"Content-Type": "application/sdp"}
BREAKOUTS = "/api/sessions/panel/breakouts"
PEOPLE = {name: token(name) for name in ("ann", "bob", "cyd", "dee")}


class ToneTrack(AudioStreamTrack):
    """A loud 440 Hz tone, so the server's audio-level reading names this peer speaking."""

    def __init__(self) -> None:
        super().__init__()
        self._samples = 0

    async def recv(self) -> av.AudioFrame:
        frame = await super().recv()
        assert isinstance(frame, av.AudioFrame)
        rate, count = frame.sample_rate, frame.samples
        samples = array.array(
            "h",
            (
                int(12_000 * math.sin(2 * math.pi * 440 * (self._samples + i) / rate))
                for i in range(count)
            ),
        )
        self._samples += count
        tone = av.AudioFrame(format="s16", layout="mono", samples=count)
        tone.planes[0].update(samples.tobytes())
        tone.sample_rate, tone.pts, tone.time_base = rate, frame.pts, fractions.Fraction(1, rate)
        return tone


async def command(client: Client, action: str, who: dict[str, str], **body: Any) -> None:
    response = await client.post(f"{BREAKOUTS}/{action}", json=body, headers=who)
    assert response.status == 200, (action, await response.text())


async def open_one_room(client: Client, *names: str) -> None:
    await command(client, "plan", MOD, rooms=[{"name": "Heat and cities", "capacity": 6}])
    for name in names:
        await command(client, "join", PEOPLE[name])
    await command(client, "assign", MOD, seed=7)
    await command(client, "open", MOD, minutes=20)


async def publish(
    client: Client, peers: list[RTCPeerConnection], who: str, loud: bool = False
) -> str:
    peer = RTCPeerConnection(NO_ICE_SERVERS)
    peers.append(peer)
    peer.addTrack(VideoStreamTrack())
    peer.addTrack(ToneTrack() if loud else AudioStreamTrack())
    await peer.setLocalDescription(await peer.createOffer())
    response = await client.post(
        f"{BREAKOUTS}/rooms/room-1/publish",
        data=peer.localDescription.sdp,
        headers={**SDP, **PEOPLE[who]},
    )
    assert response.status == 201, await response.text()
    await peer.setRemoteDescription(RTCSessionDescription(await response.text(), "answer"))
    location: str = response.headers["Location"]
    return location


async def watch(
    client: Client, peers: list[RTCPeerConnection], who: str, whom: str
) -> MediaStreamTrack:
    peer = RTCPeerConnection(NO_ICE_SERVERS)
    peers.append(peer)
    peer.addTransceiver("video", direction="recvonly")
    peer.addTransceiver("audio", direction="recvonly")
    video: asyncio.Future[MediaStreamTrack] = asyncio.get_running_loop().create_future()

    def on_track(track: MediaStreamTrack) -> None:
        if track.kind == "video":
            video.set_result(track)

    peer.on("track", on_track)
    await peer.setLocalDescription(await peer.createOffer())
    response = await client.post(
        f"{BREAKOUTS}/rooms/room-1/members/id-{whom}/watch",
        data=peer.localDescription.sdp,
        headers={**SDP, **PEOPLE[who]},
    )
    assert response.status == 201, await response.text()
    await peer.setRemoteDescription(RTCSessionDescription(await response.text(), "answer"))
    return await asyncio.wait_for(video, 10)


async def until(condition: Any, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        await asyncio.sleep(0.05)


async def test_three_participants_each_receive_the_other_two(
    client: Client, peers: list[RTCPeerConnection]
) -> None:
    names = ("ann", "bob", "cyd")
    await open_one_room(client, *names)
    decoders_before = aiortc_glue.decoders_made.copy()
    for name in names:
        await publish(client, peers, name, loud=name == "bob")

    async def frames(who: str, whom: str) -> list[Any]:
        track = await watch(client, peers, who, whom)
        return [await asyncio.wait_for(track.recv(), 5) for _ in range(10)]

    pairs = [(who, whom) for who in names for whom in names if who != whom]
    received = await asyncio.gather(*(frames(who, whom) for who, whom in pairs))
    assert all(packets[0].is_keyframe for packets in received)
    assert all(isinstance(p, av.Packet) for packets in received for p in packets)
    # The server forwards RTP packets: its receivers reassemble no frames while nobody
    # records (a room is never recorded), so only the 6 test viewers made (passthrough)
    # decoders, each for video and audio, and no server sender ever made an encoder.
    made = aiortc_glue.decoders_made - decoders_before
    assert made == {"audio/opus": 6, "video/VP8": 6}
    engine = client.app[MEDIA]
    assert all(b.packets == 0 for p in engine.publications.values() for b in p.broadcasts.values())
    senders = [s for viewer in engine.viewers.values() for s in viewer.peer.getSenders()]
    assert len(senders) == 12
    for sender in senders:
        assert sender._RTCRtpSender__encoder is None, "the server must never encode"  # type: ignore[attr-defined]

    calls = client.app[ROOM_CALLS]
    await until(lambda: calls.speakers.get(("panel", "room-1")) == "id-bob")
    room = await (await client.get(f"{BREAKOUTS}/rooms/room-1", headers=PEOPLE["ann"])).json()
    assert room["call"]["speaker"] == "id-bob"
    assert sorted(room["call"]["members"]) == ["id-ann", "id-bob", "id-cyd"]
    assert client.app[MEDIA].viewer_count(StreamKey.call("panel", "room-1", "id-ann")) == 2

    # a participant moved out of the room loses the call there
    await command(client, "move", MOD, participant_id="id-cyd", room_id="")
    await until(lambda: "id-cyd" not in calls.publications("panel", "room-1"))
    refused = await client.post(
        f"{BREAKOUTS}/rooms/room-1/publish", data="v=0", headers={**SDP, **PEOPLE["cyd"]}
    )
    assert refused.status == 403

    await command(client, "close", MOD, grace_seconds=0)
    await until(lambda: not calls.publications("panel", "room-1"))
    assert client.app[QA].breakouts("panel").phase == "closed"


async def test_room_access_statuses(client: Client, peers: list[RTCPeerConnection]) -> None:
    await open_one_room(client, "ann")
    room = f"{BREAKOUTS}/rooms/room-1"
    anonymous = await client.post(f"{room}/publish", data="v=0", headers=SDP)
    assert anonymous.status == 403  # no session cookie, so no CSRF token either
    outsider = await client.post(f"{room}/publish", data="v=0", headers={**SDP, **PEOPLE["dee"]})
    assert outsider.status == 403
    unknown = await client.post(
        f"{BREAKOUTS}/rooms/nope/publish", data="v=0", headers={**SDP, **PEOPLE["ann"]}
    )
    assert unknown.status == 404
    wrong_type = await client.post(f"{room}/publish", data="v=0", headers=PEOPLE["ann"])
    assert wrong_type.status == 415
    garbage = await client.post(
        f"{room}/publish", data="nonsense", headers={**SDP, **PEOPLE["ann"]}
    )
    assert garbage.status == 422
    nobody = await client.post(
        f"{room}/members/id-bob/watch", data="v=0", headers={**SDP, **PEOPLE["ann"]}
    )
    assert nobody.status in (409, 422)
    for action in ("plan", "assign", "open", "close", "broadcast", "move"):
        refused = await client.post(f"{BREAKOUTS}/{action}", json={}, headers=PEOPLE["ann"])
        assert refused.status == 403, action


async def test_only_the_watcher_ends_a_watch(
    client: Client, peers: list[RTCPeerConnection]
) -> None:
    await open_one_room(client, "ann", "bob")
    await publish(client, peers, "bob")
    peer = RTCPeerConnection(NO_ICE_SERVERS)
    peers.append(peer)
    peer.addTransceiver("video", direction="recvonly")
    await peer.setLocalDescription(await peer.createOffer())
    watched = await client.post(
        f"{BREAKOUTS}/rooms/room-1/members/id-bob/watch",
        data=peer.localDescription.sdp,
        headers={**SDP, **PEOPLE["ann"]},
    )
    assert watched.status == 201, await watched.text()
    location = watched.headers["Location"]
    assert (await client.delete(location, headers=PEOPLE["bob"])).status == 404
    assert len(client.app[MEDIA].viewers) == 1, "Bob cannot hang up Ann's watch"
    assert (await client.delete(location, headers=PEOPLE["ann"])).status == 200
    assert client.app[MEDIA].viewers == {}
