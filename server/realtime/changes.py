"""What the socket's frames carry: one tagged Struct per kind of change.

A frame is ``["event", topic, {"seq": n, "changes": [change, …]}]``; each change is an
object whose ``type`` names which of these it is, with the views of ``web/`` inside (one
schema for the API, the snapshots and the frames). The pages dispatch on ``type``
(``web/static/lib/realtime.js`` hands the list to each panel following the topic).
"""

from __future__ import annotations

from server.live.views import StreamView
from server.media.placement import RoomCall
from server.realtime.hub import Change
from web.breakout_views import BreakoutsView, ChatView
from web.caption_views import CueView
from web.qa_views import ModeratorQuestionView, NoteView, OwnQuestionView, QuestionView

# -- Q&A: session:<code>:qa, session:<code>:moderation, participant:<id> ----------------------


class QuestionChanged(Change, frozen=True, tag="question"):
    question: QuestionView | ModeratorQuestionView


class QuestionRemoved(Change, frozen=True, tag="question_removed"):
    id: str


class OwnQuestionUpdated(Change, frozen=True, tag="own_question"):
    question: OwnQuestionView


class VoteCast(Change, frozen=True, tag="voted"):
    id: str
    voted: bool


class VotesCounted(Change, frozen=True, tag="votes"):
    votes: dict[str, int]
    """Question id → votes, for the questions whose count changed."""

    def merged_with(self, newer: Change) -> Change:
        if not isinstance(newer, VotesCounted):
            return newer
        return VotesCounted({**self.votes, **newer.votes})


class HighlightMoved(Change, frozen=True, tag="highlight"):
    question: QuestionView | None


class SettingsUpdated(Change, frozen=True, tag="settings"):
    open: bool
    moderation: str


class NoteWritten(Change, frozen=True, tag="note"):
    note: NoteView


# -- the archive, on the moderators' topic ----------------------------------------------------


class RecordingUpdated(Change, frozen=True, tag="recording"):
    id: str
    status: str
    error: str


class RecordingWantedChanged(Change, frozen=True, tag="recording_wanted"):
    recording: bool


class MarkerSet(Change, frozen=True, tag="marker"):
    id: str
    label: str
    at: str


# -- break-outs: session:<code>:breakouts, room:<code>:<room>, and help on moderation ---------


class BreakoutsUpdated(Change, frozen=True, tag="breakouts"):
    breakouts: BreakoutsView


class BroadcastReceived(Change, frozen=True, tag="broadcast"):
    text: str
    at: str


class HelpAsked(Change, frozen=True, tag="help"):
    room_id: str
    id: str
    name: str


class ChatSaid(Change, frozen=True, tag="chat"):
    message: ChatView


class CallUpdated(Change, frozen=True, tag="call"):
    call: RoomCall


# -- captions: session:<code>:captions -------------------------------------------------------


class CueShownChange(Change, frozen=True, tag="cue"):
    """A captioner's line, new or corrected (the same ``id``)."""

    cue: CueView


# -- the stream: session:<code>:live, session:<code>:studio ----------------------------------


class StreamUpdated(Change, frozen=True, tag="stream"):
    stream: StreamView
