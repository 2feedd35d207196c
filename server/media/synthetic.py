"""A synthetic panel for the demo: a moving test pattern and a tone, encoded once.

A thread reads PyAV's lavfi sources, encodes VP8 video and Opus audio at real-time pace
and hands the packets to the event loop; the forwarding engine then treats them exactly
like a publisher's, so a newcomer sees and hears a live panel with no camera.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import fractions
import logging
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av.video.frame import PictureType

from server.media.engine import MediaEngine
from server.media.stream_key import StreamKey

if TYPE_CHECKING:
    Packet = av.Packet[Any]
else:
    Packet = av.Packet

log = logging.getLogger("plenaria.media")

WIDTH, HEIGHT, FPS = 640, 360, 25
VIDEO_BITRATE = 800_000
KEYFRAME_EVERY = 2 * FPS
QUEUE_PACKETS = 100


class PacketTrack(MediaStreamTrack):
    """A track fed with encoded packets from another thread."""

    def __init__(self, kind: str, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self.kind = kind
        self._feed_loop = loop
        self._queue: asyncio.Queue[Packet | None] = asyncio.Queue(maxsize=QUEUE_PACKETS)

    def feed(self, packet: Packet | None) -> None:
        """Thread-safe; drops the packet when nobody reads."""
        self._feed_loop.call_soon_threadsafe(self._put, packet)

    def _put(self, packet: Packet | None) -> None:
        if not self._queue.full():
            self._queue.put_nowait(packet)

    async def recv(self) -> Packet:
        packet = await self._queue.get()
        if packet is None:
            raise MediaStreamError
        return packet


def video_encoder() -> Any:
    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height = WIDTH, HEIGHT
    encoder.pix_fmt = "yuv420p"
    encoder.time_base = fractions.Fraction(1, FPS)
    encoder.framerate = fractions.Fraction(FPS)
    encoder.bit_rate = VIDEO_BITRATE
    encoder.gop_size = KEYFRAME_EVERY
    encoder.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    return encoder


def audio_encoder() -> Any:
    encoder = av.CodecContext.create("libopus", "w")
    encoder.sample_rate = 48_000
    encoder.layout = "stereo"
    encoder.format = "s16"
    encoder.time_base = fractions.Fraction(1, 48_000)
    encoder.open()
    return encoder


class SyntheticPanel:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.video = PacketTrack("video", loop)
        self.audio = PacketTrack("audio", loop)
        self._stop = threading.Event()
        self._keyframe = threading.Event()
        self._threads = [
            threading.Thread(target=self._run_video, name="synthetic-video", daemon=True),
            threading.Thread(target=self._run_audio, name="synthetic-audio", daemon=True),
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    async def request_keyframe(self) -> None:
        self._keyframe.set()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self.video.feed(None)
        self.audio.feed(None)

    def _paced(self, frames: Iterator[Any], per_second: float) -> Iterator[Any]:
        started = time.monotonic()
        for index, frame in enumerate(frames):
            if self._stop.is_set():
                return
            delay = started + index / per_second - time.monotonic()
            if delay > 0:
                self._stop.wait(delay)
            yield frame

    def _run_video(self) -> None:
        try:
            source = av.open(f"testsrc2=size={WIDTH}x{HEIGHT}:rate={FPS}", format="lavfi")
            encoder = video_encoder()
            for frame in self._paced(source.decode(video=0), FPS):
                image = frame.reformat(format="yuv420p")
                wanted = self._keyframe.is_set()
                self._keyframe.clear()
                image.pict_type = PictureType.I if wanted else PictureType.NONE
                for packet in encoder.encode(image):
                    self.video.feed(packet)
        except Exception:
            log.exception("the synthetic video stopped")

    def _run_audio(self) -> None:
        try:
            source = av.open("sine=frequency=440:sample_rate=48000", format="lavfi")
            encoder = audio_encoder()
            resampler = av.AudioResampler(
                format="s16", layout="stereo", rate=48_000, frame_size=encoder.frame_size
            )
            frames = (f for raw in source.decode(audio=0) for f in resampler.resample(raw))
            for frame in self._paced(frames, 48_000 / encoder.frame_size):
                for packet in encoder.encode(frame):
                    if packet.pts is not None and packet.pts >= 0:
                        self.audio.feed(packet)
        except Exception:
            log.exception("the synthetic audio stopped")


def start_synthetic_panel(engine: MediaEngine, session_code: str, now: dt.datetime) -> None:
    """Publish a synthetic panel into ``session_code`` until the engine closes."""
    panel = SyntheticPanel(asyncio.get_running_loop())
    engine.publish_local(
        StreamKey.panel(session_code),
        [(panel.video, panel.request_keyframe, "video/VP8"), (panel.audio, None, "audio/opus")],
        now,
        panel.stop,
    )
    panel.start()
