"""Whose viewing a request is: the signed-in participant, else the browser's anonymous
``plenaria_viewer`` cookie (random, HttpOnly, SameSite=Lax), handed out by the answers to
WHEP offers and replay beacons (never by cacheable ones: an HLS playlist can sit in a shared
cache). A playlist request with neither is counted under a key made from its address and
user agent for that day, signed with the conference's key (nothing of either is kept)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import secrets

from aiohttp import web

from server.http.middleware import set_cookie
from server.keys import ATTENDANCE, CLOCK, IDENTITY, SETTINGS
from sessions.attendance import browser_key, participant_key

VIEWER_COOKIE = "plenaria_viewer"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def viewer_key(request: web.Request) -> tuple[str, str]:
    """The request's viewer key, and the cookie to hand out (empty when none is needed)."""
    identity = request[IDENTITY]
    if not identity.is_anonymous:
        return participant_key(identity.participant_id), ""
    token = request.cookies.get(VIEWER_COOKIE, "")
    if _TOKEN.fullmatch(token):
        return browser_key(token), ""
    token = secrets.token_urlsafe(16)
    return browser_key(token), token


def passer_by_key(request: web.Request) -> str:
    """A cookie-less, anonymous player's key for today: the same for its requests all day,
    and no way back to its address."""
    day = request.app[CLOCK]().astimezone(dt.UTC).date().isoformat()
    seen = f"{day}|{request.remote or ''}|{request.headers.get('User-Agent', '')}"
    digest = hmac.new(request.app[SETTINGS].secret_key, seen.encode(), hashlib.sha256).digest()
    return browser_key(base64.urlsafe_b64encode(digest[:16]).decode().rstrip("="))


def hand_out(request: web.Request, response: web.StreamResponse, token: str) -> None:
    if token:
        set_cookie(response, request, VIEWER_COOKIE, token)


def watching_webrtc(
    request: web.Request, response: web.StreamResponse, code: str, resource: str
) -> None:
    """A WHEP viewer of ``code``'s panel started: count it (the engine says when it ends)."""
    if ATTENDANCE not in request.app:
        return
    key, token = viewer_key(request)
    request.app[ATTENDANCE].webrtc_started(code, resource, key)
    hand_out(request, response, token)


def watching_hls(request: web.Request, response: web.StreamResponse, code: str) -> None:
    """A player fetched ``code``'s playlist (answered 200): its viewing goes on."""
    if ATTENDANCE not in request.app or response.status != 200:
        return
    key, token = viewer_key(request)
    request.app[ATTENDANCE].hls_request(code, passer_by_key(request) if token else key)
