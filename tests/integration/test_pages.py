from __future__ import annotations

from pathlib import Path

import icalendar
from aiohttp import web
from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from server.app import create_app
from tests.helpers import settings_for
from tests.integration.conftest import ClientFactory, conference

Client = TestClient[web.Request, web.Application]


async def test_programme_page_shows_days_rooms_and_now_next(client: Client) -> None:
    response = await client.get("/")
    assert response.status == 200
    page = await response.text()
    assert "<h1>Test Conference</h1>" in page
    assert 'href="#day-1"' in page and 'href="#day-2"' in page
    assert '<section class="room" aria-labelledby="day-1-room-2 day-1-heading">' in page
    assert '<h3 id="day-1-room-2" translate="no">Salon</h3>' in page
    now_section = page.split('id="now-heading"')[1].split("<h2>Next</h2>")[0]
    assert "The live panel" in now_section and "A side event" not in now_section
    assert 'datetime="2026-05-11T10:00:00+02:00"' in page
    assert "Opening &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert" not in page


async def test_session_page_shows_state_speakers_and_escaped_abstract(client: Client) -> None:
    page = await (await client.get("/sessions/panel")).text()
    assert "<h1>The live panel</h1>" in page
    assert "Live now" in page
    assert "Ada Example" in page
    assert "<p>First paragraph.</p>" in page
    assert "<p>Second &lt;b&gt;paragraph&lt;/b&gt;.</p>" in page
    upcoming = await (await client.get("/sessions/side")).text()
    assert "Upcoming" in upcoming and "starts" in upcoming
    ended = await (await client.get("/sessions/opening")).text()
    assert "Ended" in ended


async def test_unknown_session_is_a_404_page_and_a_json_error(client: Client) -> None:
    response = await client.get("/sessions/nope")
    assert response.status == 404
    assert "There is no session with this code." in await response.text()
    api = await client.get("/api/sessions/nope")
    assert api.status == 404
    assert (await api.json())["error"]["code"] == "session.unknown"
    hostile = await client.get("/sessions/..%2F..%2Fetc%2Fpasswd")
    assert hostile.status == 404


async def test_security_headers_on_pages_api_and_static(client: Client) -> None:
    for path in ("/", "/api/programme", "/static/js/app.js", "/nope"):
        response = await client.get(path)
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"


async def test_programme_api(client: Client) -> None:
    data = await (await client.get("/api/programme")).json()
    assert data["conference"]["time_zone"] == "Europe/Vienna"
    assert [s["code"] for s in data["sessions"]] == ["opening", "panel", "side", "closing"]
    assert [s["state"] for s in data["sessions"]] == ["ended", "live", "upcoming", "upcoming"]
    assert data["rooms"] == ["Main Hall", "Salon"]
    assert data["tracks"] == ["Policy"]
    assert data["speakers"] == [{"key": "s1", "name": "Ada Example", "biography": ""}]
    one = await (await client.get("/api/sessions/panel")).json()
    assert one["session"]["start"] == "2026-05-11T10:00:00+02:00"
    assert one["session"]["page_url"].endswith("/sessions/panel")


async def test_ics_parses_back_to_one_event_per_session(client: Client) -> None:
    response = await client.get("/programme.ics")
    assert response.content_type == "text/calendar"
    calendar = icalendar.Calendar.from_ical(await response.read())
    events = list(calendar.walk("VEVENT"))
    assert len(events) == len(conference().sessions)
    panel = next(e for e in events if e["summary"] == "The live panel")
    assert panel.decoded("dtstart").isoformat() == "2026-05-11T08:00:00+00:00"
    assert str(panel["uid"]) == "guid-panel@plenaria"


async def test_metrics_are_valid_prometheus_text(client: Client) -> None:
    await client.get("/")
    response = await client.get("/metrics")
    assert response.headers["Content-Type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(await response.text())}
    assert families["plenaria_programme_sessions"].samples[0].value == 4
    routes = {s.labels["route"] for s in families["plenaria_http_requests"].samples}
    assert "/" in routes


async def test_healthz(client: Client) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}


async def test_empty_conference_explains_how_to_import(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    client = await aiohttp_client(create_app(settings_for(tmp_path)))
    page = await (await client.get("/")).text()
    assert "plenaria programme import" in page
    api = await client.get("/api/programme")
    assert api.status == 404
    assert (await api.json())["error"]["code"] == "programme.missing"
