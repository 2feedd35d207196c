"""Media fan-out of one conference panel: 720p VP8 at ~1.5 Mbit/s and Opus, to many viewers.

Compares, in one run:
- **Plenaria** (``plenaria serve``): publisher over WHIP, viewers over WHEP, RTP forwarded;
- **Janus 1.1.2**'s streaming plugin (Debian's ``janus``), one mountpoint carrying the same
  video and audio, fed as RTP by two ``ffmpeg -re -stream_loop -1 -c copy``;
- **stock aiortc** (``bench/stock_relay.py``: decode once, ``MediaRelay``, encode per viewer).

The clip (10 s of a moving test pattern and a tone) is encoded once in advance; both
Plenaria's publisher and Janus's feeders send those same packets, looping at real-time pace
(sequence numbers and timestamps run on across loops). Plenaria's and stock's publisher is a
``bench/light_peers.PacedPublisher``.

Viewers are ``bench/light_peers.CountingViewer``s in ``--workers`` processes: each completes
ICE, DTLS and SRTP with the server, then counts SRTP datagrams straight off its socket (no
unprotect, no depacketising, no RTCP), so the box can drive hundreds of viewers and the
server does all of its per-viewer work. A few full aiortc receivers per level (passthrough
decoders, nothing decoded) measure the first frame: from sending the offer to the first
complete video frame.

Per level: the server's CPU (``/proc/<pid>/stat``, 100 % = one core) over ``--window``
seconds after ``--settle`` seconds, the workers' CPU and the whole box's (to show the load
generator is not the limit), packets/s delivered to viewers, µs of server CPU per delivered
packet, loss (from sequence-number gaps), video frames/s and audio packets/s per viewer.

    .venv/bin/python bench/fanout.py [--levels 1,16,64,150,300] [--stock-levels 1,4,8]
        [--window 10] [--workers 4] [--modes plenaria,janus,stock]

It needs Debian's ``janus`` and ``ffmpeg`` (``apt-get install janus ffmpeg``), and root for
``unshare --net``: the script runs itself again in a network namespace of its own, holding
only ``lo`` and a veth pair that leads nowhere, both 127.0.0.1, so every packet of the run
stays on 127.0.0.1 (Janus's ICE skips loopback interfaces, so it takes the veth's address;
every aiortc peer, the servers included, gathers 127.0.0.1 only). Without root it runs in
place, without Janus.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import fractions
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import av
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.light_peers import (  # noqa: E402
    CountingViewer,
    Counts,
    PacedPublisher,
    PacketisedClip,
    SilentViewer,
    loopback_environment,
    payload_kinds,
    pin_ice_to_loopback,
    stop_processes,
)
from server.backends import open_store  # noqa: E402
from server.http.auth import bearer_codec  # noqa: E402
from sessions.demo import LIVE_PANEL_CODE, demo_programme  # noqa: E402
from sessions.roles import Identity, Role  # noqa: E402
from tests.processes import free_port  # noqa: E402

SECRET = "fanout-bench-secret-0123456789abcdef"  # noqa: S105 - a throwaway server
CODE = LIVE_PANEL_CODE
WIDTH, HEIGHT, FPS, BITRATE = 1280, 720, 30, 1_500_000
CLIP_SECONDS = 10
AUDIO_RATE, AUDIO_FRAME = 48_000, 960
NO_ICE = RTCConfiguration(iceServers=[])
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
SETUP_CONCURRENCY = 8
"""Viewers a worker negotiates at once."""
PRIVATE_NETWORK = "FANOUT_PRIVATE_NETWORK"
"""Set once this script runs in its own network namespace (1), or could not (0)."""
NETWORK_SETUP = (
    "ip link set lo up && ip link add bench0 type veth peer name bench1"
    " && ip link set bench1 up && ip link set bench0 up && ip addr add 127.0.0.1/32 dev bench0"
)


def enter_private_network(script: str = __file__) -> None:
    """Run ``script`` (with this process's arguments) again in a network namespace of its
    own (see the module docstring)."""
    if os.environ.get(PRIVATE_NETWORK):
        return
    probe = subprocess.run(["unshare", "--net", "sh", "-c", NETWORK_SETUP], capture_output=True)
    if probe.returncode != 0:
        reason = probe.stderr.decode().strip()
        print(f"fanout: no network namespace ({reason}): Janus is skipped", file=sys.stderr)
        os.environ[PRIVATE_NETWORK] = "0"
        return
    os.environ[PRIVATE_NETWORK] = "1"
    setup = f'{NETWORK_SETUP} && exec "$0" "$@"'
    command = [sys.executable, str(Path(script).resolve()), *sys.argv[1:]]
    os.execvp("unshare", ["unshare", "--net", "--", "sh", "-c", setup, *command])  # noqa: S606


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def box_busy_seconds() -> float:
    """CPU seconds the whole box spent busy (all cores), from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / CLOCK_TICKS


# -- the clip -------------------------------------------------------------------------------------


def encode_clip(seconds: int) -> list[Any]:
    """The video, encoded once: VP8 packets of a moving test pattern, a keyframe every 2 s."""
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


def encode_audio(seconds: int, path: Path) -> list[Any]:
    """The audio, encoded once into an Ogg file (for Janus's feeder) and read back."""
    output = av.open(str(path), "w", format="ogg")
    stream = output.add_stream("libopus", rate=AUDIO_RATE)
    stream.codec_context.layout = "stereo"
    stream.codec_context.format = "s16"
    stream.codec_context.bit_rate = 64_000
    source = av.open("sine=frequency=440:sample_rate=48000", format="lavfi")
    resampler = av.AudioResampler(
        format="s16", layout="stereo", rate=AUDIO_RATE, frame_size=AUDIO_FRAME
    )
    made = 0
    for raw in source.decode(audio=0):
        for frame in resampler.resample(raw):
            for packet in stream.encode(frame):
                output.mux(packet)
                made += 1
        if made >= seconds * AUDIO_RATE // AUDIO_FRAME:
            break
    for packet in stream.encode(None):
        output.mux(packet)
    output.close()
    with av.open(str(path)) as container:
        return [p for p in container.demux(audio=0) if p.size]


def write_ivf(packets: list[Any], path: Path) -> None:
    """The video as an IVF file, for ffmpeg to send to Janus as RTP with ``-c copy``."""
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


def load_clips(folder: Path) -> dict[str, PacketisedClip]:
    video = encode_clip(CLIP_SECONDS)
    write_ivf(video, folder / "clip.ivf")
    audio = encode_audio(CLIP_SECONDS, folder / "clip.ogg")
    return {
        "video": PacketisedClip.from_packets("video", "video/VP8", video, FPS),
        "audio": PacketisedClip.from_packets(
            "audio", "audio/opus", audio, AUDIO_RATE / AUDIO_FRAME
        ),
    }


# -- Janus --------------------------------------------------------------------------------------

JANUS_CONFIG = """general: {{
    configs_folder = "{folder}"
    plugins_folder = "/usr/lib/x86_64-linux-gnu/janus/plugins"
    transports_folder = "/usr/lib/x86_64-linux-gnu/janus/transports"
    events_folder = "/usr/lib/x86_64-linux-gnu/janus/events"
    loggers_folder = "/usr/lib/x86_64-linux-gnu/janus/loggers"
    debug_level = 3
    session_timeout = 0
}}
media: {{ rtp_port_range = "20000-29999" ipv6 = false }}
nat: {{ nice_debug = false ice_enforce_list = "bench0" ignore_mdns = true }}
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
    media = (
        {{ type = "video" mid = "v" port = {video_port} pt = 96 codec = "vp8" }},
        {{ type = "audio" mid = "a" port = {audio_port} pt = 111 codec = "opus" }}
    )
}}
"""


def write_janus_config(folder: Path, port: int, video_port: int, audio_port: int) -> None:
    """Janus with only the HTTP transport and the streaming plugin, one A/V mountpoint."""

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
    (folder / "janus.plugin.streaming.jcfg").write_text(
        JANUS_STREAMING.format(video_port=video_port, audio_port=audio_port)
    )


def feeder(clip: Path, port: int, payload_type: int) -> list[str]:
    return [
        "ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-stream_loop", "-1",
        "-i", str(clip), "-c", "copy", "-payload_type", str(payload_type),
        "-f", "rtp", f"rtp://127.0.0.1:{port}?pkt_size=1200",
    ]  # fmt: skip


async def start_janus(folder: Path, port: int) -> list[asyncio.subprocess.Process]:
    video_port, audio_port = free_port(), free_port()
    await asyncio.to_thread(write_janus_config, folder, port, video_port, audio_port)
    janus = await asyncio.create_subprocess_exec(  # ICE on bench0: 127.0.0.1, see the top
        "janus", "-F", str(folder), "-C", str(folder / "janus.jcfg"),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    await wait_listening(port)
    feeders = [
        await asyncio.create_subprocess_exec(
            *feeder(folder / name, rtp_port, payload_type),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
        )
        for name, rtp_port, payload_type in (
            ("clip.ivf", video_port, 96),
            ("clip.ogg", audio_port, 111),
        )
    ]
    return [janus, *feeders]


class JanusViewer:
    """Janus's HTTP API: a session, the streaming plugin, watch mountpoint 1, answer."""

    def __init__(self, base: str, http: aiohttp.ClientSession) -> None:
        self.base = base
        self.http = http
        self.url = ""

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
        # sessions never time out (``session_timeout = 0``): no keep-alive polling, as
        # a WHEP viewer needs none


# -- signalling ---------------------------------------------------------------------------------


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


async def connected(peer: RTCPeerConnection, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while peer.connectionState != "connected":
        if peer.connectionState in ("failed", "closed") or time.monotonic() > deadline:
            raise RuntimeError(f"the connection did not come up: {peer.connectionState}")
        await asyncio.sleep(0.02)


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


# -- viewers (in worker processes) --------------------------------------------------------------


class Worker:
    """One load-generating process: counting viewers and a few full receivers."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.viewers: list[CountingViewer] = []
        self.silent: list[SilentViewer] = []
        self.receivers: list[RTCPeerConnection] = []
        self.janus: list[JanusViewer] = []
        self.http = aiohttp.ClientSession()
        self.tasks: set[asyncio.Task[None]] = set()

    async def offer_to(self, peer: RTCPeerConnection) -> None:
        if self.base.startswith("janus+"):
            viewer = JanusViewer(self.base.removeprefix("janus+"), self.http)
            self.janus.append(viewer)
            await viewer.watch(peer)
        else:
            peer.addTransceiver("video", direction="recvonly")
            peer.addTransceiver("audio", direction="recvonly")
            await negotiate(peer, f"{self.base}/whep/{CODE}", {})

    async def add_counting(self) -> None:
        peer = RTCPeerConnection(NO_ICE)
        viewer = CountingViewer(peer)
        self.viewers.append(viewer)
        await self.offer_to(peer)
        await connected(peer)
        description = peer.remoteDescription or peer.localDescription
        viewer.take_over(payload_kinds(description.sdp))

    async def add_silent(self) -> None:
        peer = RTCPeerConnection(NO_ICE)
        viewer = SilentViewer(peer)
        self.silent.append(viewer)
        await self.offer_to(peer)
        await connected(peer)
        viewer.take_over()

    async def add_receiver(self) -> tuple[float, float]:
        """A full receiver: seconds from the offer to its first complete video frame, and to
        its first keyframe (a viewer's first picture; a server may send others before)."""
        peer = RTCPeerConnection(NO_ICE)
        self.receivers.append(peer)
        started = time.monotonic()
        video: asyncio.Future[MediaStreamTrack] = asyncio.get_running_loop().create_future()

        def on_track(track: MediaStreamTrack) -> None:
            if track.kind == "video" and not video.done():
                video.set_result(track)
            else:
                self._drain(track)

        peer.on("track", on_track)
        await self.offer_to(peer)
        track = await asyncio.wait_for(video, 30)
        packet: Any = await asyncio.wait_for(track.recv(), 30)
        first = time.monotonic() - started
        while not packet.is_keyframe:
            packet = await asyncio.wait_for(track.recv(), 30)
        keyframe = time.monotonic() - started
        self._drain(track)
        return first, keyframe

    def _drain(self, track: MediaStreamTrack) -> None:
        async def drain() -> None:
            try:
                while True:
                    await track.recv()
            except MediaStreamError:
                return

        task = asyncio.create_task(drain())
        self.tasks.add(task)

    async def add(
        self, counting: int, receivers: int, silent: int = 0
    ) -> list[tuple[float, float]]:
        gate = asyncio.Semaphore(SETUP_CONCURRENCY)

        async def one(add: Callable[[], Awaitable[None]]) -> None:
            async with gate:
                await add()

        await asyncio.gather(
            *(one(self.add_counting) for _ in range(counting)),
            *(one(self.add_silent) for _ in range(silent)),
        )
        return [await self.add_receiver() for _ in range(receivers)]

    def counts(self) -> Counts:
        counts = Counts()
        for viewer in self.viewers:
            viewer.add_to(counts)
        return counts

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        peers = [v.peer for v in self.viewers] + [v.peer for v in self.silent] + self.receivers
        await asyncio.gather(*(peer.close() for peer in peers), return_exceptions=True)
        await self.http.close()


async def worker_main(base: str) -> None:
    """Commands on stdin, one JSON line each on stdout: ``add N R [S]`` (counting viewers,
    full receivers, silent viewers), ``counts``, ``quit``."""
    from server.media import aiortc_glue

    aiortc_glue.install()
    pin_ice_to_loopback()
    worker = Worker(base)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        command = (await reader.readline()).decode().split()
        if not command or command[0] == "quit":
            break
        if command[0] == "add":
            first = await worker.add(*(int(n) for n in command[1:4]))
            print(json.dumps({"first_frame_s": first}), flush=True)
        elif command[0] == "counts":
            print(json.dumps(worker.counts().as_json()), flush=True)
    await worker.close()


class Workers:
    def __init__(self, base: str, count: int) -> None:
        self.base = base
        self.count = count
        self.processes: list[asyncio.subprocess.Process] = []

    async def start(self) -> None:
        for _ in range(self.count):
            self.processes.append(
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    __file__,
                    "--worker",
                    self.base,
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    limit=1 << 24,
                )
            )

    async def ask(self, process: asyncio.subprocess.Process, line: str) -> dict[str, Any]:
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.write(line.encode() + b"\n")
        await process.stdin.drain()
        reply = await asyncio.wait_for(process.stdout.readline(), 600)
        if not reply:
            raise RuntimeError("a viewer worker died")
        answer: dict[str, Any] = json.loads(reply)
        return answer

    async def add(self, viewers: int, receivers: int, silent: int = 0) -> list[list[float]]:
        """Spread ``viewers`` counting viewers, ``receivers`` full ones and ``silent`` ones
        over the workers."""

        def spread(total: int) -> list[int]:
            return [total // self.count + (i < total % self.count) for i in range(self.count)]

        replies = await asyncio.gather(
            *(
                self.ask(p, f"add {share} {more} {quiet}")
                for p, share, more, quiet in zip(
                    self.processes, spread(viewers), spread(receivers), spread(silent), strict=True
                )
            )
        )
        return [s for reply in replies for s in reply["first_frame_s"]]

    async def counts(self) -> Counts:
        total = Counts()
        for reply in await asyncio.gather(*(self.ask(p, "counts") for p in self.processes)):
            total.add_json(reply)
        return total

    def cpu_seconds(self) -> float:
        return sum(cpu_seconds(p.pid) for p in self.processes)

    async def close(self) -> None:
        await stop_processes(self.processes, b"quit")


# -- driver ---------------------------------------------------------------------------------------


async def start_plenaria(data: Path, port: int) -> asyncio.subprocess.Process:
    store = await open_store(f"sqlite:///{data / 'plenaria.db'}")
    now = dt.datetime.now(dt.UTC)
    await store.replace_programme(demo_programme(now), now)
    await store.close()
    return await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("plenaria")), "serve", "--media-workers", "0",
        "--data", str(data),
        "--port", str(port), "--log-level", "WARNING",
        env={**loopback_environment(data), "PLENARIA_SECRET_KEY": SECRET},
    )  # fmt: skip


async def start_stock(folder: Path, port: int) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "bench" / "stock_relay.py"), str(port),
        env=loopback_environment(folder),
    )  # fmt: skip


