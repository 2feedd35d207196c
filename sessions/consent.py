"""What the people on a panel agreed to: to be streamed to the people at home, to be
recorded for the archive, and whether on video or by voice only.

Each session has one consent of its own (the programme's do-not-record and do-not-stream
flags are its defaults) and one per speaker (everyone agrees until someone says otherwise).
What the server enforces is the strictest of them: one speaker who does not agree to the
internet keeps the whole session off it, and one who agrees to be heard but not seen makes
it audio only. Moderators see who decided what before they go live."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from sessions.programme import Session

Media = Literal["video", "audio"]
MEDIA: tuple[Media, ...] = ("video", "audio")

SESSION_SUBJECT = ""
"""The subject of a session's own consent; a speaker's is their programme key."""


@dataclass(frozen=True, slots=True)
class Consent:
    stream: bool = True
    record: bool = True
    media: Media = "video"
    """``audio``: heard but not seen (no video reaches viewers, packaging or recordings)."""


@dataclass(frozen=True, slots=True)
class ConsentChange:
    """One edit, kept for the organiser's audit log."""

    session_code: str
    subject: str
    consent: Consent
    by: str
    at: dt.datetime
    by_name: str = ""


@dataclass(frozen=True, slots=True)
class Party:
    """One whose consent counts: the session itself or a speaker."""

    subject: str
    name: str
    consent: Consent
    edited: bool
    """Set by an organiser or moderator, not taken from the programme's defaults."""


@dataclass(frozen=True, slots=True)
class SessionConsent:
    """A session's consent: each party's, and the strictest of them (what is enforced)."""

    parties: tuple[Party, ...]
    effective: Consent

    @property
    def streamed(self) -> bool:
        return self.effective.stream

    @property
    def recorded(self) -> bool:
        # Nothing is recorded of a session that is not streamed: the recorder reads the stream.
        return self.effective.stream and self.effective.record

    @property
    def audio_only(self) -> bool:
        return self.effective.media == "audio"

    def withholding(self, attribute: Literal["stream", "record", "media"]) -> tuple[Party, ...]:
        """The parties that keep ``attribute`` from its permissive value."""
        if attribute == "media":
            return tuple(p for p in self.parties if p.consent.media == "audio")
        return tuple(p for p in self.parties if not getattr(p.consent, attribute))


def programme_consent(session: Session) -> Consent:
    """The session's own consent as the programme states it (pretalx's do-not-record, …)."""
    return Consent(stream=not session.do_not_stream, record=not session.do_not_record)


def session_consent(session: Session, edits: Mapping[str, Consent]) -> SessionConsent:
    """``session``'s consent given the edits made to it (by subject)."""
    own = edits.get(SESSION_SUBJECT)
    parties = [
        Party(SESSION_SUBJECT, "", own or programme_consent(session), own is not None),
        *(
            Party(
                speaker.key,
                speaker.name,
                edits.get(speaker.key, Consent()),
                speaker.key in edits,
            )
            for speaker in session.speakers
        ),
    ]
    effective = Consent(
        stream=all(p.consent.stream for p in parties),
        record=all(p.consent.record for p in parties),
        media="audio" if any(p.consent.media == "audio" for p in parties) else "video",
    )
    return SessionConsent(tuple(parties), effective)
