"""The pure parts of LL-HLS: fMP4 boxes, where parts and segments are cut, the playlist
and its blocking-reload answers, and the worker's pipe format."""

from __future__ import annotations

import io
import struct

import m3u8
import pytest

from server.media.hls.fmp4 import (
    AUDIO_TRACK,
    VIDEO_TRACK,
    AacConfig,
    AvcConfig,
    Sample,
    TrackRun,
    fragment,
    init_segment,
)
from server.media.hls.playlist import SEGMENTS_KEPT, LivePlaylist, OutOfRangeError
from server.media.hls.segmenter import InitReady, Output, PartReady, Segmenter
from server.media.hls.wire import (
    OUTPUT_HEADER,
    EncodedFrame,
    WireError,
    decode_output,
    encode_frame,
    encode_output,
    read_frames,
)

AVC = AvcConfig(bytes.fromhex("6742c01e") + bytes(8), bytes.fromhex("68ce3c80"), 320, 240)
AAC = AacConfig(bytes.fromhex("1190"))


def boxes(data: bytes) -> list[tuple[bytes, bytes]]:
    """Top-level boxes: (type, body)."""
    found = []
    offset = 0
    while offset < len(data):
        size, kind = struct.unpack_from("!I4s", data, offset)
        assert size >= 8
        found.append((kind, data[offset + 8 : offset + size]))
        offset += size
    assert offset == len(data), "boxes end where the data ends"
    return found


def test_an_init_segment_names_both_tracks() -> None:
    data = init_segment(AVC, AAC)
    assert [kind for kind, _ in boxes(data)] == [b"ftyp", b"moov"]
    moov = boxes(data)[1][1]
    assert b"avcC" in moov
    assert b"esds" in moov
    assert b"mvex" in moov
    assert AVC.codec == "avc1.42c01e"
    assert AAC.codec == "mp4a.40.2"
    with pytest.raises(ValueError, match="track"):
        init_segment(None, None)


def test_a_fragments_data_offsets_point_at_each_tracks_samples() -> None:
    video = [Sample(b"V1" * 10, 3600, True), Sample(b"V2" * 5, 3600, False)]
    audio = [Sample(b"A" * 7, 1024)]
    data = fragment(9, [TrackRun(VIDEO_TRACK, 90_000, video), TrackRun(AUDIO_TRACK, 48_000, audio)])
    (moof_kind, moof), (mdat_kind, mdat) = boxes(data)
    assert (moof_kind, mdat_kind) == (b"moof", b"mdat")
    assert mdat == b"V1" * 10 + b"V2" * 5 + b"A" * 7
    offsets = []
    at = 0
    while (at := moof.find(b"trun", at + 1)) > 0:
        count, offset = struct.unpack_from("!Ii", moof, at + 8)
        offsets.append((count, offset))
    moof_size = len(moof) + 8
    assert offsets == [(2, moof_size + 8), (1, moof_size + 8 + 30)]
    with pytest.raises(ValueError, match="sample"):
        fragment(1, [TrackRun(VIDEO_TRACK, 0, [])])


def feed_video(segmenter: Segmenter, seconds: float, *, fps: int = 30, gop: float = 2.0,
               start: float = 0.0, config: AvcConfig = AVC) -> None:  # fmt: skip
    for index in range(round(seconds * fps)):
        at = start + index / fps
        keyframe = round(at * fps) % round(gop * fps) == 0
        segmenter.video(round(at * 90_000), b"\0\0\0\1x", keyframe, config)


