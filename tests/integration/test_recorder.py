"""The recorder: real publishers (aiortc peers and the synthetic panel) recorded to files
that FFmpeg's own tools then read; a kill -9 mid-recording; a full disk."""

from __future__ import annotations

import asyncio
import datetime as dt
import fractions
import json
import logging
import queue
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import av
import pytest
from aiortc import RTCPeerConnection, RTCRtpSender, VideoStreamTrack
from aiortc.mediastreams import AudioStreamTrack, MediaStreamTrack

from recordings import recorder as recorder_module
from recordings.poster import make_poster, probe
from recordings.recorder import (
    Arrival,
    Recorder,
    RecorderState,
    container_for,
    failure_message,
    h264_dimensions,
    opus_samples,
    vp8_dimensions,
)
from recordings.storage import LocalStorage
from recordings.timeline import TrackClock
from server.media import aiortc_glue
from server.media.engine import MediaEngine, Publication, ingest_tracks
from server.media.relay import Broadcast
from server.media.stream_key import StreamKey
from server.media.synthetic import start_synthetic_panel
from tests.integration.test_media_relay import NO_ICE_SERVERS, connect

aiortc_glue.install()

FFPROBE = "/usr/bin/ffprobe"
FFMPEG = "/usr/bin/ffmpeg"
ROOT = Path(__file__).resolve().parents[2]
RECORD_SECONDS = 3.0
NOW = dt.datetime(2026, 5, 11, 10, 0, tzinfo=dt.UTC)


def tool(path: str) -> str:
    if not Path(path).exists():
        pytest.fail(f"{path} is missing: apt-get install ffmpeg (scripts/test installs it)")
    return path


