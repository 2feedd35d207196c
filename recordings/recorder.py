"""Records one publication to one file as it arrives, without decoding or encoding anything.

The recorder subscribes to a publication's broadcasts like any viewer. A reader task on
the event loop copies each packet's payload into a bounded :class:`queue.Queue`; a writer
**thread** does all the muxing (PyAV) and file I/O, so a slow disk never stalls the loop.

- VP8 (+ Opus), or Opus alone, goes into WebM, written as short clusters and flushed as it
  goes: a process killed with ``kill -9`` leaves a file that plays up to about a second
  before the kill.
- H.264 (+ Opus) goes into fragmented MP4 (``frag_keyframe+empty_moov+default_base_moof``
  and a fragment at least every second), which is as crash-tolerant.

The file starts on a video keyframe. Each track's RTP timestamps (random start, 32-bit,
wrapping) are unwrapped; the tracks are aligned by arrival time: a track's first packet is
placed at its arrival time minus the file's start (the first keyframe's arrival), later
packets follow by their own timestamps.

Nothing that goes wrong in the writer (a full disk, a write error, a muxer error) is raised
into the stream: the recorder closes what it can, reports ``failed`` with a message for
people, logs one error, unsubscribes, and the broadcast goes on for its viewers.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fractions
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple, Protocol

import av
import av.error
from aiortc.mediastreams import MediaStreamError

from recordings.storage import RecordingStorage
from recordings.timeline import TrackClock


class ForwardedTrack(Protocol):
    """One subscription to a publication's encoded packets (the media engine's
    ``ForwardedTrack``): ``recv`` raises ``MediaStreamError`` when the publisher ends."""

    async def recv(self) -> Any: ...

    def request_keyframe(self) -> None: ...

    def stop(self) -> None: ...


class Broadcast(Protocol):
    """A publication's track that any number of readers subscribe to (the media engine's
    ``Broadcast``); the recorder is one more reader, so nothing here imports the server."""

    def subscribe(self) -> ForwardedTrack: ...


log = logging.getLogger("plenaria.recordings")

Status = Literal["waiting", "recording", "finished", "failed", "empty"]
"""``waiting`` for the first keyframe, ``recording`` once the file is open; ``empty`` when
it stopped before anything arrived (no file is left)."""
ContainerName = Literal["webm", "mp4"]

QUEUE_PACKETS = 1024
"""Packets between the reader and the writer thread (about 10 s of video and audio)."""
FLUSH_SECONDS = 1
"""At most this much media sits in the muxer before it reaches the file."""
KEYFRAME_EVERY_SECONDS = 10.0
"""Ask the publisher for a keyframe when none came for this long, so the file stays seekable
(and an MP4 fragment starts on one) even with encoders that send keyframes only on request."""
RESYNC_SECONDS = 5.0
"""A track whose timestamps drift this far from its arrival times (a publisher that reset
its RTP clock) is placed by arrival time again."""

VIDEO_RATE = 90_000
AUDIO_RATE = 48_000

WEBM_OPTIONS = {
    # Not "live": live mode leaves the Duration out of even a cleanly closed file. Without
    # it, each cluster is complete on disk when the next begins (clusters are at most
    # FLUSH_SECONDS long; "flush_packets" pushes them out of the I/O buffer at once), and the
    # segment's size stays "unknown" until the trailer, so a cut-off file still demuxes.
    "cluster_time_limit": str(FLUSH_SECONDS * 1000),
    "cluster_size_limit": str(4 << 20),
    "flush_packets": "1",
    # FFmpeg's interleaver holds every packet until each stream has one queued; a stream
    # that pauses (a muted microphone) would hold the others back for 10 s by default.
    # (FFmpeg exempts VP8 from this limit: while a VP8 track sends nothing, the audio
    # waits in memory, and a crash loses it.)
    "max_interleave_delta": str(FLUSH_SECONDS * 1_000_000),
}
MP4_OPTIONS = {
    "movflags": "frag_keyframe+empty_moov+default_base_moof",
    "frag_duration": str(FLUSH_SECONDS * 1_000_000),
    "flush_packets": "1",
    "max_interleave_delta": str(FLUSH_SECONDS * 1_000_000),
}
VIDEO_CODECS: dict[str, tuple[ContainerName, str]] = {
    "video/vp8": ("webm", "vp8"),
    "video/h264": ("mp4", "h264"),
}
AUDIO_CODECS = {"audio/opus": "opus"}
ISO_639_2T = {
    "ar": "ara", "bg": "bul", "cs": "ces", "da": "dan", "de": "deu", "el": "ell", "en": "eng",
    "es": "spa", "et": "est", "fa": "fas", "fi": "fin", "fr": "fra", "ga": "gle", "he": "heb",
    "hi": "hin", "hr": "hrv", "hu": "hun", "hy": "hye", "it": "ita", "ja": "jpn", "ka": "kat",
    "kk": "kaz", "ko": "kor", "lt": "lit", "lv": "lav", "mk": "mkd", "mt": "mlt", "nl": "nld",
    "no": "nor", "pl": "pol", "pt": "por", "ro": "ron", "ru": "rus", "sk": "slk", "sl": "slv",
    "sq": "sqi", "sr": "srp", "sv": "swe", "tr": "tur", "uk": "ukr", "uz": "uzb", "zh": "zho",
}  # fmt: skip
"""ISO 639-1 → 639-2/T for MP4's language field: the languages of the conferences this is
for (the OSCE's participating States and the UN's working languages)."""
DEFAULT_TIME_BASES = {
    "video": fractions.Fraction(1, VIDEO_RATE),
    "audio": fractions.Fraction(1, AUDIO_RATE),
}


@dataclass(frozen=True, slots=True)
class RecorderState:
    status: Status
    key: str
    """The storage key of the file, extension included."""
    container: ContainerName
    started_at_monotonic: float
    """``time.monotonic()`` at the file's position 0 (the first keyframe's arrival); until
    that arrives, when :meth:`Recorder.start` was called."""
    duration_seconds: float
    bytes_written: int
    error: str = ""
    """For people, when ``failed``: what went wrong and where the recording stopped."""
    dropped_packets: int = 0
    """Packets dropped because the writer fell behind (up to the next video keyframe)."""


class Arrival(NamedTuple):
    """One packet as the reader hands it to the writer thread."""

    kind: str
    data: bytes
    timestamp: int
    """The packet's ``pts``: an RTP timestamp (32-bit, wrapping) for a WebRTC publisher."""
    time_base: fractions.Fraction
    keyframe: bool
    arrived: float


