"""The media processes one ``plenaria serve --media-workers N`` starts and keeps running.

Each worker is a ``plenaria serve --media-node`` of its own on the parent's host, port
PORT+i, with the parent's store: a media node that the parent (which carries no media)
places publications, viewers, relays and break-out calls on. Given ``--node-url`` (how
other machines reach this one), a worker is reached at that URL's host on its own port.
A worker that dies is started again after a second, as nginx's master process does for its
workers; its viewers and publishers reconnect meanwhile and are placed on the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import secrets
import signal
import sys
from urllib.parse import urlsplit

from server.settings import Settings

log = logging.getLogger("plenaria.media.workers")

RESTART_DELAY_SECONDS = 1.0
STOP_TIMEOUT_SECONDS = 10.0


PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """In the child, before it runs: the kernel sends it SIGTERM when this process dies,
    even by ``kill -9``, so no worker outlives the process that placed media on it."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class MediaWorkers:
    def __init__(self, settings: Settings, arguments: list[str]) -> None:
        self.settings = settings
        self.arguments = arguments
        self.prefix = settings.node_id or secrets.token_hex(3)
        self.processes: dict[int, asyncio.subprocess.Process] = {}
        self._watchers: list[asyncio.Task[None]] = []
        self._stopping = False

    def node_id(self, index: int) -> str:
        return f"{self.prefix}w{index}"

    def port(self, index: int) -> int:
        return self.settings.port + index

    def node_url(self, index: int) -> list[str]:
        """The worker's ``--node-url`` when the parent was given one."""
        if not self.settings.node_url:
            return []
        parts = urlsplit(self.settings.node_url)
        host = parts.hostname or "127.0.0.1"
        host = f"[{host}]" if ":" in host else host
        return ["--node-url", f"{parts.scheme}://{host}:{self.port(index)}"]

    async def start(self) -> None:
        for index in range(1, self.settings.media_workers + 1):
            await self._spawn(index)
            self._watchers.append(asyncio.create_task(self._watch(index)))

    async def _spawn(self, index: int) -> None:
        command = [
            sys.executable, "-m", "server.cli", "serve", *self.arguments,
            "--host", self.settings.host, "--port", str(self.port(index)),
            "--node-id", self.node_id(index), "--media-node", *self.node_url(index),
        ]  # fmt: skip
        self.processes[index] = await asyncio.create_subprocess_exec(
            *command, preexec_fn=die_with_parent
        )
        log.info(
            "media worker started",
            extra={"node": self.node_id(index), "pid": self.processes[index].pid},
        )

    async def _watch(self, index: int) -> None:
        while True:
            code = await self.processes[index].wait()
            if self._stopping:
                return
            log.warning("media worker exited", extra={"node": self.node_id(index), "code": code})
            await asyncio.sleep(RESTART_DELAY_SECONDS)
            await self._spawn(index)

    async def stop(self) -> None:
        self._stopping = True
        for process in self.processes.values():
            if process.returncode is None:
                process.terminate()
        for process in self.processes.values():
            try:
                await asyncio.wait_for(process.wait(), STOP_TIMEOUT_SECONDS)
            except TimeoutError:
                process.kill()
                await process.wait()
        for watcher in self._watchers:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
