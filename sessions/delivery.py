"""How a session's live stream reaches the people at home: interactive (the page's player
uses WebRTC, about half a second behind the room, and falls back to HLS on its own) or
broadcast (every page player uses LL-HLS, a few seconds behind, served through HTTP caches
so that an audience of thousands costs the media processes one packaging).

A session's moderators switch it; the switch goes through the command log like every other
decision, so every process and every open page agrees. They can also cut the stream: the
publication ends at once wherever it is, and no speaker can go live again until a moderator
lets them back on."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import assert_never

from sessions.domain_errors import DomainError, clean_language


@dataclass(frozen=True, slots=True)
class SetBroadcast:
    """A moderator switches a session to broadcast mode (``True``) or back."""

    session_code: str
    by: str
    broadcast: bool


@dataclass(frozen=True, slots=True)
class SetCut:
    """A moderator cuts the stream (``True``: it ends, and nobody may publish) or lets
    speakers back on (``False``)."""

    session_code: str
    by: str
    cut: bool


@dataclass(frozen=True, slots=True)
class SetInterpretation:
    """The languages a session is interpreted into (besides the floor's own): each gets a
    booth, a channel viewers can pick, and an audio track in the session's recordings."""

    session_code: str
    by: str
    languages: tuple[str, ...]


DeliveryCommand = SetBroadcast | SetCut | SetInterpretation
MAX_LANGUAGES = 12


@dataclass(frozen=True, slots=True)
class BroadcastChanged:
    session_code: str
    broadcast: bool


@dataclass(frozen=True, slots=True)
class CutChanged:
    session_code: str
    cut: bool
    by: str


@dataclass(frozen=True, slots=True)
class InterpretationChanged:
    session_code: str
    languages: tuple[str, ...]


DeliveryEvent = BroadcastChanged | CutChanged | InterpretationChanged


class DeliveryError(DomainError):
    scope = "delivery"


@dataclass
class Delivery:
    broadcasting: set[str] = field(default_factory=set)
    """Sessions in broadcast mode (interactive is the default)."""

    cut: set[str] = field(default_factory=set)
    """Sessions whose stream a moderator cut: no publication is taken until they lift it."""
    interpretation: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def is_broadcast(self, session_code: str) -> bool:
        return session_code in self.broadcasting

    def is_cut(self, session_code: str) -> bool:
        return session_code in self.cut

    def languages(self, session_code: str) -> tuple[str, ...]:
        """The languages ``session_code`` is interpreted into, in the order declared."""
        return self.interpretation.get(session_code, ())

    def apply(self, command: DeliveryCommand, now: dt.datetime) -> list[DeliveryEvent]:
        match command:
            case SetBroadcast(code, _, broadcast):
                if not _switch(self.broadcasting, code, broadcast):
                    return []
                return [BroadcastChanged(code, broadcast)]
            case SetCut(code, by, cut):
                if not _switch(self.cut, code, cut):
                    return []
                return [CutChanged(code, cut, by)]
            case SetInterpretation(code, _, wanted):
                languages = _languages(wanted)
                if languages == self.languages(code):
                    return []
                self.interpretation[code] = languages
                return [InterpretationChanged(code, languages)]
            case _:
                assert_never(command)


def _languages(wanted: tuple[str, ...]) -> tuple[str, ...]:
    """``wanted`` as lower-case ISO 639 codes, each once, in order; refused when one is no
    language code or there are too many."""
    if len(wanted) > MAX_LANGUAGES:
        raise DeliveryError(
            "delivery.too_many_languages",
            f"A session has at most {MAX_LANGUAGES} interpretation languages.",
            "invalid",
        )
    languages: list[str] = []
    for raw in wanted:
        code = clean_language(raw, DeliveryError)
        if code not in languages:
            languages.append(code)
    return tuple(languages)


def _switch(sessions: set[str], code: str, on: bool) -> bool:
    """Put ``code`` in ``sessions`` or take it out; whether that changed anything."""
    if (code in sessions) == on:
        return False
    if on:
        sessions.add(code)
    else:
        sessions.discard(code)
    return True
