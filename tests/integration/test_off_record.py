"""Speak safely (issue 15, points 1 and 2): consent per speaker and session, enforced by the
server; off the record cuts every remote viewer, packaging and the recording at once, the
hall untouched, and the organiser keeps who did it and when."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import itertools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.test_utils import TestClient
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack

from server.http.auth import bearer_codec
from server.keys import LOGIN_LINKS, MEDIA, QA, RECORDER, RECORDINGS, STORE
from server.media.engine import MediaEngine
from server.media.stream_key import StreamKey
from server.media.synthetic import start_synthetic_panel
from sessions.delivery import Delivery, OffRecordChanged, SetOffRecord
from sessions.programme import Speaker
from sessions.roles import CONFERENCE_SCOPE, Identity, Role
from tests.helpers import SECRET
from tests.integration.conftest import NOW, conference
from tests.integration.test_qa_api import ANN, MOD, OTHER_MOD
from tests.integration.test_recorded_languages import packet_times
from tests.integration.test_recorder import ffprobe
from tests.integration.test_whip_whep import SDP, publish, publisher_offer, speaker, viewer_offer

Client = TestClient[web.Request, web.Application]
T = TypeVar("T")
OFF_RECORD = "/api/sessions/panel/off-record"
CONSENT = "/api/sessions/panel/consent"
PANEL = StreamKey.panel("panel")


async def until(condition: Callable[[], T | None], what: str, within: float = 15) -> T:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if value := condition():
            return value
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def sent_to_viewers(engine: MediaEngine) -> int:
    """Packets the engine sent this panel's viewers, every track of every viewer."""
    return sum(
        subscription.subscriber.packets
        for viewer in engine.viewers.values()
        if viewer.key == PANEL
        for subscription in viewer.subscriptions
    )


def arrived_from_publisher(engine: MediaEngine) -> int:
    publication = engine.live(PANEL)
    assert publication is not None
    return sum(forwarder.packets_in for forwarder in publication.streams.values())


async def received_by(peer: RTCPeerConnection) -> int:
    """RTP packets the viewer's own receivers counted (its side of the wire)."""
    total = 0
    for receiver in peer.getReceivers():
        for stats in (await receiver.getStats()).values():
            if stats.type == "inbound-rtp":
                total += stats.packetsReceived
    return total


async def watch(client: Client, peers: list[RTCPeerConnection]) -> tuple[RTCPeerConnection, Any]:
    viewer = await viewer_offer(peers)
    arrived: asyncio.Future[MediaStreamTrack] = asyncio.get_running_loop().create_future()

    def on_track(track: MediaStreamTrack) -> None:
        if not arrived.done():
            arrived.set_result(track)

    viewer.on("track", on_track)
    response = await client.post("/whep/panel", data=viewer.localDescription.sdp, headers=SDP)
    assert response.status == 201, await response.text()
    await viewer.setRemoteDescription(RTCSessionDescription(await response.text(), "answer"))
    return viewer, await asyncio.wait_for(arrived, 10)


def test_off_the_record_keeps_who_and_when_of_both_ends() -> None:
    delivery = Delivery()
    start, end = NOW, NOW + dt.timedelta(minutes=4)
    [began] = delivery.apply(SetOffRecord("panel", "mo", True), start)
    assert isinstance(began, OffRecordChanged) and began.off
    assert delivery.apply(SetOffRecord("panel", "mo", True), start) == [], "already off"
    assert delivery.is_off_record("panel") and not delivery.is_off_record("side")
    [ended] = delivery.apply(SetOffRecord("panel", "lea", False), end)
    assert isinstance(ended, OffRecordChanged) and not ended.off
    [segment] = delivery.off_record_segments("panel")
    assert (segment.started_at, segment.started_by) == (start, "mo")
    assert (segment.ended_at, segment.ended_by) == (end, "lea")
    assert segment.duration(end) == dt.timedelta(minutes=4)
    assert delivery.apply(SetOffRecord("panel", "mo", False), end) == [], "already on"