def test_parts_last_a_third_of_a_second_and_segments_start_on_keyframes() -> None:
    outputs: list[Output] = []
    segmenter = Segmenter(outputs.append, has_video=True, has_audio=False)
    segmenter.video(0, b"\0\0\0\1x", False, AVC)  # before any keyframe: dropped
    feed_video(segmenter, 6.5)
    inits = [o for o in outputs if isinstance(o, InitReady)]
    parts = [o for o in outputs if isinstance(o, PartReady)]
    assert len(inits) == 1
    assert inits[0].codecs == "avc1.42c01e"
    assert {p.segment for p in parts} == {0, 1, 2, 3}
    for segment in (0, 1, 2):
        in_segment = [p for p in parts if p.segment == segment]
        assert sum(p.duration for p in in_segment) == pytest.approx(2.0)
        assert in_segment[0].independent
        assert not any(p.independent for p in in_segment[1:])
        assert [p.index for p in in_segment] == list(range(len(in_segment)))
        assert all(p.duration == pytest.approx(1 / 3) for p in in_segment[:-1])


def test_a_publisher_without_keyframes_gets_segments_cut_anyway() -> None:
    outputs: list[Output] = []
    segmenter = Segmenter(outputs.append, has_video=True, has_audio=False)
    feed_video(segmenter, 10, gop=100)
    parts = [o for o in outputs if isinstance(o, PartReady)]
    first_parts = [p for p in parts if p.index == 0]
    assert len(first_parts) >= 2
    assert all(sum(p.duration for p in parts if p.segment == s) < 4 for s in range(2))
    assert first_parts[0].independent
    assert not first_parts[1].independent


def test_new_picture_parameters_start_a_new_init_at_a_keyframe() -> None:
    outputs: list[Output] = []
    segmenter = Segmenter(outputs.append, has_video=True, has_audio=False)
    feed_video(segmenter, 2.5)
    bigger = AvcConfig(AVC.sps, AVC.pps, 640, 480)
    segmenter.video(round(2.5 * 90_000), b"x", False, bigger)  # waits for a keyframe
    feed_video(segmenter, 2, start=4.0, config=bigger)
    inits = [o for o in outputs if isinstance(o, InitReady)]
    assert [i.init for i in inits] == [0, 1]
    parts = [o for o in outputs if isinstance(o, PartReady)]
    assert {p.init for p in parts if p.segment >= 2} == {1}
    assert len({p.segment for p in parts}) == len({(p.init, p.segment) for p in parts})


def test_audio_goes_into_the_part_its_time_falls_in() -> None:
    outputs: list[Output] = []
    segmenter = Segmenter(outputs.append, has_video=True, has_audio=True)
    segmenter.video(0, b"x", True, AVC)  # no audio parameters yet: nothing starts
    assert not segmenter.started
    segmenter.configure_audio(AAC)
    audio = 0  # 48 kHz ticks, in step with the video
    for index in range(round(2.5 * 30)):
        ticks = index * 3000
        segmenter.video(ticks, b"x", index % 60 == 0, AVC)
        while audio * 90_000 <= ticks * 48_000:
            segmenter.audio(audio, b"a")
            audio += 1024
    parts = [o for o in outputs if isinstance(o, PartReady)]
    assert parts
    for part in parts:
        (_, moof), (_, mdat) = boxes(part.data)
        assert moof.count(b"traf") == 2, "video and audio in every part"
        assert mdat.count(b"a") >= 14  # a third of a second of 1024-sample frames


def test_audio_alone_is_cut_by_its_own_clock() -> None:
    outputs: list[Output] = []
    segmenter = Segmenter(outputs.append, has_video=False, has_audio=True)
    segmenter.configure_audio(AAC)
    for index in range(300):
        segmenter.audio(index * 1024, b"a")
    parts = [o for o in outputs if isinstance(o, PartReady)]
    assert {p.segment for p in parts} >= {0, 1, 2}
    assert all(p.independent for p in parts)
    assert sum(p.duration for p in parts if p.segment == 0) == pytest.approx(2.0, abs=0.03)


def playlist_with(segments: int, parts_each: int = 6, *, run: str = "0123abcd") -> LivePlaylist:
    playlist = LivePlaylist(run, 1_700_000_000.0)
    playlist.add_init(InitReady(0, b"init", "avc1.42c01e,mp4a.40.2"))
    for segment in range(segments):
        for index in range(parts_each):
            start = segment * 2 + index / 3
            data = f"{segment}.{index}".encode()
            playlist.add_part(PartReady(0, segment, index, 1 / 3, index == 0, start, data))
    return playlist


