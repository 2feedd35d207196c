"""Break-out rooms as everyone in the session sees them, as typed views: one schema for the
JSON API, the socket's snapshots and frames, and the templates (the JS relies on these
names)."""

from __future__ import annotations

import datetime as dt

import msgspec

from sessions.breakouts import Breakouts, ChatMessage


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


class PersonView(msgspec.Struct, frozen=True):
    id: str
    name: str


class PoolMemberView(msgspec.Struct, frozen=True):
    """Someone taking part; ``online`` while their page (or room) is open."""

    id: str
    name: str
    online: bool


class RoomPlanView(msgspec.Struct, frozen=True, kw_only=True):
    room_id: str
    name: str
    topic: str
    capacity: int
    members: list[PoolMemberView]
    visitors: list[PersonView]
    help: PersonView | None
    """Who asked the moderators for help, until one of them comes."""


class BroadcastView(msgspec.Struct, frozen=True):
    text: str
    at: str


class BreakoutsView(msgspec.Struct, frozen=True, kw_only=True):
    """Everything about the rooms that everyone in the session may see."""

    phase: str
    planned: bool
    assignment: str
    opened_at: str | None
    ends_at: str | None
    closes_at: str | None
    warning: int | None
    """Minutes left (5 or 1) in the last minutes of an open round."""
    rooms: list[RoomPlanView]
    unassigned: list[PoolMemberView]
    broadcasts: list[BroadcastView]


class YouView(msgspec.Struct, frozen=True):
    """Where the one asking stands."""

    in_pool: bool
    room_id: str | None
    moderator: bool


class BreakoutsForYouView(BreakoutsView, frozen=True, kw_only=True):
    you: YouView


class ChatView(msgspec.Struct, frozen=True):
    id: str
    author_id: str
    author: str
    text: str
    at: str


class ChatLog(msgspec.Struct, frozen=True):
    messages: list[ChatView]


def breakouts_view(rooms: Breakouts, now: dt.datetime) -> BreakoutsView:
    """The rooms as of ``now`` (the clock may have moved the phase since the last command)."""
    phase, closes_at = rooms.clock_at(now)
    # If the grace ran out by now, settle() has yet to clear these: show them as it will.
    pending, visitors = (rooms.help, rooms.visitors) if phase != "closed" else ({}, {})
    members: dict[str, list[PoolMemberView]] = {room.room_id: [] for room in rooms.rooms}
    unassigned: list[PoolMemberView] = []
    for pid, name in rooms.pool.items():
        room_id = rooms.room_of.get(pid)
        person = PoolMemberView(pid, name, pid not in rooms.away)
        (members[room_id] if room_id is not None else unassigned).append(person)
    help_of = {
        room_id: PersonView(request.participant_id, request.display_name)
        for room_id, request in pending.items()
    }
    return BreakoutsView(
        phase=phase,
        planned=rooms.planned,
        assignment=rooms.assignment,
        opened_at=_iso(rooms.opened_at),
        ends_at=_iso(rooms.ends_at),
        closes_at=_iso(closes_at),
        warning=rooms.warning_at(now),
        rooms=[
            RoomPlanView(
                room_id=room.room_id,
                name=room.name,
                topic=room.topic,
                capacity=room.capacity,
                members=members[room.room_id],
                visitors=[
                    PersonView(mid, name)
                    for mid, (name, room_id) in visitors.items()
                    if room_id == room.room_id
                ],
                help=help_of.get(room.room_id),
            )
            for room in rooms.rooms
        ],
        unassigned=unassigned,
        broadcasts=[BroadcastView(b.text, b.sent_at.isoformat()) for b in rooms.broadcasts],
    )


def breakouts_for(rooms: Breakouts, now: dt.datetime, you: YouView) -> BreakoutsForYouView:
    view = breakouts_view(rooms, now)
    return BreakoutsForYouView(**msgspec.structs.asdict(view), you=you)


def chat_view(message: ChatMessage) -> ChatView:
    return ChatView(
        id=message.message_id,
        author_id=message.author_id,
        author=message.author_name,
        text=message.text,
        at=message.sent_at.isoformat(),
    )


def room_people(rooms: Breakouts, room_id: str) -> tuple[list[PersonView], list[PersonView]]:
    """A room's members and its visiting moderators."""
    members = [PersonView(i, n) for i, n in rooms.members(room_id)]
    visitors = [PersonView(i, name) for i, (name, rid) in rooms.visitors.items() if rid == room_id]
    return members, visitors
