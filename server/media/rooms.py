"""Break-out rooms' calls on the forwarding engine.

Every member of a room publishes once (a WHIP-style offer) and watches each other member
(one WHEP-style connection per member), so a room of n people costs the server n
publications and n·(n−1) forwarded streams, and nothing is decoded or encoded. A member's
stream is an ordinary publication keyed by ``StreamKey.call(session, room, participant)``;
it does not pause when it drops (a member who reconnects publishes afresh).

Who may publish or watch in which room is the break-out domain's decision (assignments and
visits); this module only carries media and the per-member call state (muted, camera off,
who is speaking), which is the state of the process carrying the room, like the stream
state. With several media nodes a room lives whole on one of them; the others read its call
from that node's heartbeat (``elsewhere``) and are told when it changes there.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

import msgspec

from server.media import aiortc_glue
from server.media.engine import MediaEngine, Publication, Viewer
from server.media.placement import CarriedRoom, MemberCall, RoomCall, merged
from server.media.stream_key import StreamKey

log = logging.getLogger("plenaria.media")

SPEAKER_POLL_SECONDS = 0.25
SPEAKING_BELOW_DBOV = 60
"""An audio level (−dBov) under this is speech rather than room noise or silence."""

RoomListener = Callable[[str, str], None]
"""Called with (session code, room id) when a room's members, call state or speaker change."""


@dataclass
class CallState:
    muted: bool = False
    camera_off: bool = False


