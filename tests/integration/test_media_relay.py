"""Real aiortc publishers and viewers through the media engine's RTP forwarding."""

from __future__ import annotations

import asyncio
import datetime as dt
import fractions
import itertools
import time
from collections.abc import AsyncIterator
from typing import Any

import av
import pytest
from aiortc import (
    AudioStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
    VideoStreamTrack,
)
from aiortc.mediastreams import MediaStreamTrack

from server.media import aiortc_glue
from server.media.engine import MediaEngine
from server.media.relay import KeyframeRequests
from server.media.stream_key import StreamKey

aiortc_glue.install()

NO_ICE_SERVERS = RTCConfiguration(iceServers=[])
NOW = dt.datetime(2026, 12, 3, 9, tzinfo=dt.UTC)
FPS = 30


async def connect(sender: RTCPeerConnection, receiver: RTCPeerConnection) -> None:
    await sender.setLocalDescription(await sender.createOffer())
    await receiver.setRemoteDescription(sender.localDescription)
    await receiver.setLocalDescription(await receiver.createAnswer())
    await sender.setRemoteDescription(receiver.localDescription)


async def receive(track: MediaStreamTrack) -> Any:
    """The next forwarded packet (``av.Packet``: viewers here decode nothing)."""
    return await asyncio.wait_for(track.recv(), 5)


@pytest.fixture
async def engine() -> AsyncIterator[MediaEngine]:
    made = MediaEngine()
    yield made
    await made.close()


def encode_clip(frames: int, gop: int) -> list[Any]:
    """VP8 packets of a test pattern with a keyframe every ``gop`` frames."""
    source = av.open(f"testsrc2=size=320x180:rate={FPS}", format="lavfi")
    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height, encoder.pix_fmt = 320, 180, "yuv420p"
    encoder.time_base = fractions.Fraction(1, FPS)
    encoder.framerate = fractions.Fraction(FPS)
    encoder.bit_rate = 300_000
    encoder.gop_size = gop
    encoder.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    packets: list[Any] = []
    for frame in source.decode(video=0):
        packets.extend(encoder.encode(frame.reformat(format="yuv420p")))
        if len(packets) >= frames:
            break
    return packets


class ClipTrack(MediaStreamTrack):
    """A publisher that ignores keyframe requests, as a replayed file or FFmpeg does:
    aiortc's sender packs these pre-encoded packets and cannot make a keyframe."""

    kind = "video"

    def __init__(self, packets: list[Any]) -> None:
        super().__init__()
        self._packets = packets
        self._index = 0
        self._started = time.monotonic()

    async def recv(self) -> Any:
        delay = self._started + self._index / FPS - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        source = self._packets[self._index % len(self._packets)]
        packet = av.Packet(bytes(source))
        packet.pts = self._index
        packet.time_base = fractions.Fraction(1, FPS)
        self._index += 1
        return packet


async def publish(engine: MediaEngine, peers: list[RTCPeerConnection], *tracks: Any) -> None:
    publisher = RTCPeerConnection(NO_ICE_SERVERS)
    peers.append(publisher)
    for track in tracks:
        publisher.addTransceiver(track, direction="sendonly")
    await publisher.setLocalDescription(await publisher.createOffer())
    _, answer = await engine.publish(StreamKey.panel("panel"), publisher.localDescription.sdp, NOW)
    await publisher.setRemoteDescription(RTCSessionDescription(answer, "answer"))


async def watch(
    engine: MediaEngine, peers: list[RTCPeerConnection], kinds: tuple[str, ...] = ("video",)
) -> tuple[RTCPeerConnection, dict[str, MediaStreamTrack]]:
    viewer = RTCPeerConnection(NO_ICE_SERVERS)
    peers.append(viewer)
    tracks: dict[str, MediaStreamTrack] = {}
    viewer.on("track", lambda track: tracks.__setitem__(track.kind, track))
    for kind in kinds:
        viewer.addTransceiver(kind, direction="recvonly")
    await viewer.setLocalDescription(await viewer.createOffer())
    _, answer = await engine.watch(StreamKey.panel("panel"), viewer.localDescription.sdp)
    await viewer.setRemoteDescription(RTCSessionDescription(answer, "answer"))
    assert set(tracks) == set(kinds)
    return viewer, tracks


