"""The glue's SRTP paths and the compiled forwarding loop, against pylibsrtp and real sockets.

``udp_sink`` must put on the wire exactly what pylibsrtp's ``Session.protect`` makes of the
same RTP packet; ``forward`` must rewrite each route as ``Subscriber.send`` promises; hostile
arguments must raise, never crash the process."""

from __future__ import annotations

import os
import socket
import struct
from collections.abc import Iterator

import pytest
from aiortc.rtp import RtcpPacket, RtcpSdesPacket, RtcpSrPacket
from pylibsrtp import Policy, Session

from server.media._fanout import MAX_PACKET, Route, UdpSink, forward, gso_enabled, gso_sends
from server.media.aiortc_glue import sender_report_packet, srtp_unprotector, udp_sink
from server.media.rtp_forwarding import Outgoing

PROFILES = [
    (Policy.SRTP_PROFILE_AES128_CM_SHA1_80, 30),
    (Policy.SRTP_PROFILE_AEAD_AES_128_GCM, 28),
    (Policy.SRTP_PROFILE_AEAD_AES_256_GCM, 44),
]
HEADER = struct.Struct("!HHII")


def packet(sequence: int, size: int) -> bytes:
    return struct.pack("!BBHII", 0x80, 96, sequence, sequence * 3000, 1234) + os.urandom(size)


def sessions(profile: int, key_length: int) -> tuple[Session, Session, Session]:
    """(stock sender, sender for the glue, receiver), all with one key."""
    key = os.urandom(key_length)

    def session(direction: int) -> Session:
        return Session(Policy(key=key, ssrc_type=direction, srtp_profile=profile))

    return (
        session(Policy.SSRC_ANY_OUTBOUND),
        session(Policy.SSRC_ANY_OUTBOUND),
        session(Policy.SSRC_ANY_INBOUND),
    )


@pytest.fixture
def sockets() -> Iterator[tuple[socket.socket, socket.socket]]:
    """(sender, receiver) on IPv4 loopback; the receiver times out rather than hang."""
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    receiver.settimeout(5)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.setblocking(False)
    yield sender, receiver
    sender.close()
    receiver.close()


def nothing_waiting(receiver: socket.socket) -> bool:
    """Loopback delivers within the ``sendto`` call, so an empty queue now means nothing
    was sent."""
    receiver.setblocking(False)
    try:
        receiver.recv(2048)
    except BlockingIOError:
        return True
    finally:
        receiver.settimeout(5)
    return False


def test_the_socket_sink_sends_what_pylibsrtp_protects(
    sockets: tuple[socket.socket, socket.socket],
) -> None:
    sender, receiver = sockets
    for profile, key_length in PROFILES:
        stock, fast, viewer = sessions(profile, key_length)
        sink = udp_sink(fast, sender, receiver.getsockname())
        for sequence, size in enumerate((0, 1, 160, 1200, MAX_PACKET - 12)):
            plain = packet(sequence, size)
            first_bits, seq, timestamp, ssrc = HEADER.unpack_from(plain)
            assert sink(first_bits, seq, timestamp, ssrc, plain[12:]) is True
            wire = receiver.recv(2048)
            assert wire == stock.protect(plain)
            assert viewer.unprotect(wire) == plain
        assert sink.sent == 5
        assert sink.refused == 0


def test_a_packet_too_long_for_srtp_is_dropped_not_raised(
    sockets: tuple[socket.socket, socket.socket],
) -> None:
    sender, receiver = sockets
    sink = udp_sink(sessions(*PROFILES[0])[1], sender, receiver.getsockname())
    assert sink(0x8060, 1, 2, 3, os.urandom(MAX_PACKET - 11)) is True, "dropped, not backed up"
    assert sink.sent == 0
    assert nothing_waiting(receiver)
    assert sink(0x8060, 2, 2, 3, b"x" * 100) is True
    assert len(receiver.recv(2048)) > 112


