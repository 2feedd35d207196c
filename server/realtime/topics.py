"""The hub's topics: who may subscribe to what, and what each topic carries.

Topics: ``session:<code>:qa`` (everyone: the public queue, highlight, settings, votes),
``session:<code>:moderation`` (that session's moderators: every question, notes),
``participant:<id>`` (one participant: their own questions and votes) and
``session:<code>:live`` (everyone: the stream's state and viewer count),
``session:<code>:studio`` (the session's moderators and speakers: the same with a rehearsal
shown, health and whether it is cut),
``session:<code>:captions`` (everyone: the captioners' lines, every language),
``session:<code>:breakouts`` (everyone: the break-out rooms, timers and assignments) and
``room:<code>:<room>`` (that room's members and the session's moderators: chat and call).
Live, studio, break-outs and rooms are always sent as a snapshot on subscribe, never
resumed: they carry this process's own state (or derive from the clock), with this
process's own sequences; the others are numbered by the command log.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import re
import time
from collections import defaultdict
from dataclasses import dataclass

from recordings.archive import MarkerAdded, RecordingChanged, RecordingWanted
from server.breakouts.views import RoomView, room_view
from server.conference_log import DomainEvent, QAService
from server.live.views import StreamView, live_state
from server.media.booths import Booths
from server.media.engine import MediaEngine
from server.media.rooms import RoomCalls
from server.media.stream_key import StreamKey
from server.realtime.changes import (
    CueShownChange,
    HighlightMoved,
    MarkerSet,
    NoteWritten,
    OwnQuestionUpdated,
    QuestionChanged,
    QuestionRemoved,
    RecordingUpdated,
    RecordingWantedChanged,
    SettingsUpdated,
    StreamUpdated,
    VoteCast,
    VotesCounted,
)
from server.realtime.hub import Change, Hub
from sessions.captions import CueShown
from sessions.delivery import (
    BroadcastChanged,
    ConsentChanged,
    CutChanged,
    Delivery,
    InterpretationChanged,
    OffRecordChanged,
)
from sessions.qa import (
    HighlightChanged,
    NoteAdded,
    OwnQuestionChanged,
    QuestionHidden,
    QuestionModerated,
    QuestionShown,
    SettingsChanged,
    VoteRecorded,
    VotesChanged,
)
from sessions.roles import Identity, Role
from web.breakout_views import BreakoutsView, breakouts_view
from web.caption_views import CaptionsSnapshot, captions_snapshot, cue_view
from web.qa_views import (
    ModeratorSnapshot,
    OwnQuestionsSnapshot,
    ParticipantSnapshot,
    moderator_question,
    moderator_snapshot,
    note_view,
    own_question,
    participant_snapshot,
    public_question,
    settings_view,
)

TOPIC = re.compile(r"(?:session:(?P<code>[A-Za-z0-9_-]{1,64})"
                   r":(?P<kind>qa|moderation|live|studio|breakouts|captions)"
                   r"|room:(?P<room_code>[A-Za-z0-9_-]{1,64}):(?P<room>[a-z0-9][a-z0-9-]{0,31})"
                   r"|participant:(?P<participant>[A-Za-z0-9_-]{1,64}))")  # fmt: skip
SNAPSHOT_ONLY = frozenset({"live", "studio", "breakouts"})
HEALTH_SECONDS = 2.0


class TopicError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def qa_topic(code: str) -> str:
    return f"session:{code}:qa"


def moderation_topic(code: str) -> str:
    return f"session:{code}:moderation"


def participant_topic(participant_id: str) -> str:
    return f"participant:{participant_id}"


def is_snapshot_only(name: str) -> bool:
    match = TOPIC.fullmatch(name)
    return match is not None and (match["kind"] in SNAPSHOT_ONLY or match["room"] is not None)


def is_breakouts_topic(name: str) -> bool:
    """A session's break-outs or one of its rooms: listening to it is being there."""
    match = TOPIC.fullmatch(name)
    return match is not None and (match["kind"] == "breakouts" or match["room"] is not None)


def session_code_of(name: str) -> str | None:
    match = TOPIC.fullmatch(name)
    return (match["code"] or match["room_code"]) if match else None


