"""A live session recorded into the archive: the file served with exact HTTP Ranges, the
chapters, the feed, the moderators' controls, do-not-record and hostile media paths."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from aiortc import RTCPeerConnection
from defusedxml import ElementTree

from server.archive import recorder as recording_service
from server.archive.recorder import in_schedule
from server.keys import MEDIA, QA, RECORDER, RECORDINGS, STORE
from server.media.stream_key import StreamKey
from server.media.synthetic import start_synthetic_panel
from tests.integration.conftest import NOW, conference
from tests.integration.test_booths_http import enter_booth
from tests.integration.test_qa_api import ANN, MOD, ask, moderate, token

Client = TestClient[web.Request, web.Application]
ATOM = "{http://www.w3.org/2005/Atom}"


async def until(condition: Callable[[], Any], seconds: float = 20) -> Any:
    deadline = time.monotonic() + seconds
    while not (value := condition()):
        assert time.monotonic() < deadline, "the condition never held"
        await asyncio.sleep(0.05)
    return value


async def record_panel(client: Client, seconds: float = 3.0, marker: bool = False) -> str:
    """Publish the synthetic panel for ``seconds``, end it, and return the filed recording's id."""
    engine = client.app[MEDIA]
    start_synthetic_panel(engine, "panel", NOW)
    recorder = client.app[RECORDER]
    active = await until(lambda: recorder.active.get("panel"))
    if marker:
        response = await client.post(
            "/api/sessions/panel/markers", json={"label": "Opening remarks"}, headers=MOD
        )
        assert response.status == 201
    await until(lambda: active.recorder.state.duration_seconds >= seconds)
    publication = engine.live(StreamKey.panel("panel"))
    assert publication is not None
    await engine.unpublish(publication)
    archive = client.app[QA].archive
    await until(lambda: archive.recordings[active.recording_id].status == "published")
    recording_id: str = active.recording_id
    return recording_id


async def test_a_live_session_is_recorded_and_served_with_exact_ranges(
    client: Client, clock: list[dt.datetime]
) -> None:
    question = await ask(client)
    await moderate(client, question, "approve")
    rid = await record_panel(client, marker=True)
    clock[0] = NOW + dt.timedelta(minutes=5)
    await moderate(client, question, "answer")  # after the recording: not a chapter
    replay = await (await client.get(f"/archive/{rid}")).text()
    assert "What about heat?" not in replay
    assert "Opening remarks" in replay

    listing = (await (await client.get("/api/recordings")).json())["recordings"]
    assert [r["id"] for r in listing] == [rid]
    other = await (await client.get("/api/recordings?session=side")).json()
    assert other["recordings"] == []
    view = listing[0]
    assert view["title"] == "The live panel"
    assert view["session_code"] == "panel"
    assert view["container"] == "webm"
    assert 2.0 <= view["duration_seconds"] <= 6.0
    media = view["media_url"].removeprefix("http://127.0.0.1")
    media = media[media.index("/media/") :]
    data = client.app[RECORDINGS].local_path(f"{client.app[QA].archive.recording(rid).key}")
    body = data.read_bytes()
    size = len(body)
    assert view["size_bytes"] == size

    whole = await client.get(media)
    assert whole.status == 200
    assert whole.headers["Content-Type"] == "video/webm"
    assert whole.headers["Accept-Ranges"] == "bytes"
    assert await whole.read() == body
    ranges = {
        "bytes=0-0": (0, 0),
        "bytes=100-199": (100, 199),
        f"bytes={size - 1}-{size - 1}": (size - 1, size - 1),
        "bytes=-10": (size - 10, size - 1),
        f"bytes={size - 5}-": (size - 5, size - 1),
    }
    for header, (first, last) in ranges.items():
        part = await client.get(media, headers={"Range": header})
        assert part.status == 206, header
        assert part.headers["Content-Range"] == f"bytes {first}-{last}/{size}", header
        assert await part.read() == body[first : last + 1], header
    for unsatisfiable in (f"bytes={size}-", f"bytes={size + 10}-{size + 20}"):
        refused = await client.get(media, headers={"Range": unsatisfiable})
        assert refused.status == 416, unsatisfiable

    poster = await client.get(f"/media/recordings/{rid}.jpg")
    assert poster.status == 200
    assert (await poster.read())[:2] == b"\xff\xd8"
    chapters = await client.get(f"/media/recordings/{rid}.vtt")
    assert chapters.content_type == "text/vtt"
    assert "Opening remarks" in await chapters.text()

    feed = ElementTree.fromstring(await (await client.get("/feeds/recordings.atom")).text())
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 1
    enclosure = entries[0].find(f"{ATOM}link[@rel='enclosure']")
    assert enclosure is not None
    assert enclosure.get("length") == str(size)
    assert enclosure.get("type") == "video/webm"
    assert entries[0].findtext(f"{ATOM}title") == "The live panel"


