"""Encoded test media made with PyAV's lavfi sources (no camera, no files): what a
publisher would send, placed on a timeline as the media process places it."""

from __future__ import annotations

import fractions
from collections.abc import Iterator
from typing import Any

import av
from av.video.frame import PictureType

from server.media.hls.wire import EncodedFrame

VIDEO_TICKS = 90_000
AUDIO_TICKS = 48_000


def video_frames(codec: str, seconds: float, *, fps: int = 25, keyframe_every: int = 50,
                 size: str = "320x240") -> Iterator[EncodedFrame]:  # fmt: skip
    """VP8 (``libvpx``) or H.264 (``libx264``, Annex B with its parameter sets in band)."""
    encoder: Any = av.CodecContext.create(codec, "w")
    width, height = (int(n) for n in size.split("x"))
    encoder.width, encoder.height = width, height
    encoder.pix_fmt = "yuv420p"
    encoder.time_base = fractions.Fraction(1, fps)
    encoder.framerate = fractions.Fraction(fps)
    encoder.gop_size = keyframe_every
    encoder.bit_rate = 300_000
    if codec == "libvpx":
        encoder.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    else:
        encoder.options = {
            "preset": "ultrafast", "tune": "zerolatency", "profile": "baseline",
            "x264-params": f"keyint={keyframe_every}:scenecut=0:repeat-headers=1",
        }  # fmt: skip
    source = av.open(f"testsrc2=size={size}:rate={fps}", format="lavfi")
    count = round(seconds * fps)
    for index, frame in enumerate(source.decode(video=0)):
        if index >= count:
            break
        image = frame.reformat(format="yuv420p")
        image.pts = index
        image.pict_type = PictureType.NONE  # the source marks every frame a keyframe
        for packet in encoder.encode(image):
            ticks = packet.pts * VIDEO_TICKS // fps
            yield EncodedFrame("video", bool(packet.is_keyframe), ticks, bytes(packet))
    source.close()


def opus_frames(seconds: float) -> Iterator[EncodedFrame]:
    """20 ms Opus frames of a 440 Hz tone."""
    encoder: Any = av.CodecContext.create("libopus", "w")
    encoder.sample_rate = AUDIO_TICKS
    encoder.layout = "stereo"
    encoder.format = "s16"
    encoder.time_base = fractions.Fraction(1, AUDIO_TICKS)
    encoder.open()
    resampler = av.AudioResampler(
        format="s16", layout="stereo", rate=AUDIO_TICKS, frame_size=encoder.frame_size
    )
    source = av.open("sine=frequency=440:sample_rate=48000", format="lavfi")
    produced = 0
    for raw in source.decode(audio=0):
        for frame in resampler.resample(raw):
            for packet in encoder.encode(frame):
                if packet.pts is not None and packet.pts >= 0:
                    yield EncodedFrame("audio", True, packet.pts, bytes(packet))
                    produced += 1
            if produced * encoder.frame_size >= seconds * AUDIO_TICKS:
                source.close()
                return


def interleaved(*tracks: Iterator[EncodedFrame]) -> list[EncodedFrame]:
    """The tracks' frames in the order of their times, as they would arrive."""
    frames = [frame for track in tracks for frame in track]
    rate = {"video": VIDEO_TICKS, "audio": AUDIO_TICKS}
    return sorted(frames, key=lambda f: f.ticks / rate[f.kind])
