"""Q&A fan-out: N WebSocket clients on one server while a moderator approves questions.

Reports the delivery latency from the moderator's approve request to each client (p50 /
p99 per delivery, and to the *last* client per approval), and durable votes per second
(each one acknowledged only after it is fsynced), next to a same-run baseline of plain
HTTP requests per second on the same server.

    .venv/bin/python bench/qa_fanout.py [--clients 5000] [--redis redis://127.0.0.1:6379/0]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import json
import os
import platform
import resource
import signal
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from server.backends import open_store  # noqa: E402
from server.http.auth import bearer_codec  # noqa: E402
from sessions.demo import LIVE_PANEL_CODE, demo_programme  # noqa: E402
from sessions.roles import Identity, Role  # noqa: E402
from tests.processes import free_port  # noqa: E402

SECRET = "bench-secret-0123456789abcdef0123456789"  # noqa: S105 - a throwaway server
CODE = LIVE_PANEL_CODE
TOPIC = f"session:{CODE}:qa"


def raise_file_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def bearer(name: str, moderates: str = "") -> dict[str, str]:
    identity = Identity(f"bench-{name}", name)
    if moderates:
        identity = identity.with_role(moderates, Role.MODERATOR)
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    return {"Authorization": f"Bearer {bearer_codec(SECRET.encode()).dumps(identity, expires)}"}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# -- worker: holds many light sockets and timestamps every question it is shown -------------
#
# A real WebSocket client per socket (handshake, masked subscribe frame), but it reads the
# server's frames as bytes and only looks for question ids, so that the 2-core box measures
# the server rather than thousands of client-side JSON decoders.

MARKER = b'"type":"question","question":{"id":"'


class LightSocket(asyncio.Protocol):
    def __init__(self, seen: dict[str, list[float]], ready: asyncio.Event) -> None:
        self.seen = seen
        self.ready = ready
        self.buffer = b""
        self.upgraded = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write(
            (
                f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )

    def data_received(self, data: bytes) -> None:
        arrived = time.monotonic()
        if not self.upgraded:
            self.buffer += data
            if b"\r\n\r\n" not in self.buffer:
                return
            head, _, data = self.buffer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 101"), head[:80]
            self.upgraded = True
            self.buffer = b""
            assert self.transport is not None
            self.transport.write(masked_text_frame(json.dumps(["subscribe", 1, {"topic": TOPIC}])))
            self.ready.set()
        chunk = self.buffer + data
        start = 0
        while (found := chunk.find(MARKER, start)) >= 0:
            end = chunk.find(b'"', found + len(MARKER))
            if end < 0:
                break
            question_id = chunk[found + len(MARKER) : end].decode()
            self.seen.setdefault(question_id, []).append(arrived)
            start = end
        self.buffer = chunk[max(start, len(chunk) - len(MARKER) - 64) :]


def masked_text_frame(text: str) -> bytes:
    payload = text.encode()
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    assert len(payload) < 126
    return bytes([0x81, 0x80 | len(payload)]) + mask + masked


async def worker(url: str, count: int) -> None:
    raise_file_limit()
    seen: dict[str, list[float]] = {}
    loop = asyncio.get_running_loop()
    port = int(url.rsplit(":", 1)[1])
    gate = asyncio.Semaphore(100)
    readies = [asyncio.Event() for _ in range(count)]

    async def connect(ready: asyncio.Event) -> None:
        async with gate:
            await loop.create_connection(lambda: LightSocket(seen, ready), "127.0.0.1", port)
            await ready.wait()

    await asyncio.gather(*(connect(ready) for ready in readies))
    print("ready", flush=True)
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    await reader.readline()
    print(json.dumps(seen), flush=True)


# -- driver ------------------------------------------------------------------------------------


async def prepare(data: Path, store_url: str) -> None:
    store = await open_store(store_url)
    now = dt.datetime.now(dt.UTC)
    await store.replace_programme(demo_programme(now), now)
    await store.close()


async def start_server(data: Path, port: int, redis: str | None) -> asyncio.subprocess.Process:
    extra = ["--redis", redis] if redis else []
    plenaria = str(Path(sys.executable).with_name("plenaria"))
    process = await asyncio.create_subprocess_exec(
        plenaria, "serve", "--media-workers", "0",
        "--data", str(data), "--port", str(port), "--log-level", "WARNING",
        *extra,
        env={**os.environ, "PLENARIA_SECRET_KEY": SECRET},
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with aiohttp.ClientSession() as http:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return process
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.1)
    raise RuntimeError("the server did not start")


async def requests_per_second(
    http: aiohttp.ClientSession, requests: list[tuple[str, str, dict[str, str]]], concurrency: int
) -> tuple[float, int]:
    queue = list(reversed(requests))
    ok = 0

    async def run() -> None:
        nonlocal ok
        while queue:
            method, path, headers = queue.pop()
            async with http.request(method, path, headers=headers) as response:
                await response.read()
                ok += response.status < 300

    started = time.perf_counter()
    await asyncio.gather(*(run() for _ in range(concurrency)))
    return len(requests) / (time.perf_counter() - started), ok


async def main(args: argparse.Namespace) -> dict[str, Any]:
    raise_file_limit()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        port = free_port()
        redis = f"{args.redis}?prefix=bench-{uuid.uuid4().hex}:" if args.redis else None
        store_url = redis or f"sqlite:///{data / 'plenaria.db'}"
        await prepare(data, store_url)
        server = await start_server(data, port, redis)
        url = f"http://127.0.0.1:{port}"
        workers = []
        try:
            per_worker = [args.clients // args.workers] * args.workers
            per_worker[0] += args.clients - sum(per_worker)
            for count in per_worker:
                command = [sys.executable, __file__, "--worker", url, "--clients", str(count)]
                workers.append(
                    await asyncio.create_subprocess_exec(
                        *command,
                        stdin=asyncio.subprocess.PIPE,
                        stdout=asyncio.subprocess.PIPE,
                        limit=1 << 28,
                    )
                )
            connect_started = time.perf_counter()
            for process in workers:
                assert process.stdout is not None
                line = await asyncio.wait_for(process.stdout.readline(), 600)
                assert line.strip() == b"ready", line
            connect_seconds = time.perf_counter() - connect_started
            moderator = bearer("Moderator", moderates=CODE)
            approved_at: dict[str, float] = {}
            async with aiohttp.ClientSession(url) as http:
                ids = []
                for n in range(args.approvals):
                    async with http.post(
                        f"/api/sessions/{CODE}/questions",
                        json={"text": f"Bench question {n}?"},
                        headers=bearer(f"asker{n}"),
                    ) as response:
                        ids.append((await response.json())["question"]["id"])
                for question_id in ids:
                    approved_at[question_id] = time.monotonic()
                    async with http.post(
                        f"/api/questions/{question_id}/moderation",
                        json={"action": "approve"},
                        headers=moderator,
                    ) as response:
                        assert response.status == 200, await response.text()
                    await asyncio.sleep(args.spacing)
                await asyncio.sleep(2)
                seen: dict[str, list[float]] = {}
                for process in workers:
                    assert process.stdin is not None
                    assert process.stdout is not None
                    process.stdin.write(b"done\n")
                    await process.stdin.drain()
                    for question_id, times in json.loads(await process.stdout.readline()).items():
                        seen.setdefault(question_id, []).extend(times)
                deliveries = [
                    (t - approved_at[q]) * 1000 for q, times in seen.items() for t in times
                ]
                to_last = [(max(seen[q]) - approved_at[q]) * 1000 for q in ids if q in seen]
                delivered = sum(len(seen.get(q, [])) for q in ids)

                # Durable votes per second, against a same-run baseline of plain requests.
                async with http.post(
                    f"/api/sessions/{CODE}/qa", json={"moderation": "post"}, headers=moderator
                ):
                    pass
                targets = ids[: args.vote_questions]
                voters = [bearer(f"voter{v}") for v in range(args.votes // len(targets))]
                votes = [
                    ("POST", f"/api/questions/{q}/vote", headers)
                    for headers in voters
                    for q in targets
                ]
                no_headers: dict[str, str] = {}
                baseline = [("GET", "/healthz", no_headers)] * len(votes)
                baseline_rate, _ = await requests_per_second(http, baseline, args.concurrency)
                vote_rate, votes_ok = await requests_per_second(http, votes, args.concurrency)
        finally:
            for process in workers:
                if process.returncode is None:
                    process.kill()
                await process.wait()
            server.send_signal(signal.SIGTERM)
            await server.wait()
    return {
        "clients": args.clients,
        "connect_seconds": round(connect_seconds, 1),
        "approvals": args.approvals,
        "delivered": delivered,
        "expected": args.clients * args.approvals,
        "delivery_ms_p50": round(statistics.median(deliveries), 1),
        "delivery_ms_p99": round(percentile(deliveries, 0.99), 1),
        "to_last_client_ms_p50": round(statistics.median(to_last), 1),
        "to_last_client_ms_p99": round(percentile(to_last, 0.99), 1),
        "to_last_client_ms_each": [round(v) for v in to_last],
        "durable_votes_per_s": round(vote_rate),
        "votes_acknowledged": votes_ok,
        "baseline_healthz_per_s": round(baseline_rate),
        "votes_vs_baseline": round(vote_rate / baseline_rate, 2),
        "backend": "redis" if args.redis else "sqlite",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
    }


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2, help="client processes")
    parser.add_argument("--approvals", type=int, default=20)
    parser.add_argument("--spacing", type=float, default=0.5, help="seconds between approvals")
    parser.add_argument("--votes", type=int, default=10_000)
    parser.add_argument("--vote-questions", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--redis", help="run against this Redis instead of the embedded store")
    parser.add_argument("--worker", metavar="URL", help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    arguments = parse()
    if arguments.worker:
        asyncio.run(worker(arguments.worker, arguments.clients))
    else:
        print(json.dumps(asyncio.run(main(arguments)), indent=2))
