"""Recording: server CPU per recorded stream, and replay serving throughput.

1. **CPU per recorded stream.** Our ``recordings.recorder.Recorder`` (remuxes the
   forwarded encoded packets in a writer thread, decodes and encodes nothing) against
   aiortc's ``aiortc.contrib.media.MediaRecorder`` (decodes and re-encodes). Each variant
   is a small aiohttp app in its own process, run by this file, with one route,
   ``POST /whip/{code}``; publishers are aiortc peers in a worker process that send a
   720p VP8 + Opus clip encoded once in advance (``bench/breakouts.py``'s clip and
   ``PacedClip``), over real ICE, DTLS and SRTP. Ours takes the publication through
   ``MediaEngine.publish`` (the WHIP path of ``plenaria serve``) and records it as
   ``RecordingController`` does; stock aiortc receives with a plain ``RTCPeerConnection``
   (its decoders) and hands the tracks to ``MediaRecorder`` (``.webm``: libvpx + libopus,
   its defaults), audio held back until the first video frame (see :class:`VideoFirst`:
   without that it records audio alone). A third process, ``receive``, takes the
   publications through ``MediaEngine.publish`` and drains them without recording: the
   receiving cost both variants share. The server process's CPU (all its threads,
   ``/proc/<pid>/stat``) is read over a steady window; 100 % is one core. Every level
   starts fresh publishers and fresh files; each file is then opened with PyAV, demuxed
   and its first video frame decoded. A level is saturated when a file holds under 95 %
   of the time it was recorded for; the variant's higher levels are then skipped.
2. **Replay serving throughput.** ``/media/recordings/<id>.webm`` from ``create_app``
   (``web.FileResponse``, sendfile; served by ``server.cli.serve``, the runner of
   ``plenaria serve``) against nginx (Debian's package, ``sendfile on``, one worker) on
   the same file (a WebM of the clip looped to ``--file-mb``). A load client in its own
   process (asyncio, keep-alive HTTP/1.1; each body counted and discarded by the kernel
   with ``MSG_TRUNC``, never copied to the client) does full GETs and random 1 MiB
   ``Range`` GETs at each concurrency. It shares the two cores with the server; server,
   client and box CPU are read over the same window.

    .venv/bin/python bench/recording.py [--levels 1,2,4,8] [--stock-levels 1,2,4,8]
        [--receive-levels 2,8] [--window 20] [--concurrency 16,64] [--load-seconds 10]
        [--file-mb 64]

nginx: ``apt-get install -y nginx`` (only the binary is used; the run writes its own
config and runs it in the foreground on a free port).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import fractions
import json
import os
import platform
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import av
from aiohttp import web
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRecorder
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.breakouts import (  # noqa: E402
    AUDIO_FRAME,
    AUDIO_RATE,
    FPS,
    PacedClip,
    encode_clip,
    read_clip,
    write_clip,
)
from bench.fanout import (  # noqa: E402
    CLOCK_TICKS,
    NO_ICE,
    box_busy_seconds,
    cpu_seconds,
    negotiate,
    wait_listening,
)
from bench.light_peers import pin_ice_to_loopback  # noqa: E402
from bench.stock_relay import answer as stock_answer  # noqa: E402
from server.media.stream_key import StreamKey  # noqa: E402
from tests.processes import free_port  # noqa: E402

WIDTH, HEIGHT, BITRATE = 1280, 720, 1_500_000
CLIP_SECONDS = 10
SATURATED_REALTIME = 0.95
"""A level is saturated when its files hold less than this share of the time they were
recorded for (the recorder fell behind and dropped, or had a backlog when stopped)."""
DISTURBED_PERCENT = 30.0
"""CPU of the rest of the box (of 200 %) above which a window is marked disturbed."""
MIB = 1 << 20
RECORDING_ID = "benchreplay"
REPLAY_KEY = "bench-replay.webm"
REPLAY_CODE = "replay"
SECRET = b"recording-bench-secret-0123456789abcdef"


# -- the recording servers (each in its own process) ---------------------------------------------


class RecordServer:
    """One variant's recorders: ``ours`` (MediaEngine + Recorder), ``stock`` (plain peer +
    MediaRecorder) or ``receive`` (MediaEngine, the packets drained, nothing recorded)."""

    def __init__(self, mode: str, out: Path) -> None:
        self.mode = mode
        self.out = out
        self.engine: Any = None
        self.storage: Any = None
        self.recorders: list[tuple[str, Callable[[], float | None], Any]] = []
        """(file name, when its first video frame reached the recorder, recorder)."""
        self.peers: list[RTCPeerConnection] = []
        self.drains: set[asyncio.Task[None]] = set()

    async def context(self, app: web.Application) -> AsyncIterator[None]:
        if self.mode != "stock":
            from recordings.storage import LocalStorage
            from server.media.engine import MediaEngine

            self.engine = MediaEngine()
            self.storage = LocalStorage(self.out)
        yield
        await self.stop_all()

    async def publish(self, request: web.Request) -> web.Response:
        code = request.match_info["code"]
        offer = await request.text()
        if self.mode == "stock":
            peer = RTCPeerConnection(NO_ICE)
            self.peers.append(peer)
            tracks: list[MediaStreamTrack] = []
            peer.on("track", tracks.append)
            await peer.setRemoteDescription(RTCSessionDescription(offer, "offer"))
            name = f"{code}.webm"
            recorder = MediaRecorder(str(self.out / name))
            gate = VideoFirst()
            for track in tracks:
                recorder.addTrack(Gated(track, gate))
            await recorder.start()
            self.recorders.append((name, lambda: gate.opened_at, recorder))
            return await stock_answer(request, peer)
        from recordings.recorder import Recorder

        publication, sdp = await self.engine.publish(
            StreamKey.panel(code), offer, dt.datetime.now(dt.UTC)
        )
        if self.mode == "ours":
            ours = Recorder(publication.broadcasts, publication.codecs, self.storage, code)
            ours.start()
            self.recorders.append((ours.key, lambda: ours.state.started_at_monotonic, ours))
        else:
            for broadcast in publication.broadcasts.values():
                task = asyncio.create_task(drain(broadcast.subscribe()))
                self.drains.add(task)
                task.add_done_callback(self.drains.discard)
        return web.Response(status=201, text=sdp, content_type="application/sdp")

    async def started(self, request: web.Request) -> web.Response:
        """How many recorders have had their first video frame."""
        if self.mode == "stock":
            count = sum(first_video() is not None for _, first_video, _ in self.recorders)
        else:
            count = sum(r.state.duration_seconds > 0 for _, _, r in self.recorders)
        return web.json_response(count)

    async def stop(self, request: web.Request) -> web.Response:
        return web.json_response(await self.stop_all())

    async def stop_all(self) -> list[dict[str, Any]]:
        """Stop every recorder (the wall time each ran for), then every publication."""
        files: list[dict[str, Any]] = []
        for name, first_video, recorder in self.recorders:
            state = await recorder.stop()
            started = first_video()
            files.append(
                {
                    "file": name,
                    "wall_s": time.monotonic() - started if started else 0.0,
                    "status": getattr(state, "status", "finished"),
                    "dropped_packets": getattr(state, "dropped_packets", 0),
                    "error": getattr(state, "error", ""),
                }
            )
        self.recorders = []
        if self.engine is not None:
            for publication in list(self.engine.publications.values()):
                await self.engine.unpublish(publication)
        await asyncio.gather(*(peer.close() for peer in self.peers))
        self.peers = []
        return files


class VideoFirst:
    """Holds a publication's audio back until its first video frame reached the recorder.

    ``MediaRecorder`` sizes its video stream from the first video frame, but PyAV opens
    every stream's codec when the first packet of any stream is muxed. A WebRTC
    publication's audio arrives first (its video waits for a keyframe and a decode), so
    without this the video task dies on ``Cannot change width after codec is open`` and
    the file holds audio alone, while decoded frames pile up in the video track."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.opened_at: float | None = None

    def open(self) -> None:
        if self.opened_at is None:
            self.opened_at = time.monotonic()
            self.event.set()


