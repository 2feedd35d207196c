"""Everything that touches aiortc's internals, in one place. aiortc is pinned to 1.16.0.

Stock aiortc decodes what it receives and encodes what it sends, per peer, with a task, a
queue and a chain of awaits per packet per viewer. A forwarding server needs none of it:
aiortc keeps signalling, ICE, DTLS, upstream NACKs and receiver reports, and this module
connects its peers to :mod:`server.media.rtp_forwarding`:

- **in:** :func:`tap_receiver` hands every packet a publisher's receiver accepts (after SRTP
  unprotect, RTX unwrapping and its NACK bookkeeping) to a callback, and lets the packet on
  into aiortc's jitter buffer only while someone wants frames (the recorder);
- **frames:** a receiver's decoder becomes :class:`EncodedPassthrough`, which turns each
  reassembled frame into an ``av.Packet`` instead of decoding it;
- **out:** a viewer's sender gets an :class:`IdleTrack` (its RTP task waits forever and never
  opens an encoder) and :func:`sink_for` makes the per-packet send: SRTP protect with the
  viewer's context and ``sendto`` on its selected candidate pair;
- **feedback:** :func:`install` routes a viewer's NACKs, keyframe requests (PLI / FIR) and
  receiver reports to its :class:`~server.media.rtp_forwarding.Subscriber`;
  :func:`report_from_engine` stops aiortc's RTCP task per sender and
  :func:`send_sender_report` sends the forwarded counts as SR + SDES through the sink;
- **hostile input:** a datagram aiortc cannot take is dropped (:data:`MALFORMED`) instead of
  ending the connection, a publisher's receiver learns at most :data:`MAX_LEARNED_SSRCS`
  unannounced SSRCs, and a publisher's RTCP BYE does not end its frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import functools
import importlib.metadata
import logging
import random
import socket
import struct
import time
import weakref
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import aiortc
import av
from aiortc import RTCRtpReceiver, RTCRtpSender, clock
from aiortc import rtcrtpreceiver as _receiver_module
from aiortc.codecs.h264 import H264Encoder
from aiortc.codecs.vpx import Vp8Encoder
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RTCP_RTPFB_NACK,
    RtcpByePacket,
    RtcpPsfbPacket,
    RtcpRrPacket,
    RtcpRtpfbPacket,
    RtcpSrPacket,
    RtpPacket,
    unpack_remb_fci,
)
from pylibsrtp import Session
from pylibsrtp._binding import ffi as _srtp_ffi
from pylibsrtp._binding import lib as _srtp_lib

from server.media import offer_check
from server.media._fanout import UdpSink
from server.media.rtp_forwarding import (
    Batch,
    ExtensionIds,
    ExtensionProfile,
    ReceiverReport,
    Sink,
    SourcePacket,
    StreamForwarder,
    Subscriber,
    SubscriberParameters,
)

log = logging.getLogger("plenaria.media")

PINNED_AIORTC = "1.16.0"
PINNED_PYLIBSRTP = "1.0.0"
VIDEO_CLOCK = fractions.Fraction(1, 90_000)
AUDIO_CLOCK = fractions.Fraction(1, 48_000)
H264_KEY_NAL_TYPES = frozenset({5, 7})
"""IDR slice and sequence parameter set."""


def vp8_is_keyframe(frame: bytes) -> bool:
    """RFC 6386 9.1: bit 0 of the frame tag is 0 on a key frame."""
    return bool(frame) and frame[0] & 0x01 == 0


def h264_is_keyframe(annex_b: bytes) -> bool:
    """True when the access unit holds an IDR slice or an SPS (Annex B start codes)."""
    index = annex_b.find(b"\x00\x00\x01")
    while index >= 0 and index + 3 < len(annex_b):
        if annex_b[index + 3] & 0x1F in H264_KEY_NAL_TYPES:
            return True
        index = annex_b.find(b"\x00\x00\x01", index + 3)
    return False


class EncodedPassthrough:
    """Stands in for aiortc's decoder: hands on encoded frames as ``av.Packet``."""

    def __init__(self, mime_type: str) -> None:
        self.mime_type = mime_type.lower()
        self.is_video = self.mime_type.startswith("video/")
        self.time_base = VIDEO_CLOCK if self.is_video else AUDIO_CLOCK

    def decode(self, encoded_frame: Any) -> list[av.Packet[Any]]:
        data: bytes = encoded_frame.data
        packet: av.Packet[Any] = av.Packet(data)
        packet.pts = encoded_frame.timestamp
        packet.dts = encoded_frame.timestamp
        packet.time_base = self.time_base
        if self.mime_type == "video/vp8":
            packet.is_keyframe = vp8_is_keyframe(data)
        elif self.mime_type == "video/h264":
            packet.is_keyframe = h264_is_keyframe(data)
        else:
            packet.is_keyframe = True
        return [packet]