async def test_off_the_record_a_viewer_receives_nothing_and_resumes_by_itself(
    client: Client, peers: list[RTCPeerConnection]
) -> None:
    engine = client.app[MEDIA]
    await publish(client, peers)
    viewer, track = await watch(client, peers)
    first = await asyncio.wait_for(track.recv(), 10)
    assert first.is_keyframe

    refused = await client.post(OFF_RECORD, json={"off": True}, headers=ANN)
    assert refused.status == 403
    assert (await client.post(OFF_RECORD, json={"off": True}, headers=OTHER_MOD)).status == 403
    assert (await client.post(OFF_RECORD, json={"off": "yes"}, headers=MOD)).status == 422
    response = await client.post(OFF_RECORD, json={"off": True}, headers=MOD)
    assert response.status == 200
    assert (await response.json())["off_record"] is True
    # The fold withheld the panel before the answer: from here on nothing is sent.
    sent, arrived = sent_to_viewers(engine), arrived_from_publisher(engine)
    await until(lambda: arrived_from_publisher(engine) > arrived + 60, "the publisher goes on")
    settled = await received_by(viewer)
    await until(lambda: arrived_from_publisher(engine) > arrived + 120, "more from the hall")
    assert sent_to_viewers(engine) == sent, "the server sent a viewer media off the record"
    assert await received_by(viewer) == settled, "a viewer received media off the record"
    state = await (await client.get("/api/sessions/panel/stream")).json()
    assert state["off_record"] is True and state["state"] == "live", "the hall goes on"
    assert engine.viewer_count(PANEL) == 1, "the viewer stays connected, waiting"

    hls = await client.get("/hls/panel/index.m3u8")
    assert hls.status == 409
    assert (await hls.json())["error"]["code"] == "hls.off_record"

    back = await client.post(OFF_RECORD, json={"off": False}, headers=MOD)
    assert (await back.json())["off_record"] is False
    # Frames from before the segment may still wait in the viewer's queue: the first one
    # after the gap (its timestamp a second or more on) is where the stream resumed.
    previous = first
    while True:
        frame = await asyncio.wait_for(track.recv(), 10)
        if frame.pts - previous.pts > 90_000:
            break
        previous = frame
    assert frame.is_keyframe, "the picture resumes on a keyframe"
    assert sent_to_viewers(engine) > sent
    state = await (await client.get("/api/sessions/panel/stream")).json()
    assert state.get("off_record", False) is False, "omitted when false"


async def test_a_publisher_who_starts_off_the_record_starts_withheld(
    client: Client, peers: list[RTCPeerConnection]
) -> None:
    engine = client.app[MEDIA]
    assert (await client.post(OFF_RECORD, json={"off": True}, headers=MOD)).status == 200
    await publish(client, peers)
    await watch(client, peers)
    arrived = arrived_from_publisher(engine)
    await until(lambda: arrived_from_publisher(engine) > arrived + 60, "the publisher sends")
    assert sent_to_viewers(engine) == 0
    publication = engine.live(PANEL)
    assert publication is not None and publication.withheld_kinds() == {"video"}


