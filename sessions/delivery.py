"""How a session's live stream reaches the people at home: interactive (the page's player
uses WebRTC, about half a second behind the room, and falls back to HLS on its own) or
broadcast (every page player uses LL-HLS, a few seconds behind, served through HTTP caches
so that an audience of thousands costs the media processes one packaging).

A session's moderators switch it; the switch goes through the command log like every other
decision, so every process and every open page agrees."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class SetBroadcast:
    """A moderator switches a session to broadcast mode (``True``) or back."""

    session_code: str
    by: str
    broadcast: bool


DeliveryCommand = SetBroadcast


@dataclass(frozen=True, slots=True)
class BroadcastChanged:
    session_code: str
    broadcast: bool


DeliveryEvent = BroadcastChanged


@dataclass
class Delivery:
    broadcasting: set[str] = field(default_factory=set)
    """Sessions in broadcast mode (interactive is the default)."""

    def is_broadcast(self, session_code: str) -> bool:
        return session_code in self.broadcasting

    def apply(self, command: DeliveryCommand, now: dt.datetime) -> list[DeliveryEvent]:
        if self.is_broadcast(command.session_code) == command.broadcast:
            return []
        if command.broadcast:
            self.broadcasting.add(command.session_code)
        else:
            self.broadcasting.discard(command.session_code)
        return [BroadcastChanged(command.session_code, command.broadcast)]
