"""Who watches, recorded in this process and written to the store in batches.

- **WebRTC.** The WHEP route calls :meth:`AttendanceTracker.webrtc_started` with the viewer's
  resource; the engine's listener (:meth:`on_stream_changed`) ends the viewing as soon as the
  viewer is gone from the engine (``DELETE``, a failed connection, the stream ending).
- **HLS.** Players only fetch; :meth:`hls_request` is called for each playlist request, and
  a viewing goes on while requests keep coming (a gap of :data:`HLS_GAP` starts a new one).
- **Break-out rooms.** Everyone seated in a room while a round is open, once per round, from
  the break-out events this process folds (every process writes the same: the store keeps
  one) and, at start, from the rounds open then.
- **Replays.** :meth:`replay` counts a recording's first play per viewer and day.

Everything is kept in memory and written every :data:`FLUSH_SECONDS` (and at shutdown) in
one batch: never a store write per request. Open viewings are written with ``last_seen_at``
= the flush, so a process that dies loses at most one interval of watch time.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import secrets
from collections.abc import Callable
from dataclasses import replace

from server.backends.store import Store
from server.conference_log import DomainEvent, QAService
from server.media.engine import MediaEngine
from server.media.stream_key import StreamKey
from sessions.attendance import Participation, Replay, Viewing, participant_key
from sessions.breakouts import BreakoutsChanged
from sessions.ratelimit import SlidingWindow

log = logging.getLogger("plenaria.attendance")

FLUSH_SECONDS = 5.0
HLS_GAP = dt.timedelta(seconds=30)
"""A player that made no request for this long stopped watching (LL-HLS players reload the
playlist several times per segment)."""
PLAYS_PER_VIEWER = 20
PLAYS_PER_ADDRESS = 600
"""Replay beacons per minute: one viewer's, and one address's (a venue's network is many
people behind one address)."""
REPLAY_MEMORY = 100_000
"""Replays this process remembers (to answer repeats without the store) before forgetting."""


def new_viewing_id() -> str:
    return secrets.token_urlsafe(12)


class AttendanceTracker:
    def __init__(
        self,
        store: Store,
        engine: MediaEngine,
        qa: QAService,
        clock: Callable[[], dt.datetime],
        flush_seconds: float = FLUSH_SECONDS,
    ) -> None:
        self._store = store
        self._engine = engine
        self._qa = qa
        self._clock = clock
        self._flush_seconds = flush_seconds
        self._webrtc: dict[str, Viewing] = {}
        """Open viewings by WHEP resource."""
        self._hls: dict[tuple[str, str], Viewing] = {}
        """Open viewings by (session, viewer key)."""
        self._dirty: dict[str, Viewing] = {}
        self._replays: list[Replay] = []
        self._seated: dict[tuple[str, str, str], Participation] = {}
        """Participations to write, by (session, round, viewer)."""
        self._seated_before: set[tuple[str, str, str]] = set()
        self._replayed: set[tuple[str, str, dt.date]] = set()
        self._plays_by_viewer = SlidingWindow(PLAYS_PER_VIEWER)
        self._plays_by_address = SlidingWindow(PLAYS_PER_ADDRESS)
        self._flushing = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        engine.listeners.append(self.on_stream_changed)

    # -- recording --------------------------------------------------------------------------

    def webrtc_started(self, session: str, resource: str, viewer: str) -> None:
        if resource not in self._engine.viewers:
            return  # gone already
        now = self._clock()
        self._webrtc[resource] = self._changed(
            Viewing(new_viewing_id(), session, viewer, "webrtc", now, now)
        )

    def on_stream_changed(self, _key: StreamKey) -> None:
        """An engine listener: end the viewings of viewers the engine no longer holds."""
        self._end_departed()

    def _end_departed(self) -> None:
        gone = [r for r, v in self._webrtc.items() if r not in self._engine.viewers]
        if gone:
            now = self._clock()
            for resource in gone:
                self._end(self._webrtc.pop(resource), now)

    def hls_request(self, session: str, viewer: str) -> None:
        now = self._clock()
        key = (session, viewer)
        viewing = self._hls.get(key)
        if viewing is not None and now - viewing.last_seen_at > HLS_GAP:
            self._end(self._hls.pop(key), viewing.last_seen_at)
            viewing = None
        if viewing is None:
            viewing = Viewing(new_viewing_id(), session, viewer, "hls", now, now)
        elif now > viewing.last_seen_at:
            viewing = replace(viewing, last_seen_at=now)
        self._hls[key] = self._changed(viewing)

    def may_play(self, viewer: str, address: str) -> bool:
        """Whether a replay beacon from ``viewer`` at ``address`` is within the rate limits."""
        now = self._clock()
        return self._plays_by_viewer.allow(viewer, now) and (
            not address or self._plays_by_address.allow(address, now)
        )

    def on_events(self, _sequence: int, code: str, events: list[DomainEvent]) -> None:
        """A command-log listener: who sits in a room of ``code`` while a round is open."""
        if any(isinstance(event, BreakoutsChanged) for event in events):
            self._note_seated(code)

    def _note_seated(self, code: str) -> None:
        rooms = self._qa.breakouts(code)
        if rooms.phase not in ("open", "closing") or rooms.opened_at is None:
            return
        round_ = rooms.opened_at.astimezone(dt.UTC).isoformat()
        now = self._clock()
        for participant in rooms.room_of:
            seat = (code, round_, participant_key(participant))
            if seat not in self._seated_before:
                self._seated_before.add(seat)
                self._seated[seat] = Participation(*seat, now)

    def replay(self, recording_id: str, viewer: str) -> bool:
        """Count a play of ``recording_id`` by ``viewer`` today; False when this process
        already counted it (the store deduplicates across processes)."""
        now = self._clock()
        day = now.astimezone(dt.UTC).date()
        seen = (recording_id, viewer, day)
        if seen in self._replayed:
            return False
        if len(self._replayed) >= REPLAY_MEMORY:
            self._replayed.clear()
        self._replayed.add(seen)
        self._replays.append(Replay(recording_id, viewer, day, now))
        return True

    def _changed(self, viewing: Viewing) -> Viewing:
        self._dirty[viewing.id] = viewing
        return viewing

    def _end(self, viewing: Viewing, at: dt.datetime) -> None:
        self._changed(replace(viewing, last_seen_at=max(at, viewing.last_seen_at), ended=True))

    # -- writing ----------------------------------------------------------------------------

    def _settle(self) -> None:
        """Before a write: end what went quiet, and stamp open WebRTC viewings with now."""
        now = self._clock()
        self._end_departed()
        for resource, viewing in list(self._webrtc.items()):
            if now > viewing.last_seen_at:
                self._webrtc[resource] = self._changed(replace(viewing, last_seen_at=now))
        for key, viewing in list(self._hls.items()):
            if now - viewing.last_seen_at > HLS_GAP:
                self._end(self._hls.pop(key), viewing.last_seen_at)

    async def flush(self) -> None:
        """Write what changed since the last write (also what other callers await: a report
        flushes first, so it includes this process's latest)."""
        async with self._flushing:
            self._settle()
            viewings, self._dirty = list(self._dirty.values()), {}
            replays, self._replays = self._replays, []
            seated, self._seated = self._seated, {}
            try:
                await self._store.record_viewings(viewings)
                await self._store.record_replays(replays)
                await self._store.record_participations(list(seated.values()))
            except Exception:
                # written again with the next batch (upserts: nothing counts twice)
                for viewing in viewings:
                    self._dirty.setdefault(viewing.id, viewing)
                self._replays = replays + self._replays
                self._seated = {**seated, **self._seated}
                raise

    def start(self) -> None:
        """Start writing, and following the rounds (the log is folded already: the rounds
        open now are read from the state, later changes come as events)."""
        for rooms in self._qa.all_breakouts():
            self._note_seated(rooms.session_code)
        self._qa.subscribe(self.on_events)
        self._task = asyncio.create_task(self._run(), name="attendance-flush")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._flush_seconds)
            try:
                await self.flush()
            except Exception:
                log.exception("writing attendance failed; retrying with the next batch")

    async def close(self) -> None:
        """Stop, ending every open viewing now, and write the last batch."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(ValueError):
            self._engine.listeners.remove(self.on_stream_changed)
        now = self._clock()
        for viewing in self._webrtc.values():
            self._end(viewing, now)
        for viewing in self._hls.values():
            self._end(viewing, viewing.last_seen_at)
        self._webrtc.clear()
        self._hls.clear()
        try:
            await self.flush()
        except Exception:
            log.exception("writing the last attendance batch failed")

    @property
    def open_viewings(self) -> list[Viewing]:
        return [*self._webrtc.values(), *self._hls.values()]
