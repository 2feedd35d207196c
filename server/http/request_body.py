"""Reading request bodies safely: size-capped, and every malformation a 4xx with a code."""

from __future__ import annotations

from typing import TypeVar

import msgspec
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from server.http.errors import AppError

MAX_JSON_BODY = 16 * 1024

StructT = TypeVar("StructT", bound=msgspec.Struct)


def _too_large() -> AppError:
    return AppError(413, "request.too_large", f"A body has at most {MAX_JSON_BODY} bytes.")


async def read_json(request: web.Request, kind: type[StructT]) -> StructT:
    """The body decoded as ``kind``. A request without a body reads as ``{}``: fine where
    every field has a default (``POST …/rebalance``), a 422 naming the field elsewhere."""
    if not request.body_exists:
        return _decode(b"{}", kind)
    if request.content_type != "application/json":
        raise AppError(415, "request.content_type", "Send the body as application/json.")
    if request.content_length is not None and request.content_length > MAX_JSON_BODY:
        raise _too_large()
    body = await read_capped(request, MAX_JSON_BODY + 1)
    if len(body) > MAX_JSON_BODY:
        raise _too_large()
    return _decode(body, kind)


async def read_capped(request: web.Request, limit: int) -> bytes:
    """The body, or its first ``limit`` bytes. ``content.read(n)`` alone answers with what
    has arrived so far, which for a body in several TCP segments is a part of it."""
    data = bytearray()
    while len(data) < limit and (chunk := await request.content.read(limit - len(data))):
        data += chunk
    return bytes(data)


def _decode(body: bytes, kind: type[StructT]) -> StructT:
    try:
        return msgspec.json.decode(body, type=kind)
    except msgspec.ValidationError as error:
        raise AppError(422, "request.invalid_field", str(error)) from None
    except (msgspec.DecodeError, ValueError):
        raise AppError(400, "request.malformed_json", "The body is not valid JSON.") from None


async def form_text(request: web.Request, name: str) -> str:
    """A text field of a submitted form; an uploaded file in its place counts as empty."""
    try:
        form = await request.post()
    except (ValueError, LookupError, HttpProcessingError):
        raise AppError(400, "request.malformed_form", "The form data could not be read.") from None
    value = form.get(name, "")
    return value if isinstance(value, str) else ""