def test_the_sink_owns_its_descriptor(sockets: tuple[socket.socket, socket.socket]) -> None:
    """asyncio closing the viewer's socket must not let the number come back as another
    socket the sink would then send on; closing the sink stops it for good."""
    sender, receiver = sockets
    _, fast, viewer = sessions(*PROFILES[0])
    sink = udp_sink(fast, sender, receiver.getsockname())
    sender.close()
    assert sink(0x8060, 7, 70, 9, b"still") is True
    assert viewer.unprotect(receiver.recv(2048))[12:] == b"still"
    sink.close()
    assert sink.closed
    assert sink(0x8060, 8, 80, 9, b"gone") is True
    assert nothing_waiting(receiver)


def test_ipv6_viewers() -> None:
    receiver = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    try:
        receiver.bind(("::1", 0))
    except OSError:
        pytest.fail("this machine has no IPv6 loopback; the test needs one")
    receiver.settimeout(5)
    sender = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    try:
        _, fast, viewer = sessions(*PROFILES[1])
        sink = udp_sink(fast, sender, receiver.getsockname())
        assert sink(0x8060, 1, 2, 3, b"v6")
        assert viewer.unprotect(receiver.recv(2048))[12:] == b"v6"
    finally:
        sender.close()
        receiver.close()


def test_bad_sink_arguments_raise(sockets: tuple[socket.socket, socket.socket]) -> None:
    sender, _ = sockets
    session = sessions(*PROFILES[0])[1]
    with pytest.raises(ValueError, match="IPv4"):
        udp_sink(session, sender, ("localhost", 5000))
    with pytest.raises(ValueError, match="port"):
        udp_sink(session, sender, ("127.0.0.1", 70000))
    with pytest.raises(ValueError, match="non-null"):
        UdpSink(0, 0, session, sender.fileno(), socket.AF_INET, ("127.0.0.1", 1))
    with pytest.raises(OSError, match="Bad file descriptor"):
        UdpSink(1, 1, session, 10_000, socket.AF_INET, ("127.0.0.1", 1))
    sink = udp_sink(session, sender, ("127.0.0.1", 9))
    with pytest.raises(ValueError, match="sequence"):
        sink(0x8060, 1 << 16, 0, 0, b"")
    with pytest.raises(ValueError, match="ssrc"):
        sink(0x8060, 0, 0, 1 << 32, b"")
    with pytest.raises(TypeError):
        sink(0x8060, 0, 0, 0, "text")  # type: ignore[arg-type]


class Recorded:
    """A Python sink: what it was given, and whether it takes the next packet."""

    def __init__(self, accept: bool = True) -> None:
        self.accept = accept
        self.calls: list[tuple[int, int, int, int, bytes]] = []

    def __call__(
        self, first_bits: int, sequence: int, timestamp: int, ssrc: int, body: bytes
    ) -> bool:
        self.calls.append((first_bits, sequence, timestamp, ssrc, body))
        return self.accept


def route(
    sink: Recorded, *, ssrc: int, sequence_offset: int, timestamp_offset: int, profile: int = 0
) -> Route:
    r = Route()
    r.sink = sink
    r.first_bits = 0x9060
    r.ssrc = ssrc
    r.sequence_offset = sequence_offset
    r.timestamp_offset = timestamp_offset
    r.profile_index = profile
    return r


def outgoing(
    bodies: list[bytes], sequence: int, timestamp: int, *, marker: bool = False
) -> Outgoing:
    return (bodies, 0x80 if marker else 0, sequence, timestamp, len(bodies[0]))