def live_topic(code: str) -> str:
    return f"session:{code}:live"


def studio_topic(code: str) -> str:
    """The stream as the session's moderators and speakers see it: a rehearsal included."""
    return f"session:{code}:studio"


def captions_topic(code: str) -> str:
    return f"session:{code}:captions"


def breakouts_topic(code: str) -> str:
    return f"session:{code}:breakouts"


def room_topic(code: str, room_id: str) -> str:
    return f"room:{code}:{room_id}"


@dataclass(frozen=True, slots=True)
class Sources:
    """Where topic snapshots come from."""

    service: QAService
    media: MediaEngine
    calls: RoomCalls
    booths: Booths
    now: dt.datetime


TopicSnapshot = (
    OwnQuestionsSnapshot
    | ParticipantSnapshot
    | ModeratorSnapshot
    | StreamView
    | BreakoutsView
    | RoomView
    | CaptionsSnapshot
)


def snapshot(
    name: str, identity: Identity, sources: Sources, session_exists: bool
) -> TopicSnapshot:
    """Check that ``identity`` may read topic ``name`` and return what it holds now."""
    service, media = sources.service, sources.media
    match = TOPIC.fullmatch(name)
    if match is None:
        raise TopicError("topic.unknown", f"There is no topic {name!r}.")
    if match["participant"]:
        if match["participant"] != identity.participant_id:
            raise TopicError("topic.forbidden", "That topic belongs to another participant.")
        me = identity.participant_id
        return OwnQuestionsSnapshot(
            participant=me,
            own=[
                own_question(q, qa.merge_target(q))
                for qa in service.sessions()
                for q in qa.own_questions(me)
            ],
            voted=sorted(
                q.id for qa in service.sessions() for q in qa.questions.values() if me in q.voters
            ),
        )
    code = match["code"] or match["room_code"]
    if not session_exists:
        raise TopicError("topic.unknown", f"There is no session {code!r}.")
    if match["room"]:
        return room_snapshot(code, match["room"], identity, sources)
    if match["kind"] == "live":
        return live_state(media, service.delivery, sources.booths, code)
    if match["kind"] == "studio":
        if identity.is_anonymous:
            raise TopicError("auth.required", "Sign in as a moderator or speaker first.")
        if not (identity.can_moderate(code) or identity.has_role(code, Role.SPEAKER)):
            raise TopicError("topic.forbidden", "Only this session's moderators and speakers.")
        return live_state(media, service.delivery, sources.booths, code, rehearsals=True)
    if match["kind"] == "captions":
        return captions_snapshot(service.captions, code)
    if match["kind"] == "breakouts":
        return breakouts_view(service.breakouts(code), sources.now)
    qa = service.session(code)
    if match["kind"] == "moderation":
        if identity.is_anonymous:
            raise TopicError("auth.required", "Sign in as a moderator first.")
        if not identity.can_moderate(code):
            raise TopicError("topic.forbidden", "Only this session's moderators may listen here.")
        return moderator_snapshot(qa, "manual")
    return participant_snapshot(qa, identity.participant_id, "votes")


def room_snapshot(code: str, room_id: str, identity: Identity, sources: Sources) -> RoomView:
    rooms = sources.service.breakouts(code)
    if room_id not in {room.room_id for room in rooms.rooms}:
        raise TopicError("topic.unknown", f"There is no room {room_id!r}.")
    if identity.is_anonymous:
        raise TopicError("auth.required", "Join first.")
    if rooms.room_id_of(identity.participant_id) != room_id and not identity.can_moderate(code):
        raise TopicError("topic.forbidden", "Only the room's members may listen here.")
    return room_view(rooms, room_id, sources.calls.call(code, room_id))