decoders_made: Counter[str] = Counter()
"""Passthrough decoders made so far, by MIME type (tests assert nothing else was made)."""


def _passthrough_decoder(codec: Any) -> EncodedPassthrough:
    decoders_made[codec.mimeType] += 1
    return EncodedPassthrough(codec.mimeType)


@functools.cache
def install() -> None:
    """Make every aiortc peer in this process forward instead of decode / encode. Once per
    process (later calls do nothing); senders and receivers not wired to a forwarder behave
    as stock aiortc."""
    found = (aiortc.__version__, importlib.metadata.version("pylibsrtp"))
    if found != (PINNED_AIORTC, PINNED_PYLIBSRTP):
        raise RuntimeError(
            f"Plenaria's media engine is built for aiortc {PINNED_AIORTC} and pylibsrtp "
            f"{PINNED_PYLIBSRTP}, found {found[0]} and {found[1]}"
        )
    _receiver_module.get_decoder = _passthrough_decoder  # type: ignore[attr-defined, assignment]
    send_keyframe: Callable[[RTCRtpSender], None] = RTCRtpSender._send_keyframe

    def keyframe_requested(sender: RTCRtpSender) -> None:
        send_keyframe(sender)
        request = getattr(sender.track, "request_keyframe", None)
        if request is not None:
            request()

    retransmit: Callable[..., Any] = RTCRtpSender._retransmit

    async def nacked(sender: RTCRtpSender, sequence_number: int) -> None:
        wired: _Wired | None = getattr(sender, WIRED, None)
        if wired is None:
            await retransmit(sender, sequence_number)
        else:
            wired.forwarder.nacked(wired.subscriber, [sequence_number])

    handle_rtcp: Callable[..., Any] = RTCRtpSender._handle_rtcp_packet

    async def rtcp_received(sender: RTCRtpSender, packet: Any) -> None:
        wired: _Wired | None = getattr(sender, WIRED, None)
        if (
            wired is not None
            and isinstance(packet, RtcpRtpfbPacket)
            and packet.fmt == RTCP_RTPFB_NACK
        ):
            # the whole list in one call, not aiortc's await per sequence number: one NACK
            # of 1,200 bytes names up to 5,000 (see ``StreamForwarder.nacked``)
            wired.forwarder.nacked(wired.subscriber, packet.lost)
            return
        await handle_rtcp(sender, packet)
        if wired is not None and isinstance(packet, RtcpRrPacket | RtcpSrPacket):
            for report in packet.reports:
                if report.ssrc == sender._ssrc:
                    wired.subscriber.report = ReceiverReport(
                        fraction_lost=report.fraction_lost / 256,
                        packets_lost=report.packets_lost,
                        jitter=report.jitter,
                        round_trip_time=getattr(sender, "_RTCRtpSender__rtt", None),
                    )

    RTCRtpSender._send_keyframe = keyframe_requested  # type: ignore[method-assign, assignment]
    RTCRtpSender._retransmit = nacked  # type: ignore[method-assign, assignment]
    RTCRtpSender._handle_rtcp_packet = rtcp_received  # type: ignore[method-assign, assignment]
    recv_next: Callable[[Any], Coroutine[Any, Any, None]] = aiortc.RTCDtlsTransport._recv_next

    async def recv_next_or_drop(transport: Any) -> None:
        try:
            await recv_next(transport)
        except MALFORMED as error:
            dropped_datagrams[type(error).__name__] += 1
            log.debug("dropped a datagram aiortc could not take", exc_info=True)

    aiortc.RTCDtlsTransport._recv_next = recv_next_or_drop  # type: ignore[method-assign, assignment]


