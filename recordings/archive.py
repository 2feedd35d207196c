"""The replay archive: which recordings exist, of which programme session, in which state,
and the moderators' markers on each session's timeline.

Folded from the command log like Q&A, so every process lists the same archive. A recording
is keyed to its session's guid (the programme's stable identity, kept across re-imports)
as well as its code. States: ``recording`` while it is made, ``processing`` until its
duration and poster are known, then ``published`` (the default for a stream that ran in its
session's scheduled time, so a session that ended appears in the archive by itself),
``review`` (it ran outside that time, such as a speaker's camera test before the session:
it waits for a moderator to publish it) or ``hidden`` (a moderator unpublished it, or
nothing usable was recorded).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, assert_never

from sessions import domain_errors

RecordingStatus = Literal["recording", "processing", "published", "review", "hidden"]
Container = Literal["webm", "mp4"]

MAX_MARKER = 120
MAX_ERROR = 300
MIN_PUBLISHED_SECONDS = 1.0
"""A recording shorter than this holds nothing worth replaying and stays hidden."""


class ArchiveError(domain_errors.DomainError):
    scope = "archive"


@dataclass(frozen=True, slots=True)
class Recording:
    id: str
    session_code: str
    session_guid: str
    container: Container
    key: str
    """The media file's storage key; the poster's is ``poster_key``."""
    started_at: dt.datetime
    status: RecordingStatus = "recording"
    ended_at: dt.datetime | None = None
    duration_seconds: float = 0.0
    size_bytes: int = 0
    poster_key: str = ""
    error: str = ""
    """Why recording stopped early (a full disk, a write error), for the moderators."""
    languages: tuple[str, ...] = ()
    """The interpretation channels it holds as audio tracks of their own, beside the floor."""

    @property
    def is_public(self) -> bool:
        return self.status == "published"


@dataclass(frozen=True, slots=True)
class Marker:
    id: str
    session_code: str
    label: str
    at: dt.datetime
    by: str


# Commands ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordingStarted:
    recording_id: str
    session_code: str
    session_guid: str
    container: Container
    key: str
    languages: tuple[str, ...] = ()
    """Interpretation channels recorded beside the floor, each an audio track of its own."""


@dataclass(frozen=True, slots=True)
class RecordingFailed:
    """Recording stopped early; what was written so far is kept."""

    recording_id: str
    error: str


@dataclass(frozen=True, slots=True)
class RecordingStopped:
    recording_id: str


@dataclass(frozen=True, slots=True)
class RecordingProcessed:
    recording_id: str
    duration_seconds: float
    size_bytes: int
    poster_key: str = ""
    in_schedule: bool = True
    """The stream ran in its session's scheduled time (with the configured grace): it is
    published by itself; otherwise it waits for a moderator's review."""


@dataclass(frozen=True, slots=True)
class SetPublished:
    recording_id: str
    by: str
    published: bool


@dataclass(frozen=True, slots=True)
class WantRecording:
    """A moderator starts (``True``) or stops recording a session's stream."""

    session_code: str
    by: str
    wanted: bool


@dataclass(frozen=True, slots=True)
class AddMarker:
    marker_id: str
    session_code: str
    by: str
    label: str


ArchiveCommand = (
    RecordingStarted
    | RecordingFailed
    | RecordingStopped
    | RecordingProcessed
    | SetPublished
    | WantRecording
    | AddMarker
)


# Events -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordingChanged:
    recording: Recording


@dataclass(frozen=True, slots=True)
class RecordingWanted:
    session_code: str
    wanted: bool


@dataclass(frozen=True, slots=True)
class MarkerAdded:
    marker: Marker


ArchiveEvent = RecordingChanged | RecordingWanted | MarkerAdded


