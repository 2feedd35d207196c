"""Small response helpers."""

from __future__ import annotations

import msgspec
from aiohttp import web


def see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


def local_path(value: str, default: str = "/") -> str:
    """Only a path on this site is a safe place to send someone back to."""
    if value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


def json_of(value: object, status: int = 200) -> web.Response:
    """A JSON answer encoded by msgspec, so typed views (Structs) go out as they are."""
    return web.Response(
        body=msgspec.json.encode(value), status=status, content_type="application/json"
    )
