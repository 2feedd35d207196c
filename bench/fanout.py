"""Media fan-out: server CPU per viewer for one 720p ~1.5 Mbit/s VP8 stream.

Compares, in one run, Plenaria's forwarding engine (`plenaria serve`, WHIP in, WHEP out)
with stock aiortc (`bench/stock_relay.py`: decode once, MediaRelay, encode per viewer).
The publisher sends a stream encoded once in advance; viewers are light aiortc receivers
in worker processes that complete ICE, DTLS and SRTP and count packets without decoding.

    .venv/bin/python bench/fanout.py [--levels 1,4,16,32,64] [--window 10]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import fractions
import json
import os
import platform
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import av
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from server.auth import bearer_codec  # noqa: E402
from server.backends import open_store  # noqa: E402
from sessions.demo import LIVE_PANEL_CODE, demo_programme  # noqa: E402
from sessions.roles import Identity, Role  # noqa: E402

SECRET = "fanout-bench-secret-0123456789abcdef"  # noqa: S105 - a throwaway server
CODE = LIVE_PANEL_CODE
WIDTH, HEIGHT, FPS, BITRATE = 1280, 720, 30, 1_500_000
NO_ICE = RTCConfiguration(iceServers=[])
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def encode_clip(seconds: int) -> list[Any]:
    """The stream, encoded once: VP8 packets of a moving test pattern."""
    source = av.open(f"testsrc2=size={WIDTH}x{HEIGHT}:rate={FPS}", format="lavfi")
    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height, encoder.pix_fmt = WIDTH, HEIGHT, "yuv420p"
    encoder.time_base = fractions.Fraction(1, FPS)
    encoder.framerate = fractions.Fraction(FPS)
    encoder.bit_rate = BITRATE
    encoder.gop_size = 2 * FPS
    encoder.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    packets: list[Any] = []
    for frame in source.decode(video=0):
        image = frame.reformat(format="yuv420p")
        image.pict_type = av.video.frame.PictureType.NONE
        packets.extend(encoder.encode(image))
        if len(packets) >= seconds * FPS:
            return packets
    return packets


class ClipTrack(MediaStreamTrack):
    """Plays the pre-encoded clip in a loop at real-time pace, as a camera would."""

    kind = "video"

    def __init__(self, packets: list[Any]) -> None:
        super().__init__()
        self._packets = packets
        self._index = 0
        self._started = time.monotonic()

    async def recv(self) -> Any:
        due = self._started + self._index / FPS
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        source = self._packets[self._index % len(self._packets)]
        packet = av.Packet(bytes(source))
        packet.pts = self._index
        packet.time_base = fractions.Fraction(1, FPS)
        packet.is_keyframe = source.is_keyframe
        self._index += 1
        return packet


async def negotiate(peer: RTCPeerConnection, url: str, headers: dict[str, str]) -> None:
    await peer.setLocalDescription(await peer.createOffer())
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            url,
            data=peer.localDescription.sdp,
            headers={"Content-Type": "application/sdp", **headers},
        ) as response,
    ):
        if response.status != 201:
            raise RuntimeError(f"{url}: {response.status} {await response.text()}")
        await peer.setRemoteDescription(RTCSessionDescription(await response.text(), "answer"))


# -- viewers (in worker processes) ----------------------------------------------------------


async def viewers(base: str, count: int) -> None:
    from server.media import aiortc_glue

    aiortc_glue.install()
    peers: list[RTCPeerConnection] = []
    all_ready = asyncio.Event()
    counts: list[int] = []
    first: list[float] = []

    async def one(index: int) -> None:
        peer = RTCPeerConnection(NO_ICE)
        peers.append(peer)
        peer.addTransceiver("video", direction="recvonly")
        started = time.monotonic()
        arrived: asyncio.Future[MediaStreamTrack] = asyncio.get_running_loop().create_future()
        peer.on("track", arrived.set_result)
        await negotiate(peer, f"{base}/whep/{CODE}", {})
        track = await arrived
        counts.append(0)
        slot = len(counts) - 1
        await track.recv()
        first.append(time.monotonic() - started)
        if len(first) == count:
            all_ready.set()
        while True:
            try:
                await track.recv()
            except MediaStreamError:
                return
            counts[slot] += 1

    tasks = [asyncio.create_task(one(i)) for i in range(count)]
    await asyncio.wait_for(all_ready.wait(), 120)
    print(json.dumps({"ready": True, "first_frame_s": first}), flush=True)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    await reader.readline()
    lost = received = 0
    for peer in peers:
        for stats in (await peer.getStats()).values():
            if getattr(stats, "type", "") == "inbound-rtp":
                lost += max(stats.packetsLost, 0)
                received += stats.packetsReceived
    print(json.dumps({"frames": counts, "rtp_received": received, "rtp_lost": lost}), flush=True)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*(peer.close() for peer in peers))


# -- driver -------------------------------------------------------------------------------------


async def start_plenaria(data: Path, port: int) -> asyncio.subprocess.Process:
    store = await open_store(f"sqlite:///{data / 'plenaria.db'}")
    now = dt.datetime.now(dt.UTC)
    await store.replace_programme(demo_programme(now), now)
    await store.close()
    return await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("plenaria")), "serve", "--data", str(data),
        "--port", str(port), "--log-level", "WARNING",
        env={**os.environ, "PLENARIA_SECRET_KEY": SECRET},
    )  # fmt: skip


async def start_stock(port: int) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "bench" / "stock_relay.py"), str(port)
    )


async def wait_listening(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.1)
    raise RuntimeError("the server did not start")


def speaker_headers() -> dict[str, str]:
    identity = Identity("bench-speaker", "Bench").with_role(CODE, Role.SPEAKER)
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    return {"Authorization": f"Bearer {bearer_codec(SECRET.encode()).dumps(identity, expires)}"}


async def run_mode(mode: str, clip: list[Any], levels: list[int], window: float) -> dict[str, Any]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        server = await (
            start_plenaria(Path(tmp), port) if mode == "plenaria" else start_stock(port)
        )
        workers: list[asyncio.subprocess.Process] = []
        publisher = RTCPeerConnection(NO_ICE)
        try:
            await wait_listening(port)
            publisher.addTrack(ClipTrack(clip))
            await negotiate(publisher, f"{base}/whip/{CODE}", speaker_headers())
            await asyncio.sleep(2)
            idle_start = cpu_seconds(server.pid)
            await asyncio.sleep(window)
            cpu = {0: (cpu_seconds(server.pid) - idle_start) / window * 100}
            first_frames: list[float] = []
            have = 0
            for level in levels:
                worker = await asyncio.create_subprocess_exec(
                    sys.executable, __file__, "--viewers", base, "--count", str(level - have),
                    stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                    limit=1 << 24,
                )  # fmt: skip
                workers.append(worker)
                assert worker.stdout is not None
                ready = json.loads(await asyncio.wait_for(worker.stdout.readline(), 120))
                first_frames += ready["first_frame_s"]
                have = level
                await asyncio.sleep(2)
                started = cpu_seconds(server.pid)
                await asyncio.sleep(window)
                cpu[level] = (cpu_seconds(server.pid) - started) / window * 100
                print(f"{mode}: {level} viewers, server CPU {cpu[level]:.1f} %", file=sys.stderr)
            received = lost = 0
            for worker in workers:
                assert worker.stdin is not None
                assert worker.stdout is not None
                worker.stdin.write(b"done\n")
                await worker.stdin.drain()
                report = json.loads(await asyncio.wait_for(worker.stdout.readline(), 60))
                received += report["rtp_received"]
                lost += report["rtp_lost"]
        finally:
            for worker in workers:
                if worker.returncode is None:
                    worker.kill()
                await worker.wait()
            await publisher.close()
            server.terminate()
            await server.wait()
    top = levels[-1]
    return {
        "cpu_percent_by_viewers": {str(k): round(v, 1) for k, v in cpu.items()},
        "marginal_cpu_percent_per_viewer": round((cpu[top] - cpu[0]) / top, 2),
        "first_frame_s_p50": round(sorted(first_frames)[len(first_frames) // 2], 2),
        "first_frame_s_max": round(max(first_frames), 2),
        "rtp_loss_percent": round(100 * lost / max(received + lost, 1), 2),
    }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    clip = await asyncio.to_thread(encode_clip, 10)
    size = sum(p.size for p in clip)
    results: dict[str, Any] = {
        "stream": f"{WIDTH}x{HEIGHT} VP8 {FPS} fps, {size * 8 / 10 / 1e6:.2f} Mbit/s",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
    }
    for mode, levels in (("plenaria", args.levels), ("stock", args.stock_levels)):
        results[mode] = await run_mode(mode, clip, levels, args.window)
    ours = results["plenaria"]["marginal_cpu_percent_per_viewer"]
    stock = results["stock"]["marginal_cpu_percent_per_viewer"]
    results["stock_vs_plenaria_per_viewer"] = round(stock / ours, 1) if ours > 0 else None
    return results


def levels(text: str) -> list[int]:
    return [int(part) for part in text.split(",")]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--levels", type=levels, default=[1, 4, 16, 32, 64])
    parser.add_argument("--stock-levels", type=levels, default=[1, 4, 8])
    parser.add_argument("--window", type=float, default=10.0)
    parser.add_argument("--viewers", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=1, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.viewers:
        asyncio.run(viewers(arguments.viewers, arguments.count))
    else:
        print(json.dumps(asyncio.run(main(arguments)), indent=2))
