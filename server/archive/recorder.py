"""Records every live session's stream on the process that forwards it, and files each
recording in the archive through the command log.

A recording starts when a session goes live (unless the programme marks it do-not-record,
its moderators stopped recording or the speaker is rehearsing) and ends when the publisher
ends, drops, or a moderator stops it. Its duration, size and poster are then worked out off
the event loop and the archive publishes it, if it started in its session's scheduled time
(give or take ``publish_grace``); one made at another time (a camera test the day before)
waits for a moderator's review. A failed recording (full disk, write error) is reported to
the moderators and never touches the stream.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import secrets
from collections import defaultdict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from typing import Any

import av

from recordings.archive import (
    RecordingFailed,
    RecordingProcessed,
    RecordingStarted,
    RecordingStopped,
    RecordingWanted,
)
from recordings.audio_tracks import extract_language_tracks
from recordings.poster import make_poster, probe
from recordings.recorder import Recorder, RecorderState
from recordings.storage import RecordingStorage
from server.backends.store import Store
from server.conference_log import DomainEvent, QAService
from server.media.booths import ChannelBroadcast
from server.media.engine import MediaEngine, Publication
from server.media.stream_key import StreamKey
from sessions.consent import session_consent
from sessions.delivery import ConsentChanged
from sessions.programme import Session

log = logging.getLogger("plenaria.recordings")

SHUTDOWN_WAIT = 10.0
DEFAULT_PUBLISH_GRACE = dt.timedelta(minutes=15)


@dataclass
class Active:
    recording_id: str
    publication: Publication
    recorder: Recorder
    session: Session
    started_at: dt.datetime
    languages: tuple[str, ...] = ()
    kinds: frozenset[str] = frozenset()
    """The publication's kinds of media being recorded (audio alone: heard, not seen)."""
    filed: asyncio.Task[None] | None = None
    """``RecordingStarted`` on its way to the log: sent when the file opens (the first
    keyframe), so a publication that never sends one leaves nothing in the archive."""


def language_key(key: str, language: str) -> str:
    """Where a recording's interpretation channel is kept as an audio file of its own."""
    return f"{key.rsplit('.', 1)[0]}.{language}.webm"


def in_schedule(session: Session, started_at: dt.datetime, grace: dt.timedelta) -> bool:
    """Whether a stream that started at ``started_at`` is the session itself: it started
    between ``grace`` before the session's start and ``grace`` after its end."""
    return session.start - grace <= started_at <= session.end + grace


