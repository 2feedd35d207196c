"""Looking into finished recordings: a poster image and what the file holds.

Both decode or demux with PyAV and block: run them in a thread (``asyncio.to_thread``).
"""

from __future__ import annotations

import contextlib
import fractions
import os
from pathlib import Path
from typing import Any

import av
import av.error

POSTER_WIDTH = 1280
"""Posters wider than this are scaled down."""
SEEK_FROM_SECONDS = 10.0
"""Nearer the start than this, decoding from the start is cheaper than seeking."""


def make_poster(path: Path, out: Path, at_seconds: float = 2.0) -> bool:
    """Decode one video frame near ``at_seconds`` (the last one, if the recording is
    shorter) and write it to ``out`` as a JPEG, replacing ``out`` atomically. Returns False
    when the file has no video (or no decodable frame, or is not a media file at all);
    a missing file raises :class:`FileNotFoundError`."""
    frame = _frame_near(path, at_seconds)
    if frame is None:
        return False
    width, height = frame.width, frame.height
    if width > POSTER_WIDTH:
        width, height = POSTER_WIDTH, round(height * POSTER_WIDTH / width / 2) * 2
    image = frame.reformat(width=width, height=height, format="yuvj420p")
    encoder: Any = av.CodecContext.create("mjpeg", "w")
    encoder.width, encoder.height = width, height
    encoder.pix_fmt = "yuvj420p"
    encoder.time_base = fractions.Fraction(1, 25)
    image.pts = 0
    data = b"".join(bytes(packet) for packet in [*encoder.encode(image), *encoder.encode(None)])
    partial = out.with_name(f".{out.name}.partial")
    try:
        partial.write_bytes(data)
        os.replace(partial, out)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return True


def _frame_near(path: Path, at_seconds: float) -> Any:
    try:
        container = av.open(str(path))
    except av.error.FileNotFoundError:
        raise
    except av.error.FFmpegError:  # empty or not a media file at all: no video
        return None
    with container:
        if not container.streams.video:
            return None
        stream = container.streams.video[0]
        if at_seconds >= SEEK_FROM_SECONDS and stream.time_base:
            with contextlib.suppress(av.error.FFmpegError):
                container.seek(int(at_seconds / stream.time_base), stream=stream)
        found = _decode_until(container, stream, at_seconds)
    if found is None and at_seconds >= SEEK_FROM_SECONDS:  # the seek went too far
        with av.open(str(path)) as container:
            found = _decode_until(container, container.streams.video[0], at_seconds)
    return found


def _decode_until(container: Any, stream: Any, at_seconds: float) -> Any:
    last = None
    with contextlib.suppress(av.error.FFmpegError):  # a cut-off file ends in garbage
        for frame in container.decode(stream):
            last = frame
            if frame.time is not None and frame.time >= at_seconds:
                break
    return last


def probe(path: Path) -> tuple[float, dict[str, str]]:
    """The duration in seconds and the codec name by kind (``{"video": "vp8", "audio":
    "opus"}``). A file cut off by a crash has no duration in its header: it is then
    measured from its packets (demuxed, not decoded). A file FFmpeg cannot open at all
    (empty: the recording failed before its first keyframe was written) gives
    ``(0.0, {})``; a missing one raises :class:`FileNotFoundError`."""
    try:
        container = av.open(str(path))
    except av.error.FileNotFoundError:
        raise
    except av.error.FFmpegError:
        return 0.0, {}
    with container:
        codecs: dict[str, str] = {}
        for stream in container.streams:
            if stream.type in ("video", "audio") and stream.type not in codecs:
                context = stream.codec_context
                codecs[stream.type] = context.name if context is not None else "unknown"
        if container.duration is not None and container.duration > 0:
            return container.duration / av.time_base, codecs
        end = 0.0
        with contextlib.suppress(av.error.FFmpegError):
            for packet in container.demux():
                if packet.pts is None or packet.time_base is None:
                    continue
                length = packet.duration or 0
                end = max(end, float((packet.pts + length) * packet.time_base))
        start = container.start_time / av.time_base if container.start_time else 0.0
        return max(0.0, end - start), codecs
