"""Who may do what. Roles are granted per programme session by one-time login links."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field


class Role(enum.StrEnum):
    MODERATOR = "moderator"
    SPEAKER = "speaker"
    CAPTIONER = "captioner"
    """Writes a session's live captions in one language."""
    INTERPRETER = "interpreter"
    """Interprets a session into one language, from its booth."""
    ORGANISER = "organiser"
    """Runs the conference: registrations, consent, the audit log and the figures."""
    DOOR = "door"
    """Checks in-person registrants in at the door (and sees nothing else)."""


LANGUAGE_ROLES = frozenset({Role.CAPTIONER, Role.INTERPRETER})
"""Roles granted for one language of a session: their scope is ``<code>/<language>``."""


CONFERENCE_ROLES = frozenset({Role.ORGANISER, Role.DOOR})
"""Roles granted for the whole conference: their scope is :data:`CONFERENCE_SCOPE`."""

CONFERENCE_SCOPE = "*"


def language_scope(session_code: str, language: str) -> str:
    return f"{session_code}/{language}"


def scope_session(scope: str) -> tuple[str, str | None]:
    """A role's scope as (session code, language): ``panel`` → (panel, None), ``panel/fr`` →
    (panel, fr)."""
    code, _, language = scope.partition("/")
    return code, language or None


@dataclass(frozen=True, slots=True)
class LoginGrant:
    """A one-time login link as the store keeps it: only a hash of its secret."""

    secret_hash: str
    role: Role
    session_code: str
    created_at: dt.datetime
    expires_at: dt.datetime

    def usable(self, now: dt.datetime) -> bool:
        return now < self.expires_at


@dataclass(frozen=True, slots=True)
class Identity:
    """The person behind a request. Anonymous when ``participant_id`` is empty."""

    participant_id: str = ""
    display_name: str = ""
    roles: frozenset[tuple[str, Role]] = field(default_factory=frozenset)
    """Pairs of (session code, role)."""

    @property
    def is_anonymous(self) -> bool:
        return not self.participant_id

    def has_role(self, session_code: str, role: Role) -> bool:
        return (session_code, role) in self.roles

    def can_moderate(self, session_code: str) -> bool:
        return self.has_role(session_code, Role.MODERATOR)

    @property
    def is_organiser(self) -> bool:
        return self.has_role(CONFERENCE_SCOPE, Role.ORGANISER)

    def can_check_in(self) -> bool:
        """Door staff and organisers may check people in."""
        return self.is_organiser or self.has_role(CONFERENCE_SCOPE, Role.DOOR)

    def can_caption(self, session_code: str, language: str) -> bool:
        """A captioner of that language, or one of the session's moderators (who may stand
        in)."""
        scope = language_scope(session_code, language)
        return self.has_role(scope, Role.CAPTIONER) or self.can_moderate(session_code)

    def with_role(self, session_code: str, role: Role) -> Identity:
        return Identity(
            participant_id=self.participant_id,
            display_name=self.display_name,
            roles=self.roles | {(session_code, role)},
        )


DISPLAY_NAME_MAX = 60


class DisplayNameError(ValueError):
    pass


def clean_display_name(raw: str) -> str:
    """Collapse white space and refuse empty, overlong or control-character names."""
    name = " ".join(raw.split())
    if not name:
        raise DisplayNameError("a display name is required")
    if len(name) > DISPLAY_NAME_MAX:
        raise DisplayNameError(f"a display name has at most {DISPLAY_NAME_MAX} characters")
    if any(not ch.isprintable() for ch in name):
        raise DisplayNameError("a display name cannot contain control characters")
    return name
