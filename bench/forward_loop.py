"""The forwarding loop alone: µs of CPU per forwarded packet, against Python floors.

Feeds 30 s of 720p VP8 at 1.5 Mbit/s (packetised as a publisher would) through the media
engine's ``StreamForwarder`` with N viewers, each with its own SRTP context and its own UDP
socket sending to a loopback port (as each WebRTC viewer has its own ICE socket), through the
engine's compiled loop and sinks (``_fanout.c``). In the same run: the same sinks called one
by one from a Python loop, and the least a forwarder written in Python does per viewer per
packet (pack a 12-byte header, pylibsrtp's ``Session.protect``, one ``sendto``). SRTP
profile AEAD_AES_256_GCM (what aiortc and Chromium negotiate; pass ``--profile cm`` for
AES128_CM_SHA1_80). CPU time of this one process (no event loop, no
aiortc tasks), best of 3.

    .venv/bin/python bench/forward_loop.py [--viewers 1,16,64] [--profile gcm|cm]
"""

from __future__ import annotations

import argparse
import itertools
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
from server.media.aiortc_glue import udp_sink, vp8_rtp_keyframe
from server.media.rtp_forwarding import (
    Batch,
    ExtensionIds,
    ExtensionProfile,
    SourcePacket,
    StreamForwarder,
    Subscriber,
    SubscriberParameters,
)

HEADER = struct.Struct("!BBHII")


PROFILES = {
    "gcm": (Policy.SRTP_PROFILE_AEAD_AES_256_GCM, 44),
    "cm": (Policy.SRTP_PROFILE_AES128_CM_SHA1_80, 30),
}
PROFILE = PROFILES["gcm"]


def srtp_session() -> Session:
    profile, key_length = PROFILE
    return Session(
        Policy(key=os.urandom(key_length), ssrc_type=Policy.SSRC_ANY_OUTBOUND, srtp_profile=profile)
    )


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
    """As ``aiortc_glue.sink_for`` makes it (nothing is ever queued by asyncio here)."""
    return udp_sink(session, sender, address)


def engine_run(packets: list[SourcePacket], viewers: int, *, by_frame: bool = False) -> float:
    """The engine's forwarder; ``by_frame``: each frame's packets pushed inside one batch,
    as the drain of a publisher's socket delivers them (one segmented send per viewer)."""
    sockets = Sockets(viewers)
    batch = Batch()
    forwarder = StreamForwarder("video", 90_000, lambda: None, batch=batch)
    profile = ExtensionProfile(ExtensionIds(mid=1, abs_send_time=3), "0")
    for index, sender in enumerate(sockets.senders):
        sink = make_sink(srtp_session(), sender, sockets.address)
        forwarder.add(Subscriber("video"), SubscriberParameters(1000 + index, 96, 90_000, profile),
                      sink)  # fmt: skip
    frames = [list(group) for _, group in itertools.groupby(packets, lambda p: p.timestamp)]
    started = time.process_time()
    if by_frame:
        for frame in frames:
            with batch:
                for packet in frame:
                    forwarder.push(packet)
    else:
        for packet in packets:
            forwarder.push(packet)
    spent = time.process_time() - started
    sockets.close()
    assert forwarder.packets_out >= len(packets) * viewers * 0.99, forwarder.packets_out
    return spent


def python_run(packets: list[SourcePacket], viewers: int) -> float:
    """The least a forwarder written in Python does per viewer per packet: pack a header,
    pylibsrtp's ``Session.protect``, one ``sendto``."""
    sockets = Sockets(viewers)
    protectors = [srtp_session().protect for _ in range(viewers)]
    started = time.process_time()
    for packet in packets:
        for index, sender in enumerate(sockets.senders):
            data = HEADER.pack(0x80, 96, packet.sequence, packet.timestamp, 1000 + index)
            sender.sendto(protectors[index](data + packet.payload), sockets.address)
    spent = time.process_time() - started
    sockets.close()
    return spent


def sink_call_run(packets: list[SourcePacket], viewers: int) -> float:
    """Each viewer's compiled sink called from a Python loop: the engine's per-viewer work
    plus one interpreted call per viewer per packet."""
    sockets = Sockets(viewers)
    sinks = [make_sink(srtp_session(), s, sockets.address) for s in sockets.senders]
    started = time.process_time()
    for packet in packets:
        for index, sink in enumerate(sinks):
            sink(0x8060, packet.sequence, packet.timestamp, 1000 + index, packet.payload)
    spent = time.process_time() - started
    sockets.close()
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--viewers", default="1,16,64")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="gcm")
    args = parser.parse_args()
    global PROFILE
    PROFILE = PROFILES[args.profile]
    clip = encode_clip(SECONDS)
    packets = source_packets(publisher_rtp(clip))
    results: dict[str, Any] = {
        "packets": len(packets),
        "seconds_of_stream": SECONDS,
        "srtp_profile": args.profile,
    }
    for viewers in [int(v) for v in args.viewers.split(",")]:
        forwarded = len(packets) * viewers
        engine = min(engine_run(packets, viewers) for _ in range(3))
        by_frame = min(engine_run(packets, viewers, by_frame=True) for _ in range(3))
        sink_calls = min(sink_call_run(packets, viewers) for _ in range(3))
        python = min(python_run(packets, viewers) for _ in range(3))
        results[str(viewers)] = {
            "engine_us_per_forwarded_packet": round(engine / forwarded * 1e6, 2),
            "engine_by_frame_us": round(by_frame / forwarded * 1e6, 2),
            "sink_called_from_python_us": round(sink_calls / forwarded * 1e6, 2),
            "python_floor_us": round(python / forwarded * 1e6, 2),
            "engine_vs_python_floor": round(engine / python, 2),
            "engine_cpu_percent_per_viewer": round(engine / SECONDS / viewers * 100, 3),
        }
        print(viewers, results[str(viewers)], file=sys.stderr)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