async def test_the_recording_has_a_gap_and_a_chapter_for_the_segment(
    client: Client, clock: list[dt.datetime]
) -> None:
    started = time.monotonic()

    def tick() -> None:  # the app's clock runs with the wall clock the recorder uses
        clock[0] = NOW + dt.timedelta(seconds=time.monotonic() - started)

    engine, recorder = client.app[MEDIA], client.app[RECORDER]
    tick()
    start_synthetic_panel(engine, "panel", clock[0])
    active = await until(lambda: recorder.active.get("panel"), "the recording")
    await asyncio.sleep(1.5)  # media time: 1.5 s on the record
    tick()
    assert (await client.post(OFF_RECORD, json={"off": True}, headers=MOD)).status == 200
    off_at = time.monotonic() - started
    await asyncio.sleep(2.5)  # media time: 2.5 s off the record
    tick()
    assert (await client.post(OFF_RECORD, json={"off": False}, headers=MOD)).status == 200
    on_at = time.monotonic() - started
    await asyncio.sleep(1.5)
    tick()
    assert (
        await client.post("/api/sessions/panel/recording", json={"recording": False}, headers=MOD)
    ).status == 200
    recording_id = active.recording_id
    archive = client.app[QA].archive
    await until(
        lambda: archive.recordings[recording_id].status not in ("recording", "processing"),
        "the recording filed",
    )

    key = archive.recordings[recording_id].key
    path = client.app[RECORDINGS].local_path(key)
    codecs, _ = ffprobe(path)
    assert sorted(codecs) == ["opus", "vp8"]
    for stream in (0, 1):
        times = sorted(packet_times(path, stream))
        gaps = [(b - a, a) for a, b in itertools.pairwise(times)]
        gap, gap_start = max(gaps)
        assert abs(gap - (on_at - off_at)) < 0.6, (stream, gap, on_at - off_at)
        assert abs(gap_start - off_at) < 0.6, (stream, gap_start, off_at)
        inside = [t for t in times if off_at + 0.3 < t < on_at - 0.3]
        assert inside == [], f"stream {stream} holds media from off the record"

    detail = await (await client.get(f"/api/recordings/{recording_id}", headers=MOD)).json()
    titles = [(round(c["start"], 1), c["title"]) for c in detail["chapters"]]
    # The chapters are on the app's clock (the log's times), the gap on the media's: the
    # titles and starts are checked against the segment as the log holds it.
    [segment] = client.app[QA].delivery.off_record_segments("panel")
    assert segment.ended_at is not None
    began = archive.recordings[recording_id].started_at
    seconds = round((segment.ended_at - segment.started_at).total_seconds())
    assert abs((segment.ended_at - segment.started_at).total_seconds() - (on_at - off_at)) < 0.3
    off_start = round((segment.started_at - began).total_seconds(), 1)
    on_start = round((segment.ended_at - began).total_seconds(), 1)
    assert abs(off_start - off_at) < 0.3 and abs(on_start - on_at) < 0.3
    assert (off_start, f"Off the record ({seconds} s)") in titles, titles
    assert (on_start, "Back on the record") in titles
    assert [title for _, title in titles].count(f"Off the record ({seconds} s)") == 1
    french = await client.get(f"/api/recordings/{recording_id}?lang=fr", headers=MOD)
    french_titles = [c["title"] for c in (await french.json())["chapters"]]
    assert f"Hors antenne ({seconds} s)" in french_titles, french_titles


async def with_speakers(client: Client) -> None:
    programme = conference()
    sessions = tuple(
        dataclasses.replace(s, speakers=(Speaker("amira", "Amira N."), Speaker("jo", "Jo Example")))
        if s.code == "panel"
        else s
        for s in programme.sessions
    )
    await client.app[STORE].replace_programme(
        dataclasses.replace(programme, sessions=sessions), NOW
    )


async def set_consent(client: Client, who: dict[str, str], **body: Any) -> Any:
    response = await client.put(CONSENT, json=body, headers=who)
    return response.status, await response.json()


