"""What may leave the hall: the consent of the people on stage, and off the record.

Both are decisions in the command log (``delivery.consent``, ``delivery.off_record``), so
every process folds them; :class:`StreamGate` makes each process's media engine send only
what they allow: nothing of a session that is off the record, no video of one whose
speakers may be heard but not seen, and no publication at all of one that is not streamed.
The publisher is never told: the hall hears and sees everything.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

import msgspec
from aiohttp import web

from server.backends.store import Store
from server.conference_log import DomainEvent, QAService
from server.http.commands import submit
from server.http.errors import AppError
from server.http.identity import organiser, participant
from server.http.rendering import render
from server.http.request_body import form_text, read_json
from server.http.responses import json_of, see_other
from server.keys import CLOCK, QA
from server.live.control import StreamCuts
from server.media.engine import MediaEngine
from server.media.hls.service import HlsPackaging
from server.media.stream_key import StreamKey
from server.programme.lookup import CODE_PATTERN, current_programme, find_session
from sessions.consent import (
    MEDIA,
    SESSION_SUBJECT,
    Consent,
    ConsentChange,
    Media,
    SessionConsent,
    session_consent,
)
from sessions.delivery import (
    ConsentChanged,
    Delivery,
    OffRecordChanged,
    OffRecordSegment,
    SetConsent,
    SetOffRecord,
)
from sessions.programme import Session
from sessions.roles import Identity
from web.i18n import marked as _

log = logging.getLogger("plenaria.consent")

routes = web.RouteTableDef()

EVERYTHING = frozenset({"audio", "video"})
VIDEO = frozenset({"video"})
NOTHING: frozenset[str] = frozenset()


def kinds_to_withhold(delivery: Delivery, consent: SessionConsent, code: str) -> frozenset[str]:
    """What a session's panel and booths may not send anyone outside the hall now."""
    if delivery.is_off_record(code):
        return EVERYTHING
    return VIDEO if consent.audio_only else NOTHING


class StreamGate:
    """Keeps this process's media engine withholding what each session may not send."""

    def __init__(
        self,
        media: MediaEngine,
        hls: HlsPackaging,
        service: QAService,
        store: Store,
        cuts: StreamCuts,
    ) -> None:
        self._media = media
        self._hls = hls
        self._service = service
        self._store = store
        self._cuts = cuts
        self._tasks: set[asyncio.Task[None]] = set()
        service.subscribe(self.on_events)

    async def start(self) -> None:
        """Withhold what the log already says (a process starting mid-conference)."""
        delivery = self._service.delivery
        for code in set(delivery.consents) | set(delivery.off_record):
            await self.refresh(code)

    def on_events(self, sequence: int, code: str, events: list[DomainEvent]) -> None:
        for event in events:
            if isinstance(event, OffRecordChanged) and event.off:
                # At once, before anything else is read: not one more packet leaves.
                self._withhold(event.session_code, EVERYTHING)
                log.warning(
                    "off the record",
                    extra={"session": event.session_code, "by": event.segment.started_by},
                )
            if isinstance(event, OffRecordChanged | ConsentChanged):
                self._spawn(self.refresh(event.session_code))

    async def refresh(self, code: str) -> None:
        programme = await self._store.load_programme()
        session = programme.session_by_code(code) if programme else None
        if session is None:
            return
        delivery = self._service.delivery
        consent = session_consent(session, delivery.consent_edits(code))
        self._withhold(code, kinds_to_withhold(delivery, consent, code))
        if not consent.streamed:
            await self._cuts.end(code)

    def _withhold(self, code: str, kinds: frozenset[str]) -> None:
        if self._media.withheld.get(code, NOTHING) == kinds:
            return
        self._media.withhold(code, kinds)
        self._spawn(self._hls.restart(code))
        self._media.changed(StreamKey.panel(code))

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


# -- HTTP -------------------------------------------------------------------------------------


class ConsentView(msgspec.Struct, frozen=True):
    stream: bool
    record: bool
    media: Media


class PartyView(msgspec.Struct, frozen=True):
    subject: str
    """Empty for the session itself, else the speaker's programme key."""
    name: str
    consent: ConsentView
    edited: bool


class SessionConsentView(msgspec.Struct, frozen=True):
    parties: list[PartyView]
    effective: ConsentView
    streamed: bool
    recorded: bool
    audio_only: bool


def consent_view(consent: SessionConsent) -> SessionConsentView:
    def view(c: Consent) -> ConsentView:
        return ConsentView(c.stream, c.record, c.media)

    return SessionConsentView(
        parties=[PartyView(p.subject, p.name, view(p.consent), p.edited) for p in consent.parties],
        effective=view(consent.effective),
        streamed=consent.streamed,
        recorded=consent.recorded,
        audio_only=consent.audio_only,
    )