def speaker_headers() -> dict[str, str]:
    identity = Identity("bench-speaker", "Bench").with_role(CODE, Role.SPEAKER)
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    return {"Authorization": f"Bearer {bearer_codec(SECRET.encode()).dumps(identity, expires)}"}


async def publish(base: str, clips: dict[str, PacketisedClip]) -> PacedPublisher:
    publisher = PacedPublisher(RTCPeerConnection(NO_ICE), clips)
    publisher.add_tracks()
    await negotiate(publisher.peer, f"{base}/whip/{CODE}", speaker_headers())
    await connected(publisher.peer)
    publisher.start()
    return publisher


async def measure(server: int, workers: Workers | None, window: float) -> dict[str, Any]:
    before = (cpu_seconds(server), workers.cpu_seconds() if workers else 0.0, box_busy_seconds())
    counts_before = await workers.counts() if workers else Counts()
    started = time.monotonic()
    await asyncio.sleep(window)
    counts_after = await workers.counts() if workers else Counts()
    elapsed = time.monotonic() - started
    after = (cpu_seconds(server), workers.cpu_seconds() if workers else 0.0, box_busy_seconds())
    server_cpu, workers_cpu, box_cpu = (b - a for a, b in zip(before, after, strict=True))

    def delta(name: str, kind: str) -> int:
        table_after: dict[str, int] = getattr(counts_after, name)
        table_before: dict[str, int] = getattr(counts_before, name)
        return table_after.get(kind, 0) - table_before.get(kind, 0)

    packets = sum(delta("packets", k) for k in ("video", "audio"))
    expected = sum(delta("expected", k) for k in ("video", "audio"))
    return {
        "server_cpu_percent": round(server_cpu / elapsed * 100, 1),
        "workers_cpu_percent": round(workers_cpu / elapsed * 100, 1),
        "box_cpu_percent": round(box_cpu / elapsed * 100, 1),
        "packets_per_s": round(packets / elapsed),
        "server_us_per_packet": round(server_cpu / packets * 1e6, 2) if packets else None,
        "loss_percent": round(100 * max(expected - packets, 0) / expected, 3) if expected else 0,
        "video_packets": delta("packets", "video"),
        "video_frames": delta("frames", "video"),
        "audio_packets": delta("packets", "audio"),
        "elapsed": elapsed,
    }


