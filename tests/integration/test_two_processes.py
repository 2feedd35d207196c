"""Two `plenaria serve` processes on one Redis serve one conference."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import av
import m3u8
from aiortc import (
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
    VideoStreamTrack,
)
from aiortc.mediastreams import MediaStreamTrack
from prometheus_client.parser import text_string_to_metric_families

from tests.processes import bearer, free_port, plenaria, server_process, serving

CODE = "G9JGWY"


async def democon_on_redis(schedules_dir: Path, tmp_path: Path, redis_server_url: str) -> str:
    """A Redis URL (with a prefix of its own) holding the democon programme."""
    redis = f"{redis_server_url}/0?prefix=two-{uuid.uuid4().hex}:"
    source = str(schedules_dir / "pretalx-democon.json")
    assert await plenaria("programme", "import", source, "--store", redis,
                          "--data", str(tmp_path)) == 0  # fmt: skip
    return redis


async def test_a_question_asked_on_one_reaches_the_other_moderator_console(
    schedules_dir: Path, tmp_path: Path, redis_server_url: str
) -> None:
    redis = await democon_on_redis(schedules_dir, tmp_path, redis_server_url)
    moderator = bearer("Mo", moderates=CODE)
    async with (
        serving(tmp_path / "a", free_port(), "--redis", redis) as first,
        serving(tmp_path / "b", free_port(), "--redis", redis) as second,
        aiohttp.ClientSession() as http,
        http.ws_connect(f"{second}/ws", headers=moderator) as console,
    ):
        await console.send_json(["subscribe", 1, {"topic": f"session:{CODE}:moderation"}])
        assert (await console.receive_json(timeout=5))[0] == "ok"
        asked = time.monotonic()
        async with http.post(
            f"{first}/api/sessions/{CODE}/questions",
            json={"text": "Across processes?"},
            headers=bearer("Ann"),
        ) as response:
            assert response.status == 201
            question_id = (await response.json())["question"]["id"]
        event = await console.receive_json(timeout=1)
        arrived = time.monotonic() - asked
        assert event[0] == "event"
        assert event[2]["changes"][0]["question"]["id"] == question_id
        assert arrived < 1

        async with http.post(
            f"{second}/api/questions/{question_id}/moderation",
            json={"action": "approve"},
            headers=moderator,
        ) as response:
            assert response.status == 200
        async with http.get(
            f"{first}/api/sessions/{CODE}/questions", headers=bearer("Bob")
        ) as response:
            assert [q["id"] for q in (await response.json())["questions"]] == [question_id]


async def test_break_out_rooms_timers_and_assignments_are_shared(
    schedules_dir: Path, tmp_path: Path, redis_server_url: str
) -> None:
    redis = await democon_on_redis(schedules_dir, tmp_path, redis_server_url)
    moderator = bearer("Mo", moderates=CODE)
    rooms = f"/api/sessions/{CODE}/breakouts"
    async with (
        serving(tmp_path / "a", free_port(), "--redis", redis) as first,
        serving(tmp_path / "b", free_port(), "--redis", redis) as second,
        aiohttp.ClientSession() as http,
        http.ws_connect(f"{second}/ws", headers=bearer("Ann")) as ann_socket,
    ):
        await ann_socket.send_json(["subscribe", 1, {"topic": f"session:{CODE}:breakouts"}])
        assert (await ann_socket.receive_json(timeout=5))[0] == "ok"

        async def post(base: str, action: str, who: dict[str, str], **body: object) -> None:
            async with http.post(f"{base}{rooms}/{action}", json=body, headers=who) as response:
                assert response.status == 200, await response.text()

        plan = [{"name": "North"}, {"name": "South", "capacity": 2}]
        await post(first, "plan", moderator, rooms=plan)
        await post(second, "join", bearer("Ann"))
        await post(first, "join", bearer("Bob"))
        await post(second, "join", bearer("Cyd"))
        await post(first, "assign", moderator, seed=3)
        await post(second, "open", moderator, minutes=15)

        async def state(base: str) -> dict[str, object]:
            async with http.get(f"{base}{rooms}", headers=bearer("Ann")) as response:
                assert response.status == 200
                body: dict[str, object] = await response.json()
                return body

        seen_first, seen_second = await state(first), await state(second)
        for seen in (seen_first, seen_second):
            seen.pop("you")
        assert seen_first == seen_second
        assert seen_first["phase"] == "open"
        assert seen_first["ends_at"] is not None
        assigned = [m for room in seen_first["rooms"] for m in room["members"]]  # type: ignore[attr-defined]
        assert sorted(m["name"] for m in assigned) == ["Ann", "Bob", "Cyd"]

        # the socket on the second process hears what the first one changed
        await post(first, "extend", moderator, minutes=5)
        deadline = time.monotonic() + 5
        while True:
            frame = await ann_socket.receive_json(timeout=5)
            changes = frame[2]["changes"] if frame[0] == "event" else []
            latest = [c["breakouts"] for c in changes if c["type"] == "breakouts"]
            if latest and latest[-1]["ends_at"] != seen_first["ends_at"]:
                break
            assert time.monotonic() < deadline


SDP = {"Content-Type": "application/sdp"}
SPEAKER = bearer("Sam", moderates=CODE)


async def publish_panel(
    http: aiohttp.ClientSession, base: str, peers: list[RTCPeerConnection], code: str = CODE
) -> str:
    """Publish a test pattern to a session's panel over WHIP; the resource's path."""
    publisher = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    peers.append(publisher)
    publisher.addTrack(VideoStreamTrack())
    await publisher.setLocalDescription(await publisher.createOffer())
    async with http.post(
        f"{base}/whip/{code}",
        data=publisher.localDescription.sdp,
        headers={**SDP, **bearer("Sam", moderates=code)},
    ) as response:
        assert response.status == 201, await response.text()
        answer = await response.text()
        resource = response.headers["Location"]
    await publisher.setRemoteDescription(RTCSessionDescription(answer, "answer"))
    return resource


async def watch_panel(
    http: aiohttp.ClientSession, base: str, peers: list[RTCPeerConnection], code: str = CODE
) -> MediaStreamTrack:
    return await watch_at(http, f"{base}/whep/{code}", peers)


async def watch_at(
    http: aiohttp.ClientSession,
    url: str,
    peers: list[RTCPeerConnection],
    who: dict[str, str] | None = None,
) -> MediaStreamTrack:
    """The video track of a WHEP-style exchange at ``url``."""
    viewer = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    peers.append(viewer)
    viewer.addTransceiver("video", direction="recvonly")
    arrived: asyncio.Future[MediaStreamTrack] = asyncio.Future()
    viewer.on("track", arrived.set_result)
    await viewer.setLocalDescription(await viewer.createOffer())
    async with http.post(
        url, data=viewer.localDescription.sdp, headers={**SDP, **(who or {})}
    ) as response:
        assert response.status == 201, await response.text()
        answer = await response.text()
    await viewer.setRemoteDescription(RTCSessionDescription(answer, "answer"))
    return await asyncio.wait_for(arrived, 10)


async def frames(track: MediaStreamTrack, count: int) -> int:
    received = [await asyncio.wait_for(track.recv(), 10) for _ in range(count)]
    # frames, or encoded packets where a test elsewhere gave aiortc a passthrough decoder
    assert all(isinstance(frame, av.VideoFrame | av.Packet) for frame in received)
    return len(received)


async def stream_state(http: aiohttp.ClientSession, base: str, code: str = CODE) -> dict[str, Any]:
    async with http.get(f"{base}/api/sessions/{code}/stream") as response:
        assert response.status == 200
        state: dict[str, Any] = await response.json()
        return state


async def wait_for_state(
    http: aiohttp.ClientSession, base: str, wanted: str, within: float = 10
) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while (state := await stream_state(http, base))["state"] != wanted:
        assert time.monotonic() < deadline, f"{base} shows {state}, not {wanted}"
        await asyncio.sleep(0.1)
    return state


async def metric(http: aiohttp.ClientSession, base: str, name: str) -> float:
    """An unlabelled figure from ``base``'s /metrics."""
    async with http.get(f"{base}/metrics") as response:
        text = await response.text()
    return next(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    )


