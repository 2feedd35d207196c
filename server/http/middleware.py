"""Request pipeline: identity, metrics, errors, CSRF, and the security headers."""

from __future__ import annotations

import logging
import time
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Handler

from server.backends import is_unavailable
from server.http import auth
from server.http.errors import AppError
from server.http.rendering import render
from server.http.request_body import form_text
from server.keys import (
    BEARER_CODEC,
    CLOCK,
    CSRF_SECRET,
    IDENTITY,
    IDENTITY_CODEC,
    METRICS,
    NEW_CSRF_SECRET,
    SETTINGS,
    STORE_OUTAGES,
)
from server.media.errors import MediaError, MediaErrorKind
from sessions.domain_errors import DomainError, ErrorKind
from web import i18n
from web.i18n import marked as _

log = logging.getLogger("plenaria.http")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: https:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "object-src 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(self), microphone=(self), geolocation=(), payment=()",
}

ERROR_CODES = {
    400: "request.invalid",
    401: "auth.required",
    403: "auth.forbidden",
    404: "not_found",
    405: "method.not_allowed",
    410: "gone",
    413: "request.too_large",
    415: "request.unsupported_media_type",
    422: "request.unprocessable",
}


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


def set_cookie(response: web.StreamResponse, request: web.Request, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        max_age=auth.IDENTITY_MAX_AGE,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=request.app[SETTINGS].secure_cookies,
    )


@web.middleware
async def identity_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Who is asking (from a bearer token or the signed cookie), and the browser's CSRF
    secret."""
    authorization = request.headers.get("Authorization", "")
    if authorization:
        scheme, _space, token = authorization.partition(" ")
        identity = request.app[BEARER_CODEC].loads(token.strip(), request.app[CLOCK]())
        if scheme.casefold() != "bearer" or identity.is_anonymous:
            raise AppError(401, "auth.invalid_token", _("The bearer token is not valid."))
        request[IDENTITY] = identity
    else:
        request[IDENTITY] = request.app[IDENTITY_CODEC].loads(
            request.cookies.get(auth.IDENTITY_COOKIE, "")
        )
    csrf_secret = request.cookies.get(auth.CSRF_COOKIE, "")
    fresh = not (16 <= len(csrf_secret) <= 64)
    request[CSRF_SECRET] = auth.new_csrf_secret() if fresh else csrf_secret
    request[NEW_CSRF_SECRET] = fresh
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if fresh:
            set_cookie(exc, request, auth.CSRF_COOKIE, request[CSRF_SECRET])
        raise
    # Only pages embed the CSRF token, so only they need to hand out its secret (media and
    # JSON answers to cookie-less clients, such as players fetching ranges, go without).
    if fresh and not response.prepared and response.content_type == "text/html":
        set_cookie(response, request, auth.CSRF_COOKIE, request[CSRF_SECRET])
    return response


def route_label(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    metrics = request.app[METRICS]
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        route = route_label(request)
        metrics.http_requests.labels(request.method, route, str(status)).inc()
        metrics.http_request_seconds.labels(route).observe(time.perf_counter() - started)


def wants_json(request: web.Request) -> bool:
    accept = request.headers.get("Accept", "")
    return (
        request.path.startswith(("/api/", "/whip/", "/whep/", "/hls/"))
        or request.path in ("/healthz", "/metrics")
        or ("application/json" in accept and "text/html" not in accept)
    )


def error_response(request: web.Request, error: AppError) -> web.StreamResponse:
    if wants_json(request):
        return web.json_response(error.body(), status=error.status, headers=error.headers)
    # The page is in the reader's language: the titles below, and every message marked for
    # translation where it is raised (one that is not stays as it is).
    language = i18n.current()
    title = ERROR_TITLES.get(error.status, _("Something went wrong"))
    return render(
        request,
        "error.html",
        {"title": language.gettext(title), "message": language.gettext(error.message)},
        status=error.status,
    )


ERROR_TITLES = {
    400: _("Bad request"),
    401: _("Sign-in needed"),
    403: _("Not allowed"),
    404: _("Not found"),
    405: _("Not allowed"),
    410: _("Link no longer valid"),
    413: _("Too large"),
}
HTTP_MESSAGES = {
    404: _("Not found. There is nothing at this address."),
    405: _("That method is not allowed here."),
    413: _("The request is too large."),
}


REFUSAL_STATUS: dict[ErrorKind, int] = {
    "invalid": 422,
    "not_found": 404,
    "conflict": 409,
    "rate_limited": 429,
}
"""A domain's refusal of a command, answered over HTTP: here, once, for every domain."""
MEDIA_STATUS: dict[MediaErrorKind, int] = {"invalid": 422, "conflict": 409, "unavailable": 503}


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except AppError as error:
        return error_response(request, error)
    except DomainError as refused:
        status = REFUSAL_STATUS[refused.kind]
        return error_response(request, AppError(status, refused.code, refused.message))
    except MediaError as refused:
        retry = {"Retry-After": str(refused.retry_after)} if refused.retry_after else {}
        status = MEDIA_STATUS[refused.kind]
        return error_response(request, AppError(status, refused.code, refused.message, retry))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        message = HTTP_MESSAGES.get(exc.status) or exc.text or exc.reason
        response = error_response(
            request, AppError(exc.status, ERROR_CODES.get(exc.status, "http.error"), message)
        )
        for name in ("Allow", "Retry-After"):
            if name in exc.headers:
                response.headers[name] = exc.headers[name]
        return response
    except Exception as error:
        if is_unavailable(error):
            return store_unavailable(request, error)
        log.exception("unhandled error", extra={"path": request.path, "method": request.method})
        return error_response(
            request, AppError(500, "internal", _("Something went wrong on our side; it is logged."))
        )


