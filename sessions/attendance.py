"""Attendance, measured: who followed each session remotely, for how long, and what the
conference's figures come to. Pure: the records come in, the figures go out.

A *viewer key* names whoever watched, without a name: ``p:<participant id>`` for a signed-in
person (a remote registrant's personal link signs them in as their registration's
participant id, so their country can be counted), ``v:<random>`` for an anonymous browser
(the ``plenaria_viewer`` cookie), ``x:<random>`` once the tie to a person was cut (erasure on
request, or the retention period passed). Figures only ever count keys, so replacing a key
by a fresh random one everywhere keeps every count right.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from sessions.registrations import Registration

Channel = Literal["webrtc", "hls"]
CHANNELS: tuple[Channel, ...] = ("webrtc", "hls")

PARTICIPANT_PREFIX = "p:"
BROWSER_PREFIX = "v:"
UNTIED_PREFIX = "x:"

SMALLEST_PUBLIC_GROUP = 3
"""A public figure counts at least this many people; smaller groups are folded together
("other") or withheld, so that no figure singles someone out."""


def participant_key(participant_id: str) -> str:
    return PARTICIPANT_PREFIX + participant_id


def browser_key(token: str) -> str:
    return BROWSER_PREFIX + token


def untied_key() -> str:
    """A fresh key tied to nobody: what replaces a person's key when the tie is cut."""
    return UNTIED_PREFIX + secrets.token_urlsafe(12)


def participant_of(key: str) -> str | None:
    """The participant id a key names, if it names one."""
    return key[len(PARTICIPANT_PREFIX) :] if key.startswith(PARTICIPANT_PREFIX) else None


@dataclass(frozen=True, slots=True)
class Viewing:
    """One viewer watching one session's panel over one channel, from ``started_at`` until
    ``last_seen_at`` (when it ended, or the last time it was known to go on)."""

    id: str
    """Unique over every process (random): the record a process writes again as it goes on."""
    session: str
    viewer: str
    channel: Channel
    started_at: dt.datetime
    last_seen_at: dt.datetime
    ended: bool = False

    @property
    def seconds(self) -> float:
        return max(0.0, (self.last_seen_at - self.started_at).total_seconds())


@dataclass(frozen=True, slots=True)
class Replay:
    """A recording played back, counted once per viewer per recording per (UTC) day."""

    recording_id: str
    viewer: str
    day: dt.date
    played_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Participation:
    """Someone seated in a break-out room of a session during one round (``round`` names
    it: when it opened), counted once per round whichever processes report it."""

    session: str
    round: str
    viewer: str
    seated_at: dt.datetime


@dataclass
class Activity:
    """What happened in one session's Q&A and break-out rooms, folded from the command log
    (every process folds the same log, so every process counts the same)."""

    asked: set[str] = field(default_factory=set)
    approved: set[str] = field(default_factory=set)
    """Questions the public saw at some point (approved, or posted under post-moderation)."""
    answered: set[str] = field(default_factory=set)
    votes: int = 0
    """Upvotes cast (withdrawn ones included: they were cast)."""


def peak_concurrent(intervals: Iterable[tuple[dt.datetime, dt.datetime]]) -> int:
    """The most intervals ``[start, end)`` open at one moment (a sweep over their ends); an
    interval ending when another starts does not overlap it."""
    moments: list[tuple[dt.datetime, int]] = []
    for start, end in intervals:
        if end <= start:
            continue
        moments.append((start, 1))
        moments.append((end, -1))
    moments.sort(key=lambda moment: (moment[0], moment[1]))  # ends before starts
    peak = current = 0
    for _, change in moments:
        current += change
        peak = max(peak, current)
    return peak


@dataclass(frozen=True, slots=True)
class SessionFigures:
    code: str
    title: str
    unique_remote: int
    """Distinct viewer keys over WebRTC, HLS and the break-out rooms."""
    peak_concurrent: int
    """Both channels together."""
    peak_webrtc: int
    peak_hls: int
    watch_seconds: int
    questions_asked: int = 0
    questions_approved: int = 0
    questions_answered: int = 0
    votes: int = 0
    breakout_participants: int = 0
    replays: int = 0


