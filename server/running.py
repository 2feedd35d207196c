"""Where a running server is reached, for the commands run beside it on the same data.

``plenaria serve`` and ``plenaria demo`` write ``DATA/server.json`` once they listen and
remove it when they stop; ``plenaria link`` reads it, so a printed link carries the address
the server really answers at (its port, its public URL), not a default.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import msgspec

RUNNING_FILE = "server.json"


class RunningServer(msgspec.Struct, frozen=True):
    url: str
    pid: int


def announce_running(data_dir: Path, url: str) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    partial = data_dir / f".{RUNNING_FILE}.{os.getpid()}"
    partial.write_bytes(msgspec.json.encode(RunningServer(url, os.getpid())))
    partial.replace(data_dir / RUNNING_FILE)


def forget_running(data_dir: Path) -> None:
    """Remove the file if this process wrote it (another server may have started since)."""
    running = running_server(data_dir)
    if running is not None and running.pid == os.getpid():
        with contextlib.suppress(FileNotFoundError):
            (data_dir / RUNNING_FILE).unlink()


def running_server(data_dir: Path) -> RunningServer | None:
    """The server serving ``data_dir`` now; None when none is (or it died without removing
    its file)."""
    try:
        running = msgspec.json.decode((data_dir / RUNNING_FILE).read_bytes(), type=RunningServer)
    except (OSError, msgspec.DecodeError):
        return None
    try:
        os.kill(running.pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, under another user
    return running
