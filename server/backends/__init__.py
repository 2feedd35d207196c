"""Storage and messaging backends, chosen by URL scheme."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from server.backends.store import Store


class BackendURLError(ValueError):
    pass


def sqlite_path(url: str) -> Path:
    """``sqlite:///var/x.db`` → ``var/x.db``; ``sqlite:////abs/x.db`` → ``/abs/x.db``."""
    parts = urlsplit(url)
    if parts.scheme != "sqlite" or parts.netloc or not parts.path.startswith("/"):
        raise BackendURLError(f"not a sqlite URL: {url!r} (expected sqlite:///path/to/file.db)")
    return Path(parts.path[1:])


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