def store_unavailable(request: web.Request, error: Exception) -> web.StreamResponse:
    """503 with ``Retry-After``: the request may be sent again (a write it carried may or
    may not be stored, as with any unanswered request)."""
    count = request.app[STORE_OUTAGES].should_say(time.monotonic())
    if count is not None:
        log.warning(
            "the store cannot be reached; answering 503",
            extra={"error": repr(error), "answers_since_last_said": count},
        )
    refusal = AppError(
        503,
        "store.unavailable",
        _("The service is briefly unavailable; please try again in a moment."),
        {"Retry-After": "1"},
    )
    return error_response(request, refusal)


def same_origin(request: web.Request, origin: str) -> bool:
    parts = urlsplit(origin)
    allowed = {request.app[SETTINGS].base_url, f"{request.scheme}://{request.host}"}
    return f"{parts.scheme}://{parts.netloc}" in allowed


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """State-changing requests from a browser must come from our pages.

    A request authenticated by an ``Authorization`` header carries no ambient credential,
    so it needs no CSRF token; nor do WHEP requests and cookie-less WHIP requests.
    """
    if request.method in SAFE_METHODS or "Authorization" in request.headers:
        return await handler(request)
    # WHEP acts on no identity, and a WHIP request without our cookie carries no ambient
    # credential: both are for players and encoders (OBS, GStreamer) that have no page.
    no_cookie = auth.IDENTITY_COOKIE not in request.cookies
    if request.path.startswith("/whep/") or (request.path.startswith("/whip/") and no_cookie):
        return await handler(request)
    origin = request.headers.get("Origin")
    if origin is not None and not same_origin(request, origin):
        raise AppError(403, "csrf.origin", _("Requests from other sites are refused."))
    token = request.headers.get(auth.CSRF_HEADER, "")
    if not token and request.content_type in FORM_TYPES:
        token = await form_text(request, auth.CSRF_FIELD)
    if request[NEW_CSRF_SECRET] or not auth.csrf_token_valid(
        request.app[SETTINGS].secret_key, request[CSRF_SECRET], token
    ):
        raise AppError(
            403,
            "csrf.invalid",
            _(
                "The form has expired or did not come from this site. "
                "Reload the page and try again."
            ),
        )
    return await handler(request)