async def test_viewers_receive_forwarded_audio_and_video(
    engine: MediaEngine, peers: list[RTCPeerConnection]
) -> None:
    decoders_before = aiortc_glue.decoders_made.copy()
    await publish(engine, peers, VideoStreamTrack(), AudioStreamTrack())
    watched = await asyncio.gather(*(watch(engine, peers, ("video", "audio")) for _ in range(3)))
    for _, tracks in watched:
        video = [await receive(tracks["video"]) for _ in range(20)]
        audio = [await receive(tracks["audio"]) for _ in range(20)]
        assert all(isinstance(p, av.Packet) for p in video + audio)
        assert video[0].is_keyframe
        assert [p.pts for p in video] == sorted(p.pts for p in video)
    publication = engine.live(StreamKey.panel("panel"))
    assert publication is not None
    for forwarder in publication.streams.values():
        assert len(forwarder.live) == 3
        assert forwarder.packets_out >= 3 * 20
    # Only the viewers made (passthrough) decoders; the server reassembled no frames (no
    # recorder reads them) and opened no encoder for any viewer.
    made = aiortc_glue.decoders_made - decoders_before
    assert made == {"audio/opus": 3, "video/VP8": 3}
    assert all(b.packets == 0 for b in publication.broadcasts.values())
    for viewer in engine.viewers.values():
        for sender in viewer.peer.getSenders():
            assert sender._RTCRtpSender__encoder is None  # type: ignore[attr-defined]


async def test_sender_reports_go_out_and_receiver_reports_come_back(
    engine: MediaEngine, peers: list[RTCPeerConnection]
) -> None:
    """The viewers' RTCP receiver reports reach their subscribers with loss and a round
    trip, which aiortc works out from the sender reports carrying the forwarded counts."""
    await publish(engine, peers, VideoStreamTrack(), AudioStreamTrack())
    viewer, tracks = await watch(engine, peers, ("video", "audio"))
    for _ in range(10):
        await receive(tracks["video"])
    subscriptions = next(iter(engine.viewers.values())).subscriptions
    deadline = time.monotonic() + 10
    while not all(
        s.subscriber.report is not None and s.subscriber.report.round_trip_time is not None
        for s in subscriptions
    ):
        assert time.monotonic() < deadline, "no receiver report with a round trip came back"
        await asyncio.sleep(0.1)
    for subscription in subscriptions:
        report = subscription.subscriber.report
        assert report is not None
        assert report.round_trip_time is not None
        assert 0 <= report.round_trip_time < 1
        assert report.fraction_lost == 0
        assert subscription.subscriber.packets > 0
    # the viewer's side saw the sender reports: aiortc files them as remote-outbound stats
    stats = await viewer.getStats()
    sent = [s for s in stats.values() if s.type == "remote-outbound-rtp"]
    assert {s.kind for s in sent} == {"audio", "video"}
    assert all(s.packetsSent > 0 for s in sent)


