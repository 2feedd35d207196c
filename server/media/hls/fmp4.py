"""Fragmented MP4 (ISO/IEC 14496-12, CMAF-style) for HLS: an init segment and fragments.

Only what LL-HLS of one H.264 video track and one AAC audio track needs: no edit lists,
no B-frames (composition time equals decode time), one sample description per track.
Each fragment is one ``moof`` + ``mdat``; an HLS part is one fragment and a segment is its
parts one after another.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

VIDEO_TRACK = 1
AUDIO_TRACK = 2
VIDEO_TIMESCALE = 90_000
AUDIO_TIMESCALE = 48_000
AAC_FRAME = 1024

SYNC_SAMPLE = 0x0200_0000
"""sample_depends_on = 2: depends on no other sample."""
NON_SYNC_SAMPLE = 0x0101_0000
"""sample_depends_on = 1, sample_is_non_sync_sample = 1."""

UNITY_MATRIX = struct.pack("!9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x4000_0000)
UNDETERMINED_LANGUAGE = 0x55C4
TRUN_FLAGS = 0x000001 | 0x000100 | 0x000200 | 0x000400
"""data-offset, sample-duration, sample-size and sample-flags present."""
DEFAULT_BASE_IS_MOOF = 0x020000


def box(kind: bytes, *payload: bytes) -> bytes:
    body = b"".join(payload)
    return struct.pack("!I", 8 + len(body)) + kind + body


def full_box(kind: bytes, version: int, flags: int, *payload: bytes) -> bytes:
    return box(kind, struct.pack("!I", (version << 24) | flags), *payload)


@dataclass(frozen=True, slots=True)
class AvcConfig:
    """An H.264 track's parameter sets (NAL units without start codes) and picture size."""

    sps: bytes
    pps: bytes
    width: int
    height: int

    @property
    def codec(self) -> str:
        """The RFC 6381 codec string, as HLS's CODECS attribute wants it."""
        return "avc1." + self.sps[1:4].hex()


@dataclass(frozen=True, slots=True)
class AacConfig:
    """An AAC track's AudioSpecificConfig (the encoder's extradata)."""

    specific_config: bytes
    channels: int = 2
    sample_rate: int = AUDIO_TIMESCALE

    @property
    def codec(self) -> str:
        object_type = self.specific_config[0] >> 3 if self.specific_config else 2
        return f"mp4a.40.{object_type}"


@dataclass(frozen=True, slots=True)
class Sample:
    """One access unit: AVCC (length-prefixed NAL units) for video, raw AAC for audio."""

    data: bytes
    duration: int
    sync: bool = True


@dataclass(frozen=True, slots=True)
class TrackRun:
    """One track's samples in a fragment, from ``decode_time`` on (in its timescale)."""

    track: int
    decode_time: int
    samples: Sequence[Sample]


def init_segment(video: AvcConfig | None, audio: AacConfig | None) -> bytes:
    tracks: list[bytes] = []
    extends: list[bytes] = []
    if video is not None:
        tracks.append(_video_trak(video))
        extends.append(_trex(VIDEO_TRACK))
    if audio is not None:
        tracks.append(_audio_trak(audio))
        extends.append(_trex(AUDIO_TRACK))
    if not tracks:
        raise ValueError("an init segment needs a track")
    ftyp = box(b"ftyp", b"iso6", struct.pack("!I", 0), b"iso6", b"cmfc", b"mp41")
    mvhd = full_box(
        b"mvhd", 0, 0,
        struct.pack("!IIII", 0, 0, 1000, 0),
        struct.pack("!IH", 0x10000, 0x0100), bytes(10), UNITY_MATRIX, bytes(24),
        struct.pack("!I", AUDIO_TRACK + 1),
    )  # fmt: skip
    return ftyp + box(b"moov", mvhd, *tracks, box(b"mvex", *extends))


def fragment(sequence: int, runs: Sequence[TrackRun]) -> bytes:
    """One ``moof`` + ``mdat`` with the given runs (those without samples are left out)."""
    runs = [run for run in runs if run.samples]
    if not runs:
        raise ValueError("a fragment needs a sample")
    mfhd = full_box(b"mfhd", 0, 0, struct.pack("!I", sequence))
    # Every box's size is known before the offsets are, so build once with zero offsets
    # to learn the moof's size, then again with the real ones.
    sizes = [sum(len(sample.data) for sample in run.samples) for run in runs]
    placeholder = box(b"moof", mfhd, *(_traf(run, 0) for run in runs))
    offset = len(placeholder) + 8
    trafs: list[bytes] = []
    for run, size in zip(runs, sizes, strict=True):
        trafs.append(_traf(run, offset))
        offset += size
    moof = box(b"moof", mfhd, *trafs)
    mdat = box(b"mdat", *(sample.data for run in runs for sample in run.samples))
    return moof + mdat