class RecordingController:
    def __init__(
        self,
        media: MediaEngine,
        service: QAService,
        storage: RecordingStorage,
        store: Store,
        clock: Callable[[], dt.datetime],
        publish_grace: dt.timedelta = DEFAULT_PUBLISH_GRACE,
    ) -> None:
        self._media = media
        self._publish_grace = publish_grace
        self._service = service
        self._storage = storage
        self._store = store
        self._clock = clock
        self.active: dict[str, Active] = {}
        self._tasks: set[asyncio.Task[object]] = set()
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        """One per session: starting one session's recording never waits for another's."""
        self._closed = False
        media.listeners.append(self._media_changed)
        service.subscribe(self._on_events)

    def _spawn(self, coroutine: Coroutine[Any, Any, object]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _media_changed(self, key: StreamKey) -> None:
        if key.is_panel:  # a break-out room member's call is not recorded
            self._spawn(self.reconcile(key.session))

    def _on_events(self, sequence: int, code: str, events: list[DomainEvent]) -> None:
        if any(isinstance(event, RecordingWanted | ConsentChanged) for event in events):
            self._spawn(self.reconcile(code))

    async def _recordable(self, code: str, publication: Publication) -> frozenset[str]:
        """The kinds of ``publication``'s media its session's consent lets us record."""
        programme = await self._store.load_programme()
        session = programme.session_by_code(code) if programme else None
        if session is None:
            return frozenset()
        consent = session_consent(session, self._service.delivery.consent_edits(code))
        if not consent.recorded:
            return frozenset()
        kinds = frozenset(publication.broadcasts)
        return kinds & {"audio"} if consent.audio_only else kinds

    async def reconcile(self, code: str) -> None:
        """Record ``code`` exactly when it is live and wanted."""
        async with self._locks[code]:
            publication = None if self._closed else self._media.live(StreamKey.panel(code))
            if publication is not None and publication.relay_of is not None:
                publication = None  # the origin records it; a relay would file it twice
            if publication is not None and publication.rehearsal:
                publication = None  # a rehearsal is never recorded
            active = self.active.get(code)
            wanted = publication is not None and self._service.archive.wants_recording(code)
            kinds = await self._recordable(code, publication) if publication else frozenset()
            wanted = wanted and bool(kinds)
            if active is not None and (
                not wanted or active.publication is not publication or active.kinds != kinds
            ):
                state = await self._stop(code, active)
                self._spawn(self._file(code, active, state))  # probe and poster: not under the lock
                active = None
            if wanted and active is None and publication is not None:
                await self._start(code, publication, kinds)

    async def _start(self, code: str, publication: Publication, kinds: frozenset[str]) -> None:
        programme = await self._store.load_programme()
        session = programme.session_by_code(code) if programme else None
        if session is None or not kinds:
            return
        recording_id = secrets.token_urlsafe(9).replace("-", "x").replace("_", "y")

        made: list[Active] = []

        def on_state(state: RecorderState) -> None:
            active = made[0]
            if state.status in ("recording", "failed") and active.filed is None:
                active.filed = asyncio.get_running_loop().create_task(self._announce(active))
            if state.status == "failed":
                self._spawn(self._report_failure(active, state.error))

        languages = self._service.delivery.languages(code)
        recorder = Recorder(
            {kind: b for kind, b in publication.broadcasts.items() if kind in kinds},
            {kind: c for kind, c in publication.codecs.items() if kind in kinds},
            self._storage,
            f"{re.sub(r'[^a-z0-9-]+', '-', (session.slug or code).lower())[:60]}-{recording_id}",
            on_state=on_state,
            # Each interpretation channel is an audio track of its own, tagged with its
            # language; the floor's is tagged with the session's.
            channels={lang: ChannelBroadcast(self._media, code, lang) for lang in languages},
            floor_language=session.language,
        )
        channels = tuple(lang for kind, lang in recorder.languages.items() if kind != "audio")
        active = Active(
            recording_id, publication, recorder, session, self._clock(), channels, kinds
        )
        made.append(active)
        self.active[code] = active
        recorder.start()

    async def _announce(self, active: Active) -> None:
        """The file is open: the recording enters the archive."""
        code, recorder = active.session.code, active.recorder
        active.started_at = self._clock()
        started = RecordingStarted(
            active.recording_id,
            code,
            active.session.guid,
            recorder.state.container,
            recorder.state.key,
            languages=active.languages,
        )
        await self._service.submit_command(code, started, active.started_at)
        log.info("recording", extra={"session": code, "key": recorder.state.key})

    async def _report_failure(self, active: Active, error: str) -> None:
        assert active.filed is not None
        await active.filed
        failed = RecordingFailed(active.recording_id, error)
        await self._service.submit_command(active.session.code, failed, self._clock())

    async def _stop(self, code: str, active: Active) -> RecorderState:
        del self.active[code]
        state = await active.recorder.stop()
        if active.filed is not None:
            await active.filed
            await self._service.submit_command(
                code, RecordingStopped(active.recording_id), self._clock()
            )
        return state

    async def _file(self, code: str, active: Active, state: RecorderState) -> None:
        """Work out a stopped recording's length and poster and file it in the archive."""
        if active.filed is None:  # nothing arrived: nothing to file
            return
        if not self._storage.exists(state.key):  # nothing arrived before it ended
            processed = RecordingProcessed(active.recording_id, 0.0, 0)
        else:
            processed = await self._processed(active.recording_id, state.key)
            await self._split_languages(state.key, active.languages)
        scheduled = in_schedule(active.session, active.started_at, self._publish_grace)
        processed = replace(processed, in_schedule=scheduled)
        await self._service.submit_command(code, processed, self._clock())
        log.info(
            "recording filed",
            extra={
                "session": code,
                "seconds": round(processed.duration_seconds, 1),
                "in_schedule": scheduled,
            },
        )

    async def _split_languages(self, key: str, languages: tuple[str, ...]) -> None:
        """Each interpretation channel also as an audio file of its own, for the replay."""
        if not languages:
            return
        try:
            made = await asyncio.to_thread(
                extract_language_tracks,
                self._storage.local_path(key),
                list(languages),
                lambda language: self._storage.path_for_writing(language_key(key, language)),
            )
        except (OSError, ValueError, av.error.FFmpegError):
            log.exception("copying a recording's languages out failed", extra={"key": key})
            return
        for language in made:
            self._storage.finish(language_key(key, language))

    async def _processed(self, recording_id: str, key: str) -> RecordingProcessed:
        """Duration, size and poster of a finished file, worked out off the event loop."""
        path = self._storage.local_path(key)
        poster_key = key.rsplit(".", 1)[0] + ".jpg"
        duration, _ = await asyncio.to_thread(probe, path)
        made = await asyncio.to_thread(
            make_poster, path, self._storage.path_for_writing(poster_key)
        )
        if made:
            self._storage.finish(poster_key)
        return RecordingProcessed(
            recording_id,
            duration_seconds=duration,
            size_bytes=self._storage.size(key),
            poster_key=poster_key if made else "",
        )

    async def idle(self) -> None:
        """Wait for what is under way (starting, stopping, filing) to settle."""
        while self._tasks:
            await asyncio.wait(list(self._tasks))

    async def close(self) -> None:
        """Finish every recording: let what is under way settle (no new recording starts
        from here on), then close what is still open."""
        self._closed = True
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=SHUTDOWN_WAIT)
        for code, active in list(self.active.items()):
            try:
                await self._file(code, active, await self._stop(code, active))
            except Exception:
                log.exception("finishing a recording at shutdown failed")
