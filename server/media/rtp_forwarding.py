"""Forwarding at RTP level: one synchronous loop per arriving packet over its subscribers.

A publication's track is a :class:`StreamForwarder`. Each packet that reaches it (from the
publisher's connection after SRTP unprotect, or packetised once from frames made in this
process) is kept in a short history and handed to every live :class:`Subscriber`, which
rewrites what differs per viewer (SSRC, sequence number, timestamp, payload type, header
extensions) and gives the header fields and the shared body (extensions + payload) to its
:data:`Sink`, which writes the packet into one buffer, SRTP-protects it and sends it on the
viewer's selected candidate pair. No task, queue or await per viewer per packet: the loop
over viewers and the socket sink are compiled (``_fanout.c``: ``forward``, ``Route``,
``UdpSink``); any Python callable serves as a sink too (the tests use plain ones).

What an SFU still owes each viewer lives here too: a new viewer starts at once from the
packets since the last keyframe; a viewer whose socket backs up waits for the next keyframe
and continues with no gap in its sequence numbers, also when the publisher's numbering
starts again; NACKed packets are sent again from the history (as RTX when negotiated), each
at most once per interval and within a budget per viewer; keyframe requests go upstream at
most once per interval;
the numbers for RTCP sender reports and the receiver reports' loss and round-trip time are
kept per viewer.

This module does no I/O and imports neither aiortc nor asyncio's loop: the glue
(``aiortc_glue``) reads packets and makes sinks, the engine wires them, the tests drive it
with plain callables.
"""

from __future__ import annotations

import itertools
import random
import struct
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from server.media._fanout import Route, UdpSink, forward

RTX_ORIGINAL_SEQUENCE = struct.Struct("!H")
ONE_BYTE_PROFILE = b"\xbe\xde"
SEQUENCE_MASK = 0xFFFF
TIMESTAMP_MASK = 0xFFFFFFFF
HALF_SEQUENCE = 0x8000
VIDEO_HISTORY = 1024
"""Packets kept per video track: about 6 s of 720p at 1.5 Mbit/s, the keyframe cache and
the retransmission window both."""
AUDIO_HISTORY = 256
EPOCHS_KEPT = 8
MAX_MISORDER = 1000
"""A packet this far behind the latest is no late packet but a new numbering (the
publisher's encoder restarted, a second SSRC on the payload type, a jump of half the
sequence space): it continues the track's numbering instead. Sent on behind the latest
like a late packet, it would put each viewer's SRTP index behind its highest by more than
libsrtp's replay window (1,024), where libsrtp refuses to protect, and the viewers would
get nothing until the new numbers caught up, up to 32,768 packets later."""
RESEND_INTERVAL = 0.1
"""Seconds before a packet goes to the same viewer again: a viewer NACKs a missing packet
again and again until it comes (aiortc with every new gap), and a hostile one names the
same packet hundreds of times in one NACK."""
RESEND_BURST = 512
RESEND_RATE = 512
"""Retransmissions one viewer may have at once, and per second (a token bucket): a lost
keyframe's worth at once, far more than a lossy network asks for, and a bound on what a
NACK can make the server send. Unbounded, one NACK of 1.2 KB had the server resend about a
thousand packets and hold the event loop 20 ms: an amplification for any viewer."""
NTP_EPOCH_OFFSET = 2_208_988_800
NTP_SECOND = 1 << 32

Sink = Callable[[int, int, int, int, bytes], bool]
"""Sends one RTP packet to one viewer, given its header's first two bytes (as one 16-bit
number), sequence number, timestamp, SSRC, and what follows the fixed header (extensions
and payload); False when the viewer's socket is backed up and the packet was not sent. The
sink writes the header itself, so no per-viewer header object is made."""
RTP_HEADER_FIELDS = struct.Struct("!HHII")


def sequence_newer(a: int, b: int) -> bool:
    """``a`` comes after ``b`` in 16-bit sequence space (RFC 3550 A.1)."""
    return a != b and ((a - b) & SEQUENCE_MASK) < HALF_SEQUENCE


def ntp_now() -> int:
    """The wall clock as a 64-bit NTP timestamp."""
    now = time.time() + NTP_EPOCH_OFFSET
    seconds = int(now)
    return (seconds << 32) | int((now - seconds) * (1 << 32))


