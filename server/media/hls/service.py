"""HLS packaging in a media process: one channel per packaged panel, made on demand.

The first request for a panel's playlist starts a channel: a packaging worker process
(:mod:`server.media.hls.worker`) fed from the publication's frame broadcasts, like the
recorder, and read back into a :class:`LivePlaylist`. Requests wait on the channel for
what they ask (the first segment, a blocking reload's part, a hinted part). A channel ends
with its publication, when its worker dies, or after :data:`IDLE_SECONDS` without a
request; the next request starts a new one (a new run, so caches never mix the two).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import sys
import time
from collections.abc import Callable, Coroutine
from typing import Any

from aiortc.mediastreams import MediaStreamError

from recordings.timeline import TrackClock
from server.media.engine import MediaEngine, Publication
from server.media.hls.fmp4 import AUDIO_TIMESCALE, VIDEO_TIMESCALE
from server.media.hls.playlist import LivePlaylist
from server.media.hls.segmenter import SEGMENT_SECONDS, InitReady
from server.media.hls.wire import (
    OUTPUT_HEADER,
    EncodedFrame,
    WireError,
    decode_output,
    encode_frame,
)
from server.media.relay import ForwardedTrack
from server.media.stream_key import StreamKey
from server.media.workers import die_with_parent

log = logging.getLogger("plenaria.media.hls")

IDLE_SECONDS = 60.0
REAP_EVERY_SECONDS = 5.0
BACKLOG_BYTES = 8 << 20
"""Frames waiting in the worker's pipe beyond this (a worker that cannot keep up) are
dropped up to the next keyframe."""
RESYNC_SECONDS = 5.0
WORKER_CODECS = {"video/vp8": "vp8", "video/h264": "h264", "audio/opus": "opus"}
RATES = {"video": VIDEO_TIMESCALE, "audio": AUDIO_TIMESCALE}


class UnsupportedCodecError(ValueError):
    """The publication's codec cannot be packaged for HLS."""


def worker_codecs(codecs: dict[str, str]) -> tuple[str, str]:
    """The worker's ``--video`` and ``--audio`` for a publication's MIME types."""
    chosen = []
    for kind in ("video", "audio"):
        mime = codecs.get(kind)
        if mime is None:
            chosen.append("none")
        elif (name := WORKER_CODECS.get(mime.lower())) is None:
            raise UnsupportedCodecError(mime)
        else:
            chosen.append(name)
    if chosen == ["none", "none"]:
        raise UnsupportedCodecError("nothing to package")
    return chosen[0], chosen[1]


