"""Media fan-out: server CPU per viewer for one 720p ~1.5 Mbit/s VP8 stream.

Compares, in one run, Plenaria's forwarding engine (`plenaria serve`, WHIP in, WHEP out),
Janus 1.1.2's streaming plugin (Debian's `janus`, fed the same stream as RTP by ffmpeg
`-c copy`) and stock aiortc (`bench/stock_relay.py`: decode once, MediaRelay, encode per
viewer).
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
from tests.processes import free_port  # noqa: E402

SECRET = "fanout-bench-secret-0123456789abcdef"  # noqa: S105 - a throwaway server
CODE = LIVE_PANEL_CODE
WIDTH, HEIGHT, FPS, BITRATE = 1280, 720, 30, 1_500_000
NO_ICE = RTCConfiguration(iceServers=[])
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


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


def write_ivf(packets: list[Any], path: Path) -> None:
    """The clip as an IVF file, for ffmpeg to send to Janus as RTP with ``-c copy``."""
    header = (
        b"DKIF" + (0).to_bytes(2, "little") + (32).to_bytes(2, "little") + b"VP80"
        + WIDTH.to_bytes(2, "little") + HEIGHT.to_bytes(2, "little")
        + FPS.to_bytes(4, "little") + (1).to_bytes(4, "little")
        + len(packets).to_bytes(4, "little") + bytes(4)
    )  # fmt: skip
    with path.open("wb") as file:
        file.write(header)
        for index, packet in enumerate(packets):
            data = bytes(packet)
            file.write(len(data).to_bytes(4, "little") + index.to_bytes(8, "little") + data)


JANUS_CONFIG = """general: {{
    configs_folder = "{folder}"
    plugins_folder = "/usr/lib/x86_64-linux-gnu/janus/plugins"
    transports_folder = "/usr/lib/x86_64-linux-gnu/janus/transports"
    events_folder = "/usr/lib/x86_64-linux-gnu/janus/events"
    loggers_folder = "/usr/lib/x86_64-linux-gnu/janus/loggers"
    debug_level = 3
}}
media: {{ rtp_port_range = "30000-40000" }}
nat: {{ nice_debug = false ice_ignore_list = "vmnet" }}
plugins: {{ disable = "{disabled_plugins}" }}
transports: {{ disable = "{disabled_transports}" }}
events: {{ broadcast = false }}
"""
JANUS_HTTP = """general: {{
    json = "compact" base_path = "/janus" http = true port = {port} ip = "127.0.0.1"
}}
admin: {{ admin_http = false }}
"""
JANUS_STREAMING = """bench: {{
    type = "rtp"
    id = 1
    description = "bench"
    media = ( {{ type = "video" mid = "v" port = {rtp_port} pt = 96 codec = "vp8" }} )
}}
"""


def write_janus_config(folder: Path, port: int, rtp_port: int) -> None:
    """Janus with only the HTTP transport and the streaming plugin, one RTP mountpoint."""

    def others(kind: str, keep: str) -> str:
        found = Path(f"/usr/lib/x86_64-linux-gnu/janus/{kind}").glob("*.so")
        return ",".join(p.name for p in found if keep not in p.name)

    (folder / "janus.jcfg").write_text(
        JANUS_CONFIG.format(
            folder=folder,
            disabled_plugins=others("plugins", "streaming"),
            disabled_transports=others("transports", "http"),
        )
    )
    (folder / "janus.transport.http.jcfg").write_text(JANUS_HTTP.format(port=port))
    (folder / "janus.plugin.streaming.jcfg").write_text(JANUS_STREAMING.format(rtp_port=rtp_port))


async def start_janus(folder: Path, port: int, clip: Path) -> list[asyncio.subprocess.Process]:
    rtp_port = free_port()
    await asyncio.to_thread(write_janus_config, folder, port, rtp_port)
    janus = await asyncio.create_subprocess_exec(
        "janus", "-F", str(folder), "-C", str(folder / "janus.jcfg"),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    await wait_listening(port)
    feeder = await asyncio.create_subprocess_exec(
        "ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-stream_loop", "-1",
        "-i", str(clip), "-c", "copy", "-an", "-payload_type", "96",
        "-f", "rtp", f"rtp://127.0.0.1:{rtp_port}?pkt_size=1200",
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    return [janus, feeder]


class JanusViewer:
    """Janus's HTTP API: a session, the streaming plugin, watch mountpoint 1, answer."""

    def __init__(self, base: str, http: aiohttp.ClientSession) -> None:
        self.base = base
        self.http = http
        self.url = ""
        self.poller: asyncio.Task[None] | None = None

    async def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        body = {**body, "transaction": os.urandom(6).hex()}
        async with self.http.post(f"{self.base}{path}", json=body) as response:
            answer: dict[str, Any] = await response.json(content_type=None)
            return answer

    async def watch(self, peer: RTCPeerConnection) -> None:
        session = (await self.call("/janus", {"janus": "create"}))["data"]["id"]
        attached = await self.call(
            f"/janus/{session}", {"janus": "attach", "plugin": "janus.plugin.streaming"}
        )
        self.url = f"/janus/{session}/{attached['data']['id']}"
        await self.call(self.url, {"janus": "message", "body": {"request": "watch", "id": 1}})
        offer = None
        while offer is None:
            async with self.http.get(f"{self.base}/janus/{session}?maxev=1") as response:
                event = await response.json(content_type=None)
            offer = event.get("jsep")
        await peer.setRemoteDescription(RTCSessionDescription(offer["sdp"], "offer"))
        await peer.setLocalDescription(await peer.createAnswer())
        await self.call(
            self.url,
            {
                "janus": "message",
                "body": {"request": "start"},
                "jsep": {"type": "answer", "sdp": peer.localDescription.sdp},
            },
        )
        self.poller = asyncio.create_task(self.keep_alive(session))

    async def keep_alive(self, session: int) -> None:
        while True:
            async with self.http.get(f"{self.base}/janus/{session}?maxev=1") as response:
                await response.read()


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

    http = aiohttp.ClientSession()

    async def one(index: int) -> None:
        peer = RTCPeerConnection(NO_ICE)
        peers.append(peer)
        started = time.monotonic()
        arrived: asyncio.Future[MediaStreamTrack] = asyncio.get_running_loop().create_future()
        peer.on("track", arrived.set_result)
        if base.startswith("janus+"):
            await JanusViewer(base.removeprefix("janus+"), http).watch(peer)
        else:
            peer.addTransceiver("video", direction="recvonly")
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
    await http.close()


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
        helpers: list[asyncio.subprocess.Process] = []
        if mode == "janus":
            ivf = Path(tmp) / "clip.ivf"
            write_ivf(clip, ivf)
            server, *helpers = await start_janus(Path(tmp), port, ivf)
            base = f"janus+{base}"
        elif mode == "plenaria":
            server = await start_plenaria(Path(tmp), port)
        else:
            server = await start_stock(port)
        workers: list[asyncio.subprocess.Process] = []
        publisher = RTCPeerConnection(NO_ICE)
        try:
            await wait_listening(port)
            if mode != "janus":
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
            for worker in workers + helpers:
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
    modes = (("plenaria", args.levels), ("janus", args.levels), ("stock", args.stock_levels))
    for mode, levels in modes:
        if mode in args.modes:
            results[mode] = await run_mode(mode, clip, levels, args.window)
    per_viewer = {
        m: r["marginal_cpu_percent_per_viewer"] for m, r in results.items() if m in args.modes
    }
    ours = per_viewer.get("plenaria")
    if ours:
        for other in ("stock", "janus"):
            if other in per_viewer:
                results[f"{other}_vs_plenaria_per_viewer"] = round(per_viewer[other] / ours, 2)
    return results


def levels(text: str) -> list[int]:
    return [int(part) for part in text.split(",")]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--levels", type=levels, default=[1, 4, 16, 32, 64])
    parser.add_argument("--stock-levels", type=levels, default=[1, 4, 8])
    parser.add_argument("--window", type=float, default=10.0)
    parser.add_argument(
        "--modes", type=lambda t: t.split(","), default=["plenaria", "janus", "stock"]
    )
    parser.add_argument("--viewers", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=1, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.viewers:
        asyncio.run(viewers(arguments.viewers, arguments.count))
    else:
        print(json.dumps(asyncio.run(main(arguments)), indent=2))
