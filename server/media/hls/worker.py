"""The packaging worker: one process per packaged publication, never one per viewer.

``python -m server.media.hls.worker --video vp8 --audio opus`` reads encoded frames on
stdin (see :mod:`server.media.hls.wire`) and writes init segments and parts on stdout.
H.264 is remuxed as it is; VP8 is decoded and encoded to H.264 here, once, with a keyframe
every :data:`~server.media.hls.segmenter.SEGMENT_SECONDS` so segments can start on one;
Opus becomes AAC (which every HLS player plays). It runs in its own process because the
encoding takes a good part of a core, which the media process's event loop must not lose.
"""

from __future__ import annotations

import argparse
import contextlib
import fractions
import logging
import sys
from collections.abc import Callable
from typing import Any, BinaryIO

import av
import av.error

from recordings.recorder import h264_dimensions, h264_nal_units, opus_samples
from server.media.hls.fmp4 import AAC_FRAME, AUDIO_TIMESCALE, VIDEO_TIMESCALE, AacConfig, AvcConfig
from server.media.hls.segmenter import SEGMENT_SECONDS, Output, Segmenter
from server.media.hls.wire import EncodedFrame, encode_output, read_frames

log = logging.getLogger("plenaria.media.hls.worker")

VIDEO_TIME_BASE = fractions.Fraction(1, VIDEO_TIMESCALE)
AUDIO_TIME_BASE = fractions.Fraction(1, AUDIO_TIMESCALE)
VIDEO_BITRATE = 2_500_000
AUDIO_BITRATE = 128_000
X264_OPTIONS = {
    "preset": "veryfast",
    "tune": "zerolatency",  # no lookahead, no B-frames: a frame out for each frame in
    "profile": "main",
    "forced-idr": "1",
    "x264-params": "scenecut=0:keyint=100000:repeat-headers=1",
}
LONGEST_SILENCE_FILLED = 5 * AUDIO_TIMESCALE
"""An audio gap up to this long is filled with silence so the audio track stays contiguous;
after a longer one the audio starts again where it is."""

NAL_IDR = 5
NAL_SPS = 7
NAL_PPS = 8
NAL_AUD = 9


def decode(
    decoder: Any, data: bytes, ticks: int, time_base: fractions.Fraction
) -> list[Any] | None:
    """The frames ``data`` decodes to; None when the decoder cannot read it (a damaged
    frame: what depends on it is skipped until the next keyframe)."""
    packet = av.Packet(data)
    packet.pts = ticks
    packet.time_base = time_base
    try:
        return list(decoder.decode(packet))
    except av.error.FFmpegError:
        return None


class H264Remux:
    """Annex B access units to AVCC samples, parameter sets kept for the init segment."""

    def __init__(self, segmenter: Segmenter) -> None:
        self._segmenter = segmenter
        self._sps: bytes | None = None
        self._pps: bytes | None = None
        self._size = (0, 0)
        self._config: AvcConfig | None = None

    def add(self, ticks: int, annex_b: bytes) -> None:
        units = h264_nal_units(annex_b)
        sync = False
        sample: list[bytes] = []
        for unit in units:
            if not unit:
                continue
            kind = unit[0] & 0x1F
            if kind == NAL_SPS:
                if unit != self._sps:
                    size = h264_dimensions(annex_b)
                    if size is not None and len(unit) >= 4:
                        self._sps = unit
                        self._config = None
                        self._size = size
            elif kind == NAL_PPS:
                if unit != self._pps:
                    self._pps = unit
                    self._config = None
            elif kind != NAL_AUD:
                sync = sync or kind == NAL_IDR
                sample.append(len(unit).to_bytes(4, "big") + unit)
        if self._sps is None or self._pps is None or not sample:
            return
        if self._config is None:
            self._config = AvcConfig(self._sps, self._pps, *self._size)
        self._segmenter.video(ticks, b"".join(sample), sync, self._config)


class Vp8ToH264:
    """Decodes VP8 and encodes H.264 at the first picture's size, a keyframe every
    segment."""

    def __init__(self, remux: H264Remux) -> None:
        self._remux = remux
        self._decoder: Any = av.CodecContext.create("vp8", "r")
        self._encoder: Any = None
        self._last_keyframe: int | None = None
        self._waiting_for_keyframe = True

    def add(self, ticks: int, data: bytes, keyframe: bool) -> None:
        if self._waiting_for_keyframe and not keyframe:
            return
        frames = decode(self._decoder, data, ticks, VIDEO_TIME_BASE)
        self._waiting_for_keyframe = frames is None
        if frames is None:
            return
        for frame in frames:
            self._encode(frame, ticks)

    def _encode(self, frame: Any, ticks: int) -> None:
        if self._encoder is None:
            self._encoder = open_h264_encoder(
                frame.width - frame.width % 2, frame.height - frame.height % 2
            )
        encoder = self._encoder
        size = (encoder.width, encoder.height)
        if (frame.width, frame.height) != size or frame.format.name != "yuv420p":
            frame = frame.reformat(width=size[0], height=size[1], format="yuv420p")
        frame.pts = ticks
        frame.time_base = VIDEO_TIME_BASE
        due = (
            self._last_keyframe is None
            or ticks - self._last_keyframe >= SEGMENT_SECONDS * VIDEO_TIMESCALE
        )
        frame.pict_type = av.video.frame.PictureType.I if due else av.video.frame.PictureType.NONE
        if due:
            self._last_keyframe = ticks
        for packet in encoder.encode(frame):
            self._remux.add(packet.pts if packet.pts is not None else ticks, bytes(packet))


