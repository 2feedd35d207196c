"""Interpretation over HTTP: interpreters publish into their booth and hand over; a WHEP
client listens to a language channel; only that language's interpreters may publish."""

from __future__ import annotations

import datetime as dt

from aiohttp import web
from aiohttp.test_utils import TestClient
from aiortc import AudioStreamTrack, RTCPeerConnection, RTCSessionDescription, VideoStreamTrack
from aiortc.mediastreams import MediaStreamTrack

from server.http.auth import bearer_codec
from sessions.roles import Identity, Role, language_scope
from tests.helpers import SECRET
from tests.integration.conftest import NOW
from tests.integration.test_media_relay import NO_ICE_SERVERS, receive
from tests.integration.test_qa_api import ANN, MOD
from tests.integration.test_realtime import call, next_event

Client = TestClient[web.Request, web.Application]
SDP = {"Content-Type": "application/sdp"}
BOOTH = "/api/sessions/panel/booths/fr"


def interpreter(name: str, language: str = "fr") -> dict[str, str]:
    identity = Identity(f"id-{name}", name.title())
    identity = identity.with_role(language_scope("panel", language), Role.INTERPRETER)
    token = bearer_codec(SECRET).dumps(identity, NOW + dt.timedelta(hours=1))
    return {"Authorization": f"Bearer {token}"}


async def offer(peers: list[RTCPeerConnection], *tracks: MediaStreamTrack) -> RTCPeerConnection:
    peer = RTCPeerConnection(NO_ICE_SERVERS)
    peers.append(peer)
    for track in tracks:
        peer.addTransceiver(track, direction="sendonly")
    await peer.setLocalDescription(await peer.createOffer())
    return peer


async def enter_booth(client: Client, peers: list[RTCPeerConnection], who: str) -> str:
    peer = await offer(peers, AudioStreamTrack())
    response = await client.post(
        BOOTH, data=peer.localDescription.sdp, headers={**SDP, **interpreter(who)}
    )
    assert response.status == 201, await response.text()
    await peer.setRemoteDescription(RTCSessionDescription(await response.text(), "answer"))
    location: str = response.headers["Location"]
    return location


async def test_a_listener_hears_the_booth_on_air_and_a_hand_over(
    client: Client, peers: list[RTCPeerConnection]
) -> None:
    anne = await enter_booth(client, peers, "anne")
    await enter_booth(client, peers, "bruno")
    state = await (await client.get("/api/sessions/panel/booths")).json()
    assert state == {
        "booths": [{"language": "fr", "interpreters": ["id-anne", "id-bruno"], "on_air": "id-anne"}]
    }
    listener = RTCPeerConnection(NO_ICE_SERVERS)
    peers.append(listener)
    tracks: list[MediaStreamTrack] = []
    listener.on("track", tracks.append)
    listener.addTransceiver("audio", direction="recvonly")
    await listener.setLocalDescription(await listener.createOffer())
    answer = await client.post("/whep/panel/fr", data=listener.localDescription.sdp, headers=SDP)
    assert answer.status == 201, await answer.text()
    assert answer.headers["Location"].startswith("/whep/panel/fr/")
    await listener.setRemoteDescription(RTCSessionDescription(await answer.text(), "answer"))
    [track] = tracks
    assert [await receive(track) for _ in range(10)]

    took = await client.post(f"{BOOTH}/take-over", headers=interpreter("bruno"))
    assert took.status == 200
    assert (await took.json())["on_air"] == "id-bruno"
    assert [await receive(track) for _ in range(10)]  # the same connection, still hearing

    assert (await client.delete(anne, headers=interpreter("anne"))).status == 200
    assert (await client.delete(anne, headers=interpreter("anne"))).status == 204
    state = await (await client.get("/api/sessions/panel/booths")).json()
    assert state["booths"][0]["interpreters"] == ["id-bruno"]
    stop = await client.delete(answer.headers["Location"])
    assert stop.status == 200


async def test_only_that_languages_interpreters_publish_audio_only(
    client: Client, peers: list[RTCPeerConnection]
) -> None:
    sdp = (await offer(peers, AudioStreamTrack())).localDescription.sdp
    for headers, status in [
        (ANN, 403),
        (MOD, 403),  # moderators run the session; interpreting is the interpreters'
        (interpreter("dora", "de"), 403),
    ]:
        response = await client.post(BOOTH, data=sdp, headers={**SDP, **headers})
        assert response.status == status
    video = (await offer(peers, AudioStreamTrack(), VideoStreamTrack())).localDescription.sdp
    refused = await client.post(BOOTH, data=video, headers={**SDP, **interpreter("anne")})
    assert refused.status == 422
    assert (await refused.json())["error"]["code"] == "media.audio_only"
    nobody = await client.post(f"{BOOTH}/take-over", headers=interpreter("anne"))
    assert nobody.status == 409
    listener = RTCPeerConnection(NO_ICE_SERVERS)
    peers.append(listener)
    listener.addTransceiver("audio", direction="recvonly")
    await listener.setLocalDescription(await listener.createOffer())
    offline = await client.post("/whep/panel/fr", data=listener.localDescription.sdp, headers=SDP)
    assert offline.status == 409 and offline.headers["Retry-After"]
    garbage = await client.post(BOOTH, data="v=0 nonsense", headers={**SDP, **interpreter("anne")})
    assert garbage.status == 422


async def test_moderators_declare_the_languages_viewers_may_pick(
    client: Client, peers: list[RTCPeerConnection]
) -> None:
    url = "/api/sessions/panel/interpretation"
    assert (await client.put(url, json={"languages": ["fr"]}, headers=ANN)).status == 403
    bad = await client.put(url, json={"languages": ["fr", "français"]}, headers=MOD)
    assert bad.status == 422
    assert (await bad.json())["error"]["code"] == "delivery.language_invalid"
    many = await client.put(
        url, json={"languages": [f"l{c}" for c in "abcdefghijklm"]}, headers=MOD
    )
    assert many.status == 422
    async with client.ws_connect("/ws") as socket:
        await call(socket, "subscribe", {"topic": "session:panel:live"})
        declared = await client.put(url, json={"languages": ["FR", "de", "fr"]}, headers=MOD)
        assert declared.status == 200
        assert (await declared.json())["interpretation"] == [
            {"language": "fr", "on_air": False, "interpreter": None},
            {"language": "de", "on_air": False, "interpreter": None},
        ]
        event = await next_event(socket, "session:panel:live")
        assert event["changes"][0]["stream"]["interpretation"][0] == {
            "language": "fr",
            "on_air": False,
            "interpreter": None,
        }
        await enter_booth(client, peers, "anne")
        event = await next_event(socket, "session:panel:live")
        assert event["changes"][0]["stream"]["interpretation"][0] == {
            "language": "fr",
            "on_air": True,
            "interpreter": "id-anne",
        }
    stream = await (await client.get("/api/sessions/panel/stream")).json()
    assert stream["interpretation"][0]["on_air"] is True