def publish_qa_events(hub: Hub, sequence: int, code: str, events: list[DomainEvent]) -> None:
    """Route one folded log entry's events to the topics whose readers may see them."""
    public, moderation = qa_topic(code), moderation_topic(code)
    changes: defaultdict[str, list[Change]] = defaultdict(list)
    votes: defaultdict[str, dict[str, int]] = defaultdict(dict)
    for event in events:
        match event:
            case QuestionShown(question):
                changes[public].append(QuestionChanged(public_question(question)))
            case QuestionHidden(question_id):
                changes[public].append(QuestionRemoved(question_id))
            case QuestionModerated(question):
                changes[moderation].append(QuestionChanged(moderator_question(question)))
            case OwnQuestionChanged(author_id, question, merge_target):
                changes[participant_topic(author_id)].append(
                    OwnQuestionUpdated(own_question(question, merge_target))
                )
            case VotesChanged(question_id, count, is_public):
                votes[moderation][question_id] = count
                if is_public:
                    votes[public][question_id] = count
            case VoteRecorded(participant_id, question_id, voted):
                changes[participant_topic(participant_id)].append(VoteCast(question_id, voted))
            case HighlightChanged(question):
                shown = public_question(question) if question else None
                for topic in (public, moderation):
                    changes[topic].append(HighlightMoved(shown))
            case SettingsChanged(settings):
                shown_settings = settings_view(settings)
                for topic in (public, moderation):
                    changes[topic].append(
                        SettingsUpdated(shown_settings.open, shown_settings.moderation)
                    )
            case NoteAdded(note):
                changes[moderation].append(NoteWritten(note_view(note)))
            case RecordingChanged(recording):
                changes[moderation].append(
                    RecordingUpdated(recording.id, recording.status, recording.error)
                )
            case RecordingWanted(_, wanted):
                changes[moderation].append(RecordingWantedChanged(wanted))
            case CueShown(cue):
                changes[captions_topic(code)].append(CueShownChange(cue_view(cue)))
            case MarkerAdded(marker):
                changes[moderation].append(
                    MarkerSet(marker.id, marker.label, marker.at.isoformat())
                )
    for topic, counts in votes.items():
        if topic in changes:
            changes[topic].append(VotesCounted(counts))
        else:
            hub.publish_merged(topic, sequence, VotesCounted(counts))
    for topic, topic_changes in changes.items():
        hub.publish(topic, sequence, topic_changes)


class StreamStatePublisher:
    """Sends a session's stream state to its live topic whenever the media engine changes
    it or its moderators switch its delivery; viewer counts are merged like votes.
    Sequences are this process's own."""

    def __init__(self, hub: Hub, media: MediaEngine, delivery: Delivery, booths: Booths) -> None:
        self._hub = hub
        self._media = media
        self._delivery = delivery
        self._booths = booths
        booths.listeners.append(lambda code, language: self(StreamKey.panel(code)))
        self._seq = time.time_ns() // 1000
        self._health: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._health = asyncio.get_running_loop().create_task(self._send_health())

    async def close(self) -> None:
        if self._health is not None:
            self._health.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._health

    async def _send_health(self) -> None:
        """Every few seconds, the stream's health to the studio topics someone here reads
        (the console and the studio show bitrate, frame rate and loss as OBS does)."""
        while True:
            await asyncio.sleep(HEALTH_SECONDS)
            for name in self._hub.listened():
                match = TOPIC.fullmatch(name)
                if match is not None and match["kind"] == "studio":
                    self._seq += 1
                    state = live_state(
                        self._media, self._delivery, self._booths, match["code"], rehearsals=True
                    )
                    self._hub.publish_merged(name, self._seq, StreamUpdated(state))

    def __call__(self, key: StreamKey) -> None:
        if not key.is_panel:  # a break-out room member's call, not a session's stream
            return
        for topic, rehearsals in (
            (live_topic(key.session), False),
            (studio_topic(key.session), True),
        ):
            self._seq += 1
            state = live_state(
                self._media, self._delivery, self._booths, key.session, rehearsals=rehearsals
            )
            self._hub.publish_merged(topic, self._seq, StreamUpdated(state))

    def on_events(self, sequence: int, code: str, events: list[DomainEvent]) -> None:
        changes = (
            BroadcastChanged
            | CutChanged
            | InterpretationChanged
            | OffRecordChanged
            | ConsentChanged
        )
        if any(isinstance(event, changes) for event in events):
            self(StreamKey.panel(code))
