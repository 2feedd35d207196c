"""Break-out rooms as JSON for pages, the API and the socket."""

from __future__ import annotations

from typing import Any

from sessions.breakouts import Breakouts, ChatMessage


def chat_view(message: ChatMessage) -> dict[str, Any]:
    return {
        "id": message.message_id,
        "author_id": message.author_id,
        "author": message.author_name,
        "text": message.text,
        "at": message.sent_at.isoformat(),
    }


def room_view(rooms: Breakouts, room_id: str, call: dict[str, object]) -> dict[str, Any]:
    """What a room's members see: who is in it, its chat and its call (the call's state,
    which the media process holds)."""
    room = next(r for r in rooms.rooms if r.room_id == room_id)
    return {
        "room_id": room.room_id,
        "name": room.name,
        "topic": room.topic,
        "members": [{"id": i, "name": n} for i, n in rooms.members(room_id)],
        "visitors": [
            {"id": i, "name": name} for i, (name, rid) in rooms.visitors.items() if rid == room_id
        ],
        "chat": [chat_view(m) for m in rooms.chat_of(room_id)],
        "call": call,
    }