class Gated(MediaStreamTrack):
    """A received track handed to ``MediaRecorder`` through :class:`VideoFirst`."""

    def __init__(self, source: MediaStreamTrack, gate: VideoFirst) -> None:
        super().__init__()
        self.kind = source.kind
        self.source = source
        self.gate = gate

    async def recv(self) -> Any:
        if self.kind != "video":
            await self.gate.event.wait()
        frame = await self.source.recv()
        if self.kind == "video":
            self.gate.open()  # MediaRecorder sets the size before it next awaits
        return frame


async def drain(track: MediaStreamTrack) -> None:
    while True:
        try:
            await track.recv()
        except MediaStreamError:
            return


def record_server(mode: str, port: int, out: Path) -> None:
    server = RecordServer(mode, out)
    app = web.Application()
    app.cleanup_ctx.append(server.context)
    app.router.add_post("/whip/{code}", server.publish)
    app.router.add_get("/started", server.started)
    app.router.add_post("/stop", server.stop)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


# -- the publishers (in a worker process) ---------------------------------------------------------


async def publishers(base: str, prefix: str, count: int, clip_path: Path) -> None:
    """``count`` publishers, each sending the clip (video and audio) from a random point,
    to ``{base}/whip/{prefix}-s{index}``; ``ready`` once all are connected, then on until
    stdin closes or says anything."""
    clip = read_clip(clip_path)
    peers: list[RTCPeerConnection] = []

    async def publish(index: int) -> None:
        peer = RTCPeerConnection(NO_ICE)
        peers.append(peer)
        peer.addTrack(PacedClip("video", clip["v"], FPS))
        peer.addTrack(PacedClip("audio", clip["a"], AUDIO_RATE / AUDIO_FRAME))
        await negotiate(peer, f"{base}/whip/{prefix}-s{index}", {})

    all_connected = asyncio.Event()

    def state_changed() -> None:
        if all(p.connectionState == "connected" for p in peers):
            all_connected.set()

    started = time.monotonic()
    await asyncio.gather(*(publish(index) for index in range(count)))
    for peer in peers:
        peer.on("connectionstatechange", state_changed)
    state_changed()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(all_connected.wait(), 30)
    connected = sum(p.connectionState == "connected" for p in peers)
    ready = {"ready": True, "connected": connected, "setup_s": round(time.monotonic() - started, 2)}
    print(json.dumps(ready), flush=True)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    await reader.readline()
    await asyncio.gather(*(peer.close() for peer in peers))