def channel_kind(language: str) -> str:
    """The recorder's name for an interpretation channel's audio track."""
    return f"audio:{language}"


def base_kind(kind: str) -> str:
    """ "audio" for the floor's and every channel's audio, else the kind itself."""
    return kind.partition(":")[0]


def language_tag(language: str, container: ContainerName) -> str:
    """How ``container`` writes an audio track's language: WebM takes the BCP 47 tag as it
    is, MP4 only an ISO 639-2/T code ("" when there is none for it)."""
    if not language or container == "webm":
        return language
    return ISO_639_2T.get(language, language if len(language) == 3 else "")


def container_for(codecs: dict[str, str]) -> ContainerName:
    """The container for a publication's codecs (MIME types by kind); :class:`ValueError`
    when the recorder cannot record them."""
    video = codecs.get("video", "").lower()
    audio = codecs.get("audio", "").lower()
    if audio and audio not in AUDIO_CODECS:
        raise ValueError(f"recording {codecs['audio']} audio is not supported")
    if video and video not in VIDEO_CODECS:
        raise ValueError(f"recording {codecs['video']} video is not supported")
    if not video and not audio:
        raise ValueError("there is nothing to record")
    return VIDEO_CODECS[video][0] if video else "webm"


class Recorder:
    """Records one publication to one file in ``storage``, under ``key_stem`` plus the
    container's extension. Use from the event loop: :meth:`start`, then ``await``
    :meth:`stop`; :attr:`state` at any time; ``on_state`` is called on the loop whenever
    the status changes (to ``recording`` when the file opens, then ``finished``,
    ``failed`` or ``empty``).

    Tracks in a codec it cannot record (anything but VP8, H.264 and Opus) are left out;
    with none left, the recorder fails at :meth:`start` with a message saying why."""

    def __init__(
        self,
        publication_broadcasts: Mapping[str, Broadcast],
        codecs: dict[str, str],
        storage: RecordingStorage,
        key_stem: str,
        on_state: Callable[[RecorderState], None] | None = None,
        *,
        channels: Mapping[str, Broadcast] | None = None,
        floor_language: str = "",
    ) -> None:
        recordable = {"video": set(VIDEO_CODECS), "audio": set(AUDIO_CODECS)}
        kinds: list[str] = [
            kind
            for kind in ("video", "audio")
            if kind in publication_broadcasts and codecs.get(kind, "").lower() in recordable[kind]
        ]
        self._broadcasts = {kind: publication_broadcasts[kind] for kind in kinds}
        self._codecs = {kind: codecs[kind].lower() for kind in kinds}
        self._unrecordable = ""
        if not kinds:
            sent = " and ".join(codecs.get(k, k) for k in publication_broadcasts) or "nothing"
            self._unrecordable = f"This stream cannot be recorded: it sends {sent}."
        elif skipped := [codecs.get(k, k) for k in publication_broadcasts if k not in kinds]:
            log.warning("recording without %s", " and ".join(skipped), extra={"codecs": codecs})
        self.languages: dict[str, str] = {"audio": floor_language} if "audio" in kinds else {}
        """The language of each audio track, by kind ("" when not known)."""
        if kinds:
            for language, broadcast in (channels or {}).items():
                kind = channel_kind(language)
                self._broadcasts[kind] = broadcast
                self._codecs[kind] = "audio/opus"  # browsers' and aiortc's interpreters send Opus
                self.languages[kind] = language
        self.container: ContainerName = container_for(self._codecs) if kinds else "webm"
        self.key = f"{key_stem}.{self.container}"
        self._storage = storage
        self._on_state = on_state
        self._queue: queue.Queue[Arrival | None] = queue.Queue(maxsize=QUEUE_PACKETS)
        self._lock = threading.Lock()
        self._failed = threading.Event()
        self._status: Status = "waiting"
        self._error = ""
        self._started_at = time.monotonic()
        self._duration = 0.0
        self._final_bytes = 0
        self._dropped = 0
        self._skipping = False
        self._last_keyframe = 0.0
        self._last_keyframe_request = 0.0
        self._path: Path | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tracks: dict[str, ForwardedTrack] = {}
        self._reader: asyncio.Task[None] | None = None
        self._thread: threading.Thread | None = None
        self._done: asyncio.Future[None] | None = None
        self._stopping = False

    # -- the event loop's side -------------------------------------------------------

    @property
    def state(self) -> RecorderState:
        with self._lock:
            status, size = self._status, self._final_bytes
            if status == "recording" and self._path is not None:
                with contextlib.suppress(OSError):
                    size = self._path.stat().st_size
            return RecorderState(
                status,
                self.key,
                self.container,
                self._started_at,
                self._duration,
                size,
                self._error,
                self._dropped,
            )

    def start(self) -> None:
        """Subscribe and start recording (from the event loop). Raises :class:`ValueError`
        for a key the storage refuses and :class:`FileExistsError` if it exists. Any
        other storage error, or a stream with nothing this recorder can record, makes the
        recorder ``failed`` instead (``on_state`` hears of it)."""
        if self._loop is not None:
            raise RuntimeError("a recorder starts once")
        loop = asyncio.get_running_loop()
        problem: BaseException | str | None = self._unrecordable or None
        path: Path | None = None
        if problem is None:
            try:
                path = self._storage.path_for_writing(self.key)
            except (ValueError, FileExistsError):
                raise
            except OSError as error:
                problem = error
        self._loop, self._done, self._path = loop, loop.create_future(), path
        self._started_at = self._last_keyframe = time.monotonic()
        if problem is not None:
            self._fail(problem)
            self._done.set_result(None)
            return
        self._thread = threading.Thread(
            target=self._write_all, name=f"recorder-{self.key}", daemon=True
        )
        self._tracks = {kind: b.subscribe() for kind, b in self._broadcasts.items()}
        self._reader = asyncio.create_task(self._read_all(), name=f"recorder-{self.key}")
        self._thread.start()

    async def stop(self) -> RecorderState:
        """Stop recording: unsubscribe, let the writer write what is queued, close the
        file and :meth:`RecordingStorage.finish` it. Returns the final state; never raises
        for a writing problem (that is a ``failed`` state). Idempotent."""
        if self._loop is None or self._done is None:
            raise RuntimeError("the recorder was not started")
        if not self._stopping:
            self._stopping = True
            self._unsubscribe()
            if self._reader is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await self._reader
            if self._thread is not None and self._thread.is_alive():
                await asyncio.to_thread(self._put_end)
        await asyncio.shield(self._done)
        return self.state

    def _unsubscribe(self) -> None:
        for track in self._tracks.values():
            track.stop()
        if self._reader is not None and not self._reader.done():
            self._reader.cancel()

    def _put_end(self) -> None:
        while self._thread is not None and self._thread.is_alive():
            with contextlib.suppress(queue.Full):
                self._queue.put(None, timeout=0.5)
                return

    async def _read_all(self) -> None:
        await asyncio.gather(*(self._read(kind, track) for kind, track in self._tracks.items()))

    async def _read(self, kind: str, track: ForwardedTrack) -> None:
        while True:
            try:
                packet = await track.recv()
            except MediaStreamError:
                return
            if self._failed.is_set():
                return
            self._offer(kind, track, packet)

    def _offer(self, kind: str, track: ForwardedTrack, packet: Any) -> None:
        now = time.monotonic()
        keyframe = kind != "video" or bool(packet.is_keyframe)
        if kind == "video":
            if keyframe:
                self._last_keyframe = now
            elif (
                now - self._last_keyframe > KEYFRAME_EVERY_SECONDS
                and now - self._last_keyframe_request > KEYFRAME_EVERY_SECONDS
            ):
                self._last_keyframe_request = now
                track.request_keyframe()
        has_video = "video" in self._tracks
        time_base = fractions.Fraction(packet.time_base or DEFAULT_TIME_BASES[base_kind(kind)])
        if self._skipping and has_video and not (kind == "video" and keyframe):
            self._dropped += 1
            return
        try:
            arrival = Arrival(kind, bytes(packet), packet.pts or 0, time_base, keyframe, now)
            self._queue.put_nowait(arrival)
        except queue.Full:
            self._dropped += 1
            if has_video and not self._skipping:
                self._skipping = True
                self._tracks["video"].request_keyframe()
                log.warning(
                    "the recorder fell behind: skipping to a keyframe", extra={"key": self.key}
                )
            return
        self._skipping = False

    def _status_changed(self, state: RecorderState) -> None:
        """On the loop: react to the writer thread's news."""
        if state.status == "failed":
            self._unsubscribe()
        if self._on_state is not None:
            try:
                self._on_state(state)
            except Exception:
                log.exception("a recording state listener failed")

    def _to_loop(self, callback: Callable[..., None], *args: Any) -> None:
        if self._loop is None:  # a writer driven without a loop (tests): nobody listens
            return
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody is listening
            self._loop.call_soon_threadsafe(callback, *args)

    # -- the writer thread's side ----------------------------------------------------

    def _write_all(self) -> None:
        writer = _Writer(self)
        try:
            while (item := self._queue.get()) is not None:
                writer.write(item)
            writer.close()
            if writer.started:
                self._storage.finish(self.key)
                self._set("finished", bytes_written=self._storage.size(self.key))
            else:
                log.info("nothing arrived before the recording stopped", extra={"key": self.key})
                self._set("empty")
        except Exception as error:
            writer.abandon()
            self._fail(error)
        finally:
            self._to_loop(self._finished_writing)

    def _finished_writing(self) -> None:
        if self._done is not None and not self._done.done():
            self._done.set_result(None)

    def _fail(self, error: BaseException | str) -> None:
        """Record the failure, log it once and tell the loop (from either thread)."""
        self._failed.set()
        if isinstance(error, str):  # the stream's doing (a codec), not the server's
            message = error
            log.warning("recording failed: %s", message, extra={"key": self.key})
        else:
            message = failure_message(error, self._duration)
            log.error("recording failed: %s", message, extra={"key": self.key}, exc_info=error)
        size = 0
        if self._path is not None:
            with contextlib.suppress(Exception):
                self._storage.finish(self.key)  # keep what was written, if anything
            with contextlib.suppress(Exception):
                size = self._storage.size(self.key)
        self._set("failed", error=message, bytes_written=size)
        while True:  # let a stop() waiting on a full queue through
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break

    def _set(self, status: Status, *, error: str = "", bytes_written: int = 0) -> None:
        with self._lock:
            self._status, self._error, self._final_bytes = status, error, bytes_written
        self._to_loop(self._status_changed, self.state)


