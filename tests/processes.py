"""Real `plenaria serve` processes for tests that need them (kill -9, several processes)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from server.http.auth import bearer_codec
from sessions.roles import Identity, Role

SECRET = "process-test-secret-0123456789abcdef"
"""Shared by every process of one conference, as PLENARIA_SECRET_KEY must be."""

PLENARIA = str(Path(sys.executable).with_name("plenaria"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def bearer(name: str, moderates: str = "") -> dict[str, str]:
    identity = Identity(f"id-{name}", name)
    if moderates:
        identity = identity.with_role(moderates, Role.MODERATOR)
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    return {"Authorization": f"Bearer {bearer_codec(SECRET.encode()).dumps(identity, expires)}"}


async def plenaria(*arguments: str) -> int:
    process = await asyncio.create_subprocess_exec(
        PLENARIA, *arguments, env={**os.environ, "PLENARIA_SECRET_KEY": SECRET}
    )
    return await process.wait()


@asynccontextmanager
async def serving(data: Path, port: int, *extra: str) -> AsyncIterator[str]:
    """A server until the block ends, then ``kill -9``: nothing gets a chance to flush."""
    async with server_process(data, port, *extra) as (url, _):
        yield url


@asynccontextmanager
async def server_process(
    data: Path, port: int, *extra: str
) -> AsyncIterator[tuple[str, asyncio.subprocess.Process]]:
    """As :func:`serving`, with the process, for a test that kills it earlier. It carries
    its media itself unless ``extra`` gives ``--media-workers``."""
    workers = [] if "--media-workers" in extra else ["--media-workers", "0"]
    process = await asyncio.create_subprocess_exec(
        PLENARIA, "serve", "--data", str(data), "--port", str(port), *workers, *extra,
        env={**os.environ, "PLENARIA_SECRET_KEY": SECRET},
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    drain: asyncio.Task[bytes] | None = None
    try:
        assert process.stderr is not None
        while b"listening" not in (line := await asyncio.wait_for(process.stderr.readline(), 30)):
            assert line, "the server exited before listening"
        drain = asyncio.create_task(process.stderr.read())  # a full pipe would stall it
        yield f"http://127.0.0.1:{port}", process
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGKILL)
        await process.wait()
        if drain is not None:
            await drain
