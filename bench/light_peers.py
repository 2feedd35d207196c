"""Load-generator peers that cost the box as little as a real WebRTC peer can.

Both do real ICE, DTLS and SRTP with the server through aiortc, so the server does its full
per-peer work; after that they skip aiortc's media machinery:

- :class:`CountingViewer` counts the SRTP datagrams it receives, straight from the socket:
  SRTP leaves the 12-byte RTP header in clear, so sequence numbers (loss), payload types
  (audio or video) and marker bits (video frames) are read without unprotecting,
  depacketising or buffering anything. It sends no RTCP, so the server gets no NACKs.
  Its socket leaves the event loop's selector: one :class:`SocketDrain` per process reads
  every viewer's socket dry every few milliseconds, so nobody sleeps on a viewer's socket and
  the server's ``sendto`` wakes no reader. Over a network the sender wakes nobody either;
  on loopback, a reader blocked per socket would bill the server for the viewers' wake-ups.
- :class:`PacedPublisher` sends a pre-packetised clip at real-time pace through the media
  engine's own RTP path (a ``StreamForwarder`` with one subscriber: the server), so nothing
  is packetised, queued or awaited per packet. Sequence numbers and timestamps run on across
  the clip's loops.
"""

from __future__ import annotations

import asyncio
import ctypes
import fractions
import os
import select
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
from aiortc import RTCPeerConnection

from server.media import aiortc_glue
from server.media.rtp_forwarding import SourcePacket, StreamForwarder, Subscriber

SO_ATTACH_FILTER = 26

# -- loopback only ------------------------------------------------------------------------------


def pin_ice_to_loopback() -> None:
    """Make aioice gather 127.0.0.1 only in this process (by default it skips loopback and
    offers the machine's other addresses): a benchmark's traffic stays on loopback."""
    import aioice.ice

    def loopback(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return ["127.0.0.1"]

    aioice.ice.get_host_addresses = loopback


LOOPBACK_SITECUSTOMIZE = """import aioice.ice

aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]
"""


def loopback_environment(folder: Path) -> dict[str, str]:
    """The environment for a Python server under test whose aioice gathers 127.0.0.1 only
    (a ``sitecustomize`` on its ``PYTHONPATH``)."""
    site = folder / "loopback-site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(LOOPBACK_SITECUSTOMIZE)
    path = os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path}


# -- viewers ------------------------------------------------------------------------------------


@dataclass
class StreamCount:
    """One received SSRC: packets, bytes, frames (marker bits) and loss from sequence gaps."""

    kind: str
    packets: int = 0
    octets: int = 0
    frames: int = 0
    first: int = -1
    highest: int = -1
    """Extended (unwrapped) highest sequence number seen."""

    def add(self, sequence: int, marker: bool, size: int) -> None:
        self.packets += 1
        self.octets += size
        if marker:
            self.frames += 1
        if self.first < 0:
            self.first = self.highest = sequence
            return
        ahead = (sequence - self.highest) & 0xFFFF
        if ahead < 0x8000:
            self.highest += ahead

    @property
    def expected(self) -> int:
        return self.highest - self.first + 1 if self.packets else 0

    @property
    def lost(self) -> int:
        return max(self.expected - self.packets, 0)


@dataclass
class Counts:
    """What one worker's viewers received, summed by kind."""

    packets: dict[str, int] = field(default_factory=dict)
    octets: dict[str, int] = field(default_factory=dict)
    frames: dict[str, int] = field(default_factory=dict)
    expected: dict[str, int] = field(default_factory=dict)
    rtcp: int = 0

    def add_json(self, other: dict[str, Any]) -> None:
        """Add another worker's counts (as ``as_json`` gave them)."""
        self.rtcp += other["rtcp"]
        for name in ("packets", "octets", "frames", "expected"):
            table: dict[str, int] = getattr(self, name)
            for kind, value in other[name].items():
                table[kind] = table.get(kind, 0) + value

    def as_json(self) -> dict[str, Any]:
        return {
            "packets": self.packets,
            "octets": self.octets,
            "frames": self.frames,
            "expected": self.expected,
            "rtcp": self.rtcp,
        }


def payload_kinds(sdp: str) -> dict[int, str]:
    """Payload type → ``audio`` / ``video``, from an SDP's m-lines."""
    kinds: dict[int, str] = {}
    for line in sdp.splitlines():
        if line.startswith("m="):
            media, _, _, *types = line[2:].split()
            for payload_type in types:
                if payload_type.isdigit():
                    kinds[int(payload_type)] = media
    return kinds


