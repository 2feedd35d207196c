"""Hostile RTP and RTCP from connected WebRTC peers, against the real media engine.

A real aiortc publisher connects over WHIP to session ``panel`` and a real WHEP viewer watches
it (audio and video, over loopback, SRTP keyed by DTLS as for anyone). Then hostile
datagrams go out through the peers' own transports:

- **srtp**: protected by the peer's own SRTP context (``RTCDtlsTransport._send_rtp``), so they
  authenticate and reach the server's parsers, its receive tap and the forwarder;
- **raw**: sent as they are on the peer's ICE connection, for header-level garbage libsrtp
  refuses to protect (the server must drop it: it does not authenticate);
- **stranger**: sent from a socket of its own to the server's media port, as anyone on the
  network can (aioice hands the DTLS transport datagrams from any address).

Three entries, each a run of hypothesis examples; **one example is a batch of datagrams**
sent together, and **one input is one datagram**:

- ``media: publisher RTP``: RTP from the publisher built for what was negotiated (VP8 and
  Opus payload types, the SSRCs, the mid / abs-send-time / audio-level header extensions),
  then varied and mutated: RTX, unknown payload types and SSRCs, VP8 payload descriptors with
  and without extensions, keyframes and not, marker bits, sequence numbers that repeat, jump
  and wrap, timestamps that jump, CSRC lists, padding that lies, one- and two-byte header
  extension blocks with wrong lengths and un-negotiated ids (transport-cc), bytes changed
  past the fixed header, truncations; raw datagrams of every first byte and length.
- ``media: publisher RTCP`` and ``media: viewer RTCP``: compound RTCP (SR, RR, SDES, BYE,
  APP, generic NACK, transport-cc, PLI, FIR, REMB, XR) for the SSRCs in play (a viewer's NACKs
  name sequence numbers the server still holds), then made to lie: length fields, counts,
  padding bits, REMB SSRC counts, truncations, zero lengths, versions, concatenations.

After each example: no error logged in the process (any record at ``ERROR`` or above, and
aiortc's traceback warning when a DTLS transport's reading task dies), both of the server's
connections still up, the recording still getting frames (and not failed), ``/healthz``
answering 200 within :data:`HANG_AFTER` seconds. At the end of a run: valid frames from the
publisher still reach the viewer, ``/metrics`` answers, the store is as it was, and the
viewer and the publication end (``DELETE``) within :data:`HANG_AFTER` seconds each. A failure
is counted, not raised, and the run goes on with a fresh publisher and viewer.

Answers, per datagram, read from the server's counters: for RTP ``forwarded`` (its forwarder
took it), ``duplicate`` (the forwarder had it already), ``dropped: authentic, not forwarded``
(an unknown payload type, unparseable, a replay, …), ``not authentic (raw)`` and ``not
authentic (stranger)``; for RTCP ``parsed`` or ``refused by the parser`` (it reached the
server's RTCP handler after SRTCP), ``not authentic`` (it did not). ``effects`` count what
the inputs made the server do: datagrams its glue dropped as malformed, restarts of the
publisher's numbering, retransmissions sent and refused, keyframe requests upstream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import pylibsrtp
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtp import RtcpPacket
from hypothesis import strategies as st

from server.keys import MEDIA, RECORDER
from server.media import aiortc_glue
from server.media.engine import MediaEngine, Publication, Viewer
from server.media.stream_key import StreamKey
from sessions.roles import Role
from tests.fuzz.harness import (
    HANG_AFTER,
    FuzzEntry,
    FuzzServer,
    Tally,
    identity_headers,
    run_examples,
)
from tests.integration.test_media_relay import NO_ICE_SERVERS

PANEL = StreamKey.panel("panel")
SDP = {"Content-Type": "application/sdp"}
SPEAKER = identity_headers("speaker", ("panel", Role.SPEAKER))

MID, ABS_SEND_TIME, AUDIO_LEVEL = (
    "urn:ietf:params:rtp-hdrext:sdes:mid",
    "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
    "urn:ietf:params:rtp-hdrext:ssrc-audio-level",
)
TRANSPORT_CC_ID = 5
"""An id nobody negotiated, carrying what transport-wide-cc would."""
SRTP_LIMIT = 1500 - 144
"""The longest RTP packet pylibsrtp protects (its buffer less libsrtp's largest trailer)."""
SETTLE_TURNS = 6
"""Loop turns after a batch for the server to read it all (loopback delivers at once)."""
FRAME_WAIT = 5.0
FILING_WAIT = 30.0
"""Seconds the recording of a run's publication may take to be filed once it ended."""


@dataclass
class MediaTally(Tally):
    """A :class:`Tally` whose inputs are datagrams, with the examples (batches) and the
    checks made after each."""

    examples: int = 0
    checks: Counter[str] = field(default_factory=Counter)
    """``healthz 200``, ``connections up``, the end-of-run checks, reconnections."""
    effects: Counter[str] = field(default_factory=Counter)
    """What the inputs made the server do, beyond answering them."""

    def merge(self, other: Tally) -> None:
        super().merge(other)
        if isinstance(other, MediaTally):
            self.examples += other.examples
            self.checks.update(other.checks)
            self.effects.update(other.effects)


def count(tally: Tally, answer: str, times: int = 1) -> None:
    """``times`` inputs answered ``answer`` (no HTTP status here: a datagram has none)."""
    if times > 0:
        tally.inputs += times
        tally.answers[answer] += times


# -- the peers ------------------------------------------------------------------------------


class QuietTrack(MediaStreamTrack):
    """A publisher's track that never yields a frame: aiortc's sender sends no media of its
    own, every RTP packet is the fuzzer's. Counts the keyframe requests that reach it."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self.keyframe_requests = 0
        self._never: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def recv(self) -> Any:
        await self._never
        raise MediaStreamError

    def request_keyframe(self) -> None:
        self.keyframe_requests += 1


@dataclass(frozen=True)
class Negotiated:
    """What the publisher's transceiver for one kind settled on."""

    kind: str
    payload_type: int
    rtx_payload_type: int | None
    ssrc: int
    rtx_ssrc: int | None
    mid: str
    extensions: dict[str, int]

    @classmethod
    def of(cls, transceiver: Any) -> Negotiated:
        codec = transceiver._codecs[0]
        rtx = next(
            (
                c.payloadType
                for c in transceiver._codecs
                if c.mimeType.lower().endswith("/rtx")
                and c.parameters.get("apt") == codec.payloadType
            ),
            None,
        )
        ids = {e.uri: e.id for e in transceiver._headerExtensions}
        return cls(
            kind=transceiver.kind,
            payload_type=codec.payloadType,
            rtx_payload_type=rtx,
            ssrc=transceiver.sender._ssrc,
            rtx_ssrc=transceiver.sender._rtx_ssrc if rtx is not None else None,
            mid=transceiver.mid or "",
            extensions=ids,
        )


@dataclass(frozen=True)
class Datagram:
    data: bytes
    via: str = "srtp"
    """``srtp`` (the peer's own context), ``raw`` (its ICE connection, unprotected) or
    ``stranger`` (another socket, to the server's media port)."""
    what: str = ""


@dataclass(frozen=True)
class Context:
    """What the strategies build for: the negotiated values and where the streams are now."""

    tracks: dict[str, Negotiated]
    sequence: dict[str, int]
    timestamp: dict[str, int]
    server_ssrcs: tuple[int, ...]
    """The SSRCs the server sends the viewer (media and RTX)."""
    server_rtcp_ssrcs: tuple[int, ...]
    """The SSRCs the server's receivers use in the RTCP they send the publisher."""
    viewer_video_sequence: int
    """The last video sequence number the server sent the viewer."""


class ServerLog(logging.Handler):
    """Failures logged while a run goes on: any record at ``ERROR`` or above (an exception
    in a callback or a task, ``log.exception`` in the media engine), and aiortc's warning
    with the traceback when a DTLS transport's reading task dies."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.failures: list[str] = []
        self.warnings = 0

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # a record that cannot even format itself is a failure too
            message = repr(record.msg)
        if record.exc_info and record.exc_info[1] is not None:
            message += f" ({type(record.exc_info[1]).__name__}: {record.exc_info[1]})"
        traceback = record.name.startswith("aiortc") and "Traceback" in message
        if record.levelno >= logging.ERROR or traceback:
            self.failures.append(f"{record.name}: {message[-1500:]}")
        else:
            self.warnings += 1

    def take(self) -> list[str]:
        taken, self.failures = self.failures, []
        return taken

    def __enter__(self) -> ServerLog:
        logging.getLogger().addHandler(self)
        return self

    def __exit__(self, *_: object) -> None:
        logging.getLogger().removeHandler(self)


class MediaSession:
    """A publisher and a viewer connected to the server, and the fuzzer's hands on them."""

    def __init__(self, server: FuzzServer) -> None:
        self.server = server
        self.engine: MediaEngine = server.app[MEDIA]
        self.publisher = RTCPeerConnection(NO_ICE_SERVERS)
        self.viewer = RTCPeerConnection(NO_ICE_SERVERS)
        self.tracks: dict[str, QuietTrack] = {}
        self.negotiated: dict[str, Negotiated] = {}
        self.sequence = {"video": 1000, "audio": 5000}
        self.timestamp = {"video": 90_000, "audio": 48_000}
        self.picture_id = 0
        self.frames: Counter[str] = Counter()
        self._drains: list[asyncio.Task[None]] = []
        self.publication: Publication | None = None
        self.watching: Viewer | None = None
        self.whip = ""
        self.whep = ""
        self.rtcp_seen: Counter[str] = Counter()
        """What the server's RTCP handler made of the datagrams this fuzzer sent."""
        self._expected_rtcp: set[bytes] = set()
        self._stranger: dict[int, socket.socket] = {}

    # -- set up and tear down -------------------------------------------------------------

    @classmethod
    async def open(cls, server: FuzzServer) -> MediaSession:
        session = cls(server)
        try:
            await session._publish()
            await session._watch()
            await session.valid_frames(3)
            if not await session.frames_arrive(lambda: session.send_valid_frames(3)):
                raise RuntimeError("the viewer got no frame from a freshly connected publisher")
        except BaseException:
            await session.close()
            raise
        return session

    async def _publish(self) -> None:
        for kind in ("video", "audio"):
            self.tracks[kind] = QuietTrack(kind)
            self.publisher.addTransceiver(self.tracks[kind], direction="sendonly")
        await self.publisher.setLocalDescription(await self.publisher.createOffer())
        async with self.server.http.post(
            "/whip/panel", data=self.publisher.localDescription.sdp, headers={**SDP, **SPEAKER}
        ) as response:
            answer = await response.text()
            if response.status != 201:
                raise RuntimeError(f"WHIP answered {response.status}: {answer[:300]}")
            self.whip = response.headers["Location"]
        await self.publisher.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        for transceiver in self.publisher.getTransceivers():
            self.negotiated[transceiver.kind] = Negotiated.of(transceiver)
        await self._until(lambda: self._publication_up() and self.publisher_up(), "publishing")
        self.publication = self.engine.live(PANEL)
        assert self.publication is not None
        assert self.publication.peer is not None
        self._watch_rtcp(_dtls_of(self.publication.peer))

    async def _watch(self) -> None:
        for kind in ("video", "audio"):
            self.viewer.addTransceiver(kind, direction="recvonly")
        self.viewer.on("track", self._drain)
        await self.viewer.setLocalDescription(await self.viewer.createOffer())
        async with self.server.http.post(
            "/whep/panel", data=self.viewer.localDescription.sdp, headers=SDP
        ) as response:
            answer = await response.text()
            if response.status != 201:
                raise RuntimeError(f"WHEP answered {response.status}: {answer[:300]}")
            self.whep = response.headers["Location"]
        await self.viewer.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        resource = self.whep.rsplit("/", 1)[-1]
        await self._until(
            lambda: (
                (viewer := self.engine.viewers.get(resource)) is not None
                and viewer.started
                and viewer.peer.connectionState == "connected"
                and self.viewer.connectionState == "connected"
            ),
            "watching",
        )
        self.watching = self.engine.viewers[resource]
        self._watch_rtcp(_dtls_of(self.watching.peer))

    def _drain(self, track: MediaStreamTrack) -> None:
        async def drain() -> None:
            with contextlib.suppress(MediaStreamError):
                while True:
                    await track.recv()
                    self.frames[track.kind] += 1

        self._drains.append(asyncio.get_running_loop().create_task(drain()))

    async def _until(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + 10
        while not condition():
            if time.monotonic() > deadline:
                raise RuntimeError(f"not {what} after 10 s")
            await asyncio.sleep(0.01)

    async def end(self, tally: MediaTally) -> None:
        """End the viewer and the publication as their clients would (``DELETE``), each
        within :data:`HANG_AFTER` seconds, then close the peers."""
        for location, headers in ((self.whep, {}), (self.whip, SPEAKER)):
            if not location:
                continue
            started = time.monotonic()
            try:
                async with asyncio.timeout(HANG_AFTER):
                    async with self.server.http.delete(location, headers=headers) as response:
                        await response.read()
                        tally.checks[f"DELETE {location.split('/')[1]} {response.status}"] += 1
                        if response.status >= 500:
                            tally.server_errors.append(f"DELETE {location} → {response.status}")
            except TimeoutError:
                tally.hangs.append(
                    f"DELETE {location}: no answer in {time.monotonic() - started:.1f} s"
                )
        await self.close()

    async def close(self) -> None:
        for task in self._drains:
            task.cancel()
        for peer in (self.viewer, self.publisher):
            with contextlib.suppress(Exception):
                async with asyncio.timeout(HANG_AFTER):
                    await peer.close()
        for sock in self._stranger.values():
            sock.close()
        self._stranger.clear()

    # -- state -----------------------------------------------------------------------------

    def _publication_up(self) -> bool:
        publication = self.engine.live(PANEL)
        return (
            publication is not None
            and publication.peer is not None
            and publication.peer.connectionState == "connected"
        )

    def publisher_up(self) -> bool:
        return self.publisher.connectionState == "connected"

    def server_side_down(self) -> list[str]:
        """What the server no longer holds of this session's two connections."""
        down = []
        if self.publication is not None:
            if self.engine.live(PANEL) is not self.publication:
                down.append("the publication ended")
            elif (
                peer := self.publication.peer
            ) is not None and peer.connectionState != "connected":
                down.append(f"the publisher's connection is {peer.connectionState}")
        if self.watching is not None:
            if self.engine.viewers.get(self.watching.resource) is not self.watching:
                down.append("the viewer was dropped")
            elif self.watching.peer.connectionState != "connected":
                down.append(f"the viewer's connection is {self.watching.peer.connectionState}")
        return down

    def frames_ended(self) -> list[str]:
        """The kinds whose frames (the recording's path) ended while the publication goes on."""
        if self.publication is None or self.engine.live(PANEL) is not self.publication:
            return []
        return [
            kind
            for kind, broadcast in self.publication.broadcasts.items()
            if broadcast._pump is not None and broadcast._pump.done()  # started, and ended
        ]

    def client_side_down(self) -> list[str]:
        return [
            f"the {name} client's connection is {peer.connectionState}"
            for name, peer in (("publisher", self.publisher), ("viewer", self.viewer))
            if peer.connectionState != "connected"
        ]

    def context(self) -> Context:
        server_ssrcs: list[int] = []
        video_sequence = 0
        if self.watching is not None:
            for subscription in self.watching.subscriptions:
                sender = subscription.transceiver.sender
                server_ssrcs.append(sender._ssrc)
                if sender._rtx_ssrc is not None:
                    server_ssrcs.append(sender._rtx_ssrc)
                if subscription.subscriber.kind == "video":
                    video_sequence = subscription.subscriber.last_sequence
        rtcp_ssrcs: list[int] = []
        if self.publication is not None and self.publication.peer is not None:
            for transceiver in self.publication.peer.getTransceivers():
                ssrc = getattr(transceiver.receiver, "_RTCRtpReceiver__rtcp_ssrc", None)
                if isinstance(ssrc, int):
                    rtcp_ssrcs.append(ssrc)
        return Context(
            tracks=dict(self.negotiated),
            sequence=dict(self.sequence),
            timestamp=dict(self.timestamp),
            server_ssrcs=tuple(server_ssrcs),
            server_rtcp_ssrcs=tuple(rtcp_ssrcs),
            viewer_video_sequence=video_sequence,
        )

    def forwarded(self) -> tuple[int, int]:
        """(packets the forwarders took, duplicates they dropped), over both tracks."""
        if self.publication is None:
            return 0, 0
        streams = self.publication.streams.values()
        return sum(s.packets_in for s in streams), sum(s.duplicates for s in streams)

    def retransmitted(self) -> int:
        if self.publication is None:
            return 0
        return sum(s.retransmitted for s in self.publication.streams.values())

    def keyframe_requests(self) -> int:
        return sum(track.keyframe_requests for track in self.tracks.values())

    # -- sending -----------------------------------------------------------------------------

    def _watch_rtcp(self, dtls: Any) -> None:
        """Note what the server's RTCP handler makes of the fuzzer's datagrams (it parses
        them as the server does, then hands them on unchanged)."""
        handle = dtls._handle_rtcp_data

        async def watched(data: bytes) -> None:
            if data in self._expected_rtcp:
                try:
                    RtcpPacket.parse(data)
                except ValueError:
                    self.rtcp_seen["refused by the parser"] += 1
                except Exception as error:  # noted here; the server's own handling decides
                    self.rtcp_seen[f"parser raised {type(error).__name__}"] += 1
                else:
                    self.rtcp_seen["parsed"] += 1
            await handle(data)

        dtls._handle_rtcp_data = watched

    def expect_nothing(self) -> None:
        self._expected_rtcp.clear()

    async def send(self, peer: RTCPeerConnection, datagram: Datagram) -> str:
        """Send one datagram as ``datagram.via`` says; returns how it went out (``raw`` when
        libsrtp would not protect it)."""
        dtls = _dtls_of(peer)
        if datagram.via == "srtp":
            try:
                await dtls._send_rtp(datagram.data)
                if _looks_like_rtcp(datagram.data):
                    self._expected_rtcp.add(datagram.data)
                return "srtp"
            except (pylibsrtp.Error, ValueError, ConnectionError):
                pass  # a header libsrtp refuses, or too long: it goes out raw
        if datagram.via == "stranger":
            self._send_as_stranger(peer, datagram.data)
            return "stranger"
        with contextlib.suppress(ConnectionError):
            await dtls.transport._send(datagram.data)
        return "raw"

    def _send_as_stranger(self, peer: RTCPeerConnection, data: bytes) -> None:
        server_peer = self._server_peer_of(peer)
        if server_peer is None:
            return
        pair = _dtls_of(server_peer).transport._connection._nominated.get(1)
        if pair is None or pair.protocol.transport is None:
            return
        address = pair.protocol.transport.get_extra_info("sockname")
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        sock = self._stranger.get(family)
        if sock is None:
            sock = self._stranger[family] = socket.socket(family, socket.SOCK_DGRAM)
            sock.setblocking(False)
        with contextlib.suppress(OSError):
            sock.sendto(data, address)

    def _server_peer_of(self, peer: RTCPeerConnection) -> RTCPeerConnection | None:
        if peer is self.publisher and self.publication is not None:
            return self.publication.peer
        if peer is self.viewer and self.watching is not None:
            return self.watching.peer
        return None

    async def settle(self) -> None:
        for _ in range(SETTLE_TURNS):
            await asyncio.sleep(0)

    # -- valid media ---------------------------------------------------------------------------

    async def valid_frames(self, frames: int, *, jump: int = 0) -> None:
        """Send ``frames`` VP8 frames (a keyframe first) and as many Opus packets, as a
        browser would: negotiated payload types, SSRCs and header extensions. Their
        sequence numbers jump on while the publisher's own SRTP refuses them as too old
        (hostile packets on the video SSRC may have taken its index anywhere)."""
        for _ in range(8):
            datagrams = self.valid_packets(frames, jump=jump)
            if await self.send(self.publisher, datagrams[0]) == "srtp":
                break
            jump = 0x2000
        for datagram in datagrams[1:]:
            await self.send(self.publisher, datagram)
        await self.settle()

    async def send_valid_frames(self, frames: int) -> None:
        await self.valid_frames(frames, jump=1000)

    def valid_packets(self, frames: int, *, jump: int = 0) -> list[Datagram]:
        video, audio = self.negotiated["video"], self.negotiated["audio"]
        self.sequence["video"] = (self.sequence["video"] + jump) & 0xFFFF
        packets = []
        for index in range(frames):
            self.timestamp["video"] = (self.timestamp["video"] + 3000) & 0xFFFFFFFF
            self.picture_id = (self.picture_id + 1) & 0x7FFF
            frame = vp8_frame(keyframe=index == 0, size=2200 if index == 0 else 700)
            chunks = [frame[i : i + 1000] for i in range(0, len(frame), 1000)]
            for number, chunk in enumerate(chunks):
                descriptor = bytes([0x90 if number == 0 else 0x80, 0x80]) + (
                    0x8000 | self.picture_id
                ).to_bytes(2, "big")
                packets.append(
                    Datagram(
                        rtp(
                            video.payload_type,
                            self._next("video", 0),
                            self.timestamp["video"],
                            video.ssrc,
                            descriptor + chunk,
                            marker=number == len(chunks) - 1,
                            extension=one_byte_block(_browser_extensions(video)),
                        ),
                        what="valid video",
                    )
                )
            packets.append(
                Datagram(
                    rtp(
                        audio.payload_type,
                        self._next("audio", 960),
                        self.timestamp["audio"],
                        audio.ssrc,
                        bytes([0x78]) + bytes(60),
                        extension=one_byte_block(_browser_extensions(audio)),
                    ),
                    what="valid audio",
                )
            )
        return packets

    def _next(self, kind: str, ticks: int) -> int:
        self.sequence[kind] = (self.sequence[kind] + 1) & 0xFFFF
        self.timestamp[kind] = (self.timestamp[kind] + ticks) & 0xFFFFFFFF
        return self.sequence[kind]

    async def frames_arrive(self, send: Callable[[], Coroutine[Any, Any, None]]) -> bool:
        """Whether the viewer gets a new video frame after ``send`` (tried three times: its
        jitter buffer may still sit on sequence numbers the fuzzer jumped to)."""
        for _ in range(3):
            before = self.frames["video"]
            await send()
            deadline = time.monotonic() + FRAME_WAIT / 3
            while time.monotonic() < deadline:
                if self.frames["video"] > before:
                    return True
                await asyncio.sleep(0.02)
        return False


def _dtls_of(peer: RTCPeerConnection) -> Any:
    return peer.getTransceivers()[0].sender.transport


def _looks_like_rtcp(data: bytes) -> bool:
    return len(data) >= 2 and 192 <= data[1] <= 208


def _browser_extensions(track: Negotiated) -> list[tuple[int, bytes]]:
    elements = []
    if MID in track.extensions:
        elements.append((track.extensions[MID], track.mid.encode()))
    if ABS_SEND_TIME in track.extensions:
        elements.append((track.extensions[ABS_SEND_TIME], b"\x12\x34\x56"))
    if AUDIO_LEVEL in track.extensions:
        elements.append((track.extensions[AUDIO_LEVEL], b"\x1e"))
    return elements


# -- RTP bytes ------------------------------------------------------------------------------


def rtp(
    payload_type: int,
    sequence: int,
    timestamp: int,
    ssrc: int,
    payload: bytes,
    *,
    marker: bool = False,
    csrcs: tuple[int, ...] = (),
    extension: bytes | None = None,
    padding: tuple[int, int] | None = None,
) -> bytes:
    """An RTP packet; ``extension``: the whole block (profile, length, elements);
    ``padding``: (bytes appended, the count written in the last one)."""
    first = 0x80 | len(csrcs) & 0x0F
    if extension is not None:
        first |= 0x10
    if padding is not None:
        first |= 0x20
    header = struct.pack(
        "!BBHII",
        first,
        (0x80 if marker else 0) | payload_type & 0x7F,
        sequence & 0xFFFF,
        timestamp & 0xFFFFFFFF,
        ssrc & 0xFFFFFFFF,
    )
    body = b"".join(c.to_bytes(4, "big") for c in csrcs) + (extension or b"") + payload
    if padding is not None:
        size, written = padding
        body += bytes(max(size - 1, 0)) + bytes([written & 0xFF]) if size else b""
    return header + body


def one_byte_block(elements: list[tuple[int, bytes]], *, words_lie: int = 0) -> bytes:
    """An RFC 8285 one-byte-header block (ids 1–14, values of 1–16 bytes; anything goes)."""
    body = b"".join(bytes([(i & 0xF) << 4 | (len(v) - 1) & 0xF]) + v for i, v in elements)
    body += bytes(-len(body) % 4)
    words = max(0, min(0xFFFF, len(body) // 4 + words_lie))
    return b"\xbe\xde" + words.to_bytes(2, "big") + body


def filler(size: int, seed: int = 0) -> bytes:
    return bytes((index * 37 + seed) & 0xFF for index in range(size))


def vp8_frame(*, keyframe: bool, size: int) -> bytes:
    """A VP8 frame's first bytes as an encoder writes them (frame tag; on a keyframe the
    start code and a 64×48 size), then filler."""
    tag = (0 if keyframe else 1) | 1 << 4 | 100 << 5
    head = tag.to_bytes(3, "little")
    if keyframe:
        head += b"\x9d\x01\x2a" + (64).to_bytes(2, "little") + (48).to_bytes(2, "little")
    return head + filler(size - len(head), 7)


# -- RTP strategies -------------------------------------------------------------------------

Draw = Callable[[st.SearchStrategy[Any]], Any]

SEQUENCE_STEPS = st.one_of(
    *[st.just(1)] * 8,
    st.integers(0, 3),
    st.integers(-70, 70),
    st.sampled_from([0x7FFF, 0x8000, 0x8001, 0xFFFF, 1000, 30_000]),
    st.integers(0, 0xFFFF),
)
TIMESTAMP_STEPS = st.one_of(
    st.just(0),
    st.just(3000),
    st.just(960),
    st.sampled_from([1, 90_000 * 60, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF]),
    st.integers(0, 0xFFFFFFFF),
)
SIZES = st.one_of(
    st.integers(0, 40), st.integers(0, 1200), st.integers(1290, 1420), st.integers(1480, 4000)
)


def vp8_payload(draw: Draw) -> bytes:
    """A VP8 payload descriptor (RFC 7741: X, N, S, partition id incl. reserved values; I
    with 7- or 15-bit picture ids, L, T, K), a frame tag (keyframe or not, the start code
    right or wrong, any size) where a partition starts, then filler."""
    start = draw(st.booleans())
    partition = draw(st.sampled_from([0, 0, 0, 1, 7, 8, 15]))
    extended = draw(st.booleans())
    first = (0x80 if extended else 0) | (0x10 if start else 0) | partition
    first |= draw(st.sampled_from([0, 0, 0x20, 0x40]))  # N, or the reserved bit
    out = bytearray([first])
    if extended:
        flags = draw(st.integers(0, 0xFF))
        out.append(flags)
        if flags & 0x80:
            if draw(st.booleans()):
                out += (0x8000 | draw(st.integers(0, 0x7FFF))).to_bytes(2, "big")
            else:
                out.append(draw(st.integers(0, 0x7F)))
        if flags & 0x40:
            out.append(draw(st.integers(0, 0xFF)))
        if flags & 0x30:
            out.append(draw(st.integers(0, 0xFF)))
    if start and partition == 0 and draw(st.integers(0, 3)) > 0:
        keyframe = draw(st.booleans())
        tag = (
            (0 if keyframe else 1)
            | draw(st.integers(0, 7)) << 1
            | draw(st.integers(0, 1)) << 4
            | draw(st.integers(0, (1 << 19) - 1)) << 5
        )
        out += tag.to_bytes(3, "little")
        if keyframe:
            out += draw(st.sampled_from([b"\x9d\x01\x2a", b"\x9d\x01\x2a", b"\x00\x00\x00"]))
            out += draw(st.integers(0, 0xFFFF)).to_bytes(2, "little")
            out += draw(st.integers(0, 0xFFFF)).to_bytes(2, "little")
    if draw(st.integers(0, 9)) == 0:
        return bytes(out[: draw(st.integers(0, len(out)))])  # cut inside the descriptor
    tail: bytes = draw(st.binary(max_size=24))
    return bytes(out) + tail + filler(draw(SIZES) % 1300)


def extension_value(draw: Draw, track: Negotiated, element_id: int) -> bytes:
    ids = track.extensions
    if element_id == ids.get(MID):
        return bytes(
            draw(
                st.sampled_from(
                    [track.mid.encode(), b"9", b"\xff\xfe", b"\xc3", bytes(16), b"x" * 16]
                )
            )
        )
    if element_id in (ids.get(ABS_SEND_TIME), ids.get(AUDIO_LEVEL), TRANSPORT_CC_ID):
        right = {ids.get(ABS_SEND_TIME): 3, ids.get(AUDIO_LEVEL): 1, TRANSPORT_CC_ID: 2}
        size = draw(st.sampled_from([right[element_id]] * 3 + [1, 2, 3, 4, 16]))
        return bytes(draw(st.binary(min_size=size, max_size=size)))
    return bytes(draw(st.binary(min_size=1, max_size=16)))


def extension_block(draw: Draw, track: Negotiated) -> bytes:
    """A header extension block: one-byte (RFC 8285) with negotiated and other ids, values of
    right and wrong lengths, padding, the reserved id 15, a length that lies; two-byte with
    any lengths; an unknown profile."""
    kind = draw(st.sampled_from(["one-byte", "one-byte", "one-byte", "two-byte", "other"]))
    if kind == "one-byte":
        ids = [*track.extensions.values(), TRANSPORT_CC_ID, 15, 14]
        elements = [
            (element_id, extension_value(draw, track, element_id))
            for element_id in draw(
                st.lists(st.one_of(st.sampled_from(ids), st.integers(1, 15)), max_size=5)
            )
        ]
        words_lie = draw(st.sampled_from([0] * 10 + [1, -1, 3, 0x4000]))
        return one_byte_block(elements, words_lie=words_lie)
    if kind == "two-byte":
        body = b"".join(
            bytes([i, len(v)]) + v
            for i, v in draw(
                st.lists(
                    st.tuples(st.integers(0, 255), st.binary(max_size=20)),
                    max_size=4,
                )
            )
        )
        body += bytes(-len(body) % 4)
        profile: int = 0x1000 | draw(st.integers(0, 15))
        return profile.to_bytes(2, "big") + (len(body) // 4).to_bytes(2, "big") + bytes(body)
    words: int = draw(st.integers(0, 6))
    return bytes(
        draw(st.integers(0, 0xFFFF)).to_bytes(2, "big")
        + draw(st.sampled_from([words, words, words + 1, 0xFFFF])).to_bytes(2, "big")
        + filler(words * 4, 3)
    )


def hostile_rtp(draw: Draw, context: Context, sequence: dict[str, int]) -> Datagram:
    """One RTP packet from the publisher: valid for what was negotiated most of the time,
    then varied field by field and mutated past the fixed header."""
    kind = draw(st.sampled_from(["video", "video", "audio"]))
    track = context.tracks[kind]
    other = context.tracks["audio" if kind == "video" else "video"]
    payload_type = draw(
        st.sampled_from(
            [track.payload_type] * 6
            + [track.rtx_payload_type or track.payload_type, other.payload_type, 0, 13, 72, 127]
        )
        | st.integers(0, 127)
    )
    ssrc = draw(
        st.sampled_from([track.ssrc] * 6 + [track.rtx_ssrc or track.ssrc, other.ssrc, 0])
        | st.integers(0, 0xFFFFFFFF)
    )
    step = draw(SEQUENCE_STEPS) & 0xFFFF
    number = (sequence[kind] + step) & 0xFFFF
    if step < 0x8000:
        sequence[kind] = number  # on from here; a step back is one late packet
    if ssrc not in (track.ssrc, track.rtx_ssrc, other.ssrc):
        number = draw(st.just(number) | st.integers(0, 0xFFFF))  # its own numbering
    timestamp = (context.timestamp[kind] + draw(TIMESTAMP_STEPS)) & 0xFFFFFFFF
    if payload_type == track.rtx_payload_type and kind == "video":
        original = (number - draw(st.integers(-5, 300))) & 0xFFFF
        payload = draw(
            st.sampled_from([b"", b"\x01"]) | st.just(original.to_bytes(2, "big"))
        ) + vp8_payload(draw)
    elif kind == "video":
        payload = vp8_payload(draw)
    else:
        payload = bytes([draw(st.integers(0, 255))]) + draw(st.binary(max_size=80))
    extension = draw(st.sampled_from(["none", "browser", "browser", "hostile", "hostile"]))
    block = {
        "none": None,
        "browser": one_byte_block(_browser_extensions(track)),
        "hostile": extension_block(draw, track) if extension == "hostile" else None,
    }[extension]
    padding = draw(
        st.none()
        | st.none()
        | st.integers(1, 255).map(lambda n: (n, n))
        | st.tuples(st.integers(0, 40), st.integers(0, 255))
    )
    data = rtp(
        payload_type,
        number,
        timestamp,
        ssrc,
        payload,
        marker=draw(st.booleans()),
        csrcs=tuple(draw(st.lists(st.integers(0, 0xFFFFFFFF), max_size=15)))
        if draw(st.integers(0, 5)) == 0
        else (),
        extension=block,
        padding=padding,
    )
    data = mutate(draw, data, keep=12)
    what = f"{kind} pt={payload_type} ssrc={ssrc:#x} seq={number}"
    return Datagram(data, via=draw(st.sampled_from(["srtp"] * 12 + ["raw"])), what=what)


def mutate(draw: Draw, data: bytes, *, keep: int) -> bytes:
    """Most of the time nothing; else bytes changed, cut off or appended past ``keep``."""
    how = draw(st.sampled_from(["none"] * 6 + ["edit", "cut", "append", "edits"]))
    if how == "none":
        return data
    out = bytearray(data)
    if how in ("edit", "edits") and len(out) > keep:
        for _ in range(1 if how == "edit" else draw(st.integers(2, 8))):
            position = keep + draw(st.integers(0, len(out) - keep - 1))
            out[position] = draw(st.integers(0, 255))
    elif how == "cut":
        out = out[: keep + draw(st.integers(0, max(len(out) - keep, 0)))]
    elif how == "append":
        out += draw(st.binary(min_size=1, max_size=64))
    return bytes(out)


def raw_datagram(draw: Draw) -> Datagram:
    """Header-level garbage: a first byte of each kind the server tells apart (RTP, RTCP,
    DTLS, STUN, anything), any length (past 1500 too), from the peer or a stranger."""
    kind = draw(st.sampled_from(["rtp", "rtcp", "dtls", "stun", "any"]))
    size = draw(SIZES)
    if kind == "rtp":
        head = bytes([draw(st.integers(128, 191)), draw(st.integers(0, 255))])
    elif kind == "rtcp":
        head = bytes([draw(st.integers(128, 191)), draw(st.integers(192, 208))])
    elif kind == "dtls":
        head = bytes([draw(st.integers(20, 63)), 0xFE, 0xFD])
    elif kind == "stun":
        head = (
            draw(st.sampled_from([0x0001, 0x0101, 0x0111, 0x0011])).to_bytes(2, "big")
            + draw(st.integers(0, 0xFFFF)).to_bytes(2, "big")
            + b"\x21\x12\xa4\x42"
            + draw(st.binary(min_size=12, max_size=12))
            + draw(st.binary(max_size=40))
        )
    else:
        head = draw(st.binary(max_size=4))
    data = (head + filler(size, draw(st.integers(0, 255))))[: max(size, len(head))]
    if draw(st.booleans()):
        data = data[:size]
    return Datagram(data, via=draw(st.sampled_from(["raw", "raw", "stranger"])), what=kind)


@st.composite
def rtp_batches(draw: Draw, context: Context) -> tuple[list[Datagram], dict[str, int]]:
    """1–20 datagrams from the publisher, and where its sequence numbers got to."""
    sequence = dict(context.sequence)
    batch = [
        hostile_rtp(draw, context, sequence) if draw(st.integers(0, 7)) else raw_datagram(draw)
        for _ in range(draw(st.integers(1, 20)))
    ]
    return batch, sequence


# -- RTCP strategies ------------------------------------------------------------------------

RTCP_SR, RTCP_RR, RTCP_SDES, RTCP_BYE, RTCP_APP, RTCP_RTPFB, RTCP_PSFB, RTCP_XR = range(200, 208)


def rtcp_packet(
    draw: Draw, packet_type: int, count: int, body: bytes, *, lie: bool = True
) -> bytes:
    """One RTCP packet around ``body``; when ``lie``, sometimes a length, count, padding
    bit or version that is not so."""
    padding = 0
    if lie and draw(st.integers(0, 11)) == 0:
        padding = draw(st.integers(0, 8))
        body += bytes(max(padding - 1, 0)) + bytes([draw(st.integers(0, 255))]) if padding else b""
    words = len(body) // 4
    version = 2
    if lie and draw(st.integers(0, 7)) == 0:
        how = draw(st.sampled_from(["length", "count", "version", "length", "zero"]))
        if how == "length":
            words = max(0, min(0xFFFF, words + draw(st.sampled_from([-2, -1, 1, 2, 1000]))))
        elif how == "count":
            count = draw(st.sampled_from([31, count + 1, max(count - 1, 0)]))
        elif how == "version":
            version = draw(st.sampled_from([0, 1, 3]))
        else:
            words, body = 0, b""
    first = version << 6 | (0x20 if padding else 0) | count & 0x1F
    return bytes([first, packet_type]) + words.to_bytes(2, "big") + body


def report_block(draw: Draw, ssrcs: tuple[int, ...]) -> bytes:
    return struct.pack(
        "!IB3sIIII",
        draw(st.sampled_from(ssrcs) | st.integers(0, 0xFFFFFFFF)) if ssrcs else 0,
        draw(st.integers(0, 255)),
        draw(
            st.sampled_from([0, 1, 0x7FFFFF, 0x800000, 0xFFFFFF]) | st.integers(0, 0xFFFFFF)
        ).to_bytes(3, "big"),
        draw(st.integers(0, 0xFFFFFFFF)),
        draw(st.sampled_from([0, 0xFFFFFFFF]) | st.integers(0, 0xFFFFFFFF)),
        draw(st.integers(0, 0xFFFFFFFF)),
        draw(st.sampled_from([0, 1, 0xFFFFFFFF]) | st.integers(0, 0xFFFFFFFF)),
    )


def ssrc_of(draw: Draw, ssrcs: tuple[int, ...]) -> int:
    return int(draw(st.sampled_from(ssrcs) | st.integers(0, 0xFFFFFFFF)) if ssrcs else 0)


def one_rtcp(
    draw: Draw, context: Context, ours: tuple[int, ...], theirs: tuple[int, ...], recent: int
) -> bytes:
    """One RTCP packet of any type the server may see: ``ours`` are the sender's SSRCs,
    ``theirs`` the SSRCs its feedback and reports are about, ``recent`` a sequence number
    the server sent lately (NACK targets)."""
    kind = draw(
        st.sampled_from(
            [
                *("sr", "rr", "rr", "sdes", "bye", "app", "nack", "nack", "tcc", "pli"),
                *("fir", "remb", "remb", "xr", "unknown"),
            ]
        )
    )
    sender = ssrc_of(draw, ours)
    if kind in ("sr", "rr"):
        blocks = [report_block(draw, theirs) for _ in range(draw(st.integers(0, 4)))]
        info = b""
        if kind == "sr":
            info = struct.pack(
                "!QIII",
                draw(st.sampled_from([0, (1 << 64) - 1]) | st.integers(0, (1 << 64) - 1)),
                draw(st.integers(0, 0xFFFFFFFF)),
                draw(st.integers(0, 0xFFFFFFFF)),
                draw(st.integers(0, 0xFFFFFFFF)),
            )
        body = sender.to_bytes(4, "big") + info + b"".join(blocks)
        return rtcp_packet(draw, RTCP_SR if kind == "sr" else RTCP_RR, len(blocks), body)
    if kind == "sdes":
        chunks = b""
        count = draw(st.integers(0, 3))
        for _ in range(count):
            items = b"".join(
                bytes([item, len(value)]) + value
                for item, value in draw(
                    st.lists(st.tuples(st.integers(0, 9), st.binary(max_size=40)), max_size=3)
                )
            )
            chunk = ssrc_of(draw, ours).to_bytes(4, "big") + items + b"\x00"
            chunks += chunk + bytes(-len(chunk) % 4)
        return rtcp_packet(draw, RTCP_SDES, count, chunks)
    if kind == "bye":
        sources = [ssrc_of(draw, ours) for _ in range(draw(st.integers(0, 4)))]
        body = b"".join(s.to_bytes(4, "big") for s in sources)
        if draw(st.booleans()):
            reason = draw(st.binary(max_size=30))
            body += bytes([draw(st.sampled_from([len(reason), 255]))]) + reason
            body += bytes(-len(body) % 4)
        return rtcp_packet(draw, RTCP_BYE, len(sources), body)
    if kind == "app":
        body = sender.to_bytes(4, "big") + draw(st.binary(min_size=4, max_size=4))
        body += filler(4 * draw(st.integers(0, 8)))
        return rtcp_packet(draw, RTCP_APP, draw(st.integers(0, 31)), body)
    media = ssrc_of(draw, theirs)
    head = sender.to_bytes(4, "big") + media.to_bytes(4, "big")
    if kind == "nack":
        fcis = b""
        for _ in range(draw(st.sampled_from([1, 1, 2, 5, 40, 300]))):
            pid = (recent - draw(st.integers(-5, 1100))) & 0xFFFF
            blp = draw(st.sampled_from([0, 0xFFFF]) | st.integers(0, 0xFFFF))
            fcis += struct.pack("!HH", pid, blp)
        return rtcp_packet(draw, RTCP_RTPFB, 1, head + fcis)
    if kind == "tcc":
        status_count = draw(st.integers(0, 0xFFFF))
        body = head + struct.pack(
            "!HHI",
            draw(st.integers(0, 0xFFFF)),
            status_count,
            draw(st.integers(0, 0xFFFFFFFF)),
        )
        body += draw(st.binary(max_size=40))
        body += bytes(-len(body) % 4)
        return rtcp_packet(draw, RTCP_RTPFB, 15, body)
    if kind == "pli":
        return rtcp_packet(draw, RTCP_PSFB, 1, head)
    if kind == "fir":
        entries = b"".join(
            struct.pack("!IB3x", ssrc_of(draw, theirs), draw(st.integers(0, 255)))
            for _ in range(draw(st.integers(0, 3)))
        )
        return rtcp_packet(draw, RTCP_PSFB, 4, head + entries)
    if kind == "remb":
        listed = [ssrc_of(draw, theirs) for _ in range(draw(st.integers(0, 3)))]
        said = draw(st.sampled_from([len(listed)] * 3 + [len(listed) + 1, 255]))
        mantissa = draw(st.integers(0, (1 << 18) - 1))
        fci = (
            b"REMB"
            + bytes([said, draw(st.integers(0, 63)) << 2 | mantissa >> 16])
            + (mantissa & 0xFFFF).to_bytes(2, "big")
            + b"".join(s.to_bytes(4, "big") for s in listed)
        )
        media = draw(st.sampled_from([0, media]))
        return rtcp_packet(
            draw, RTCP_PSFB, 15, sender.to_bytes(4, "big") + media.to_bytes(4, "big") + fci
        )
    if kind == "xr":
        xr_blocks = b""
        for _ in range(draw(st.integers(0, 3))):
            block_type = draw(st.sampled_from([4, 5, 5, 1, 0, 255]))
            if block_type == 4:
                content = draw(st.binary(min_size=8, max_size=8))
            elif block_type == 5:
                content = b"".join(
                    struct.pack("!III", ssrc_of(draw, theirs), draw(st.integers(0, 0xFFFFFFFF)), 1)
                    for _ in range(draw(st.integers(0, 3)))
                )
            else:
                content = filler(4 * draw(st.integers(0, 4)))
            words = draw(st.sampled_from([len(content) // 4] * 3 + [0xFFFF]))
            xr_blocks += bytes([block_type, 0]) + words.to_bytes(2, "big") + content
        return rtcp_packet(draw, RTCP_XR, 0, sender.to_bytes(4, "big") + xr_blocks)
    packet_type = draw(st.sampled_from([192, 193, 195, 199, 208]))
    return rtcp_packet(draw, packet_type, draw(st.integers(0, 31)), head + filler(8))


def compound(
    draw: Draw, context: Context, ours: tuple[int, ...], theirs: tuple[int, ...], recent: int
) -> Datagram:
    """A compound RTCP datagram (a report first, as RFC 3550 asks, most of the time), then
    perhaps truncated, extended or edited past its first 8 bytes, or sent raw."""
    if draw(st.integers(0, 11)) == 0:
        return raw_datagram(draw)
    packets = [
        one_rtcp(draw, context, ours, theirs, recent) for _ in range(draw(st.integers(1, 5)))
    ]
    data = b"".join(packets)
    if draw(st.integers(0, 7)) == 0:
        data += data  # a concatenation of itself
    data = mutate(draw, data, keep=8)
    if len(data) < 8:
        data += bytes(8 - len(data))  # SRTCP needs a header and SSRC to protect it
    return Datagram(data, via=draw(st.sampled_from(["srtp"] * 15 + ["raw"])), what="rtcp")


@st.composite
def publisher_rtcp_batches(draw: Draw, context: Context) -> list[Datagram]:
    ours = tuple(s for t in context.tracks.values() for s in (t.ssrc, t.rtx_ssrc) if s is not None)
    theirs = context.server_rtcp_ssrcs + ours
    return [
        compound(draw, context, ours, theirs, context.sequence["video"])
        for _ in range(draw(st.integers(1, 8)))
    ]


@st.composite
def viewer_rtcp_batches(draw: Draw, context: Context, ours: tuple[int, ...]) -> list[Datagram]:
    return [
        compound(draw, context, ours, context.server_ssrcs, context.viewer_video_sequence)
        for _ in range(draw(st.integers(1, 8)))
    ]


# -- the runs -------------------------------------------------------------------------------

Prepare = Callable[[MediaSession], Coroutine[Any, Any, None]]
Fuzz = Callable[[FuzzServer, int, int], MediaTally]
Answer = Callable[[MediaTally, dict[str, int]], None]


async def nothing_to_prepare(session: MediaSession) -> None:
    return None


class Run:
    """One entry's run: a session (reopened when a failure ends it), the tally, the log."""

    def __init__(self, server: FuzzServer, entry: str, log: ServerLog, prepare: Prepare) -> None:
        self.server = server
        self.tally = MediaTally(entry)
        self.log = log
        self.prepare = prepare
        self.session: MediaSession | None = None
        self.fingerprint = ""
        self.recording_broken = False
        self.frames_ended = False

    async def start(self) -> None:
        self.session = await MediaSession.open(self.server)
        await self.prepare(self.session)
        await self._take_fingerprint()
        self._note_log("while connecting")

    async def _take_fingerprint(self) -> None:
        """The store as packets must leave it, taken once the recording of the new
        publication is filed as started (its first keyframe opened the file): going live
        and ending change the store, packets never do."""
        recorder = self.server.app[RECORDER]
        for _ in range(int(HANG_AFTER / 0.02)):
            await recorder.idle()
            active = recorder.active.get(PANEL.session)
            if active is not None and active.filed is not None:
                await active.filed
                break
            await asyncio.sleep(0.02)
        else:
            self.tally.checks["no recording started"] += 1
        self.fingerprint = await self.server.fingerprint()

    def recording_failed(self) -> str | None:
        active = self.server.app[RECORDER].active.get(PANEL.session)
        if active is not None and active.recorder.state.status == "failed":
            return active.recorder.state.error or "failed"
        return None

    def _note_log(self, sample: object) -> None:
        for failure in self.log.take():
            self.tally.server_errors.append(f"{failure} — after {sample!s:.800}")

    async def example(
        self,
        peer_of: Callable[[MediaSession], RTCPeerConnection],
        batch: list[Datagram],
        answer: Answer,
    ) -> None:
        """Send one batch, count what became of it, and check the server is well."""
        session = self.session
        assert session is not None
        started = time.monotonic()
        session.expect_nothing()
        before = _Counts.of(session)
        sent: Counter[str] = Counter()
        for datagram in batch:
            sent[await session.send(peer_of(session), datagram)] += 1
        await session.settle()
        healthy = await self._healthz(batch)
        elapsed = time.monotonic() - started
        self.tally.examples += 1
        self.tally.slowest = max(self.tally.slowest, elapsed)
        if elapsed > HANG_AFTER and healthy:
            self.tally.hangs.append(f"a batch took {elapsed:.1f} s: {_sample(batch)}")
        answer(self.tally, before.delta(session, sent))
        self._note_log(_sample(batch))
        failed = self.recording_failed()
        if failed is not None and not self.recording_broken:
            self.recording_broken = True
            self.tally.store_changes.append(f"the recording failed ({failed}): {_sample(batch)}")
        ended = session.frames_ended()
        if ended and not self.frames_ended:
            self.frames_ended = True
            self.tally.server_errors.append(
                f"the recording's {' and '.join(ended)} frames ended: {_sample(batch)}"
            )
        down = session.server_side_down()
        if down:
            self.tally.server_errors.append(f"{'; '.join(down)} — after {_sample(batch)}")
        if down or session.client_side_down():
            await self._reconnect()
        else:
            self.tally.checks["connections up"] += 1

    async def _reconnect(self) -> None:
        """A failure ended the session: a fresh one, so the run goes on counting."""
        self.tally.checks["reconnected"] += 1
        if self.session is not None:
            await self.session.close()
            self.session = None
        await self._until_offline()
        self.recording_broken = self.frames_ended = False
        await self.start()

    async def _until_offline(self) -> None:
        engine = self.server.app[MEDIA]
        for _ in range(int(HANG_AFTER / 0.02)):
            if engine.live(PANEL) is None:
                break
            await asyncio.sleep(0.02)
        publication = engine.live(PANEL)
        if publication is not None:
            self.tally.hangs.append("the publication outlived its closed connection by 5 s")
            await engine.unpublish(publication)
        pause = engine.paused(PANEL)
        if pause is not None:  # a dropped publisher pauses the session: end it for the next
            await engine.end_pause(PANEL, pause.resource)

    async def _healthz(self, sample: list[Datagram]) -> bool:
        started = time.monotonic()
        try:
            async with asyncio.timeout(HANG_AFTER):
                async with self.server.http.get("/healthz") as response:
                    await response.read()
                    status = response.status
        except TimeoutError:
            self.tally.hangs.append(f"/healthz: no answer in {HANG_AFTER} s: {_sample(sample)}")
            self.tally.checks["healthz: no answer"] += 1
            return False
        self.tally.checks[f"healthz {status}"] += 1
        if status != 200:
            self.tally.server_errors.append(f"/healthz → {status} after {_sample(sample)}")
        self.tally.slowest = max(self.tally.slowest, time.monotonic() - started)
        return True

    async def finish(self) -> None:
        """Valid frames still reach the viewer, the store is unchanged, and both end."""
        session = self.session
        if session is None:
            return
        if not session.server_side_down():
            if await session.frames_arrive(lambda: session.send_valid_frames(3)):
                self.tally.checks["valid frames reach the viewer"] += 1
            else:
                self.tally.server_errors.append(
                    "valid frames from the publisher no longer reach the viewer"
                )
        try:
            async with asyncio.timeout(HANG_AFTER), self.server.http.get("/metrics") as response:
                await response.read()
                self.tally.checks[f"metrics {response.status}"] += 1
                if response.status != 200:
                    self.tally.server_errors.append(f"/metrics → {response.status} after a run")
        except TimeoutError:
            self.tally.hangs.append(f"/metrics: no answer in {HANG_AFTER} s after a run")
        if await self.server.fingerprint() != self.fingerprint:
            self.tally.store_changes.append("the store changed during a run of packets")
        self.session = None
        await session.end(self.tally)
        await self._until_offline()
        try:  # the recording is filed (probe, poster) before the server may stop
            async with asyncio.timeout(FILING_WAIT):
                await self.server.app[RECORDER].idle()
        except TimeoutError:
            self.tally.hangs.append(f"the recording was not filed {FILING_WAIT} s after the end")
        self._note_log("while ending")


@dataclass(frozen=True)
class _Counts:
    """The server's counters an example's answers are read from."""

    forwarded: int
    duplicates: int
    malformed: int
    restarts: int
    rtcp: Counter[str]
    retransmitted: int
    resends_refused: int
    keyframe_requests: int

    @classmethod
    def of(cls, session: MediaSession) -> _Counts:
        forwarded, duplicates = session.forwarded()
        streams = session.publication.streams.values() if session.publication else ()
        subscribers = session.watching.subscriptions if session.watching else ()
        return cls(
            forwarded,
            duplicates,
            sum(aiortc_glue.dropped_datagrams.values()),
            sum(s.restarts for s in streams),
            Counter(session.rtcp_seen),
            session.retransmitted(),
            sum(s.subscriber.resends_refused for s in subscribers),
            session.keyframe_requests(),
        )

    def delta(self, session: MediaSession, sent: Counter[str]) -> dict[str, int]:
        now = _Counts.of(session)
        delta = {
            "forwarded": now.forwarded - self.forwarded,
            "duplicate": now.duplicates - self.duplicates,
            "datagrams dropped as malformed": now.malformed - self.malformed,
            "numbering restarts": now.restarts - self.restarts,
            "packets retransmitted": now.retransmitted - self.retransmitted,
            "retransmissions refused (too soon, or past the budget)": (
                now.resends_refused - self.resends_refused
            ),
            "keyframe requests to the publisher": now.keyframe_requests - self.keyframe_requests,
        }
        for answer, times in (now.rtcp - self.rtcp).items():
            delta[f"rtcp {answer}"] = times
        for via, times in sent.items():
            delta[f"sent {via}"] = times
        return delta


EFFECTS = (
    "datagrams dropped as malformed",
    "numbering restarts",
    "packets retransmitted",
    "retransmissions refused (too soon, or past the budget)",
    "keyframe requests to the publisher",
)


def _sample(batch: list[Datagram]) -> str:
    return repr([(d.via, d.what, d.data[:40].hex()) for d in batch])[:800]


def count_rtp(tally: MediaTally, delta: dict[str, int]) -> None:
    """An RTP datagram the forwarder took, had already, or that authenticated and went
    nowhere (an unknown payload type, unparseable, …), or that did not authenticate."""
    srtp = delta.get("sent srtp", 0)
    forwarded = min(delta["forwarded"], srtp)
    duplicate = min(delta["duplicate"], srtp - forwarded)
    count(tally, "forwarded", forwarded)
    count(tally, "duplicate", duplicate)
    count(tally, "dropped: authentic, not forwarded", srtp - forwarded - duplicate)
    count(tally, "not authentic (raw)", delta.get("sent raw", 0))
    count(tally, "not authentic (stranger)", delta.get("sent stranger", 0))
    count_effects(tally, delta)


def count_rtcp(tally: MediaTally, delta: dict[str, int]) -> None:
    """An RTCP datagram the server's handler parsed or refused, or that did not
    authenticate."""
    reached = 0
    for key, times in delta.items():
        if key.startswith("rtcp "):
            count(tally, key.removeprefix("rtcp "), times)
            reached += times
    count(tally, "not authentic", delta.get("sent srtp", 0) - reached + delta.get("sent raw", 0))
    count(tally, "not authentic (stranger)", delta.get("sent stranger", 0))
    count_effects(tally, delta)


def count_effects(tally: MediaTally, delta: dict[str, int]) -> None:
    for effect in EFFECTS:
        if delta.get(effect, 0) > 0:
            tally.effects[effect] += delta[effect]


def fuzz_media(
    server: FuzzServer,
    examples: int,
    seed: int,
    *,
    entry: str,
    peer_of: Callable[[MediaSession], RTCPeerConnection],
    batches: Callable[[MediaSession], st.SearchStrategy[list[Datagram]]],
    answer: Answer,
    prepare: Prepare = nothing_to_prepare,
) -> MediaTally:
    """``examples`` batches from ``batches`` sent from ``peer_of`` a session, reproducibly
    from ``seed``; failures are counted in the tally, not raised."""
    with ServerLog() as log:
        run = Run(server, entry, log, prepare)
        try:
            server.run(run.start())

            def check(data: st.DataObject) -> None:
                assert run.session is not None
                batch = data.draw(batches(run.session), label="batch")
                server.run(run.example(peer_of, batch, answer))

            run_examples(st.data(), check, examples=examples, seed_value=seed, shrink=False)
            server.run(run.finish())
        finally:
            if run.session is not None:
                server.run(run.session.close())
        run.tally.checks["warnings logged (not failures)"] += log.warnings
        return run.tally


def fuzz_publisher_rtp(server: FuzzServer, examples: int, seed: int) -> MediaTally:
    """``examples`` batches of RTP (and raw datagrams) from a connected publisher."""

    def batches(session: MediaSession) -> st.SearchStrategy[list[Datagram]]:
        def advance(drawn: tuple[list[Datagram], dict[str, int]]) -> list[Datagram]:
            batch, sequence = drawn
            session.sequence.update(sequence)
            return batch

        return rtp_batches(session.context()).map(advance)

    return fuzz_media(
        server,
        examples,
        seed,
        entry="media: publisher RTP",
        peer_of=lambda session: session.publisher,
        batches=batches,
        answer=count_rtp,
    )


def fuzz_publisher_rtcp(server: FuzzServer, examples: int, seed: int) -> MediaTally:
    """``examples`` batches of compound RTCP from a connected publisher."""
    return fuzz_media(
        server,
        examples,
        seed,
        entry="media: publisher RTCP",
        peer_of=lambda session: session.publisher,
        batches=lambda session: publisher_rtcp_batches(session.context()),
        answer=count_rtcp,
    )


async def fill_history(session: MediaSession) -> None:
    """Valid video until the forwarder holds about 300 packets, for NACKs to name."""
    for _ in range(10):
        for datagram in session.valid_packets(30):
            await session.send(session.publisher, datagram)
        await session.settle()


def fuzz_viewer_rtcp(server: FuzzServer, examples: int, seed: int) -> MediaTally:
    """``examples`` batches of compound RTCP (NACK, PLI, FIR, REMB, reports…) from a
    connected WHEP viewer, whose NACKs name packets the server holds."""

    def batches(session: MediaSession) -> st.SearchStrategy[list[Datagram]]:
        ours = tuple(
            getattr(t.receiver, "_RTCRtpReceiver__rtcp_ssrc", 0) or 0
            for t in session.viewer.getTransceivers()
        )
        return viewer_rtcp_batches(session.context(), ours)

    return fuzz_media(
        server,
        examples,
        seed,
        entry="media: viewer RTCP",
        peer_of=lambda session: session.viewer,
        batches=batches,
        answer=count_rtcp,
        prepare=fill_history,
    )


def by_inputs(fuzz: Fuzz, per_example: float) -> Fuzz:
    """``fuzz`` fed about ``inputs`` datagrams: as many batches as take that many on
    average (what ``FuzzEntry.fuzz`` promises ``bench/fuzz.py``)."""

    def run(server: FuzzServer, inputs: int, seed: int) -> MediaTally:
        return fuzz(server, max(1, round(inputs / per_example)), seed)

    return run


ENTRIES: tuple[FuzzEntry, ...] = (
    FuzzEntry("media: publisher RTP", by_inputs(fuzz_publisher_rtp, 11.0)),
    FuzzEntry("media: publisher RTCP", by_inputs(fuzz_publisher_rtcp, 4.5)),
    FuzzEntry("media: viewer RTCP", by_inputs(fuzz_viewer_rtcp, 4.2)),
)
"""For ``bench/fuzz.py``: given a number of inputs (datagrams), each runs as many examples
(batches) as send about that many; ``fuzz_*`` themselves take a number of examples."""
