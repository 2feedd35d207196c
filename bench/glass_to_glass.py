"""Glass-to-glass latency of a live panel: WebRTC and LL-HLS, read in Chromium (issue 11).

A publisher burns the wall clock into every frame it sends over WHIP (48 black or white
blocks: 42 bits of milliseconds since the epoch and a 6-bit check), as a camera pointed
at a clock would show it. The session page plays the panel in Chromium, once over WebRTC
(its default) and once over LL-HLS (``?player=hls``: hls.js in low-latency mode), straight
from Plenaria and through nginx as a cache (the README's configuration). For each frame the
page presents (``requestVideoFrameCallback``) it reads the blocks back from a canvas and
takes ``Date.now()`` minus the burnt-in time: everything from capture to the screen, with
the encoder, the network, packaging, the player's buffer and decoding included. Publisher,
server and browser share this machine's clock.

    .venv/bin/python bench/glass_to_glass.py [--samples 150]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import av
from aiortc import RTCPeerConnection, VideoStreamTrack

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.fanout import (  # noqa: E402
    CODE,
    NO_ICE,
    SECRET,
    connected,
    negotiate,
    speaker_headers,
    wait_listening,
)
from bench.hls_cache import first_segment, start_nginx, stop  # noqa: E402
from server.backends import open_store  # noqa: E402
from sessions.demo import demo_programme  # noqa: E402
from tests.e2e.conftest import CHROMIUM, CHROMIUM_FLAGS, page_until  # noqa: E402
from tests.processes import free_port  # noqa: E402

WIDTH, HEIGHT, FPS = 320, 240, 30
COLUMNS, ROWS = 8, 6
BLOCK_W, BLOCK_H = WIDTH // COLUMNS, HEIGHT // ROWS
TIME_BITS, CHECK_BITS = 42, 6

READ_CLOCK = """
async ({count, timeoutMs, width, height, columns, rows, timeBits}) => {
  const video = document.querySelector("[data-player-video]");
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext("2d", { willReadFrequently: true });
  const blockW = width / columns, blockH = height / rows;
  const samples = [];
  const started = performance.now();
  return await new Promise((resolve) => {
    const read = () => {
      context.drawImage(video, 0, 0, width, height);
      const pixels = context.getImageData(0, 0, width, height).data;
      let stamp = 0n, check = 0n, ones = 0n;
      for (let bit = 0; bit < columns * rows; bit++) {
        const x = (bit % columns) * blockW + blockW / 2;
        const y = Math.floor(bit / columns) * blockH + blockH / 2;
        const on = pixels[(y * width + x) * 4] > 128 ? 1n : 0n;
        if (bit < timeBits) { stamp |= on << BigInt(bit); ones += on; }
        else check |= on << BigInt(bit - timeBits);
      }
      if (ones % 64n === check) samples.push(Date.now() - Number(stamp));
      if (samples.length >= count || performance.now() - started > timeoutMs) resolve(samples);
      else video.requestVideoFrameCallback(read);
    };
    video.requestVideoFrameCallback(read);
  });
}
"""


def clock_frame(milliseconds: int) -> av.VideoFrame:
    bits = [(milliseconds >> bit) & 1 for bit in range(TIME_BITS)]
    check = sum(bits) % 64
    bits += [(check >> bit) & 1 for bit in range(CHECK_BITS)]
    rows = []
    for row in range(ROWS):
        line = b"".join(
            (b"\xeb" if bits[row * COLUMNS + column] else b"\x10") * BLOCK_W
            for column in range(COLUMNS)
        )
        rows.append(line * BLOCK_H)
    frame = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
    frame.planes[0].update(b"".join(rows))
    frame.planes[1].update(b"\x80" * (WIDTH * HEIGHT // 4))
    frame.planes[2].update(b"\x80" * (WIDTH * HEIGHT // 4))
    return frame


class ClockTrack(VideoStreamTrack):
    """A camera filming a clock: each frame shows the time it was captured."""

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = clock_frame(int(time.time() * 1000))
        frame.pts = pts
        frame.time_base = time_base
        return frame


async def read_latencies(page: Any, url: str, samples: int) -> list[int]:
    await page.goto(url)
    await page_until(page, "document.querySelector('[data-player-video]')?.readyState >= 2", 60)
    await asyncio.sleep(5)  # the player settles at its live edge
    geometry = {"width": WIDTH, "height": HEIGHT, "columns": COLUMNS, "rows": ROWS}
    result: list[int] = await page.evaluate(
        READ_CLOCK, {"count": samples, "timeoutMs": 60_000, "timeBits": TIME_BITS, **geometry}
    )
    return result


def summary(latencies: list[int]) -> dict[str, Any]:
    if not latencies:
        return {"samples": 0}
    ordered = sorted(latencies)
    return {
        "samples": len(ordered),
        "p50_ms": statistics.median(ordered),
        "p90_ms": ordered[int(0.9 * (len(ordered) - 1))],
        "min_ms": ordered[0],
        "max_ms": ordered[-1],
    }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    with tempfile.TemporaryDirectory(prefix="g2g-bench-") as tmp:
        folder = Path(tmp)
        port = free_port()
        store = await open_store(f"sqlite:///{folder / 'plenaria.db'}")
        now = dt.datetime.now(dt.UTC)
        await store.replace_programme(demo_programme(now), now)
        await store.close()
        plenaria = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).with_name("plenaria")), "serve", "--media-workers", "0",
        "--data", str(folder),
            "--port", str(port), "--log-level", "WARNING",
            env={**os.environ, "PLENARIA_SECRET_KEY": SECRET},
        )  # fmt: skip
        nginx, cache_port = await start_nginx(folder / "nginx", port)
        publisher = RTCPeerConnection(NO_ICE)
        try:
            await wait_listening(port)
            direct, cached = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{cache_port}"
            publisher.addTrack(ClockTrack())
            await negotiate(publisher, f"{direct}/whip/{CODE}", speaker_headers())
            await connected(publisher)
            await first_segment(direct)
            results: dict[str, Any] = {}
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True
                )
                for name, url in (
                    ("webrtc", f"{direct}/sessions/{CODE}"),
                    ("ll-hls", f"{direct}/sessions/{CODE}?player=hls"),
                    ("ll-hls via nginx", f"{cached}/sessions/{CODE}?player=hls"),
                ):
                    page = await (await browser.new_context()).new_page()
                    latencies = await read_latencies(page, url, args.samples)
                    results[name] = summary(latencies)
                    print(json.dumps({name: results[name]}), flush=True)
                    await page.context.close()
                await browser.close()
            return {
                "machine": f"{platform.node()} {os.cpu_count()} cores {platform.machine()}",
                "date": dt.datetime.now(dt.UTC).isoformat(timespec="minutes"),
                "video": f"{WIDTH}x{HEIGHT} at {FPS} frames/s, VP8 from aiortc",
                "results": results,
            }
        finally:
            await publisher.close()
            await stop(nginx, plenaria)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=150)
    result = asyncio.run(main(parser.parse_args()))
    print(json.dumps(result, indent=2))
