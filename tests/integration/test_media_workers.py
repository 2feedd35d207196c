"""`plenaria serve --media-workers 2` on the embedded default: the media goes to two worker
processes, and one that is killed comes back."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import aiohttp
from aiortc import RTCPeerConnection

from tests.integration.test_two_processes import (
    frames,
    join_call,
    metric,
    open_room,
    publish_panel,
    wait_for_state,
    wait_for_viewers,
    watch_panel,
)
from tests.processes import free_port, plenaria, server_process


def worker_pids(front: int) -> dict[str, int]:
    """The front's child processes by the node id on their command line."""
    children = Path(f"/proc/{front}/task/{front}/children").read_text().split()
    found = {}
    for pid in children:
        arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        if b"--node-id" in arguments:
            found[arguments[arguments.index(b"--node-id") + 1].decode()] = int(pid)
    return found


async def wait_for_workers(http: aiohttp.ClientSession, base: str, count: int) -> None:
    deadline = time.monotonic() + 60  # three processes import aiortc at once: slow on a busy box
    while True:
        try:
            if await metric(http, base, "plenaria_media_nodes") == count:
                return
        except aiohttp.ClientConnectionError:
            pass  # the front is still starting
        assert time.monotonic() < deadline, f"{base} never saw {count} media workers"
        await asyncio.sleep(0.2)


async def test_media_goes_to_the_workers_and_a_killed_worker_is_restarted(
    schedules_dir: Path, tmp_path: Path
) -> None:
    source = str(schedules_dir / "pretalx-democon.json")
    assert await plenaria("programme", "import", source, "--data", str(tmp_path)) == 0
    peers: list[RTCPeerConnection] = []
    port = free_port()
    async with (
        server_process(tmp_path, port, "--media-workers", "2") as (front, process),
        aiohttp.ClientSession() as http,
    ):
        try:
            await wait_for_workers(http, front, 2)
            workers = worker_pids(process.pid)
            assert len(workers) == 2

            resource = await publish_panel(http, front, peers)
            origin = resource.rsplit("/", 1)[1].partition("-")[0]
            assert origin in workers, "the publication is on a worker"
            await wait_for_state(http, front, "live")
            track = await watch_panel(http, front, peers)
            assert await frames(track, 5) == 5
            assert await metric(http, front, "plenaria_media_viewers") == 0, "none on the front"
            await wait_for_viewers(http, front, 1)  # counted on the worker, shown by the front

            # a break-out room's call goes whole to the other, emptier worker
            await open_room(http, front, "Ann", "Bob")
            members = [await join_call(http, front, peers, name) for name in ("Ann", "Bob")]
            room_nodes = {m.rsplit("/", 1)[1].partition("-")[0] for m in members}
            assert room_nodes == set(workers) - {origin}, (members, origin)

            os.kill(workers[origin], signal.SIGKILL)
            await wait_for_state(http, front, "paused", within=6)
            # the front starts it again; the speaker's and the viewer's clients reconnect
            deadline = time.monotonic() + 15
            while (restarted := worker_pids(process.pid)).get(origin) in (None, workers[origin]):
                assert time.monotonic() < deadline, "the killed worker was not restarted"
                await asyncio.sleep(0.2)
            await wait_for_workers(http, front, 2)
            await publish_panel(http, front, peers)
            # the worker wrote its record before answering: a viewer right after finds it
            assert await frames(await watch_panel(http, front, peers), 5) == 5
            assert restarted[origin] != workers[origin]
        finally:
            await asyncio.gather(*(peer.close() for peer in peers))
