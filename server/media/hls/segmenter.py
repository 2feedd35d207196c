"""Cuts a publication's encoded samples into LL-HLS parts and segments (no I/O).

Video decides the cuts when there is video: a part closes before the frame that would take
it past :data:`PART_TARGET`, a segment closes at the first keyframe after
:data:`SEGMENT_SECONDS` (or, when the publisher sends no keyframe in time, at
:data:`LONGEST_SEGMENT_SECONDS`, leaving the next segment not independent). A video
sample's duration is only known when the next one arrives, so each track holds back its
newest sample. Audio samples go into the part their decode time falls in. Nothing is cut
before the first keyframe: a player can start at any segment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from server.media.hls.fmp4 import (
    AAC_FRAME,
    AUDIO_TIMESCALE,
    AUDIO_TRACK,
    VIDEO_TIMESCALE,
    VIDEO_TRACK,
    AacConfig,
    AvcConfig,
    Sample,
    TrackRun,
    fragment,
    init_segment,
)

PART_TARGET = 0.334
"""The announced part target (``EXT-X-PART-INF``): a part closes before the frame that would
take it past this, so at a steady frame rate parts last a third of a second or a little
less (0.32 s at 25 frames/s)."""
SEGMENT_SECONDS = 2.0
LONGEST_SEGMENT_SECONDS = 3.6
"""Longer than this, a segment closes without waiting for a keyframe (its EXTINF still
rounds to the announced target duration, 4 s)."""
TARGET_DURATION = 4


@dataclass(frozen=True, slots=True)
class InitReady:
    """A new init segment: the first one, or after the picture's parameters changed."""

    init: int
    data: bytes
    codecs: str


@dataclass(frozen=True, slots=True)
class PartReady:
    init: int
    segment: int
    index: int
    duration: float
    independent: bool
    start: float
    """Seconds since the publication's timeline began."""
    data: bytes


Output = InitReady | PartReady


@dataclass(slots=True)
class _Pending:
    decode_time: int
    data: bytes
    sync: bool


@dataclass(slots=True)
class _Part:
    start: int
    """In video ticks (90 kHz), or audio ticks for an audio-only publication."""
    video: list[Sample] = field(default_factory=list)
    video_start: int | None = None
    audio: list[Sample] = field(default_factory=list)
    audio_start: int | None = None


