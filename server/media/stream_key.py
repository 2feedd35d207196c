"""Which stream a publication is: a session's panel, or one member's call in a break-out room."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StreamKey:
    """A stream's identity in the media engine. A session's panel has neither room nor
    member; a break-out call has both."""

    session: str
    room: str | None = None
    member: str | None = None

    @classmethod
    def panel(cls, session: str) -> StreamKey:
        return cls(session)

    @classmethod
    def call(cls, session: str, room: str, member: str) -> StreamKey:
        return cls(session, room, member)

    @property
    def is_panel(self) -> bool:
        return self.room is None

    def in_room(self, session: str, room: str) -> bool:
        return self.session == session and self.room == room

    def __str__(self) -> str:
        if self.room is None:
            return self.session
        return f"{self.session} room {self.room} member {self.member}"