async def run_mode(
    mode: str, folder: Path, clips: dict[str, PacketisedClip], levels: list[int], args: Any
) -> dict[str, Any]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    helpers: list[asyncio.subprocess.Process] = []
    publisher: PacedPublisher | None = None
    if mode == "janus":
        server, *helpers = await start_janus(folder, port)
        base = f"janus+{base}"
    elif mode == "plenaria":
        server = await start_plenaria(folder, port)
    else:
        server = await start_stock(folder, port)
    workers = Workers(base, args.workers)
    rows: list[dict[str, Any]] = []
    try:
        await wait_listening(port)
        if mode != "janus":
            publisher = await publish(base, clips)
        await asyncio.sleep(args.settle)
        idle = await measure(server.pid, None, args.window)
        rows.append({"viewers": 0, **idle})
        print(f"{mode}: idle, server CPU {idle['server_cpu_percent']} %", file=sys.stderr)
        await workers.start()
        have = full = 0
        for level in levels:
            receivers = min(args.receivers, level - have)
            first = await workers.add(level - have - receivers, receivers)
            have, full = level, full + receivers
            await asyncio.sleep(args.settle)
            row = {"viewers": level, **await measure(server.pid, workers, args.window)}
            elapsed = row.pop("elapsed")
            counting = level - full  # the full receivers are not counted
            row["counting_viewers"] = counting
            row["video_fps_per_viewer"] = round(row["video_frames"] / max(counting, 1) / elapsed, 1)
            row["audio_packets_per_s_per_viewer"] = round(
                row["audio_packets"] / max(counting, 1) / elapsed, 1
            )
            row["first_frame_s"] = [round(frame, 3) for frame, _ in first]
            row["first_keyframe_s"] = [round(keyframe, 3) for _, keyframe in first]
            rows.append(row)
            print(f"{mode}: {json.dumps(row)}", file=sys.stderr)
            if row["box_cpu_percent"] > 190 or row["loss_percent"] > 5:
                print(f"{mode}: saturated at {level} viewers", file=sys.stderr)
                break
        if publisher is not None:  # what the connected viewers cost with no media flowing
            for task in publisher.tasks:
                task.cancel()
            await asyncio.sleep(args.settle)
            quiet = await measure(server.pid, workers, args.window)
            print(f"{mode}: no media, {json.dumps(quiet)}", file=sys.stderr)
            rows[-1]["server_cpu_percent_without_media"] = quiet["server_cpu_percent"]
    finally:
        await workers.close()
        if publisher is not None:
            await publisher.close()
        for helper in helpers:
            helper.kill()
            await helper.wait()
        server.terminate()
        await server.wait()
    return summarise(rows)