# -- checking a recorded file --------------------------------------------------------------------


def check_file(path: Path) -> dict[str, Any]:
    """Open with PyAV, demux every packet, decode the first video frame: codecs, the
    media time each track spans, video frames, and the header's duration."""
    from recordings.poster import probe

    report: dict[str, Any] = {"file": path.name, "bytes": path.stat().st_size, "valid": False}
    try:
        header_s, codecs = probe(path)
        report["header_duration_s"] = round(header_s, 2)
        report["codecs"] = codecs
        spans: dict[str, list[float]] = {}
        frames = 0
        with av.open(str(path)) as container:
            for packet in container.demux():
                if packet.pts is None or packet.time_base is None:
                    continue
                kind = packet.stream.type
                start = float(packet.pts * packet.time_base)
                end = start + float((packet.duration or 0) * packet.time_base)
                low, high = spans.get(kind, [start, end])
                spans[kind] = [min(low, start), max(high, end)]
                frames += kind == "video"
        with av.open(str(path)) as container:
            decoded = next(container.decode(video=0), None)
        report["video_frames"] = frames
        report["span_s"] = {kind: round(high - low, 2) for kind, (low, high) in spans.items()}
        report["first_frame"] = f"{decoded.width}x{decoded.height}" if decoded else None
        report["valid"] = bool(
            decoded is not None and codecs.get("video") and codecs.get("audio") and frames
        )
    except (av.error.FFmpegError, StopIteration, ValueError) as error:
        report["error"] = str(error)
    return report


# -- the driver: recording ----------------------------------------------------------------------


async def post_json(url: str) -> Any:
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout) as http, http.post(url) as response:
        response.raise_for_status()
        return await response.json()


class Window:
    """CPU over a window, in % of one core: some processes, and the box (200 % = 2 cores)."""

    def __init__(self, pids: dict[str, Callable[[], float]]) -> None:
        self.pids = pids
        self.started = time.monotonic()
        self.box = box_busy_seconds()
        self.cpu = {name: read() for name, read in pids.items()}

    def end(self) -> dict[str, float]:
        elapsed = time.monotonic() - self.started
        result = {
            f"{name}_cpu_percent": round((read() - self.cpu[name]) / elapsed * 100, 1)
            for name, read in self.pids.items()
        }
        result["box_cpu_percent"] = round((box_busy_seconds() - self.box) / elapsed * 100, 1)
        result["rest_cpu_percent"] = round(
            result["box_cpu_percent"] - sum(v for k, v in result.items() if k != "box_cpu_percent"),
            1,
        )
        result["window_s"] = round(elapsed, 2)
        return result


def remove_files(out: Path, prefix: str) -> None:
    for path in out.glob(f"{prefix}-*"):
        path.unlink()


async def wait_started(base: str, count: int, seconds: float = 20) -> int:
    """Until ``count`` recorders have had their first video frame."""
    deadline = time.monotonic() + seconds
    started = 0
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            async with http.get(f"{base}/started") as response:
                started = await response.json()
            if started >= count:
                break
            await asyncio.sleep(0.1)
    return started


