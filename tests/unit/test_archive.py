"""The archive domain: a recording's life, visibility, markers, chapters as WebVTT."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from recordings.archive import (
    AddMarker,
    Archive,
    ArchiveCommand,
    ArchiveError,
    Marker,
    MarkerAdded,
    RecordingChanged,
    RecordingFailed,
    RecordingProcessed,
    RecordingStarted,
    RecordingStopped,
    RecordingWanted,
    SetPublished,
    WantRecording,
    chapters,
    webvtt,
)
from server.backends.log_codec import LogEntry, decode_entry, encode_entry

T0 = dt.datetime(2026, 5, 11, 10, tzinfo=dt.UTC)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def recorded(archive: Archive, seconds: float = 600, rid: str = "r1") -> None:
    archive.apply(RecordingStarted(rid, "panel", "guid-1", "webm", f"{rid}.webm"), T0)
    archive.apply(RecordingStopped(rid), at(seconds))
    archive.apply(RecordingProcessed(rid, seconds, 1234, f"{rid}.jpg"), at(seconds + 2))


def test_a_recording_goes_from_recording_to_published() -> None:
    archive = Archive()
    events = archive.apply(RecordingStarted("r1", "panel", "guid-1", "webm", "r1.webm"), T0)
    assert [type(e) for e in events] == [RecordingChanged]
    assert archive.recording("r1").status == "recording"
    assert archive.published() == []
    archive.apply(RecordingStopped("r1"), at(60))
    assert archive.recording("r1").status == "processing"
    assert archive.recording("r1").ended_at == at(60)
    archive.apply(RecordingProcessed("r1", 59.6, 4096, "r1.jpg"), at(61))
    recording = archive.recording("r1")
    assert (recording.status, recording.duration_seconds, recording.size_bytes) == (
        "published",
        59.6,
        4096,
    )
    assert archive.published() == [recording]
    assert archive.apply(RecordingProcessed("r1", 1, 1), at(62)) == [], "processed once"


def test_nothing_usable_stays_hidden_and_failures_are_kept() -> None:
    archive = Archive()
    archive.apply(RecordingStarted("r1", "panel", "g", "webm", "r1.webm"), T0)
    archive.apply(RecordingFailed("r1", "The disk is full." + "!" * 500), at(3))
    assert archive.recording("r1").error.startswith("The disk is full.")
    assert len(archive.recording("r1").error) == 300
    archive.apply(RecordingStopped("r1"), at(3))
    archive.apply(RecordingProcessed("r1", 0.4, 10), at(4))
    assert archive.recording("r1").status == "hidden"


def test_moderators_publish_and_unpublish_processed_recordings_only() -> None:
    archive = Archive()
    archive.apply(RecordingStarted("r1", "panel", "g", "webm", "r1.webm"), T0)
    with pytest.raises(ArchiveError) as refused:
        archive.apply(SetPublished("r1", "mod", False), at(1))
    assert refused.value.code == "archive.not_ready"
    archive.apply(RecordingStopped("r1"), at(10))
    archive.apply(RecordingProcessed("r1", 10, 10), at(11))
    assert archive.apply(SetPublished("r1", "mod", False), at(12))
    assert archive.recording("r1").status == "hidden"
    assert archive.apply(SetPublished("r1", "mod", False), at(12)) == []
    archive.apply(SetPublished("r1", "mod", True), at(13))
    assert archive.recording("r1").is_public
    with pytest.raises(ArchiveError) as unknown:
        archive.apply(SetPublished("nope", "mod", True), at(13))
    assert unknown.value.code == "archive.recording_unknown"
    with pytest.raises(ArchiveError):
        archive.apply(RecordingStarted("r1", "panel", "g", "webm", "r1.webm"), at(14))


def test_recording_is_wanted_by_default_and_moderators_toggle_it() -> None:
    archive = Archive()
    assert archive.wants_recording("panel")
    assert archive.apply(WantRecording("panel", "mod", True), T0) == []
    assert archive.apply(WantRecording("panel", "mod", False), T0) == [
        RecordingWanted("panel", False)
    ]
    assert not archive.wants_recording("panel")
    assert archive.wants_recording("other")


def test_recordings_follow_their_session_by_guid() -> None:
    archive = Archive()
    recorded(archive)
    assert [r.id for r in archive.of_session("renamed", "guid-1")] == ["r1"]
    assert [r.id for r in archive.of_session("panel")] == ["r1"]
    assert archive.of_session("renamed", "guid-2") == []


def test_markers_and_answered_questions_make_chapters() -> None:
    archive = Archive()
    recorded(archive, seconds=600)
    events = archive.apply(AddMarker("m1", "panel", "mod", "  Opening   remarks "), at(30))
    assert events == [MarkerAdded(Marker("m1", "panel", "Opening remarks", at(30), "mod"))]
    archive.apply(AddMarker("m2", "panel", "mod", "After the end"), at(900))
    with pytest.raises(ArchiveError) as empty:
        archive.apply(AddMarker("m3", "panel", "mod", "   "), at(40))
    assert empty.value.code == "archive.marker_empty"
    recording = archive.recording("r1")
    markers = archive.markers_during(recording)
    assert [m.id for m in markers] == ["m1"]
    answered = [(at(300), "Who pays for <shade> & trees?"), (at(-5), "Before it started")]
    assert chapters(recording, markers, answered) == [
        (30.0, 300.0, "Opening remarks"),
        (300.0, 600.0, "Q&A: Who pays for <shade> & trees?"),
    ]
    vtt = webvtt(chapters(recording, markers, answered))
    assert vtt.startswith("WEBVTT\n\n")
    assert "00:00:30.000 --> 00:05:00.000\nOpening remarks" in vtt
    assert "00:05:00.000 --> 00:10:00.000\nQ&amp;A: Who pays for &lt;shade> &amp; trees?" in vtt


def test_archive_commands_round_trip_through_the_log_codec() -> None:
    commands: list[ArchiveCommand] = [
        RecordingStarted("r1", "panel", "g", "mp4", "r1.mp4"),
        RecordingFailed("r1", "disk"),
        RecordingStopped("r1"),
        RecordingProcessed("r1", 1.5, 2, "r1.jpg"),
        SetPublished("r1", "mod", True),
        WantRecording("panel", "mod", False),
        AddMarker("m", "panel", "mod", "label"),
    ]
    for command in commands:
        entry = LogEntry("panel", T0, command)
        assert decode_entry(encode_entry(entry)) == entry
    assert msgspec.json.decode(encode_entry(LogEntry("panel", T0, commands[0])))["kind"] == (
        "archive.started"
    )