def test_forward_rewrites_each_route_and_returns_the_backed_up() -> None:
    accepting, refusing = Recorded(), Recorded(accept=False)
    first = route(accepting, ssrc=11, sequence_offset=0xFFFF, timestamp_offset=0xFFFFFFFF)
    second = route(refusing, ssrc=22, sequence_offset=5, timestamp_offset=100, profile=1)
    assert Route().last_timestamp is None
    backed_up = forward(
        [first, second],
        [outgoing([b"a", b"bb"], 0, 10, marker=True), outgoing([b"c", b"dd"], 1, 10)],
    )
    assert backed_up == [second]
    assert accepting.calls == [
        (0x90E0, 0xFFFF, 9, 11, b"a"),
        (0x9060, 0, 9, 11, b"c"),
    ], "both wrap around"
    assert refusing.calls == [(0x90E0, 5, 110, 22, b"bb")], "a backed-up route stops"
    assert (first.last_sequence, first.last_timestamp, first.packets, first.octets) == (
        0,
        9,
        2,
        2,
    )
    assert (second.packets, second.last_timestamp) == (0, None), "nothing counted when refused"
    assert forward([first], [outgoing([b"e"], 2, 10)]) is None
    assert forward([first], []) is None
    assert first.transmit(b"f", 0, 3, 11, 1) is True
    assert accepting.calls[-1] == (0x9060, 2, 10, 11, b"f")
    assert first.packets == 4


