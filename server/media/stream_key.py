"""Which stream a publication is: a session's panel, one member's call in a break-out room,
an interpreter's booth, or a language channel (which the booth on air feeds)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StreamKey:
    """A stream's identity in the media engine. A session's panel has neither room nor
    member; a break-out call has both; an interpreter's booth has a language and a member
    (the interpreter); a language channel has a language only."""

    session: str
    room: str | None = None
    member: str | None = None
    language: str | None = None

    @classmethod
    def panel(cls, session: str) -> StreamKey:
        return cls(session)

    @classmethod
    def call(cls, session: str, room: str, member: str) -> StreamKey:
        return cls(session, room, member)

    @classmethod
    def booth(cls, session: str, language: str, interpreter: str) -> StreamKey:
        return cls(session, member=interpreter, language=language)

    @classmethod
    def channel(cls, session: str, language: str) -> StreamKey:
        return cls(session, language=language)

    @property
    def is_panel(self) -> bool:
        return self.room is None and self.language is None

    def in_room(self, session: str, room: str) -> bool:
        return self.session == session and self.room == room

    def __str__(self) -> str:
        if self.language is not None:
            booth = f" booth {self.member}" if self.member else ""
            return f"{self.session} {self.language}{booth}"
        if self.room is None:
            return self.session
        return f"{self.session} room {self.room} member {self.member}"