@dataclass
class Archive:
    recordings: dict[str, Recording] = field(default_factory=dict)
    markers: dict[str, list[Marker]] = field(default_factory=dict)
    not_wanted: set[str] = field(default_factory=set)
    """Sessions whose moderators stopped the recording (recording is on by default)."""

    # -- reading ---------------------------------------------------------------------------

    def recording(self, recording_id: str) -> Recording:
        found = self.recordings.get(recording_id)
        if found is None:
            raise ArchiveError(
                "archive.recording_unknown", "There is no such recording.", "not_found"
            )
        return found

    def published(self) -> list[Recording]:
        """Public recordings, newest first."""
        public = [r for r in self.recordings.values() if r.is_public]
        return sorted(public, key=lambda r: r.started_at, reverse=True)

    def of_session(self, session_code: str, session_guid: str = "") -> list[Recording]:
        """A session's recordings, oldest first, matched by guid when there is one (so a
        re-import that changed the code keeps them)."""
        mine = [
            r
            for r in self.recordings.values()
            if (session_guid and r.session_guid == session_guid) or r.session_code == session_code
        ]
        return sorted(mine, key=lambda r: r.started_at)

    def markers_during(self, recording: Recording) -> list[Marker]:
        end = recording.ended_at or dt.datetime.max.replace(tzinfo=dt.UTC)
        return [
            m
            for m in self.markers.get(recording.session_code, [])
            if recording.started_at <= m.at <= end
        ]

    def wants_recording(self, session_code: str) -> bool:
        return session_code not in self.not_wanted

    # -- writing ---------------------------------------------------------------------------

    def apply(self, command: ArchiveCommand, now: dt.datetime) -> list[ArchiveEvent]:
        """Apply ``command`` received at ``now``; raise :class:`ArchiveError` and change
        nothing when it is not allowed."""
        match command:
            case RecordingStarted():
                if command.recording_id in self.recordings:
                    raise ArchiveError("archive.duplicate", "That recording exists already.")
                recording = Recording(
                    id=command.recording_id,
                    session_code=command.session_code,
                    session_guid=command.session_guid,
                    container=command.container,
                    key=command.key,
                    started_at=now,
                    languages=command.languages,
                )
                return self._store(recording)
            case RecordingFailed():
                recording = self.recording(command.recording_id)
                return self._store(replace(recording, error=command.error[:MAX_ERROR]))
            case RecordingStopped():
                recording = self.recording(command.recording_id)
                if recording.status != "recording":
                    return []
                return self._store(replace(recording, status="processing", ended_at=now))
            case RecordingProcessed():
                return self._processed(command, now)
            case SetPublished():
                return self._set_published(command)
            case WantRecording():
                if self.wants_recording(command.session_code) == command.wanted:
                    return []
                if command.wanted:
                    self.not_wanted.discard(command.session_code)
                else:
                    self.not_wanted.add(command.session_code)
                return [RecordingWanted(command.session_code, command.wanted)]
            case AddMarker():
                label = domain_errors.clean_text(
                    command.label, MAX_MARKER, "marker", ArchiveError, multiline=False
                )
                marker = Marker(command.marker_id, command.session_code, label, now, command.by)
                self.markers.setdefault(command.session_code, []).append(marker)
                return [MarkerAdded(marker)]
            case _:
                assert_never(command)

    def _store(self, recording: Recording) -> list[ArchiveEvent]:
        self.recordings[recording.id] = recording
        return [RecordingChanged(recording)]

    def _processed(self, command: RecordingProcessed, now: dt.datetime) -> list[ArchiveEvent]:
        recording = self.recording(command.recording_id)
        if recording.status in ("published", "review", "hidden"):
            return []
        status: RecordingStatus = "hidden"
        if command.duration_seconds >= MIN_PUBLISHED_SECONDS:
            status = "published" if command.in_schedule else "review"
        return self._store(
            replace(
                recording,
                status=status,
                ended_at=recording.ended_at or now,
                duration_seconds=max(0.0, command.duration_seconds),
                size_bytes=max(0, command.size_bytes),
                poster_key=command.poster_key,
            )
        )

    def _set_published(self, command: SetPublished) -> list[ArchiveEvent]:
        recording = self.recording(command.recording_id)
        if recording.status in ("recording", "processing"):
            raise ArchiveError(
                "archive.not_ready", "A recording can be published once it is processed."
            )
        status: RecordingStatus = "published" if command.published else "hidden"
        if recording.status == status:
            return []
        return self._store(replace(recording, status=status))


@dataclass(frozen=True, slots=True)
class QuietStretch:
    """A stretch the recording holds nothing of (off the record): a chapter of its own,
    ``title`` (which says how long it was), after which the chapter it cut into goes on."""

    start: dt.datetime
    end: dt.datetime
    title: str


def chapters(
    recording: Recording,
    markers: list[Marker],
    answered: list[tuple[dt.datetime, str]],
    quiet: Sequence[QuietStretch] = (),
    back_on_record: str = "Back on the record",
) -> list[tuple[float, float, str]]:
    """The recording's chapters as (start, end, title) in seconds: each moderator marker and
    each question answered while it was recorded, in time order; a chapter lasts until the
    next one, the last until the end. A quiet stretch is a chapter from its start to its
    end; then the chapter it cut into resumes (``back_on_record`` when there was none)."""
    length = recording.duration_seconds

    def offset(at: dt.datetime) -> float:
        return (at - recording.started_at).total_seconds()

    def inside_quiet(at: dt.datetime) -> bool:
        return any(q.start <= at < q.end for q in quiet)

    points = [(m.at, m.label) for m in markers] + [(at, f"Q&A: {text}") for at, text in answered]
    points = [(at, title) for at, title in points if not inside_quiet(at)]
    ordered = sorted(points, key=lambda point: point[0])
    for stretch in quiet:
        before = [title for at, title in ordered if at <= stretch.start]
        points.append((max(stretch.start, recording.started_at), stretch.title))
        points.append((stretch.end, before[-1] if before else back_on_record))
    starts = sorted(
        ((offset(at), title) for at, title in points if recording.started_at <= at),
        key=lambda start: start[0],
    )
    starts = [(at, title) for at, title in starts if at < length]
    result = []
    for index, (at, title) in enumerate(starts):
        end = starts[index + 1][0] if index + 1 < len(starts) else length
        result.append((at, max(end, at), title))
    return result


def webvtt(chapters_: list[tuple[float, float, str]], cue_name: str = "chapter") -> str:
    """Cues (start and end in seconds, text) as a WebVTT file, each named
    ``<cue_name>-<n>`` (cue text is plain: ``&`` and ``<`` escaped)."""

    def stamp(seconds: float) -> str:
        millis = round(seconds * 1000)
        hours, rest = divmod(millis, 3_600_000)
        minutes, rest = divmod(rest, 60_000)
        return f"{hours:02}:{minutes:02}:{rest // 1000:02}.{rest % 1000:03}"

    lines = ["WEBVTT", ""]
    for index, (start, end, title) in enumerate(chapters_, start=1):
        text = " ".join(title.split()).replace("&", "&amp;").replace("<", "&lt;")
        lines += [f"{cue_name}-{index}", f"{stamp(start)} --> {stamp(end)}", text, ""]
    return "\n".join(lines)
