"""Viewers held by one and by two media processes on this box (issue 11).

The panel of ``bench/fanout.py`` (720p VP8 at 1.5 Mbit/s + Opus, a paced publisher) is
published to ``plenaria serve --redis`` processes (media nodes ``a`` and, in the second
run, ``b``) sharing a real ``redis-server``. Every viewer asks node ``a`` over WHEP; ``a``
places it (on itself until it reaches its CPU share, then on ``b``, which pulls one relay
from ``a``). The load grows by ``--step`` viewers until fewer than all of them get the
stream at full rate.

Most viewers are silent (``bench/light_peers.SilentViewer``): real ICE, DTLS and SRTP, then
a kernel socket filter drops their media, so the load generator spends nothing per packet
and the box's CPU goes to the servers. One viewer in ``--sample`` counts every packet it gets
(``CountingViewer``); loss and frame rate come from those, spread over both nodes as the
placement spreads everyone. A level is held when the sampled viewers lose < 1 %, get ≥ 90 %
of the frames and the box is not saturated.

    .venv/bin/python bench/scale.py [--step 100] [--max 1200] [--window 8] [--processes 1,2]

Runs as root in a network namespace of its own, as ``bench/fanout.py`` does.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.fanout import (  # noqa: E402
    AUDIO_FRAME,
    AUDIO_RATE,
    FPS,
    SECRET,
    Workers,
    box_busy_seconds,
    cpu_seconds,
    enter_private_network,
    load_clips,
    publish,
    wait_listening,
)
from bench.light_peers import Counts, loopback_environment, pin_ice_to_loopback  # noqa: E402
from server.backends import open_store  # noqa: E402
from sessions.demo import demo_programme  # noqa: E402
from tests.processes import free_port  # noqa: E402
from tests.redis_server import RedisServer  # noqa: E402

NODES = ("a", "b")


CGROUP_V1 = Path("/sys/fs/cgroup/cpu")
CGROUP_V2 = Path("/sys/fs/cgroup")
PERIOD_US = 20_000
"""Short periods: a node under its quota is paused for at most a few milliseconds at a time."""


def quota_group(name: str, share: float) -> Path:
    """A cgroup whose processes together get ``share`` of one core (v1 or v2)."""
    if (CGROUP_V1 / "cpu.cfs_quota_us").exists():
        group = CGROUP_V1 / f"plenaria-bench-{name}"
        group.mkdir(exist_ok=True)
        (group / "cpu.cfs_period_us").write_text(str(PERIOD_US))
        (group / "cpu.cfs_quota_us").write_text(str(int(share * PERIOD_US)))
        return group
    (CGROUP_V2 / "cgroup.subtree_control").write_text("+cpu")
    group = CGROUP_V2 / f"plenaria-bench-{name}"
    group.mkdir(exist_ok=True)
    (group / "cpu.max").write_text(f"{int(share * PERIOD_US)} {PERIOD_US}")
    return group


def remove_group(group: Path) -> None:
    for pid in (group / "cgroup.procs").read_text().split():
        (group.parent / "cgroup.procs").write_text(pid)
    group.rmdir()


async def start_node(
    folder: Path, redis: str, name: str, core_share: float
) -> tuple[str, asyncio.subprocess.Process]:
    port = free_port()
    data = folder / name
    data.mkdir()
    group = quota_group(name, core_share) if core_share < 1 else None

    def enter_group() -> None:  # in the child, before exec: the node starts under its quota
        if group is not None:
            (group / "cgroup.procs").write_text(str(os.getpid()))

    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("plenaria")), "serve", "--media-workers", "0",
        "--data", str(data),
        "--port", str(port), "--redis", redis, "--node-id", name, "--log-level", "WARNING",
        env={**loopback_environment(data), "PLENARIA_SECRET_KEY": SECRET},
        preexec_fn=enter_group,
    )  # fmt: skip
    await wait_listening(port)
    return f"http://127.0.0.1:{port}", process


async def node_loads(http: aiohttp.ClientSession, base: str) -> dict[str, float]:
    """Viewers per node, as ``base`` sees them (from /metrics)."""
    async with http.get(f"{base}/metrics") as response:
        text = await response.text()
    loads = {}
    for line in text.splitlines():
        if line.startswith("plenaria_media_node_viewers{"):
            node = line.split('node="', 1)[1].split('"', 1)[0]
            loads[node] = float(line.rsplit(" ", 1)[1])
    return loads


async def measure(
    servers: list[int], workers: Workers, window: float
) -> tuple[dict[str, Any], Counts, Counts]:
    before = ([cpu_seconds(p) for p in servers], workers.cpu_seconds(), box_busy_seconds())
    counts_before = await workers.counts()
    started = time.monotonic()
    await asyncio.sleep(window)
    counts_after = await workers.counts()
    elapsed = time.monotonic() - started
    after = ([cpu_seconds(p) for p in servers], workers.cpu_seconds(), box_busy_seconds())
    row = {
        "server_cpu_percent": [
            round((b - a) / elapsed * 100, 1) for a, b in zip(before[0], after[0], strict=True)
        ],
        "workers_cpu_percent": round((after[1] - before[1]) / elapsed * 100, 1),
        "box_cpu_percent": round((after[2] - before[2]) / elapsed * 100, 1),
        "elapsed": elapsed,
    }
    return row, counts_before, counts_after


def sampled(row: dict[str, Any], before: Counts, after: Counts, counting: int) -> None:
    def delta(table: str, kind: str) -> int:
        later: dict[str, int] = getattr(after, table)
        earlier: dict[str, int] = getattr(before, table)
        return later.get(kind, 0) - earlier.get(kind, 0)

    elapsed = row.pop("elapsed")
    packets = sum(delta("packets", k) for k in ("video", "audio"))
    expected = sum(delta("expected", k) for k in ("video", "audio"))
    row["sample_loss_percent"] = (
        round(100 * max(expected - packets, 0) / expected, 3) if expected else 100.0
    )
    row["sample_video_fps"] = round(delta("frames", "video") / counting / elapsed, 1)
    row["sample_audio_packets_per_s"] = round(delta("packets", "audio") / counting / elapsed, 1)


def held(row: dict[str, Any]) -> bool:
    if "error" in row:
        return False
    return bool(
        row["sample_loss_percent"] < 1
        and row["sample_video_fps"] >= 0.9 * FPS
        and row["sample_audio_packets_per_s"] >= 0.9 * AUDIO_RATE / AUDIO_FRAME
        and row["box_cpu_percent"] < 190
    )


async def run(processes: int, folder: Path, redis: str, clips: Any, args: Any) -> dict[str, Any]:
    prefix = f"{redis}/0?prefix=scale{processes}:"
    store = await open_store(prefix)
    now = dt.datetime.now(dt.UTC)
    await store.replace_programme(demo_programme(now), now)
    await store.close()
    run_folder = folder / f"run{processes}"
    run_folder.mkdir()
    nodes = [
        await start_node(run_folder, prefix, name, args.core_share) for name in NODES[:processes]
    ]
    front = nodes[0][0]
    workers = Workers(front, args.workers)
    rows: list[dict[str, Any]] = []
    publisher = None
    try:
        async with aiohttp.ClientSession() as http:
            deadline = time.monotonic() + 10
            while len(await node_loads(http, front)) < processes:
                assert time.monotonic() < deadline, "the nodes never saw each other"
                await asyncio.sleep(0.2)
            publisher = await publish(front, clips)
            await workers.start()
            have = counting = 0
            for level in range(args.step, args.max + 1, args.step):
                adding = level - have
                sample = max(adding // args.sample, 1)
                try:
                    await workers.add(sample, 0, adding - sample)
                except RuntimeError as error:  # viewers refused or never connected: not held
                    rows.append({"viewers": level, "error": str(error)})
                    print(f"{processes} process(es): {level} viewers: {error}", file=sys.stderr)
                    break
                have, counting = level, counting + sample
                await asyncio.sleep(args.settle)
                row, before, after = await measure([p.pid for _, p in nodes], workers, args.window)
                sampled(row, before, after, counting)
                row = {"viewers": level, **row, "viewers_by_node": await node_loads(http, front)}
                rows.append(row)
                print(f"{processes} process(es): {json.dumps(row)}", file=sys.stderr)
                if not held(row):
                    break
    finally:
        await workers.close()
        if publisher is not None:
            await publisher.close()
        for _, process in nodes:
            process.terminate()
            await process.wait()
        for name in NODES[:processes]:
            for root in (CGROUP_V1, CGROUP_V2):
                if (root / f"plenaria-bench-{name}").is_dir():
                    remove_group(root / f"plenaria-bench-{name}")
    kept = [r for r in rows if held(r)]
    return {"levels": rows, "viewers_held": kept[-1]["viewers"] if kept else 0}


async def main(args: argparse.Namespace) -> dict[str, Any]:
    pin_ice_to_loopback()
    results: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "date": dt.date.today().isoformat(),
        "core_share": args.core_share,
    }
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        clips = await asyncio.to_thread(load_clips, folder)
        with RedisServer(folder / "redis") as redis:
            for processes in args.processes:
                results[f"{processes}_processes"] = await run(
                    processes, folder, redis.url, clips, args
                )
    held_counts = [results[f"{n}_processes"]["viewers_held"] for n in args.processes]
    if len(held_counts) == 2 and held_counts[0]:
        results["ratio"] = round(held_counts[1] / held_counts[0], 2)
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--step", type=int, default=100)
    parser.add_argument("--max", type=int, default=1200)
    parser.add_argument("--sample", type=int, default=10, help="one counting viewer in N")
    parser.add_argument("--window", type=float, default=8.0)
    parser.add_argument("--settle", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument(
        "--core-share",
        type=float,
        default=1.0,
        help="CPU quota of each media process, in cores (e.g. 0.5: each node as on a box "
        "where it has a core of its own, scaled down so the load generator fits beside it)",
    )
    parser.add_argument(
        "--processes", type=lambda t: [int(n) for n in t.split(",")], default=[1, 2]
    )
    arguments = parser.parse_args()
    enter_private_network(__file__)
    print(json.dumps(asyncio.run(main(arguments)), indent=2))
