"""The archive keeps the languages (issue 14, point 2): a recording holds the floor and each
interpretation channel as audio tracks of their own, tagged with their languages, and the
channel's track follows the booth on air across a hand-over."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from aiortc import AudioStreamTrack, RTCPeerConnection, RTCSessionDescription

from recordings.recorder import Recorder
from recordings.storage import LocalStorage
from server.media.booths import Booths, ChannelBroadcast
from server.media.engine import MediaEngine
from tests.integration.test_media_relay import NO_ICE_SERVERS, NOW
from tests.integration.test_recorder import (
    FFPROBE,
    aiortc_publication,
    close_broadcasts,
    ffmpeg_decodes,
    tool,
    until,
)


async def interpret(booths: Booths, peers: list[RTCPeerConnection], who: str) -> None:
    publisher = RTCPeerConnection(NO_ICE_SERVERS)
    peers.append(publisher)
    publisher.addTransceiver(AudioStreamTrack(), direction="sendonly")
    await publisher.setLocalDescription(await publisher.createOffer())
    _, answer = await booths.publish("panel", "fr", who, publisher.localDescription.sdp, NOW)
    await publisher.setRemoteDescription(RTCSessionDescription(answer, "answer"))


def audio_tracks(path: Path) -> list[tuple[str, str, int]]:
    """Each audio stream's codec, language tag and packet count, as ffprobe reads them."""
    result = subprocess.run(
        [tool(FFPROBE), "-v", "error", "-count_packets", "-select_streams", "a",
         "-show_entries", "stream=codec_name,nb_read_packets:stream_tags=language",
         "-of", "json", str(path)],
        capture_output=True, text=True, check=True, timeout=30,
    )  # fmt: skip
    return [
        (s["codec_name"], s.get("tags", {}).get("language", ""), int(s.get("nb_read_packets", 0)))
        for s in json.loads(result.stdout)["streams"]
    ]


def packet_times(path: Path, stream: int) -> list[float]:
    result = subprocess.run(
        [tool(FFPROBE), "-v", "error", "-select_streams", str(stream),
         "-show_entries", "packet=pts_time", "-of", "csv=p=0", str(path)],
        capture_output=True, text=True, check=True, timeout=30,
    )  # fmt: skip
    return [float(line) for line in result.stdout.split() if line]


async def test_each_channel_is_a_language_tagged_track_that_follows_the_booth(
    peers: list[RTCPeerConnection], tmp_path: Path
) -> None:
    engine = MediaEngine()
    booths = Booths(engine)
    publication = await aiortc_publication(peers, "video/VP8")
    await interpret(booths, peers, "anne")
    await interpret(booths, peers, "bruno")
    storage = LocalStorage(tmp_path)
    recorder = Recorder(
        publication.broadcasts,
        publication.codecs,
        storage,
        "panel-languages",
        channels={
            "fr": ChannelBroadcast(engine, "panel", "fr"),
            "de": ChannelBroadcast(engine, "panel", "de"),  # declared, nobody in the booth
        },
        floor_language="en",
    )
    assert recorder.languages == {"audio": "en", "audio:fr": "fr", "audio:de": "de"}
    try:
        recorder.start()
        await until(lambda: recorder.state.duration_seconds >= 1.5, "1.5 s recorded")
        booths.take_over("panel", "fr", "bruno")  # mid-recording
        await until(lambda: recorder.state.duration_seconds >= 3.0, "3 s recorded")
        final = await recorder.stop()
    finally:
        await close_broadcasts(publication)
        await engine.close()
    assert final.status == "finished", final.error
    path = storage.local_path(final.key)
    tracks = audio_tracks(path)
    assert [(codec, language) for codec, language, _ in tracks] == [
        ("opus", "en"),
        ("opus", "fr"),
        ("opus", "de"),
    ]
    floor, french, german = (packets for _, _, packets in tracks)
    assert floor > 100 and french > 100, tracks  # 20 ms packets: over 2 s of each
    assert abs(floor - french) < 60, "the channel kept running through the hand-over"
    assert german == 0
    assert ffmpeg_decodes(path).returncode == 0
    floor_times, french_times = packet_times(path, 1), packet_times(path, 2)
    assert french_times == sorted(french_times)
    # Across the hand-over the channel's clock runs on with the floor's, not bunched up.
    assert abs(french_times[-1] - floor_times[-1]) < 0.5, (french_times[-1], floor_times[-1])
