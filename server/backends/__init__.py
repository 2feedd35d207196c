"""Storage and messaging backends, chosen by URL scheme."""

from __future__ import annotations

from urllib.parse import urlsplit

import redis.exceptions

from server.backends.store import Store, StoreUnavailable
from server.backends.urls import BackendURLError, sqlite_path

__all__ = [
    "BackendURLError",
    "Store",
    "StoreUnavailable",
    "is_unavailable",
    "open_store",
    "sqlite_path",
]

OUTAGES: tuple[type[Exception], ...] = (
    StoreUnavailable,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    redis.exceptions.BusyLoadingError,
)
"""What a backend raises while it cannot be reached, rather than for a request's fault."""


def is_unavailable(error: BaseException) -> bool:
    return isinstance(error, OUTAGES)


async def open_store(url: str) -> Store:
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        from server.backends.sqlite import SQLiteStore

        return await SQLiteStore.open(sqlite_path(url))
    if scheme in ("redis", "rediss"):
        from server.backends.redis_store import RedisStore

        return await RedisStore.open(url)
    raise BackendURLError(
        f"unknown store URL scheme {scheme!r} in {url!r}; use sqlite:///PATH or redis://HOST:PORT/DB"
    )