def open_h264_encoder(width: int, height: int) -> Any:
    encoder: Any = av.CodecContext.create("libx264", "w")
    encoder.width = width
    encoder.height = height
    encoder.pix_fmt = "yuv420p"
    encoder.time_base = VIDEO_TIME_BASE
    encoder.framerate = 30
    encoder.bit_rate = VIDEO_BITRATE
    encoder.options = dict(X264_OPTIONS)
    encoder.open()
    return encoder


class OpusToAac:
    """Decodes Opus and encodes AAC in frames of 1024 samples, numbered contiguously."""

    def __init__(self, segmenter: Segmenter) -> None:
        self._segmenter = segmenter
        self._decoder: Any = av.CodecContext.create("opus", "r")
        self._decoder.sample_rate = AUDIO_TIMESCALE
        self._decoder.layout = "stereo"
        self._resampler = av.AudioResampler(
            format="fltp", layout="stereo", rate=AUDIO_TIMESCALE, frame_size=AAC_FRAME
        )
        encoder: Any = av.CodecContext.create("aac", "w")
        encoder.sample_rate = AUDIO_TIMESCALE
        encoder.layout = "stereo"
        encoder.format = "fltp"
        encoder.bit_rate = AUDIO_BITRATE
        encoder.time_base = AUDIO_TIME_BASE
        encoder.open()
        self._encoder = encoder
        segmenter.configure_audio(AacConfig(bytes(encoder.extradata)))
        self._next_input: int | None = None
        self._next_output: int | None = None

    def add(self, ticks: int, data: bytes) -> None:
        if self._next_input is not None:
            gap = ticks - self._next_input
            if 0 < gap <= LONGEST_SILENCE_FILLED and gap >= AAC_FRAME:
                self._encode(silence(gap))
            elif gap > LONGEST_SILENCE_FILLED or gap < -LONGEST_SILENCE_FILLED:
                self._next_output = None  # start again where the audio is now
        if self._next_output is None:
            self._next_output = ticks
        self._next_input = ticks + opus_samples(data)
        for frame in decode(self._decoder, data, ticks, AUDIO_TIME_BASE) or []:
            self._encode(frame)

    def _encode(self, frame: Any) -> None:
        for chunk in self._resampler.resample(frame):
            chunk.pts = None
            for packet in self._encoder.encode(chunk):
                assert self._next_output is not None
                self._segmenter.audio(self._next_output, bytes(packet))
                self._next_output += AAC_FRAME


def silence(samples: int) -> Any:
    frame = av.AudioFrame(format="fltp", layout="stereo", samples=samples)
    frame.sample_rate = AUDIO_TIMESCALE
    for plane in frame.planes:
        plane.update(bytes(plane.buffer_size))
    return frame


class Packager:
    """What the worker does with each frame, given where its outputs go."""

    def __init__(self, video: str, audio: str, emit: Callable[[Output], None]) -> None:
        self.segmenter = Segmenter(emit, has_video=video != "none", has_audio=audio != "none")
        remux = H264Remux(self.segmenter)
        self._vp8 = Vp8ToH264(remux) if video == "vp8" else None
        self._h264 = remux if video == "h264" else None
        self._opus = OpusToAac(self.segmenter) if audio == "opus" else None

    def add(self, frame: EncodedFrame) -> None:
        if frame.kind == "audio":
            if self._opus is not None:
                self._opus.add(frame.ticks, frame.data)
        elif self._vp8 is not None:
            self._vp8.add(frame.ticks, frame.data, frame.keyframe)
        elif self._h264 is not None:
            self._h264.add(frame.ticks, frame.data)


def run(source: BinaryIO, sink: BinaryIO, video: str, audio: str) -> None:
    def emit(output: Output) -> None:
        sink.write(encode_output(output))
        sink.flush()

    packager = Packager(video, audio, emit)
    for frame in read_frames(source):
        packager.add(frame)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m server.media.hls.worker")
    parser.add_argument("--video", choices=("h264", "vp8", "none"), required=True)
    parser.add_argument("--audio", choices=("opus", "none"), required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    with contextlib.suppress(BrokenPipeError, KeyboardInterrupt):  # the media process left
        run(sys.stdin.buffer, sys.stdout.buffer, args.video, args.audio)


if __name__ == "__main__":
    main()