def held(row: dict[str, Any]) -> bool:
    """Every viewer got the stream at full rate: < 1 % loss, ≥ 90 % of the video frames and
    audio packets, and the box not saturated."""
    return bool(
        row["loss_percent"] < 1
        and row["box_cpu_percent"] < 190
        and row["video_fps_per_viewer"] >= 0.9 * FPS
        and row["audio_packets_per_s_per_viewer"] >= 0.9 * AUDIO_RATE / AUDIO_FRAME
    )


def marginal(idle: dict[str, Any], row: dict[str, Any]) -> float:
    spent = float(row["server_cpu_percent"]) - float(idle["server_cpu_percent"])
    return round(spent / int(row["viewers"]), 3)


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Marginal CPU per viewer at each level held, and at the highest one."""
    idle = rows[0]
    firsts = sorted(s for row in rows for s in row.get("first_frame_s", []))
    keyframes = sorted(s for row in rows for s in row.get("first_keyframe_s", []))
    kept = [r for r in rows[1:] if r["counting_viewers"] and held(r)]
    summary: dict[str, Any] = {"levels": rows}
    summary["marginal_cpu_percent_per_viewer_by_level"] = {
        str(r["viewers"]): marginal(idle, r) for r in kept
    }
    if kept:
        per_viewer = marginal(idle, kept[-1])
        summary["marginal_cpu_percent_per_viewer"] = per_viewer
        summary["viewers_per_core_extrapolated"] = round(100 / per_viewer) if per_viewer else None
    if firsts:
        summary["first_frame_s_p50"] = firsts[len(firsts) // 2]
        summary["first_frame_s_max"] = firsts[-1]
        summary["first_keyframe_s_p50"] = keyframes[len(keyframes) // 2]
        summary["first_keyframe_s_max"] = keyframes[-1]
    summary["viewers_held"] = kept[-1]["viewers"] if kept else 0
    return summary


async def main(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "date": dt.date.today().isoformat(),
    }
    pin_ice_to_loopback()
    if os.environ.get(PRIVATE_NETWORK) == "0" and "janus" in args.modes:
        args.modes = [m for m in args.modes if m != "janus"]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        clips = await asyncio.to_thread(load_clips, folder)
        video_bits = sum(len(p) for f, _ in clips["video"].frames for p in f) * 8 / CLIP_SECONDS
        audio_bits = sum(len(p) for f, _ in clips["audio"].frames for p in f) * 8 / CLIP_SECONDS
        results["stream"] = (
            f"{WIDTH}x{HEIGHT} VP8 {FPS} fps {video_bits / 1e6:.2f} Mbit/s"
            f" + Opus {audio_bits / 1e3:.0f} kbit/s (RTP payload)"
        )
        for mode, levels in (
            ("plenaria", args.levels),
            ("janus", args.levels),
            ("stock", args.stock_levels),
        ):
            if mode in args.modes:
                results[mode] = await run_mode(mode, folder, clips, levels, args)
    ours = results.get("plenaria", {}).get("marginal_cpu_percent_per_viewer_by_level", {})
    for other in ("janus", "stock"):
        theirs = results.get(other, {}).get("marginal_cpu_percent_per_viewer_by_level", {})
        both = [level for level in theirs if level in ours]
        if both:  # compared at the highest level both held
            level = max(both, key=int)
            results[f"plenaria_vs_{other}_per_viewer"] = {
                "viewers": int(level),
                "ratio": round(ours[level] / theirs[level], 3),
            }
        elif theirs and results["plenaria"].get("marginal_cpu_percent_per_viewer"):
            results[f"plenaria_vs_{other}_per_viewer"] = {  # each at its own highest level
                "ratio": round(
                    results["plenaria"]["marginal_cpu_percent_per_viewer"]
                    / results[other]["marginal_cpu_percent_per_viewer"],
                    3,
                )
            }
    return results


def levels(text: str) -> list[int]:
    return [int(part) for part in text.split(",")]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--levels", type=levels, default=[1, 16, 64, 150, 300])
    parser.add_argument("--stock-levels", type=levels, default=[1, 4, 8])
    parser.add_argument("--window", type=float, default=10.0)
    parser.add_argument("--settle", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--receivers", type=int, default=1, help="full receivers per level")
    parser.add_argument(
        "--modes", type=lambda t: t.split(","), default=["plenaria", "janus", "stock"]
    )
    parser.add_argument("--worker", metavar="URL", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if not arguments.worker:
        enter_private_network()
    if arguments.worker:
        asyncio.run(worker_main(arguments.worker))
    else:
        print(json.dumps(asyncio.run(main(arguments)), indent=2))