def session_figures(
    code: str,
    title: str,
    viewings: Sequence[Viewing],
    activity: Activity | None = None,
    replays: int = 0,
    participations: Sequence[Participation] = (),
) -> SessionFigures:
    """One session's figures from its viewings and break-out participations (other
    sessions' are ignored)."""
    own = [v for v in viewings if v.session == code]
    seated = {p.viewer for p in participations if p.session == code}
    activity = activity or Activity()
    spans = {
        channel: [(v.started_at, v.last_seen_at) for v in own if v.channel == channel]
        for channel in CHANNELS
    }
    return SessionFigures(
        code=code,
        title=title,
        unique_remote=len({v.viewer for v in own} | seated),
        peak_concurrent=peak_concurrent(spans["webrtc"] + spans["hls"]),
        peak_webrtc=peak_concurrent(spans["webrtc"]),
        peak_hls=peak_concurrent(spans["hls"]),
        watch_seconds=round(sum(v.seconds for v in own)),
        questions_asked=len(activity.asked),
        questions_approved=len(activity.approved),
        questions_answered=len(activity.answered),
        votes=activity.votes,
        breakout_participants=len(seated),
        replays=replays,
    )


def remote_keys(
    viewings: Iterable[Viewing], participations: Iterable[Participation] = ()
) -> set[str]:
    """Everyone who followed any session remotely, once each."""
    return {v.viewer for v in viewings} | {p.viewer for p in participations}


@dataclass(frozen=True, slots=True)
class ConferenceFigures:
    registered: int
    registered_in_person: int
    registered_remote: int
    checked_in: int
    in_person: int
    """Checked in at the door; the in-person registrations when nobody was checked in
    (the door did not use Plenaria), as ``in_person_basis`` says."""
    in_person_basis: Literal["checked_in", "registered"]
    followed_remotely: int
    """Distinct remote participants over every session, signed in or not."""
    remote_registrants_followed: int
    """Registrants (remote or not) who followed something remotely, signed in."""
    countries: Mapping[str, int]
    """People present by country (ISO alpha-2, most first): in person, and registrants who
    followed remotely; people without a country are not counted here."""

    @property
    def states(self) -> int:
        return len(self.countries)


def conference_figures(
    registrations: Sequence[Registration], followed: set[str]
) -> ConferenceFigures:
    """The conference's figures from its registrations and the keys that followed remotely."""
    checked_in = [r for r in registrations if r.checked_in_at is not None]
    in_person_registered = [r for r in registrations if r.in_person]
    basis: Literal["checked_in", "registered"] = "checked_in" if checked_in else "registered"
    present = checked_in if checked_in else in_person_registered
    followed_ids = {p for key in followed if (p := participant_of(key)) is not None}
    remote_registrants = [r for r in registrations if r.participant_id in followed_ids]
    people = {r.participant_id: r for r in (*present, *remote_registrants)}  # each once
    countries = Counter(r.country for r in people.values() if r.country)
    return ConferenceFigures(
        registered=len(registrations),
        registered_in_person=len(in_person_registered),
        registered_remote=len(registrations) - len(in_person_registered),
        checked_in=len(checked_in),
        in_person=len(present),
        in_person_basis=basis,
        followed_remotely=len(followed),
        remote_registrants_followed=len(remote_registrants),
        countries=dict(sorted(countries.items(), key=lambda item: (-item[1], item[0]))),
    )


OTHER = "other"


def public_countries(countries: Mapping[str, int]) -> dict[str, int]:
    """Countries with fewer than :data:`SMALLEST_PUBLIC_GROUP` people folded into
    ``"other"`` (itself shown only when it too reaches that size, else folded away)."""
    shown = {c: n for c, n in countries.items() if n >= SMALLEST_PUBLIC_GROUP}
    other = sum(n for c, n in countries.items() if n < SMALLEST_PUBLIC_GROUP)
    if other >= SMALLEST_PUBLIC_GROUP:
        shown[OTHER] = other
    return shown


def public_count(value: int) -> int | None:
    """A head count as the public may see it: ``None`` (fewer than three) when small."""
    return value if value >= SMALLEST_PUBLIC_GROUP else None