async def run_record_mode(
    mode: str, clip: Path, levels: list[int], args: argparse.Namespace
) -> dict[str, Any]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        server = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--record-server", mode, "--port", str(port),
            "--out", str(out),
        )  # fmt: skip
        try:
            await wait_listening(port)
            await asyncio.sleep(1)
            window = Window({"server": lambda: cpu_seconds(server.pid)})
            await asyncio.sleep(args.idle_window)
            idle = window.end()
            print(f"{mode}: idle {json.dumps(idle)}", file=sys.stderr)
            for level in levels:
                row = await record_level(mode, base, server.pid, out, clip, level, args)
                rows.append(row)
                print(f"{mode}: {json.dumps(row)}", file=sys.stderr)
                if row["saturated"]:
                    break
        finally:
            server.terminate()
            await server.wait()
    return {"idle_server_cpu_percent": idle["server_cpu_percent"], "levels": rows}


async def record_level(
    mode: str, base: str, server: int, out: Path, clip: Path, level: int, args: argparse.Namespace
) -> dict[str, Any]:
    prefix = f"n{level}"
    worker = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--publishers", base, "--prefix", prefix,
        "--count", str(level), "--clip", str(clip),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert worker.stdout is not None
        ready = json.loads(await asyncio.wait_for(worker.stdout.readline(), 120))
        if mode != "receive":
            started = await wait_started(base, level)
            if started < level:
                print(f"{mode}: only {started} of {level} recordings started", file=sys.stderr)
        await asyncio.sleep(args.settle)
        window = Window(
            {"server": lambda: cpu_seconds(server), "publishers": lambda: cpu_seconds(worker.pid)}
        )
        await asyncio.sleep(args.window)
        cpu = window.end()
        stopped: list[dict[str, Any]] = await post_json(f"{base}/stop")
    finally:
        if worker.returncode is None and worker.stdin is not None:
            worker.stdin.write(b"stop\n")
            with contextlib.suppress(ConnectionError):
                await worker.stdin.drain()
        try:
            await asyncio.wait_for(worker.wait(), 20)
        except TimeoutError:
            worker.kill()
            await worker.wait()
    files = [await asyncio.to_thread(check_file, out / entry["file"]) for entry in stopped]
    for entry, report in zip(stopped, files, strict=True):
        report["wall_s"] = round(entry["wall_s"], 2)
        report["status"] = entry["status"]
        report["dropped_packets"] = entry["dropped_packets"]
        video_span = report.get("span_s", {}).get("video", 0.0)
        report["realtime"] = round(video_span / entry["wall_s"], 3) if entry["wall_s"] else 0.0
        if entry["error"]:
            report["error"] = entry["error"]
    await asyncio.to_thread(remove_files, out, prefix)
    realtime = min((f["realtime"] for f in files), default=1.0)
    row: dict[str, Any] = {
        "streams": level,
        "connected": ready["connected"],
        **cpu,
        "server_cpu_percent_per_stream": round(cpu["server_cpu_percent"] / level, 2),
        "disturbed": cpu["rest_cpu_percent"] > DISTURBED_PERCENT,
    }
    if mode != "receive":
        row |= {
            "files_valid": sum(bool(f["valid"]) for f in files),
            "files": len(files),
            "realtime_min": realtime,
            "duration_s_min": min(
                (f.get("span_s", {}).get("video", 0.0) for f in files), default=0
            ),
            "wall_s_max": max((f["wall_s"] for f in files), default=0),
            "video_fps_min": round(
                min((f.get("video_frames", 0) / f["wall_s"] for f in files), default=0), 1
            ),
            "dropped_packets": sum(f["dropped_packets"] for f in files),
            "file_checks": files,
        }
    row["saturated"] = realtime < SATURATED_REALTIME or ready["connected"] < level
    return row


# -- the replay file and servers -----------------------------------------------------------------


