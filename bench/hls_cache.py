"""LL-HLS players against Plenaria directly and through nginx as a cache (issue 11).

``plenaria demo`` serves its live panel (640x360 VP8 + Opus, packaged once into LL-HLS by
one worker process). Simulated players follow the live edge as hls.js does in low-latency
mode: a blocking playlist reload for the next part (``_HLS_msn``/``_HLS_part``), then that
part, about six requests a second each. The same number of players is run straight at
Plenaria and through nginx (the README's cache configuration); the figures are requests
served per second, the CPU each process spent (100 % = one core), Plenaria's CPU per
thousand player requests, and how many requests reached Plenaria through the cache.

The players run in one asyncio process; its CPU is printed, and a level where it passes
90 % of a core is marked as limited by the load generator, not by the servers.

    .venv/bin/python bench/hls_cache.py [--players 25,100,200] [--window 15]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.fanout import box_busy_seconds, cpu_seconds, wait_listening  # noqa: E402
from sessions.demo import LIVE_PANEL_CODE  # noqa: E402
from tests.processes import free_port  # noqa: E402

PLAYLIST = f"/hls/{LIVE_PANEL_CODE}/index.m3u8"
PART = re.compile(r'#EXT-X-PART:[^\n]*URI="([0-9a-f]+)/(\d+)\.(\d+)\.m4s"')
NGINX_CONF = """
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    proxy_cache_path {folder}/cache keys_zone=hls:10m max_size=1g inactive=10m use_temp_path=off;
    upstream plenaria {{ server 127.0.0.1:{upstream}; keepalive 64; }}
    server {{
        listen 127.0.0.1:{port};
        location /hls/ {{
            proxy_pass http://plenaria;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_cache hls;
            proxy_cache_key $uri$is_args$args;
            proxy_cache_lock on;
            proxy_cache_lock_timeout 15s;
            proxy_cache_lock_age 15s;
            proxy_read_timeout 20s;
            add_header X-Cache-Status $upstream_cache_status always;
        }}
        location / {{
            proxy_pass http://plenaria;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $http_connection;
            proxy_set_header Host $http_host;
            proxy_read_timeout 1h;
        }}
    }}
}}
"""


def nginx_config(folder: Path, upstream: int, port: int) -> Path:
    folder.mkdir()
    # nginx's workers drop to an unprivileged user when started as root: let them in
    folder.parent.chmod(0o755)
    folder.chmod(0o777)
    conf = folder / "nginx.conf"
    conf.write_text(NGINX_CONF.format(folder=folder, upstream=upstream, port=port))
    return conf


async def start_nginx(folder: Path, upstream: int) -> tuple[asyncio.subprocess.Process, int]:
    """nginx as the README's cache in front of Plenaria on ``upstream``: its process and
    port (it keeps its files under ``folder``)."""
    port = free_port()
    conf = nginx_config(folder, upstream, port)
    nginx = await asyncio.create_subprocess_exec(
        shutil.which("nginx") or "/usr/sbin/nginx", "-p", str(folder), "-c", str(conf),
        stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    await wait_listening(port)
    return nginx, port


async def stop(*processes: asyncio.subprocess.Process) -> None:
    for process in processes:
        if process.returncode is None:
            process.terminate()
            await process.wait()


class Tally:
    def __init__(self) -> None:
        self.requests = Counter[str]()
        self.cache = Counter[str]()
        self.errors = Counter[str]()
        self.bytes = 0

    def count(self, kind: str, response: aiohttp.ClientResponse) -> None:
        self.requests[kind] += 1
        self.cache[response.headers.get("X-Cache-Status", "-")] += 1
        if response.status != 200:
            self.errors[f"{kind} {response.status}"] += 1


async def player(http: aiohttp.ClientSession, base: str, tally: Tally, stop: asyncio.Event) -> None:
    """At the live edge as hls.js in low-latency mode: a blocking reload for the part after
    the last one fetched, then every listed part after that one."""
    wanted: tuple[int, int] | None = None
    fetched: tuple[int, int] | None = None
    while not stop.is_set():
        query = f"?_HLS_msn={wanted[0]}&_HLS_part={wanted[1]}" if wanted else ""
        try:
            async with http.get(f"{base}{PLAYLIST}{query}") as response:
                text = await response.text()
                tally.count("playlist", response)
                if response.status != 200:
                    await asyncio.sleep(1)
                    wanted = fetched = None
                    continue
            parts = [(run, int(m), int(p)) for run, m, p in PART.findall(text)]
            new = [p for p in parts if fetched is None or (p[1], p[2]) > fetched][-3:]
            for run, msn, index in new:
                async with http.get(
                    f"{base}/hls/{LIVE_PANEL_CODE}/{run}/{msn}.{index}.m4s"
                ) as response:
                    tally.bytes += len(await response.read())
                    tally.count("part", response)
                fetched = (msn, index)
            if fetched is not None:
                wanted = (fetched[0], fetched[1] + 1)
        except (aiohttp.ClientError, TimeoutError) as error:
            tally.errors[type(error).__name__] += 1
            await asyncio.sleep(0.5)


async def run_level(
    base: str, players: int, window: float, pids: dict[str, int], idle: float = 0.0
) -> dict[str, Any]:
    """``players`` for ``window`` seconds; ``idle`` is Plenaria's CPU (%) with none."""
    tally = Tally()
    stop = asyncio.Event()
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        tasks = [asyncio.create_task(player(http, base, tally, stop)) for _ in range(players)]
        await asyncio.sleep(5)  # everyone at the live edge
        before_requests = sum(tally.requests.values())
        before_cache = Counter(tally.cache)
        before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        before_box = box_busy_seconds()
        started = time.monotonic()
        await asyncio.sleep(window)
        elapsed = time.monotonic() - started
        after = {name: cpu_seconds(pid) for name, pid in pids.items()}
        box = box_busy_seconds() - before_box
        served = sum(tally.requests.values()) - before_requests
        cache = tally.cache - before_cache
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
    cpu = {name: 100 * (after[name] - before[name]) / elapsed for name in pids}
    upstream = sum(n for status, n in cache.items() if status not in ("HIT", "-"))
    row: dict[str, Any] = {
        "players": players,
        "requests_per_second": round(served / elapsed, 1),
        "cpu_percent": {name: round(value, 1) for name, value in cpu.items()},
        "box_percent": round(100 * box / elapsed, 1),
        "plenaria_cpu_ms_per_1000_requests": round(
            10_000 * (cpu["plenaria"] - idle) / max(served / elapsed, 1e-9), 1
        ),
        "errors": dict(tally.errors),
    }
    if "nginx" in pids:
        row["cache"] = dict(cache)
        row["upstream_share"] = round(upstream / max(sum(cache.values()), 1), 4)
    row["load_generator_limited"] = cpu["players"] > 90
    return row