class SocketDrain:
    """Reads its sockets dry every ``interval`` seconds, outside the event loop's selector,
    handing each datagram to its socket's handler. An epoll set that nobody waits on tells
    it which sockets have anything, so idle sockets cost no reads."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.handlers: dict[int, tuple[Any, Callable[[bytes, Any], None]]] = {}
        self._ready = select.epoll()
        self._task: asyncio.Task[None] | None = None

    def add(self, sock: Any, handler: Callable[[bytes, Any], None]) -> None:
        fd = sock.fileno()
        asyncio.get_running_loop()._remove_reader(fd)  # type: ignore[attr-defined]
        self.handlers[fd] = (sock, handler)
        self._ready.register(fd, select.EPOLLIN)
        if self._task is None:
            self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            for fd, _ in self._ready.poll(0):
                sock, handler = self.handlers[fd]
                while True:
                    try:
                        data, address = sock.recvfrom(2048)
                    except BlockingIOError:
                        break
                    except OSError:
                        self._ready.unregister(fd)
                        del self.handlers[fd]
                        break
                    handler(data, address)


_drain: SocketDrain | None = None


def socket_drain() -> SocketDrain:
    """This process's drain."""
    global _drain
    if _drain is None:
        _drain = SocketDrain()
    return _drain


def drop_rtp_in_kernel(sock: Any) -> None:
    """Attach a classic BPF filter to ``sock`` that drops every RTP and RTCP datagram (first
    byte 0x80-0xBF) in the kernel and lets STUN and DTLS through to aiortc."""
    instructions = [
        (0x30, 0, 0, 8),  # A = the first payload byte (the filter sees the UDP header first)
        (0x35, 0, 2, 0x80),  # A >= 0x80? go on : accept
        (0x35, 1, 0, 0xC0),  # A >= 0xC0? accept : drop
        (0x06, 0, 0, 0),  # drop
        (0x06, 0, 0, 0xFFFFFFFF),  # accept
    ]
    program = ctypes.create_string_buffer(
        b"".join(struct.pack("HBBI", *instruction) for instruction in instructions)
    )
    fprog = struct.pack("HL", len(instructions), ctypes.addressof(program))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)  # the kernel copies it


class SilentViewer:
    """A viewer that keeps its connection (ICE consent, DTLS) but whose socket drops every
    media packet in the kernel: it costs the load generator nothing per packet, and the
    server everything a viewer costs it. Loss is measured on counting viewers beside it."""

    def __init__(self, peer: RTCPeerConnection) -> None:
        self.peer = peer

    def take_over(self) -> None:
        for transceiver in self.peer.getTransceivers():
            connection = transceiver.receiver.transport.transport._connection
            for protocol in connection._protocols:
                sock = getattr(protocol.transport, "_sock", None)
                if sock is not None:
                    drop_rtp_in_kernel(sock)
            break  # BUNDLE: one transport


class CountingViewer:
    """A viewer whose media never reaches aiortc: see the module docstring."""

    def __init__(self, peer: RTCPeerConnection) -> None:
        self.peer = peer
        self.streams: dict[int, StreamCount] = {}
        self.rtcp = 0
        self.first_packet_at: float | None = None

    def take_over(self, kinds: dict[int, str]) -> None:
        """Count from now on; call once the connection is up."""
        for transceiver in self.peer.getTransceivers():
            connection = transceiver.receiver.transport.transport._connection
            for protocol in connection._protocols:
                counter = self._counter(protocol.datagram_received, kinds)
                protocol.datagram_received = counter  # type: ignore[method-assign]
                sock = getattr(protocol.transport, "_sock", None)  # the raw socket
                if sock is not None:
                    socket_drain().add(sock, counter)
            break  # BUNDLE: one transport

    def _counter(self, slow: Callable[[Any, Any], None], kinds: dict[int, str]) -> Any:
        streams = self.streams

        def datagram_received(data: bytes, address: Any) -> None:
            if len(data) < 12 or not 127 < data[0] < 192:
                slow(data, address)  # STUN (consent) and DTLS carry on
                return
            if 191 < data[1] < 209:
                self.rtcp += 1
                return
            ssrc = int.from_bytes(data[8:12], "big")
            stream = streams.get(ssrc)
            if stream is None:
                stream = streams[ssrc] = StreamCount(kinds.get(data[1] & 0x7F, "other"))
                if self.first_packet_at is None:
                    self.first_packet_at = time.monotonic()
            stream.add(int.from_bytes(data[2:4], "big"), data[1] & 0x80 != 0, len(data))

        return datagram_received

    def add_to(self, counts: Counts) -> None:
        counts.rtcp += self.rtcp
        for stream in self.streams.values():
            for table, value in (
                (counts.packets, stream.packets),
                (counts.octets, stream.octets),
                (counts.frames, stream.frames),
                (counts.expected, stream.expected),
            ):
                table[stream.kind] = table.get(stream.kind, 0) + value