MALFORMED = (ValueError, struct.error, IndexError)
"""What aiortc's receive path raises on a datagram it cannot take, besides the SRTP errors
it catches itself: pylibsrtp's ``ValueError`` for a datagram longer than its 1,500-byte
buffer and ``IndexError`` for an empty one (both from anyone who can reach the port: aioice
passes on datagrams from any address), ``struct.error`` for a header extension value of the
wrong length (abs-send-time, audio level) or a REMB that lists fewer SSRCs than it says,
``UnicodeDecodeError`` for a mid that is not UTF-8. Uncaught, any of these ends the DTLS
transport's reading task, and with it the peer's connection: one datagram would end a
publication or a viewing."""
dropped_datagrams: Counter[str] = Counter()
"""Datagrams dropped for :data:`MALFORMED`, by exception, for ``/metrics``
(``plenaria_media_datagrams_dropped_total``). Process-wide, as :func:`install`'s patches
of aiortc's classes are."""


# -- in: a publisher's packets ------------------------------------------------------------


AUDIO_LEVEL_FRESH = 1.0
"""Seconds after which a publisher's last audio level counts as silence (it stopped sending)."""
SILENCE_DBOV = 127


def audio_level(forwarder: StreamForwarder) -> int:
    """The publisher's latest audio level in -dBov (0 loudest, 127 silent), per RFC 6464."""
    seen = forwarder.last_audio_level
    if seen is None or time.monotonic() - seen[0] > AUDIO_LEVEL_FRESH:
        return SILENCE_DBOV
    return seen[1]


def vp8_rtp_keyframe(payload: bytes, data: bytes) -> bool:
    """The packet starts a VP8 key frame: S bit and partition 0 in the payload descriptor
    (RFC 7741), then a frame tag whose P bit is 0; ``data`` is the payload past the
    descriptor."""
    return bool(payload) and payload[0] & 0x17 == 0x10 and vp8_is_keyframe(data)


def h264_rtp_keyframe(payload: bytes) -> bool:
    """The packet carries an IDR slice or an SPS (RFC 6184: single NAL unit, STAP-A, or the
    first fragment of an FU-A)."""
    if not payload:
        return False
    nal_type = payload[0] & 0x1F
    if nal_type == 24:
        index = 1
        while index + 2 < len(payload):
            size = int.from_bytes(payload[index : index + 2], "big")
            if payload[index + 2] & 0x1F in H264_KEY_NAL_TYPES:
                return True
            index += 2 + size
        return False
    if nal_type == 28:
        return (
            len(payload) > 1 and payload[1] & 0x80 != 0 and payload[1] & 0x1F in H264_KEY_NAL_TYPES
        )
    return nal_type in H264_KEY_NAL_TYPES


def source_packet(packet: Any, mime_type: str) -> SourcePacket:
    """A packet as aiortc's receiver parsed it (``_data`` is the depacketised payload)."""
    payload: bytes = packet.payload
    if mime_type == "video/vp8":
        keyframe = vp8_rtp_keyframe(payload, getattr(packet, "_data", b""))
    elif mime_type == "video/h264":
        keyframe = h264_rtp_keyframe(payload)
    else:
        keyframe = True
    level = packet.extensions.audio_level
    return SourcePacket(
        packet.sequence_number,
        packet.timestamp,
        bool(packet.marker),
        payload,
        keyframe=keyframe,
        audio_level=None if level is None else (0x80 if level[0] else 0) | level[1],
    )


class _ForwardingJitterBuffer:
    """Stands in for a receiver's jitter buffer: every packet goes to the forwarder, and on
    into the real jitter buffer (so to frames) only while frames are wanted."""

    def __init__(
        self,
        inner: Any,
        forwarder: StreamForwarder,
        mime_type: str,
        frames_wanted: Callable[[], bool],
    ) -> None:
        self._inner = inner
        self._forwarder = forwarder
        self._mime_type = mime_type
        self._frames_wanted = frames_wanted

    def add(self, packet: Any) -> tuple[bool, Any]:
        forwarded = source_packet(packet, self._mime_type)
        if forwarded.audio_level is not None:
            self._forwarder.last_audio_level = (time.monotonic(), forwarded.audio_level & 0x7F)
        self._forwarder.push(forwarded)
        if self._frames_wanted() and not self._forwarder.withheld:
            return self._inner.add(packet)  # type: ignore[no-any-return]
        return False, None


