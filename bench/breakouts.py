"""Break-out rooms: server CPU for rooms of six, each member publishing video and audio
and receiving the other five, as the number of rooms grows.

Compares, in one run, Plenaria's forwarding engine (``RoomCalls`` on ``MediaEngine``:
encoded frames forwarded, nothing decoded) and stock aiortc (one ``RTCPeerConnection``
per member in, ``MediaRelay`` out: each member decoded once, re-encoded for each of the
other five). Each server is a small aiohttp app in its own process, run by this file, with
the same two routes: ``POST /publish/{room}/{member}`` and ``POST /watch/{room}/{member}``.

Members are simulated by one worker process per room. A member's publisher sends a clip
encoded once in advance (VP8 with the encoder settings of ``server/media/synthetic.py``,
640x360 at 25 fps and 0.8 Mbit/s by default, plus Opus), packetised once and replayed at
real-time pace from a random point (``bench/light_peers.PacedPublisher``). Its five
receivers complete ICE, DTLS and SRTP with the server; with ``--counting sample`` (the
default) six receivers a room (one of each publication, and all five of one member's) are
``bench/light_peers.CountingViewer``s and the other 24 ``SilentViewer``s, whose sockets drop
media in the kernel (the server still does all its work for them), so the box can drive a
dozen rooms; with ``--counting all`` every receiver counts. Counting receivers count SRTP
datagrams (packets, frames from marker bits, loss from sequence gaps) straight off their
sockets and do nothing else. The server process's own CPU is read from
``/proc/<pid>/stat`` over a steady window; 100 % is one core. Levels stop at the first
that saturates (frames delivered below the publishers' rate, loss, or the box near 200 %).

    .venv/bin/python bench/breakouts.py [--rooms 1,2,3,4,6] [--stock-rooms 1,2,4,6]
        [--counting sample|all]
        [--window 15] [--size 640x360] [--bitrate 800000]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import fractions
import json
import os
import platform
import random
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import av
from aiohttp import web
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamTrack
from av.video.frame import PictureType

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.fanout import (  # noqa: E402
    NO_ICE,
    box_busy_seconds,
    connected,
    cpu_seconds,
    negotiate,
    wait_listening,
)
from bench.light_peers import (  # noqa: E402
    CountingViewer,
    Counts,
    PacedPublisher,
    PacketisedClip,
    SilentViewer,
    payload_kinds,
    pin_ice_to_loopback,
    stop_processes,
)
from bench.stock_relay import answer as stock_answer  # noqa: E402
from server.media import synthetic  # noqa: E402
from tests.processes import free_port  # noqa: E402

if TYPE_CHECKING:
    from server.media.rooms import RoomCalls

CODE = "bench-breakouts"
MEMBERS = 6
FPS = synthetic.FPS
AUDIO_FRAME = 960
"""Opus packet length in samples at 48 kHz (20 ms), the encoder's frame size."""
AUDIO_RATE = 48_000
CLIP_SECONDS = 10
SATURATED_BOX_PERCENT = 180.0
"""Box-wide CPU (both cores = 200 %) from which a level counts as saturated."""
DISTURBED_PERCENT = 30.0
"""The rest of the box (kernel, this driver, anyone else's processes) using more than this
(of 200 %) means someone else is using the box: the level is measured again."""

# -- the clip, encoded once -------------------------------------------------------------------