def write_replay_file(clip: dict[str, Any], path: Path, megabytes: int) -> float:
    """A valid WebM of the clip (VP8 + Opus) looped until it holds ``megabytes``; returns
    its length in seconds."""
    from recordings.recorder import opus_stream

    clip_bytes = sum(len(d) for d, _ in clip["video"]) + sum(len(d) for d in clip["audio"])
    loops = max(1, round(megabytes * MIB / clip_bytes))
    millis = fractions.Fraction(1, 1000)
    with av.open(str(path), "w", format="webm") as container:
        video = container.add_mux_stream("vp8", width=WIDTH, height=HEIGHT)
        video.time_base = millis
        audio = opus_stream(container)
        audio_index = 0
        frame_ms = 1000 // FPS
        audio_ms = AUDIO_FRAME * 1000 // AUDIO_RATE
        for index in range(loops * len(clip["video"])):
            data, key = clip["video"][index % len(clip["video"])]
            packet: Any = av.Packet(data)
            packet.pts = packet.dts = index * frame_ms
            packet.time_base = millis
            packet.is_keyframe = key
            packet.stream = video
            container.mux(packet)
            while audio_index * audio_ms <= index * frame_ms:
                sound: Any = av.Packet(clip["audio"][audio_index % len(clip["audio"])])
                sound.pts = sound.dts = audio_index * audio_ms
                sound.duration = audio_ms
                sound.time_base = millis
                sound.stream = audio
                container.mux(sound)
                audio_index += 1
    return loops * len(clip["video"]) / FPS


def replay_server(data: Path, port: int, source: Path, seconds: float, log_level: str) -> None:
    """``create_app`` on ``data``, the file placed in its recording storage and filed in
    the archive through the command log, served by the runner of ``plenaria serve``."""
    from recordings.archive import RecordingProcessed, RecordingStarted, RecordingStopped
    from recordings.storage import RecordingStorage
    from server.app import create_app
    from server.cli import serve
    from server.keys import QA, RECORDINGS
    from server.logs import configure_logging
    from server.settings import Settings

    settings = Settings(data_dir=data, secret_key=SECRET, port=port, log_level=log_level)
    configure_logging(settings)
    app = create_app(settings)

    async def file_it(app: web.Application) -> None:
        storage: RecordingStorage = app[RECORDINGS]
        await asyncio.to_thread(shutil.copyfile, source, storage.path_for_writing(REPLAY_KEY))
        storage.finish(REPLAY_KEY)
        now = dt.datetime.now(dt.UTC)
        commands = (
            RecordingStarted(RECORDING_ID, REPLAY_CODE, "", "webm", REPLAY_KEY),
            RecordingStopped(RECORDING_ID),
            RecordingProcessed(RECORDING_ID, seconds, storage.size(REPLAY_KEY)),
        )
        for command in commands:
            await app[QA].submit_command(REPLAY_CODE, command, now)

    app.on_startup.append(file_it)
    asyncio.run(serve(app, settings))


NGINX_CONFIG = """daemon off;
master_process on;
{user}worker_processes {workers};
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    types {{ video/webm webm; }}
    server {{
        listen 127.0.0.1:{port};
        root {root};
        location / {{ }}
    }}
}}
"""