def tap_receiver(
    receiver: RTCRtpReceiver,
    forwarder: StreamForwarder,
    mime_type: str,
    frames_wanted: Callable[[], bool],
) -> None:
    """Send what ``receiver`` accepts to ``forwarder``; frames only while wanted. Its REMB
    feedback to the publisher is throttled as libwebrtc's is, and the SSRCs it learns are
    bounded (:data:`MAX_LEARNED_SSRCS`)."""
    attribute = "_RTCRtpReceiver__jitter_buffer"
    inner = getattr(receiver, attribute)
    setattr(
        receiver,
        attribute,
        _ForwardingJitterBuffer(inner, forwarder, mime_type.lower(), frames_wanted),
    )
    receiver._send_rtcp = RembThrottle(receiver._send_rtcp, clock.current_ms)  # type: ignore[method-assign]
    bound_learned_ssrcs(receiver.transport._rtp_router)
    handle_rtcp: Callable[[Any], Coroutine[Any, Any, None]] = receiver._handle_rtcp_packet

    async def rtcp_received(packet: Any) -> None:
        # A BYE made aiortc stop the receiver's decoder: the track ended, and with it the
        # recording's (and HLS's) frames for good, while the viewers went on getting the
        # packets. A publication ends with its connection or a DELETE, not with a BYE.
        if not isinstance(packet, RtcpByePacket):
            await handle_rtcp(packet)

    receiver._handle_rtcp_packet = rtcp_received  # type: ignore[method-assign]


MAX_LEARNED_SSRCS = 4
"""SSRCs a publisher's receiver takes on beyond those the offer named: aiortc routes a
packet from an unknown SSRC by its payload type and learns the SSRC, and a newer one then
replaces the oldest. aiortc keeps statistics per SSRC and reports on every one in each
receiver report: unbounded, past about 57 SSRCs the report outgrew SRTP's buffer, the
receiver's RTCP task died of it, and closing the connection (a ``DELETE``, a drop, the
server's shutdown) then waited for that task forever."""
_LEARNED = "_plenaria_learned"


def bound_learned_ssrcs(router: Any) -> None:
    """Keep at most :data:`MAX_LEARNED_SSRCS` learned SSRCs per receiver on ``router``
    (a DTLS transport's ``RtpRouter``), forgetting the oldest's state in its receiver."""
    if hasattr(router, _LEARNED):
        return
    learned: dict[Any, list[int]] = {}
    setattr(router, _LEARNED, learned)
    route: Callable[[RtpPacket], Any] = router.route_rtp

    def route_rtp(packet: RtpPacket) -> Any:
        known = packet.ssrc in router.ssrc_table
        receiver = route(packet)
        if receiver is not None and not known:
            ssrcs = learned.setdefault(receiver, [])
            ssrcs.append(packet.ssrc)
            while len(ssrcs) > MAX_LEARNED_SSRCS:
                _forget_ssrc(router, receiver, ssrcs.pop(0))
        return receiver

    router.route_rtp = route_rtp


def _forget_ssrc(router: Any, receiver: Any, ssrc: int) -> None:
    if router.ssrc_table.get(ssrc) is receiver:
        del router.ssrc_table[ssrc]
    for name in ("remote_streams", "active_ssrc", "lsr", "lsr_time"):
        getattr(receiver, f"_RTCRtpReceiver__{name}", {}).pop(ssrc, None)


REMB_INTERVAL_MS = 200
REMB_DROP = 0.97


class RembThrottle:
    """Stands in for a receiver's RTCP send: lets a REMB (the receive-side bandwidth
    estimate sent to the publisher) through at most every 200 ms, or at once when the
    estimate falls 3 % or more, as libwebrtc's ``RembThrottler`` does. aiortc's estimator
    returns one on every packet while it detects overuse, and sending each cost the
    server an RTCP packet per media packet when it is busiest. Other RTCP (NACK, PLI)
    passes untouched."""

    def __init__(
        self, send: Callable[[Any], Coroutine[Any, Any, None]], now_ms: Callable[[], int]
    ) -> None:
        self._send = send
        self._now_ms = now_ms
        self._last: tuple[int, int] | None = None
        """(time in ms, bitrate) of the last REMB let through."""
        self.held = 0

    async def __call__(self, packet: Any) -> None:
        if isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
            try:
                bitrate, _ = unpack_remb_fci(packet.fci)
            except ValueError:
                bitrate = None
            if bitrate is not None:
                now = self._now_ms()
                if self._last is not None:
                    since, last_bitrate = now - self._last[0], self._last[1]
                    if since < REMB_INTERVAL_MS and bitrate >= last_bitrate * REMB_DROP:
                        self.held += 1
                        return
                self._last = (now, bitrate)
        await self._send(packet)