async def until(condition: Callable[[], bool], what: str, within: float = 15) -> None:
    """Poll ``condition`` until it holds; fail with ``what`` after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


def ffprobe(path: Path) -> tuple[list[str], float | None]:
    """Codec names and the container's duration, as FFmpeg's ffprobe reads them."""
    result = subprocess.run(
        [tool(FFPROBE), "-v", "error", "-show_entries", "stream=codec_name:format=duration",
         "-of", "json", str(path)],
        capture_output=True, text=True, check=True, timeout=30,
    )  # fmt: skip
    report = json.loads(result.stdout)
    duration = report.get("format", {}).get("duration")
    codecs = [stream["codec_name"] for stream in report["streams"]]
    return codecs, float(duration) if duration not in (None, "N/A") else None


def ffprobe_media_end(path: Path) -> float:
    """The end of the last packet ffprobe can read (a cut-off file has no duration)."""
    result = subprocess.run(
        [tool(FFPROBE), "-v", "error", "-show_entries", "packet=pts_time,duration_time",
         "-of", "json", str(path)],
        capture_output=True, text=True, check=True, timeout=30,
    )  # fmt: skip
    packets = json.loads(result.stdout)["packets"]
    return max(
        float(p["pts_time"]) + float(p.get("duration_time") or 0)
        for p in packets
        if p.get("pts_time") not in (None, "N/A")
    )


def ffmpeg_decodes(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool(FFMPEG), "-nostdin", "-v", "error", "-i", str(path), "-f", "null", "-"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


async def record_for(recorder: Recorder, seconds: float) -> tuple[RecorderState, float]:
    """Record until ``seconds`` of media are in the file; the final state and the
    wall-clock time recorded (from the file's start to the stop)."""
    recorder.start()
    await until(
        lambda: (
            recorder.state.duration_seconds >= seconds
            or recorder.state.status not in ("waiting", "recording")
        ),
        f"{seconds} s recorded",
        within=seconds + 20,
    )
    stopped = time.monotonic()
    final = await recorder.stop()
    return final, stopped - final.started_at_monotonic


# -- publishers ----------------------------------------------------------------------


async def aiortc_publication(peers: list[RTCPeerConnection], video_mime: str) -> Publication:
    """A real aiortc publisher (camera + microphone, encoded by aiortc) connected to an
    ingest peer that forwards without decoding, as the media engine does."""
    publisher, ingest = RTCPeerConnection(NO_ICE_SERVERS), RTCPeerConnection(NO_ICE_SERVERS)
    peers += [publisher, ingest]
    video = publisher.addTransceiver(VideoStreamTrack(), direction="sendonly")
    video.setCodecPreferences(
        [c for c in RTCRtpSender.getCapabilities("video").codecs if c.mimeType == video_mime]
    )
    publisher.addTransceiver(AudioStreamTrack(), direction="sendonly")
    arrived: list[MediaStreamTrack] = []
    ingest.on("track", arrived.append)
    await connect(publisher, ingest)
    await until(lambda: len(arrived) == 2, "both tracks at the ingest")
    publication = Publication(StreamKey.panel("panel"), "resource", NOW, peer=ingest)
    ingest_tracks(publication, ingest)
    return publication


async def close_broadcasts(publication: Publication) -> None:
    for broadcast in publication.broadcasts.values():
        await broadcast.close()


@pytest.fixture
async def engine() -> AsyncIterator[MediaEngine]:
    made = MediaEngine()
    yield made
    await made.close()


def synthetic_publication(engine: MediaEngine) -> Publication:
    start_synthetic_panel(engine, "panel", NOW)
    publication = engine.live(StreamKey.panel("panel"))
    assert publication is not None
    return publication


# -- recording real publishers ---------------------------------------------------------


async def test_a_vp8_publisher_is_recorded_to_webm(
    peers: list[RTCPeerConnection], tmp_path: Path
) -> None:
    publication = await aiortc_publication(peers, "video/VP8")
    assert publication.codecs == {"video": "video/VP8", "audio": "audio/opus"}
    storage = LocalStorage(tmp_path)
    states: list[RecorderState] = []
    recorder = Recorder(
        publication.broadcasts, publication.codecs, storage, "panel-1", on_state=states.append
    )
    assert recorder.state.status == "waiting"
    try:
        final, recorded = await record_for(recorder, RECORD_SECONDS)
    finally:
        await close_broadcasts(publication)
    assert final.status == "finished", final.error
    assert final.key == "panel-1.webm"
    assert final.container == "webm"
    assert [s.status for s in states] == ["recording", "finished"], "the file opened, then closed"
    assert states[-1] == final
    assert final.bytes_written == storage.size("panel-1.webm") > 10_000

    codecs, duration = ffprobe(storage.local_path("panel-1.webm"))
    assert sorted(codecs) == ["opus", "vp8"]
    assert duration is not None
    assert abs(duration - recorded) < 1, (duration, recorded)
    assert abs(duration - final.duration_seconds) < 0.5
    assert ffmpeg_decodes(storage.local_path("panel-1.webm")).returncode == 0

    length, by_kind = await asyncio.to_thread(probe, storage.local_path("panel-1.webm"))
    assert by_kind == {"video": "vp8", "audio": "opus"}
    assert abs(length - duration) < 0.1
    poster = tmp_path / "poster.jpg"
    assert await asyncio.to_thread(make_poster, storage.local_path("panel-1.webm"), poster)
    assert poster.read_bytes()[:3] == b"\xff\xd8\xff"
    with av.open(str(poster)) as image:
        assert (image.streams.video[0].width, image.streams.video[0].height) == (640, 480)


async def test_an_h264_publisher_is_recorded_to_fragmented_mp4(
    peers: list[RTCPeerConnection], tmp_path: Path
) -> None:
    publication = await aiortc_publication(peers, "video/H264")
    assert publication.codecs == {"video": "video/H264", "audio": "audio/opus"}
    storage = LocalStorage(tmp_path)
    recorder = Recorder(publication.broadcasts, publication.codecs, storage, "panel-2")
    snapshot = tmp_path / "snapshot.mp4"
    try:
        recorder.start()
        await until(lambda: recorder.state.duration_seconds >= 2.5, "2.5 s recorded")
        # What a kill -9 would leave: the bytes written so far (the OS keeps them).
        snapshot.write_bytes((tmp_path / "panel-2.mp4").read_bytes())
        await until(lambda: recorder.state.duration_seconds >= RECORD_SECONDS, "3 s recorded")
        recorded = time.monotonic() - recorder.state.started_at_monotonic
        final = await recorder.stop()
    finally:
        await close_broadcasts(publication)
    assert final.status == "finished", final.error
    assert final.key == "panel-2.mp4"
    path = storage.local_path("panel-2.mp4")
    head = path.read_bytes()[:4096]
    assert b"moof" in head or b"mvex" in head, "fragmented MP4"
    codecs, duration = ffprobe(path)
    assert sorted(codecs) == ["h264", "opus"]
    assert duration is not None
    assert abs(duration - recorded) < 1, (duration, recorded)
    assert ffmpeg_decodes(path).returncode == 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (640, 480)
    length, by_kind = await asyncio.to_thread(probe, path)
    assert by_kind == {"video": "h264", "audio": "opus"}
    assert abs(length - duration) < 0.1
    assert await asyncio.to_thread(make_poster, path, tmp_path / "poster.jpg")
    cut_off = ffmpeg_decodes(snapshot)
    assert cut_off.returncode == 0, cut_off.stderr
    assert ffprobe_media_end(snapshot) >= 1


async def test_tracks_in_codecs_it_cannot_record_are_left_out(
    engine: MediaEngine, tmp_path: Path
) -> None:
    publication = synthetic_publication(engine)
    codecs = {"video": "video/VP8", "audio": "audio/PCMU"}  # say the audio were G.711
    storage = LocalStorage(tmp_path)
    recorder = Recorder(publication.broadcasts, codecs, storage, "video-only")
    final, recorded = await record_for(recorder, 1.5)
    assert final.status == "finished", final.error
    assert publication.broadcasts["audio"].subscribers == set(), "never subscribed"
    codecs_found, duration = ffprobe(storage.local_path("video-only.webm"))
    assert codecs_found == ["vp8"]
    assert duration is not None
    # Video alone runs on the synthetic encoder's clock, which falls behind the wall
    # clock on a starved CPU: compare with what was recorded, and bound by the wall clock.
    assert abs(duration - final.duration_seconds) < 0.5
    assert duration < recorded + 1

    states: list[RecorderState] = []
    nothing = Recorder(
        publication.broadcasts,
        {"video": "video/AV1", "audio": "audio/PCMU"},
        storage,
        "nothing",
        on_state=states.append,
    )
    nothing.start()
    await until(lambda: bool(states), "the recorder to give up")
    assert states[0].status == "failed"
    assert states[0].error == "This stream cannot be recorded: it sends video/AV1 and audio/PCMU."
    assert await nothing.stop() == states[0]
    assert not storage.exists(states[0].key)


async def test_an_audio_only_publication_is_recorded_after_its_publisher_ends(
    engine: MediaEngine, tmp_path: Path
) -> None:
    publication = synthetic_publication(engine)
    storage = LocalStorage(tmp_path)
    audio_only = {"audio": publication.broadcasts["audio"]}
    recorder = Recorder(audio_only, {"audio": "audio/opus"}, storage, "talk")
    recorder.start()
    await until(lambda: recorder.state.duration_seconds >= 1.5, "1.5 s recorded")
    await engine.unpublish(publication)  # the publisher ends first; the server stops after
    recorded = time.monotonic() - recorder.state.started_at_monotonic
    final = await recorder.stop()
    assert final.status == "finished", final.error
    assert final.bytes_written == storage.size("talk.webm")
    codecs, duration = ffprobe(storage.local_path("talk.webm"))
    assert codecs == ["opus"]
    assert duration is not None
    assert abs(duration - recorded) < 1
    assert not await asyncio.to_thread(make_poster, storage.local_path("talk.webm"), tmp_path / "p")
    assert await recorder.stop() == final, "stop is idempotent"


# -- a crash ---------------------------------------------------------------------------


async def test_kill_9_mid_recording_leaves_a_playable_webm(tmp_path: Path) -> None:
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.record_child", str(tmp_path), "crashed",
        cwd=ROOT, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert child.stdout is not None
    path = tmp_path / "crashed.webm"
    try:
        deadline = time.monotonic() + 30
        recorded = 0.0
        while recorded < RECORD_SECONDS:
            line = await asyncio.wait_for(child.stdout.readline(), deadline - time.monotonic())
            assert line.startswith(b"recorded "), f"the child stopped: {line!r}"
            recorded = float(line.split()[1])
        # A starved CPU slows the synthetic video, and the file waits for the slower
        # track: make sure a second is on disk (it always is on an idle machine).
        await until(lambda: path.stat().st_size > 0 and ffprobe_media_end(path) >= 1, "1 s")
    finally:
        child.send_signal(signal.SIGKILL)
        await child.wait()
    assert child.returncode == -signal.SIGKILL
    decoded = ffmpeg_decodes(path)
    assert decoded.returncode == 0, decoded.stderr
    codecs, _ = ffprobe(path)  # a cut-off WebM has no Duration element: measure packets
    assert sorted(codecs) == ["opus", "vp8"]
    assert ffprobe_media_end(path) >= 1
    length, _ = await asyncio.to_thread(probe, path)
    assert length >= 1
    assert await asyncio.to_thread(make_poster, path, tmp_path / "poster.jpg", 0.5)
    LocalStorage(tmp_path).finish("crashed.webm")  # a crash's leftover can be sealed


# -- a full disk -------------------------------------------------------------------------


class FullDisk(LocalStorage):
    """Hands out a spool "file" that is a link to /dev/full: every write fails, ENOSPC."""

    def path_for_writing(self, key: str) -> Path:
        path = super().path_for_writing(key)
        path.symlink_to("/dev/full")
        return path


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
async def test_a_full_disk_fails_the_recording_but_not_the_broadcast(
    engine: MediaEngine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    publication = synthetic_publication(engine)
    video = publication.broadcasts["video"]
    viewer = video.subscribe()
    states: list[RecorderState] = []
    recorder = Recorder(
        publication.broadcasts, publication.codecs, FullDisk(tmp_path), "full", states.append
    )
    with caplog.at_level(logging.ERROR, logger="plenaria.recordings"):
        recorder.start()
        await until(
            lambda: bool(states) and states[-1].status == "failed", "the recorder's failure"
        )
    failed = states[-1]
    assert failed.status == "failed"
    assert "disk is full" in failed.error
    assert "No space left on device" in failed.error
    assert "stopped at 0:0" in failed.error
    errors = [r for r in caplog.records if r.name == "plenaria.recordings"]
    assert [r.levelno for r in errors] == [logging.ERROR]
    await until(lambda: video.subscribers == {viewer}, "the recorder to unsubscribe")
    await until(
        lambda: publication.broadcasts["audio"].subscribers == set(), "the audio unsubscribe"
    )
    for _ in range(10):  # the other viewer is still served
        packet = await asyncio.wait_for(viewer.recv(), 5)
        assert isinstance(packet, av.Packet)
    assert await recorder.stop() == recorder.state
    assert recorder.state.status == "failed"
    assert states[-1] == failed
    assert [s.status for s in states] in (["failed"], ["recording", "failed"])
    viewer.stop()


async def test_a_key_the_storage_refuses_is_refused_at_start(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    codecs = {"video": "video/VP8"}
    broadcasts: Any = dict.fromkeys(codecs)  # start refuses before subscribing
    with pytest.raises(ValueError, match="not a valid recording key"):
        Recorder(broadcasts, codecs, storage, "../escape").start()
    storage.path_for_writing("taken.webm").write_bytes(b"a finished recording")
    taken = Recorder(broadcasts, codecs, storage, "taken")
    with pytest.raises(FileExistsError):
        taken.start()
    with pytest.raises(RuntimeError, match="not started"):
        await taken.stop()
    assert storage.local_path("taken.webm").read_bytes() == b"a finished recording"


async def test_stopping_before_any_keyframe_leaves_nothing(tmp_path: Path) -> None:
    class Silent(MediaStreamTrack):
        kind = "video"

        async def recv(self) -> Any:
            await asyncio.Event().wait()

    broadcast = Broadcast(Silent())
    storage = LocalStorage(tmp_path)
    states: list[RecorderState] = []
    recorder = Recorder(
        {"video": broadcast}, {"video": "video/VP8"}, storage, "silent", states.append
    )
    recorder.start()
    assert len(broadcast.subscribers) == 1
    final = await recorder.stop()
    assert final.status == "empty"
    assert final.error == ""
    assert states == [final]
    assert broadcast.subscribers == set()
    assert not storage.exists("silent.webm")
    await broadcast.close()


def encoded_media(video_mime: str, seconds: float) -> list[Arrival]:
    """A small test pattern and a tone, encoded, as the reader would queue them (RTP-like
    timestamps, arrival times on the media's own clock)."""
    if video_mime == "video/VP8":
        encoder: Any = av.CodecContext.create("libvpx", "w")
        encoder.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    else:
        encoder = av.CodecContext.create("libx264", "w")
        encoder.options = {"preset": "ultrafast", "tune": "zerolatency"}
    encoder.width, encoder.height, encoder.pix_fmt = 160, 96, "yuv420p"
    encoder.time_base = fractions.Fraction(1, 25)
    audio: Any = av.CodecContext.create("libopus", "w")
    audio.sample_rate, audio.layout, audio.format = 48_000, "stereo", "s16"
    audio.time_base = fractions.Fraction(1, 48_000)
    video_base, audio_base = fractions.Fraction(1, 90_000), fractions.Fraction(1, 48_000)
    arrivals: list[Arrival] = []
    for index in range(int(seconds * 25)):
        frame = av.VideoFrame(160, 96, "yuv420p")
        frame.pts = index
        for packet in encoder.encode(frame):
            data = bytes(packet)
            arrivals.append(
                Arrival("video", data, 7 + index * 3600, video_base, packet.is_keyframe, index / 25)
            )
        for half in range(2):
            tone = av.AudioFrame(format="s16", layout="stereo", samples=960)
            tone.sample_rate, tone.pts = 48_000, (index * 2 + half) * 960
            for packet in audio.encode(tone):
                at = (index * 2 + half) * 0.02
                arrivals.append(
                    Arrival(
                        "audio",
                        bytes(packet),
                        2**32 - 4800 + (index * 2 + half) * 960,
                        audio_base,
                        True,
                        at,
                    )
                )
    return arrivals


@pytest.mark.parametrize(
    ("video_mime", "paused"),
    [("video/VP8", "audio"), ("video/H264", "audio"), ("video/H264", "video")],
)
def test_a_paused_track_does_not_hold_the_other_back(
    tmp_path: Path, video_mime: str, paused: str
) -> None:
    """A muted microphone (or a frozen H.264 camera) sends nothing for a while; what the
    other track records still reaches the disk within a couple of seconds."""
    codecs = {"video": video_mime, "audio": "audio/opus"}
    broadcasts: Any = dict.fromkeys(codecs)
    recorder = Recorder(broadcasts, codecs, LocalStorage(tmp_path), "paused")
    recorder._path = tmp_path / recorder.key
    writer = recorder_module._Writer(recorder)
    for arrival in encoded_media(video_mime, 4):
        if arrival.kind != paused or arrival.arrived < 0.5:
            writer.write(arrival)
    assert recorder.state.duration_seconds > 3.9
    assert ffprobe_media_end(recorder._path) >= 1.5, "on disk before the file is closed"
    writer.close()
    assert ffmpeg_decodes(recorder._path).returncode == 0


# -- the parts -------------------------------------------------------------------------


class FakeTrack:
    def __init__(self) -> None:
        self.keyframe_requests = 0

    def request_keyframe(self) -> None:
        self.keyframe_requests += 1


def fake_packet(pts: int, keyframe: bool) -> Any:
    packet = av.Packet(b"\x00" * 10)
    packet.pts = pts
    packet.time_base = fractions.Fraction(1, 90_000)
    packet.is_keyframe = keyframe
    return packet


def test_a_writer_that_falls_behind_skips_to_the_next_keyframe(tmp_path: Path) -> None:
    codecs = {"video": "video/VP8", "audio": "audio/opus"}
    broadcasts: Any = dict.fromkeys(codecs)  # never subscribed: the test offers packets
    recorder = Recorder(broadcasts, codecs, LocalStorage(tmp_path), "behind")
    video, audio = FakeTrack(), FakeTrack()
    recorder._tracks = {"video": video, "audio": audio}  # type: ignore[dict-item]
    recorder._queue = queue.Queue(maxsize=2)
    offer: Any = recorder._offer
    offer("video", video, fake_packet(0, True))
    offer("audio", audio, fake_packet(0, True))
    offer("video", video, fake_packet(3000, False))  # full: dropped, skipping starts
    offer("audio", audio, fake_packet(960, True))  # dropped until the next keyframe
    offer("video", video, fake_packet(6000, False))
    assert recorder.state.dropped_packets == 3
    assert video.keyframe_requests == 1
    recorder._queue.get_nowait()
    offer("video", video, fake_packet(9000, False))  # room again, but not a keyframe
    assert recorder._queue.qsize() == 1
    offer("video", video, fake_packet(12000, True))  # the keyframe: written again
    items = [recorder._queue.get_nowait() for _ in range(2)]
    assert [(i.kind, i.timestamp) for i in items if i] == [("audio", 0), ("video", 12000)]
    offer("audio", audio, fake_packet(1920, True))  # and what follows it
    after: Arrival | None = recorder._queue.get_nowait()
    assert after is not None
    assert after.timestamp == 1920
    assert recorder.state.dropped_packets == 4
    assert video.keyframe_requests == 1


def test_timestamps_unwrap_and_tracks_align_by_arrival() -> None:
    video_base = fractions.Fraction(1, 90_000)
    clock = TrackClock(90_000, recorder_module.RESYNC_SECONDS)
    start = 2**32 - 3000  # an RTP clock about to wrap
    assert clock.place(start, video_base, 0.5) == 45_000  # placed at its arrival
    assert clock.place(start + 3000, video_base, 0.6) == 48_000  # wrapped to 0
    assert clock.place(3000, video_base, 0.61) == 51_000
    assert clock.place(1500, video_base, 0.62) == 49_500  # reordered: back a little
    assert clock.place(3000 + 90_000 * 60, video_base, 0.7) == 63_000  # a jump: re-placed
    synthetic = TrackClock(90_000, recorder_module.RESYNC_SECONDS)  # an encoder's 1/25 time base
    assert synthetic.place(7, fractions.Fraction(1, 25), 0.0) == 0
    assert synthetic.place(8, fractions.Fraction(1, 25), 0.0) == 3600


def test_codec_headers() -> None:
    keyframe = bytes.fromhex("504200 9d012a 8002 6801") + bytes(20)
    assert vp8_dimensions(keyframe) == (640, 360)
    assert vp8_dimensions(b"\x51" + keyframe[1:]) is None  # an interframe
    assert vp8_dimensions(b"") is None
    for width, height in [(640, 360), (642, 362), (1280, 720), (176, 144)]:
        for profile in ("baseline", "high"):
            encoder: Any = av.CodecContext.create("libx264", "w")
            encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
            encoder.time_base = fractions.Fraction(1, 25)
            encoder.options = {"preset": "ultrafast", "tune": "zerolatency", "profile": profile}
            frame = av.VideoFrame(width, height, "yuv420p")
            frame.pts = 0
            packets = [*encoder.encode(frame), *encoder.encode(None)]
            assert h264_dimensions(bytes(packets[0])) == (width, height), profile
    assert h264_dimensions(b"\x00\x00\x00\x01\x65\x88") is None
    assert opus_samples(b"\xfc\xff\xfe") == 960  # CELT 20 ms, one frame
    assert opus_samples(b"\x08\x00") == 960  # SILK narrowband 20 ms
    assert opus_samples(b"\x4b\x05") == 5 * 960  # code 3: five 20 ms frames
    assert opus_samples(b"") == 0


def test_codecs_pick_the_container() -> None:
    assert container_for({"video": "video/VP8", "audio": "audio/opus"}) == "webm"
    assert container_for({"video": "video/H264", "audio": "audio/opus"}) == "mp4"
    assert container_for({"audio": "audio/opus"}) == "webm"
    assert container_for({"video": "video/h264"}) == "mp4"
    for unsupported in ({"video": "video/AV1"}, {"audio": "audio/PCMU"}, {}):
        with pytest.raises(ValueError, match=r"not supported|nothing"):
            container_for(unsupported)


def test_failure_messages_say_what_happened() -> None:
    full = failure_message(OSError(28, "No space left on device"), 723.4)
    assert full == "The disk is full (No space left on device); the recording stopped at 12:03."
    denied = failure_message(PermissionError(13, "Permission denied"), 3725)
    assert denied == (
        "The recording could not be written (Permission denied); it stopped at 1:02:05."
    )
    muxer = failure_message(av.error.InvalidDataError(1094995529, "Invalid data"), 1)
    assert muxer.startswith("The recording could not be muxed (")