async def media_viewers(http: aiohttp.ClientSession, base: str) -> float:
    return await metric(http, base, "plenaria_media_viewers")


@asynccontextmanager
async def media_nodes(
    tmp_path: Path, redis: str, *names: str, capped: str = "a"
) -> AsyncIterator[dict[str, tuple[str, asyncio.subprocess.Process]]]:
    """Serve processes on ``redis`` named as media nodes, by name: (URL, process). Idle
    nodes tie, so a publication goes to the first name; ``capped`` takes one viewer before
    it places new ones elsewhere."""
    async with AsyncExitStack() as stack:
        nodes = {}
        for name in names:
            cap = ["--max-viewers", "1"] if name == capped else []
            nodes[name] = await stack.enter_async_context(
                server_process(
                    tmp_path / name, free_port(), "--redis", redis, "--node-id", name, *cap
                )
            )
        async with aiohttp.ClientSession() as http:
            for url, _ in nodes.values():
                await wait_for_nodes(http, url, len(names))
        yield nodes


def node_of(resource: str) -> str:
    return resource.rsplit("/", 1)[1].partition("-")[0]


async def test_viewers_beyond_the_origins_share_are_served_through_one_relay(
    schedules_dir: Path, tmp_path: Path, redis_server_url: str
) -> None:
    redis = await democon_on_redis(schedules_dir, tmp_path, redis_server_url)
    peers: list[RTCPeerConnection] = []
    async with media_nodes(tmp_path, redis, "a", "b") as nodes, aiohttp.ClientSession() as http:
        (origin, _), (edge, _) = nodes["a"], nodes["b"]
        try:
            resource = await publish_panel(http, edge, peers)  # placed on a
            assert node_of(resource) == "a"
            # the edge learns from the origin's heartbeat that the panel is live
            await wait_for_state(http, edge, "live", within=5)

            tracks = [await watch_panel(http, edge, peers) for _ in range(3)]
            assert [await frames(track, 10) for track in tracks] == [10, 10, 10]
            assert await media_viewers(http, origin) == 2, "its one viewer and one relay"
            assert await media_viewers(http, edge) == 2, "the others, through that relay"
            for base in (origin, edge):
                await wait_for_viewers(http, base, 3)

            # HLS through either node is packaged once, by the origin
            for base in (edge, origin):
                async with http.get(f"{base}/hls/{CODE}/index.m3u8") as response:
                    assert response.status == 200, await response.text()
                    assert response.headers["Cache-Control"] == "public, max-age=1"
                    playlist = m3u8.loads(await response.text())
                async with http.get(f"{base}/hls/{CODE}/{playlist.segments[0].uri}") as response:
                    assert response.status == 200
                    assert "immutable" in response.headers["Cache-Control"]
            assert await metric(http, origin, "plenaria_hls_channels") == 1
            assert await metric(http, edge, "plenaria_hls_channels") == 0

            # the speaker ends the panel through the edge: the relay ends with it
            async with http.delete(f"{edge}{resource}", headers=SPEAKER) as response:
                assert response.status == 200
            await wait_for_state(http, edge, "offline")
            assert await media_viewers(http, edge) == 0

            # the origin recorded the panel; the relay did not file a second recording
            moderator = bearer("Mo", moderates=CODE)
            async with http.get(
                f"{edge}/api/sessions/{CODE}/recordings", headers=moderator
            ) as response:
                recordings = (await response.json())["recordings"]
            assert len(recordings) == 1, recordings
        finally:
            await asyncio.gather(*(peer.close() for peer in peers))