class Segmenter:
    """Feed decode-ordered samples with :meth:`video` and :meth:`audio`; parts and init
    segments go to ``emit`` in order."""

    def __init__(self, emit: Callable[[Output], None], *, has_video: bool, has_audio: bool):
        self._emit = emit
        self._has_video = has_video
        self._has_audio = has_audio
        self._avc: AvcConfig | None = None
        self._aac: AacConfig | None = None
        self._init = -1
        self._fragments = 0
        self._segment = -1
        self._segment_start = 0
        self._index = 0
        self._part: _Part | None = None
        self._pending_video: _Pending | None = None
        self._audio_queue: list[tuple[int, bytes]] = []

    @property
    def started(self) -> bool:
        return self._part is not None

    def configure_audio(self, config: AacConfig) -> None:
        self._aac = config

    def video(self, decode_time: int, data: bytes, sync: bool, config: AvcConfig) -> None:
        """One AVCC access unit at ``decode_time`` (90 kHz) with its parameter sets."""
        pending = self._pending_video
        if pending is not None and decode_time <= pending.decode_time:
            decode_time = pending.decode_time + 1
        if config != self._avc:
            if not sync:
                return  # new parameters take effect at a keyframe
            if self._part is not None and pending is not None:
                self._add_video(pending, decode_time - pending.decode_time)
                self._close(decode_time)
            self._avc = config
            self._part = None
            pending = self._pending_video = None
        if self._part is None:
            if not sync or (self._has_audio and self._aac is None):
                return  # both tracks' parameters go into every init segment
            self._new_init()
            self._open(decode_time, new_segment=True)
        elif pending is not None:
            self._add_video(pending, decode_time - pending.decode_time)
            part = self._part
            since_segment = decode_time - self._segment_start
            if (sync and since_segment >= SEGMENT_SECONDS * VIDEO_TIMESCALE) or (
                since_segment >= LONGEST_SEGMENT_SECONDS * VIDEO_TIMESCALE
            ):
                self._close(decode_time)
                self._open(decode_time, new_segment=True)
            elif 2 * decode_time - pending.decode_time - part.start > PART_TARGET * VIDEO_TIMESCALE:
                # (the new frame, lasting as long as the last, would pass the target)
                self._close(decode_time)
                self._open(decode_time, new_segment=False)
        self._pending_video = _Pending(decode_time, data, sync)

    def audio(self, decode_time: int, data: bytes) -> None:
        """One raw AAC frame (1024 samples) at ``decode_time`` (48 kHz); the caller keeps
        the frames contiguous."""
        if self._aac is None:
            return
        if not self._has_video:
            self._audio_only(decode_time, data)
        elif self._part is not None:
            self._audio_queue.append((decode_time, data))

    def _audio_only(self, decode_time: int, data: bytes) -> None:
        part = self._part
        if part is None:
            self._new_init()
            self._open(decode_time, new_segment=True)
        else:
            since_segment = decode_time - self._segment_start
            if since_segment >= SEGMENT_SECONDS * AUDIO_TIMESCALE:
                self._close(decode_time)
                self._open(decode_time, new_segment=True)
            elif decode_time + AAC_FRAME - part.start > PART_TARGET * AUDIO_TIMESCALE:
                self._close(decode_time)
                self._open(decode_time, new_segment=False)
        self._audio_queue.append((decode_time, data))

    def _timescale(self) -> int:
        return VIDEO_TIMESCALE if self._has_video else AUDIO_TIMESCALE

    def _new_init(self) -> None:
        self._init += 1
        avc = self._avc if self._has_video else None
        aac = self._aac if self._has_audio else None
        codecs = ",".join(c.codec for c in (avc, aac) if c is not None)
        self._emit(InitReady(self._init, init_segment(avc, aac), codecs))

    def _open(self, start: int, *, new_segment: bool) -> None:
        if new_segment:
            self._segment += 1
            self._segment_start = start
            self._index = 0
        self._part = _Part(start)

    def _add_video(self, pending: _Pending, duration: int) -> None:
        part = self._part
        assert part is not None
        if part.video_start is None:
            part.video_start = pending.decode_time
        part.video.append(Sample(pending.data, max(duration, 1), pending.sync))

    def _take_audio(self, until: int) -> list[Sample]:
        """Queued audio that starts before ``until`` (in the cutting track's ticks), out of
        the queue; sets the part's audio start."""
        part = self._part
        assert part is not None
        scale = self._timescale()
        taken: list[Sample] = []
        keep: list[tuple[int, bytes]] = []
        for decode_time, data in self._audio_queue:
            if decode_time * scale < until * AUDIO_TIMESCALE:
                if part.audio_start is None:
                    part.audio_start = decode_time
                taken.append(Sample(data, AAC_FRAME))
            else:
                keep.append((decode_time, data))
        self._audio_queue = keep
        return taken

    def _close(self, at: int) -> None:
        part = self._part
        assert part is not None
        part.audio.extend(self._take_audio(at))
        runs: list[TrackRun] = []
        if part.video and part.video_start is not None:
            runs.append(TrackRun(VIDEO_TRACK, part.video_start, part.video))
        if part.audio and part.audio_start is not None:
            runs.append(TrackRun(AUDIO_TRACK, part.audio_start, part.audio))
        if not runs:
            return
        scale = self._timescale()
        self._fragments += 1
        self._emit(
            PartReady(
                self._init,
                self._segment,
                self._index,
                (at - part.start) / scale,
                part.video[0].sync if part.video else True,
                part.start / scale,
                fragment(self._fragments, runs),
            )
        )
        self._index += 1