def _traf(run: TrackRun, data_offset: int) -> bytes:
    tfhd = full_box(b"tfhd", 0, DEFAULT_BASE_IS_MOOF, struct.pack("!I", run.track))
    tfdt = full_box(b"tfdt", 1, 0, struct.pack("!Q", run.decode_time))
    entries = b"".join(
        struct.pack("!III", s.duration, len(s.data), SYNC_SAMPLE if s.sync else NON_SYNC_SAMPLE)
        for s in run.samples
    )
    trun = full_box(
        b"trun", 0, TRUN_FLAGS, struct.pack("!Ii", len(run.samples), data_offset), entries
    )
    return box(b"traf", tfhd, tfdt, trun)


def _trex(track: int) -> bytes:
    return full_box(b"trex", 0, 0, struct.pack("!IIIII", track, 1, 0, 0, 0))


def _trak(
    track: int, timescale: int, handler: bytes, name: bytes, header: bytes, entry: bytes,
    *, volume: int, width: int = 0, height: int = 0,
) -> bytes:  # fmt: skip
    tkhd = full_box(
        b"tkhd", 0, 0x3,
        struct.pack("!IIII", 0, 0, track, 0), struct.pack("!I", 0), bytes(8),
        struct.pack("!hhhH", 0, 0, volume, 0), UNITY_MATRIX,
        struct.pack("!II", width << 16, height << 16),
    )  # fmt: skip
    mdhd = full_box(
        b"mdhd", 0, 0, struct.pack("!IIIIHH", 0, 0, timescale, 0, UNDETERMINED_LANGUAGE, 0)
    )
    hdlr = full_box(b"hdlr", 0, 0, struct.pack("!I", 0), handler, bytes(12), name + b"\0")
    url = full_box(b"url ", 0, 1)
    dinf = box(b"dinf", full_box(b"dref", 0, 0, struct.pack("!I", 1), url))
    stbl = box(
        b"stbl",
        full_box(b"stsd", 0, 0, struct.pack("!I", 1), entry),
        full_box(b"stts", 0, 0, struct.pack("!I", 0)),
        full_box(b"stsc", 0, 0, struct.pack("!I", 0)),
        full_box(b"stsz", 0, 0, struct.pack("!II", 0, 0)),
        full_box(b"stco", 0, 0, struct.pack("!I", 0)),
    )
    minf = box(b"minf", header, dinf, stbl)
    return box(b"trak", tkhd, box(b"mdia", mdhd, hdlr, minf))


def _video_trak(config: AvcConfig) -> bytes:
    avcc = box(
        b"avcC",
        bytes([1, config.sps[1], config.sps[2], config.sps[3], 0xFF, 0xE1]),
        struct.pack("!H", len(config.sps)), config.sps,
        bytes([1]), struct.pack("!H", len(config.pps)), config.pps,
    )  # fmt: skip
    avc1 = box(
        b"avc1",
        bytes(6), struct.pack("!H", 1), bytes(16),
        struct.pack("!HH", config.width, config.height),
        struct.pack("!II", 0x0048_0000, 0x0048_0000), bytes(4), struct.pack("!H", 1),
        bytes(32), struct.pack("!Hh", 0x18, -1), avcc,
    )  # fmt: skip
    vmhd = full_box(b"vmhd", 0, 1, bytes(8))
    return _trak(
        VIDEO_TRACK, VIDEO_TIMESCALE, b"vide", b"Plenaria video", vmhd, avc1,
        volume=0, width=config.width, height=config.height,
    )  # fmt: skip


def _descriptor(tag: int, *payload: bytes) -> bytes:
    body = b"".join(payload)
    if len(body) > 127:
        raise ValueError("descriptor too long")
    return bytes([tag, len(body)]) + body


def _audio_trak(config: AacConfig) -> bytes:
    decoder_config = _descriptor(
        0x04,
        bytes([0x40, 0x15]), bytes(3), struct.pack("!II", 0, 0),
        _descriptor(0x05, config.specific_config),
    )  # fmt: skip
    es = _descriptor(0x03, struct.pack("!HB", 0, 0), decoder_config, _descriptor(0x06, b"\x02"))
    mp4a = box(
        b"mp4a",
        bytes(6), struct.pack("!H", 1), bytes(8),
        struct.pack("!HHHH", config.channels, 16, 0, 0),
        struct.pack("!I", config.sample_rate << 16),
        full_box(b"esds", 0, 0, es),
    )  # fmt: skip
    smhd = full_box(b"smhd", 0, 0, bytes(4))
    return _trak(AUDIO_TRACK, AUDIO_TIMESCALE, b"soun", b"Plenaria audio", smhd, mp4a, volume=0x100)