def failure_message(error: BaseException, position: float) -> str:
    at = format_position(position)
    code = error.errno if isinstance(error, OSError) else None
    if code in (errno.ENOSPC, errno.EDQUOT):
        return f"The disk is full ({os.strerror(code)}); the recording stopped at {at}."
    if code is not None and code in errno.errorcode:
        reason = os.strerror(code)
        return f"The recording could not be written ({reason}); it stopped at {at}."
    if isinstance(error, av.error.FFmpegError):
        reason = error.strerror or str(error)
        return f"The recording could not be muxed ({reason}); it stopped at {at}."
    return f"The recording failed ({error}); it stopped at {at}."


def format_position(seconds: float) -> str:
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class _Output:
    """One stream of the file: where its packets go and the last timestamp written."""

    def __init__(self, stream: Any, rate: int) -> None:
        self.stream = stream
        self.clock = TrackClock(rate, RESYNC_SECONDS)
        self.time_base = fractions.Fraction(1, rate)
        self.last: tuple[int, fractions.Fraction] | None = None
        self.end = 0.0


class _Writer:
    """Everything that runs in the writer thread: PyAV and the file."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.container: Any = None
        self.outputs: dict[str, _Output] = {}
        self.started = False
        self.start = 0.0

    def write(self, item: Arrival) -> None:
        if not self.started:
            if not self._starts_file(item):
                return
            self._open(item)
        output = self.outputs.get(item.kind)
        if output is None:
            return
        ticks = output.clock.place(item.timestamp, item.time_base, item.arrived - self.start)
        packet: Any = av.Packet(item.data)
        time_base = fractions.Fraction(output.stream.time_base or output.time_base)
        value = round(fractions.Fraction(ticks) * output.time_base / time_base)
        if output.last is not None:
            last, last_base = output.last
            floor = last if last_base == time_base else int(last * last_base / time_base)
            value = max(value, floor + 1)
        output.last = (value, time_base)
        packet.pts = packet.dts = value
        packet.time_base = time_base
        length = 0.0
        if base_kind(item.kind) == "audio":
            samples = opus_samples(item.data)
            packet.duration = round(fractions.Fraction(samples, AUDIO_RATE) / time_base)
            length = samples / AUDIO_RATE
        packet.is_keyframe = item.keyframe
        packet.stream = output.stream
        self.container.mux(packet)
        output.end = float(value * time_base) + length
        with self.recorder._lock:
            self.recorder._duration = max(o.end for o in self.outputs.values())

    def _starts_file(self, item: Arrival) -> bool:
        codecs = self.recorder._codecs
        if "video" not in codecs:
            return True
        if item.kind != "video" or not item.keyframe:
            return False
        if codecs["video"] == "video/h264":
            return h264_dimensions(item.data) is not None
        return vp8_dimensions(item.data) is not None

    def _open(self, first: Arrival) -> None:
        recorder = self.recorder
        assert recorder._path is not None
        options = WEBM_OPTIONS if recorder.container == "webm" else MP4_OPTIONS
        self.container = av.open(
            str(recorder._path), "w", format=recorder.container, container_options=options
        )
        video = recorder._codecs.get("video")
        if video:
            codec = VIDEO_CODECS[video][1]
            size = (h264_dimensions if codec == "h264" else vp8_dimensions)(first.data)
            assert size is not None
            stream = self.container.add_mux_stream(codec, width=size[0], height=size[1])
            stream.time_base = fractions.Fraction(1, VIDEO_RATE)
            self.outputs["video"] = _Output(stream, VIDEO_RATE)
        for kind in recorder._codecs:
            if base_kind(kind) == "audio":
                stream = opus_stream(self.container)
                language = language_tag(recorder.languages.get(kind, ""), recorder.container)
                if language:
                    stream.metadata["language"] = language
                self.outputs[kind] = _Output(stream, AUDIO_RATE)
        self.start = first.arrived
        self.started = True
        with recorder._lock:
            recorder._started_at = first.arrived
        recorder._set("recording")

    def close(self) -> None:
        if self.container is not None:
            container, self.container = self.container, None
            container.close()

    def abandon(self) -> None:
        """After an error: close what can be closed, quietly."""
        with contextlib.suppress(Exception):
            self.close()


def opus_stream(container: Any) -> Any:
    """An Opus stream for packets encoded elsewhere.

    WebM and MP4 need the Opus identification header (``OpusHead``) as the stream's
    extradata (MP4 refuses to start without it, browsers refuse WebM without it), and
    PyAV cannot set extradata on a codec-less ``add_mux_stream``. So this stream gets a
    libopus codec context that PyAV opens when it writes the header (which makes the
    header: 2 channels, 48 kHz); it never encodes anything."""
    try:
        return container.add_stream("libopus", rate=AUDIO_RATE, layout="stereo")
    except (ValueError, av.error.FFmpegError):  # a PyAV built without libopus
        stream = container.add_mux_stream("opus", rate=AUDIO_RATE)
        stream.time_base = fractions.Fraction(1, AUDIO_RATE)
        return stream


def opus_samples(packet: bytes) -> int:
    """Samples (at 48 kHz) in an Opus packet, from its TOC byte (RFC 6716, 3.1)."""
    if not packet:
        return 0
    toc = packet[0]
    config = toc >> 3
    if config < 12:
        frame = (480, 960, 1920, 2880)[config & 3]
    elif config < 16:
        frame = (480, 960)[config & 1]
    else:
        frame = (120, 240, 480, 960)[config & 3]
    code = toc & 3
    if code == 0:
        frames = 1
    elif code in (1, 2):
        frames = 2
    else:
        frames = packet[1] & 0x3F if len(packet) > 1 else 0
    return frame * frames


def vp8_dimensions(frame: bytes) -> tuple[int, int] | None:
    """Width and height from a VP8 key frame header (RFC 6386, 9.1), else None."""
    if len(frame) < 10 or frame[0] & 0x01 or frame[3:6] != b"\x9d\x01\x2a":
        return None
    width = int.from_bytes(frame[6:8], "little") & 0x3FFF
    height = int.from_bytes(frame[8:10], "little") & 0x3FFF
    return (width, height) if width and height else None


def h264_nal_units(annex_b: bytes) -> list[bytes]:
    """The NAL units of an Annex B access unit (start codes removed)."""
    units: list[bytes] = []
    start = annex_b.find(b"\x00\x00\x01")
    while start >= 0:
        begin = start + 3
        end = annex_b.find(b"\x00\x00\x01", begin)
        unit = annex_b[begin:] if end < 0 else annex_b[begin:end]
        units.append(unit.rstrip(b"\x00") if end >= 0 else unit)
        start = end
    return [unit for unit in units if unit]


HIGH_PROFILES = frozenset({100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135})


class _Bits:
    def __init__(self, data: bytes) -> None:
        self.value = int.from_bytes(data, "big")
        self.left = len(data) * 8

    def bits(self, count: int) -> int:
        if count > self.left:
            raise EOFError
        self.left -= count
        return (self.value >> self.left) & ((1 << count) - 1)

    def ue(self) -> int:
        zeros = 0
        while self.bits(1) == 0:
            zeros += 1
            if zeros > 31:
                raise EOFError
        return (1 << zeros) - 1 + self.bits(zeros)

    def se(self) -> int:
        code = self.ue()
        return (code + 1) // 2 if code % 2 else -(code // 2)


def h264_dimensions(annex_b: bytes) -> tuple[int, int] | None:
    """Width and height from the sequence parameter set (H.264 7.3.2.1.1) in an Annex B
    access unit, cropping applied; None when it holds no SPS that parses."""
    for unit in h264_nal_units(annex_b):
        if unit[0] & 0x1F == 7:
            try:
                return _sps_dimensions(unit[1:].replace(b"\x00\x00\x03", b"\x00\x00"))
            except EOFError:
                return None
    return None


def _sps_dimensions(rbsp: bytes) -> tuple[int, int] | None:
    bits = _Bits(rbsp)
    profile = bits.bits(8)
    bits.bits(16)  # constraint flags, level
    bits.ue()  # seq_parameter_set_id
    chroma_format = 1
    if profile in HIGH_PROFILES:
        chroma_format = bits.ue()
        if chroma_format == 3:
            bits.bits(1)  # separate_colour_plane_flag
        bits.ue()  # bit_depth_luma_minus8
        bits.ue()  # bit_depth_chroma_minus8
        bits.bits(1)  # qpprime_y_zero_transform_bypass_flag
        if bits.bits(1):  # seq_scaling_matrix_present_flag
            for index in range(8 if chroma_format != 3 else 12):
                if bits.bits(1):
                    _skip_scaling_list(bits, 16 if index < 6 else 64)
    bits.ue()  # log2_max_frame_num_minus4
    order_type = bits.ue()
    if order_type == 0:
        bits.ue()  # log2_max_pic_order_cnt_lsb_minus4
    elif order_type == 1:
        bits.bits(1)
        bits.se()
        bits.se()
        for _ in range(bits.ue()):
            bits.se()
    bits.ue()  # max_num_ref_frames
    bits.bits(1)  # gaps_in_frame_num_value_allowed_flag
    width_mbs = bits.ue() + 1
    height_units = bits.ue() + 1
    frame_mbs_only = bits.bits(1)
    if not frame_mbs_only:
        bits.bits(1)  # mb_adaptive_frame_field_flag
    bits.bits(1)  # direct_8x8_inference_flag
    width = width_mbs * 16
    height = (2 - frame_mbs_only) * height_units * 16
    if bits.bits(1):  # frame_cropping_flag
        left, right, top, bottom = bits.ue(), bits.ue(), bits.ue(), bits.ue()
        crop_x = 2 if chroma_format in (1, 2) else 1
        crop_y = (2 if chroma_format == 1 else 1) * (2 - frame_mbs_only)
        width -= crop_x * (left + right)
        height -= crop_y * (top + bottom)
    return (width, height) if width > 0 and height > 0 else None


def _skip_scaling_list(bits: _Bits, size: int) -> None:
    last = following = 8
    for _ in range(size):
        if following:
            following = (last + bits.se() + 256) % 256
        last = following or last