def test_the_playlist_lists_segments_parts_and_the_next_part() -> None:
    playlist = playlist_with(4, parts_each=6)
    parsed = m3u8.loads(playlist.render())
    assert parsed.media_sequence == 0
    assert parsed.target_duration == 4
    assert parsed.server_control.can_block_reload == "YES"
    assert parsed.server_control.part_hold_back >= 3 * parsed.part_inf.part_target
    assert [s.uri for s in parsed.segments] == [f"0123abcd/{n}.m4s" for n in range(3)] + [None]
    assert parsed.segments[0].parts == [], "old segments are listed without parts"
    assert [p.uri for p in parsed.segments[1].parts][:2] == ["0123abcd/1.0.m4s", "0123abcd/1.1.m4s"]
    assert parsed.segments[1].parts[0].independent == "YES"
    assert parsed.preload_hint.uri == "0123abcd/3.6.m4s"
    assert parsed.segments[0].program_date_time.isoformat().startswith("2023-11-14T22:13:20")
    assert playlist.segment(1) == b"".join(f"1.{i}".encode() for i in range(6))
    assert playlist.segment(3) is None, "not complete yet"
    assert playlist.part(3, 2) == b"3.2"
    assert playlist.init(0) == b"init"


def test_blocking_reloads_are_answered_once_their_part_exists() -> None:
    playlist = playlist_with(3, parts_each=6)  # segments 0, 1 complete; 2 has 6 parts
    assert playlist.has(1, None)
    assert playlist.has(2, 5)
    assert not playlist.has(2, 6)
    assert not playlist.has(2, None), "segment 2 is not complete"
    assert not playlist.has(3, 0)
    assert playlist.hinted(2, 6)
    assert playlist.hinted(3, 0)
    assert not playlist.hinted(2, 8)
    with pytest.raises(OutOfRangeError):
        playlist.has(5, 0)
    playlist.add_part(PartReady(0, 3, 0, 1 / 3, True, 6.0, b"3.0"))
    assert playlist.has(2, 6), "a segment that ended with fewer parts answers for them"
    assert playlist.has(3, 0)


def test_the_playlist_keeps_a_window_and_marks_a_new_init() -> None:
    playlist = playlist_with(SEGMENTS_KEPT + 4)
    parsed = m3u8.loads(playlist.render())
    assert parsed.media_sequence == 3
    assert len([s for s in parsed.segments if s.uri]) == SEGMENTS_KEPT
    assert playlist.segment(2) is None
    playlist.add_init(InitReady(1, b"init1", "avc1.42c01e"))
    playlist.add_part(PartReady(1, 12, 0, 1 / 3, True, 24.0, b"x"))
    text = playlist.render()
    assert '#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="0123abcd/init-1.mp4"' in text


def test_the_pipe_format_round_trips_and_refuses_garbage() -> None:
    frames = [EncodedFrame("video", True, 2**40, b"frame"), EncodedFrame("audio", False, 7, b"")]
    assert list(read_frames(io.BytesIO(b"".join(encode_frame(f) for f in frames)))) == frames
    with pytest.raises(WireError):
        list(read_frames(io.BytesIO(b"\x07" + bytes(13))))
    with pytest.raises(WireError):
        list(read_frames(io.BytesIO(encode_frame(frames[0])[:-2])))
    for output in (
        InitReady(3, b"moov", "avc1.42c01e"),
        PartReady(1, 2, 3, 0.32, True, 12.5, b"moof"),
    ):
        encoded = encode_output(output)
        kind, _ = OUTPUT_HEADER.unpack_from(encoded)
        assert decode_output(kind, encoded[OUTPUT_HEADER.size :]) == output
    with pytest.raises(WireError):
        decode_output(1, b"short")
    with pytest.raises(WireError):
        decode_output(9, b"")