async def test_when_the_origin_is_killed_its_relays_viewers_are_held_until_the_panel_returns(
    schedules_dir: Path, tmp_path: Path, redis_server_url: str
) -> None:
    redis = await democon_on_redis(schedules_dir, tmp_path, redis_server_url)
    peers: list[RTCPeerConnection] = []
    async with (
        media_nodes(tmp_path, redis, "a", "b", "c") as nodes,
        aiohttp.ClientSession() as http,
    ):
        (origin, killed), (edge, _), (bystander, _) = nodes["a"], nodes["b"], nodes["c"]
        try:
            assert node_of(await publish_panel(http, origin, peers)) == "a"
            await frames(await watch_panel(http, origin, peers), 5)  # the origin's one viewer
            track = await watch_panel(http, origin, peers)  # through a relay on b
            await frames(track, 5)
            assert await media_viewers(http, edge) == 1

            killed.kill()
            await killed.wait()
            # within the registry's time to live, every node shows the panel paused
            await wait_for_state(http, edge, "paused", within=6)
            await wait_for_state(http, bystander, "paused", within=2)
            assert await media_viewers(http, edge) == 1, "the viewer is held"

            # the studio reconnects; the emptier bystander becomes the origin
            assert node_of(await publish_panel(http, edge, peers)) == "c"
            returned = time.monotonic()
            await frames(track, 5)
            assert time.monotonic() - returned < 5
            assert (await wait_for_state(http, edge, "live"))["viewers"] == 1
            assert await media_viewers(http, bystander) == 1, "the edge's new relay"
        finally:
            await asyncio.gather(*(peer.close() for peer in peers))