async def stop_processes(processes: list[asyncio.subprocess.Process], command: bytes) -> None:
    """Ask worker processes to finish (``command`` on their stdin); kill what lingers."""
    for process in processes:
        if process.returncode is None and process.stdin is not None:
            process.stdin.write(command + b"\n")
    for process in processes:
        try:
            await asyncio.wait_for(process.wait(), 20)
        except TimeoutError:
            process.kill()
            await process.wait()


# -- publishers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PacketisedClip:
    """A clip packetised once: per frame, its RTP payloads and whether it is a keyframe."""

    kind: str
    frames: list[tuple[list[bytes], bool]]
    frame_seconds: float
    ticks_per_frame: int

    @classmethod
    def from_packets(
        cls, kind: str, mime_type: str, packets: list[Any], rate: float
    ) -> PacketisedClip:
        """From encoded ``av.Packet``s."""
        encoded = [(bytes(p), kind != "video" or bool(p.is_keyframe)) for p in packets]
        return cls.from_frames(kind, mime_type, encoded, rate)

    @classmethod
    def from_frames(
        cls, kind: str, mime_type: str, encoded: list[tuple[bytes, bool]], rate: float
    ) -> PacketisedClip:
        """From (encoded frame, is keyframe) pairs."""
        packetizer = aiortc_glue.FramePacketizer(mime_type)
        frames: list[tuple[list[bytes], bool]] = []
        for index, (data, key) in enumerate(encoded):
            packet = av.Packet(data)
            packet.pts = index  # the timestamps are the publisher's, at send time
            packet.time_base = fractions.Fraction(1, 1000)
            packet.is_keyframe = key or kind != "video"
            rtp = packetizer.packetize(packet)
            frames.append(([p.payload for p in rtp], rtp[0].keyframe))
        clock = 90_000 if kind == "video" else 48_000
        return cls(kind, frames, 1 / rate, round(clock / rate))


class PacedPublisher:
    """Sends clips at real-time pace from one task per track, through a forwarder."""

    def __init__(
        self, peer: RTCPeerConnection, clips: dict[str, PacketisedClip], start: float = 0.0
    ) -> None:
        self.peer = peer
        self.clips = clips
        self.start_at = start
        """Where in the clips to begin, as a fraction (members of a room start apart, so
        their keyframes do not coincide)."""
        self.forwarders: dict[str, StreamForwarder] = {}
        self.tasks: list[asyncio.Task[None]] = []
        self.sent: dict[str, int] = {}

    def add_tracks(self) -> None:
        """Before the offer: one send-only transceiver per clip, whose aiortc sender idles."""
        for kind in self.clips:
            transceiver = self.peer.addTransceiver(kind, direction="sendonly")
            forwarder = StreamForwarder(kind, 90_000 if kind == "video" else 48_000, lambda: None)
            aiortc_glue.wire_sender(transceiver.sender, forwarder, Subscriber(kind))
            self.forwarders[kind] = forwarder

    def start(self) -> None:
        """Once connected: start sending."""
        for transceiver in self.peer.getTransceivers():
            forwarder = self.forwarders[transceiver.kind]
            sink = aiortc_glue.sink_for(transceiver.sender)
            assert sink is not None, "not connected"
            wired = getattr(transceiver.sender, aiortc_glue.WIRED)
            forwarder.add(wired.subscriber, aiortc_glue.subscriber_parameters(transceiver), sink)
            self.tasks.append(asyncio.create_task(self._send(transceiver.kind, forwarder)))

    async def _send(self, kind: str, forwarder: StreamForwarder) -> None:
        clip = self.clips[kind]
        started = time.monotonic()
        sequence = 0
        self.sent[kind] = 0
        index = 0
        offset = int(self.start_at * len(clip.frames))
        while True:
            due = started + index * clip.frame_seconds
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            payloads, keyframe = clip.frames[(offset + index) % len(clip.frames)]
            timestamp = (index * clip.ticks_per_frame) & 0xFFFFFFFF
            for part, payload in enumerate(payloads):
                forwarder.push(
                    SourcePacket(
                        sequence & 0xFFFF,
                        timestamp,
                        part == len(payloads) - 1,
                        payload,
                        keyframe=keyframe and part == 0,
                    )
                )
                sequence += 1
            self.sent[kind] += 1
            index += 1

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.peer.close()