async def test_media_routes_refuse_what_they_do_not_hold(client: Client) -> None:
    rid = await record_panel(client, seconds=1.5)
    hostile = [
        "/media/recordings/..%2F..%2Fetc%2Fpasswd.webm",
        "/media/recordings/../../etc/passwd",
        "/media/recordings/%2e%2e/secret.key",
        f"/media/recordings/{rid}.mp4",
        f"/media/recordings/{rid}.exe",
        f"/media/recordings/{rid}x.webm",
        "/media/recordings/.webm",
        f"/media/recordings/{rid}.webm/..",
        "/archive/..%2Fsecret.key",
    ]
    for path in hostile:
        response = await client.get(path, allow_redirects=False)
        assert response.status == 404, path

    hidden = await client.post(
        f"/api/recordings/{rid}/visibility", json={"published": False}, headers=MOD
    )
    assert hidden.status == 200
    assert (await client.get(f"/media/recordings/{rid}.webm")).status == 404
    assert (await client.get(f"/archive/{rid}")).status == 404
    assert (await client.get(f"/media/recordings/{rid}.webm", headers=MOD)).status == 200
    assert (await (await client.get("/api/recordings")).json())["recordings"] == []
    refused = await client.post(
        f"/api/recordings/{rid}/visibility", json={"published": True}, headers=ANN
    )
    assert refused.status == 403


async def test_moderators_stop_and_restart_recording_and_add_markers(client: Client) -> None:
    engine, recorder = client.app[MEDIA], client.app[RECORDER]
    start_synthetic_panel(engine, "panel", NOW)
    first = await until(lambda: recorder.active.get("panel"))
    await until(lambda: first.filed)  # the first keyframe: it is in the archive
    for body, who, status in [
        ({"recording": False}, ANN, 403),
        ({"recording": "no"}, MOD, 422),
        ({"recording": False}, MOD, 200),
    ]:
        response = await client.post("/api/sessions/panel/recording", json=body, headers=who)
        assert response.status == status, body
    await until(lambda: "panel" not in recorder.active)
    state = await (await client.get("/api/sessions/panel/recordings", headers=MOD)).json()
    assert state["recording"] is False
    assert [r["id"] for r in state["recordings"]] == [first.recording_id]
    assert engine.live(StreamKey.panel("panel")) is not None, (
        "stopping the recording never stops the stream"
    )

    assert (
        await client.post("/api/sessions/panel/recording", json={"recording": True}, headers=MOD)
    ).status == 200
    second = await until(lambda: recorder.active.get("panel"))
    assert second.recording_id != first.recording_id
    empty = await client.post("/api/sessions/panel/markers", json={"label": " "}, headers=MOD)
    assert empty.status == 422
    participant = await client.post("/api/sessions/panel/markers", json={"label": "x"}, headers=ANN)
    assert participant.status == 403
    assert (await client.get("/api/sessions/panel/recordings", headers=ANN)).status == 403


async def test_do_not_record_is_respected(client: Client) -> None:
    programme = conference()
    sessions = tuple(
        dataclasses.replace(s, do_not_record=True) if s.code == "panel" else s
        for s in programme.sessions
    )
    changed = dataclasses.replace(programme, sessions=sessions)
    await client.app[STORE].replace_programme(changed, NOW)
    engine, recorder = client.app[MEDIA], client.app[RECORDER]
    start_synthetic_panel(engine, "panel", NOW)
    await until(lambda: engine.live(StreamKey.panel("panel")))
    await recorder.reconcile("panel")  # whatever the listener does, this settles it
    assert recorder.active == {}
    assert client.app[QA].archive.recordings == {}
    refused = await client.post(
        "/api/sessions/panel/recording", json={"recording": True}, headers=MOD
    )
    assert refused.status == 409


async def test_a_reimport_that_renames_the_session_keeps_its_recordings(client: Client) -> None:
    rid = await record_panel(client, seconds=1.5)
    programme = conference()
    sessions = tuple(
        dataclasses.replace(s, code="panel2", title="The renamed panel") if s.code == "panel" else s
        for s in programme.sessions
    )
    changed = dataclasses.replace(programme, sessions=sessions)
    await client.app[STORE].replace_programme(changed, NOW)
    view = await (await client.get(f"/api/recordings/{rid}")).json()
    assert view["title"] == "The renamed panel"
    assert view["session_code"] == "panel2"
    page = await (await client.get("/archive?q=renamed")).text()
    assert f"/archive/{rid}" in page
    assert f"/archive/{rid}" not in await (await client.get("/archive?q=zzzz")).text()