async def start_nginx(folder: Path, root: Path, port: int, workers: int) -> Any:
    user = "user root;\n" if os.geteuid() == 0 else ""  # else workers run as nobody
    config = folder / "nginx.conf"
    config.write_text(
        NGINX_CONFIG.format(user=user, workers=workers, folder=folder, port=port, root=root)
    )
    return await asyncio.create_subprocess_exec(
        "nginx", "-p", str(folder), "-c", str(config), "-e", str(folder / "error.log"),
        stdout=asyncio.subprocess.DEVNULL,
    )  # fmt: skip


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process and its children (nginx's master and workers)."""
    total = cpu_seconds(pid)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return total


# -- the load client (in its own process) --------------------------------------------------------


class Load:
    """Counters shared by one client's connections, and the requests they send."""

    def __init__(self, host: str, path: str, kind: str, size: int) -> None:
        self.host = host
        self.path = path
        self.kind = kind
        self.size = size
        self.random = random.Random(7)
        self.bytes = 0
        self.done = 0
        self.errors = 0
        self.reconnects = 0
        self.running = True

    def request(self) -> tuple[bytes, int, int]:
        """The request, the status and the body length it must get."""
        extra = ""
        status, length = 200, self.size
        if self.kind == "range":
            first = self.random.randrange(self.size - MIB)
            extra = f"Range: bytes={first}-{first + MIB - 1}\r\n"
            status, length = 206, MIB
        text = f"GET {self.path} HTTP/1.1\r\nHost: {self.host}\r\n{extra}\r\n"
        return text.encode(), status, length


class Fetch:
    """One keep-alive connection: a request, its head read, its body discarded by the
    kernel as it arrives (``recv`` with ``MSG_TRUNC``: counted, never copied to this
    process, which keeps the client's share of the two cores small), the next request."""

    HEAD_READ = 4096

    def __init__(self, load: Load, sock: socket.socket, closed: asyncio.Future[None]) -> None:
        self.load = load
        self.sock = sock
        self.closed = closed
        self.buffer = bytearray(MIB)
        self.head = b""
        self.left = -1
        """Body bytes still to come; -1 while the head is being read."""
        self.expected = (200, 0)

    def send(self) -> None:
        if not self.load.running:
            self.close()
            return
        request, status, length = self.load.request()
        self.head, self.left, self.expected = b"", -1, (status, length)
        if self.sock.send(request) != len(request):
            raise RuntimeError("a request did not fit the socket buffer")

    def readable(self) -> None:
        try:
            if self.left < 0:
                count = self.sock.recv_into(self.buffer, self.HEAD_READ)
            else:
                size = min(self.left, len(self.buffer))
                count = self.sock.recv_into(self.buffer, size, socket.MSG_TRUNC)
        except BlockingIOError:
            return
        except OSError:
            count = 0
        if count == 0:
            self.close()
            return
        if self.left < 0:
            self.head += bytes(self.buffer[:count])
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return
            body = len(self.head) - end - 4
            self.left = self.parse(self.head[:end].decode("latin-1")) - body
            self.load.bytes += body
        else:
            self.left -= count
            self.load.bytes += count
        if self.left == 0:
            self.load.done += 1
            self.send()
        elif self.left < 0:
            self.load.errors += 1
            self.close()

    def parse(self, head: str) -> int:
        lines = head.split("\r\n")
        status = int(lines[0].split()[1])
        length = next(
            (
                int(line.split(":", 1)[1])
                for line in lines
                if line.lower().startswith("content-length:")
            ),
            0,
        )
        if (status, length) != self.expected:
            self.load.errors += 1
        return length

    def close(self) -> None:
        asyncio.get_running_loop().remove_reader(self.sock)
        self.sock.close()
        if not self.closed.done():
            self.closed.set_result(None)


async def load_client(url: str, kind: str, concurrency: int, seconds: float, warmup: float) -> None:
    """Keep ``concurrency`` connections busy; print ``{"window": "start"}`` when the
    measured window begins, then the counts over it."""
    match = re.fullmatch(r"http://([^/:]+):(\d+)(/.*)", url)
    assert match is not None, url
    host, port, path = match.group(1), int(match.group(2)), match.group(3)
    async with aiohttp.ClientSession() as http, http.head(url) as response:
        size = int(response.headers["Content-Length"])
    load = Load(f"{host}:{port}", path, kind, size)
    loop = asyncio.get_running_loop()
    fetches: list[Fetch] = []

    async def connection() -> None:
        while load.running:
            sock = socket.socket()
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            await loop.sock_connect(sock, (host, port))
            fetch = Fetch(load, sock, loop.create_future())
            fetches.append(fetch)
            loop.add_reader(sock, fetch.readable)
            fetch.send()
            await fetch.closed
            load.reconnects += load.running

    tasks = [asyncio.create_task(connection()) for _ in range(concurrency)]
    await asyncio.sleep(warmup)
    before = (time.monotonic(), load.bytes, load.done, load.errors)
    print(json.dumps({"window": "start"}), flush=True)
    await asyncio.sleep(seconds)
    after = (time.monotonic(), load.bytes, load.done, load.errors)
    load.running = False
    elapsed = after[0] - before[0]
    result = {
        "elapsed_s": round(elapsed, 2),
        "requests_per_s": round((after[2] - before[2]) / elapsed, 1),
        "mb_per_s": round((after[1] - before[1]) / elapsed / 1e6, 1),
        "errors": after[3] - before[3],
        "reconnects": load.reconnects,
        "file_bytes": size,
    }
    print(json.dumps(result), flush=True)
    for fetch in fetches:
        if not fetch.closed.done():
            fetch.close()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


# -- the driver: replay ----------------------------------------------------------------------------


async def run_load(
    url: str, server_cpu: Callable[[], float], kind: str, concurrency: int, args: argparse.Namespace
) -> dict[str, Any]:
    client = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--load", url, "--kind", kind,
        "--concurrency", str(concurrency), "--seconds", str(args.load_seconds),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert client.stdout is not None
    try:
        json.loads(await asyncio.wait_for(client.stdout.readline(), 60))
        window = Window({"server": server_cpu, "client": lambda: cpu_seconds(client.pid)})
        line = await asyncio.wait_for(client.stdout.readline(), args.load_seconds + 60)
        cpu = window.end()
        result: dict[str, Any] = json.loads(line)
    finally:
        await client.wait()
    rate, throughput = result["requests_per_s"], result["mb_per_s"]
    cost = {
        "server_cpu_ms_per_request": round(cpu["server_cpu_percent"] * 10 / rate, 3)
        if rate
        else None,
        "server_cpu_s_per_gb": round(cpu["server_cpu_percent"] * 10 / throughput, 3)
        if throughput
        else None,
    }
    return {"kind": kind, "concurrency": concurrency, **result, **cpu, **cost}


async def serve_replay(
    name: str, starter: Callable[[], Awaitable[Any]], port: int, path: str, args: argparse.Namespace
) -> list[dict[str, Any]]:
    server = await starter()
    rows: list[dict[str, Any]] = []
    try:
        await wait_listening(port)
        url = f"http://127.0.0.1:{port}{path}"
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            response.raise_for_status()
            await response.read()  # the file into the page cache
        for kind in ("full", "range"):
            for concurrency in args.concurrency:
                row = await run_load(
                    url, lambda: tree_cpu_seconds(server.pid), kind, concurrency, args
                )
                rows.append(row)
                print(f"{name}: {json.dumps(row)}", file=sys.stderr)
    finally:
        server.terminate()
        await server.wait()
    return rows


async def run_replay(clip: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = folder / "source.webm"
        seconds = await asyncio.to_thread(write_replay_file, clip, source, args.file_mb)
        data = folder / "data"
        ours_port, nginx_port = free_port(), free_port()

        def ours() -> Awaitable[Any]:
            return asyncio.create_subprocess_exec(
                sys.executable, __file__, "--replay-server", str(data), "--port", str(ours_port),
                "--file", str(source), "--file-seconds", str(seconds),
                "--log-level", args.log_level,
            )  # fmt: skip

        def nginx() -> Awaitable[Any]:
            return start_nginx(folder, data / "recordings", nginx_port, args.nginx_workers)

        served = {
            "ours": await serve_replay(
                "ours", ours, ours_port, f"/media/recordings/{RECORDING_ID}.webm", args
            ),
            "nginx": await serve_replay("nginx", nginx, nginx_port, f"/{REPLAY_KEY}", args),
        }
        checked = await asyncio.to_thread(check_file, data / "recordings" / REPLAY_KEY)
    ratios = [
        {
            "kind": ours["kind"],
            "concurrency": ours["concurrency"],
            "requests_per_s": ratio(ours["requests_per_s"], theirs["requests_per_s"]),
            "mb_per_s": ratio(ours["mb_per_s"], theirs["mb_per_s"]),
            "server_cpu_per_request": ratio(
                ours["server_cpu_ms_per_request"], theirs["server_cpu_ms_per_request"]
            ),
        }
        for ours, theirs in zip(served["ours"], served["nginx"], strict=True)
    ]
    return {
        "file": {k: checked.get(k) for k in ("bytes", "valid", "codecs", "header_duration_s")},
        **served,
        "ours_vs_nginx": ratios,
    }


# -- main ----------------------------------------------------------------------------------------


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, 2)


def summary(mode: dict[str, Any]) -> dict[str, Any]:
    """Per stream at the largest level that held (or the last one, if none did)."""
    held = [r for r in mode["levels"] if not r["saturated"]]
    basis = held[-1] if held else mode["levels"][-1]
    per_stream = basis["server_cpu_percent_per_stream"]
    realtime = basis.get("realtime_min", 1.0) or None
    return {
        "basis_streams": basis["streams"],
        "basis_saturated": basis["saturated"],
        "cpu_percent_per_stream": per_stream,
        "cpu_percent_per_full_rate_stream": round(per_stream / realtime, 2) if realtime else None,
    }


def versions() -> str:
    nginx = subprocess.run(["nginx", "-v"], capture_output=True, text=True, check=False).stderr
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"aiohttp {aiohttp.__version__}, PyAV {av.__version__}, "
        f"{nginx.strip().removeprefix('nginx version: ')}"
    )


