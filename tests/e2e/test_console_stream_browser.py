"""Real Chromium in the moderator console (issue 12, points 1 and 4): a moderator's sign-in
link lands on the console, whose stream panel previews the panel, shows its audience and
health, ends it (and lets speakers back on); "Join room" opens a break-out room in one
click; a camera test recorded hours before its session waits for the moderator's review
instead of reaching the public archive."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.async_api import Browser, expect

from server.keys import CLOCK, MEDIA, QA, RECORDER
from server.media.stream_key import StreamKey
from server.media.synthetic import start_synthetic_panel
from sessions import breakouts as br
from tests.e2e.conftest import Server, page_until
from tests.e2e.test_archive_browser import CODE, open_console, until

pytestmark = pytest.mark.e2e

PREVIEW = "document.querySelector('[data-stream-console-preview]')"


async def test_the_console_previews_the_stream_shows_its_health_and_ends_it(
    browser: Browser, server: Server
) -> None:
    engine = server.app[MEDIA]
    start_synthetic_panel(engine, CODE, dt.datetime.now(dt.UTC))
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await open_console(page, server)  # the sign-in link lands on the console itself
    console = page.locator("#stream-console")
    state = console.locator("[data-stream-console-state]")
    await expect(state).to_have_text("Live")
    await page_until(page, f"{PREVIEW}.videoWidth > 0 && !{PREVIEW}.hidden", seconds=15)
    played = await page.evaluate(f"{PREVIEW}.currentTime")
    await page_until(page, f"{PREVIEW}.currentTime > {played} + 0.5", seconds=10)
    await expect(console.locator("[data-stream-console-summary]")).to_contain_text("watching")
    health = console.locator("[data-stream-console-health]")
    await expect(health).to_contain_text("kbit/s", timeout=10_000)
    await expect(health).to_contain_text("frames/s")

    await console.get_by_role("button", name="End the stream").click()
    await console.get_by_role("button", name="Really end the stream? Click again").click()
    await expect(state).to_have_text("Ended by a moderator")
    assert engine.live(StreamKey.panel(CODE)) is None
    assert server.app[QA].delivery.is_cut(CODE)
    await page_until(page, f"{PREVIEW}.hidden", seconds=5)
    await console.get_by_role("button", name="Let speakers back on").click()
    await expect(state).to_have_text("Offline")
    assert not server.app[QA].delivery.is_cut(CODE)
    assert errors == []
    await page.close()


async def test_join_room_opens_the_room_in_one_click(browser: Browser, server: Server) -> None:
    qa, now = server.app[QA], server.app[CLOCK]()
    rooms = (br.RoomSpec("room-1", "Shade and water"),)
    await qa.submit_command(CODE, br.PlanRooms("mod", rooms, "manual"), now)
    await qa.submit_command(CODE, br.Open("mod", 20), now)
    context = await browser.new_context()
    page = await context.new_page()
    await open_console(page, server)
    async with context.expect_page() as opened:
        await page.get_by_role("button", name="Join Shade and water").click()
    room = await opened.value
    await expect(room).to_have_url(f"{server.url}/sessions/{CODE}/breakouts/room-1")
    await expect(room.get_by_role("heading", name="Shade and water")).to_be_visible()
    await context.close()


async def test_a_camera_test_before_the_session_waits_for_review(
    browser: Browser, server: Server
) -> None:
    upcoming = "panel-energy"  # tomorrow's panel: a speaker tests their camera today
    engine, recorder = server.app[MEDIA], server.app[RECORDER]
    start_synthetic_panel(engine, upcoming, dt.datetime.now(dt.UTC))
    active = await until(lambda: recorder.active.get(upcoming), 10, "recording")
    await until(lambda: active.recorder.state.duration_seconds >= 2, 15, "two seconds recorded")
    publication = engine.live(StreamKey.panel(upcoming))
    assert publication is not None
    await engine.unpublish(publication)

    page = await browser.new_page()
    await open_console(page, server, upcoming)
    item = page.locator(f'[data-recording-id="{active.recording_id}"].rec-item')
    await expect(item).to_contain_text("Waiting for review", timeout=20_000)
    await expect(item).to_contain_text("outside the session’s scheduled time")
    archive = await browser.new_page()
    await archive.goto(f"{server.url}/archive")
    assert active.recording_id not in await archive.content()

    await item.get_by_role("button", name="Publish").click()
    await expect(item).to_contain_text("Published")
    await archive.goto(f"{server.url}/archive")
    await expect(archive.locator(f'a[href="/archive/{active.recording_id}"]').first).to_be_visible()
    await page.close()