def ingest_eagerly(peer: Any, tasks: set[asyncio.Task[None]], batch: Batch) -> int:
    """Take a publisher's RTP off aiortc's receive queue: each SRTP packet is unprotected,
    parsed and handed to its receiver in the datagram callback itself, instead of via
    aioice's queue and the DTLS transport's reading task (two loop turns and a future per
    packet). The callback then reads on from the socket until it is empty, inside
    ``batch``, so the forwarders send each viewer what arrived together in one go. The
    receiver's own handling (statistics, RTX, NACKs, REMB, the forwarder's tap) runs
    unchanged. STUN, DTLS and RTCP keep their usual path. Call once the connection is up;
    a handler that suspends is finished as a task kept in ``tasks``. Returns how many
    sockets now take the fast path."""
    taken = 0
    for dtls in {t.receiver.transport for t in peer.getTransceivers() if t.receiver}:
        if dtls._rx_srtp is None:
            continue
        unprotect = srtp_unprotector(dtls._rx_srtp)
        extensions = dtls._rtp_header_extensions_map
        router = dtls._rtp_router
        for protocol in dtls.transport._connection._protocols:
            protocol.datagram_received = _eager_receiver(
                protocol, unprotect, extensions, router, tasks, batch
            )
            taken += 1
    return taken


DRAIN_LIMIT = 64
"""Datagrams read off a publisher's socket in one go: a 720p keyframe's worth, and a bound
on how long one publisher holds the loop."""
DATAGRAM_LIMIT = 65_535


def _eager_receiver(
    protocol: Any,
    unprotect: Callable[[bytes], bytes | None],
    extensions: Any,
    router: Any,
    tasks: set[asyncio.Task[None]],
    batch: Batch,
) -> Callable[[bytes, Any], None]:
    slow: Callable[[bytes, Any], None] = protocol.datagram_received

    def handle(data: bytes, address: Any) -> None:
        # RTP, not RTCP (RFC 5761 4): first byte 128-191, second byte outside 192-208
        if len(data) < 12 or not 127 < data[0] < 192 or 191 < data[1] < 209:
            slow(data, address)
            return
        plain = unprotect(data)
        if plain is None:
            return  # not authentic, or replayed: aiortc drops these too
        try:
            packet = RtpPacket.parse(plain, extensions)
        except MALFORMED as error:
            dropped_datagrams[type(error).__name__] += 1
            return
        receiver = router.route_rtp(packet)
        if receiver is not None:
            handling = receiver._handle_rtp_packet(packet, arrival_time_ms=clock.current_ms())
            run_eagerly(handling, tasks)

    def datagram_received(data: bytes, address: Any) -> None:
        with batch:
            handle(data, address)
            transport = protocol.transport
            if transport is None or transport.is_closing():
                return
            sock: socket.socket | None = getattr(transport, "_sock", None)
            if sock is None or sock.type != socket.SOCK_DGRAM:
                return
            for _ in range(DRAIN_LIMIT - 1):
                try:
                    data, address = sock.recvfrom(DATAGRAM_LIMIT)
                except OSError:  # BlockingIOError: drained; others: asyncio's reader reports
                    return
                handle(data, address)

    return datagram_received


def run_eagerly(coroutine: Coroutine[Any, Any, None], tasks: set[asyncio.Task[None]]) -> None:
    """Run ``coroutine`` now, up to its first real suspension (aiortc's packet handlers
    await only sends that complete at once); if it does suspend, a task kept in ``tasks``
    finishes it."""
    try:
        waiting = coroutine.send(None)
    except StopIteration:
        return
    except Exception:
        log.exception("handling a publisher's packet failed")
        return
    task = asyncio.get_running_loop().create_task(_finish(coroutine, waiting))
    tasks.add(task)
    task.add_done_callback(tasks.discard)


async def _finish(coroutine: Coroutine[Any, Any, None], waiting: Any) -> None:
    while True:
        try:
            await waiting
        except BaseException as error:  # the awaited future failed: let the coroutine see it
            try:
                waiting = coroutine.throw(error)
            except StopIteration:
                return
            continue
        try:
            waiting = coroutine.send(None)
        except StopIteration:
            return


def srtp_unprotector(session: Session) -> Callable[[bytes], bytes | None]:
    """SRTP-unprotect with ``session``, as ``Session.unprotect`` does without its per-call
    allocation and type check; None for a packet that does not authenticate (or is too
    long)."""
    length = _srtp_ffi.new("int *")
    cdata = session._cdata
    buffer = session._buffer
    context = session._srtp[0]
    limit = len(cdata)
    unprotect = _srtp_lib.srtp_unprotect

    def unprotect_packet(packet: bytes, session: Session = session) -> bytes | None:
        # ``session`` stays referenced: its context must outlive this closure.
        size = len(packet)
        if size > limit:
            return None
        length[0] = size
        buffer[0:size] = packet
        if unprotect(context, cdata, length):
            return None
        plain: bytes = buffer[0 : length[0]]
        return plain

    return unprotect_packet


