"""What passes between a media process and its packaging worker over the worker's pipes.

Into the worker (stdin): encoded frames as they came from the publisher, already placed on
the publication's timeline. Out of it (stdout): init segments and parts. Every message is
a fixed header and a payload; nothing is trusted to be well-formed beyond that.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Literal

from server.media.hls.segmenter import InitReady, Output, PartReady

Kind = Literal["video", "audio"]
KINDS: tuple[Kind, Kind] = ("video", "audio")

FRAME_HEADER = struct.Struct("!BBqI")
"""kind (0 video, 1 audio), keyframe, ticks (90 kHz video, 48 kHz audio), payload size"""
OUTPUT_HEADER = struct.Struct("!BI")
"""0 init / 1 part, size of what follows"""
INIT_FIELDS = struct.Struct("!IH")
PART_FIELDS = struct.Struct("!IIHd?d")
MAX_PAYLOAD = 16 << 20


class WireError(ValueError):
    """A message that cannot be read: the other side is broken, not merely slow."""


@dataclass(frozen=True, slots=True)
class EncodedFrame:
    kind: Kind
    keyframe: bool
    ticks: int
    data: bytes


def encode_frame(frame: EncodedFrame) -> bytes:
    header = FRAME_HEADER.pack(
        KINDS.index(frame.kind), frame.keyframe, frame.ticks, len(frame.data)
    )
    return header + frame.data


def read_frames(stream: BinaryIO) -> Iterator[EncodedFrame]:
    """Frames until the stream ends."""
    while header := _read_exactly(stream, FRAME_HEADER.size):
        kind, keyframe, ticks, size = FRAME_HEADER.unpack(header)
        if kind >= len(KINDS) or size > MAX_PAYLOAD:
            raise WireError(f"bad frame header {header.hex()}")
        yield EncodedFrame(KINDS[kind], bool(keyframe), ticks, _read_exactly(stream, size))


def _read_exactly(stream: BinaryIO, size: int) -> bytes:
    data = stream.read(size)
    if data and len(data) < size:
        raise WireError("cut off")
    return data


def encode_output(output: Output) -> bytes:
    if isinstance(output, InitReady):
        codecs = output.codecs.encode()
        body = INIT_FIELDS.pack(output.init, len(codecs)) + codecs + output.data
        return OUTPUT_HEADER.pack(0, len(body)) + body
    fields = PART_FIELDS.pack(
        output.init, output.segment, output.index, output.duration, output.independent,
        output.start,
    )  # fmt: skip
    body = fields + output.data
    return OUTPUT_HEADER.pack(1, len(body)) + body


def decode_output(kind: int, body: bytes) -> Output:
    try:
        if kind == 0:
            init, length = INIT_FIELDS.unpack_from(body)
            codecs = body[INIT_FIELDS.size : INIT_FIELDS.size + length].decode()
            return InitReady(init, body[INIT_FIELDS.size + length :], codecs)
        if kind == 1:
            init, segment, index, duration, independent, start = PART_FIELDS.unpack_from(body)
            data = body[PART_FIELDS.size :]
            return PartReady(init, segment, index, duration, independent, start, data)
    except (struct.error, UnicodeDecodeError) as error:
        raise WireError(str(error)) from None
    raise WireError(f"unknown output kind {kind}")
