"""Live captions over HTTP and the socket: a captioner's line reaches a viewer at once, only
that language's captioners (or the session's moderators) may write, and a recording serves
the lines sent while it ran as WebVTT."""

from __future__ import annotations

import datetime as dt
import time

from aiohttp import web
from aiohttp.test_utils import TestClient

from recordings.archive import (
    ArchiveCommand,
    RecordingProcessed,
    RecordingStarted,
    RecordingStopped,
)
from server.http.auth import LoginLinks, bearer_codec
from server.keys import QA, SETTINGS, STORE
from sessions.captions import AddCue, CaptionCommand
from sessions.roles import Identity, Role, language_scope
from tests.helpers import SECRET
from tests.integration.conftest import NOW, csrf_token
from tests.integration.test_qa_api import ANN, MOD, token
from tests.integration.test_realtime import call, next_event

Client = TestClient[web.Request, web.Application]
LINES = "/api/sessions/panel/captions"


def captioner(language: str, code: str = "panel") -> dict[str, str]:
    identity = Identity(f"id-cap-{language}", f"Captioner {language}")
    identity = identity.with_role(language_scope(code, language), Role.CAPTIONER)
    value = bearer_codec(SECRET).dumps(identity, NOW + dt.timedelta(hours=1))
    return {"Authorization": f"Bearer {value}"}


async def test_a_line_reaches_a_viewers_socket_at_once(client: Client) -> None:
    async with client.ws_connect("/ws") as socket:  # anonymous: captions are public
        verb, _, body = await call(socket, "subscribe", {"topic": "session:panel:captions"})
        assert verb == "ok" and body["snapshot"] == {"languages": [], "recent": {}}
        sent = time.monotonic()
        response = await client.post(
            f"{LINES}/fr", json={"text": "Bonjour à tous"}, headers=captioner("fr")
        )
        assert response.status == 201, await response.text()
        cue = (await response.json())["cue"]
        event = await next_event(socket, "session:panel:captions")
        latency = time.monotonic() - sent
        assert event["changes"] == [{"type": "cue", "cue": cue}]
        assert cue["language"] == "fr" and cue["text"] == "Bonjour à tous"
        assert latency < 1.0, f"the line took {latency:.3f} s"
        # A correction of the last line reaches it as the same cue, corrected.
        fixed = await client.put(
            f"{LINES}/fr/{cue['id']}",
            json={"text": "Bonjour à toutes et à tous"},
            headers=captioner("fr"),
        )
        assert fixed.status == 200
        event = await next_event(socket, "session:panel:captions")
        assert event["changes"][0]["cue"]["id"] == cue["id"]
        assert event["changes"][0]["cue"]["corrected"] is True
    snapshot = await (await client.get(LINES)).json()
    assert snapshot["languages"] == ["fr"]
    assert [c["text"] for c in snapshot["recent"]["fr"]] == ["Bonjour à toutes et à tous"]


async def test_only_that_languages_captioners_and_the_moderators_write(client: Client) -> None:
    line = {"text": "Hello"}
    assert (await client.post(f"{LINES}/en", json=line)).status == 403  # no identity, no CSRF
    assert (await client.post(f"{LINES}/en", json=line, headers=ANN)).status == 403
    assert (await client.post(f"{LINES}/en", json=line, headers=captioner("fr"))).status == 403
    other_session = captioner("en", code="side")
    assert (await client.post(f"{LINES}/en", json=line, headers=other_session)).status == 403
    assert (await client.post(f"{LINES}/en", json=line, headers=captioner("en"))).status == 201
    assert (await client.post(f"{LINES}/de", json=line, headers=MOD)).status == 201
    assert (await client.post(f"{LINES}/en", json=line, headers=token("mo", "side"))).status == 403


async def test_hostile_lines_get_a_clear_refusal(client: Client) -> None:
    headers = captioner("fr")
    cases = [
        ({"text": ""}, 422, "captions.cue_empty"),
        ({"text": "x" * 301}, 422, "captions.cue_too_long"),
        ({"text": "a\x00b"}, 422, "captions.cue_invalid"),
        ({"text": 5}, 422, "request.invalid_field"),
        ({"text": "ok", "extra": 1}, 422, "request.invalid_field"),
    ]
    for body, status, code in cases:
        response = await client.post(f"{LINES}/fr", json=body, headers=headers)
        assert response.status == status, body
        assert (await response.json())["error"]["code"] == code
    assert (await client.post(f"{LINES}/french", json={"text": "x"}, headers=headers)).status == 404
    wrong = await client.put(f"{LINES}/fr/nope", json={"text": "x"}, headers=headers)
    assert wrong.status == 409
    assert (
        await client.post("/api/sessions/nope/captions/fr", json={"text": "x"}, headers=headers)
    ).status == 404


async def test_a_recording_serves_the_lines_sent_while_it_ran(client: Client) -> None:
    qa = client.app[QA]
    start = dt.datetime.now(dt.UTC)
    timeline: list[tuple[float, CaptionCommand | ArchiveCommand]] = [
        (0, RecordingStarted("r1", "panel", "guid", "webm", "r1.webm")),
        (3, AddCue("c1", "panel", "fr", "Bonjour", "id-cap-fr")),
        (5, AddCue("c2", "panel", "fr", "Merci", "id-cap-fr")),
        (8, RecordingStopped("r1")),
        (9, RecordingProcessed("r1", 8.0, 1000)),
        (20, AddCue("c3", "panel", "fr", "Après", "id-cap-fr")),
    ]
    for seconds, command in timeline:
        await qa.submit_command("panel", command, start + dt.timedelta(seconds=seconds))
    response = await client.get("/media/recordings/r1/captions/fr.vtt")
    assert response.status == 200
    assert response.content_type == "text/vtt"
    assert await response.text() == (
        "WEBVTT\n\n"
        "cue-1\n00:00:03.000 --> 00:00:05.000\nBonjour\n\n"
        "cue-2\n00:00:05.000 --> 00:00:08.000\nMerci\n"
    )
    assert (await client.get("/media/recordings/r1/captions/de.vtt")).status == 404
    assert (await client.get("/media/recordings/nope/captions/fr.vtt")).status == 404


async def test_a_captioners_link_signs_them_in_for_their_language(client: Client) -> None:
    app = client.app
    token, _ = await LoginLinks(app[SETTINGS].secret_key).issue(
        app[STORE], Role.CAPTIONER, language_scope("panel", "fr"), NOW, dt.timedelta(hours=1)
    )
    form = await client.get(f"/login/{token}")
    assert form.status == 200 and "The live panel" in await form.text()
    csrf = await csrf_token(client, f"/login/{token}")
    signed_in = await client.post(
        f"/login/{token}",
        data={"display_name": "Claire", "csrf_token": csrf},
        allow_redirects=False,
    )
    assert signed_in.status == 303
    assert signed_in.headers["Location"] == "/sessions/panel/captions/fr"
    headers = {"X-CSRF-Token": await csrf_token(client)}
    french = await client.post(f"{LINES}/fr", json={"text": "Bonjour"}, headers=headers)
    assert french.status == 201
    german = await client.post(f"{LINES}/de", json={"text": "Hallo"}, headers=headers)
    assert german.status == 403