class FramePacketizer:
    """Packetises frames made in this process (the demo panel) once per publication, as
    aiortc's sender would, for the forwarder."""

    def __init__(self, mime_type: str, rng: random.Random | None = None) -> None:
        rng = rng or random.Random()  # noqa: S311 - RTP numbering, not secrets
        self.mime_type = mime_type.lower()
        self.clock = VIDEO_CLOCK if self.mime_type.startswith("video/") else AUDIO_CLOCK
        self._sequence = rng.randrange(1 << 15)
        self._picture_id = rng.randrange(1 << 15)

    def packetize(self, packet: av.Packet[Any]) -> list[SourcePacket]:
        data = bytes(packet)
        if self.mime_type == "video/vp8":
            payloads: list[bytes] = Vp8Encoder._packetize(data, self._picture_id)
            self._picture_id = (self._picture_id + 1) % (1 << 15)
        elif self.mime_type == "video/h264":
            payloads = H264Encoder._packetize(H264Encoder._split_bitstream(data))
        else:
            payloads = [data]
        assert packet.pts is not None
        assert packet.time_base is not None
        timestamp = int(packet.pts * packet.time_base / self.clock) & 0xFFFFFFFF
        keyframe = bool(packet.is_keyframe) or not self.mime_type.startswith("video/")
        packets = []
        for index, payload in enumerate(payloads):
            packets.append(
                SourcePacket(
                    self._sequence,
                    timestamp,
                    index == len(payloads) - 1,
                    payload,
                    keyframe=keyframe and index == 0,
                )
            )
            self._sequence = (self._sequence + 1) & 0xFFFF
        return packets


# -- out: a viewer's packets --------------------------------------------------------------

WIRED = "_plenaria_wired"


@dataclass(frozen=True, slots=True)
class _Wired:
    forwarder: StreamForwarder
    subscriber: Subscriber


class IdleTrack(MediaStreamTrack):
    """What a forwarding sender holds: it never yields a frame, so aiortc's RTP task for the
    viewer waits forever (no encoder, no per-packet work); keyframe requests go on."""

    def __init__(self, kind: str, request_keyframe: Callable[[], None]) -> None:
        super().__init__()
        self.kind = kind
        self.request_keyframe = request_keyframe
        self._never: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def recv(self) -> Any:
        await self._never
        raise MediaStreamError


def wire_sender(sender: RTCRtpSender, forwarder: StreamForwarder, subscriber: Subscriber) -> None:
    """Make ``sender`` a forwarding sender: idle, with its feedback going to ``subscriber``."""
    sender.replaceTrack(IdleTrack(sender.kind, forwarder.keyframe_requested))
    setattr(sender, WIRED, _Wired(forwarder, subscriber))


def subscriber_parameters(transceiver: Any) -> SubscriberParameters:
    """What the viewer behind ``transceiver`` negotiated (after the answer)."""
    sender: RTCRtpSender = transceiver.sender
    codec = transceiver._codecs[0]
    rtx = next(
        (
            c
            for c in transceiver._codecs
            if c.mimeType.lower().endswith("/rtx") and c.parameters.get("apt") == codec.payloadType
        ),
        None,
    )
    ids: dict[str, int] = {}
    for extension in transceiver._headerExtensions:
        name = EXTENSION_NAMES.get(extension.uri)
        if name is not None:
            ids[name] = extension.id
    return SubscriberParameters(
        ssrc=sender._ssrc,
        payload_type=codec.payloadType,
        clock_rate=codec.clockRate,
        extensions=ExtensionProfile(ExtensionIds(**ids), transceiver.mid or ""),
        rtx_ssrc=sender._rtx_ssrc if rtx is not None else None,
        rtx_payload_type=rtx.payloadType if rtx is not None else None,
    )


EXTENSION_NAMES = {
    "urn:ietf:params:rtp-hdrext:sdes:mid": "mid",
    "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time": "abs_send_time",
    "urn:ietf:params:rtp-hdrext:ssrc-audio-level": "audio_level",
}


