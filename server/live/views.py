"""A session's stream as pages see it: on the live and studio topics and over the API."""

from __future__ import annotations

import datetime as dt

import msgspec

from server.media.booths import Booths
from server.media.engine import MediaEngine, StreamState
from server.media.health import StreamHealth
from server.media.stream_key import StreamKey
from sessions.delivery import Delivery


class ChannelView(msgspec.Struct, frozen=True):
    """A language the session is interpreted into, and the interpreter on air, if any (their
    participant id: the booth page tells its interpreter whether it is them)."""

    language: str
    on_air: bool
    interpreter: str | None = None


class StreamView(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    state: str
    """``live``, ``paused`` (the publisher dropped; viewers resume when it returns) or
    ``offline``."""
    started_at: str | None
    viewers: int
    rehearsal: bool
    broadcast: bool
    """Pages play the stream over HLS (broadcast mode) instead of WebRTC."""
    cut: bool
    """A moderator ended the stream: speakers may not publish until let back on."""
    off_record: bool = False
    """Off the record: the hall goes on, nobody else receives anything until it ends."""
    off_record_since: str | None = None
    audio_only: bool = False
    """Someone on stage agreed to be heard, not seen: no video reaches viewers."""
    interpretation: list[ChannelView] = []
    """The languages a viewer may pick instead of the floor (WHEP ``/whep/CODE/LANG``)."""
    health: StreamHealth | None = None
    """How the publisher's media arrives: on the studio topic only."""


class StreamApiView(StreamView, frozen=True, kw_only=True):
    whep: str
    hls: str


def stream_view(
    state: StreamState,
    *,
    broadcast: bool,
    cut: bool,
    interpretation: list[ChannelView],
    off_record: dt.datetime | None = None,
    audio_only: bool = False,
) -> StreamView:
    return StreamView(
        off_record=off_record is not None,
        off_record_since=off_record.isoformat() if off_record else None,
        audio_only=audio_only,
        interpretation=interpretation,
        state=state.state,
        started_at=state.started_at.isoformat() if state.started_at else None,
        viewers=state.viewers,
        rehearsal=state.rehearsal,
        broadcast=broadcast,
        cut=cut,
        health=state.health,
    )


def live_state(
    media: MediaEngine,
    delivery: Delivery,
    booths: Booths,
    code: str,
    *,
    rehearsals: bool = False,
) -> StreamView:
    """What a session's live topic says: the stream's state and how pages should play it
    (with a rehearsal and the stream's health on the studio topic only)."""
    return stream_view(
        media.state(StreamKey.panel(code), rehearsals=rehearsals),
        broadcast=delivery.is_broadcast(code),
        cut=delivery.is_cut(code),
        off_record=delivery.off_record_since(code),
        audio_only=any(c.media == "audio" for c in delivery.consent_edits(code).values()),
        interpretation=[
            ChannelView(language, speaking is not None, speaking)
            for language in delivery.languages(code)
            for speaking in [booths.speaking(code, language)]
        ],
    )
