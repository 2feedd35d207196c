"""How a session's live stream reaches the people at home: interactive (the page's player
uses WebRTC, about half a second behind the room, and falls back to HLS on its own) or
broadcast (every page player uses LL-HLS, a few seconds behind, served through HTTP caches
so that an audience of thousands costs the media processes one packaging).

A session's moderators switch it; the switch goes through the command log like every other
decision, so every process and every open page agrees. They can also cut the stream: the
publication ends at once wherever it is, and no speaker can go live again until a moderator
lets them back on.

A moderator can also take a moment *off the record*: the publisher keeps sending (the hall
hears and sees everything), but no viewer, packaging or recording receives any of it until
the moderator puts the session back on the record. Both ends are kept with who and when,
for the organiser, as are the edits of what the people on stage agreed to
(:mod:`sessions.consent`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import assert_never

from sessions.consent import MEDIA, Consent, ConsentChange
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


@dataclass(frozen=True, slots=True)
class SetConsent:
    """An organiser or moderator records what a party agreed to (``subject``: the session
    itself when empty, else a speaker's programme key)."""

    session_code: str
    by: str
    subject: str
    consent: Consent
    by_name: str = ""
    """The display name of ``by`` when it was given, for the organiser's audit log."""


@dataclass(frozen=True, slots=True)
class SetOffRecord:
    """A moderator takes the session off the record (``True``) or back on."""

    session_code: str
    by: str
    off: bool
    by_name: str = ""


DeliveryCommand = SetBroadcast | SetCut | SetInterpretation | SetConsent | SetOffRecord
MAX_LANGUAGES = 12
MAX_SUBJECT = 200


@dataclass(frozen=True, slots=True)
class OffRecordSegment:
    """A stretch of a session nobody outside the hall received: open while ``ended_at`` is
    ``None``."""

    session_code: str
    started_at: dt.datetime
    started_by: str
    ended_at: dt.datetime | None = None
    ended_by: str = ""
    started_by_name: str = ""
    ended_by_name: str = ""

    def duration(self, now: dt.datetime) -> dt.timedelta:
        return (self.ended_at or now) - self.started_at


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


@dataclass(frozen=True, slots=True)
class ConsentChanged:
    change: ConsentChange

    @property
    def session_code(self) -> str:
        return self.change.session_code


@dataclass(frozen=True, slots=True)
class OffRecordChanged:
    """Off the record began (``segment.ended_at`` is ``None``) or ended."""

    segment: OffRecordSegment

    @property
    def session_code(self) -> str:
        return self.segment.session_code

    @property
    def off(self) -> bool:
        return self.segment.ended_at is None


DeliveryEvent = (
    BroadcastChanged | CutChanged | InterpretationChanged | ConsentChanged | OffRecordChanged
)


class DeliveryError(DomainError):
    scope = "delivery"


@dataclass
class Delivery:
    broadcasting: set[str] = field(default_factory=set)
    """Sessions in broadcast mode (interactive is the default)."""

    cut: set[str] = field(default_factory=set)
    """Sessions whose stream a moderator cut: no publication is taken until they lift it."""
    interpretation: dict[str, tuple[str, ...]] = field(default_factory=dict)
    consents: dict[str, dict[str, Consent]] = field(default_factory=dict)
    """Edited consent by session, then by subject (see :mod:`sessions.consent`)."""
    consent_history: list[ConsentChange] = field(default_factory=list)
    off_record: dict[str, OffRecordSegment] = field(default_factory=dict)
    """The open segment of each session that is off the record now."""
    segments: list[OffRecordSegment] = field(default_factory=list)
    """Every segment that ended, in the order they ended."""

    def consent_edits(self, session_code: str) -> dict[str, Consent]:
        return self.consents.get(session_code, {})

    def is_off_record(self, session_code: str) -> bool:
        return session_code in self.off_record

    def off_record_since(self, session_code: str) -> dt.datetime | None:
        segment = self.off_record.get(session_code)
        return segment.started_at if segment else None

    def off_record_segments(self, session_code: str) -> list[OffRecordSegment]:
        """``session_code``'s segments, ended ones first, then the open one."""
        ended = [s for s in self.segments if s.session_code == session_code]
        open_segment = self.off_record.get(session_code)
        return ended + ([open_segment] if open_segment else [])

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
            case SetConsent(code, by, subject, consent, by_name):
                _check_consent(subject, consent)
                edits = self.consents.setdefault(code, {})
                if edits.get(subject) == consent:
                    return []
                edits[subject] = consent
                change = ConsentChange(code, subject, consent, by, now, by_name)
                self.consent_history.append(change)
                return [ConsentChanged(change)]
            case SetOffRecord(code, by, off, by_name):
                open_segment = self.off_record.get(code)
                if off == (open_segment is not None):
                    return []
                if open_segment is None:
                    segment = OffRecordSegment(code, now, by, started_by_name=by_name)
                    self.off_record[code] = segment
                    return [OffRecordChanged(segment)]
                del self.off_record[code]
                ended = replace(open_segment, ended_at=now, ended_by=by, ended_by_name=by_name)
                self.segments.append(ended)
                return [OffRecordChanged(ended)]
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


def _check_consent(subject: str, consent: Consent) -> None:
    if len(subject) > MAX_SUBJECT or any(not ch.isprintable() for ch in subject):
        raise DeliveryError(
            "delivery.invalid_subject", "That is no speaker of this session.", "invalid"
        )
    if consent.media not in MEDIA:
        raise DeliveryError("delivery.invalid_media", "Media is video or audio.", "invalid")


def _switch(sessions: set[str], code: str, on: bool) -> bool:
    """Put ``code`` in ``sessions`` or take it out; whether that changed anything."""
    if (code in sessions) == on:
        return False
    if on:
        sessions.add(code)
    else:
        sessions.discard(code)
    return True
