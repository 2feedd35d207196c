"""Who may see and change registrations: organisers; at the door, door staff too."""

from __future__ import annotations

from aiohttp import web

from server.http.errors import AppError
from server.http.identity import organiser
from server.keys import IDENTITY, SETTINGS
from server.registrations.tokens import RegistrationCodes
from sessions.roles import Identity

__all__ = ["codes", "door", "organiser"]
from web.i18n import marked as _


def door(request: web.Request) -> Identity:
    identity = request[IDENTITY]
    if identity.is_anonymous:
        raise AppError(401, "auth.required", _("Sign in with your door link first."))
    if not identity.can_check_in():
        raise AppError(
            403, "auth.forbidden", _("Only door staff and organisers may check people in.")
        )
    return identity


def codes(request: web.Request) -> RegistrationCodes:
    return RegistrationCodes(request.app[SETTINGS].secret_key)
