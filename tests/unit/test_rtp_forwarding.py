"""The RTP forwarding core, driven with plain sinks: rewriting, keyframe cache, back-up,
retransmission mapping, header extensions."""

from __future__ import annotations

import itertools
import random
import struct

from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtp import HeaderExtensionsMap, RtpPacket

from server.media.rtp_forwarding import (
    MAX_MISORDER,
    RESEND_BURST,
    RESEND_INTERVAL,
    RESEND_RATE,
    RTP_HEADER_FIELDS,
    Batch,
    ExtensionIds,
    ExtensionProfile,
    SourcePacket,
    StreamForwarder,
    Subscriber,
    SubscriberParameters,
    sequence_newer,
)

PROFILE = ExtensionProfile(ExtensionIds(mid=1, abs_send_time=3), "0")
AUDIO_PROFILE = ExtensionProfile(ExtensionIds(mid=1, audio_level=2), "1")


def extension_map() -> HeaderExtensionsMap:
    extensions = HeaderExtensionsMap()
    extensions.configure(
        RTCRtpParameters(
            headerExtensions=[
                RTCRtpHeaderExtensionParameters(1, "urn:ietf:params:rtp-hdrext:sdes:mid"),
                RTCRtpHeaderExtensionParameters(2, "urn:ietf:params:rtp-hdrext:ssrc-audio-level"),
                RTCRtpHeaderExtensionParameters(
                    3, "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
                ),
            ]
        )
    )
    return extensions


class Wire:
    """A viewer's socket: what was sent, parsed back; refuses while ``full``."""

    def __init__(self) -> None:
        self.sent: list[RtpPacket] = []
        self.full = False
        self._map = extension_map()

    def __call__(self, first_bits: int, sequence: int, timestamp: int, ssrc: int, body: bytes):
        if self.full:
            return False
        header = RTP_HEADER_FIELDS.pack(first_bits, sequence, timestamp, ssrc)
        self.sent.append(RtpPacket.parse(header + body, self._map))
        return True

    @property
    def sequences(self) -> list[int]:
        return [p.sequence_number for p in self.sent]


def params(ssrc: int = 1111, *, rtx: bool = False, profile: ExtensionProfile = PROFILE):
    return SubscriberParameters(
        ssrc=ssrc,
        payload_type=96,
        clock_rate=90_000,
        extensions=profile,
        rtx_ssrc=2222 if rtx else None,
        rtx_payload_type=97 if rtx else None,
    )


class Requests:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


def video_frames(first_sequence: int, first_timestamp: int, frames: int, *, keyframe_every=10):
    """Frames of three packets each, a keyframe every ``keyframe_every`` frames."""
    packets = []
    sequence = first_sequence
    for frame in range(frames):
        timestamp = (first_timestamp + frame * 3000) & 0xFFFFFFFF
        for part in range(3):
            packets.append(
                SourcePacket(
                    sequence & 0xFFFF,
                    timestamp,
                    part == 2,
                    bytes([frame & 0xFF, part]) * 50,
                    keyframe=frame % keyframe_every == 0 and part == 0,
                )
            )
            sequence += 1
    return packets


def forwarder(requests: Requests | None = None, **kwargs) -> StreamForwarder:
    return StreamForwarder("video", 90_000, requests or Requests(), clock=lambda: 1 << 40, **kwargs)


def subscriber(seed: int = 1) -> Subscriber:
    return Subscriber("video", rng=random.Random(seed))


def assert_contiguous(sequences: list[int]) -> None:
    for before, after in itertools.pairwise(sequences):
        assert after == (before + 1) & 0xFFFF, (before, after)


def test_sequence_numbers_wrap_around_without_a_gap() -> None:
    stream, wire, viewer = forwarder(), Wire(), subscriber()
    stream.add(viewer, params(), wire)
    for packet in video_frames(65_530, 4_294_960_000, 6):
        stream.push(packet)
    assert len(wire.sent) == 18
    assert_contiguous(wire.sequences)
    # timestamps keep the source's spacing across the 32-bit wrap
    stamps = sorted({p.timestamp for p in wire.sent}, key=wire.sent[0].timestamp.__rsub__)
    steps = {(b - a) & 0xFFFFFFFF for a, b in itertools.pairwise(stamps)}
    assert steps == {3000}
    assert all(p.ssrc == 1111 and p.payload_type == 96 for p in wire.sent)
    assert [p.marker for p in wire.sent[:3]] == [0, 0, 1]


