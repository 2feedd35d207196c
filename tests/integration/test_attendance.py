"""Attendance, measured (issue 15, points 4 and 5): a scripted conference on SQLite and on
Redis (registrants checked in, real aiortc viewers joining and leaving a published panel over
WHEP, players fetching its LL-HLS playlist, questions, votes, a break-out round, replays) and
the organiser's report matching the script, minute for minute on the app's clock."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack
from redis.asyncio import Redis

from recordings.archive import RecordingProcessed, RecordingStarted, RecordingStopped
from server.app import create_app
from server.attendance.context import untie_expired
from server.attendance.viewers import VIEWER_COOKIE
from server.http.auth import bearer_codec
from server.keys import ATTENDANCE, MEDIA, QA, STORE
from server.media.synthetic import start_synthetic_panel
from server.settings import SettingsError, build_settings
from sessions.attendance import Viewing
from sessions.registrations import Registration
from sessions.roles import CONFERENCE_SCOPE, Identity, Role
from tests.helpers import SECRET, settings_for
from tests.integration.conftest import NOW, ClientFactory, conference
from tests.integration.test_media_relay import NO_ICE_SERVERS

Client = TestClient[web.Request, web.Application]
SDP = {"Content-Type": "application/sdp"}


def bearer(identity: Identity) -> dict[str, str]:
    token = bearer_codec(SECRET).dumps(identity, NOW + dt.timedelta(days=2))
    return {"Authorization": f"Bearer {token}"}


MOD = bearer(Identity("id-mod", "Mo").with_role("panel", Role.MODERATOR))
ORGANISER = bearer(Identity("id-org", "Org").with_role(CONFERENCE_SCOPE, Role.ORGANISER))
SOMEONE = bearer(Identity("id-someone", "Someone"))


def person(key: str, attends: str, country: str) -> Registration:
    return Registration(key, "", f"Person {key}", f"{key}@example.org", attends, country=country)  # type: ignore[arg-type]


REGISTRATIONS = [
    person("hall-1", "in_person", "AT"),
    person("hall-2", "in_person", "FR"),
    person("hall-3", "in_person", "FR"),  # registered, never came
    person("remote-a", "remote", "DE"),  # watches over WebRTC, then HLS; in a room
    person("remote-c", "remote", "AT"),  # watches over WebRTC; in a room
    person("remote-f", "remote", "IT"),  # only in a break-out room
    person("remote-g", "remote", "ES"),  # never follows anything
]


@pytest.fixture(params=["sqlite", "redis"])
async def scripted(
    request: pytest.FixtureRequest, aiohttp_client: ClientFactory, tmp_path: Path
) -> AsyncIterator[tuple[Client, list[dt.datetime]]]:
    clock = [NOW]
    overrides: dict[str, object] = {}
    prefix = f"test-{uuid.uuid4().hex}:"
    server_url = ""
    if request.param == "redis":
        server_url = request.getfixturevalue("redis_server_url")
        overrides["store_url"] = f"{server_url}/0?prefix={prefix}"
    app = create_app(settings_for(tmp_path, **overrides), clock=lambda: clock[0])

    async def load(app: web.Application) -> None:
        await app[STORE].replace_programme(conference(), NOW)

    app.on_startup.append(load)
    client = await aiohttp_client(app, cookie_jar=aiohttp.DummyCookieJar())  # type: ignore[call-arg]
    yield client, clock
    await client.close()
    if server_url:
        cleaner = Redis.from_url(f"{server_url}/0")
        keys = [key async for key in cleaner.scan_iter(match=f"{prefix}*")]
        if keys:
            await cleaner.delete(*keys)
        await cleaner.aclose()


async def watch(client: Client, peers: list[RTCPeerConnection], headers: dict[str, str]) -> str:
    """A real WHEP viewer, connected and receiving; its resource URL."""
    peer = RTCPeerConnection(NO_ICE_SERVERS)
    peers.append(peer)
    peer.addTransceiver("video", direction="recvonly")
    arrived: asyncio.Future[MediaStreamTrack] = asyncio.get_running_loop().create_future()

    def on_track(track: MediaStreamTrack) -> None:
        if not arrived.done():
            arrived.set_result(track)

    peer.on("track", on_track)
    await peer.setLocalDescription(await peer.createOffer())
    response = await client.post(
        "/whep/panel", data=peer.localDescription.sdp, headers={**SDP, **headers}
    )
    assert response.status == 201, await response.text()
    await peer.setRemoteDescription(RTCSessionDescription(await response.text(), "answer"))
    track = await asyncio.wait_for(arrived, 10)
    await asyncio.wait_for(track.recv(), 10)
    if "Authorization" not in headers:  # an anonymous browser gets its viewer cookie
        cookie = response.cookies[VIEWER_COOKIE]
        assert cookie["httponly"] and cookie["samesite"] == "Lax" and len(cookie.value) >= 16
    location: str = response.headers["Location"]
    return location


async def playlist(client: Client, headers: dict[str, str]) -> aiohttp.ClientResponse:
    response = await client.get("/hls/panel/index.m3u8", headers=headers)
    assert response.status == 200, await response.text()
    return response


def at(clock: list[dt.datetime], minutes: float) -> None:
    clock[0] = NOW + dt.timedelta(minutes=minutes)


async def breakouts(client: Client, action: str, who: dict[str, str], **body: Any) -> None:
    response = await client.post(f"/api/sessions/panel/breakouts/{action}", json=body, headers=who)
    assert response.status == 200, (action, await response.text())


async def report(client: Client) -> Any:
    response = await client.get("/organise/report.json", headers=ORGANISER)
    assert response.status == 200, await response.text()
    return await response.json()


async def test_the_report_matches_a_scripted_conference(
    scripted: tuple[Client, list[dt.datetime]], peers: list[RTCPeerConnection]
) -> None:
    client, clock = scripted
    app = client.app
    store = app[STORE]
    await store.import_registrations(REGISTRATIONS)
    registered = {r.key: r for r in await store.list_registrations()}
    for key in ("hall-1", "hall-2"):
        assert await store.check_in(key, NOW) is not None
    a, c, f = (
        bearer(Identity(registered[key].participant_id, key))
        for key in ("remote-a", "remote-c", "remote-f")
    )
    start_synthetic_panel(app[MEDIA], "panel", NOW)

    # -- the panel, live: WebRTC viewers join and leave ------------------------------------
    at(clock, 0)
    viewer_a = await watch(client, peers, a)
    viewer_b = await watch(client, peers, {})  # anonymous: handed a viewer cookie (below)
    at(clock, 5)
    viewer_c = await watch(client, peers, c)

    # -- questions and votes, during the panel ---------------------------------------------
    at(clock, 6)
    asked = []
    for who, text in ((a, "What about heat?"), (c, "And water?"), (a, "And cities?")):
        response = await client.post(
            "/api/sessions/panel/questions", json={"text": text}, headers=who
        )
        assert response.status == 201, await response.text()
        asked.append((await response.json())["question"]["id"])
    for question, action in ((asked[0], "approve"), (asked[1], "approve"), (asked[2], "dismiss")):
        response = await client.post(
            f"/api/questions/{question}/moderation", json={"action": action}, headers=MOD
        )
        assert response.status == 200, await response.text()
    for question, who in ((asked[0], c), (asked[1], a)):
        assert (await client.post(f"/api/questions/{question}/vote", headers=who)).status == 200
    response = await client.post(
        f"/api/questions/{asked[0]}/moderation", json={"action": "answer"}, headers=MOD
    )
    assert response.status == 200

    at(clock, 10)
    assert (await client.delete(viewer_a)).status == 200

    # -- HLS: D plays from 12 to 25 (a request every 20 s), A from 15 to 18 ------------------
    at(clock, 12)
    first = await playlist(
        client, {"User-Agent": "a player"}
    )  # D: a player without cookie nor identity
    assert VIEWER_COOKIE not in first.cookies, "a cacheable answer sets no cookie"
    assert first.headers["Cache-Control"] == "public, max-age=1"
    d = {"User-Agent": "a player"}
    for second in range(12 * 60 + 20, 25 * 60 + 1, 20):
        at(clock, second / 60)
        if second == 20 * 60:
            assert (await client.delete(viewer_c)).status == 200
        await playlist(client, d)
        if 15 * 60 <= second <= 18 * 60:
            await playlist(client, a)
    at(clock, 30)
    assert (await client.delete(viewer_b)).status == 200

    # -- a break-out round after the panel ---------------------------------------------------
    at(clock, 35)
    await breakouts(client, "plan", MOD, rooms=[{"name": "Heat"}, {"name": "Water"}])
    for who in (a, c, f):
        await breakouts(client, "join", who)
    await breakouts(client, "assign", MOD, seed=3)
    await breakouts(client, "open", MOD, minutes=10)

    # -- replays, the next day ---------------------------------------------------------------
    at(clock, 24 * 60)
    for command in (
        RecordingStarted("rec1", "panel", "guid-panel", "webm", "rec1.webm"),
        RecordingStopped("rec1"),
        RecordingProcessed("rec1", 1800.0, 1000, in_schedule=True),
    ):
        await app[QA].submit_command("panel", command, clock[0])
    for who in (a, a, c):
        response = await client.post("/api/recordings/rec1/plays", headers=who)
        assert response.status == 202, await response.text()
    assert (await client.post("/api/recordings/nope/plays", headers=a)).status == 404
    refused = await client.post("/api/recordings/rec1/plays")  # a browser without its token
    assert refused.status == 403

    # -- the report ------------------------------------------------------------------------------
    figures = await report(client)
    assert figures["sentence"] == (
        "7 registered, 2 in person, 5 followed remotely, from 4 participating states"
    )
    assert figures["conference"] == {
        "registered": 7,
        "registered_in_person": 3,
        "registered_remote": 4,
        "checked_in": 2,
        "in_person": 2,
        "in_person_basis": "checked_in",
        "followed_remotely": 5,  # A, B, C, D and F
        "remote_registrants_followed": 3,
        "states": 4,
        "countries": {"AT": 2, "DE": 1, "FR": 1, "IT": 1},
    }
    sessions = {s["code"]: s for s in figures["sessions"]}
    # WebRTC: A 0-10, B 0-30, C 5-20; HLS: D 12-25, A 15-18
    watched_minutes = 10 + 30 + 15 + 13 + 3
    assert sessions["panel"] == {
        "code": "panel",
        "title": "The live panel",
        "unique_remote": 5,
        "peak_concurrent": 4,  # 15-18: B, C, D, A
        "peak_webrtc": 3,  # 5-10: A, B, C
        "peak_hls": 2,
        "watch_hours": round(watched_minutes / 60, 1),
        "questions_asked": 3,
        "questions_approved": 2,
        "questions_answered": 1,
        "votes": 2,
        "breakout_participants": 3,
        "replays": 2,
    }
    assert all(
        s["unique_remote"] == s["peak_concurrent"] == s["questions_asked"] == 0
        for code, s in sessions.items()
        if code != "panel"
    )
    viewings = await store.list_viewings()
    assert round(sum(v.seconds for v in viewings)) == watched_minutes * 60

    # the same in the CSV, the page (without JavaScript) and the public figures
    csv_text = await (await client.get("/organise/report.csv", headers=ORGANISER)).text()
    assert csv_text.splitlines()[0].startswith("code,title,unique_remote,peak_concurrent")
    assert "panel,The live panel,5,4,3,2,1.2,3,2,1,2,3,2" in csv_text
    page = await client.get("/organise/report", headers=ORGANISER)
    assert page.headers["Cache-Control"] == "no-store"
    html = await page.text()
    assert figures["sentence"] in html and "<svg" in html and "/organise/registrations" in html
    public = await (await client.get("/figures.json")).json()
    assert public["countries"] == {"other": 5}  # no country has three people
    panel = next(s for s in public["sessions"] if s["code"] == "panel")
    assert (panel["unique_remote"], panel["peak_concurrent"], panel["replays"]) == (5, 4, None)
    assert "Person" not in str(public) and "@" not in str(public)
    french = await client.get("/figures?lang=fr")
    assert "7 inscrits, 2 sur place, 5 ont suivi à distance, de 4 États participants" in (
        await french.text()
    )

    # erasure on request: nothing names A any more, and every figure stays
    await store.forget_attendance(registered["remote-a"].participant_id)
    after = await report(client)
    assert after["sessions"] == figures["sessions"]
    key = f"p:{registered['remote-a'].participant_id}"
    assert key not in {v.viewer for v in await store.list_viewings()}
    assert key not in {p.viewer for p in await store.list_participations()}

    # the tracker closes what is open at shutdown, and writes it
    await app[ATTENDANCE].flush()


async def test_the_report_is_the_organisers_and_hostile_input_is_refused(
    scripted: tuple[Client, list[dt.datetime]],
) -> None:
    client, _ = scripted
    for path in ("/organise/report", "/organise/report.csv", "/organise/report.json"):
        anonymous = await client.get(path, headers={"Accept": "application/json"})
        assert anonymous.status == 401
        assert (await anonymous.json())["error"]["code"] == "auth.required"
        other = await client.get(path, headers={**MOD, "Accept": "application/json"})
        assert other.status == 403
        assert (await other.json())["error"]["code"] == "auth.forbidden"
    assert (await client.get("/organise/report.xml", headers=ORGANISER)).status == 404
    empty = await report(client)
    assert empty["sentence"] == (
        "0 registered, 0 in person, 0 followed remotely, from 0 participating states"
    )
    assert (await client.get("/figures")).status == 200
    # a forged viewer cookie is not taken as it comes
    start_synthetic_panel(client.app[MEDIA], "panel", NOW)
    odd = await client.get(
        "/hls/panel/index.m3u8", headers={"Cookie": f"{VIEWER_COOKIE}=x;y", **SOMEONE}
    )
    assert odd.status == 200
    many = [client.post("/api/recordings/zzz/plays", headers=SOMEONE) for _ in range(3)]
    assert {r.status for r in await asyncio.gather(*many)} == {404}
    assert (await client.post("/api/recordings/a.b/plays", headers=SOMEONE)).status == 404


async def test_many_plays_are_rate_limited(
    scripted: tuple[Client, list[dt.datetime]],
) -> None:
    client, clock = scripted
    for command in (
        RecordingStarted("rec1", "panel", "guid-panel", "webm", "rec1.webm"),
        RecordingStopped("rec1"),
        RecordingProcessed("rec1", 1800.0, 1000, in_schedule=True),
    ):
        await client.app[QA].submit_command("panel", command, clock[0])
    statuses = [
        (await client.post("/api/recordings/rec1/plays", headers=SOMEONE)).status for _ in range(21)
    ]
    assert statuses[:20] == [202] * 20 and statuses[20] == 429
    deadline = time.monotonic() + 5
    while (await client.app[STORE].count_replays()) != {"rec1": 1}:
        assert time.monotonic() < deadline, "the replay was never written"
        await client.app[ATTENDANCE].flush()


async def test_retention_unties_old_records(
    scripted: tuple[Client, list[dt.datetime]], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _ = scripted
    store = client.app[STORE]
    old = NOW - dt.timedelta(days=100)
    await store.record_viewings([Viewing("v1", "panel", "p:someone", "hls", old, old)])
    assert await untie_expired(store, NOW, 0) == 0  # 0 keeps them
    assert await untie_expired(store, NOW, 120) == 0
    assert await untie_expired(store, NOW, 90) == 1
    assert [v.viewer[:2] for v in await store.list_viewings()] == ["x:"]

    monkeypatch.setenv("PLENARIA_SECRET_KEY", "k" * 32)
    assert build_settings({}).retention_days == 90
    assert build_settings({"retention_days": 7}).retention_days == 7
    monkeypatch.setenv("PLENARIA_RETENTION_DAYS", "30")
    assert build_settings({}).retention_days == 30
    monkeypatch.setenv("PLENARIA_RETENTION_DAYS", "-1")
    with pytest.raises(SettingsError):
        build_settings({})


async def test_the_session_page_gives_an_anonymous_viewer_one_key_for_every_channel(
    client: TestClient[web.Request, web.Application],
) -> None:
    first = await client.get("/sessions/panel")
    cookie = first.cookies.get(VIEWER_COOKIE)
    assert cookie is not None and cookie["httponly"], "an anonymous browser gets its token"
    again = await client.get("/sessions/panel")  # the client sends the cookie back now
    assert VIEWER_COOKIE not in again.cookies, "handed out once, then kept"
    signed_in = await client.get(
        "/sessions/panel", headers=bearer(Identity("p-ann", "Ann")), cookies={}
    )
    assert VIEWER_COOKIE not in signed_in.cookies, "a participant is counted by their id"