async def test_consent_is_shown_and_edited_by_moderators_only(client: Client) -> None:
    await with_speakers(client)
    assert (await client.get(CONSENT, headers=ANN)).status == 403
    view = await (await client.get(CONSENT, headers=MOD)).json()
    assert [p["subject"] for p in view["parties"]] == ["", "amira", "jo"]
    assert view["streamed"] and view["recorded"] and not view["audio_only"]
    consent = {"stream": True, "record": False, "media": "audio"}
    for who, body, status in [
        (ANN, {"subject": "amira", **consent}, 403),
        (OTHER_MOD, {"subject": "amira", **consent}, 403),
        (MOD, {"subject": "nobody", **consent}, 422),
        (MOD, {"subject": "amira", **consent, "media": "smell"}, 422),
        (MOD, {"subject": "amira", "stream": True}, 422),
        (MOD, {"subject": "amira", **consent, "extra": 1}, 422),
    ]:
        status_got, _ = await set_consent(client, who, **body)
        assert status_got == status, (who, body)
    status, view = await set_consent(client, MOD, subject="amira", **consent)
    assert status == 200
    assert view["recorded"] is False and view["audio_only"] is True and view["streamed"]
    amira = next(p for p in view["parties"] if p["subject"] == "amira")
    assert amira["edited"] and amira["consent"] == consent
    live = await (await client.get("/api/sessions/panel/stream")).json()
    assert live["audio_only"] is True
    [change] = client.app[QA].delivery.consent_history
    assert (change.subject, change.by) == ("amira", "id-mo")


async def test_a_speaker_who_says_no_to_streaming_keeps_the_session_off_the_internet(
    client: Client, peers: list[RTCPeerConnection]
) -> None:
    await with_speakers(client)
    engine = client.app[MEDIA]
    await publish(client, peers)
    status, view = await set_consent(
        client, MOD, subject="amira", stream=False, record=False, media="video"
    )
    assert status == 200 and view["streamed"] is False
    await until(lambda: engine.live(PANEL) is None, "the live publication ended")
    offer = (await publisher_offer(peers)).localDescription.sdp
    refused = await client.post("/whip/panel", data=offer, headers={**SDP, **speaker()})
    assert refused.status == 403
    assert (await refused.json())["error"]["code"] == "media.not_streamed"
    broadcast = await client.post(
        "/api/sessions/panel/stream/broadcast", json={"broadcast": True}, headers=MOD
    )
    assert broadcast.status == 409


async def test_a_do_not_record_consent_makes_no_file(client: Client, tmp_path: Path) -> None:
    await with_speakers(client)
    status, _ = await set_consent(client, MOD, subject="", stream=True, record=False, media="video")
    assert status == 200
    engine, recorder = client.app[MEDIA], client.app[RECORDER]
    start_synthetic_panel(engine, "panel", NOW)
    await until(lambda: engine.live(PANEL), "the panel")
    await recorder.reconcile("panel")
    assert recorder.active == {}
    assert client.app[QA].archive.recordings == {}
    recordings = tmp_path / "recordings"
    assert not recordings.exists() or list(recordings.iterdir()) == [], "no file"
    wanted = await client.post(
        "/api/sessions/panel/recording", json={"recording": True}, headers=MOD
    )
    assert wanted.status == 409
    assert (await wanted.json())["error"]["code"] == "archive.do_not_record"


async def test_audio_only_sends_and_records_no_video(
    client: Client, peers: list[RTCPeerConnection]
) -> None:
    await with_speakers(client)
    status, _ = await set_consent(
        client, MOD, subject="jo", stream=True, record=True, media="audio"
    )
    assert status == 200
    engine, recorder = client.app[MEDIA], client.app[RECORDER]
    start_synthetic_panel(engine, "panel", NOW)
    active = await until(lambda: recorder.active.get("panel"), "the recording")
    assert active.kinds == {"audio"}
    publication = engine.live(PANEL)
    assert publication is not None and publication.withheld_kinds() == {"video"}
    await asyncio.sleep(1.0)  # media time
    assert (
        await client.post("/api/sessions/panel/recording", json={"recording": False}, headers=MOD)
    ).status == 200
    archive = client.app[QA].archive
    recording = archive.recordings[active.recording_id]
    await until(
        lambda: archive.recordings[recording.id].status not in ("recording", "processing"),
        "filed",
    )
    codecs, _ = ffprobe(client.app[RECORDINGS].local_path(recording.key))
    assert codecs == ["opus"], "heard, not seen: the file has no video"