def test_a_new_viewer_starts_at_once_from_the_latest_keyframe() -> None:
    requests = Requests()
    stream = forwarder(requests)
    packets = video_frames(100, 0, 14)  # keyframes at frames 0 and 10
    for packet in packets:
        stream.push(packet)
    wire, viewer = Wire(), subscriber()
    stream.add(viewer, params(), wire)
    # frames 10..13 (12 packets) are sent at once, starting with the keyframe
    assert [p.payload for p in wire.sent] == [p.payload for p in packets[30:]]
    assert_contiguous(wire.sequences)
    assert requests.count == 0, "the cache answers; the publisher is not asked"
    stream.push(video_frames(142, 14 * 3000, 1)[0])
    assert len(wire.sent) == 13
    assert_contiguous(wire.sequences)


def test_a_viewer_waits_for_a_keyframe_when_none_is_held() -> None:
    requests = Requests()
    stream = forwarder(requests)
    packets = video_frames(0, 0, 25, keyframe_every=20)
    wire, viewer = Wire(), subscriber()
    stream.add(viewer, params(), wire)
    assert requests.count == 1
    for packet in packets[:30]:  # frames 0..9: the keyframe at 0 starts it
        stream.push(packet)
    assert len(wire.sent) == 30


def test_a_backed_up_viewer_skips_to_the_next_keyframe_with_no_gap() -> None:
    requests = Requests()
    stream = forwarder(requests)
    wire, viewer = Wire(), subscriber()
    other = Wire()
    stream.add(viewer, params(), wire)
    stream.add(subscriber(2), params(3333), other)
    packets = video_frames(500, 0, 30)
    for packet in packets[:6]:
        stream.push(packet)
    wire.full = True
    stream.push(packets[6])  # refused: the viewer waits for the next keyframe
    wire.full = False
    for packet in packets[7:]:
        stream.push(packet)
    assert viewer.backed_up == 1
    assert requests.count >= 1
    # it got frames 0-1, then everything from the keyframe at frame 10, numbered on
    assert [p.payload for p in wire.sent] == [p.payload for p in packets[:6] + packets[30:]]
    assert_contiguous(wire.sequences)
    assert len(other.sent) == 90, "the other viewer lost nothing"


def test_nacks_map_back_through_a_rebase_and_go_out_as_rtx() -> None:
    stream = forwarder()
    wire, viewer = Wire(), subscriber()
    stream.add(viewer, params(rtx=True), wire)
    packets = video_frames(1000, 0, 30)
    for packet in packets[:6]:
        stream.push(packet)
    wire.full = True
    stream.push(packets[6])
    wire.full = False
    for packet in packets[7:33]:
        stream.push(packet)
    before, after = wire.sent[2], wire.sent[8]  # one from each side of the rebase
    sent = stream.nacked(viewer, [before.sequence_number, after.sequence_number, 7])
    assert sent == 2, "the unknown sequence number is ignored"
    resent = wire.sent[-2:]
    for original, again in zip((before, after), resent, strict=True):
        assert again.ssrc == 2222
        assert again.payload_type == 97
        assert struct.unpack("!H", again.payload[:2])[0] == original.sequence_number
        assert again.payload[2:] == original.payload
        assert again.timestamp == original.timestamp
    assert sequence_newer(resent[1].sequence_number, resent[0].sequence_number)
    assert viewer.retransmitted == 2


def test_without_rtx_a_nacked_packet_is_resent_as_it_was() -> None:
    stream = forwarder()
    wire, viewer = Wire(), subscriber()
    stream.add(viewer, params(), wire)
    for packet in video_frames(10, 0, 3):
        stream.push(packet)
    original = wire.sent[4]
    assert stream.nacked(viewer, [original.sequence_number]) == 1
    again = wire.sent[-1]
    assert (again.ssrc, again.sequence_number, again.payload) == (
        original.ssrc,
        original.sequence_number,
        original.payload,
    )


def test_a_returning_publisher_continues_sequence_and_timestamps() -> None:
    old, new = forwarder(), forwarder()
    wire, viewer = Wire(), subscriber()
    old.add(viewer, params(), wire)
    for packet in video_frames(40_000, 123_456, 5):
        old.push(packet)
    last = wire.sent[-1]
    old.remove(viewer)
    new.adopt(viewer, gap_seconds=2.0)
    for packet in video_frames(7, 99, 3):  # a new encoder: other sequence and clock bases
        new.push(packet)
    resumed = wire.sent[15]
    assert resumed.sequence_number == (last.sequence_number + 1) & 0xFFFF
    assert (resumed.timestamp - last.timestamp) & 0xFFFFFFFF == 180_000
    assert_contiguous(wire.sequences)
    assert resumed.ssrc == last.ssrc


