"""Interpretation booths through the media engine, with real aiortc peers: a listener of a
language channel hears the interpreter on air, a hand-over moves them to the other one with
no new connection and no break in their stream, and the booth carries audio only."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiortc import AudioStreamTrack, RTCPeerConnection, RTCSessionDescription, VideoStreamTrack
from aiortc.mediastreams import MediaStreamTrack

from server.media.booths import Booths
from server.media.engine import MediaEngine
from server.media.errors import MediaError
from server.media.stream_key import StreamKey
from tests.integration.test_media_relay import NO_ICE_SERVERS, NOW, receive

OPUS_RATE = 48_000


@pytest.fixture
async def booths() -> AsyncIterator[Booths]:
    engine = MediaEngine()
    yield Booths(engine)
    await engine.close()


async def interpret(
    booths: Booths, peers: list[RTCPeerConnection], who: str, *tracks: MediaStreamTrack
) -> None:
    publisher = RTCPeerConnection(NO_ICE_SERVERS)
    peers.append(publisher)
    for track in tracks or (AudioStreamTrack(),):
        publisher.addTransceiver(track, direction="sendonly")
    await publisher.setLocalDescription(await publisher.createOffer())
    _, answer = await booths.publish("panel", "fr", who, publisher.localDescription.sdp, NOW)
    await publisher.setRemoteDescription(RTCSessionDescription(answer, "answer"))


async def listen(booths: Booths, peers: list[RTCPeerConnection]) -> MediaStreamTrack:
    listener = RTCPeerConnection(NO_ICE_SERVERS)
    peers.append(listener)
    arrived: list[MediaStreamTrack] = []
    listener.on("track", arrived.append)
    listener.addTransceiver("audio", direction="recvonly")
    await listener.setLocalDescription(await listener.createOffer())
    _, answer = await booths.watch("panel", "fr", listener.localDescription.sdp)
    await listener.setRemoteDescription(RTCSessionDescription(answer, "answer"))
    [track] = arrived
    return track


def subscribers_of(booths: Booths, who: str) -> int:
    publication = booths.engine.live(StreamKey.booth("panel", "fr", who))
    assert publication is not None
    return publication.streams["audio"].subscribers


async def until(condition: Any, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not in time"
        await asyncio.sleep(0.02)


async def test_a_hand_over_moves_the_listeners_without_a_break(
    booths: Booths, peers: list[RTCPeerConnection]
) -> None:
    await interpret(booths, peers, "anne")
    await interpret(booths, peers, "bruno")
    assert booths.interpreters("panel", "fr") == ["anne", "bruno"]
    assert booths.on_air("panel", "fr") == "anne"  # the first in the booth
    track = await listen(booths, peers)
    before = [await receive(track) for _ in range(25)]
    assert (subscribers_of(booths, "anne"), subscribers_of(booths, "bruno")) == (1, 0)

    booths.take_over("panel", "fr", "bruno")
    assert booths.on_air("panel", "fr") == "bruno"
    await until(lambda: subscribers_of(booths, "bruno") == 1)
    assert subscribers_of(booths, "anne") == 0
    after = [await receive(track) for _ in range(25)]
    stamps = [packet.pts for packet in before + after]
    steps = [later - earlier for earlier, later in itertools.pairwise(stamps)]
    assert all(0 < step <= OPUS_RATE // 4 for step in steps), steps  # on, no jump back

    # Bruno leaves: Anne, still in the booth, is on air again by herself.
    bruno = booths.engine.live(StreamKey.booth("panel", "fr", "bruno"))
    assert bruno is not None
    await booths.engine.unpublish(bruno)
    assert booths.on_air("panel", "fr") == "anne"
    await until(lambda: subscribers_of(booths, "anne") == 1)
    assert [await receive(track) for _ in range(5)]
    assert booths.engine.viewer_count(StreamKey.channel("panel", "fr")) == 1


async def test_a_booth_carries_audio_only_and_an_empty_channel_is_offline(
    booths: Booths, peers: list[RTCPeerConnection]
) -> None:
    with pytest.raises(MediaError) as offline:
        await listen(booths, peers)
    assert offline.value.code == "media.offline"
    with pytest.raises(MediaError) as video:
        await interpret(booths, peers, "anne", AudioStreamTrack(), VideoStreamTrack())
    assert video.value.code == "media.audio_only"
    assert booths.interpreters("panel", "fr") == []
    with pytest.raises(MediaError) as absent:
        booths.take_over("panel", "fr", "anne")
    assert absent.value.code == "media.not_in_booth"
