"""A break-out room as its members see it: who is in it, its chat and its call (whose state
the room's media node holds, so this view lives beside the server's media types)."""

from __future__ import annotations

import msgspec

from server.media.placement import RoomCall
from sessions.breakouts import Breakouts
from web.breakout_views import ChatView, PersonView, chat_view, room_people


class RoomView(msgspec.Struct, frozen=True, kw_only=True):
    room_id: str
    name: str
    topic: str
    members: list[PersonView]
    visitors: list[PersonView]
    chat: list[ChatView]
    call: RoomCall


def room_view(rooms: Breakouts, room_id: str, call: RoomCall) -> RoomView:
    room = next(r for r in rooms.rooms if r.room_id == room_id)
    members, visitors = room_people(rooms, room_id)
    return RoomView(
        room_id=room.room_id,
        name=room.name,
        topic=room.topic,
        members=members,
        visitors=visitors,
        chat=[chat_view(m) for m in rooms.chat_of(room_id)],
        call=call,
    )