def test_duplicates_from_the_publisher_are_dropped() -> None:
    stream, wire = forwarder(), Wire()
    stream.add(subscriber(), params(), wire)
    packets = video_frames(0, 0, 2)
    for packet in packets + packets[2:4]:
        stream.push(packet)
    assert len(wire.sent) == 6
    assert stream.duplicates == 2


def test_late_packets_keep_their_place() -> None:
    stream, wire = forwarder(), Wire()
    stream.add(subscriber(), params(), wire)
    packets = video_frames(0, 0, 2)
    order = [0, 1, 2, 4, 5, 3]  # 3 recovered upstream after 4 and 5
    for index in order:
        stream.push(packets[index])
    first = wire.sent[0].sequence_number
    assert [(p.sequence_number - first) & 0xFFFF for p in wire.sent] == order


def test_header_extensions_are_the_viewers_own() -> None:
    stream = StreamForwarder("audio", 48_000, Requests(), clock=lambda: 0x1234_5678 << 32)
    wire = Wire()
    stream.add(Subscriber("audio"), params(profile=AUDIO_PROFILE), wire)
    stream.push(SourcePacket(5, 960, False, b"opus", keyframe=True, audio_level=0x80 | 30))
    sent = wire.sent[0]
    assert sent.extensions.mid == "1"
    assert sent.extensions.audio_level == (True, 30)
    assert sent.extensions.abs_send_time is None
    video_wire = Wire()
    video = forwarder()
    video.add(subscriber(), params(), video_wire)
    video.push(video_frames(0, 0, 1)[0])
    assert video_wire.sent[0].extensions.mid == "0"
    assert video_wire.sent[0].extensions.abs_send_time == ((1 << 40) >> 14) & 0xFFFFFF
    bare = Wire()
    video.add(subscriber(3), params(profile=ExtensionProfile(ExtensionIds(), "")), bare)
    video.push(video_frames(1, 0, 1)[1])
    assert bare.sent[0].extensions.mid is None


def test_sender_report_numbers() -> None:
    stream, wire, viewer = forwarder(), Wire(), subscriber()
    assert viewer.sender_report(1) is None
    stream.add(viewer, params(), wire)
    for packet in video_frames(0, 0, 2):
        stream.push(packet)
    ntp, timestamp, packets, octets = viewer.sender_report(stream.last_ntp) or (0, 0, 0, 0)
    assert (ntp, timestamp, packets, octets) == (1 << 40, wire.sent[-1].timestamp, 6, 600)


def test_a_batch_sends_what_it_held_when_it_closes_in_order() -> None:
    batch = Batch()
    stream, wire = forwarder(batch=batch), Wire()
    stream.add(subscriber(), params(), wire)
    frames = video_frames(100, 0, 4)
    stream.push(frames[0])  # the first keyframe starts the viewer (at once: it was waiting)
    assert len(wire.sent) == 1
    with batch:
        for packet in frames[1:6]:
            stream.push(packet)
        assert len(wire.sent) == 1, "nothing leaves while the batch is open"
        with batch:  # nested: only the outermost close sends
            stream.push(frames[6])
        assert len(wire.sent) == 1
    assert len(wire.sent) == 7
    assert_contiguous(wire.sequences)
    stream.push(frames[7])
    assert len(wire.sent) == 8, "with no batch open a packet goes at once"


def test_a_newcomer_joins_after_the_held_packets_without_duplicates() -> None:
    """A keyframe arriving inside a batch starts a waiting viewer: the live viewer gets the
    held packets first, the newcomer gets the keyframe on, and nobody gets a packet twice."""
    batch = Batch()
    requests = Requests()
    stream = forwarder(requests, batch=batch)
    early, late = Wire(), Wire()
    stream.add(subscriber(1), params(), early)
    frames = video_frames(500, 0, 12, keyframe_every=10)  # keyframes: frames 0 and 10
    for packet in frames[:3]:
        stream.push(packet)
    stream.add(subscriber(2), params(ssrc=3333), late)  # catches up from frame 0's keyframe
    assert len(late.sent) == 3
    late.full = True
    with batch:
        for packet in frames[3:6]:
            stream.push(packet)
    assert len(late.sent) == 3, "backed up: waits for the next keyframe"
    late.full = False
    with batch:
        for packet in frames[6:36]:  # frame 10's keyframe starts at packet 30
            stream.push(packet)
    assert len(early.sent) == 36
    assert_contiguous(early.sequences)
    assert len(late.sent) == 3 + 6
    assert_contiguous(late.sequences)
    assert [p.payload[0] for p in late.sent[3:]] == [10, 10, 10, 11, 11, 11]
    assert requests.count >= 1