class SourcePacket:
    """One packet of a publication, as it arrived (or as it was packetised here)."""

    __slots__ = ("audio_level", "keyframe", "marker", "payload", "sequence", "timestamp")

    def __init__(
        self,
        sequence: int,
        timestamp: int,
        marker: bool,
        payload: bytes,
        *,
        keyframe: bool = False,
        audio_level: int | None = None,
    ) -> None:
        self.sequence = sequence
        self.timestamp = timestamp
        self.marker = marker
        self.payload = payload
        self.keyframe = keyframe
        """The packet carries the start of, or a part of, a keyframe (an IDR / SPS for
        H.264); every audio packet is one, since a viewer may start anywhere."""
        self.audio_level = audio_level
        """The RFC 6464 byte as the publisher sent it (V bit and −dBov), for audio."""


# -- header extensions ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExtensionIds:
    """The header extension ids one viewer negotiated (0: not negotiated)."""

    mid: int = 0
    abs_send_time: int = 0
    audio_level: int = 0


@dataclass(frozen=True, slots=True)
class ExtensionProfile:
    """What goes into a viewer's header extension block: ids, and its transceiver's mid."""

    ids: ExtensionIds
    mid: str

    def render(self, audio_level: int | None, abs_send_time: int) -> bytes:
        """The one-byte-header extension block (RFC 8285) for one packet, or b""."""
        elements = bytearray()
        if self.ids.mid and self.mid:
            value = self.mid.encode()[:16]
            elements.append((self.ids.mid << 4) | (len(value) - 1))
            elements += value
        if self.ids.abs_send_time:
            elements.append((self.ids.abs_send_time << 4) | 2)
            elements += abs_send_time.to_bytes(3, "big")
        if self.ids.audio_level and audio_level is not None:
            elements.append(self.ids.audio_level << 4)
            elements.append(audio_level & 0xFF)
        if not elements:
            return b""
        elements += bytes(-len(elements) % 4)
        return ONE_BYTE_PROFILE + (len(elements) // 4).to_bytes(2, "big") + bytes(elements)


def abs_send_time(ntp: int) -> int:
    """abs-send-time: 6.18 fixed-point seconds, from a 64-bit NTP timestamp."""
    return (ntp >> 14) & 0xFFFFFF


# -- per viewer -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SubscriberParameters:
    """What one viewer negotiated for one track."""

    ssrc: int
    payload_type: int
    clock_rate: int
    extensions: ExtensionProfile
    rtx_ssrc: int | None = None
    rtx_payload_type: int | None = None


@dataclass(slots=True)
class ReceiverReport:
    """The latest RTCP receiver report from one viewer for one track."""

    fraction_lost: float
    packets_lost: int
    jitter: int
    round_trip_time: float | None


class Subscriber(Route):
    """One viewer of one track: its rewriting state, its sink and its counters.

    The state the per-packet loop reads and writes (sink, header bits, offsets, last
    sequence number and timestamp, counters) lives in the compiled :class:`Route`."""

    def __init__(self, kind: str, *, rng: random.Random | None = None) -> None:
        rng = rng or random.Random()  # noqa: S311 - RTP offsets, not secrets
        self.kind = kind
        self.parameters: SubscriberParameters | None = None
        self.sink = None
        self.first_bits = 0x8000
        self.payload_type = 0
        self.ssrc = 0
        self.profile_index = 0
        # RTP sequence numbers start in the lower half (Chromium's advice, as aiortc does),
        # so the first SRTP rollover is far away.
        self.last_sequence = (rng.randrange(HALF_SEQUENCE) - 1) & SEQUENCE_MASK
        self.sequence_offset = 0
        self.timestamp_offset = rng.randrange(1 << 32)
        self.last_timestamp = None
        self.rtx_sequence = rng.randrange(HALF_SEQUENCE)
        self.epochs: list[tuple[int, int]] = []
        """(first outgoing sequence number, offset) for each rebase, oldest first: maps a
        NACKed sequence number back to the publication's."""
        self.packets = 0
        self.octets = 0
        self.retransmitted = 0
        self.resends_refused = 0
        """NACKed packets not sent again: within :data:`RESEND_INTERVAL` of the last time,
        or past the viewer's budget (:data:`RESEND_RATE`)."""
        self.resent_at: dict[int, int] = {}
        """When each of the publication's packets last went to this viewer again (NTP)."""
        self.resend_budget = float(RESEND_BURST)
        self.budget_at: int | None = None
        self.backed_up = 0
        """Times the viewer's socket backed up and it went back to waiting for a keyframe."""
        self.report: ReceiverReport | None = None
        self.resume_ticks: int | None = None
        """Set when the viewer moves to a new publication of the same stream: how far its
        timestamps move on across the gap when it starts again."""

    def release(self) -> None:
        """The viewer left: let go of its sink (a socket sink closes its own descriptor)."""
        sink, self.sink = self.sink, None
        if isinstance(sink, UdpSink):
            sink.close()

    def configure(self, parameters: SubscriberParameters, sink: Sink, profile_index: int) -> None:
        self.parameters = parameters
        self.sink = sink
        self.payload_type = parameters.payload_type
        self.ssrc = parameters.ssrc
        self.profile_index = profile_index
        first_byte = 0x90 if _has_extensions(parameters.extensions) else 0x80
        self.first_bits = (first_byte << 8) | parameters.payload_type

    def rebase(self, first: SourcePacket, *, elapsed_ticks: int | None = None) -> None:
        """Continue this viewer's sequence numbers (and, when the source changed, its
        timestamps) from ``first`` on, with no gap the viewer would NACK."""
        next_sequence = (self.last_sequence + 1) & SEQUENCE_MASK
        self.sequence_offset = (next_sequence - first.sequence) & SEQUENCE_MASK
        self.epochs.append((next_sequence, self.sequence_offset))
        del self.epochs[:-EPOCHS_KEPT]
        if elapsed_ticks is not None and self.last_timestamp is not None:
            target = (self.last_timestamp + max(elapsed_ticks, 1)) & TIMESTAMP_MASK
            self.timestamp_offset = (target - first.timestamp) & TIMESTAMP_MASK

    def source_sequence(self, sequence: int) -> int | None:
        """The publication's sequence number behind one this viewer received, or None."""
        for start, offset in reversed(self.epochs):
            if not sequence_newer(start, sequence):
                return (sequence - offset) & SEQUENCE_MASK
        return None

    def send(self, packet: SourcePacket, body: bytes, marker_bit: int) -> bool:
        """Rewrite and send one packet (``body``: this viewer's header extensions and the
        payload, shared by every viewer with the same extensions); False when the sink
        refused it (backed up)."""
        return self.transmit(
            body, marker_bit, packet.sequence, packet.timestamp, len(packet.payload)
        )

    def resend(self, packet: SourcePacket, sequence: int, extensions: bytes) -> None:
        """Send ``packet`` again as outgoing ``sequence``: RTX (RFC 4588) when negotiated."""
        assert self.parameters is not None
        assert self.sink is not None
        marker_bit = 0x80 if packet.marker else 0
        timestamp = (packet.timestamp + self.timestamp_offset) & TIMESTAMP_MASK
        rtx_ssrc, rtx_payload_type = self.parameters.rtx_ssrc, self.parameters.rtx_payload_type
        first_bits = self.first_bits & 0xFF00
        if rtx_ssrc is not None and rtx_payload_type is not None:
            sent = self.sink(
                first_bits | rtx_payload_type | marker_bit,
                self.rtx_sequence,
                timestamp,
                rtx_ssrc,
                extensions + RTX_ORIGINAL_SEQUENCE.pack(sequence) + packet.payload,
            )
            self.rtx_sequence = (self.rtx_sequence + 1) & SEQUENCE_MASK
        else:
            sent = self.sink(
                first_bits | self.payload_type | marker_bit,
                sequence,
                timestamp,
                self.ssrc,
                extensions + packet.payload,
            )
        if sent:
            self.retransmitted += 1

    def sender_report(self, ntp_at_last: int) -> tuple[int, int, int, int] | None:
        """(NTP time, RTP timestamp, packets, octets) for an RTCP sender report."""
        if self.last_timestamp is None:
            return None
        return ntp_at_last, self.last_timestamp, self.packets, self.octets


def _has_extensions(profile: ExtensionProfile) -> bool:
    return bool(profile.render(0, 0))


# -- per publication track ------------------------------------------------------------------


class PacketHistory:
    """The last ``size`` packets of a track by sequence number (a ring)."""

    def __init__(self, size: int) -> None:
        assert size & (size - 1) == 0, "a power of two"
        self._mask = size - 1
        self._slots: list[SourcePacket | None] = [None] * size
        self.latest: int | None = None

    @property
    def size(self) -> int:
        return self._mask + 1

    def get(self, sequence: int) -> SourcePacket | None:
        packet = self._slots[sequence & self._mask]
        return packet if packet is not None and packet.sequence == sequence else None

    def put(self, packet: SourcePacket) -> bool:
        """Keep ``packet``; False when it is a duplicate (a retransmission already had)."""
        slot = packet.sequence & self._mask
        held = self._slots[slot]
        if held is not None and held.sequence == packet.sequence:
            return False
        self._slots[slot] = packet
        if self.latest is None or sequence_newer(packet.sequence, self.latest):
            self.latest = packet.sequence
        return True

    def since(self, first: int) -> Iterator[SourcePacket]:
        """The packets held from ``first`` to the latest, in order (gaps skipped)."""
        if self.latest is None:
            return
        count = ((self.latest - first) & SEQUENCE_MASK) + 1
        if count > self.size:
            return
        for step in range(count):
            packet = self.get((first + step) & SEQUENCE_MASK)
            if packet is not None:
                yield packet

    def clear(self) -> None:
        """Forget every packet (nothing of a withheld stretch may be sent later)."""
        self._slots = [None] * self.size
        self.latest = None

    def holds(self, first: int) -> bool:
        return (
            self.latest is not None
            and ((self.latest - first) & SEQUENCE_MASK) < self.size
            and self.get(first) is not None
        )


KeyframeWanted = Callable[[], None]
Outgoing = tuple[list[bytes], int, int, int, int]
"""One packet as the compiled loop takes it: the bodies (one per extension profile), marker
bit, sequence number, timestamp and payload length."""


class Batch:
    """While open, the forwarders of one publication hold what they are pushed and send it
    all when it closes: each viewer then gets a burst of packets (a video frame's, read off
    the publisher's socket together) in one segmented send instead of one send per packet.
    Opened around a drain of the publisher's socket, so it holds nothing that had not
    already arrived."""

    def __init__(self) -> None:
        self._depth = 0
        self._holding: list[StreamForwarder] = []

    @property
    def open(self) -> bool:
        return self._depth > 0

    def hold(self, forwarder: StreamForwarder) -> None:
        self._holding.append(forwarder)

    def __enter__(self) -> Batch:
        self._depth += 1
        return self

    def __exit__(self, *_: object) -> None:
        self._depth -= 1
        if self._depth == 0:
            holding, self._holding = self._holding, []
            for forwarder in holding:
                forwarder.flush()


class StreamForwarder:
    """One publication track and everyone who receives it."""

    def __init__(
        self,
        kind: str,
        clock_rate: int,
        keyframe_wanted: KeyframeWanted,
        *,
        history: int | None = None,
        clock: Callable[[], int] = ntp_now,
        batch: Batch | None = None,
    ) -> None:
        self.kind = kind
        self._batch = batch
        self._held: list[Outgoing] = []
        self.clock_rate = clock_rate
        self._keyframe_wanted = keyframe_wanted
        self._clock = clock
        self.history = PacketHistory(
            history or (VIDEO_HISTORY if kind == "video" else AUDIO_HISTORY)
        )
        self.live: list[Subscriber] = []
        self.waiting: list[Subscriber] = []
        self.withheld = False
        """Off the record (or not consented to): what the publisher sends is counted and
        dropped, never kept nor sent, until :meth:`release`."""
        self.held_back: list[Subscriber] = []
        """The viewers while the track is withheld: they wait, connected, for its release."""
        self._latest_in: int | None = None
        self._renumbering = 0
        """Added to the publisher's sequence numbers: moved on when its numbering restarts,
        so the track's numbering (the history's, and the viewers' before their offsets)
        runs on without going back."""
        self.restarts = 0
        """Times the publisher's numbering restarted (see :data:`MAX_MISORDER`)."""
        self.withheld_packets = 0
        self._profiles: list[ExtensionProfile] = []
        self._frame_timestamp: int | None = None
        self._frame_start = 0
        self.keyframe_start: int | None = None
        """Where the latest keyframe begins in the history (video): a new viewer starts there."""
        self.last_ntp = 0
        self.last_audio_level: tuple[float, int] | None = None
        """(monotonic time, −dBov) of the latest audio level the publisher sent."""
        self.packets_in = 0
        self.octets_in = 0
        self.expected_in = 0
        """Packets the publisher's sequence numbers say it sent (lost ones included)."""
        self.frames_in = 0
        self.packets_out = 0
        self.duplicates = 0
        self.retransmitted = 0
        self.backed_up = 0

    # -- viewers ------------------------------------------------------------------------------

    def add(self, subscriber: Subscriber, parameters: SubscriberParameters, sink: Sink) -> None:
        """Start sending to a viewer whose connection is up: at once from the latest
        keyframe when the history holds it, else from the next one (asked for now)."""
        self.flush()  # held packets have no body for a profile new to this track
        subscriber.configure(parameters, sink, self._profile_index(parameters.extensions))
        if self.withheld:
            self.held_back.append(subscriber)
            return
        start = self.keyframe_start if self.kind == "video" else self.history.latest
        if start is not None and self.history.holds(start):
            self._catch_up(subscriber, start)
        else:
            self.waiting.append(subscriber)
            self._request_keyframe()

    def remove(self, subscriber: Subscriber) -> None:
        for group in (self.live, self.waiting, self.held_back):
            if subscriber in group:
                group.remove(subscriber)

    def adopt(self, subscriber: Subscriber, gap_seconds: float) -> None:
        """Take over a viewer from an earlier publication of the same stream (the publisher
        came back after ``gap_seconds``): it continues its sequence numbers and timestamps
        from where it was, at the next keyframe."""
        assert subscriber.parameters is not None
        assert subscriber.sink is not None
        self.flush()
        subscriber.configure(
            subscriber.parameters,
            subscriber.sink,
            self._profile_index(subscriber.parameters.extensions),
        )
        subscriber.epochs.clear()
        subscriber.resume_ticks = max(int(gap_seconds * self.clock_rate), 1)
        if self.withheld:
            self.held_back.append(subscriber)
            return
        self.waiting.append(subscriber)
        self._request_keyframe()

    @property
    def subscribers(self) -> int:
        return len(self.live) + len(self.waiting) + len(self.held_back)

    # -- withholding ----------------------------------------------------------------------------

    def withhold(self) -> None:
        """Stop sending: from now on what the publisher sends is dropped as it arrives, and
        what the history held is forgotten. The viewers stay connected and wait."""
        if self.withheld:
            return
        self.flush()
        self.withheld = True
        self.held_back += self.live + self.waiting
        self.live, self.waiting = [], []
        self.history.clear()
        self.keyframe_start = None

    def release(self) -> None:
        """Send again: every viewer starts at the next keyframe (asked for now), its
        sequence numbers running on with no gap to NACK, its timestamps showing the time
        that passed."""
        if not self.withheld:
            return
        self.withheld = False
        self.waiting += self.held_back
        self.held_back = []
        self._frame_timestamp = None
        if self.waiting:
            self._request_keyframe()

    def _profile_index(self, profile: ExtensionProfile) -> int:
        if profile not in self._profiles:
            self._profiles.append(profile)
        return self._profiles.index(profile)

    def _extensions(self, packet: SourcePacket, ntp: int) -> list[bytes]:
        send_time = abs_send_time(ntp)
        return [profile.render(packet.audio_level, send_time) for profile in self._profiles]

    def _bodies(self, packet: SourcePacket, ntp: int) -> list[bytes]:
        """Header extensions + payload, once per distinct extension profile."""
        payload = packet.payload
        return [extensions + payload for extensions in self._extensions(packet, ntp)]

    # -- packets ------------------------------------------------------------------------------

    def push(self, packet: SourcePacket) -> None:
        """A packet from the publisher: keep it, send it to every live viewer, and start
        the waiting ones when it begins a keyframe. Its sequence number becomes the
        track's (see :data:`MAX_MISORDER`)."""
        latest = self._latest_in
        if latest is not None:
            sequence = (packet.sequence + self._renumbering) & SEQUENCE_MASK
            if ((latest - sequence) & SEQUENCE_MASK) > MAX_MISORDER and not sequence_newer(
                sequence, latest
            ):
                self._renumbering = (latest + 1 - packet.sequence) & SEQUENCE_MASK
                sequence = (latest + 1) & SEQUENCE_MASK
                self.restarts += 1
            packet.sequence = sequence
        if self.withheld:
            self.withheld_packets += 1
        elif not self.history.put(packet):
            self.duplicates += 1
            return
        self.packets_in += 1
        self.octets_in += len(packet.payload)
        if latest is None:
            self.expected_in += 1
            self._latest_in = packet.sequence
        elif sequence_newer(packet.sequence, latest):
            self.expected_in += (packet.sequence - latest) & SEQUENCE_MASK
            self._latest_in = packet.sequence
        if self.withheld:
            if self.kind == "video" and packet.timestamp != self._frame_timestamp:
                self._frame_timestamp = packet.timestamp
                self.frames_in += 1  # the publisher's health reads on: the hall has it all
            return
        start: int | None = packet.sequence
        if self.kind == "video":
            if packet.timestamp != self._frame_timestamp:
                self._frame_timestamp = packet.timestamp
                self._frame_start = packet.sequence
                self.frames_in += 1
            if packet.keyframe and self.keyframe_start != self._frame_start:
                self.keyframe_start = start = self._frame_start
            else:
                start = None
        if self.live:
            ntp = self.last_ntp = self._clock()
            outgoing = (
                self._bodies(packet, ntp),
                0x80 if packet.marker else 0,
                packet.sequence,
                packet.timestamp,
                len(packet.payload),
            )
            if self._batch is not None and self._batch.open:
                if not self._held:
                    self._batch.hold(self)
                self._held.append(outgoing)
            else:
                self._send_live([outgoing])
        if start is not None and self.waiting:
            self.flush()  # the live viewers first, so the newcomers join after this packet
            waiting, self.waiting = self.waiting, []
            for subscriber in waiting:
                self._catch_up(subscriber, start)

    def flush(self) -> None:
        """Send what the open batch held."""
        held, self._held = self._held, []
        if held:
            self._send_live(held)

    def _send_live(self, outgoing: list[Outgoing]) -> None:
        backed_up = forward(self.live, outgoing)
        self.packets_out += len(self.live) * len(outgoing)
        if backed_up:
            self._back_up(backed_up)

    def _catch_up(self, subscriber: Subscriber, first: int) -> None:
        """Send a viewer everything held from ``first`` on, then keep it live."""
        held = list(self.history.since(first))
        if not held:
            self.waiting.append(subscriber)
            return
        subscriber.rebase(held[0], elapsed_ticks=subscriber.resume_ticks)
        subscriber.resume_ticks = None
        ntp = self.last_ntp = self._clock()
        for packet in held:
            body = self._bodies(packet, ntp)[subscriber.profile_index]
            marker_bit = 0x80 if packet.marker else 0
            if not subscriber.send(packet, body, marker_bit):
                self._back_up([subscriber], live=False)
                return
            self.packets_out += 1
        self.live.append(subscriber)

    def _back_up(self, subscribers: list[Subscriber], *, live: bool = True) -> None:
        """Viewers whose sockets are full wait for the next keyframe (video) or packet."""
        self.backed_up += len(subscribers)
        for subscriber in subscribers:
            subscriber.backed_up += 1
            if live:
                self.live.remove(subscriber)
            self.waiting.append(subscriber)
        self._request_keyframe()

    def _request_keyframe(self) -> None:
        """Audio has no keyframes: only a video track asks its publisher for one."""
        if self.kind == "video":
            self._keyframe_wanted()

    # -- feedback from viewers ------------------------------------------------------------------

    def nacked(self, subscriber: Subscriber, sequences: Iterable[int]) -> int:
        """Send again what a viewer reports lost; returns how many were sent. Each packet
        at most once per :data:`RESEND_INTERVAL`, however often it is named, and no more
        than the viewer's budget allows (:data:`RESEND_RATE`)."""
        if subscriber.sink is None:
            return 0
        ntp = self._clock()
        if subscriber.budget_at is not None:
            refill = (ntp - subscriber.budget_at) / NTP_SECOND * RESEND_RATE
            subscriber.resend_budget = min(RESEND_BURST, subscriber.resend_budget + max(refill, 0))
        subscriber.budget_at = ntp
        interval = int(RESEND_INTERVAL * NTP_SECOND)
        sent = 0
        named = dict.fromkeys(sequence & SEQUENCE_MASK for sequence in sequences)
        for sequence in itertools.islice(named, self.history.size):
            source = subscriber.source_sequence(sequence)
            packet = self.history.get(source) if source is not None else None
            if packet is None or source is None:
                continue
            last = subscriber.resent_at.get(source)
            if (last is not None and 0 <= ntp - last < interval) or subscriber.resend_budget < 1:
                subscriber.resends_refused += 1
                continue
            subscriber.resent_at[source] = ntp
            subscriber.resend_budget -= 1
            extensions = self._extensions(packet, ntp)[subscriber.profile_index]
            subscriber.resend(packet, sequence, extensions)
            sent += 1
        if len(subscriber.resent_at) > self.history.size:
            subscriber.resent_at = {
                source: at for source, at in subscriber.resent_at.items() if ntp - at < interval
            }
        self.retransmitted += sent
        return sent

    def keyframe_requested(self) -> None:
        """A viewer lost the picture (PLI / FIR)."""
        self._keyframe_wanted()