class RoomCalls:
    def __init__(self, engine: MediaEngine) -> None:
        self.engine = engine
        self.states: dict[StreamKey, CallState] = {}
        self.members: dict[tuple[str, str], dict[str, Publication]] = {}
        """Each room's live members' publications, by participant id."""
        self.speakers: dict[tuple[str, str], str] = {}
        self.listeners: list[RoomListener] = []
        self.elsewhere: Callable[[str, str], RoomCall | None] = lambda code, room: None
        """The room's call as another media node carries it."""
        self._last_sent: dict[tuple[str, str], RoomCall] = {}
        self._watcher: asyncio.Task[None] | None = None
        engine.listeners.append(self._engine_changed)

    # -- reading ---------------------------------------------------------------------------

    def publications(self, session_code: str, room_id: str) -> dict[str, Publication]:
        """The room's live members' publications, by participant id."""
        return dict(self.members.get((session_code, room_id), {}))

    def call(self, session_code: str, room_id: str) -> RoomCall:
        """The room's call, here or on the node that carries it."""
        here = self.carried_call(session_code, room_id)
        there = self.elsewhere(session_code, room_id)
        return here if there is None else merged((here, there)) if here.members else there

    def carried_call(self, session_code: str, room_id: str) -> RoomCall:
        """The room's call as this process carries it."""
        members = {}
        for participant_id, publication in self.publications(session_code, room_id).items():
            state = self.states.get(publication.key, CallState())
            members[participant_id] = MemberCall(
                tuple(sorted(publication.broadcasts)), state.muted, state.camera_off
            )
        return RoomCall(members, self.speakers.get((session_code, room_id)) if members else None)

    def snapshot(self, session_code: str, room_id: str) -> dict[str, object]:
        """:meth:`call` as JSON-ready values, for pages and socket frames."""
        snapshot: dict[str, object] = msgspec.to_builtins(self.call(session_code, room_id))
        return snapshot

    def carried(self) -> tuple[CarriedRoom, ...]:
        """The rooms whose calls this process carries, for its heartbeat."""
        return tuple(
            CarriedRoom(session, room, self.carried_call(session, room))
            for session, room in self.members
        )

    # -- writing ---------------------------------------------------------------------------

    async def publish(
        self, session_code: str, room_id: str, participant_id: str, offer: str, now: dt.datetime
    ) -> tuple[Publication, str]:
        """Publish a member's camera and microphone; a member who publishes again (a
        reload, a second tab) replaces their earlier stream."""
        key = StreamKey.call(session_code, room_id, participant_id)
        earlier = self.engine.live(key)
        if earlier is not None:
            await self.engine.unpublish(earlier)
        self.states[key] = CallState()
        self._watch_speakers()
        publication, answer = await self.engine.publish(key, offer, now, pause_on_drop=False)
        self.members.setdefault((session_code, room_id), {})[participant_id] = publication
        self._notify(session_code, room_id)
        return publication, answer

    async def watch(
        self, session_code: str, room_id: str, participant_id: str, offer: str, watcher: str
    ) -> tuple[Viewer, str]:
        """``watcher`` watches ``participant_id``'s stream in the room."""
        key = StreamKey.call(session_code, room_id, participant_id)
        return await self.engine.watch(key, offer, owner=watcher)

    def set_state(
        self, session_code: str, room_id: str, participant_id: str, state: CallState
    ) -> None:
        key = StreamKey.call(session_code, room_id, participant_id)
        if self.engine.live(key) is None:
            return
        self.states[key] = state
        self._notify(session_code, room_id)

    async def end_member(self, session_code: str, room_id: str, participant_id: str) -> None:
        publication = self.engine.live(StreamKey.call(session_code, room_id, participant_id))
        if publication is not None:
            await self.engine.unpublish(publication)

    async def keep_only(self, session_code: str, allowed: set[tuple[str, str]]) -> None:
        """End every call of this session whose (room, participant) is not in ``allowed``:
        members moved elsewhere, rooms closed."""
        for (session, room_id), members in list(self.members.items()):
            for participant_id in list(members):
                if session == session_code and (room_id, participant_id) not in allowed:
                    await self.end_member(session, room_id, participant_id)

    def changed_elsewhere(self, session_code: str, room_id: str) -> None:
        """Another node's heartbeat shows the room's call changed there."""
        self._notify(session_code, room_id)

    async def close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher

    # -- internals -------------------------------------------------------------------------

    def _notify(self, session_code: str, room_id: str) -> None:
        """Tell listeners about a room whose call snapshot changed (viewers coming and going
        do not change it, so a room filling up is not a storm of frames)."""
        current = self.call(session_code, room_id)
        if self._last_sent.get((session_code, room_id), RoomCall()) == current:
            return
        self._last_sent[(session_code, room_id)] = current
        for listener in self.listeners:
            try:
                listener(session_code, room_id)
            except Exception:
                log.exception("a room listener failed")

    def _engine_changed(self, key: StreamKey) -> None:
        if key.room is None or key.member is None:
            return
        if self.engine.live(key) is None:
            self.states.pop(key, None)
            room = self.members.get((key.session, key.room), {})
            room.pop(key.member, None)
            if not room:
                self.members.pop((key.session, key.room), None)
        self._notify(key.session, key.room)

    def _watch_speakers(self) -> None:
        if self._watcher is None or self._watcher.done():
            self._watcher = asyncio.create_task(self._follow_speakers(), name="room-speakers")

    async def _follow_speakers(self) -> None:
        while True:
            await asyncio.sleep(SPEAKER_POLL_SECONDS)
            self.update_speakers()

    def update_speakers(self) -> None:
        """Name each room's loudest member who is speaking; a room falls silent keeps its
        last speaker highlighted, as video calls do."""
        loudest: dict[tuple[str, str], tuple[int, str]] = {}
        for room, members in self.members.items():
            for participant_id, publication in members.items():
                audio = publication.streams.get("audio")
                if audio is None or self.states.get(publication.key, CallState()).muted:
                    continue
                level = aiortc_glue.audio_level(audio)
                if level < SPEAKING_BELOW_DBOV and level < loudest.get(room, (128, ""))[0]:
                    loudest[room] = (level, participant_id)
        for room, (_, participant_id) in loudest.items():
            if self.speakers.get(room) != participant_id:
                self.speakers[room] = participant_id
                self._notify(*room)
