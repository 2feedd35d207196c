"""Small response helpers."""

from __future__ import annotations

from aiohttp import web


def see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


def local_path(value: str, default: str = "/") -> str:
    """Only a path on this site is a safe place to send someone back to."""
    if value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default