async def main(args: argparse.Namespace) -> dict[str, Any]:
    began = time.monotonic()
    clip = await asyncio.to_thread(encode_clip, CLIP_SECONDS, WIDTH, HEIGHT, BITRATE)
    video_bits = sum(len(data) for data, _ in clip["video"]) * 8 / CLIP_SECONDS
    audio_bits = sum(len(data) for data in clip["audio"]) * 8 / CLIP_SECONDS
    results: dict[str, Any] = {
        "stream": f"{WIDTH}x{HEIGHT} VP8 {FPS} fps {video_bits / 1e6:.2f} Mbit/s"
        f" + Opus {audio_bits / 1e3:.0f} kbit/s",
        "machine": versions(),
        "window_s": args.window,
    }
    recording: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.bin"
        await asyncio.to_thread(write_clip, clip, path)
        for mode, levels in (
            ("ours", args.levels),
            ("stock", args.stock_levels),
            ("receive", args.receive_levels),
        ):
            if levels:
                recording[mode] = await run_record_mode(mode, path, levels, args)
    for mode in ("ours", "stock"):
        if mode in recording:
            recording[mode]["summary"] = summary(recording[mode])
    if "ours" in recording and "stock" in recording:
        ours, stock = recording["ours"], recording["stock"]
        same = {r["streams"]: r for r in ours["levels"]}
        recording["stock_vs_ours_same_streams"] = {
            str(r["streams"]): ratio(
                r["server_cpu_percent"], same[r["streams"]]["server_cpu_percent"]
            )
            for r in stock["levels"]
            if r["streams"] in same
        }
        recording["stock_vs_ours_per_full_rate_stream"] = ratio(
            stock["summary"]["cpu_percent_per_full_rate_stream"],
            ours["summary"]["cpu_percent_per_full_rate_stream"],
        )
    if "receive" in recording:
        received = {r["streams"]: r["server_cpu_percent"] for r in recording["receive"]["levels"]}
        for mode in ("ours", "stock"):
            if mode in recording:
                recording[mode]["above_receive_cpu_percent_per_stream"] = {
                    str(r["streams"]): round(
                        (r["server_cpu_percent"] - received[r["streams"]]) / r["streams"], 2
                    )
                    for r in recording[mode]["levels"]
                    if r["streams"] in received
                }
    results["recording"] = recording
    if args.concurrency:
        results["replay"] = await run_replay(clip, args)
    results["run_s"] = round(time.monotonic() - began, 1)
    return results