def sink_for(sender: RTCRtpSender) -> Sink | None:
    """The per-packet send to the viewer behind ``sender``: SRTP protect with its context and
    ``sendto`` on its selected candidate pair; None until DTLS and ICE are both up. The sink
    refuses (False) when the kernel's buffer for the socket is full: the viewer is backed up."""
    dtls = sender.transport
    srtp = dtls._tx_srtp
    pair = dtls.transport._connection._nominated.get(1)
    if srtp is None or pair is None or pair.protocol.transport is None:
        return None
    transport: Any = pair.protocol.transport  # a selector datagram transport
    return udp_sink(srtp, transport._sock, pair.remote_addr)


def _function_address(name: str) -> int:
    return int(_srtp_ffi.cast("uintptr_t", _srtp_ffi.addressof(_srtp_lib, name)))


_SRTP_PROTECT = _function_address("srtp_protect")
_SRTCP_PROTECT = _function_address("srtp_protect_rtcp")


def udp_sink(session: Session, sock: socket.socket, address: Any) -> UdpSink:
    """A compiled sink that writes the RTP header and body into one buffer, protects it with
    ``session``'s libsrtp context and sends it with one ``sendto`` on its own duplicate of
    ``sock``'s descriptor (past asyncio's transport, whose checks cost more than the send).
    It keeps ``session`` alive, and closes its descriptor when released."""
    context = int(_srtp_ffi.cast("uintptr_t", session._srtp[0]))
    return UdpSink(
        context, _SRTP_PROTECT, session, sock.fileno(), sock.family, tuple(address), _SRTCP_PROTECT
    )


SR_HEADER = struct.Struct("!BBHIQIII")
SDES_HEADER = struct.Struct("!BBHI")
RTCP_SR, RTCP_SDES, SDES_CNAME = 200, 202, 1


