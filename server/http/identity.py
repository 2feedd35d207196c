"""Who is asking, and what they may do: display names, the signed identity cookie, sign-in
links' claims, and the participant / moderator checks every route uses."""

from __future__ import annotations

from aiohttp import web

from server.http import auth
from server.http.errors import AppError
from server.http.middleware import set_cookie
from server.keys import (
    CLOCK,
    IDENTITY,
    IDENTITY_CODEC,
    LOGIN_LINKS,
)
from sessions.roles import DisplayNameError, Identity, clean_display_name
from web.i18n import marked as _


def moderator(request: web.Request, session_code: str) -> Identity:
    identity = participant(request)
    if not identity.can_moderate(session_code):
        raise AppError(403, "auth.forbidden", _("Only this session's moderators may do that."))
    return identity


def organiser(request: web.Request) -> Identity:
    """One of the conference's organisers (a conference-wide role)."""
    identity = request[IDENTITY]
    if identity.is_anonymous:
        raise AppError(401, "auth.required", _("Sign in with your organiser link first."))
    if not identity.is_organiser:
        raise AppError(403, "auth.forbidden", _("Only the conference's organisers may do that."))
    return identity


def participant(request: web.Request) -> Identity:
    identity = request[IDENTITY]
    if identity.is_anonymous:
        raise AppError(401, "auth.required", _("Join with a display name first."))
    return identity


def display_name_from(raw: str) -> str:
    try:
        return clean_display_name(raw)
    except DisplayNameError as error:
        raise AppError(422, "participant.display_name", f"{str(error).capitalize()}.") from None


def joined(identity: Identity, display_name: str) -> Identity:
    return Identity(
        participant_id=identity.participant_id or auth.new_participant_id(),
        display_name=display_name,
        roles=identity.roles,
    )


def with_identity(request: web.Request, response: web.StreamResponse, identity: Identity) -> None:
    set_cookie(response, request, auth.IDENTITY_COOKIE, request.app[IDENTITY_CODEC].dumps(identity))


def login_claims(request: web.Request) -> auth.LoginClaims:
    claims = request.app[LOGIN_LINKS].read(request.match_info["token"])
    if claims is None:
        raise AppError(
            400, "login.invalid", _("This sign-in link is not valid. Ask for a new one.")
        )
    if claims.expires_at <= request.app[CLOCK]():
        raise AppError(410, "login.expired", _("This sign-in link has expired. Ask for a new one."))
    return claims