class ConsentBody(msgspec.Struct, forbid_unknown_fields=True):
    subject: str
    stream: bool
    record: bool
    media: Media


class OffRecordBody(msgspec.Struct, forbid_unknown_fields=True):
    off: bool


def steward(request: web.Request, code: str) -> Identity:
    """A moderator of the session, or an organiser."""
    identity = participant(request)
    if not (identity.can_moderate(code) or identity.is_organiser):
        raise AppError(
            403, "auth.forbidden", _("Only this session's moderators or an organiser may do that.")
        )
    return identity


async def current_consent(request: web.Request, session: Session) -> SessionConsent:
    await request.app[QA].sync()
    return session_consent(session, request.app[QA].delivery.consent_edits(session.code))


SESSION_CONSENT = f"/api/sessions/{{code:{CODE_PATTERN}}}/consent"


@routes.get(SESSION_CONSENT)
async def get_consent(request: web.Request) -> web.StreamResponse:
    _programme, session = await find_session(request)
    steward(request, session.code)
    return json_of(consent_view(await current_consent(request, session)))


@routes.put(SESSION_CONSENT)
async def put_consent(request: web.Request) -> web.StreamResponse:
    """Record what one party agreed to: ``subject`` empty for the session, else a speaker."""
    _programme, session = await find_session(request)
    me = steward(request, session.code)
    body = await read_json(request, ConsentBody)
    if body.subject != SESSION_SUBJECT and body.subject not in {s.key for s in session.speakers}:
        raise AppError(422, "consent.unknown_speaker", _("That is no speaker of this session."))
    consent = Consent(body.stream, body.record, body.media)
    await submit(
        request,
        session.code,
        SetConsent(session.code, me.participant_id, body.subject, consent, me.display_name),
    )
    return json_of(consent_view(await current_consent(request, session)))


@routes.post(f"/api/sessions/{{code:{CODE_PATTERN}}}/off-record")
async def set_off_record(request: web.Request) -> web.StreamResponse:
    """Take the session off the record (``{"off": true}``) or back on."""
    _programme, session = await find_session(request)
    me = steward(request, session.code)
    body = await read_json(request, OffRecordBody)
    await submit(
        request,
        session.code,
        SetOffRecord(session.code, me.participant_id, body.off, me.display_name),
    )
    segments = request.app[QA].delivery.off_record_segments(session.code)
    current = segments[-1] if segments and segments[-1].ended_at is None else None
    return json_of(
        {
            "off_record": current is not None,
            "since": current.started_at.isoformat() if current else None,
        }
    )


# -- the organiser's page ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SessionSafety:
    """One session on the organiser's page: its consent, and what went off the record."""

    session: Session
    consent: SessionConsent
    segments: list[OffRecordSegment]
    changes: list[tuple[ConsentChange, str]]
    """Each edit with the name of whose consent it was (empty: the session's own)."""


@routes.get("/organise/consent", name="organise_consent")
async def consent_page(request: web.Request) -> web.StreamResponse:
    """Every session's consent (editable here) and the log of what went off the record,
    who decided each, and when."""
    organiser(request)
    programme = await current_programme(request)
    await request.app[QA].sync()
    delivery = request.app[QA].delivery
    now = request.app[CLOCK]()
    rows = [
        SessionSafety(
            session,
            session_consent(session, delivery.consent_edits(session.code)),
            delivery.off_record_segments(session.code),
            [
                (change, next((sp.name for sp in session.speakers if sp.key == change.subject), ""))
                for change in delivery.consent_history
                if change.session_code == session.code
            ],
        )
        for session in (programme.sessions if programme else ())
    ]
    return render(
        request,
        "organise_consent.html",
        {"rows": rows, "now": now, "saved": request.query.get("saved", "")},
        programme=programme,
    )


@routes.post("/organise/consent/{code:" + CODE_PATTERN + "}", name="organise_consent_save")
async def consent_form(request: web.Request) -> web.StreamResponse:
    """The organiser's page saves one party's consent without JavaScript."""
    me = organiser(request)
    _programme, session = await find_session(request)
    subject = await form_text(request, "subject")
    if subject != SESSION_SUBJECT and subject not in {s.key for s in session.speakers}:
        raise AppError(422, "consent.unknown_speaker", _("That is no speaker of this session."))
    media = await form_text(request, "media")
    if media not in MEDIA:
        raise AppError(422, "consent.invalid_media", _("Choose video or audio only."))
    consent = Consent(
        stream=await form_text(request, "stream") == "on",
        record=await form_text(request, "record") == "on",
        media="audio" if media == "audio" else "video",
    )
    command = SetConsent(session.code, me.participant_id, subject, consent, me.display_name)
    await submit(request, session.code, command)
    return see_other(f"/organise/consent?saved={session.code}#consent-{session.code}")
