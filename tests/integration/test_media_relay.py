"""One aiortc publisher, several aiortc viewers, the server forwarding encoded frames."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import av
import pytest
from aiortc import (
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCRtpSender,
    VideoStreamTrack,
)
from aiortc.mediastreams import MediaStreamTrack

from server.media import aiortc_glue
from server.media.relay import Broadcast

aiortc_glue.install()

NO_ICE_SERVERS = RTCConfiguration(iceServers=[])


async def connect(sender: RTCPeerConnection, receiver: RTCPeerConnection) -> None:
    await sender.setLocalDescription(await sender.createOffer())
    await receiver.setRemoteDescription(sender.localDescription)
    await receiver.setLocalDescription(await receiver.createAnswer())
    await sender.setRemoteDescription(receiver.localDescription)


class Peers:
    def __init__(self) -> None:
        self.all: list[RTCPeerConnection] = []

    def new(self) -> RTCPeerConnection:
        peer = RTCPeerConnection(NO_ICE_SERVERS)
        self.all.append(peer)
        return peer


@pytest.fixture
async def peers() -> AsyncIterator[Peers]:
    made = Peers()
    yield made
    await asyncio.gather(*(peer.close() for peer in made.all))


async def publish(peers: Peers) -> tuple[Broadcast, RTCRtpReceiver]:
    """A publisher with a synthetic camera (encoded by the publisher, as a browser does)."""
    publisher, ingest = peers.new(), peers.new()
    publisher.addTrack(VideoStreamTrack())
    arrived: asyncio.Future[MediaStreamTrack] = asyncio.get_running_loop().create_future()
    ingest.on("track", lambda track: arrived.set_result(track))
    await connect(publisher, ingest)
    track = await asyncio.wait_for(arrived, 10)
    receiver = next(t.receiver for t in ingest.getTransceivers() if t.receiver.track is track)
    broadcast = Broadcast(track, lambda: aiortc_glue.request_keyframe_from(receiver))
    return broadcast, receiver


async def watch(peers: Peers, broadcast: Broadcast) -> tuple[list[Any], RTCRtpSender, float]:
    """A viewer that counts what it receives; returns its packets, the server's sender for
    it, and the time its first packet arrived."""
    egress, viewer = peers.new(), peers.new()
    sender = egress.addTrack(broadcast.subscribe())
    arrived: asyncio.Future[MediaStreamTrack] = asyncio.get_running_loop().create_future()
    viewer.on("track", lambda track: arrived.set_result(track))
    started = time.monotonic()
    await connect(egress, viewer)
    track = await asyncio.wait_for(arrived, 10)
    packets: list[Any] = []
    first = await asyncio.wait_for(track.recv(), 5)
    packets.append(first)
    first_after = time.monotonic() - started
    while len(packets) < 30:
        packets.append(await asyncio.wait_for(track.recv(), 5))
    return packets, sender, first_after


async def test_viewers_receive_forwarded_frames_starting_with_a_keyframe(peers: Peers) -> None:
    decoders_before = len(aiortc_glue.decoders_made)
    broadcast, _ = await publish(peers)
    results = await asyncio.gather(*(watch(peers, broadcast) for _ in range(3)))
    for packets, sender, first_after in results:
        assert all(isinstance(p, av.Packet) for p in packets)
        assert packets[0].is_keyframe
        assert first_after < 2
        assert [p.pts for p in packets] == sorted(p.pts for p in packets)
        encoder = sender._RTCRtpSender__encoder  # type: ignore[attr-defined]
        assert encoder.codec is None, "the server must never encode"
    # Every receiver in this test (the server's and the viewers') got a passthrough, not a
    # decoder: aiortc's own get_decoder is no longer reachable.
    assert aiortc_glue.decoders_made[decoders_before:] == ["video/VP8"] * 4
    assert broadcast.keyframe_requests >= 1


async def test_a_late_viewer_gets_a_keyframe_quickly(peers: Peers) -> None:
    broadcast, _ = await publish(peers)
    await watch(peers, broadcast)
    packets, _, first_after = await watch(peers, broadcast)
    assert packets[0].is_keyframe
    assert first_after < 2


def test_keyframe_detection() -> None:
    assert aiortc_glue.vp8_is_keyframe(b"\x10\x02\x00")
    assert not aiortc_glue.vp8_is_keyframe(b"\x11\x02\x00")
    assert aiortc_glue.h264_is_keyframe(b"\x00\x00\x00\x01\x67\x42\x00\x00\x00\x01\x65")
    assert not aiortc_glue.h264_is_keyframe(b"\x00\x00\x00\x01\x41\x9a")
    assert not aiortc_glue.vp8_is_keyframe(b"")


class SilentSource(MediaStreamTrack):
    """A publisher track that never sends: only keyframe requests matter here."""

    kind = "video"

    async def recv(self) -> Any:
        await asyncio.Event().wait()


async def test_keyframe_requests_inside_the_interval_are_deferred_not_dropped() -> None:
    sent: list[float] = []

    async def request() -> None:
        sent.append(time.monotonic())

    broadcast = Broadcast(SilentSource(), request, keyframe_interval=0.3)
    first = broadcast.subscribe()  # the first viewer's request goes out at once
    await asyncio.sleep(0)
    second = broadcast.subscribe()  # inside the interval: deferred to its end
    broadcast.keyframe_wanted()  # and merged with any other request meanwhile
    deadline = time.monotonic() + 5
    while len(sent) < 2:
        assert time.monotonic() < deadline, "the deferred request never went out"
        await asyncio.sleep(0.02)
    assert sent[1] - sent[0] >= 0.29
    await asyncio.sleep(0.4)
    assert len(sent) == 2
    first.stop()
    second.stop()
    await broadcast.close()
