"""The forwarding loop alone: µs of CPU per forwarded packet, against the floor.

Feeds 30 s of 720p VP8 at 1.5 Mbit/s (packetised as a publisher would) through the media
engine's ``StreamForwarder`` with N viewers, each with its own SRTP context and its own UDP
socket sending to a loopback port (as each WebRTC viewer has its own ICE socket). The floor,
in the same run, is the least any forwarder must do per viewer per packet: pack a 12-byte
header, SRTP-protect, one ``sendto``. CPU time of this one process (no event loop, no aiortc
tasks), best of 3.

    .venv/bin/python bench/forward_loop.py [--viewers 1,16,64]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import struct
import sys
import time
from pathlib import Path
from typing import Any

from aiortc.codecs.vpx import VpxPayloadDescriptor
from pylibsrtp import Policy, Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.fanout import encode_clip
from bench.forwarding_paths import SECONDS, publisher_rtp
from server.media.aiortc_glue import vp8_rtp_keyframe
from server.media.rtp_forwarding import (
    ExtensionIds,
    ExtensionProfile,
    SourcePacket,
    StreamForwarder,
    Subscriber,
    SubscriberParameters,
)

HEADER = struct.Struct("!BBHII")


def srtp_session() -> Session:
    return Session(Policy(key=os.urandom(30), ssrc_type=Policy.SSRC_ANY_OUTBOUND))


def source_packets(rtp: list[bytes]) -> list[SourcePacket]:
    packets = []
    for data in rtp:
        _, marker_pt, sequence, timestamp, _ = HEADER.unpack_from(data)
        payload = data[12:]
        _, frame = VpxPayloadDescriptor.parse(payload)
        keyframe = vp8_rtp_keyframe(payload, frame)
        packets.append(
            SourcePacket(sequence, timestamp, bool(marker_pt & 0x80), payload, keyframe=keyframe)
        )
    return packets


class Sockets:
    """One UDP socket per viewer, all sending to one loopback sink nobody reads (the
    kernel drops what overflows, as it would for a slow viewer)."""

    def __init__(self, count: int) -> None:
        self.sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sink.bind(("127.0.0.1", 0))
        self.address = self.sink.getsockname()
        self.senders = []
        for _ in range(count):
            sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sender.setblocking(False)
            self.senders.append(sender)

    def close(self) -> None:
        for sender in self.senders:
            sender.close()
        self.sink.close()


def make_sink(session: Session, sender: socket.socket, address: Any) -> Any:
    """As ``aiortc_glue.sink_for`` makes it: protect, then ``sendto``."""
    protect = session.protect
    send = sender.sendto

    def sink(data: bytes) -> bool:
        send(protect(data), address)
        return True

    return sink


def engine_run(packets: list[SourcePacket], viewers: int) -> float:
    sockets = Sockets(viewers)
    forwarder = StreamForwarder("video", 90_000, lambda: None)
    profile = ExtensionProfile(ExtensionIds(mid=1, abs_send_time=3), "0")
    for index, sender in enumerate(sockets.senders):
        sink = make_sink(srtp_session(), sender, sockets.address)
        forwarder.add(Subscriber("video"), SubscriberParameters(1000 + index, 96, 90_000, profile),
                      sink)  # fmt: skip
    started = time.process_time()
    for packet in packets:
        forwarder.push(packet)
    spent = time.process_time() - started
    sockets.close()
    assert forwarder.packets_out >= len(packets) * viewers * 0.99, forwarder.packets_out
    return spent


def floor_run(packets: list[SourcePacket], viewers: int) -> float:
    sockets = Sockets(viewers)
    sessions = [srtp_session() for _ in range(viewers)]
    started = time.process_time()
    for packet in packets:
        for index, sender in enumerate(sockets.senders):
            data = HEADER.pack(0x80, 96, packet.sequence, packet.timestamp, 1000 + index)
            sender.sendto(sessions[index].protect(data + packet.payload), sockets.address)
    spent = time.process_time() - started
    sockets.close()
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--viewers", default="1,16,64")
    args = parser.parse_args()
    clip = encode_clip(SECONDS)
    packets = source_packets(publisher_rtp(clip))
    results: dict[str, Any] = {"packets": len(packets), "seconds_of_stream": SECONDS}
    for viewers in [int(v) for v in args.viewers.split(",")]:
        forwarded = len(packets) * viewers
        engine = min(engine_run(packets, viewers) for _ in range(3))
        floor = min(floor_run(packets, viewers) for _ in range(3))
        results[str(viewers)] = {
            "engine_us_per_forwarded_packet": round(engine / forwarded * 1e6, 2),
            "floor_us_per_forwarded_packet": round(floor / forwarded * 1e6, 2),
            "engine_vs_floor": round(engine / floor, 2),
            "engine_cpu_percent_per_viewer": round(engine / SECONDS / viewers * 100, 3),
        }
        print(viewers, results[str(viewers)], file=sys.stderr)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