async def child_pid(parent: int, command: str = "") -> int:
    """The first child process of ``parent`` (whose command line has ``command``)."""
    found = await asyncio.create_subprocess_exec(
        "pgrep", "-P", str(parent), *(["-f", command] if command else []),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    output, _ = await found.communicate()
    return int(output.split()[0])


async def first_segment(base: str) -> None:
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            async with http.get(base + PLAYLIST) as response:
                if response.status == 200:
                    return
            await asyncio.sleep(0.5)
    raise RuntimeError("the panel's playlist did not come up")


async def main(args: argparse.Namespace) -> dict[str, Any]:
    levels = [int(n) for n in args.players.split(",")]
    with tempfile.TemporaryDirectory(prefix="hls-bench-") as tmp:
        folder = Path(tmp)
        port = free_port()
        plenaria = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).with_name("plenaria")), "demo", "--data", str(folder / "data"),
            "--port", str(port), "--log-level", "WARNING", stdout=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        nginx, cache_port = await start_nginx(folder / "nginx", port)
        try:
            await wait_listening(port)
            direct, cached = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{cache_port}"
            await first_segment(direct)
            nginx_worker = await child_pid(nginx.pid)
            packager = await child_pid(plenaria.pid, "server.media.hls.worker")
            own = {"plenaria": plenaria.pid, "packager": packager, "players": os.getpid()}
            quiet = await run_level(direct, 0, args.window, own)
            idle = quiet["cpu_percent"]["plenaria"]
            print(json.dumps({"mode": "idle", **quiet}), flush=True)
            rows = []
            for players in levels:
                plain = await run_level(direct, players, args.window, own, idle)
                print(json.dumps({"mode": "direct", **plain}), flush=True)
                through = await run_level(
                    cached, players, args.window, {**own, "nginx": nginx_worker}, idle
                )
                print(json.dumps({"mode": "nginx", **through}), flush=True)
                rows.append({"direct": plain, "nginx": through})
            return {
                "machine": f"{platform.node()} {os.cpu_count()} cores {platform.machine()}",
                "date": dt.datetime.now(dt.UTC).isoformat(timespec="minutes"),
                "window_seconds": args.window,
                "idle": quiet,
                "levels": rows,
            }
        finally:
            await stop(nginx, plenaria)
            errors = (folder / "nginx" / "error.log").read_text().strip().splitlines()
            if errors:
                print("nginx's error log ends:", *errors[-5:], sep="\n", file=sys.stderr)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--players", default="25,100,200")
    parser.add_argument("--window", type=float, default=15)
    result = asyncio.run(main(parser.parse_args()))
    print(json.dumps(result, indent=2))