def test_a_withheld_track_sends_and_keeps_nothing_then_resumes_on_a_keyframe() -> None:
    requests = Requests()
    stream = forwarder(requests)
    wire, viewer = Wire(), subscriber()
    stream.add(viewer, params(), wire)
    packets = video_frames(1_000, 0, 40)  # keyframes at frames 0, 10, 20, 30
    for packet in packets[:15]:  # frames 0..4 go out
        stream.push(packet)
    assert len(wire.sent) == 15
    stream.withhold()
    for packet in packets[15:45]:  # frames 5..14, off the record
        stream.push(packet)
    assert len(wire.sent) == 15, "nothing leaves while withheld"
    assert stream.withheld_packets == 30 and stream.history.latest is None
    assert stream.packets_in == 45, "the publisher's health still counts what arrives"
    late, late_wire = subscriber(2), Wire()
    stream.add(late, params(2), late_wire)  # a viewer who joins off the record waits too
    assert stream.subscribers == 2 and late_wire.sent == []
    assert stream.nacked(viewer, [wire.sequences[-1] + 1]) == 0, "nothing kept to resend"

    asked = requests.count
    stream.release()
    assert requests.count == asked + 1, "a keyframe is asked for at once"
    for packet in packets[45:60]:  # frames 15..19: no keyframe yet, nobody starts
        stream.push(packet)
    assert len(wire.sent) == 15 and late_wire.sent == []
    for packet in packets[60:]:  # frame 20 is a keyframe: both start there
        stream.push(packet)
    resumed = wire.sent[15]
    assert resumed.payload == packets[60].payload
    assert_contiguous(wire.sequences)  # no gap the viewer would NACK
    assert (resumed.timestamp - wire.sent[14].timestamp) & 0xFFFFFFFF == 16 * 3000, (
        "timestamps show the time that passed"
    )
    assert [p.payload for p in late_wire.sent] == [p.payload for p in packets[60:]]


def test_a_numbering_that_starts_again_runs_on_for_the_viewers() -> None:
    """A packet far behind the latest is a new numbering (an encoder restarted, another
    SSRC on the payload type, a jump of half the sequence space), not a late packet: sent
    behind the latest, it took each viewer's SRTP index back past libsrtp's replay window,
    where libsrtp refuses to protect, and the viewers got nothing for up to 32,768 packets."""
    stream, wire = forwarder(), Wire()
    stream.add(subscriber(), params(), wire)
    for first in (40_000, 40_000 - MAX_MISORDER - 1, 40_000 + 0x8000):
        for packet in video_frames(first, first * 3000, 4):
            stream.push(packet)
    assert stream.restarts == 2
    assert_contiguous(wire.sequences)
    packets = video_frames(7, 0, 4)
    for packet in packets[:5] + packets[6:]:
        stream.push(packet)
    stream.push(packets[5])  # a late packet of the new numbering keeps its place
    stream.push(video_frames(7, 0, 1)[2])  # a duplicate, known under its new number
    assert (stream.restarts, stream.duplicates) == (3, 1)
    assert len(wire.sent) == 48
    sent = wire.sequences
    assert_contiguous(sent[:41])
    assert (sent[41] - sent[40], sent[-1] - sent[40]) == (2, 1), "a gap, then filled"


def test_a_nack_resends_each_packet_once_per_interval_and_within_a_budget() -> None:
    """A NACK of 1.2 KB names up to 5,000 sequence numbers: unbounded, the server resent a
    packet as often as it was named, about a thousand packets per NACK."""
    now = [1 << 40]
    stream = StreamForwarder("video", 90_000, Requests(), clock=lambda: now[0], history=4096)
    wire, viewer = Wire(), subscriber()
    stream.add(viewer, params(), wire)
    for packet in video_frames(0, 0, 1000):
        stream.push(packet)
    named = wire.sent[100].sequence_number
    assert stream.nacked(viewer, [named] * 5_000 + [named + 0x10000]) == 1
    assert stream.nacked(viewer, [named]) == 0, "again at once: it is on its way"
    now[0] += int(RESEND_INTERVAL * (1 << 32)) + 1
    assert stream.nacked(viewer, [named]) == 1
    every = [packet.sequence_number for packet in wire.sent[:3000]]
    assert stream.nacked(viewer, every) == RESEND_BURST - 1, "as many as the budget holds"
    now[0] += 1 << 31  # half a second refills half the rate
    assert stream.nacked(viewer, every) == RESEND_RATE // 2
    assert viewer.retransmitted == stream.retransmitted == 1 + RESEND_BURST + RESEND_RATE // 2