class Channel:
    """One publication being packaged: its worker, its feeders and its playlist."""

    def __init__(self, publication: Publication) -> None:
        self.publication = publication
        self.playlist = LivePlaylist(secrets.token_hex(4), time.time())
        self.last_used = time.monotonic()
        self.ended = False
        self.parts = 0
        self._origin = time.monotonic()
        self._updated = asyncio.Event()
        self._process: asyncio.subprocess.Process | None = None
        self._tracks: list[ForwardedTrack] = []
        self._tasks: set[asyncio.Task[None]] = set()
        withheld = publication.withheld_kinds()
        self._kinds = [kind for kind in publication.broadcasts if kind not in withheld]
        self.video_mode, self._audio_mode = worker_codecs(
            {kind: publication.codecs[kind] for kind in self._kinds}
        )
        """How the worker takes the video: ``h264`` remuxed, ``vp8`` transcoded, ``none``."""

    async def start(self) -> None:
        video, audio = self.video_mode, self._audio_mode
        self._process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "server.media.hls.worker", "--video", video, "--audio", audio,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            preexec_fn=die_with_parent,
        )  # fmt: skip
        feeders = []
        for kind in self._kinds:
            track = self.publication.broadcasts[kind].subscribe()
            self._tracks.append(track)
            feeders.append(self._feed(kind, track))
        self._spawn(self._feed_all(feeders))
        self._spawn(self._read())

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _feed_all(self, feeders: list[Coroutine[Any, Any, None]]) -> None:
        try:
            await asyncio.gather(*feeders)
        finally:
            if self._process is not None and self._process.stdin is not None:
                self._process.stdin.close()

    async def _feed(self, kind: str, track: ForwardedTrack) -> None:
        assert self._process is not None
        assert self._process.stdin is not None
        pipe = self._process.stdin
        clock = TrackClock(RATES[kind], RESYNC_SECONDS)
        last_keyframe = time.monotonic()
        skipping = False
        while True:
            try:
                packet = await track.recv()
            except MediaStreamError:
                return
            now = time.monotonic()
            keyframe = kind != "video" or bool(packet.is_keyframe)
            if keyframe:
                last_keyframe = now
            elif self.video_mode == "h264" and now - last_keyframe > SEGMENT_SECONDS:
                # remuxed segments start on the publisher's keyframes: ask for one in time
                # (a transcoding worker makes its own, so every viewer is spared them)
                track.request_keyframe()
            if pipe.is_closing():
                return
            if pipe.transport.get_write_buffer_size() > BACKLOG_BYTES:
                if kind == "video" and not skipping:
                    skipping = True
                    track.request_keyframe()
                    log.warning("the HLS worker fell behind: skipping to a keyframe")
                continue
            if skipping and kind == "video":
                if not keyframe:
                    continue
                skipping = False
            ticks = clock.place(packet.pts or 0, packet.time_base, now - self._origin)
            frame = EncodedFrame(
                "video" if kind == "video" else "audio", keyframe, ticks, bytes(packet)
            )
            pipe.write(encode_frame(frame))

    async def _read(self) -> None:
        assert self._process is not None
        assert self._process.stdout is not None
        output = self._process.stdout
        try:
            while True:
                header = await output.readexactly(OUTPUT_HEADER.size)
                kind, size = OUTPUT_HEADER.unpack(header)
                item = decode_output(kind, await output.readexactly(size))
                if isinstance(item, InitReady):
                    self.playlist.add_init(item)
                else:
                    self.playlist.add_part(item)
                    self.parts += 1
                self._notify()
        except (asyncio.IncompleteReadError, WireError) as error:
            if isinstance(error, WireError):
                log.error("the HLS worker's output cannot be read", extra={"error": str(error)})
        finally:
            self.ended = True
            self._notify()
            await self.close()

    def _notify(self) -> None:
        self._updated.set()
        self._updated = asyncio.Event()

    async def wait_for(self, ready: Callable[[], bool], seconds: float) -> bool:
        """Whether ``ready()`` became true within ``seconds`` (False once the channel
        ended)."""
        deadline = time.monotonic() + seconds
        while not ready():
            left = deadline - time.monotonic()
            if self.ended or left <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._updated.wait(), left)
        return True

    async def close(self) -> None:
        self.ended = True
        for track in self._tracks:
            track.stop()
        process = self._process
        if process is not None and process.returncode is None:
            if process.stdin is not None:
                process.stdin.close()
            try:
                await asyncio.wait_for(process.wait(), 2)
            except TimeoutError:
                process.kill()
                await process.wait()
        current = asyncio.current_task()
        for task in list(self._tasks):
            if task is not current:
                task.cancel()


class HlsPackaging:
    """The channels of one media process."""

    def __init__(self, engine: MediaEngine) -> None:
        self.engine = engine
        self.channels: dict[StreamKey, Channel] = {}
        self.retired_parts = 0
        self._starting: dict[StreamKey, asyncio.Future[Channel]] = {}
        self._reaper: asyncio.Task[None] | None = None

    async def channel(self, key: StreamKey) -> Channel | None:
        """The channel packaging ``key``'s publication here, started if need be; None when
        this process publishes nothing for ``key``."""
        publication = self.engine.live(key)
        if publication is None:
            return None
        channel = self.channels.get(key)
        if channel is not None and not channel.ended and channel.publication is publication:
            channel.last_used = time.monotonic()
            return channel
        starting = self._starting.get(key)
        if starting is None:
            starting = asyncio.ensure_future(self._start(publication))
            self._starting[key] = starting
            starting.add_done_callback(lambda _: self._starting.pop(key, None))
        return await asyncio.shield(starting)

    async def restart(self, session: str) -> None:
        """End the packaging of ``session``'s panel: what it may send changed (off the
        record, or heard but not seen); the next request starts it again as it now is."""
        key = StreamKey.panel(session)
        if (channel := self.channels.get(key)) is not None:
            await self._retire(key, channel)

    async def _start(self, publication: Publication) -> Channel:
        old = self.channels.get(publication.key)
        if old is not None:
            await self._retire(publication.key, old)
        channel = Channel(publication)
        await channel.start()
        self.channels[publication.key] = channel
        if self._reaper is None:
            self._reaper = asyncio.create_task(self._reap())
        log.info("packaging for HLS", extra={"stream": str(publication.key)})
        return channel

    async def _reap(self) -> None:
        while True:
            await asyncio.sleep(REAP_EVERY_SECONDS)
            now = time.monotonic()
            for key, channel in list(self.channels.items()):
                gone = self.engine.live(key) is not channel.publication
                if channel.ended or gone or now - channel.last_used > IDLE_SECONDS:
                    await self._retire(key, channel)

    @property
    def parts(self) -> int:
        """Parts made since this process started."""
        return self.retired_parts + sum(c.parts for c in self.channels.values())

    async def _retire(self, key: StreamKey, channel: Channel) -> None:
        if self.channels.get(key) is channel:
            del self.channels[key]
            self.retired_parts += channel.parts
        await channel.close()

    async def close(self) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        for channel in list(self.channels.values()):
            await channel.close()
        self.channels.clear()