async def test_a_stream_outside_its_sessions_time_waits_for_a_moderators_review(
    client: Client,
) -> None:
    """A speaker's camera test on a session of tomorrow is recorded, but neither the archive
    nor the feed shows it until a moderator publishes it."""
    engine, recorder = client.app[MEDIA], client.app[RECORDER]
    start_synthetic_panel(engine, "closing", NOW)  # "closing" is tomorrow at 16:00
    active = await until(lambda: recorder.active.get("closing"))
    await until(lambda: active.recorder.state.duration_seconds >= 2)
    publication = engine.live(StreamKey.panel("closing"))
    assert publication is not None
    await engine.unpublish(publication)
    archive = client.app[QA].archive
    await until(
        lambda: archive.recordings[active.recording_id].status not in ("recording", "processing")
    )
    assert archive.recordings[active.recording_id].status == "review"

    listing = (await (await client.get("/api/recordings")).json())["recordings"]
    assert listing == []
    feed = ElementTree.fromstring(await (await client.get("/feeds/recordings.atom")).text())
    assert feed.findall(f"{ATOM}entry") == []
    assert (await client.get(f"/archive/{active.recording_id}")).status == 404

    closing_moderator = token("cy", "closing")
    response = await client.post(
        f"/api/recordings/{active.recording_id}/visibility",
        json={"published": True},
        headers=closing_moderator,
    )
    assert response.status == 200, await response.text()
    listing = (await (await client.get("/api/recordings")).json())["recordings"]
    assert [r["id"] for r in listing] == [active.recording_id]


async def test_the_grace_around_a_session_decides_what_publishes_itself() -> None:
    session = conference().session_by_code("panel")
    assert session is not None
    grace = dt.timedelta(minutes=15)
    assert in_schedule(session, session.start - grace, grace)
    assert in_schedule(session, session.end + grace, grace)
    assert not in_schedule(session, session.start - grace - dt.timedelta(seconds=1), grace)
    assert not in_schedule(session, session.end + grace + dt.timedelta(seconds=1), grace)


async def test_a_session_going_live_is_recorded_while_anothers_poster_is_made(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each session's recording has its own lock, and a finished file's probe and poster run
    outside it: one session's post-processing never delays another's opening."""
    poster_started, release = threading.Event(), threading.Event()

    def slow_poster(path: Path, poster: Path) -> bool:
        poster_started.set()
        release.wait(20)
        return False

    monkeypatch.setattr(recording_service, "make_poster", slow_poster)
    engine, recorder = client.app[MEDIA], client.app[RECORDER]
    start_synthetic_panel(engine, "panel", NOW)
    active = await until(lambda: recorder.active.get("panel"))
    await until(lambda: active.recorder.state.duration_seconds >= 1)
    publication = engine.live(StreamKey.panel("panel"))
    assert publication is not None
    await engine.unpublish(publication)
    try:
        await until(poster_started.is_set, 10)
        start_synthetic_panel(engine, "side", NOW)
        await until(lambda: recorder.active.get("side"), 3)  # not after the panel's poster
    finally:
        release.set()
    archive = client.app[QA].archive
    await until(lambda: archive.recordings[active.recording_id].status == "published")


async def test_a_recording_keeps_the_sessions_interpretation_languages(
    client: Client, peers: list[RTCPeerConnection]
) -> None:
    response = await client.put(
        "/api/sessions/panel/interpretation", json={"languages": ["fr", "de"]}, headers=MOD
    )
    assert response.status == 200
    await enter_booth(client, peers, "anne")  # fr has an interpreter; de has none
    rid = await record_panel(client, seconds=2.5)
    assert client.app[QA].archive.recording(rid).languages == ("fr", "de")
    [view] = (await (await client.get("/api/recordings")).json())["recordings"]
    assert view["languages"] == ["fr", "de"]
    feed = ElementTree.fromstring(await (await client.get("/feeds/recordings.atom")).text())
    [entry] = feed.findall(f"{ATOM}entry")
    dublin_core = "{http://purl.org/dc/elements/1.1/}language"
    assert [element.text for element in entry.findall(dublin_core)] == ["fr", "de"]
    audio = await (await client.get(f"/api/recordings/{rid}/audio")).json()
    assert audio == {
        "tracks": [{"language": "fr", "src": f"/media/recordings/{rid}/audio/fr.webm"}]
    }  # de had no interpreter: no sound, no file
    french = await client.get(f"/media/recordings/{rid}/audio/fr.webm")
    assert french.status == 200 and french.content_type == "audio/webm"
    assert (await french.read())[:4] == b"\x1a\x45\xdf\xa3"  # an EBML (WebM) file
    assert (await client.get(f"/media/recordings/{rid}/audio/de.webm")).status == 404
    assert (await client.get(f"/media/recordings/{rid}/audio/it.webm")).status == 404