def sender_report_packet(ssrc: int, cname: str, report: tuple[int, int, int, int]) -> bytes:
    """A compound RTCP packet: SR (RFC 3550 6.4.1, no report blocks) and SDES with the CNAME."""
    ntp, rtp_timestamp, packets, octets = report
    sr = SR_HEADER.pack(
        0x80, RTCP_SR, 6, ssrc, ntp, rtp_timestamp, packets & 0xFFFFFFFF, octets & 0xFFFFFFFF
    )
    item = bytes([SDES_CNAME, len(cname.encode()[:255])]) + cname.encode()[:255]
    chunk = item + bytes(4 - len(item) % 4)  # the END item, then padding to 32 bits
    return sr + SDES_HEADER.pack(0x81, RTCP_SDES, len(chunk) // 4 + 1, ssrc) + chunk


def send_sender_report(sender: RTCRtpSender, subscriber: Subscriber, ntp: int) -> bool:
    """Send the viewer behind ``sender`` an SR + SDES of what was forwarded to it, through
    its compiled sink (SRTCP in libsrtp, one ``sendto``), and note it as aiortc would, so
    its receiver reports still give the round trip. False when there is nothing to send."""
    report = subscriber.sender_report(ntp)
    sink = subscriber.sink
    if report is None or not isinstance(sink, UdpSink):
        return False
    cname = sender._RTCRtpSender__cname or ""  # type: ignore[attr-defined]
    sink.send_rtcp(sender_report_packet(sender._ssrc, cname, report))
    sender._RTCRtpSender__lsr = (report[0] >> 16) & 0xFFFFFFFF  # type: ignore[attr-defined]
    sender._RTCRtpSender__lsr_time = time.time()  # type: ignore[attr-defined]
    return True


def report_from_engine(sender: RTCRtpSender) -> None:
    """Stop aiortc's own RTCP loop for ``sender`` (a task per track, waking about once a
    second to send SR + SDES through Python's SRTP and aioice): the engine sends every
    viewer's reports in one pass instead (:func:`send_sender_report`). On stop it still
    says BYE, as aiortc's loop does."""

    async def quiet() -> None:
        sender._RTCRtpSender__rtcp_started.set()  # type: ignore[attr-defined]
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.get_running_loop().create_future()
        await sender._send_rtcp([RtcpByePacket(sources=[sender._ssrc])])
        sender._RTCRtpSender__rtcp_exited.set()  # type: ignore[attr-defined]

    sender._run_rtcp = quiet  # type: ignore[method-assign]


async def request_keyframe_from(receiver: RTCRtpReceiver) -> None:
    """Send a PLI to the publisher behind ``receiver`` for each of its video sources."""
    for source in receiver.getSynchronizationSources():
        await receiver._send_rtcp_pli(source.source)


def negotiated_mime_type(transceiver: Any) -> str:
    """The codec a transceiver settled on in the last negotiation (aiortc keeps it in
    ``_codecs``, best first)."""
    codecs = transceiver._codecs
    return str(codecs[0].mimeType) if codecs else ""


def answer_as_dtls_server(offer_sdp: str, answer_sdp: str) -> str:
    """Make aiortc the DTLS server when the offerer leaves the choice to us.

    aiortc answers ``a=setup:active`` (DTLS client) to an ``actpass`` offer; some WHIP
    encoders' certificates (GStreamer's RSA one) then fail the handshake. Answering
    ``passive`` is equally valid (RFC 8842) and aiortc takes its role from the local
    description."""
    if "a=setup:actpass" not in offer_sdp:
        return answer_sdp
    return answer_sdp.replace("a=setup:active", "a=setup:passive")


class IceRestartError(Exception):
    pass


_trickled: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()
"""Candidates trickled to each peer so far."""


async def add_trickled_candidates(peer: Any, fragment: str) -> None:
    """Apply a trickle-ice-sdpfrag (RFC 8840) to ``peer``: its candidates, by m-line.

    Raises :class:`IceRestartError` when the fragment carries new ICE credentials."""
    from aiortc.sdp import candidate_from_sdp

    remote = peer.remoteDescription.sdp if peer.remoteDescription else ""
    mid: str | None = None
    for line in fragment.splitlines():
        line = line.strip()
        if line.startswith("a=ice-ufrag:") and f"a=ice-ufrag:{line[12:]}" not in remote:
            raise IceRestartError
        if line.startswith("a=mid:"):
            mid = line[6:]
        elif line.startswith("a=candidate:"):
            problem = offer_check.candidate_problem(line[12:])
            if problem is not None:
                raise ValueError(f"{problem} ({line[:80]!r})")
            trickled = _trickled.get(peer, 0) + 1
            if trickled > offer_check.MAX_CANDIDATES:
                raise ValueError(f"A peer takes at most {offer_check.MAX_CANDIDATES} candidates.")
            _trickled[peer] = trickled
            candidate = candidate_from_sdp(line[12:])
            candidate.sdpMid = mid
            if mid is None:
                candidate.sdpMLineIndex = 0
            await peer.addIceCandidate(candidate)


def pin_codec(transceiver: Any, mime_type: str) -> bool:
    """Keep only ``mime_type`` (and its RTX) among a transceiver's negotiated codecs.

    A forwarding server cannot transcode, so a viewer must receive the publisher's codec.
    aiortc applies codec preferences to an answer only when they are set before the
    transceiver exists; a WHEP viewer's transceivers are made by the offer, so the
    negotiated list is filtered here, between ``setRemoteDescription`` and ``createAnswer``.
    Returns False when the viewer does not offer that codec at all."""
    wanted = mime_type.lower()
    kept = [c for c in transceiver._codecs if c.mimeType.lower() == wanted]
    payload_types = {c.payloadType for c in kept}
    rtx = [
        c
        for c in transceiver._codecs
        if c.mimeType.lower().endswith("/rtx") and c.parameters.get("apt") in payload_types
    ]
    if not kept:
        return False
    transceiver._codecs = kept + rtx
    return True


async def close_half_built(peer: Any) -> None:
    """Close a peer whose negotiation failed part-way. aiortc's ``close`` assumes every
    transceiver got a transport: on one that did not, it raises, leaves the rest open and
    makes every later ``close`` wait forever. Then the transports that exist are stopped
    here, and the peer marked closed."""
    try:
        await peer.close()
        return
    except Exception:
        log.debug("aiortc could not close a half-built peer; stopping its parts", exc_info=True)
    transports = {
        transport
        for transceiver in peer.getTransceivers()
        for transport in (transceiver.receiver.transport, transceiver.sender.transport)
        if transport is not None
    }
    if peer.sctp is not None:
        transports.add(peer.sctp.transport)
    for transceiver in peer.getTransceivers():
        with contextlib.suppress(Exception):
            await transceiver.stop()
    for dtls in transports:
        with contextlib.suppress(Exception):
            await dtls.stop()
        with contextlib.suppress(Exception):
            await dtls.transport.stop()
    peer.remove_all_listeners()
    closed = peer._RTCPeerConnection__isClosed
    if closed is not None and not closed.done():
        closed.set_result(True)