async def test_publications_spread_over_the_nodes_and_their_urls_work_through_any_node(
    schedules_dir: Path, tmp_path: Path, redis_server_url: str
) -> None:
    redis = await democon_on_redis(schedules_dir, tmp_path, redis_server_url)
    other = "JXEWLR"
    peers: list[RTCPeerConnection] = []
    async with (
        serving(tmp_path / "a", free_port(), "--redis", redis) as first,
        serving(tmp_path / "b", free_port(), "--redis", redis) as second,
        aiohttp.ClientSession() as http,
    ):
        try:
            await wait_for_nodes(http, first, 2)
            # both go through the first process; the second lands on the other node
            resources = [await publish_panel(http, first, peers, code) for code in (CODE, other)]
            nodes = {resource.rsplit("/", 1)[1].partition("-")[0] for resource in resources}
            assert len(nodes) == 2, resources
            async with http.post(
                f"{second}/whip/{other}",
                data=(await offer_video(peers)),
                headers={**SDP, **bearer("Sam", moderates=other)},
            ) as response:
                assert response.status == 409, "one publisher per session, on any node"

            tracks = [await watch_panel(http, base, peers, code)
                      for base, code in ((second, CODE), (first, other))]  # fmt: skip
            assert [await frames(track, 5) for track in tracks] == [5, 5]

            for resource, code, base in zip(resources, (CODE, other), (second, first), strict=True):
                async with http.delete(
                    f"{base}{resource}", headers=bearer("Sam", moderates=code)
                ) as response:
                    assert response.status == 200, await response.text()
            for base in (first, second):
                for code in (CODE, other):
                    deadline = time.monotonic() + 10
                    while (await stream_state(http, base, code))["state"] != "offline":
                        assert time.monotonic() < deadline, (base, code)
                        await asyncio.sleep(0.1)
        finally:
            await asyncio.gather(*(peer.close() for peer in peers))


async def offer_video(peers: list[RTCPeerConnection]) -> str:
    peer = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    peers.append(peer)
    peer.addTrack(VideoStreamTrack())
    await peer.setLocalDescription(await peer.createOffer())
    return str(peer.localDescription.sdp)


async def wait_for_nodes(http: aiohttp.ClientSession, base: str, count: int) -> None:
    """Until ``base`` has heard the heartbeats of ``count`` media nodes."""
    deadline = time.monotonic() + 5
    while True:
        async with http.get(f"{base}/metrics") as response:
            text = await response.text()
        nodes = next(
            (s.value for f in text_string_to_metric_families(text) for s in f.samples
             if s.name == "plenaria_media_nodes"),
            0,
        )  # fmt: skip
        if nodes >= count:
            return
        assert time.monotonic() < deadline, f"{base} knows {nodes} media nodes"
        await asyncio.sleep(0.1)


async def node_id(http: aiohttp.ClientSession, base: str) -> str:
    async with http.get(f"{base}/metrics") as response:
        text = await response.text()
    return next(
        s.labels["node"]
        for f in text_string_to_metric_families(text)
        for s in f.samples
        if s.name == "plenaria_media_node_info"
    )


async def wait_for_viewers(http: aiohttp.ClientSession, base: str, count: int) -> None:
    deadline = time.monotonic() + 5
    while (state := await stream_state(http, base))["viewers"] != count:
        assert time.monotonic() < deadline, f"{base} shows {state}"
        await asyncio.sleep(0.1)


ROOM = f"/api/sessions/{CODE}/breakouts/rooms/room-1"