def organiser() -> dict[str, str]:
    identity = Identity("id-olga", "Olga Organiser").with_role(CONFERENCE_SCOPE, Role.ORGANISER)
    token = bearer_codec(SECRET).dumps(identity, NOW + dt.timedelta(hours=1))
    return {"Authorization": f"Bearer {token}"}


async def test_the_organisers_page_logs_both_ends_and_edits_consent(
    client: Client, clock: list[dt.datetime]
) -> None:
    await with_speakers(client)
    assert (await client.get("/organise/consent", headers=MOD)).status == 403
    assert (await client.get("/organise/consent")).status == 401
    clock[0] = NOW
    assert (await client.post(OFF_RECORD, json={"off": True}, headers=organiser())).status == 200
    clock[0] = NOW + dt.timedelta(minutes=4)
    assert (await client.post(OFF_RECORD, json={"off": False}, headers=MOD)).status == 200
    page = await (await client.get("/organise/consent", headers=organiser())).text()
    page = page.replace("\u202f", " ")  # CLDR's narrow space before AM
    assert (
        "Off the record from 10:30 AM to 10:34 AM (4.0 min): "
        "started by Olga Organiser, ended by Mo." in page
    ), page

    form = {"subject": "amira", "record": "on", "media": "audio"}
    refused = await client.post("/organise/consent/panel", data=form, headers=MOD)
    assert refused.status == 403
    unknown = await client.post(
        "/organise/consent/panel", data={**form, "subject": "x"}, headers=organiser()
    )
    assert unknown.status == 422
    saved = await client.post(
        "/organise/consent/panel", data=form, headers=organiser(), allow_redirects=False
    )
    assert saved.status == 303
    consent = client.app[QA].delivery.consent_edits("panel")["amira"]
    assert (consent.stream, consent.record, consent.media) == (False, True, "audio")
    page = await (await client.get("/organise/consent", headers=organiser())).text()
    assert "Olga Organiser changed the consent of Amira N." in page
    assert "Not streamed: nothing leaves the hall." in page


async def test_an_organisers_link_signs_in_for_the_whole_conference(client: Client) -> None:
    for role, landing in [(Role.ORGANISER, "/organise/report"), (Role.DOOR, "/organise/check-in")]:
        token, _ = await client.app[LOGIN_LINKS].issue(
            client.app[STORE], role, CONFERENCE_SCOPE, NOW, dt.timedelta(hours=1)
        )
        form = await client.get(f"/login/{token}")
        text = await form.text()
        assert "Test Conference" in text and "session *" not in text
        csrf = text.split('name="csrf_token" value="')[1].split('"')[0]
        signed_in = await client.post(
            f"/login/{token}",
            data={"display_name": "Olga", "csrf_token": csrf},
            allow_redirects=False,
        )
        assert signed_in.status == 303
        assert signed_in.headers["Location"] == landing


async def test_captions_wait_while_the_session_is_off_the_record(client: Client) -> None:
    lines = "/api/sessions/panel/captions/en"
    assert (await client.post(lines, json={"text": "Before"}, headers=MOD)).status == 201
    assert (await client.post(OFF_RECORD, json={"off": True}, headers=MOD)).status == 200
    held = await client.post(lines, json={"text": "What the hall alone hears"}, headers=MOD)
    assert held.status == 409
    assert (await held.json())["error"]["code"] == "captions.off_record"
    assert (await client.post(OFF_RECORD, json={"off": False}, headers=MOD)).status == 200
    assert (await client.post(lines, json={"text": "After"}, headers=MOD)).status == 201
    shown = await (await client.get("/api/sessions/panel/captions")).json()
    texts = [cue["text"] for cues in shown["recent"].values() for cue in cues]
    assert "What the hall alone hears" not in texts and "After" in texts