def test_forward_refuses_what_it_cannot_send() -> None:
    good = route(Recorded(), ssrc=1, sequence_offset=0, timestamp_offset=0)
    packet_x = [outgoing([b"x"], 0, 0)]
    with pytest.raises(TypeError):
        forward([object()], packet_x)  # type: ignore[type-var]
    far = route(Recorded(), ssrc=1, sequence_offset=0, timestamp_offset=0, profile=3)
    with pytest.raises(IndexError):
        forward([far], packet_x)
    with pytest.raises(TypeError):
        forward([good], [(["x"], 0, 0, 0, 0)])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        forward([good], [b"x"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="marker"):
        forward([good], [([b"x"], 1, 0, 0, 0)])
    with pytest.raises(ValueError, match="range"):
        forward([good], [([b"x"], 0, 1 << 16, 0, 0)])
    with pytest.raises(RuntimeError, match="no sink"):
        forward([Route()], packet_x)
    with pytest.raises(RuntimeWarning):  # the suite turns warnings into errors
        good.sequence_offset = 1 << 16


def test_a_failing_python_sink_stops_the_loop_with_its_error() -> None:
    def broken(*_: object) -> bool:
        raise ConnectionError("gone")

    later = Recorded()
    failing = Route()
    failing.sink = broken
    with pytest.raises(ConnectionError):
        forward(
            [failing, route(later, ssrc=1, sequence_offset=0, timestamp_offset=0)],
            [outgoing([b"x"], 0, 0)],
        )
    assert later.calls == []


def received_rtp(receiver: socket.socket, viewer: Session, count: int) -> list[tuple[int, ...]]:
    """(first bits without P, sequence, timestamp, ssrc, body length, body's first byte) of
    each datagram, padding removed as a receiver does (RFC 3550 5.1)."""
    got: list[tuple[int, ...]] = []
    for _ in range(count):
        plain = viewer.unprotect(receiver.recv(65_536))
        first_bits, sequence, timestamp, ssrc = HEADER.unpack_from(plain)
        body = plain[12:]
        if first_bits & 0x2000:
            assert 0 < body[-1] <= len(body)
            body = body[: -body[-1]]
        got.append((first_bits & ~0x2000, sequence, timestamp, ssrc, len(body), body[0]))
    return got


@pytest.mark.parametrize("segmented", [True, False])
def test_a_batch_reaches_a_socket_viewer_as_the_same_packets(
    sockets: tuple[socket.socket, socket.socket], segmented: bool
) -> None:
    """Full-size packets, a shorter one in the middle (padded to travel with them), a
    frame's short last packet, one longer, one too much shorter to pad, and enough of
    them to span two rounds of the loop's buffers: each arrives, in order, as sent."""
    sender, receiver = sockets
    _, fast, viewer = sessions(*PROFILES[2])
    sink = udp_sink(fast, sender, receiver.getsockname())
    sizes = [1100] * 5 + [1000, 1100, 1100, 300, 1200, 900, 600] + [1100] * 60 + [40]
    batch = [
        outgoing([bytes([index % 251]) * size], index, 3000 * (index // 6), marker=index % 6 == 5)
        for index, size in enumerate(sizes)
    ]
    one = route(Recorded(), ssrc=77, sequence_offset=100, timestamp_offset=5)
    one.sink = sink
    one.first_bits = 0x8060  # no header extension: the bodies are bare payloads
    was_enabled = gso_enabled()
    gso_enabled(segmented)
    before = gso_sends()
    try:
        assert forward([one], batch) is None
    finally:
        gso_enabled(was_enabled)
    got = received_rtp(receiver, viewer, len(sizes))
    expected = [
        (
            0x8060 | (0x80 if index % 6 == 5 else 0),
            index + 100,
            3000 * (index // 6) + 5,
            77,
            size,
            index % 251,
        )
        for index, size in enumerate(sizes)
    ]
    assert got == expected
    assert nothing_waiting(receiver)
    assert sink.sent == len(sizes)
    assert (one.packets, one.last_sequence, one.octets) == (
        len(sizes),
        100 + len(sizes) - 1,
        sum(sizes),
    )
    if segmented:
        assert gso_sends() - before >= 3, "the trains of equal packets went as one send each"
    else:
        assert gso_sends() == before


def test_the_unprotector_verifies_and_refuses_tampering() -> None:
    key = os.urandom(30)
    sender = Session(Policy(key=key, ssrc_type=Policy.SSRC_ANY_OUTBOUND))
    unprotect = srtp_unprotector(Session(Policy(key=key, ssrc_type=Policy.SSRC_ANY_INBOUND)))
    plain = packet(5, 300)
    protected = sender.protect(plain)
    assert unprotect(protected) == plain
    assert unprotect(protected) is None, "a replay is refused"
    tampered = bytearray(sender.protect(packet(6, 300)))
    tampered[20] ^= 0xFF
    assert unprotect(bytes(tampered)) is None


def test_sender_reports_are_srtcp_a_viewer_reads(
    sockets: tuple[socket.socket, socket.socket],
) -> None:
    sender, receiver = sockets
    _, fast, viewer = sessions(*PROFILES[2])
    sink = udp_sink(fast, sender, receiver.getsockname())
    compound = sender_report_packet(0x1234, "plenaria-cname", ((5 << 32) | 7, 90_000, 3, 3000))
    assert sink.send_rtcp(compound) is True
    plain = viewer.unprotect_rtcp(receiver.recv(2048))
    assert plain == compound
    sr, sdes = RtcpPacket.parse(plain)
    assert isinstance(sr, RtcpSrPacket)
    assert (sr.ssrc, sr.sender_info.ntp_timestamp, sr.sender_info.rtp_timestamp) == (
        0x1234,
        (5 << 32) | 7,
        90_000,
    )
    assert (sr.sender_info.packet_count, sr.sender_info.octet_count) == (3, 3000)
    assert isinstance(sdes, RtcpSdesPacket)
    assert sdes.chunks[0].items == [(1, b"plenaria-cname")]
    with pytest.raises(ValueError, match="RTCP"):
        sink.send_rtcp(b"\x80")


def test_a_python_sink_that_changes_the_batch_under_the_loop_gets_an_error() -> None:
    """Hostile sinks: one empties the packets' bodies, one drops its route's reference to
    itself; the loop raises or carries on, and never reads freed memory."""
    bodies = [b"x"]

    def emptying(*_: object) -> bool:
        bodies.clear()
        return True

    first = route(Recorded(), ssrc=1, sequence_offset=0, timestamp_offset=0)
    first.sink = emptying
    second = route(Recorded(), ssrc=2, sequence_offset=0, timestamp_offset=0)
    with pytest.raises(IndexError):
        forward([first, second], [outgoing(bodies, 0, 0), outgoing(bodies, 1, 0)])

    third = route(Recorded(), ssrc=3, sequence_offset=0, timestamp_offset=0)

    def letting_go(*_: object) -> bool:
        third.sink = None
        return True

    third.sink = letting_go
    assert forward([third], [outgoing([b"y"], 0, 0)]) is None
    assert third.packets == 1