async def test_a_new_viewer_starts_from_the_keyframe_cache(
    engine: MediaEngine, peers: list[RTCPeerConnection]
) -> None:
    clip = await asyncio.to_thread(encode_clip, 300, 300)  # one keyframe in 10 s
    await publish(engine, peers, ClipTrack(clip))
    publication = engine.live(StreamKey.panel("panel"))
    assert publication is not None
    video = publication.streams["video"]
    deadline = time.monotonic() + 5
    while video.packets_in < 2 * FPS:  # two seconds past the only keyframe
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    started = time.monotonic()
    _, tracks = await watch(engine, peers)
    first = await receive(tracks["video"])
    waited = time.monotonic() - started
    assert first.is_keyframe
    assert waited < 1.0, f"the first frame took {waited:.2f} s"
    frames = [await receive(tracks["video"]) for _ in range(FPS)]
    steps = {b.pts - a.pts for a, b in zip([first, *frames], frames, strict=False)}
    assert steps == {90_000 // FPS}, "every frame since the keyframe arrived, in order"


async def test_a_lossy_viewer_recovers_packets_by_nack(
    engine: MediaEngine, peers: list[RTCPeerConnection]
) -> None:
    await publish(engine, peers, VideoStreamTrack())
    viewer, tracks = await watch(engine, peers)
    receiver = next(t.receiver for t in viewer.getTransceivers() if t.kind == "video")
    handle = receiver._handle_rtp_packet
    dropped: set[int] = set()
    video_payload_type = next(
        c.payloadType
        for t in viewer.getTransceivers()
        for c in t._codecs
        if c.mimeType == "video/VP8"
    )

    async def lossy(packet: Any, arrival_time_ms: int) -> None:
        sequence = packet.sequence_number
        # the first copy of every 7th packet is lost; its retransmission passes
        lost = packet.payload_type == video_payload_type and sequence % 7 == 3
        if lost and sequence not in dropped:
            dropped.add(sequence)
            return
        await handle(packet, arrival_time_ms=arrival_time_ms)

    receiver._handle_rtp_packet = lossy  # type: ignore[method-assign]
    frames = [await receive(tracks["video"]) for _ in range(60)]
    steps = {b.pts - a.pts for a, b in itertools.pairwise(frames)}
    assert all(2990 <= step <= 3010 for step in steps), f"frames lost for good: {steps}"
    publication = engine.live(StreamKey.panel("panel"))
    assert publication is not None
    subscriber = publication.streams["video"].live[0]
    assert len(dropped) >= 5
    assert subscriber.retransmitted >= len(dropped) - 2


def test_keyframe_detection() -> None:
    assert aiortc_glue.vp8_is_keyframe(b"\x10\x02\x00")
    assert not aiortc_glue.vp8_is_keyframe(b"\x11\x02\x00")
    assert aiortc_glue.h264_is_keyframe(b"\x00\x00\x00\x01\x67\x42\x00\x00\x00\x01\x65")
    assert not aiortc_glue.h264_is_keyframe(b"\x00\x00\x00\x01\x41\x9a")
    assert not aiortc_glue.vp8_is_keyframe(b"")
    # RTP level: VP8 descriptor S=1, PID=0, then a key frame tag; H.264 single NAL,
    # STAP-A holding an SPS, the first FU-A fragment of an IDR slice
    assert aiortc_glue.vp8_rtp_keyframe(b"\x10", b"\x10\x02\x00")
    assert not aiortc_glue.vp8_rtp_keyframe(b"\x00", b"\x10\x02\x00")
    assert not aiortc_glue.vp8_rtp_keyframe(b"\x10", b"\x11\x02\x00")
    assert aiortc_glue.h264_rtp_keyframe(b"\x65\x88")
    assert aiortc_glue.h264_rtp_keyframe(b"\x18\x00\x02\x67\x42\x00\x02\x68\xce")
    assert aiortc_glue.h264_rtp_keyframe(b"\x7c\x85\x00")
    assert not aiortc_glue.h264_rtp_keyframe(b"\x7c\x05\x00")
    assert not aiortc_glue.h264_rtp_keyframe(b"\x41\x9a")
    assert not aiortc_glue.h264_rtp_keyframe(b"")


async def test_keyframe_requests_inside_the_interval_are_deferred_not_dropped() -> None:
    sent: list[float] = []

    async def request() -> None:
        sent.append(time.monotonic())

    requests = KeyframeRequests(request, interval=0.3)
    requests.wanted()  # the first viewer's request goes out at once
    await asyncio.sleep(0)
    requests.wanted()  # inside the interval: deferred to its end
    requests.wanted()  # and merged with any other request meanwhile
    deadline = time.monotonic() + 5
    while len(sent) < 2:
        assert time.monotonic() < deadline, "the deferred request never went out"
        await asyncio.sleep(0.02)
    assert sent[1] - sent[0] >= 0.29
    await asyncio.sleep(0.4)
    assert len(sent) == 2
    requests.close()


async def test_viewers_held_through_a_publisher_drop_continue_in_step(
    engine: MediaEngine, peers: list[RTCPeerConnection]
) -> None:
    key = StreamKey.panel("panel")
    await publish(engine, peers, VideoStreamTrack())
    viewer, tracks = await watch(engine, peers)
    before = [await receive(tracks["video"]) for _ in range(10)]
    await peers[0].close()  # the publisher drops: no DELETE
    deadline = time.monotonic() + 10
    while engine.live(key) is not None:
        assert time.monotonic() < deadline, "the drop was never noticed"
        await asyncio.sleep(0.05)
    assert engine.state(key).state == "paused"
    assert engine.viewer_count(key) == 1, "the viewer is held, not dropped"
    dropped_at = time.monotonic()
    await asyncio.sleep(0.5)
    await publish(engine, peers, VideoStreamTrack())  # a new encoder, new sequence and clock
    after = [await receive(tracks["video"]) for _ in range(10)]
    gap = time.monotonic() - dropped_at
    # the viewer's jitter buffer lets go of the old stream's last frame, then the new
    # publisher's first keyframe follows
    resumed = next(i for i, p in enumerate(after) if p.is_keyframe)
    assert resumed <= 1
    frames = [*before, *after]
    jump = after[resumed].pts - frames[len(before) + resumed - 1].pts
    assert 0.4 * 90_000 < jump < gap * 90_000 + 9_000, "timestamps run on across the gap"
    assert [p.pts for p in frames] == sorted(p.pts for p in frames)
    inbound = [s for s in (await viewer.getStats()).values() if s.type == "inbound-rtp"]
    assert inbound[0].packetsLost <= 2, "sequence numbers run on with no gap"


async def test_packets_the_publisher_lost_are_recovered_upstream_and_forwarded(
    engine: MediaEngine, peers: list[RTCPeerConnection]
) -> None:
    """The server's receiver NACKs what the publisher's packets lost on the way in; the
    publisher's retransmission (RTX) is unwrapped and forwarded late, in its place."""
    await publish(engine, peers, VideoStreamTrack())
    publication = engine.live(StreamKey.panel("panel"))
    assert publication is not None and publication.peer is not None
    receiver = next(t.receiver for t in publication.peer.getTransceivers() if t.kind == "video")
    handle = receiver._handle_rtp_packet
    media_payload_types = {
        c.payloadType
        for t in publication.peer.getTransceivers()
        for c in t._codecs
        if c.mimeType == "video/VP8"
    }
    dropped: set[int] = set()

    async def lossy(packet: Any, arrival_time_ms: int) -> None:
        sequence = packet.sequence_number
        lost = packet.payload_type in media_payload_types and sequence % 9 == 4
        if lost and sequence not in dropped:
            dropped.add(sequence)
            return
        await handle(packet, arrival_time_ms=arrival_time_ms)

    receiver._handle_rtp_packet = lossy  # type: ignore[method-assign]
    _, tracks = await watch(engine, peers)
    frames = [await receive(tracks["video"]) for _ in range(60)]
    steps = {b.pts - a.pts for a, b in itertools.pairwise(frames)}
    assert all(2990 <= step <= 3010 for step in steps), f"frames lost for good: {steps}"
    assert len(dropped) >= 5
    # recovered and held (one lost before anything arrived cannot be detected as missing,
    # and the latest may still be on its way)
    history = publication.streams["video"].history
    assert sum(history.get(s) is not None for s in dropped) >= len(dropped) - 2


async def test_a_publishers_rtp_skips_the_receive_queue(
    engine: MediaEngine, peers: list[RTCPeerConnection]
) -> None:
    await publish(engine, peers, VideoStreamTrack(), AudioStreamTrack())
    publication = engine.live(StreamKey.panel("panel"))
    assert publication is not None and publication.peer is not None
    dtls: Any = publication.peer.getTransceivers()[0].receiver.transport
    forwarders = publication.streams.values()
    deadline = time.monotonic() + 5
    while sum(f.packets_in for f in forwarders) < 20:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    queued_before = dtls._RTCDtlsTransport__rx_packets
    forwarded_before = sum(f.packets_in for f in forwarders)
    await asyncio.sleep(1)
    queued = dtls._RTCDtlsTransport__rx_packets - queued_before
    forwarded = sum(f.packets_in for f in forwarders) - forwarded_before
    assert forwarded >= 60, "video and audio keep arriving"
    assert queued <= 10, "only RTCP, STUN and DTLS take aiortc's queue"


async def test_run_eagerly_finishes_a_handler_that_suspends() -> None:
    gate: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    done: list[int] = []

    async def handler() -> None:
        done.append(0)
        done.append(await gate)

    tasks: set[asyncio.Task[None]] = set()
    aiortc_glue.run_eagerly(handler(), tasks)
    assert done == [0], "ran at once, up to the await"
    assert len(tasks) == 1, "the rest is a task"
    gate.set_result(7)
    deadline = time.monotonic() + 2
    while len(done) < 2:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)
    assert done == [0, 7]
    assert not tasks
