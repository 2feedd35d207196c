"""Process settings from command-line flags and ``PLENARIA_*`` environment variables.

Precedence: flag, then environment, then default.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

LogFormat = Literal["json", "text"]
SECRET_FILE = "secret.key"  # noqa: S105 - a file name, not a secret


class SettingsError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    secret_key: bytes
    host: str = "127.0.0.1"
    port: int = 8080
    store_url: str = ""
    public_url: str = ""
    log_format: LogFormat = "text"
    log_level: str = "INFO"
    default_time_zone: str = "UTC"
    ice_servers: tuple[str, ...] = ()
    """STUN / TURN URLs offered to WHIP and WHEP clients (``Link: rel="ice-server"``)."""
    media_workers: int = 0
    """Media processes this process starts and places all media on (it serves the rest of
    the conference and no media itself); 0: it is a media node itself. ``plenaria serve``
    starts one per core unless told otherwise."""
    media_node: bool = False
    """This process was started as one of another's media workers."""
    max_viewers: int = 0
    """Viewers this media node takes before placing new ones on other nodes (0: as many as
    its CPU share allows)."""
    node_id: str = ""
    """This media node's name among the others (by default a random one per start)."""
    publish_grace_minutes: int = 15
    """A recording is published by itself when its stream started no earlier than this
    before its session's scheduled start and no later than this after its end; any other
    waits for a moderator's review (a camera test the day before)."""
    retention_days: int = 90
    """Days after which viewing and replay records lose their tie to people (their keys are
    replaced by random ones, so the figures stay); 0 keeps them."""
    node_url: str = ""
    """Where the other media nodes reach this process (``http://host:port``); by default
    its own listening address."""

    @property
    def media_node_url(self) -> str:
        if self.node_url:
            return self.node_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host  # noqa: S104
        host = "[::1]" if host == "::" else host
        return f"http://{host}:{self.port}"

    @property
    def shares_media(self) -> bool:
        """Media nodes register with each other: through the shared Redis, or through the
        SQLite file when this process starts media workers or is one."""
        return (
            self.store.startswith(("redis://", "rediss://"))
            or self.media_workers > 0
            or self.media_node
        )

    @property
    def store(self) -> str:
        return self.store_url or f"sqlite:///{(self.data_dir / 'plenaria.db').resolve()}"

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "localhost" if self.host in ("0.0.0.0", "::", "127.0.0.1") else self.host  # noqa: S104
        return f"http://{host}:{self.port}"

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")


def load_secret_key(data_dir: Path) -> bytes:
    """The key that signs cookies and links: kept in the data directory, made on first use."""
    path = data_dir / SECRET_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        descriptor = -1
    if descriptor < 0:
        key = path.read_bytes().strip()
        if len(key) < 32:
            raise SettingsError(f"{path} holds fewer than 32 bytes; delete it to make a new key")
        return key
    key = secrets.token_hex(32).encode()
    with os.fdopen(descriptor, "wb") as file:
        file.write(key)
    return key


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise SettingsError(f"port {value!r} is not a number") from None
    if not 0 <= port <= 65535:
        raise SettingsError(f"port {port} is out of range 0-65535")
    return port


def _node_id(value: str) -> str:
    if value and not re.fullmatch(r"[a-z0-9]{1,15}", value):
        raise SettingsError(f"node id {value!r} must be 1-15 lowercase letters or digits")
    return value


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0))


def _workers(value: str) -> int:
    return cores() if value == "auto" else _count(value, "media workers")


def _count(value: str, name: str) -> int:
    if not value.isdigit():
        raise SettingsError(f"{name} {value!r} must be a whole number, 0 or more")
    return int(value)


def build_settings(
    flags: Mapping[str, object | None],
    environ: Mapping[str, str] = os.environ,
    *,
    media_workers: str = "0",
) -> Settings:
    """Merge flags (``None`` when not given) with ``PLENARIA_<NAME>`` variables;
    ``media_workers`` is the default when neither gives it (``auto``: one per core)."""

    def pick(name: str, default: str = "") -> str:
        flag = flags.get(name)
        if flag is not None:
            return str(flag)
        return environ.get(f"PLENARIA_{name.upper()}", default)

    data_dir = Path(pick("data", "var"))
    log_format = pick("log_format", "text")
    if log_format not in ("json", "text"):
        raise SettingsError(f"log format {log_format!r} must be json or text")
    public_url = pick("public_url")
    if public_url and urlsplit(public_url).scheme not in ("http", "https"):
        raise SettingsError(f"public URL {public_url!r} must start with http:// or https://")
    node_url = pick("node_url")
    if node_url and urlsplit(node_url).scheme not in ("http", "https"):
        raise SettingsError(f"node URL {node_url!r} must start with http:// or https://")
    media_node = pick("media_node", "") in ("1", "True", "true")
    secret = pick("secret_key")
    if secret and len(secret) < 32:
        raise SettingsError("PLENARIA_SECRET_KEY must have at least 32 characters")
    store_url = pick("store")
    redis_url = pick("redis")
    return Settings(
        data_dir=data_dir,
        secret_key=secret.encode() if secret else load_secret_key(data_dir),
        host=pick("host", "127.0.0.1"),
        port=_port(pick("port", "8080")),
        store_url=redis_url or store_url,
        public_url=public_url,
        log_format="json" if log_format == "json" else "text",
        log_level=pick("log_level", "INFO").upper(),
        default_time_zone=pick("time_zone", "UTC"),
        ice_servers=tuple(url.strip() for url in pick("ice_servers").split(",") if url.strip()),
        node_url=node_url,
        node_id=_node_id(pick("node_id")),
        max_viewers=_count(pick("max_viewers", "0"), "max viewers"),
        media_workers=0 if media_node else _workers(pick("media_workers", media_workers)),
        media_node=media_node,
        publish_grace_minutes=_count(pick("publish_grace", "15"), "publish grace (minutes)"),
        retention_days=_count(pick("retention_days", "90"), "retention (days)"),
    )
