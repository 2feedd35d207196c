"""Store URLs: which backend, and where."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit


class BackendURLError(ValueError):
    pass


def sqlite_path(url: str) -> Path:
    """``sqlite:///var/x.db`` → ``var/x.db``; ``sqlite:////abs/x.db`` → ``/abs/x.db``."""
    parts = urlsplit(url)
    if parts.scheme != "sqlite" or parts.netloc or not parts.path.startswith("/"):
        raise BackendURLError(f"not a sqlite URL: {url!r} (expected sqlite:///path/to/file.db)")
    return Path(parts.path[1:])