def encode_clip(seconds: int, width: int, height: int, bitrate: int) -> dict[str, Any]:
    """VP8 (synthetic.py's encoder settings at the chosen size) and Opus packets."""
    video: list[tuple[bytes, bool]] = []
    with av.open(f"testsrc2=size={width}x{height}:rate={FPS}", format="lavfi") as source:
        encoder = synthetic.video_encoder()
        encoder.width, encoder.height, encoder.bit_rate = width, height, bitrate
        for frame in source.decode(video=0):
            image = frame.reformat(format="yuv420p")
            image.pict_type = PictureType.NONE
            video.extend((bytes(p), bool(p.is_keyframe)) for p in encoder.encode(image))
            if len(video) >= seconds * FPS:
                break
    audio: list[bytes] = []
    with av.open("sine=frequency=440:sample_rate=48000", format="lavfi") as source:
        opus = synthetic.audio_encoder()
        resampler = av.AudioResampler(
            format="s16", layout="stereo", rate=AUDIO_RATE, frame_size=opus.frame_size
        )
        for raw in source.decode(audio=0):
            for samples in resampler.resample(raw):
                audio.extend(bytes(p) for p in opus.encode(samples) if p.pts is not None)
            if len(audio) >= seconds * AUDIO_RATE // AUDIO_FRAME:
                break
    return {"video": video[: seconds * FPS], "audio": audio[: seconds * AUDIO_RATE // AUDIO_FRAME]}


def write_clip(clip: dict[str, Any], path: Path) -> None:
    """Length-prefixed records: kind (v/a), keyframe flag, length, data."""
    with path.open("wb") as file:
        for data, key in clip["video"]:
            file.write(b"v" + bytes([key]) + len(data).to_bytes(4, "big") + data)
        for data in clip["audio"]:
            file.write(b"a\x01" + len(data).to_bytes(4, "big") + data)


def read_clip(path: Path) -> dict[str, list[tuple[bytes, bool]]]:
    raw = path.read_bytes()
    clip: dict[str, list[tuple[bytes, bool]]] = {"v": [], "a": []}
    offset = 0
    while offset < len(raw):
        kind, key = chr(raw[offset]), bool(raw[offset + 1])
        size = int.from_bytes(raw[offset + 2 : offset + 6], "big")
        clip[kind].append((raw[offset + 6 : offset + 6 + size], key))
        offset += 6 + size
    return clip


class PacedClip(MediaStreamTrack):
    """Replays pre-encoded packets in a loop at real-time pace, as a camera or microphone
    would; each member starts at a random point so keyframes do not all coincide."""

    def __init__(self, kind: str, packets: list[tuple[bytes, bool]], rate: float) -> None:
        super().__init__()
        self.kind = kind
        self._packets = packets
        self._rate = rate
        if kind == "video":
            self._time_base, self._step = fractions.Fraction(1, FPS), 1
        else:
            self._time_base, self._step = fractions.Fraction(1, AUDIO_RATE), AUDIO_FRAME
        self._offset = random.randrange(len(packets))
        self._index = 0
        self._started = time.monotonic()

    async def recv(self) -> Any:
        delay = self._started + self._index / self._rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        data, key = self._packets[(self._offset + self._index) % len(self._packets)]
        packet = av.Packet(data)
        packet.pts = self._index * self._step
        packet.time_base = self._time_base
        packet.is_keyframe = key
        self._index += 1
        return packet


# -- the servers (each in its own process) -------------------------------------------------------


ROOMS: web.AppKey[RoomCalls] = web.AppKey("rooms")


async def ours_publish(request: web.Request) -> web.Response:
    _, sdp = await request.app[ROOMS].publish(
        CODE,
        request.match_info["room"],
        request.match_info["member"],
        await request.text(),
        dt.datetime.now(dt.UTC),
    )
    return web.Response(status=201, text=sdp, content_type="application/sdp")


async def ours_watch(request: web.Request) -> web.Response:
    room, member = request.match_info["room"], request.match_info["member"]
    _, sdp = await request.app[ROOMS].watch(CODE, room, member, await request.text(), "bench")
    return web.Response(status=201, text=sdp, content_type="application/sdp")


def ours_app() -> web.Application:
    """``RoomCalls`` on ``MediaEngine``, made inside the running loop."""

    async def engine(app: web.Application) -> AsyncIterator[None]:
        from server.media.engine import MediaEngine
        from server.media.rooms import RoomCalls

        media = MediaEngine()
        app[ROOMS] = RoomCalls(media)
        yield
        await app[ROOMS].close()
        await media.close()

    app = web.Application()
    app.cleanup_ctx.append(engine)
    app.router.add_post("/publish/{room}/{member}", ours_publish)
    app.router.add_post("/watch/{room}/{member}", ours_watch)
    return app


def stock_app() -> web.Application:
    """Stock aiortc: each member received (and decoded) by a plain RTCPeerConnection;
    ``MediaRelay`` hands the decoded frames to each watcher's sender, which encodes them."""
    app = web.Application()
    relay = MediaRelay()
    members: dict[tuple[str, str], dict[str, MediaStreamTrack]] = {}
    peers: list[RTCPeerConnection] = []

    async def publish(request: web.Request) -> web.Response:
        peer = RTCPeerConnection(NO_ICE)
        peers.append(peer)
        tracks: dict[str, MediaStreamTrack] = {}
        peer.on("track", lambda track: tracks.setdefault(track.kind, track))
        await peer.setRemoteDescription(RTCSessionDescription(await request.text(), "offer"))
        members[(request.match_info["room"], request.match_info["member"])] = tracks
        return await stock_answer(request, peer)

    async def watch(request: web.Request) -> web.Response:
        tracks = members.get((request.match_info["room"], request.match_info["member"]))
        if tracks is None:
            return web.Response(status=409)
        peer = RTCPeerConnection(NO_ICE)
        peers.append(peer)
        await peer.setRemoteDescription(RTCSessionDescription(await request.text(), "offer"))
        for transceiver in peer.getTransceivers():
            transceiver.sender.replaceTrack(relay.subscribe(tracks[transceiver.kind]))
            transceiver.direction = "sendonly"
        return await stock_answer(request, peer)

    async def close_peers(app: web.Application) -> None:
        await asyncio.gather(*(peer.close() for peer in peers))

    app.router.add_post("/publish/{room}/{member}", publish)
    app.router.add_post("/watch/{room}/{member}", watch)
    app.on_shutdown.append(close_peers)
    return app


def serve(mode: str, port: int) -> None:
    pin_ice_to_loopback()
    app = ours_app() if mode == "ours" else stock_app()
    web.run_app(app, host="127.0.0.1", port=port, print=None)


# -- one room's six members (in a worker process) ------------------------------------------------


async def room_worker(base: str, room: str, clip_path: Path, counting: str) -> None:
    """Six members: each publishes the clip (a ``PacedPublisher``, from a random point) and
    watches the five others (``CountingViewer``s: ICE, DTLS and SRTP with the server, then
    SRTP datagrams counted off the socket; see ``bench/light_peers.py``)."""
    from server.media import aiortc_glue

    aiortc_glue.install()
    pin_ice_to_loopback()
    clip = read_clip(clip_path)
    clips = {
        "video": PacketisedClip.from_frames("video", "video/VP8", clip["v"], FPS),
        "audio": PacketisedClip.from_frames(
            "audio", "audio/opus", clip["a"], AUDIO_RATE / AUDIO_FRAME
        ),
    }
    publishers: list[PacedPublisher] = []
    viewers: list[CountingViewer] = []
    silent: list[SilentViewer] = []

    async def publish(member: int) -> None:
        publisher = PacedPublisher(RTCPeerConnection(NO_ICE), clips, start=random.random())
        publishers.append(publisher)
        publisher.add_tracks()
        await negotiate(publisher.peer, f"{base}/publish/{room}/m{member}", {})
        await connected(publisher.peer)
        publisher.start()

    async def watch(member: int, watcher: int) -> None:
        peer = RTCPeerConnection(NO_ICE)
        counted = counting == "all" or watcher == 0 or (watcher == 1 and member == 0)
        viewer = CountingViewer(peer) if counted else SilentViewer(peer)
        peer.addTransceiver("video", direction="recvonly")
        peer.addTransceiver("audio", direction="recvonly")
        await negotiate(peer, f"{base}/watch/{room}/m{member}", {})
        await connected(peer)
        if isinstance(viewer, CountingViewer):
            viewers.append(viewer)
            viewer.take_over(payload_kinds(peer.remoteDescription.sdp))
        else:
            silent.append(viewer)
            viewer.take_over()

    def snapshot() -> dict[str, Any]:
        counts = Counts()
        for viewer in viewers:
            viewer.add_to(counts)
        received = sum(counts.packets.get(k, 0) for k in ("video", "audio"))
        expected = sum(counts.expected.get(k, 0) for k in ("video", "audio"))
        return {
            "receivers": len(viewers),
            "video_frames": [
                sum(s.frames for s in v.streams.values() if s.kind == "video") for v in viewers
            ],
            "audio_frames": counts.packets.get("audio", 0),
            "rtp_received": received,
            "rtp_lost": max(expected - received, 0),
        }

    started = time.monotonic()
    await asyncio.gather(*(publish(m) for m in range(MEMBERS)))
    await asyncio.gather(
        *(
            watch(other, member)
            for member in range(MEMBERS)
            for other in range(MEMBERS)
            if other != member
        )
    )
    wanted = len(viewers)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        seeing = [n for n in snapshot()["video_frames"] if n]
        if len(seeing) == wanted:
            break
        await asyncio.sleep(0.1)
    ready = {"ready": True, "setup_s": round(time.monotonic() - started, 2), "seeing": len(seeing)}
    print(json.dumps(ready), flush=True)

    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while (await reader.readline()).strip() == b"snap":
        print(json.dumps(snapshot()), flush=True)
    await asyncio.gather(
        *(p.close() for p in publishers), *(v.peer.close() for v in viewers),
        *(v.peer.close() for v in silent),
        return_exceptions=True,
    )  # fmt: skip


# -- driver -------------------------------------------------------------------------------------


class Rooms:
    """The room workers of one run, and their counters."""

    def __init__(self, counting: str) -> None:
        self.workers: list[asyncio.subprocess.Process] = []
        self.counting = counting

    async def add(self, base: str, room: str, clip: Path) -> dict[str, Any]:
        worker = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--room", base, "--room-id", room, "--clip", str(clip),
            "--counting", self.counting,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        self.workers.append(worker)
        assert worker.stdout is not None
        ready: dict[str, Any] = json.loads(await asyncio.wait_for(worker.stdout.readline(), 120))
        return ready

    async def snapshot(self) -> dict[str, Any]:
        """Counters summed over the rooms; ``video_frames`` per receiver, in a stable order."""

        async def one(worker: asyncio.subprocess.Process) -> dict[str, Any]:
            assert worker.stdin is not None
            assert worker.stdout is not None
            worker.stdin.write(b"snap\n")
            await worker.stdin.drain()
            report: dict[str, Any] = json.loads(
                await asyncio.wait_for(worker.stdout.readline(), 60)
            )
            return report

        total: dict[str, Any] = {"video_frames": []}
        for report in await asyncio.gather(*(one(w) for w in self.workers)):
            for key, value in report.items():
                total[key] = total.get(key, 0) + value
        return total

    def cpu_seconds(self) -> float:
        return sum(cpu_seconds(w.pid) for w in self.workers)

    async def close(self) -> None:
        await stop_processes(self.workers, b"stop")


async def measure(server: int, rooms: Rooms, window: float) -> dict[str, float]:
    """CPU over ``window`` seconds, in % of one core: the server process, the room workers,
    and the whole box (both cores: 200 %)."""
    server_start, box_start = cpu_seconds(server), box_busy_seconds()
    clients_start = rooms.cpu_seconds()
    started = time.monotonic()
    await asyncio.sleep(window)
    elapsed = time.monotonic() - started
    cpu = {
        "server": (cpu_seconds(server) - server_start) / elapsed * 100,
        "box": (box_busy_seconds() - box_start) / elapsed * 100,
        "clients": (rooms.cpu_seconds() - clients_start) / elapsed * 100,
        "elapsed": elapsed,
    }
    cpu["rest"] = cpu["box"] - cpu["server"] - cpu["clients"]
    return cpu


def saturation(row: dict[str, Any]) -> str | None:
    """Why a level counts as saturated, if it does."""
    if row["video_fps_per_receiver"] < 0.9 * FPS or row["video_fps_min_receiver"] < 0.8 * FPS:
        return "video frames delivered below 90 % of the publishers' rate (or 80 % for one)"
    if row["rtp_loss_percent"] > 1:
        return "RTP loss above 1 %"
    if row["box_cpu_percent"] >= SATURATED_BOX_PERCENT and not row["disturbed"]:
        return f"box CPU at or above {SATURATED_BOX_PERCENT:.0f} % of 200 %"
    return None


async def run_level(
    server: int, rooms: Rooms, level: int, setup: list[float], window: float
) -> dict[str, Any]:
    """Measure a level; again (up to twice, after a pause) while the rest of the box used
    more than :data:`DISTURBED_PERCENT`: the box is shared, and tests or browsers run by
    others would skew it."""
    for attempt in range(1, 4):
        row = await measure_level(server, rooms, level, setup, window)
        row["attempts"] = attempt
        row["disturbed"] = row["rest_cpu_percent"] > DISTURBED_PERCENT
        if not row["disturbed"]:
            break
        print(f"  disturbed: the rest of the box used {row['rest_cpu_percent']} %", file=sys.stderr)
        await asyncio.sleep(10)
    row["saturated"] = saturation(row)
    return row


async def measure_level(
    server: int, rooms: Rooms, level: int, setup: list[float], window: float
) -> dict[str, Any]:
    before = await rooms.snapshot()
    cpu = await measure(server, rooms, window)
    after = await rooms.snapshot()
    receivers = after["receivers"]
    elapsed = cpu["elapsed"]
    video = [
        (now - then) / elapsed
        for now, then in zip(after["video_frames"], before["video_frames"], strict=False)
    ]
    video += [0.0] * (receivers - len(video))  # receivers that never saw a video packet
    received = after["rtp_received"] - before["rtp_received"]
    lost = after["rtp_lost"] - before["rtp_lost"]
    streams = level * MEMBERS * (MEMBERS - 1)
    video_fps = sum(video) / receivers
    row: dict[str, Any] = {
        "rooms": level,
        "streams": streams,
        "server_cpu_percent": round(cpu["server"], 1),
        "clients_cpu_percent": round(cpu["clients"], 1),
        "box_cpu_percent": round(cpu["box"], 1),
        "rest_cpu_percent": round(cpu["rest"], 1),
        "receivers": receivers,
        "video_fps_per_receiver": round(video_fps, 1),
        "video_fps_min_receiver": round(min(video, default=0.0), 1),
        "audio_fps_per_receiver": round(
            (after["audio_frames"] - before["audio_frames"]) / receivers / elapsed, 1
        ),
        "rtp_loss_percent": round(100 * lost / max(received + lost, 1), 2),
        "server_cpu_ms_per_video_frame": round(cpu["server"] * 10 / (video_fps * streams), 3)
        if video_fps
        else None,
        "setup_s_per_room": round(max(setup), 1),
    }
    return row


async def run_mode(
    mode: str, clip: Path, levels: list[int], args: argparse.Namespace
) -> dict[str, Any]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--serve", mode, "--port", str(port)
    )
    rooms = Rooms(args.counting)
    rows: list[dict[str, Any]] = []
    try:
        await wait_listening(port)
        await asyncio.sleep(args.settle)
        idle = await measure(server.pid, rooms, args.window)
        print(
            f"{mode}: idle, server CPU {idle['server']:.1f} %, box {idle['box']:.1f} %",
            file=sys.stderr,
        )
        have = 0
        for level in levels:
            setup = [
                (await rooms.add(base, f"r{room}", clip))["setup_s"] for room in range(have, level)
            ]
            have = level
            await asyncio.sleep(args.settle)
            row = await run_level(server.pid, rooms, level, setup, args.window)
            rows.append(row)
            print(f"{mode}: {json.dumps(row)}", file=sys.stderr)
            if row["saturated"]:
                break
    finally:
        await rooms.close()
        server.terminate()
        await server.wait()
    held = [r for r in rows if not r["saturated"]]
    basis = held[-1] if held else rows[-1]
    per_stream = (basis["server_cpu_percent"] - idle["server"]) / basis["streams"]
    return {
        "idle_server_cpu_percent": round(idle["server"], 1),
        "idle_box_cpu_percent": round(idle["box"], 1),
        "levels": rows,
        "marginal_cpu_percent_per_stream": round(per_stream, 3),
        "marginal_basis_rooms": basis["rooms"],
        "marginal_basis_saturated": bool(basis["saturated"]),
        "marginal_cpu_percent_per_full_rate_stream": round(
            per_stream * FPS / basis["video_fps_per_receiver"], 3
        )
        if basis["video_fps_per_receiver"]
        else None,
        "saturated_at_rooms": rows[-1]["rooms"] if rows[-1]["saturated"] else None,
    }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    width, height = (int(v) for v in args.size.split("x"))
    clip = await asyncio.to_thread(encode_clip, CLIP_SECONDS, width, height, args.bitrate)
    video_bits = sum(len(data) for data, _ in clip["video"]) * 8 / CLIP_SECONDS
    audio_bits = sum(len(data) for data in clip["audio"]) * 8 / CLIP_SECONDS
    results: dict[str, Any] = {
        "stream": f"{width}x{height} VP8 {FPS} fps {video_bits / 1e6:.2f} Mbit/s"
        f" + Opus {audio_bits / 1e3:.0f} kbit/s",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "window_s": args.window,
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.bin"
        await asyncio.to_thread(write_clip, clip, path)
        for mode, levels in (("ours", args.rooms), ("stock", args.stock_rooms)):
            if mode in args.modes and levels:
                results[mode] = await run_mode(mode, path, levels, args)
    if "ours" in results and "stock" in results:
        ours, stock = results["ours"], results["stock"]
        for key in ("marginal_cpu_percent_per_stream", "marginal_cpu_percent_per_full_rate_stream"):
            name = key.removeprefix("marginal_cpu_percent_")
            results[f"stock_vs_ours_{name}"] = ratio(stock[key], ours[key])
        same = {r["rooms"]: r for r in ours["levels"]}
        results["stock_vs_ours_same_rooms"] = {
            str(r["rooms"]): {
                key: ratio(r[key], same[r["rooms"]][key])
                for key in ("server_cpu_percent", "server_cpu_ms_per_video_frame")
            }
            for r in stock["levels"]
            if r["rooms"] in same
        }
    return results


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, 1)


def levels(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rooms", type=levels, default=[1, 2, 3, 4, 6])
    parser.add_argument("--stock-rooms", type=levels, default=[1, 2, 4, 6])
    parser.add_argument("--window", type=float, default=15.0)
    parser.add_argument("--settle", type=float, default=3.0)
    parser.add_argument("--size", default=f"{synthetic.WIDTH}x{synthetic.HEIGHT}")
    parser.add_argument("--bitrate", type=int, default=synthetic.VIDEO_BITRATE)
    parser.add_argument("--modes", type=lambda t: t.split(","), default=["ours", "stock"])
    parser.add_argument("--serve", choices=["ours", "stock"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--room", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--room-id", help=argparse.SUPPRESS)
    parser.add_argument(
        "--counting",
        choices=["sample", "all"],
        default="sample",
        help="sample: six receivers a room count packets (one of each publication, all of one"
        " member's), the others drop media in the kernel; all: every receiver counts",
    )
    parser.add_argument("--clip", type=Path, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.serve:
        serve(arguments.serve, arguments.port)
    elif arguments.room:
        asyncio.run(
            room_worker(arguments.room, arguments.room_id, arguments.clip, arguments.counting)
        )
    else:
        print(json.dumps(asyncio.run(main(arguments)), indent=2))