def numbers(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part]


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--levels", type=numbers, default=[1, 2, 4, 8], help="our recorder")
    parser.add_argument("--stock-levels", type=numbers, default=[1, 2, 4, 8], help="MediaRecorder")
    parser.add_argument(
        "--receive-levels", type=numbers, default=[2, 8], help="received and drained, not recorded"
    )
    parser.add_argument("--window", type=float, default=20.0, help="CPU window, seconds")
    parser.add_argument("--settle", type=float, default=2.0)
    parser.add_argument("--idle-window", type=float, default=3.0)
    parser.add_argument("--concurrency", type=numbers, default=[16, 64], help="replay clients")
    parser.add_argument("--load-seconds", type=float, default=10.0)
    parser.add_argument("--file-mb", type=int, default=64, help="replay file size")
    parser.add_argument("--nginx-workers", type=int, default=1)
    parser.add_argument("--log-level", default="WARNING", help="our replay server's log level")
    parser.add_argument("--json", type=Path, help="also write the results here")
    # The processes this file runs:
    hidden = argparse.SUPPRESS
    parser.add_argument("--record-server", choices=["ours", "stock", "receive"], help=hidden)
    parser.add_argument("--port", type=int, help=hidden)
    parser.add_argument("--out", type=Path, help=hidden)
    parser.add_argument("--publishers", metavar="URL", help=hidden)
    parser.add_argument("--prefix", help=hidden)
    parser.add_argument("--count", type=int, default=1, help=hidden)
    parser.add_argument("--clip", type=Path, help=hidden)
    parser.add_argument("--replay-server", type=Path, help=hidden)
    parser.add_argument("--file", type=Path, help=hidden)
    parser.add_argument("--file-seconds", type=float, default=0.0, help=hidden)
    parser.add_argument("--load", metavar="URL", help=hidden)
    parser.add_argument("--kind", choices=["full", "range"], default="full", help=hidden)
    parser.add_argument("--seconds", type=float, default=10.0, help=hidden)
    return parser


if __name__ == "__main__":
    arguments = parser().parse_args()
    pin_ice_to_loopback()  # every role of this script: WebRTC traffic stays on 127.0.0.1
    if arguments.record_server:
        record_server(arguments.record_server, arguments.port, arguments.out)
    elif arguments.publishers:
        asyncio.run(
            publishers(arguments.publishers, arguments.prefix, arguments.count, arguments.clip)
        )
    elif arguments.replay_server:
        replay_server(
            arguments.replay_server,
            arguments.port,
            arguments.file,
            arguments.file_seconds,
            arguments.log_level,
        )
    elif arguments.load:
        asyncio.run(
            load_client(
                arguments.load, arguments.kind, arguments.concurrency[0], arguments.seconds, 1.0
            )
        )
    else:
        report = asyncio.run(main(arguments))
        text = json.dumps(report, indent=2)
        if arguments.json:
            arguments.json.write_text(text)
        print(text)
