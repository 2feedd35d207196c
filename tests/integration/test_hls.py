"""LL-HLS of a live panel: the playlist parses, ffprobe reads what it lists, blocking
reloads and hinted parts are held until they exist, caches are told what they may keep,
and bad requests get clear errors."""

from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path
from typing import Any

import m3u8
from aiohttp import web
from aiohttp.test_utils import TestClient
from aiortc import RTCPeerConnection

from server.keys import HLS, MEDIA
from server.media.hls.routes import BLOCKING_PLAYLIST_CACHE, LIVE_PLAYLIST_CACHE, MEDIA_CACHE
from server.media.stream_key import StreamKey
from server.media.synthetic import start_synthetic_panel
from tests.integration.conftest import NOW
from tests.integration.test_whip_whep import publish_h264

Client = TestClient[web.Request, web.Application]
PLAYLIST = "/hls/panel/index.m3u8"


async def live_playlist(client: Client, query: str = "") -> tuple[Any, str]:
    response = await client.get(PLAYLIST + query)
    text = await response.text()
    assert response.status == 200, text
    assert response.content_type == "application/vnd.apple.mpegurl"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    return m3u8.loads(text), response.headers["Cache-Control"]


async def fetch(client: Client, uri: str) -> bytes:
    response = await client.get(f"/hls/panel/{uri}")
    assert response.status == 200, await response.text()
    assert response.headers["Cache-Control"] == MEDIA_CACHE
    assert response.content_type == "video/mp4"
    return await response.read()


def probe(path: Path) -> dict[str, tuple[str, int]]:
    """Codec and decoded frame count of each stream ffprobe finds in ``path``."""
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-show_entries",
         "stream=codec_type,codec_name,nb_read_frames", "-of", "csv=p=0", str(path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert result.stderr == "", result.stderr
    streams = {}
    for line in result.stdout.split():
        codec, kind, frames = line.split(",")
        streams[kind] = (codec, int(frames))
    return streams


async def test_a_vp8_panel_is_served_as_ll_hls(client: Client, tmp_path: Path) -> None:
    start_synthetic_panel(client.app[MEDIA], "panel", NOW)  # VP8 + Opus, as browsers send
    playlist, cache = await live_playlist(client)
    assert cache == LIVE_PLAYLIST_CACHE
    assert playlist.target_duration == 4
    assert playlist.server_control.can_block_reload == "YES"
    assert playlist.part_inf.part_target < 0.34
    assert playlist.segments, "the first answer waits for a complete segment"
    first = playlist.segments[0]
    assert 1.9 < first.duration < 2.1
    assert first.program_date_time is not None

    init = await fetch(client, playlist.segment_map[0].uri)
    segment = tmp_path / "segment.mp4"
    segment.write_bytes(init + await fetch(client, first.uri))
    streams = probe(segment)
    assert streams["video"] == ("h264", 50)  # 2 s at 25 frames/s, transcoded from VP8
    assert streams["audio"][0] == "aac"
    # About 2 s of 1024-sample frames: segments are cut on video keyframes, and audio that
    # arrives behind the video on a loaded machine goes into the next segment.
    assert 80 <= streams["audio"][1] <= 100

    # the next part, before it exists: a blocking reload waits for it
    last = playlist.segments[-1]
    msn = playlist.media_sequence + len(playlist.segments) - 1
    wanted = (msn, len(last.parts)) if last.parts else (msn + 1, 0)
    started = time.monotonic()
    later, cache = await live_playlist(client, f"?_HLS_msn={wanted[0]}&_HLS_part={wanted[1]}")
    assert cache == BLOCKING_PLAYLIST_CACHE
    assert time.monotonic() - started < 3
    parts = [p.uri for s in later.segments for p in s.parts]
    run = playlist.segment_map[0].uri.split("/")[0]
    assert f"{run}/{wanted[0]}.{wanted[1]}.m4s" in parts

    # a hinted part is held until it exists, then served
    hint = later.preload_hint.uri
    independent = next(
        p for s in reversed(later.segments) for p in s.parts if p.independent == "YES"
    )
    part = tmp_path / "part.mp4"
    part.write_bytes(init + await fetch(client, independent.uri))
    assert probe(part)["video"][0] == "h264"
    assert probe(part)["video"][1] >= 7  # a third of a second
    assert len(await fetch(client, hint)) > 0

    key = StreamKey.panel("panel")
    assert client.app[HLS].channels[key].video_mode == "vp8"
    await client.app[MEDIA].unpublish(client.app[MEDIA].publications[key])
    gone = await client.get(PLAYLIST)
    assert gone.status == 404
    assert (await gone.json())["error"]["code"] == "media.offline"


async def test_an_h264_publication_is_remuxed_not_transcoded(
    client: Client, peers: list[RTCPeerConnection]
) -> None:
    await publish_h264(client, peers)
    playlist, _ = await live_playlist(client)
    assert playlist.segments
    channel = client.app[HLS].channels[StreamKey.panel("panel")]
    assert channel.video_mode == "h264"
    assert channel.playlist.codecs.startswith("avc1.")


async def test_hls_requests_are_checked(client: Client) -> None:
    offline = await client.get(PLAYLIST)
    assert offline.status == 404
    assert offline.headers["Cache-Control"] == "public, max-age=1"
    assert "Retry-After" in offline.headers
    assert (await client.get("/hls/nosuch/index.m3u8")).status == 404
    start_synthetic_panel(client.app[MEDIA], "panel", NOW)
    playlist, _ = await live_playlist(client)
    run = playlist.segment_map[0].uri.split("/")[0]
    for query, code in [
        ("?_HLS_msn=abc", "hls.bad_request"),
        ("?_HLS_msn=-1", "hls.bad_request"),
        ("?_HLS_part=1", "hls.bad_request"),
        ("?_HLS_msn=99999999999", "hls.bad_request"),
        ("?_HLS_msn=500&_HLS_part=0", "hls.too_far_ahead"),
    ]:
        response = await client.get(PLAYLIST + query)
        assert response.status == 400, query
        assert (await response.json())["error"]["code"] == code
    for path in [f"{run}/999.m4s", f"{run}/0.99.m4s", "0badc0de/0.m4s", f"{run}/init-7.mp4"]:
        response = await client.get(f"/hls/panel/{path}")
        assert response.status == 404, path
        assert (await response.json())["error"]["code"] == "hls.gone"
    assert (await client.get(f"/hls/panel/{run}/../../index.m3u8")).status == 404
    await asyncio.gather(*(client.get(PLAYLIST) for _ in range(5)))
    assert len(client.app[HLS].channels) == 1, "one packaging, however many ask"