async def open_room(http: aiohttp.ClientSession, base: str, *names: str) -> None:
    """One room with ``names`` in it, open for 15 minutes."""
    moderator = bearer("Mo", moderates=CODE)

    async def post(action: str, who: dict[str, str], **body: object) -> None:
        breakouts = f"{base}/api/sessions/{CODE}/breakouts"
        async with http.post(f"{breakouts}/{action}", json=body, headers=who) as answer:
            assert answer.status == 200, await answer.text()

    await post("plan", moderator, rooms=[{"name": "Heat", "capacity": 6}])
    for name in names:
        await post("join", bearer(name))
    await post("assign", moderator, seed=1)
    await post("open", moderator, minutes=15)


async def join_call(
    http: aiohttp.ClientSession, base: str, peers: list[RTCPeerConnection], name: str
) -> str:
    """Publish ``name``'s camera to the room's call through ``base``; the resource's path."""
    offer = await offer_video(peers)
    async with http.post(
        f"{base}{ROOM}/publish", data=offer, headers={**SDP, **bearer(name)}
    ) as answer:
        assert answer.status == 201, await answer.text()
        await peers[-1].setRemoteDescription(RTCSessionDescription(await answer.text(), "answer"))
        return answer.headers["Location"]


async def test_a_break_out_room_is_placed_whole_on_the_emptier_node(
    schedules_dir: Path, tmp_path: Path, redis_server_url: str
) -> None:
    redis = await democon_on_redis(schedules_dir, tmp_path, redis_server_url)
    peers: list[RTCPeerConnection] = []
    async with (
        media_nodes(tmp_path, redis, "a", "b") as nodes,
        aiohttp.ClientSession() as http,
    ):
        (busy, _), (empty, room_process) = nodes["a"], nodes["b"]

        try:
            assert node_of(await publish_panel(http, busy, peers)) == "a"
            await wait_for_state(http, empty, "live", within=5)
            await open_room(http, busy, "Ann", "Bob")

            async with http.ws_connect(f"{busy}/ws", headers=bearer("Ann")) as ann_socket:
                await ann_socket.send_json(["subscribe", 1, {"topic": f"room:{CODE}:room-1"}])
                assert (await ann_socket.receive_json(timeout=5))[0] == "ok"

                async def call_seen(wanted: Any) -> None:
                    """Until Ann's socket on the busy node shows the call on the other."""
                    deadline = time.monotonic() + 6
                    while True:
                        frame = await ann_socket.receive_json(timeout=6)
                        changes = frame[2]["changes"] if frame[0] == "event" else []
                        calls = [c["call"] for c in changes if c["type"] == "call"]
                        if calls and wanted(calls[-1]):
                            return
                        assert time.monotonic() < deadline, calls

                # both members publish through the busy node; the room lives whole on b
                locations = [await join_call(http, busy, peers, name) for name in ("Ann", "Bob")]
                assert [node_of(location) for location in locations] == ["b", "b"]
                await call_seen(lambda call: sorted(call["members"]) == ["id-Ann", "id-Bob"])
                assert await media_viewers(http, busy) == 0
                track = await watch_at(
                    http, f"{busy}{ROOM}/members/id-Bob/watch", peers, bearer("Ann")
                )
                assert await frames(track, 5) == 5
                assert await media_viewers(http, empty) == 1

                async with http.post(
                    f"{busy}{ROOM}/call-state",
                    json={"muted": True, "camera_off": False},
                    headers=bearer("Ann"),
                ) as answer:
                    assert answer.status == 200, await answer.text()
                await call_seen(lambda call: call["members"]["id-Ann"]["muted"])
                async with http.get(f"{busy}{ROOM}", headers=bearer("Bob")) as answer:
                    assert (await answer.json())["call"]["members"]["id-Ann"]["muted"]

                async with http.delete(f"{busy}{locations[0]}", headers=bearer("Ann")) as answer:
                    assert answer.status == 200, await answer.text()
                await call_seen(lambda call: sorted(call["members"]) == ["id-Bob"])

                # the room's node dies: its call empties within the registry's time to
                # live, and a member who publishes again takes the room to the living node
                room_process.kill()
                await room_process.wait()
                await call_seen(lambda call: call["members"] == {})
                assert node_of(await join_call(http, busy, peers, "Bob")) == "a"
                await call_seen(lambda call: sorted(call["members"]) == ["id-Bob"])
        finally:
            await asyncio.gather(*(peer.close() for peer in peers))
